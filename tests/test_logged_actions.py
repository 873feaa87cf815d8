"""The moderation log's action filter comes from the code that writes log rows: every ModAction
row is written by log_action, which takes only LoggedAction members, and the filter offers them
all. Issue 11: "delete account" was logged but missing from the hand-written filter list."""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.models import ModAction, Role
from forum.staff import moderation
from forum.staff.moderation import LoggedAction
from tests.conftest import Browserish, Factory

FORUM_PACKAGE = Path(moderation.__file__).resolve().parent.parent


def filter_options(page: str) -> list[str]:
    select_box = re.search(r'<select[^>]*name="action"[^>]*>(.*?)</select>', page, re.S)
    assert select_box is not None
    return [
        html.unescape(value)
        for value in re.findall(r'<option value="([^"]*)"', select_box.group(1))
        if value
    ]


def test_deleting_an_account_is_offered_by_the_log_filter_and_found_by_it(
    app: Flask, db: Session, make: Factory
) -> None:
    make.user("admin_ada", role=Role.ADMIN)
    doomed = make.user("spam_sam")
    admin = Browserish(app.test_client())
    admin.login("admin_ada")
    response = admin.post(
        f"/admin/users/{doomed.username}/delete",
        {"reason": "Spam only"},
        page=f"/admin/users/{doomed.username}/delete/confirm",
    )
    assert response.status_code == 302

    visitor = Browserish(app.test_client())
    assert "delete account" in filter_options(visitor.get("/mod/log").get_data(as_text=True))
    filtered = visitor.get("/mod/log?action=delete+account").get_data(as_text=True)
    assert "Spam only" in filtered
    assert '<option value="delete account" selected>' in filtered


def test_the_filter_offers_every_logged_action_once(app: Flask) -> None:
    page = Browserish(app.test_client()).get("/mod/log").get_data(as_text=True)
    assert filter_options(page) == [action.value for action in LoggedAction]


def test_log_action_refuses_an_action_the_filter_would_not_offer(
    db: Session, make: Factory
) -> None:
    admin = make.user("admin_ada", role=Role.ADMIN)
    with pytest.raises(ValueError):
        moderation.log_action(db, admin, "delete acount")  # type: ignore[arg-type]
    db.rollback()
    assert db.scalar(select(ModAction.id)) is None


def _module_sources() -> list[tuple[Path, ast.Module]]:
    return [
        (path, ast.parse(path.read_text(), str(path)))
        for path in sorted(FORUM_PACKAGE.rglob("*.py"))
    ]


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def test_only_log_action_builds_mod_log_rows() -> None:
    """A second place building ModAction(...) could use any string and bypass the filter."""
    builders = []
    for path, tree in _module_sources():
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            builders += [
                f"{path.name}:{function.name}"
                for node in ast.walk(function)
                if isinstance(node, ast.Call) and _called_name(node) == "ModAction"
            ]
    assert builders == ["moderation.py:log_action"]


def test_every_log_action_call_names_its_action_from_the_registry() -> None:
    """String literals passed as the action would only fail when that path runs; members of
    LoggedAction (or a variable holding one) are checked when the module is read."""
    literal_actions = []
    for path, tree in _module_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _called_name(node) == "log_action":
                action_args = node.args[2:3] + [k.value for k in node.keywords if k.arg == "action"]
                strings = [
                    inner
                    for arg in action_args
                    for inner in ast.walk(arg)
                    if isinstance(inner, ast.Constant) and isinstance(inner.value, str)
                ]
                literal_actions += [f"{path.name}:{node.lineno}"] if strings else []
    assert literal_actions == []
