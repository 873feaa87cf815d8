"""A quote is a copy: keeping the copies of hidden and deleted posts out of the stored HTML.

A quote-reply stores the quoted text in the reply's own HTML (forum/discussion/markup.py), which
every page, feed, search document and mail prints. So when the quoted post may no longer be
read (hidden, deleted, purged, or its thread hidden), its copies go too: the quoting post is
rendered again with that post in `withheld_quotes`, and the quote keeps only a placeholder.
When the post comes back (restored), the same re-render brings the copies back.

`post_quotes` (forum/models.py PostQuote) says who quotes whom: written with the post's text by
forum/discussion/posting.py (and `flask posts rerender`), read here (`copies_of`) when a post's
state changes: posting.refresh_copies renders the copies again, called by the moderation
actions and posting.delete_post. The rule for a stored post is always the same: its source
rendered with the posts it quotes that are `gone()` withheld.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, insert, select
from sqlalchemy.orm import Session

from forum.models import Post, PostQuote, Thread


def gone() -> ColumnElement[bool]:
    """A quoted post whose copies are withheld (its Post joined to its Thread): hidden,
    deleted (purged too), or in a hidden thread. Its moderators can still read it where it
    is, but a copy lives in another post that everyone reads."""
    return Post.is_hidden | Post.is_deleted | Thread.is_hidden


def write(session: Session, post_id: int, quoted_post_ids: Collection[int]) -> None:
    """Record what a new post quotes (one INSERT; none when it quotes nothing). The ids must
    be posts that exist (posting.quoted_posts reports which do)."""
    if quoted_post_ids:
        session.execute(
            insert(PostQuote),
            [{"post_id": post_id, "quoted_post_id": quoted} for quoted in quoted_post_ids],
        )


def replace(session: Session, post_id: int, quoted_post_ids: Collection[int]) -> None:
    """Record what an edited or re-rendered post quotes now, instead of what it did."""
    session.execute(
        delete(PostQuote)
        .where(PostQuote.post_id == post_id)
        .execution_options(synchronize_session=False)
    )
    write(session, post_id, quoted_post_ids)


@dataclass(frozen=True, slots=True)
class QuoteCopy:
    """A post that quotes the post (or thread) in question, to be rendered again."""

    post: Post
    board_id: int
    # The posts it quotes whose copies are withheld now: markup.render's withheld_quotes.
    withheld: frozenset[int]


def copies_of(
    session: Session, *, post_id: int | None = None, thread_id: int | None = None
) -> list[QuoteCopy]:
    """The posts that quote `post_id` (or any post of `thread_id`), each with the posts it
    quotes that are gone() now: two queries (the caller's change of state flushed first).
    forum/discussion/posting.py's refresh_copies renders them again."""
    assert (post_id is None) != (thread_id is None), "copies of one post or of one thread"
    session.flush()
    if post_id is not None:
        quoting_ids = select(PostQuote.post_id).where(PostQuote.quoted_post_id == post_id)
    else:
        quoting_ids = (
            select(PostQuote.post_id)
            .join(Post, Post.id == PostQuote.quoted_post_id)
            .where(Post.thread_id == thread_id)
        )
    quoting = session.execute(
        select(Post, Thread.board_id)
        .join(Post.thread)
        .where(Post.id.in_(quoting_ids))
        .order_by(Post.id)
    ).all()
    if not quoting:
        return []
    withheld = _withheld_by_post(session, quoting_ids)
    return [
        QuoteCopy(post, board_id, frozenset(withheld.get(post.id, ())))
        for post, board_id in quoting
    ]


def _withheld_by_post(session: Session, quoting_ids: Select[Any]) -> dict[int, set[int]]:
    """For each of the quoting posts, the posts it quotes whose copies are withheld."""
    withheld: dict[int, set[int]] = defaultdict(set)
    for quoting, quoted in session.execute(
        select(PostQuote.post_id, PostQuote.quoted_post_id)
        .join(Post, Post.id == PostQuote.quoted_post_id)
        .join(Post.thread)
        .where(PostQuote.post_id.in_(quoting_ids), gone())
    ):
        withheld[quoting].add(quoted)
    return withheld
