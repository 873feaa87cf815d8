"""Who has seen which episode: the spoiler rules for one viewer.

A member's watch progress per show rides on their user row (`users.watch_progress`), and the
site's episodes (their keys and air dates) are cached per process with the site settings
(forum/platform/settings.py), so a viewer's spoiler limits cost no statement on any page.

A viewer's *limit* on a board is the key of the last episode they have seen
(forum/discussion/episode_codes.py); anything tied to a later episode is masked for them:

- a member who chose "show me everything": no limit (CAUGHT_UP) on any board;
- a member who set their progress on the board: that progress;
- everyone else (visitors, and members who haven't said): the *visitor boundary*, the last
  episode such that it and every episode before it aired more than SPOILER_GRACE_DAYS ago.
  An episode with no air date counts as not aired. A board without episodes has a boundary of
  NOTHING_WATCHED, so a `>!S2E1: ...!<` spoiler written there is hidden until asked for.

Loaders keep every row (a thread tied to a later episode still shows in lists); presenters
mask what the limit says (forum/discussion/presenting.py), and the text withheld is never in
the bytes sent: spoiler spans are cut out of the stored HTML (discussion/spoiler_html.py).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.access.viewer import Viewer
from forum.discussion.episode_codes import (
    CAUGHT_UP,
    CODE,
    NOTHING_WATCHED,
    code_of,
    key_of,
    parse_code,
)
from forum.models import Episode, Post, Thread, User
from forum.platform.text import slugify


@dataclass(frozen=True, slots=True)
class EpisodeInfo:
    board_id: int
    key: int
    code: str
    title: str
    aired: date | None


# eq=False: hashed by identity, so the per-day answers below are cached per catalogue (a new
# catalogue is loaded whenever episodes change).
@dataclass(frozen=True, eq=False)
class Catalogue:
    """Every board's episodes in key order, as the spoiler rules need them."""

    by_board: Mapping[int, tuple[EpisodeInfo, ...]]

    def of(self, board_id: int) -> tuple[EpisodeInfo, ...]:
        return self.by_board.get(board_id, ())

    def visitor_limits(self, today: date, grace_days: int) -> Mapping[int, int]:
        """The visitor boundary of every board that has episodes."""
        return _visitor_limits(self, today, grace_days)

    def epoch(self, today: date, grace_days: int) -> int:
        """How many episodes have left the grace period by `today`: the visitor boundaries
        change only when this does, so the page cache keys anonymous pages by it."""
        return bisect_right(_grace_ends(self, grace_days), today)

    def caught_up_key(self, board_id: int, today: date) -> int:
        """What "I'm caught up" means on a board: its last episode aired by `today` (a new
        one airing later is news to the member), or CAUGHT_UP for a board without dates."""
        aired = [e.key for e in self.of(board_id) if e.aired is not None and e.aired <= today]
        return aired[-1] if aired else CAUGHT_UP


# Worked out once per catalogue and day (every page asks), not per request.
@lru_cache(maxsize=8)
def _visitor_limits(catalogue: Catalogue, today: date, grace_days: int) -> Mapping[int, int]:
    cutoff = today - timedelta(days=grace_days)
    limits = {}
    for board_id, episodes in catalogue.by_board.items():
        limit = NOTHING_WATCHED
        for episode in episodes:
            if episode.aired is None or episode.aired > cutoff:
                break
            limit = episode.key
        limits[board_id] = limit
    return MappingProxyType(limits)


@lru_cache(maxsize=8)
def _grace_ends(catalogue: Catalogue, grace_days: int) -> Sequence[date]:
    return tuple(
        sorted(
            episode.aired + timedelta(days=grace_days)
            for episodes in catalogue.by_board.values()
            for episode in episodes
            if episode.aired is not None
        )
    )


EMPTY_CATALOGUE = Catalogue(MappingProxyType({}))


def key_among(episodes: Sequence[EpisodeInfo], code: str | None) -> int | None:
    """The key of the episode `code` ("S1E6", "s01e06") names among `episodes` (a board's);
    None when it names none of them."""
    key = parse_code(code or "")
    return key if key is not None and any(e.key == key for e in episodes) else None


def load_catalogue(session: Session) -> Catalogue:
    """Every board's episodes, in one statement."""
    rows = session.execute(
        select(
            Episode.board_id, Episode.season, Episode.number, Episode.title, Episode.aired
        ).order_by(Episode.board_id, Episode.season, Episode.number)
    ).all()
    by_board: dict[int, list[EpisodeInfo]] = {}
    for board_id, season, number, title, aired in rows:
        key = key_of(season, number)
        by_board.setdefault(board_id, []).append(
            EpisodeInfo(board_id, key, code_of(key), title, aired)
        )
    return Catalogue(MappingProxyType({b: tuple(e) for b, e in by_board.items()}))


def progress_of(user: User) -> dict[int, int]:
    """A member's own watch progress by board id (what they set; nothing for other boards)."""
    return {int(board_id): int(key) for board_id, key in (user.watch_progress or {}).items()}


