"""On SQLite a POST takes the write lock with its first statement and keeps it to the commit.
Checking or making a password hash (Argon2id: about half a second at production cost) must
happen outside it, or every other writer on the forum waits (forum/db.py reads_first).

These run on a database file of their own, committed for real, so a second connection can try
to take the write lock while the app is in the middle of the request."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import make_url

from forum.accounts import membership
from forum.views import accounts as account_views
from tests.conftest import (
    PASSWORD,
    Browserish,
    committed_app,
    is_postgres,
    write_lock_is_free,
)

pytestmark = pytest.mark.skipif(is_postgres(), reason="SQLite's write lock; PostgreSQL has none")


@pytest.fixture
def database(tmp_path: Path) -> tuple[Flask, Path]:
    app, url = committed_app(tmp_path, "writelock", "lock_lou", "lou@example.org")
    return app, Path(str(make_url(url).database))


def probing(real: Callable[..., Any], path: Path, seen: list[bool]) -> Callable[..., Any]:
    """`real`, which first notes whether the write lock is free while it runs."""

    def wrapper(*args: Any) -> Any:
        seen.append(write_lock_is_free(path))
        return real(*args)

    return wrapper


def test_login_checks_the_password_outside_the_write_lock(
    database: tuple[Flask, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, path = database
    seen: list[bool] = []
    monkeypatch.setattr(
        membership, "verify_password", probing(membership.verify_password, path, seen)
    )

    response = Browserish(app.test_client()).login("lock_lou")

    assert response.status_code == 302
    assert seen == [True]


def test_registration_hashes_the_password_outside_the_write_lock(
    database: tuple[Flask, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, path = database
    seen: list[bool] = []
    monkeypatch.setattr(
        account_views, "hash_password", probing(account_views.hash_password, path, seen)
    )
    browser = Browserish(app.test_client())

    response = browser.post(
        "/register",
        {
            "username": "new_nia",
            "email": "nia@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
        page="/register",
    )

    assert response.status_code == 302
    assert seen == [True]
