"""How many SQL statements a reply and a new thread cost, from the POST to the redirect.

The write path is counted like the read pages (tests/test_statement_counts.py): posting's
counters, antispam's checks and the cache declaration (forum/platform/freshness.py) each add
statements, and a change that adds one should be a decision, not an accident.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from forum.models import Thread, User
from tests.conftest import AppBuilder, Browserish, Factory, StatementLog

# The same before the use cases moved into posting and after, on SQLite and PostgreSQL; one
# more since full-text search (the post's search_documents row, issue 14), and one more since
# the conversation (issue 13): the author's ThreadState upsert (their post is read, the thread
# auto-watched). Notifications are a job queued after the commit: no statement here.
REPLY_STATEMENTS = 10
NEW_THREAD_STATEMENTS = 12


def member(app: Flask, user: User) -> Browserish:
    browser = Browserish(app.test_client())
    browser.login(user.username)
    return browser


def posting_statements(
    browser: Browserish, sql: StatementLog, url: str, page: str, data: dict[str, str]
) -> tuple[int, list[str]]:
    token = browser.token(page)
    sql.clear()
    response = browser.client.post(url, data={"csrf_token": token, **data})
    assert response.status_code == 302, response.get_data(as_text=True)
    return len(sql), list(sql.statements)


@pytest.fixture
def app(build_app: AppBuilder, tmp_path: Path) -> Flask:
    """Jobs queued, not run: the tests' default runs them in the request, after its commit,
    and the notification fan-out's statements would be counted as the reply's."""
    return build_app(JOBS_IMMEDIATE=False, JOBS_PATH=str(tmp_path / "jobs.sqlite3"))


def test_a_reply_costs_its_statements(app: Flask, make: Factory, sql: StatementLog) -> None:
    author = make.user("counted_carla")
    thread: Thread = make.thread(author=make.user())
    browser = member(app, author)

    count, statements = posting_statements(
        browser,
        sql,
        f"/t/{thread.id}/reply",
        f"/t/{thread.id}/{thread.slug}",
        {"body": "Counted, one by one."},
    )

    assert count == REPLY_STATEMENTS, "\n".join(statements)


def test_a_new_thread_costs_its_statements(app: Flask, make: Factory, sql: StatementLog) -> None:
    author = make.user("counted_nico")
    board = make.board("counted-board")
    browser = member(app, author)

    count, statements = posting_statements(
        browser,
        sql,
        f"/b/{board.slug}/new",
        f"/b/{board.slug}/new",
        {"title": "Counted thread", "body": "Every statement counts."},
    )

    assert count == NEW_THREAD_STATEMENTS, "\n".join(statements)
