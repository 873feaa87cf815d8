"""What the read pages print, worked out in Python before the template runs.

A thread page shows twenty posts, each with links, dates and buttons that depend on who is
looking. Asking the permission functions, `url_for` and the date filters from inside the
template's loop costs more than the rest of the page together (docs/performance.md), so the
loop gets `PostCard`s instead: the post, its precomputed links and dates, and one flag per
button. The flags come from forum/access/permissions.py, so a button still shows exactly when the
action behind it is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from forum.access import permissions, spoilers
from forum.access.viewer import Viewer
from forum.discussion.episode_codes import code_of
from forum.discussion.spoiler_html import withhold
from forum.models import Board, Post, Thread, ThreadState, User, WatchLevel
from forum.platform.links import link


def time_ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return "never"
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in (
        (31_536_000, "year"),
        (2_592_000, "month"),
        (604_800, "week"),
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
    ):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def iso(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else ""


def long_date(moment: datetime | None) -> str:
    return f"{moment:%B} {moment.day}, {moment.year}" if moment else ""


@dataclass(frozen=True, slots=True)
class Moment:
    """A timestamp as a page prints it: <time datetime="iso" title="long">ago</time>."""

    iso: str
    long: str
    ago: str

    @classmethod
    def of(cls, moment: datetime, now: datetime) -> Moment:
        return cls(iso(moment), long_date(moment), time_ago(moment, now))


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    url: str
    role: str
    avatar_colour: int
    initial: str


@dataclass(frozen=True, slots=True)
class PostCard:
    """A post as one viewer sees it. A button's URL is None when the viewer may not use it."""

    post: Post
    author: Author | None  # None: the account was deleted
    url: str  # the permalink
    posted: Moment
    edited: str  # the long date of the last edit, or "" when never edited
    shows_text: bool  # False: a "removed by a moderator" stub instead of the text
    # The HTML to print: the stored HTML with episode spoilers beyond the viewer cut out
    # (forum/discussion/spoiler_html.py); "" when the text isn't shown at all.
    body: str
    # The post discusses an episode the viewer hasn't reached: collapsed, `body` is "", and
    # the text is fetched from `reveal_url` only when they ask.
    withheld_episode: str | None
    reveal_url: str
    edit_url: str | None
    delete_url: str | None
    revisions_url: str | None
    report_url: str | None
    can_moderate: bool  # whether to include mod/_post_tools.html
    # Conversation (forum/conversation/): the quote-reply link (None: the viewer may not reply
    # here, or the text isn't shown), whether the author is a member the viewer muted (the
    # post collapses), and whether the viewer's unread posts start here (the "New" line).
    quote_url: str | None = None
    author_muted: bool = False
    first_unread: bool = False


def author_of(user: User | None, cache: dict[int, Author]) -> Author | None:
    if user is None:
        return None
    if user.id not in cache:
        cache[user.id] = Author(
            user.username,
            link("users.profile", username=user.username),
            user.role,
            user.id % 8,
            user.username[:1].upper(),
        )
    return cache[user.id]


def post_cards(
    posts: Sequence[Post],
    thread: Thread,
    viewer: Viewer,
    spoiler_limit: int | None = None,
    last_read: int | None = None,
) -> list[PostCard]:
    """One card per post (authors loaded), as `viewer` sees it. `spoiler_limit`: the last
    episode whose spoilers the page may show (the viewer's own on the thread's board unless
    they asked to see this thread anyway). `last_read`: the number of the last post the member
    had read before this page (None: never opened, or a visitor: no "New" line)."""
    now = datetime.now(UTC)
    authors: dict[int, Author] = {}
    # mod/_post_tools.html decides per post what a moderator's tools offer.
    moderator = permissions.can_moderate_post(viewer, thread)
    limit = viewer.spoiler_limit(thread.board_id) if spoiler_limit is None else spoiler_limit
    may_reply = viewer.is_authenticated and permissions.can_reply(viewer, thread)
    muted = viewer.muted_user_ids
    cards = []
    for post in posts:
        can_edit = permissions.can_edit_post(viewer, post, thread)
        shows_text = permissions.can_see_post_text(viewer, post, thread)
        body, withheld, reveal_url = _body_for(post, limit) if shows_text else ("", None, "")
        cards.append(
            PostCard(
                post=post,
                author=author_of(post.author, authors),
                url=link("threads.permalink", post_id=post.id),
                posted=Moment.of(post.created_at, now),
                edited=long_date(post.edited_at) if post.edited_at and not post.is_deleted else "",
                shows_text=shows_text,
                body=body,
                withheld_episode=withheld,
                reveal_url=reveal_url,
                edit_url=link("threads.edit", post_id=post.id) if can_edit else None,
                delete_url=link("threads.delete", post_id=post.id) if can_edit else None,
                revisions_url=link("history.revisions", post_id=post.id)
                if permissions.can_see_revisions(viewer, post, thread)
                else None,
                report_url=link("reports.report", post_id=post.id)
                if permissions.can_report(viewer, post)
                else None,
                can_moderate=moderator,
                quote_url=link("quoting.quote", post_id=post.id)
                if may_reply
                and shows_text
                and withheld is None
                and not post.is_deleted
                and not post.is_hidden
                else None,
                author_muted=post.author_id in muted,
                first_unread=last_read is not None and post.number == last_read + 1,
            )
        )
    return cards


