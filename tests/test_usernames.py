"""Look-alike usernames (forum/accounts/usernames.py): a corpus of impersonations of existing
members
that must be refused, and international names that must be accepted."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from forum.accounts.membership import AccountConflict, create_user
from forum.accounts.usernames import username_problem, username_skeleton
from forum.db import make_engine
from forum.models import User
from forum.platform import migrate
from forum.platform.text import USERNAME_PATTERN
from tests.conftest import Browserish, Factory, fresh_database_url
from tests.html_scan import form_page

# The members being imitated.
EXISTING = ("admin", "mod_maria", "demo", "cope")

# Each must be refused while EXISTING are members: (typed, why it looks like one of them).
LOOK_ALIKES = [
    ("\u0430dmin", "Cyrillic a"),
    ("\u03b1dmin", "Greek alpha"),
    ("mod_m\u0430ri\u0430", "two Cyrillic a"),
    ("d\u0435mo", "Cyrillic e"),
    ("\u1d00dmin", "small capital A"),
    ("adm\u0131n", "dotless i"),
    ("admin\u3164", "Hangul filler (renders blank)"),
    ("admin\u115f", "Hangul choseong filler"),
    ("admin\u1160", "Hangul jungseong filler"),
    ("admin\uffa0", "halfwidth Hangul filler"),
    ("\u3164admin", "leading Hangul filler"),
    ("ad\u200bmin", "zero-width space"),
    ("admin\u00ad", "soft hyphen"),
    ("admin\u034f", "combining grapheme joiner"),
    ("admin\ufe0f", "variation selector"),
    ("adrnin", "rn for m"),
    ("mod_rnaria", "rn for m"),
    ("dem0", "zero for o"),
    ("DEMO", "another case"),
    ("Admin", "another case"),
    ("\uff41\uff44\uff4d\uff49\uff4e", "fullwidth letters"),
    ("\u0441\u043e\u0440\u0435", "all-Cyrillic cope"),
    ("mod_mar\u0456a", "Cyrillic i"),
    ("\u0501emo", "Cyrillic komi de"),
    ("\u0251dmin", "Latin alpha (IPA)"),
    ("\u1d0f\u1d05_maria", "small capitals"),
    ("mod_m\u0251ria", "Latin alpha (IPA)"),
    ("d\u0435m\u043e", "two Cyrillic letters"),
    ("\U0001d41a\U0001d41d\U0001d426\U0001d422\U0001d427", "mathematical bold"),
    ("\u24d0\u24d3\u24dc\u24d8\u24dd", "circled letters"),
    ("ad\u217fin", "Roman numeral one thousand for m"),
]

# Real people's names in many scripts: each must be accepted, one after another.
INTERNATIONAL = [
    "José",
    "Zoë",
    "Влад",
    "山田",
    "mod_maria",
    "Əli",
    "Nguyễn",
    "Ахмед_1",
    "Ωμέγα",
    "김민수",
    "やまだ太郎",
    "山田_taro",
    "Ayşe",
    "Łukasz",
    "Søren",
    "François",
    "Müller",
    "Ιωάννης",
    "Дмитрий",
    "محمد",
    "דוד",
    "the-doctor",
    "Ana_María",
    "fan_0042",
    "Chidi_Ọkọ",
    "王小明",
]


def corpus_size() -> int:
    return len(LOOK_ALIKES) + len(INTERNATIONAL)


@pytest.fixture
def members(make: Factory) -> list[User]:
    return [make.user(name) for name in EXISTING]


@pytest.mark.parametrize("typed, why", LOOK_ALIKES, ids=[why for _, why in LOOK_ALIKES])
def test_look_alikes_of_members_are_refused(
    db: Session, members: list[User], password_hash: str, typed: str, why: str
) -> None:
    before = db.scalar(select(func.count(User.id)))

    with pytest.raises(AccountConflict) as refused:
        create_user(db, typed, "imitator@example.org", password_hash=password_hash)

    assert refused.value.field == "username"
    assert db.scalar(select(func.count(User.id))) == before


@pytest.mark.parametrize("name", INTERNATIONAL)
def test_each_international_name_passes_the_rules(name: str) -> None:
    assert USERNAME_PATTERN.match(name), "the corpus holds only names the form allows"
    assert username_problem(name) is None


def test_international_names_are_accepted_side_by_side(
    db: Session, make: Factory, password_hash: str
) -> None:
    make.user("admin")
    for number, name in enumerate(INTERNATIONAL):
        create_user(db, name, f"fan{number}@example.org", password_hash=password_hash)
    db.commit()
    stored = set(db.scalars(select(User.username)))
    assert set(INTERNATIONAL) <= stored


def test_the_corpus_covers_the_reported_cases() -> None:
    typed = {name for name, _ in LOOK_ALIKES}
    assert {
        "\u0430dmin",
        "\u03b1dmin",
        "mod_m\u0430ri\u0430",
        "d\u0435mo",
        "\u1d00dmin",
        "adm\u0131n",
        "admin\u3164",
    } <= typed
    assert corpus_size() == len(LOOK_ALIKES) + len(INTERNATIONAL) >= 50


def test_skeletons_match_for_look_alikes_and_differ_for_different_names() -> None:
    assert username_skeleton("adm\u0131n") == username_skeleton("admin")
    assert username_skeleton("adrnin") == username_skeleton("Admin")
    assert username_skeleton("ADMIN") == username_skeleton("ADMlN")  # capital i, small L
    assert username_skeleton("\u0441\u043e\u0440\u0435") == username_skeleton("cope")
    assert username_skeleton("I1l") == username_skeleton("lll")
    assert username_skeleton("admin") != username_skeleton("admiral")
    assert username_skeleton("José") != username_skeleton("Jose")  # an accent is visible


def test_registration_says_why_a_look_alike_is_refused_and_keeps_the_form(
    client: Browserish, db: Session, members: list[User]
) -> None:
    for typed, expected in [
        ("mod_m\u0430ri\u0430", "mixes Cyrillic and Latin"),
        ("admin\u3164", "invisible"),
        ("adm\u0131n", "looks too much like"),
    ]:
        response = client.post(
            "/register",
            {
                "username": typed,
                "email": "new@example.org",
                "password": "long enough pw",
                "confirm": "long enough pw",
            },
            page="/register",
        )
        page = form_page(response)
        assert response.status_code == 200, typed
        assert any(expected in error for error in page.errors), (typed, page.errors)
        assert page.values["email"] == "new@example.org"
    assert db.scalar(select(func.count(User.id))) == len(EXISTING)


def test_registration_accepts_an_international_name(
    client: Browserish, db: Session, members: list[User]
) -> None:
    response = client.post(
        "/register",
        {
            "username": "Влад",
            "email": "vlad@example.org",
            "password": "long enough pw",
            "confirm": "long enough pw",
        },
        page="/register",
    )
    assert response.status_code == 302
    user = db.scalar(select(User).where(User.username == "Влад"))
    assert user is not None and user.username_skeleton == username_skeleton("Влад")


def test_the_cli_refuses_a_look_alike(app: Flask, members: list[User]) -> None:
    result = app.test_cli_runner().invoke(
        args=["users", "create", "\u0430dmin", "--email", "x@example.org", "--password", "pw123456"]
    )
    assert result.exit_code != 0
    assert "Use one alphabet" in result.output


# ------------------------------------------------------------------------------ the column


def test_the_skeleton_column_is_indexed_and_filled_by_the_migration(tmp_path: Path) -> None:
    engine = make_engine(fresh_database_url(tmp_path, "skeletons"))
    migrate.upgrade(engine, "0007")
    with engine.begin() as connection:
        for user_id, name in enumerate(["admin", "Влад", "mod_maria"], 1):
            connection.execute(
                text(
                    "INSERT INTO users (id, username, username_key, email, email_key, "
                    "password_hash, role, created_at, post_count, is_trusted, is_banned, "
                    "suspension_reason) VALUES (:id, :name, :key, :email, :email, 'x', 'member', "
                    "'2024-01-01', 0, false, false, '')"
                ),
                {
                    "id": user_id,
                    "name": name,
                    "key": name.casefold(),
                    "email": f"{user_id}@example.org",
                },
            )

    migrate.upgrade(engine)

    with engine.connect() as connection:
        stored = dict(
            connection.execute(text("SELECT username, username_skeleton FROM users")).all()
        )
        indexes = {
            index["name"]: index["column_names"]
            for index in inspect(connection).get_indexes("users")
        }
    engine.dispose()
    assert stored == {name: username_skeleton(name) for name in stored}
    assert len(stored) == 3
    assert indexes["ix_users_username_skeleton"] == ["username_skeleton"]


def test_bulk_inserted_users_get_their_skeleton(db: Session) -> None:
    """Rows inserted without the ORM object (the demo's bulk authors) still get one."""
    from sqlalchemy import insert

    from forum.models import utcnow

    db.execute(
        insert(User),
        [
            {
                "username": "Fan_One",
                "username_key": "fan_one",
                "email": "f1@example.org",
                "email_key": "f1@example.org",
                "password_hash": "x",
                "created_at": utcnow(),
            }
        ],
    )
    assert db.scalar(
        select(User.username_skeleton).where(User.username == "Fan_One")
    ) == username_skeleton("Fan_One")
