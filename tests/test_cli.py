"""The `flask` commands an operator runs: boards import, users create, demo, posts rerender.

The CLI uses the same per-context session as requests, so each command runs inside the test's
rolled-back transaction and its commits are visible to `db` and to `client` at once.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from forum.discussion import markup
from forum.models import Board, BoardModerator, Post, Role, Thread, User
from forum.platform import demo
from forum.staff import recount
from tests.conftest import Browserish, Factory

SHOWS = Path(__file__).parent / "fixtures" / "shows"
EXAMPLE_FILE = Path(__file__).resolve().parent.parent / "shows.example.toml"
SEASON_TWO = "Will Partner Track get a season 2?"


def flask(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def board(db: Session, slug: str) -> Board | None:
    return db.scalar(
        select(Board).where(Board.slug == slug).execution_options(populate_existing=True)
    )


# ------------------------------------------------------------------------------ boards import


def test_import_creates_boards_with_every_field(app: Flask, db: Session) -> None:
    result = flask(app, "boards", "import", str(SHOWS / "two_shows.toml"))

    assert result.exit_code == 0, result.output
    partner_track = board(db, "partner-track")
    assert partner_track is not None
    assert (
        partner_track.name,
        partner_track.network,
        partner_track.status,
        partner_track.premiered,
        partner_track.position,
    ) == ("Partner Track", "Netflix", "cancelled", 2022, 1)
    assert partner_track.description.startswith("Ingrid Yun fights")
    assert partner_track.facts == {
        "creator": "Georgia Lee",
        "based_on": "The novel Partner Track by Helen Wan",
    }
    assert board(db, "severance") is not None


def test_imported_board_shows_on_the_index(app: Flask, client: Browserish) -> None:
    flask(app, "boards", "import", str(SHOWS / "two_shows.toml"))

    page = client.get("/").get_data(as_text=True)

    assert "Partner Track" in page and "Severance" in page


def test_import_twice_creates_no_duplicates(app: Flask, db: Session) -> None:
    flask(app, "boards", "import", str(SHOWS / "two_shows.toml"))

    result = flask(app, "boards", "import", str(SHOWS / "two_shows.toml"))

    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated, 2 unchanged" in result.output
    assert count(db, Board) == 2


def test_import_again_updates_changed_fields(app: Flask, db: Session, tmp_path: Path) -> None:
    flask(app, "boards", "import", str(SHOWS / "two_shows.toml"))
    changed = tmp_path / "shows.toml"
    changed.write_text(
        (SHOWS / "two_shows.toml").read_text().replace('status = "renewed"', 'status = "on hiatus"')
    )

    result = flask(app, "boards", "import", str(changed))

    assert result.exit_code == 0, result.output
    assert board(db, "severance").status == "on hiatus"  # type: ignore[union-attr]
    assert count(db, Board) == 2


def test_import_keep_existing_leaves_edited_boards_alone(
    app: Flask, db: Session, make: Factory
) -> None:
    make.board("severance", name="Severance (edited by an admin)", network="")

    result = flask(app, "boards", "import", "--keep-existing", str(SHOWS / "two_shows.toml"))

    assert result.exit_code == 0, result.output
    kept = board(db, "severance")
    assert kept is not None
    assert (kept.name, kept.network) == ("Severance (edited by an admin)", "")


def test_import_keep_existing_still_adds_new_boards(app: Flask, db: Session, make: Factory) -> None:
    make.board("severance", name="Severance (edited by an admin)")

    flask(app, "boards", "import", "--keep-existing", str(SHOWS / "two_shows.toml"))

    assert board(db, "partner-track") is not None
    assert count(db, Board) == 2


@pytest.mark.parametrize(
    "filename, line, field",
    [
        ("missing_name.toml", 9, "name"),
        ("bad_status.toml", 12, "status"),
        ("premiered_not_integer.toml", 12, "premiered"),
        ("unknown_field.toml", 11, "showrunner"),
        ("duplicate_slug.toml", 8, "slug"),
    ],
)
def test_bad_show_file_names_line_and_field(
    app: Flask, filename: str, line: int, field: str
) -> None:
    result = flask(app, "boards", "import", str(SHOWS / filename))

    assert result.exit_code != 0
    assert f"line {line}" in result.output
    assert field in result.output


def test_error_line_is_right_when_table_header_has_spaces(app: Flask) -> None:
    result = flask(app, "boards", "import", str(SHOWS / "spaced_header.toml"))

    assert result.exit_code != 0
    assert "line 12" in result.output


def test_toml_syntax_error_names_the_line(app: Flask) -> None:
    result = flask(app, "boards", "import", str(SHOWS / "syntax_error.toml"))

    assert result.exit_code != 0
    assert "line 10" in result.output


@pytest.mark.parametrize(
    "filename",
    [
        "missing_name.toml",
        "bad_status.toml",
        "premiered_not_integer.toml",
        "unknown_field.toml",
        "syntax_error.toml",
        "duplicate_slug.toml",
    ],
)
def test_bad_show_file_imports_nothing(app: Flask, db: Session, filename: str) -> None:
    # Every bad file starts with a valid board: it must not be created either.
    result = flask(app, "boards", "import", str(SHOWS / filename))

    assert result.exit_code != 0
    assert count(db, Board) == 0


def test_bad_show_file_leaves_existing_boards_unchanged(
    app: Flask, db: Session, make: Factory
) -> None:
    make.board("the-bear", name="The Bear", network="FX", status="renewed")

    flask(app, "boards", "import", str(SHOWS / "bad_status.toml"))

    unchanged = board(db, "the-bear")
    assert unchanged is not None
    assert (unchanged.network, unchanged.status) == ("FX", "renewed")


def test_import_of_missing_file_fails_cleanly(app: Flask, tmp_path: Path) -> None:
    result = flask(app, "boards", "import", str(tmp_path / "nope.toml"))

    assert result.exit_code != 0
    assert "does not exist" in result.output


def test_example_show_file_imports_cleanly(app: Flask, db: Session) -> None:
    result = flask(app, "boards", "import", str(EXAMPLE_FILE))

    assert result.exit_code == 0, result.output
    assert count(db, Board) == len(
        re.findall(r"^\[\[boards\]\]", EXAMPLE_FILE.read_text(), re.MULTILINE)
    )


def test_example_show_file_describes_partner_track(app: Flask, db: Session) -> None:
    flask(app, "boards", "import", str(EXAMPLE_FILE))

    partner_track = db.scalar(select(Board).where(Board.name == "Partner Track"))
    assert partner_track is not None
    assert (partner_track.network, partner_track.premiered, partner_track.status) == (
        "Netflix",
        2022,
        "cancelled",
    )
    facts = " ".join(partner_track.facts.values())
    assert "Helen Wan" in facts
    assert "Georgia Lee" in facts


# ------------------------------------------------------------------------------ users create


def create_user(
    app: Flask,
    name: str,
    *extra: str,
    email: str | None = None,
    password: str = "a moderator's passphrase",
) -> Result:
    return flask(
        app,
        "users",
        "create",
        name,
        "--email",
        email or f"{name}@example.org",
        "--password",
        password,
        *extra,
    )


def test_users_create_makes_a_moderator(app: Flask, db: Session) -> None:
    result = create_user(app, "mod_maria", "--role", "moderator")

    assert result.exit_code == 0, result.output
    user = db.scalar(select(User).where(User.username == "mod_maria"))
    assert user is not None and user.role == Role.MODERATOR


def test_created_user_can_log_in_at_once(app: Flask, client: Browserish) -> None:
    create_user(app, "mod_maria", "--role", "moderator", password="a moderator's passphrase")

    response = client.post(
        "/login", {"username": "mod_maria", "password": "a moderator's passphrase"}
    )

    assert response.status_code == 302
    assert "mod_maria" in client.get("/").get_data(as_text=True)


def test_users_create_defaults_to_member(app: Flask, db: Session) -> None:
    create_user(app, "plain_fan")

    user = db.scalar(select(User).where(User.username == "plain_fan"))
    assert user is not None and user.role == Role.MEMBER


@pytest.mark.parametrize("name", ["mod_maria", "MOD_MARIA"])
def test_users_create_refuses_a_taken_name(
    app: Flask, db: Session, make: Factory, name: str
) -> None:
    make.user("mod_maria")

    result = create_user(app, name, email="someone.else@example.org")

    assert result.exit_code != 0
    assert "taken" in result.output
    assert count(db, User) == 1


def test_users_create_refuses_a_taken_email(app: Flask, db: Session, make: Factory) -> None:
    make.user("mod_maria")

    result = create_user(app, "maria_two", email="mod_maria@example.org")

    assert result.exit_code != 0
    assert "already exists" in result.output
    assert count(db, User) == 1


def test_users_create_rejects_an_unknown_role(app: Flask, db: Session) -> None:
    result = create_user(app, "mod_maria", "--role", "overlord")

    assert result.exit_code != 0
    assert "overlord" in result.output
    assert count(db, User) == 0


@pytest.mark.parametrize("name", ["ab", "mod maria", "mod\u202emaria"])
def test_users_create_rejects_a_bad_name(app: Flask, db: Session, name: str) -> None:
    result = create_user(app, name, email="maria@example.org")

    assert result.exit_code != 0
    assert count(db, User) == 0


# ------------------------------------------------------------------------------ demo


@pytest.fixture
def example_boards(app: Flask) -> None:
    result = flask(app, "boards", "import", str(EXAMPLE_FILE))
    assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("example_boards")
def test_demo_seeds_the_season_two_thread(app: Flask, db: Session) -> None:
    result = flask(app, "demo")

    assert result.exit_code == 0, result.output
    thread = db.scalar(select(Thread).where(Thread.title == SEASON_TWO))
    assert thread is not None
    assert thread.post_count >= 4


@pytest.mark.usefixtures("example_boards")
def test_demo_thread_page_shows_the_replies(app: Flask, db: Session, client: Browserish) -> None:
    flask(app, "demo")
    thread = db.scalar(select(Thread).where(Thread.title == SEASON_TWO))
    assert thread is not None

    page = client.get(f"/t/{thread.id}/{thread.slug}").get_data(as_text=True)

    assert SEASON_TWO in page
    assert "lawfirm_lurker" in page and "murphys_law" in page


@pytest.mark.usefixtures("example_boards")
def test_demo_runs_only_once(app: Flask, db: Session) -> None:
    flask(app, "demo")
    users, threads, posts = count(db, User), count(db, Thread), count(db, Post)

    result = flask(app, "demo")

    assert result.exit_code == 0, result.output
    assert "already there" in result.output
    assert (count(db, User), count(db, Thread), count(db, Post)) == (users, threads, posts)


@pytest.mark.usefixtures("example_boards")
@pytest.mark.parametrize("username", sorted(demo.DEMO_LOGINS))
def test_demo_users_can_log_in(app: Flask, client: Browserish, username: str) -> None:
    flask(app, "demo")

    response = client.post("/login", {"username": username, "password": demo.DEMO_PASSWORD})

    assert response.status_code == 302
    assert username in client.get("/").get_data(as_text=True)


@pytest.mark.usefixtures("example_boards")
def test_demo_bulk_adds_exactly_the_threads_and_posts_asked_for(app: Flask, db: Session) -> None:
    threads, posts = count(db, Thread), count(db, Post)

    result = flask(app, "demo", "--threads", "20", "--posts", "500")

    assert result.exit_code == 0, result.output
    assert (count(db, Thread) - threads, count(db, Post) - posts) == (20, 500)


@pytest.mark.usefixtures("example_boards")
def test_demo_bulk_leaves_counters_equal_to_recounts(app: Flask, db: Session) -> None:
    flask(app, "demo", "--threads", "20", "--posts", "500")

    assert recount.differences(db) == []


@pytest.mark.usefixtures("example_boards")
def test_demo_bulk_after_seeding_leaves_counters_equal_to_recounts(app: Flask, db: Session) -> None:
    flask(app, "demo")

    result = flask(app, "demo", "--threads", "20", "--posts", "500")

    assert result.exit_code == 0, result.output
    assert recount.differences(db) == []


def test_demo_bulk_without_boards_fails_with_a_hint(app: Flask, db: Session) -> None:
    result = flask(app, "demo", "--threads", "2", "--posts", "10")

    assert result.exit_code != 0
    assert "boards import" in result.output
    assert count(db, Post) == 0


@pytest.mark.usefixtures("example_boards")
def test_demo_bulk_refuses_fewer_posts_than_threads(app: Flask, db: Session) -> None:
    result = flask(app, "demo", "--threads", "20", "--posts", "5")

    assert result.exit_code != 0
    assert count(db, Thread) == 0


# ------------------------------------------------------------------------------ posts rerender


def test_rerender_updates_posts_with_an_old_render_version(
    app: Flask, db: Session, make: Factory
) -> None:
    thread = make.thread(body="Season 2 **please**")
    db.execute(
        update(Post)
        .where(Post.thread_id == thread.id)
        .values(html="<p>stale</p>", render_version=markup.RENDER_VERSION - 1)
    )
    db.commit()

    result = flask(app, "posts", "rerender")

    assert result.exit_code == 0, result.output
    post = db.scalar(
        select(Post).where(Post.thread_id == thread.id).execution_options(populate_existing=True)
    )
    assert post is not None
    assert "<strong>please</strong>" in post.html
    assert post.render_version == markup.RENDER_VERSION


def test_rerender_leaves_current_posts_alone(app: Flask, db: Session, make: Factory) -> None:
    thread = make.thread(body="Season 2 **please**")
    db.execute(update(Post).where(Post.thread_id == thread.id).values(html="<p>kept</p>"))
    db.commit()

    flask(app, "posts", "rerender")

    html = db.scalar(select(Post.html).where(Post.thread_id == thread.id))
    assert html == "<p>kept</p>"


def test_rerender_all_updates_current_posts_too(app: Flask, db: Session, make: Factory) -> None:
    thread = make.thread(body="Season 2 **please**")
    db.execute(update(Post).where(Post.thread_id == thread.id).values(html="<p>kept</p>"))
    db.commit()

    flask(app, "posts", "rerender", "--all")

    html = db.scalar(select(Post.html).where(Post.thread_id == thread.id))
    assert html is not None and "<strong>please</strong>" in html


def test_moderator_created_with_boards_moderates_only_those(app: Flask, db: Session) -> None:
    for slug in ("partner-track", "severance"):
        db.add(Board(slug=slug, name=slug.title()))
    db.commit()

    result = flask(
        app,
        "users",
        "create",
        "scoped_mod",
        "--email",
        "s@example.org",
        "--password",
        "long-enough-pw",
        "--role",
        "moderator",
        "--board",
        "partner-track",
    )

    assert result.exit_code == 0, result.output
    user = db.scalar(select(User).where(User.username == "scoped_mod"))
    assert user is not None and user.role == "moderator"
    boards = db.scalars(
        select(Board.slug)
        .join(BoardModerator, BoardModerator.board_id == Board.id)
        .where(BoardModerator.user_id == user.id)
    ).all()
    assert boards == ["partner-track"]


def test_board_scope_needs_an_existing_board(app: Flask) -> None:
    result = flask(
        app,
        "users",
        "create",
        "lost_mod",
        "--email",
        "l@example.org",
        "--password",
        "long-enough-pw",
        "--role",
        "moderator",
        "--board",
        "no-such",
    )

    assert result.exit_code != 0
    assert "no-such" in result.output
