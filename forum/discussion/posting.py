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
from forum.discussion import antispam, markup, quote_copies
from forum.models import Board, Post, PostRevision, Thread, User, UTCDateTime, utcnow
from forum.platform import freshness
from forum.platform.text import identity_key
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
    resolver = mentions.resolver_for(session)
    rendered = markup.render(body, resolver)
    if message := antispam.text_refusal(session, viewer.user, rendered.html, body, dict(config)):
        return Refused(message, "body", 200)
    try:
        quotes = quoted_posts(session, thread.board_id, rendered.quoted_post_ids)
    except QuoteFromAnotherShow as refused:
        return Refused(str(refused), "body", 200)
    rendered = _withholding(body, resolver, rendered, quotes)
    episode_key = _later(episode_key, quotes.episode_key)
    post = _append(session, thread, viewer.user, body, rendered, episode_key, quotes.found)
    _converse(session, viewer.user, post, thread, rendered)
    return Posted(post, thread)


class QuoteFromAnotherShow(ValueError):
    def __init__(self) -> None:
        super().__init__(
            "You're quoting a post about an episode of another show. Episode spoilers only "
            "make sense on their own show's board: link to that post instead of quoting it."
        )


@dataclass(frozen=True, slots=True)
class QuotedPosts:
    """What the posts a text quotes mean for it (quoted_posts)."""

    # The latest episode the readable ones discuss (the quoting post discusses it too).
    episode_key: int | None = None
    # Those whose copy the stored HTML must not carry (quote_copies.gone(): hidden, deleted,
    # in a hidden thread): markup.render's withheld_quotes.
    withheld: frozenset[int] = frozenset()
    # Those that exist: the post_quotes rows (quote_copies), so the copies follow their state.
    found: tuple[int, ...] = ()


def quoted_posts(
    session: Session,
    board_id: int | None,
    quoted_post_ids: Collection[int],
    judged: Collection[int] | None = None,
) -> QuotedPosts:
    """The posts a text quotes (`quoted_post_ids`, from its render), in one statement (none
    when it quotes nothing): which exist, whose copies are withheld, and the latest episode
    they discuss. A quote carries its source's spoilers along, so the post quoting it
    discusses that episode too; episodes compare only within one show, so quoting another
    board's post that discusses an episode or holds an episode spoiler raises
    QuoteFromAnotherShow. A hidden or deleted post (or one in a hidden thread) counts for
    neither, on any board: refusing it or raising the episode would tell the quoter it
    exists, and what about. `judged`: only these quotes count for the episode and the
    refusal (an edit's new ones; () for none: `board_id` is then unused)."""
    if not quoted_post_ids:
        return QuotedPosts()
    quoted = session.execute(
        select(
            Post.id,
            Thread.board_id,
            Post.episode_key,
            # The attribute as spoiler_html writes it: typed text has its quotes escaped.
            Post.html.contains('data-episode="'),
            quote_copies.gone(),
        )
        .join(Post.thread)
        .where(Post.id.in_(quoted_post_ids))
    ).all()
    latest: int | None = None
    withheld: set[int] = set()
    for post_id, quoted_board, key, has_spoilers, gone in quoted:
        if gone:
            withheld.add(post_id)
            continue
        if judged is not None and post_id not in judged:
            continue
        assert board_id is not None, "a judged quote is judged for a board"
        if quoted_board != board_id:
            if key is not None or has_spoilers:
                raise QuoteFromAnotherShow()
            continue
        latest = _later(latest, key)
    found = {row[0] for row in quoted}
    return QuotedPosts(latest, frozenset(withheld), tuple(i for i in quoted_post_ids if i in found))


def _withholding(
    body: str,
    resolver: markup.MentionResolver,
    rendered: markup.Rendered,
    quotes: QuotedPosts,
) -> markup.Rendered:
    """`rendered` again without the copies of the quoted posts that are gone (rare: the
    first render is what found the quotes)."""
    if not quotes.withheld:
        return rendered
    return markup.render(body, resolver, quotes.withheld)


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
    resolver = mentions.resolver_for(session)
    rendered = markup.render(body, resolver)
    if message := antispam.text_refusal(session, viewer.user, rendered.html, body, limits):
        return Refused(message, "body", 200)
    try:
        quotes = quoted_posts(session, board.id, rendered.quoted_post_ids)
    except QuoteFromAnotherShow as refused:
        return Refused(str(refused), "body", 200)
    rendered = _withholding(body, resolver, rendered, quotes)
    thread = _open_thread(session, board, viewer.user, title, episode_key, is_news)
    post = _append(session, thread, viewer.user, body, rendered, quotes.episode_key, quotes.found)
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
    resolver = mentions.resolver_for(session)
    rendered = markup.render(body, resolver)
    quotes = quoted_posts(session, None, rendered.quoted_post_ids, judged=())
    rendered = _withholding(body, resolver, rendered, quotes)
    return _append(session, thread, author, body, rendered, episode_key, quotes.found)


