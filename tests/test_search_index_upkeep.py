"""The search index stays exact through every write that changes what a post says: a new thread
and reply (through the site), an edit, a moderator's edit and rename, a purge, `flask posts
rerender`, `flask search reindex`, and the demo's bulk rows. "Exact" means every
search_documents row is what search_documents.expected_row makes of its post today, and (on
SQLite) the FTS5 index passes its integrity check against those rows."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, event, select, text, update
from sqlalchemy.orm import Session

from forum.access.viewer import Viewer
from forum.db import make_engine
from forum.discussion import posting
from forum.discussion.episode_codes import CAUGHT_UP
from forum.models import Post, SearchDocument, Thread, User
from forum.platform import demo
from forum.search import search, search_documents
from forum.search.search import SearchFilters
from forum.staff import moderation
from tests.conftest import (
    EXAMPLE_FILE,
    Browserish,
    Factory,
    StatementLog,
    flask_command,
    is_postgres,
    migrated_database_url,
)

EVERYTHING = Viewer(spoiler_default=CAUGHT_UP)


def stored(db: Session) -> dict[int, search_documents.Document]:
    return {
        row.post_id: search_documents.Document(row.title, row.body, row.spoilers, row.spoiler_key)
        for row in db.scalars(select(SearchDocument))
    }


def expected(db: Session) -> dict[int, search_documents.Document]:
    rows = db.execute(
        select(Post.id, Post.number, Post.html, Post.is_deleted, Thread.title).join(Post.thread)
    )
    wanted = {}
    for post_id, number, html, deleted, title in rows:
        found = search_documents.expected_row(post_id, number, html, deleted, title)
        if found is not None:
            wanted[post_id] = found
    return wanted


def assert_exact(db: Session) -> None:
    db.expire_all()
    assert stored(db) == expected(db)
    if not is_postgres():
        # FTS5 compares its index with the content table (rank 1: the content too).
        db.execute(text("INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)"))
        db.execute(
            text(
                "INSERT INTO search_fts_titles(search_fts_titles, rank) "
                "VALUES ('integrity-check', 1)"
            )
        )


def finds(db: Session, query: str) -> list[int]:
    return [h.post_id for h in search.find(db, EVERYTHING, query, SearchFilters()).hits]


def test_threads_and_replies_posted_on_the_site_are_found(
    db: Session, member_client: Browserish, make: Factory
) -> None:
    board = make.board("upkeep")
    response = member_client.post(
        f"/b/{board.slug}/new",
        {"title": "Kangaroo court", "body": "A wombat testifies"},
        page=f"/b/{board.slug}/new",
    )
    assert response.status_code == 302
    thread = db.scalar(select(Thread).where(Thread.board_id == board.id))
    assert thread is not None
    page = f"/t/{thread.id}/{thread.slug}"
    response = member_client.post(
        f"/t/{thread.id}/reply", {"body": "A platypus objects"}, page=page
    )
    assert response.status_code == 302

    assert len(finds(db, "kangaroo")) == 1
    assert len(finds(db, "wombat")) == 1
    assert len(finds(db, "platypus")) == 1
    assert_exact(db)


def test_edits_by_the_author_and_a_moderator_replace_the_words(
    db: Session, make: Factory, member: User, admin: User
) -> None:
    thread = make.thread(author=member, title="Edits", body="original aardvark")
    reply = make.reply(thread, member, "first ocelot")
    opener = db.scalar(select(Post).where(Post.thread_id == thread.id, Post.number == 1))
    assert opener is not None

    assert posting.edit_post(db, opener, "edited armadillo", member) is None
    assert moderation.edit_others_post(db, admin, reply, "moderated >!S1E2: lynx!<") is None
    db.commit()

    assert finds(db, "aardvark") == [] and finds(db, "ocelot") == []
    assert finds(db, "armadillo") == [opener.id]
    assert finds(db, "edits") == [opener.id]  # the title stays with the opener's new text
    assert finds(db, "lynx") == [reply.id]
    assert_exact(db)


def test_a_rename_moves_the_title_words(db: Session, make: Factory, admin: User) -> None:
    thread = make.thread(title="Old gazelle title", body="body words")

    moderation.rename_thread(db, admin, thread, "New antelope title")
    db.commit()

    assert finds(db, "gazelle") == []
    assert len(finds(db, "antelope")) == 1
    assert_exact(db)


def test_a_purge_takes_the_words_out_of_the_index(
    db: Session, make: Factory, admin: User, member: User
) -> None:
    thread = make.thread(author=member, title="Purge", body="innocent words")
    reply = make.reply(thread, member, "doxxing hyena")

    moderation.purge_post(db, admin, reply)
    db.commit()

    assert finds(db, "hyena") == []
    assert db.get(SearchDocument, reply.id) is None
    assert_exact(db)


def test_a_purged_opener_keeps_a_title_only_document_that_renames_follow(
    db: Session, make: Factory, admin: User, member: User
) -> None:
    thread = make.thread(author=member, title="Okapi sightings", body="doxxing okapi body")
    opener = db.scalars(select(Post).where(Post.thread_id == thread.id)).one()

    moderation.purge_post(db, admin, opener)
    db.commit()
    assert_exact(db)
    assert search_documents.reindex(db).written == 0  # what reindex expects, too
    moderation.rename_thread(db, admin, thread, "Tapir sightings")
    db.commit()

    assert finds(db, "doxxing") == [] and finds(db, "okapi") == []
    assert finds(db, "tapir") == [opener.id]
    document = db.get(SearchDocument, opener.id)
    assert document is not None and (document.title, document.body) == ("tapir sightings", "")
    assert_exact(db)


def test_reindex_repairs_what_differs_and_then_finds_nothing_to_do(
    db: Session, make: Factory
) -> None:
    thread = make.thread(title="Reindexed", body="meerkat")
    reply = make.reply(thread, make.user(), "jackal")
    db.execute(delete(SearchDocument).where(SearchDocument.post_id == reply.id))
    db.execute(
        update(SearchDocument).where(SearchDocument.post_id != reply.id).values(body="wrong words")
    )
    db.add(SearchDocument(post_id=10**9, title="", body="orphan", spoilers="", spoiler_key=None))
    db.commit()

    first = search_documents.reindex(db, batch=1)
    db.commit()
    second = search_documents.reindex(db)

    assert first.written >= 2 and first.removed == 1
    assert (second.written, second.removed) == (0, 0)
    assert len(finds(db, "jackal")) == 1 and finds(db, "orphan") == []
    assert_exact(db)


def test_the_demo_and_its_bulk_rows_are_indexed(db: Session, make: Factory) -> None:
    make.board("bulk-a")
    make.board("bulk-b")

    assert demo.seed_demo(db)
    demo.bulk_generate(db, threads=20, posts=120)
    db.commit()

    assert_exact(db)
    assert search.find(db, EVERYTHING, "discussion", SearchFilters()).total >= 20


# ------------------------------------------------------------------------------ CLI


def test_search_reindex_and_rerender_on_a_real_database(tmp_path: Path) -> None:
    url = migrated_database_url(tmp_path, "search_cli")
    assert flask_command(url, "boards", "import", str(EXAMPLE_FILE)).exit_code == 0
    assert flask_command(url, "demo", "--posts", "200").exit_code == 0
    engine = make_engine(url)
    with engine.begin() as connection:
        # As if an older renderer had written these posts: rerender must re-index them.
        connection.execute(update(Post).where(Post.id <= 5).values(html="<p>stale quokka</p>"))
        connection.execute(
            update(SearchDocument).where(SearchDocument.post_id <= 5).values(body="stale quokka")
        )
        connection.execute(delete(SearchDocument).where(SearchDocument.post_id == 7))

    rerendered = flask_command(url, "posts", "rerender", "--all")
    reindexed = flask_command(url, "search", "reindex", "--rebuild")
    again = flask_command(url, "search", "reindex")

    assert rerendered.exit_code == 0, rerendered.output
    assert reindexed.exit_code == 0, reindexed.output
    assert "1 documents written, 0 removed" in reindexed.output  # post 7
    assert "0 documents written, 0 removed" in again.output
    with Session(engine) as db:
        assert_exact(db)
        assert finds(db, "quokka") == []
    engine.dispose()


def test_reindex_has_a_progress_bar(tmp_path: Path) -> None:
    url = migrated_database_url(tmp_path, "search_cli_bar")
    flask_command(url, "boards", "import", str(EXAMPLE_FILE))
    flask_command(url, "demo", "--posts", "50")

    result = flask_command(url, "search", "reindex")

    assert result.exit_code == 0
    assert "Indexing posts" in result.output and "Checked 50 posts" in result.output


def test_reindex_commits_each_batch_so_the_site_can_write_meanwhile(tmp_path: Path) -> None:
    # One transaction for the whole run held SQLite's write lock (and PostgreSQL's locks on
    # every rewritten row) to the end: past the site's busy timeout at 1M posts. Between two
    # batches another connection must be able to write a row the run already rewrote.
    url = migrated_database_url(tmp_path, "search_cli_batches")
    flask_command(url, "boards", "import", str(EXAMPLE_FILE))
    flask_command(url, "demo", "--posts", "50")
    site = make_engine(url)
    with site.begin() as connection:
        connection.execute(update(SearchDocument).values(body="stale words"))
    first_post = 1
    writes: list[str] = []

    def site_writes(session: Session) -> None:
        if session.bind is not None and session.bind.url.database == site.url.database:
            with site.connect() as connection:
                if is_postgres():
                    connection.execute(text("SET lock_timeout = '200ms'"))
                else:
                    connection.exec_driver_sql("PRAGMA busy_timeout = 200")
                connection.execute(
                    update(SearchDocument)
                    .where(SearchDocument.post_id == first_post)
                    .values(spoilers=SearchDocument.spoilers)
                )
                connection.commit()
            writes.append("ok")

    event.listen(Session, "after_commit", site_writes)
    try:
        result = flask_command(url, "search", "reindex", "--batch", "10", "--rebuild")
    finally:
        event.remove(Session, "after_commit", site_writes)

    assert result.exit_code == 0, result.output
    assert "50 documents written" in result.output
    rebuilt = "Nothing to rebuild on PostgreSQL" if is_postgres() else "FTS5 index rebuilt."
    assert rebuilt in result.output
    assert len(writes) >= 5  # a commit (and a write from the site) after every batch
    with Session(site) as db:
        assert_exact(db)
    site.dispose()


def test_a_new_post_costs_one_index_statement(
    db: Session, make: Factory, sql: StatementLog
) -> None:
    # posting's whole budget is in tests/test_posting_statements.py; this pins the index's part.
    thread = make.thread(title="Counted", body="counted")
    author = make.user()
    sql.clear()

    posting.add_post(db, thread, author, "counted again")

    assert sum("search_documents" in statement for statement in sql.statements) == 1