def _body_for(post: Post, limit: int) -> tuple[str, str | None, str]:
    """(HTML to print, the episode code when the whole post is withheld, the reveal URL).
    Authors get no exemption: a moderator's edit may have added what they haven't seen."""
    if post.episode_key is not None and post.episode_key > limit:
        return "", code_of(post.episode_key), link("threads.reveal", post_id=post.id)
    if "data-episode" not in post.html:  # the common case: no episode spoiler in the post
        return post.html, None, ""
    reveal_url = link("threads.reveal", post_id=post.id)
    return withhold(post.html, limit, reveal_url), None, reveal_url


@dataclass(frozen=True, slots=True)
class ThreadRow:
    """A thread in a board's list."""

    thread: Thread
    # The title as this viewer may see it: masked ("Episode thread for S1E8 · you're at
    # S1E6") for an episode they haven't reached (forum/access/spoilers.py).
    title: str
    masked: bool
    url: str
    author: Author | None
    started: Moment
    last_post_url: str | None  # None: the thread has no posts left to link to
    last_poster: Author | None
    last_posted: Moment
    # Hidden by a moderator: only the board's moderators get such rows, marked "Hidden".
    hidden: bool
    # Unread tracking, for members: the thread has posts they haven't read (bold), how many
    # (0 with `unread` set: a thread they never opened, "new"), and where to jump.
    unread: bool = False
    new_posts: int = 0
    unread_url: str | None = None


def unread_posts(thread: Thread, state: ThreadState | None, viewer: Viewer) -> tuple[bool, int]:
    """(unread, how many new posts) for a member's row of `thread`: a thread they read up to
    its last post, muted (or on a board they muted, unless they chose to follow the thread), or
    with nothing newer than their "mark all read" is read; one they never opened is unread
    ("new", 0) when it had a post since they joined."""
    if viewer.user is None or (state is not None and state.level == WatchLevel.MUTED):
        return False, 0
    if viewer.board_level(thread.board_id) == WatchLevel.MUTED and not (
        state is not None and state.level_chosen
    ):
        return False, 0  # a muted board's threads don't call for attention
    floor = viewer.read_floor(thread.board_id)
    if floor is not None and thread.last_post_at <= floor:
        return False, 0
    if state is None:
        return thread.last_post_at > viewer.user.created_at, 0
    new = thread.post_count - state.last_read_number
    return new > 0, max(new, 0)


def thread_rows(
    threads: Sequence[Thread],
    viewer: Viewer,
    states: Mapping[int, ThreadState] | None = None,
) -> list[ThreadRow]:
    """One row per thread (author and last poster loaded), titles masked for `viewer`;
    `states`: the member's ThreadState rows by thread id (reading.BoardListing.states)."""
    now = datetime.now(UTC)
    authors: dict[int, Author] = {}
    titles = [spoilers.thread_title(viewer, thread) for thread in threads]
    unread = [unread_posts(thread, (states or {}).get(thread.id), viewer) for thread in threads]
    return [
        ThreadRow(
            thread=thread,
            title=title.text,
            masked=title.masked,
            url=link("threads.thread", thread_id=thread.id, slug=thread.slug),
            author=author_of(thread.author, authors),
            started=Moment.of(thread.created_at, now),
            last_post_url=link("threads.permalink", post_id=thread.last_post_id)
            if thread.last_post_id
            else None,
            last_poster=author_of(thread.last_poster, authors),
            last_posted=Moment.of(thread.last_post_at, now),
            hidden=thread.is_hidden,
            unread=is_unread,
            new_posts=new_posts,
            unread_url=link("unread.thread", thread_id=thread.id) if is_unread else None,
        )
        for thread, title, (is_unread, new_posts) in zip(threads, titles, unread, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class IndexRow:
    """A board on the index with its latest post, titled as the viewer may see it."""

    board: Board
    latest: Post | None
    latest_title: str


def index_rows(entries: Sequence[tuple[Board, Post | None]], viewer: Viewer) -> list[IndexRow]:
    return [
        IndexRow(
            board,
            latest,
            spoilers.thread_title(viewer, latest.thread).text if latest is not None else "",
        )
        for board, latest in entries
    ]


@dataclass(frozen=True, slots=True)
class ActivityItem:
    """One of a member's recent posts on their profile, as the viewer may see it."""

    post: Post
    url: str
    thread_title: str
    body: str
    withheld_episode: str | None
    reveal_url: str


def shown_post(post: Post, viewer: Viewer) -> ActivityItem:
    """One post (thread loaded) shown outside its thread, e.g. on the report form: as a
    profile shows it, title masked and spoilers withheld."""
    return activity_items([post], viewer)[0]


def activity_items(posts: Sequence[Post], viewer: Viewer) -> list[ActivityItem]:
    """Recent posts (threads loaded): titles masked and spoilers withheld per board."""
    items = []
    for post in posts:
        thread = post.thread
        title = spoilers.thread_title(viewer, thread)
        body, withheld, reveal_url = _body_for(post, viewer.spoiler_limit(thread.board_id))
        if title.masked and withheld is None:
            # The post isn't about a later episode, but its thread is masked (show news, or a
            # thread tied to an episode later than its posts): its text goes with its title.
            withheld = title.episode_code or "news"
            body, reveal_url = "", link("threads.reveal", post_id=post.id)
        items.append(
            ActivityItem(
                post,
                link("threads.permalink", post_id=post.id),
                title.text,
                body,
                withheld,
                reveal_url,
            )
        )
    return items