def _append(
    session: Session,
    thread: Thread,
    author: User,
    body: str,
    rendered: markup.Rendered,
    episode_key: int | None,
    quoted_post_ids: Collection[int],
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
    quote_copies.write(session, post.id, quoted_post_ids)
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
    resolver = mentions.resolver_for(session)
    rendered = markup.render(body, resolver)
    # What the previous text referred to (only rendered when it may have referred to anything).
    previous = (
        markup.render(post.source)
        if "/p/" in post.source or "@" in post.source
        else markup.Rendered("")
    )
    # Only the quotes the edit adds: one already there was judged when it was written (and a
    # moderator redacting an old post must not be refused over it).
    quoted_before = set(previous.quoted_post_ids)
    added = [i for i in rendered.quoted_post_ids if i not in quoted_before]
    board_id = _board_of(session, post) if added or post.number == 1 else None
    try:
        quotes = quoted_posts(session, board_id, rendered.quoted_post_ids, judged=added)
    except QuoteFromAnotherShow as refused:
        return Refused(str(refused), "body", 200)
    rendered = _withholding(body, resolver, rendered, quotes)
    post.episode_key = _later(post.episode_key, quotes.episode_key)
    if set(rendered.quoted_post_ids) != quoted_before:
        quote_copies.replace(session, post.id, quotes.found)
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
    # Whoever the edit newly names or quotes is told, as by a new post (a quote of a post
    # that is gone tells nobody: its author must not learn it was quoted from a copy).
    named_before = {identity_key(name) for name in previous.mentions}
    added_mentions = [name for name in rendered.mentions if identity_key(name) not in named_before]
    added_quotes = [i for i in added if i in quotes.found and i not in quotes.withheld]
    if added_mentions or added_quotes:
        notifications.post_edited(session, post, added_mentions, added_quotes)
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
    # Its text leaves the posts that quote it too.
    refresh_copies(session, post_id=post.id)
    if deleted_by is not None and post.author_id not in (None, deleted_by.id):
        notifications.moderated(
            session, actor=deleted_by, post=post, what=f"deleted your post #{post.number}"
        )
    # Counters count deleted posts too, so only the pages that print the post change (and for
    # an opening post, the feeds that print it).
    board_id = _board_of(session, post) if post.number == 1 else None
    freshness.changed(session, thread=post.thread_id, user=post.author_id, board=board_id)


def refresh_copies(
    session: Session, *, post_id: int | None = None, thread_id: int | None = None
) -> int:
    """Render again every post that quotes `post_id` (or any post of `thread_id`), now that
    it was hidden, restored, deleted or purged (forum/discussion/quote_copies.py): with the
    quoted posts that are gone withheld. Each post whose HTML changes gets its search document,
    and its thread's, author's and (an opening post) board's pages are declared changed. Two
    queries, then per quoting post a render (and its mention lookup) and two writes: rare,
    and a moderator's action. Returns how many posts changed."""
    copies = quote_copies.copies_of(session, post_id=post_id, thread_id=thread_id)
    resolver = mentions.resolver_for(session)
    threads: set[int] = set()
    users: set[int] = set()
    boards: set[int] = set()
    changed = 0
    for copy in copies:
        post = copy.post
        rendered = markup.render(post.source, resolver, copy.withheld)
        if rendered.html == post.html:
            continue
        changed += 1
        post.html = rendered.html
        post.render_version = markup.RENDER_VERSION
        search_documents.index_text(session, post.id, rendered.html)
        threads.add(post.thread_id)
        if post.author_id is not None:
            users.add(post.author_id)
        if post.number == 1:  # an opening post is in its board's feeds too
            boards.add(copy.board_id)
    for changed_thread in threads:
        freshness.changed(session, thread=changed_thread)
    for author in users:
        freshness.changed(session, user=author)
    for board in boards:
        freshness.changed(session, board=board)
    return changed
