"""What search finds in a post, and keeping the index exact.

Every post with text has one `search_documents` row (forum/models.py SearchDocument), written
here in the same transaction as the write that changes the post (posting, moderation, `flask
posts rerender`), so whatever declared that write's freshness covers it too (the index is not a
page). The engines index the row themselves: SQLite's FTS5 table through triggers on it,
PostgreSQL's tsvector as a generated column (forum/search/search_sqlite.py,
search_postgres.py).

A document is built from the stored, sanitised HTML (`Post.html`, never the Markdown source):

- `title`: the thread's title, in the opening post's (number 1) document only (kept, alone,
  when the opener is purged: the thread is still found by its title);
- `body`: the text outside spoilers;
- `spoilers`: the text of every spoiler span, generic or tagged to an episode;
- `spoiler_key`: the latest episode the post's episode spoilers are about (None without any):
  search matches `spoilers` only for viewers whose limit on the board reaches it.

Texts are stored normalised (search_query.normalise) as words joined by spaces, so both
engines see exactly the words a query is split into. A purged post (deleted, its text gone)
has no row, except an opener's, which keeps the title and nothing else. `reindex` rebuilds
(or checks) every row from the posts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from forum.discussion import plain_text, spoiler_html
from forum.models import Post, SearchDocument, Thread
from forum.search.search_query import words


@dataclass(frozen=True, slots=True)
class Document:
    title: str
    body: str
    spoilers: str
    spoiler_key: int | None


def _indexed(text: str) -> str:
    return " ".join(words(text))


# The demo's bulk rows repeat a few bodies; real posts rarely share HTML, so the cache is small.
@lru_cache(maxsize=512)
def _text_parts(html: str) -> tuple[str, str, int | None]:
    keys = spoiler_html.spoiler_keys(html)
    return (
        _indexed(plain_text.open_text(html)),
        _indexed(plain_text.spoiler_text(html)),
        max(keys) if keys else None,
    )


def document(html: str, title: str | None = None) -> Document:
    """The document of a post whose stored HTML is `html` (`title`: its thread's title when it
    opens the thread)."""
    body, spoilers, key = _text_parts(html)
    return Document(_indexed(title or ""), body, spoilers, key)


def _row(post_id: int, found: Document) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "title": found.title,
        "body": found.body,
        "spoilers": found.spoilers,
        "spoiler_key": found.spoiler_key,
    }


def row(post_id: int, html: str, title: str | None = None) -> dict[str, Any]:
    """The `search_documents` row of a post (for inserts in bulk: the demo's bench rows)."""
    return _row(post_id, document(html, title))


def index_new_post(session: Session, post_id: int, html: str, title: str | None) -> None:
    """Index a post just written (one INSERT)."""
    session.execute(insert(SearchDocument), row(post_id, html, title))


def _insert_for(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(SearchDocument.__table__)


def index_text(session: Session, post_id: int, html: str) -> None:
    """Index a post's new text (an edit, a re-render), keeping the title it has (one
    statement). A post without a row (its text was purged before) gets one."""
    row = _row(post_id, document(html))
    insert = _insert_for(session)
    session.execute(
        insert.values(row).on_conflict_do_update(
            index_elements=["post_id"],
            set_={
                "body": insert.excluded.body,
                "spoilers": insert.excluded.spoilers,
                "spoiler_key": insert.excluded.spoiler_key,
            },
        )
    )


def index_title(session: Session, thread_id: int, title: str) -> None:
    """A thread was renamed: its opening post's document gets the new title (one UPDATE)."""
    opener = select(Post.id).where(Post.thread_id == thread_id, Post.number == 1)
    session.execute(
        update(SearchDocument)
        .where(SearchDocument.post_id == opener.scalar_subquery())
        .values(title=_indexed(title))
        .execution_options(synchronize_session=False)
    )


def purge_text(session: Session, post_id: int, number: int) -> None:
    """A post's text is gone for good (purged): nothing of it stays findable. An opener keeps
    its thread's title (the thread is still there and still called that), with no text."""
    if number != 1:
        remove_post(session, post_id)
        return
    session.execute(
        update(SearchDocument)
        .where(SearchDocument.post_id == post_id)
        .values(body="", spoilers="", spoiler_key=None)
        .execution_options(synchronize_session=False)
    )


def remove_post(session: Session, post_id: int) -> None:
    """A post's text is gone for good (purged): nothing of it stays findable."""
    session.execute(
        delete(SearchDocument)
        .where(SearchDocument.post_id == post_id)
        .execution_options(synchronize_session=False)
    )


# ------------------------------------------------------------------------------ reindex


@dataclass(frozen=True, slots=True)
class Reindexed:
    posts: int  # posts read
    written: int  # rows added or changed
    removed: int  # rows without a post with text


def expected_row(
    post_id: int, number: int, html: str, deleted: bool, title: str
) -> Document | None:
    """The document a post should have: once purged (deleted with its text gone) none, or
    for an opener its thread's title alone."""
    if deleted and not html:
        return Document(_indexed(title), "", "", None) if number == 1 else None
    return document(html, title if number == 1 else None)


def reindex(
    session: Session,
    *,
    batch: int = 2000,
    after: int = 0,
    progress: Callable[[int, int], None] = lambda _done, _total: None,
) -> Reindexed:
    """Bring every document in line with its post (those with ids above `after`), batch by
    batch in post id order, writing only the rows that differ: a healthy index gets no write
    at all. `progress(done, total)` after each batch. Never commits."""
    total = session.scalar(select(func.count(Post.id)).where(Post.id > after)) or 0
    done = written = removed = 0
    while True:
        posts = session.execute(
            select(Post.id, Post.number, Post.html, Post.is_deleted, Thread.title)
            .join(Post.thread)
            .where(Post.id > after)
            .order_by(Post.id)
            .limit(batch)
        ).all()
        last = posts[-1].id if posts else None
        range_ = SearchDocument.post_id > after
        if last is not None:
            range_ = range_ & (SearchDocument.post_id <= last)
        stored = {
            row.post_id: Document(row.title, row.body, row.spoilers, row.spoiler_key)
            for row in session.execute(
                select(
                    SearchDocument.post_id,
                    SearchDocument.title,
                    SearchDocument.body,
                    SearchDocument.spoilers,
                    SearchDocument.spoiler_key,
                ).where(range_)
            )
        }
        changed: list[dict[str, Any]] = []
        for post_id, number, html, deleted, title in posts:
            wanted = expected_row(post_id, number, html, deleted, title)
            have = stored.pop(post_id, None)
            if wanted is None:
                if have is not None:
                    stored[post_id] = have  # removed below
                continue
            if have != wanted:
                changed.append(_row(post_id, wanted))
        written += _write(session, changed)
        removed += _remove(session, stored)
        done += len(posts)
        progress(done, total)
        if last is None:
            return Reindexed(done, written, removed)
        after = last


def _write(session: Session, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    insert = _insert_for(session)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["post_id"],
            set_={
                name: getattr(insert.excluded, name)
                for name in ("title", "body", "spoilers", "spoiler_key")
            },
        ),
        rows,
    )
    return len(rows)


def _remove(session: Session, post_ids: Iterable[int]) -> int:
    ids = sorted(post_ids)
    for start in range(0, len(ids), 500):
        session.execute(
            delete(SearchDocument)
            .where(SearchDocument.post_id.in_(ids[start : start + 500]))
            .execution_options(synchronize_session=False)
        )
    return len(ids)