def with_limits(viewer: Viewer, catalogue: Catalogue, today: date, grace_days: int) -> Viewer:
    """`viewer` with their spoiler limit on every board worked out."""
    user = viewer.user
    if user is not None and user.sees_all_spoilers:
        return replace(
            viewer,
            spoiler_default=CAUGHT_UP,
            progress=MappingProxyType(progress_of(user)),
            hides_news=user.hides_show_news,
        )
    limits = catalogue.visitor_limits(today, grace_days)
    progress: Mapping[int, int] = {}
    if user is not None and user.watch_progress:
        progress = progress_of(user)
        limits = MappingProxyType({**limits, **progress})
    return replace(
        viewer,
        spoiler_limits=limits,
        progress=MappingProxyType(dict(progress)),
        hides_news=user is not None and user.hides_show_news,
    )


@dataclass(frozen=True, slots=True)
class ShownTitle:
    """A thread's title as one viewer may see it."""

    text: str
    masked: bool
    # Why it is masked, for the warning: the episode's code, or None for show news.
    episode_code: str | None = None


def thread_title(viewer: Viewer, thread: Thread, revealed: bool = False) -> ShownTitle:
    """The title, or a mask that names the episode and where the viewer is, never the title.
    `revealed`: the viewer asked to see this one thread anyway. Authors get no exemption: a
    moderator may have renamed the thread, and the site opens episode threads as an admin."""
    if revealed:
        return ShownTitle(thread.title, False)
    key = thread.episode_key
    if key is not None and key > viewer.spoiler_limit(thread.board_id):
        code = code_of(key)
        shown = f"Episode thread for {code} · {where_viewer_is(viewer, thread)}"
        return ShownTitle(shown, True, code)
    if thread.is_news and viewer.hides_news:
        return ShownTitle("Show news · hidden by your settings", True)
    return ShownTitle(thread.title, False)


def where_viewer_is(viewer: Viewer, thread: Thread) -> str:
    progress = viewer.progress.get(thread.board_id)
    if progress is None:
        return "new or not aired yet · set your progress" if viewer.user else "new or not aired yet"
    if progress == NOTHING_WATCHED:
        return "you haven't started"
    return f"you're at {code_of(progress)}"


def thread_slug(title: str, episode_key: int | None, is_news: bool) -> str:
    """The slug a thread's links carry. Links show on every page the thread is listed on (and
    in the redirect to its canonical URL), so a thread that may be masked gets a slug from its
    episode ("s1e8") or "news" instead of its title."""
    if episode_key is not None:
        return code_of(episode_key).lower()
    return "news" if is_news else slugify(title)


def thread_may_be_masked(thread: Thread) -> bool:
    return thread.episode_key is not None or thread.is_news


def public_thread_label(thread: Thread) -> str:
    """What public pages that show a thread to everyone alike (the moderation log) call it:
    its title, unless some reader may have it masked."""
    if not thread_may_be_masked(thread):
        return thread.title
    return f"{thread_episode_label(thread.episode_key, thread.is_news)} thread"


def thread_episode_label(episode_key: int | None, is_news: bool) -> str:
    parts = [code_of(episode_key)] if episode_key is not None else []
    if is_news:
        parts.append("show news")
    return " ".join(parts) if parts else "no episode"


_SOURCE_SPOILER = re.compile(rf">!\s*{CODE.pattern}\s*:")


def source_spoils(source: str, limit: int) -> bool:
    """Whether Markdown `source` holds an episode spoiler (`>!S1E8: ...!<`) beyond `limit`:
    for pages that show a post's source rather than its stored HTML (the edit history)."""
    return any(
        key_of(int(season), int(number)) > limit
        for season, number in _SOURCE_SPOILER.findall(source)
    )


def spoils(viewer: Viewer, board_id: int, key: int | None) -> bool:
    """Whether something tied to episode `key` on board `board_id` is beyond `viewer`."""
    return key is not None and key > viewer.spoiler_limit(board_id)


def thread_page_limit(viewer: Viewer, thread: Thread, revealed: bool) -> int:
    """The last episode a thread page may show spoilers of: the viewer's own limit, raised to
    the thread's episode when they asked to see this thread anyway."""
    limit = viewer.spoiler_limit(thread.board_id)
    if revealed and thread.episode_key is not None:
        limit = max(limit, thread.episode_key)
    return limit


def offers_watched_button(viewer: Viewer, thread: Thread) -> bool:
    """Whether an episode thread offers "I've watched this": to a member whose own progress
    is before its episode."""
    if viewer.user is None or thread.episode_key is None:
        return False
    return viewer.progress.get(thread.board_id, NOTHING_WATCHED) < thread.episode_key


def history_withheld(
    viewer: Viewer, post: Post, thread: Thread, sources: Iterable[str], revealed: bool
) -> bool:
    """Whether a post's edit history (Markdown `sources`, which no stored HTML masks) is
    withheld from `viewer`: it holds a spoiler beyond them, and they didn't ask to see it."""
    if revealed:
        return False
    limit = viewer.spoiler_limit(thread.board_id)
    return (
        thread_title(viewer, thread).masked
        or spoils(viewer, thread.board_id, post.episode_key)
        or any(source_spoils(source, limit) for source in sources)
    )
