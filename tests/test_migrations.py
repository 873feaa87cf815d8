"""The migrations themselves: upgrading a database that already holds data keeps it intact."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from forum import migrate
from forum.db import make_engine
from tests.conftest import fresh_database_url


def test_upgrading_from_the_first_schema_keeps_authors_and_links(tmp_path: Path) -> None:
    url = fresh_database_url(tmp_path, "migrations")
    engine = make_engine(url)
    migrate.upgrade(engine, "0001")
    with engine.begin() as db:
        db.execute(text(
            "INSERT INTO users (id, username, username_key, email, email_key, password_hash, "
            "role, created_at, post_count, session_version) VALUES "
            "(1, 'ingrid', 'ingrid', 'i@e.org', 'i@e.org', 'x', 'member', '2024-01-01', 1, 1)"))
        db.execute(text(
            "INSERT INTO boards (id, slug, name, description, network, status, facts, position, "
            "is_archived, created_at, thread_count, post_count) VALUES "
            "(1, 'pt', 'Partner Track', '', '', '', '{}', 0, false, '2024-01-01', 1, 1)"))
        db.execute(text(
            "INSERT INTO threads (id, board_id, author_id, title, slug, created_at, post_count, "
            "last_post_at, last_poster_id, is_pinned, is_locked, is_hidden) VALUES "
            "(1, 1, 1, 'Season 2?', 'season-2', '2024-01-01', 1, '2024-01-01', 1, false, false, "
            "false)"))
        db.execute(text(
            "INSERT INTO posts (id, thread_id, author_id, number, source, html, render_version, "
            "created_at, is_deleted) VALUES "
            "(1, 1, 1, 1, 'Hope so', '<p>Hope so</p>', 1, '2024-01-01', false)"))
        db.execute(text("UPDATE threads SET last_post_id = 1"))
        db.execute(text("UPDATE boards SET last_post_id = 1"))

    migrate.upgrade(engine)

    with engine.connect() as db:
        assert db.execute(text("SELECT author_id FROM posts")).scalar_one() == 1
        assert db.execute(text("SELECT author_id, last_poster_id, last_post_id FROM threads")
                          ).one() == (1, 1, 1)
        assert db.execute(text("SELECT last_post_id FROM boards")).scalar_one() == 1
        # Accounts that existed before email verification count as verified.
        assert db.execute(text("SELECT email_verified_at FROM users")).scalar_one() is not None
    engine.dispose()


def test_downgrading_to_the_first_schema_and_back_works(tmp_path: Path) -> None:
    engine = make_engine(fresh_database_url(tmp_path, "roundtrip"))
    migrate.upgrade(engine)
    migrate.downgrade(engine, "0001")
    migrate.upgrade(engine)
    with engine.connect() as db:
        assert db.execute(text("SELECT version FROM cache_state")).scalar_one() == 0
    engine.dispose()
