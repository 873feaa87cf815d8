"""Starting threads, replying, editing and deleting posts: the rules and the counters.

Never commits: the view that calls these owns the transaction. Counters are updated with
atomic `SET x = x + 1` statements, and the thread row is locked (by its UPDATE) before the
post gets its number, so concurrent replies never share a number or lose a count. The same
statements bump the rows' `cache_version`, which keys their cached pages
(forum/platform/pagecache.py).
"""

from __future__ import annotations

from sqlalchemy import bindparam, case, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from forum.discussion import markup
from forum.models import Board, Post, PostRevision, Thread, User, UTCDateTime, utcnow
from forum.platform.text import slugify


def create_thread(
    session: Session, board: Board, author: User, title: str, body: str,
    html: str | None = None,
) -> Thread:
    now = utcnow()
    thread = Thread(
        board_id=board.id,
        author_id=author.id,
        title=title,
        slug=slugify(title),
        created_at=now,
        last_post_at=now,
        post_count=0,
    )
    session.add(thread)
    session.flush()
    session.execute(
        update(Board).where(Board.id == board.id).values(thread_count=Board.thread_count + 1)
    )
    add_post(session, thread, author, body, html)
    return thread


# add_post's statements, built once: a reply runs four of them, and building and running them
# through the ORM's bulk-update path cost more than the SQL itself. Core statements with bound
# parameters go straight to the connection.
_COUNT_POST = (
    update(Thread).where(Thread.id == bindparam("b_thread"))
    .values(post_count=Thread.post_count + 1, cache_version=Thread.cache_version + 1)
    .returning(Thread.post_count, Thread.is_hidden)
)
_THREAD_LATEST = (
    update(Thread).where(Thread.id == bindparam("b_thread"))
    .values(last_post_id=bindparam("b_post"), last_post_at=bindparam("b_now"),
            last_poster_id=bindparam("b_author"))
)
# Replies to other threads of the board race for the board row; a post only becomes the
# board's latest if it is newer than the one recorded, whatever the commit order.
_newer_than_latest = Board.last_post_id.is_(None) | (Board.last_post_id < bindparam("b_post"))
_BOARD_COUNTS = (
    update(Board).where(Board.id == bindparam("b_board"))
    .values(
        post_count=Board.post_count + 1,
        cache_version=Board.cache_version + 1,
        last_post_id=case((_newer_than_latest, bindparam("b_post")), else_=Board.last_post_id),
        last_post_at=case((_newer_than_latest, bindparam("b_now", type_=UTCDateTime())),
                          else_=Board.last_post_at),
    )
)
_AUTHOR_COUNTS = (
    update(User).where(User.id == bindparam("b_author"))
    .values(post_count=User.post_count + 1, cache_version=User.cache_version + 1)
)


def add_post(
    session: Session, thread: Thread, author: User, body: str, html: str | None = None
) -> Post:
    """Append a post to a thread and keep thread, board and author counters exact. `html` is
    markup.render(body) when the caller already has it."""
    now = utcnow()
    connection = session.connection()
    # The UPDATE takes the thread's row lock first; the number it returns is ours alone.
    number, thread_hidden = connection.execute(_COUNT_POST, {"b_thread": thread.id}).one()
    post = Post(
        thread_id=thread.id,
        author_id=author.id,
        number=number,
        source=body,
        html=markup.render(body) if html is None else html,
        render_version=markup.RENDER_VERSION,
        created_at=now,
    )
    session.add(post)
    session.flush()
    latest = {"b_thread": thread.id, "b_board": thread.board_id, "b_post": post.id,
              "b_now": now, "b_author": author.id}
    connection.execute(_THREAD_LATEST, latest)
    # A hidden thread is outside its board's counts until restored (forum/staff/moderation.py).
    if not thread_hidden:
        connection.execute(_BOARD_COUNTS, latest)
    connection.execute(_AUTHOR_COUNTS, latest)
    # The ORM copies of the rows changed above are stale now. The thread's new values are
    # known, so it is kept current rather than expired: the caller builds the post's URL from
    # it, and an expired thread would cost a reload.
    for name, value in (("post_count", number), ("last_post_id", post.id),
                        ("last_post_at", now), ("last_poster_id", author.id)):
        set_committed_value(thread, name, value)
    session.expire(thread, ["cache_version"])
    board = session.identity_map.get(session.identity_key(Board, thread.board_id))
    for stale in (author, board):
        if stale is not None and stale in session:
            session.expire(stale)
    return post


def edit_post(session: Session, post: Post, body: str, editor: User) -> None:
    """Replace a post's text, keeping the previous version as a revision."""
    if post.revision_count == 0:
        # The original text becomes revision 1 on the first edit.
        session.add(PostRevision(post_id=post.id, number=1, source=post.source,
                                 editor_id=post.author_id, created_at=post.created_at))
        post.revision_count = 1
    post.revision_count += 1
    session.add(PostRevision(post_id=post.id, number=post.revision_count, source=body,
                             editor_id=editor.id, created_at=utcnow()))
    post.source = body
    post.html = markup.render(body)
    post.render_version = markup.RENDER_VERSION
    post.edited_at = utcnow()
    # The post shows on its thread's pages and in its author's recent posts.
    _touch_pages(session, thread_id=post.thread_id, user_id=post.author_id)


def _touch_pages(session: Session, thread_id: int, user_id: int | None) -> None:
    """Bump the cache versions of a thread and a user: their cached pages are stale now."""
    session.execute(update(Thread).where(Thread.id == thread_id)
                    .values(cache_version=Thread.cache_version + 1),
                    execution_options={"synchronize_session": False})
    if user_id is not None:
        session.execute(update(User).where(User.id == user_id)
                        .values(cache_version=User.cache_version + 1),
                        execution_options={"synchronize_session": False})


def delete_post(post: Post) -> None:
    """Soft delete: the post shows as removed, its row and text are kept."""
    post.is_deleted = True
