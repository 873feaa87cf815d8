"""Starting threads, replying, editing and deleting posts: the rules and the counters.

`start_thread` and `reply` are the whole use case, for a view or any later caller (an API, a
quote-reply): may this viewer post here (forum/access/permissions.py), the text rendered once
(forum/discussion/markup.py: the only place it is rendered for saving), the new-member and
flood limits (antispam.py), the rows and counters, and what the write changes for the page
cache (forum/platform/freshness.py). They answer `Posted` or `Refused`, saying which form field
a refusal belongs to. The caller parses its input and commits once.

Never commits. Counters are updated with atomic `SET x = x + 1` statements, and the thread row
is locked (by its UPDATE) before the post gets its number, so concurrent replies never share a
number or lose a count. The same statements bump the rows' `cache_version`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from forum.access import permissions
from forum.access.spoilers import thread_slug
from forum.access.viewer import Viewer
from forum.conversation import mentions, notifications, thread_states
from forum.discussion import antispam, markup
from forum.models import Board, Post, PostRevision, Thread, User, UTCDateTime, utcnow
from forum.platform import freshness
from forum.search import search_documents


@dataclass(frozen=True, slots=True)
class Posted:
    """The post is in (not committed): `post.thread` is its thread."""

    post: Post
    thread: Thread


@dataclass(frozen=True, slots=True)
class Refused:
    """Nothing was written. `field` is the form field the message belongs under ("body",
    "title"), or None for the form as a whole (who may post where, how many threads a day)."""

    message: str
    field: Literal["body", "title"] | None
    # 403 when the viewer may not post here at all; 200 when this text, now, may not.
    status: Literal[200, 403]


def reply(
    session: Session,
    viewer: Viewer,
    thread: Thread,
    body: str,
    *,
    config: Mapping[str, Any],
    episode_key: int | None = None,
) -> Posted | Refused:
    """`viewer` replies `body` (Markdown) to `thread`, whose board is loaded. The reply
    discusses up to `episode_key` (at least the thread's episode, and the episode of any post
    it quotes: a quote carries its source's spoilers along)."""
    refusal = permissions.reply_refusal(viewer, thread)
    if refusal or viewer.user is None:
        return Refused(refusal or "Log in to reply.", None, 403)
    rendered = markup.render(body, mentions.resolver_for(session))
    if message := antispam.text_refusal(session, viewer.user, rendered.html, body, dict(config)):
        return Refused(message, "body", 200)
    try:
        episode_key = _later(episode_key, episode_of_quotes(session, thread.board_id, rendered))
    except QuoteFromAnotherShow as refused:
        return Refused(str(refused), "body", 200)
    post = _append(session, thread, viewer.user, body, rendered, episode_key)
    _converse(session, viewer.user, post, thread, rendered)
    return Posted(post, thread)


class QuoteFromAnotherShow(ValueError):
    def __init__(self) -> None:
        super().__init__(
            "You're quoting a post about an episode of another show. Episode spoilers only "
            "make sense on their own show's board: link to that post instead of quoting it."
        )


def episode_of_quotes(
    session: Session,
    board_id: int,
    rendered: markup.Rendered,
    ids: Collection[int] | None = None,
) -> int | None:
    """The latest episode the posts `rendered` quotes discuss: a quote carries its source's
    spoilers along, so the post quoting it discusses that episode too. Episodes compare only
    within one show, so quoting another board's post that discusses an episode or holds an
    episode spoiler raises QuoteFromAnotherShow. `ids`: only these of its quotes (an edit's
    new ones). No statement when nothing is quoted."""
    if not (rendered.quoted_post_ids if ids is None else ids):
        return None
    quoted = session.execute(
        select(
            Thread.board_id,
            Post.episode_key,
            # The attribute as spoiler_html writes it: typed text has its quotes escaped.
            Post.html.contains('data-episode="'),
            Thread.is_hidden | Post.is_hidden | Post.is_deleted,
        )
        .join(Post.thread)
        .where(Post.id.in_(ids if ids is not None else rendered.quoted_post_ids))
    ).all()
    latest: int | None = None
    for quoted_board, key, has_spoilers, hidden in quoted:
        if quoted_board != board_id:
            # A hidden or deleted post is as good as not there: refusing it would tell the
            # quoter it exists (and where).
            if (key is not None or has_spoilers) and not hidden:
                raise QuoteFromAnotherShow()
            continue
        # Same board: a hidden post's episode still counts (over-protecting is harmless).
        latest = _later(latest, key)
    return latest


def start_thread(
    session: Session,
    viewer: Viewer,
    board: Board,
    title: str,
    body: str,
    *,
    config: Mapping[str, Any],
    episode_key: int | None = None,
    is_news: bool = False,
) -> Posted | Refused:
    """`viewer` starts a thread called `title` on `board`, opening with `body` (Markdown),
    tied to the episode `episode_key` (its title is masked for viewers who haven't reached
    it) and marked as show news or not."""
    refusal = permissions.posting_refusal(viewer, board)
    if refusal or viewer.user is None:
        return Refused(refusal or "Log in to start a thread.", None, 403)
    limits = dict(config)
    if message := antispam.thread_limit_refusal(session, viewer.user, limits):
        return Refused(message, None, 200)
    rendered = markup.render(body, mentions.resolver_for(session))
    if message := antispam.text_refusal(session, viewer.user, rendered.html, body, limits):
        return Refused(message, "body", 200)
    try:
        quoted_episode = episode_of_quotes(session, board.id, rendered)
    except QuoteFromAnotherShow as refused:
        return Refused(str(refused), "body", 200)
    thread = _open_thread(session, board, viewer.user, title, episode_key, is_news)
    post = _append(session, thread, viewer.user, body, rendered, quoted_episode)
    _converse(session, viewer.user, post, thread, rendered)
    return Posted(post, thread)


def _converse(
    session: Session, author: User, post: Post, thread: Thread, rendered: markup.Rendered
) -> None:
    """What a member's post does to the conversation (forum/conversation/): the author has
    read it and follows the thread (auto-watch), and whoever it concerns is notified by a job
    queued for after the commit, so a thread with 5,000 watchers costs this request no more
    than one with none."""
    thread_states.after_posting(session, author, thread.id, post.number)
    notifications.post_added(session, post, rendered)


def create_thread(
    session: Session,
    board: Board,
    author: User,
    title: str,
    body: str,
    *,
    episode_key: int | None = None,
    is_news: bool = False,
) -> Thread:
    """A thread with its opening post, no questions asked: for the demo data, imports, the
    episode threads the site opens (forum/discussion/episodes.py) and tests. Members' threads
    go through `start_thread`."""
    thread = _open_thread(session, board, author, title, episode_key, is_news)
    add_post(session, thread, author, body)
    return thread


def _open_thread(
    session: Session,
    board: Board,
    author: User,
    title: str,
    episode_key: int | None = None,
    is_news: bool = False,
) -> Thread:
    now = utcnow()
    thread = Thread(
        board_id=board.id,
        author_id=author.id,
        title=title,
        slug=thread_slug(title, episode_key, is_news),
        created_at=now,
        last_post_at=now,
        post_count=0,
        episode_key=episode_key,
        is_news=is_news,
    )
    session.add(thread)
    session.flush()
    session.execute(
        update(Board).where(Board.id == board.id).values(thread_count=Board.thread_count + 1)
    )
    return thread


# add_post's statements, built once: a reply runs four of them, and building and running them
# through the ORM's bulk-update path cost more than the SQL itself. Core statements with bound
# parameters go straight to the connection.
_COUNT_POST = (
    update(Thread)
    .where(Thread.id == bindparam("b_thread"))
    .values(post_count=Thread.post_count + 1, cache_version=freshness.next_version(Thread))
    .returning(Thread.post_count, Thread.is_hidden)
)
_THREAD_LATEST = (
    update(Thread)
    .where(Thread.id == bindparam("b_thread"))
    .values(
        last_post_id=bindparam("b_post"),
        last_post_at=bindparam("b_now"),
        last_poster_id=bindparam("b_author"),
    )
)
# Replies to other threads of the board race for the board row; a post only becomes the
# board's latest if it is newer than the one recorded, whatever the commit order. "Newer" is
# (created_at, id), the order moderation, the demo data and `flask recount` use too
# (forum/staff/recount.py): ids alone can disagree with times by a few microseconds when two
# threads of the board get replies at once.
_b_now = bindparam("b_now", type_=UTCDateTime())
_newer_than_latest = (
    Board.last_post_id.is_(None)
    | (Board.last_post_at < _b_now)
    | ((Board.last_post_at == _b_now) & (Board.last_post_id < bindparam("b_post")))
)
_BOARD_COUNTS = (
    update(Board)
    .where(Board.id == bindparam("b_board"))
    .values(
        post_count=Board.post_count + 1,
        cache_version=freshness.next_version(Board),
        last_post_id=case((_newer_than_latest, bindparam("b_post")), else_=Board.last_post_id),
        last_post_at=case((_newer_than_latest, _b_now), else_=Board.last_post_at),
    )
)
_AUTHOR_COUNTS = (
    update(User)
    .where(User.id == bindparam("b_author"))
    .values(post_count=User.post_count + 1, cache_version=freshness.next_version(User))
)


def add_post(
    session: Session,
    thread: Thread,
    author: User,
    body: str,
    *,
    episode_key: int | None = None,
) -> Post:
    """Append a post to a thread and keep thread, board and author counters exact, no
    questions asked: for the demo data, imports and tests. Members reply through `reply`.
    The post discusses up to `episode_key`, by default its thread's episode."""
    rendered = markup.render(body, mentions.resolver_for(session))
    return _append(session, thread, author, body, rendered, episode_key)


def _append(
    session: Session,
    thread: Thread,
    author: User,
    body: str,
    rendered: markup.Rendered,
    episode_key: int | None = None,
) -> Post:
    now = utcnow()
    connection = session.connection()
    # The UPDATE takes the thread's row lock first; the number it returns is ours alone.
    number, thread_hidden = connection.execute(_COUNT_POST, {"b_thread": thread.id}).one()
    post = Post(
        thread_id=thread.id,
        author_id=author.id,
        number=number,
        episode_key=_later(episode_key, thread.episode_key),
        source=body,
        html=rendered.html,
        render_version=markup.RENDER_VERSION,
        created_at=now,
    )
    session.add(post)
    session.flush()
    # Findable from the same transaction on (the thread's title lives in its opener's document).
    search_documents.index_new_post(
        session, post.id, rendered.html, thread.title if number == 1 else None
    )
    latest = {
        "b_thread": thread.id,
        "b_board": thread.board_id,
        "b_post": post.id,
        "b_now": now,
        "b_author": author.id,
    }
    connection.execute(_THREAD_LATEST, latest)
    # A hidden thread is outside its board's counts until restored (forum/staff/moderation.py).
    if not thread_hidden:
        connection.execute(_BOARD_COUNTS, latest)
    connection.execute(_AUTHOR_COUNTS, latest)
    # The statements above bumped the versions of the pages that show the post.
    freshness.changed(
        session,
        thread=thread.id,
        user=author.id,
        bumped=True,
        board=None if thread_hidden else thread.board_id,
    )
    # The ORM copies of the rows changed above are stale now. The thread's new values are
    # known, so it is kept current rather than expired: the caller builds the post's URL from
    # it, and an expired thread would cost a reload.
    for name, value in (
        ("post_count", number),
        ("last_post_id", post.id),
        ("last_post_at", now),
        ("last_poster_id", author.id),
    ):
        set_committed_value(thread, name, value)
    session.expire(thread, ["cache_version"])
    board = session.identity_map.get(session.identity_key(Board, thread.board_id))
    for stale in (author, board):
        if stale is not None and stale in session:
            session.expire(stale)
    return post


def edit_post(session: Session, post: Post, body: str, editor: User) -> Refused | None:
    """Replace a post's text, keeping the previous version as a revision. A quote added by the
    edit raises the episode the post discusses (never lowers it), as in a reply."""
    rendered = markup.render(body, mentions.resolver_for(session))
    # Only the quotes the edit adds: one already there was judged when it was written (and a
    # moderator redacting an old post must not be refused over it).
    added = set(rendered.quoted_post_ids)
    if added:
        added -= set(markup.render(post.source).quoted_post_ids)
    board_id = _board_of(session, post) if added or post.number == 1 else None
    if added:
        assert board_id is not None
        try:
            post.episode_key = _later(
                post.episode_key, episode_of_quotes(session, board_id, rendered, added)
            )
        except QuoteFromAnotherShow as refused:
            return Refused(str(refused), "body", 200)
    if post.revision_count == 0:
        # The original text becomes revision 1 on the first edit.
        session.add(
            PostRevision(
                post_id=post.id,
                number=1,
                source=post.source,
                editor_id=post.author_id,
                created_at=post.created_at,
            )
        )
        post.revision_count = 1
    post.revision_count += 1
    session.add(
        PostRevision(
            post_id=post.id,
            number=post.revision_count,
            source=body,
            editor_id=editor.id,
            created_at=utcnow(),
        )
    )
    post.source = body
    post.html = rendered.html
    post.render_version = markup.RENDER_VERSION
    post.edited_at = utcnow()
    search_documents.index_text(session, post.id, rendered.html)
    # The post shows on its thread's pages and in its author's recent posts; an opening post
    # also in its board's and the site's feeds (their cache keys read board versions).
    freshness.changed(session, thread=post.thread_id, user=post.author_id, board=board_id)
    return None


def _board_of(session: Session, post: Post) -> int:
    board_id = session.scalar(select(Thread.board_id).where(Thread.id == post.thread_id))
    assert board_id is not None, "a post's thread exists"
    return board_id


def _later(chosen: int | None, thread_episode: int | None) -> int | None:
    """The later of two episodes, None counting as none (a post discusses its thread's episode
    at least: a reply can only reach further)."""
    if chosen is None or thread_episode is None:
        return chosen if chosen is not None else thread_episode
    return max(chosen, thread_episode)


def delete_post(post: Post, deleted_by: User | None = None) -> None:
    """Soft delete: the post shows as removed, its row and text are kept. A moderator deleting
    someone else's post (`deleted_by`) tells its author, as their other actions do."""
    post.is_deleted = True
    session = Session.object_session(post)
    assert session is not None, "a post being deleted was loaded through a session"
    if deleted_by is not None and post.author_id not in (None, deleted_by.id):
        notifications.moderated(
            session, actor=deleted_by, post=post, what=f"deleted your post #{post.number}"
        )
    # Counters count deleted posts too, so only the pages that print the post change (and for
    # an opening post, the feeds that print it).
    board_id = _board_of(session, post) if post.number == 1 else None
    freshness.changed(session, thread=post.thread_id, user=post.author_id, board=board_id)
