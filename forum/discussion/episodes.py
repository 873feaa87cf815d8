"""A board's episodes: saved from the show file or an admin's form, and the official discussion
thread each one gets when it airs.

Episodes are upserted by (season, number) and never deleted or renumbered, so the key threads
and posts carry stays valid (forum/discussion/episode_codes.py). Every write here is site-wide
for the page cache: the episode catalogue is cached per process with the site settings
(forum/platform/settings.py) and feeds every page's spoiler limits (forum/access/spoilers.py).

Opening threads may run in two places at once (the periodic job on two workers, an admin's
button during a job run): the episode rows are locked (SELECT ... FOR UPDATE on PostgreSQL;
SQLite's writers are serialised by BEGIN IMMEDIATE, forum/db.py) and `thread_id` checked again
under the lock, so an episode never gets two threads. Nothing here commits, except the job.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from huey import crontab
from sqlalchemy import case, or_, select, update
from sqlalchemy.orm import Session

from forum.access.spoilers import (
    public_thread_label,
    thread_episode_label,
    thread_may_be_masked,
    thread_slug,
)
from forum.db import db_session
from forum.discussion import posting
from forum.discussion.episode_codes import MAX_NUMBER, MAX_SEASON, code_of
from forum.models import Board, Episode, ModAction, Post, Role, Thread, User, utcnow
from forum.platform import freshness, jobs
from forum.staff import moderation

log = logging.getLogger(__name__)

MAX_TITLE = 200
# Thread titles are at most 150 characters (forum/discussion/forms.py).
MAX_THREAD_TITLE = 150


@dataclass(frozen=True)
class EpisodeEntry:
    """One episode as the show file or a form gives it, already checked (see `problem_with`)."""

    season: int
    number: int
    title: str
    aired: date | None = None


class EpisodeCounts(NamedTuple):
    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class Opened:
    """What `open_aired_threads` did: the threads it opened, or why it opened none (empty when
    there was simply nothing to open)."""

    opened: list[Thread] = field(default_factory=list)
    reason: str = ""


def problem_with(season: object, number: object, title: object) -> tuple[str, str] | None:
    """(field, message) for the first value out of range, or None. Shared by the show file
    (which adds the line) and `save_episode`."""
    for name, value, high in (("season", season, MAX_SEASON), ("number", number, MAX_NUMBER)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
            return name, f"must be a whole number from 1 to {high}"
    if not isinstance(title, str) or not title.strip():
        return "title", "must be a non-empty string"
    if len(title.strip()) > MAX_TITLE:
        return "title", f"is longer than {MAX_TITLE} characters"
    return None


# ------------------------------------------------------------------------------ saving


def upsert_episodes(
    session: Session, board: Board, entries: Iterable[EpisodeEntry], *, keep_existing: bool = False
) -> EpisodeCounts:
    """Create or update `board`'s episodes by (season, number); with keep_existing, only create
    the missing ones. Never deletes. Declares a site-wide change when anything changed, and
    writes nothing for episodes already equal to `entries`."""
    existing = {
        (episode.season, episode.number): episode
        for episode in session.scalars(select(Episode).where(Episode.board_id == board.id))
    }
    created = updated = unchanged = 0
    for entry in entries:
        episode = existing.get((entry.season, entry.number))
        if episode is None:
            episode = Episode(
                board_id=board.id,
                season=entry.season,
                number=entry.number,
                title=entry.title,
                aired=entry.aired,
            )
            session.add(episode)
            existing[(entry.season, entry.number)] = episode
            created += 1
        elif keep_existing or (episode.title, episode.aired) == (entry.title, entry.aired):
            unchanged += 1
        else:
            episode.title, episode.aired = entry.title, entry.aired
            updated += 1
    if created or updated:
        session.flush()
        freshness.changed(session, site=True)
    return EpisodeCounts(created, updated, unchanged)


def save_episode(
    session: Session,
    actor: User,
    board: Board,
    season: int,
    number: int,
    title: str,
    aired: date | None,
) -> Episode:
    """An admin's form: create or update one episode, logged (SAVE_EPISODE). Raises ValueError
    for values out of range (the form checks them first, with the same `problem_with`)."""
    problem = problem_with(season, number, title)
    if problem is not None:
        raise ValueError(f"{problem[0]} {problem[1]}")
    title = title.strip()
    episode = session.scalar(
        select(Episode).where(
            Episode.board_id == board.id, Episode.season == season, Episode.number == number
        )
    )
    if episode is None:
        episode = Episode(board_id=board.id, season=season, number=number)
        session.add(episode)
    episode.title, episode.aired = title, aired
    session.flush()
    when = f"aired {aired.isoformat()}" if aired is not None else "no air date"
    moderation.log_action(
        session,
        actor,
        moderation.LoggedAction.SAVE_EPISODE,
        target=board,
        # The log is public: an episode's title may spoil it (the guide hides it from those
        # who haven't reached it), so the log names the episode by code and date only.
        details=f"{episode.code}, {when}",
    )
    freshness.changed(session, site=True)
    return episode


# ------------------------------------------------------------------------------ threads


def thread_title(episode: Episode) -> str:
    """ "S1E3 discussion: Episode 3", the episode's title shortened to fit a thread title."""
    prefix = f"{episode.code} discussion: "
    room = MAX_THREAD_TITLE - len(prefix)
    title = episode.title if len(episode.title) <= room else episode.title[: room - 1] + "\u2026"
    return prefix + title


def opening_post(episode: Episode) -> str:
    """The official thread's first post, in Markdown. The spoiler syntax is shown as code, so
    it is printed rather than turned into a spoiler."""
    aired = f"{episode.aired.day} {episode.aired:%B %Y}" if episode.aired else "an unknown date"
    later = code_of(episode.key + 1)
    return (
        f"**{episode.code}: {episode.title}** aired on {aired}.\n\n"
        f"This is the official discussion thread: discuss the show up to this episode here. "
        f"Tag anything from a later episode as a spoiler, like `>!{later}: what happens!<`, "
        f"so that fans who haven't seen it yet can read on safely."
    )


def first_admin(session: Session) -> User | None:
    return session.scalar(
        select(User).where(User.role == Role.ADMIN.value).order_by(User.id).limit(1)
    )


def open_aired_threads(
    session: Session,
    today: date,
    *,
    board: Board | None = None,
    opener: User | None = None,
) -> Opened:
    """Open the official thread of every episode (of `board`, or of every board not archived)
    that aired by `today` and has none yet. The author is `opener` (an admin pressing a
    button: logged, one OPEN_EPISODE_THREADS row per board) or else the first admin by id; with
    no admin at all nothing is opened and `reason` says why. Never commits."""
    if board is not None and board.is_archived:
        return Opened([], f"{board.name} is archived: its threads are closed.")
    author = opener or first_admin(session)
    if author is None:
        return Opened([], "there is no admin account to open threads as (flask users create).")
    due = (
        select(Episode)
        .join(Board, Board.id == Episode.board_id)
        .where(Episode.aired.is_not(None), Episode.aired <= today, Episode.thread_id.is_(None))
        .order_by(Episode.id)
        # Locks the rows until the commit: a run that overlaps waits here, then finds the
        # threads set (PostgreSQL re-reads a locked row's WHERE; SQLite never overlaps).
        .with_for_update(of=Episode)
        .execution_options(populate_existing=True)
    )
    due = due.where(Episode.board_id == board.id) if board else due.where(~Board.is_archived)
    episodes = list(session.scalars(due))
    board_ids = {episode.board_id for episode in episodes}
    boards = (
        {b.id: b for b in session.scalars(select(Board).where(Board.id.in_(board_ids)))}
        if board_ids
        else {}
    )
    opened: list[Thread] = []
    by_board: dict[int, list[str]] = {}
    for episode in episodes:
        if episode.thread_id is not None:  # opened by a run that held the lock before us
            continue
        thread = posting.create_thread(
            session,
            boards[episode.board_id],
            author,
            thread_title(episode),
            opening_post(episode),
            episode_key=episode.key,
        )
        episode.thread_id = thread.id
        opened.append(thread)
        by_board.setdefault(episode.board_id, []).append(episode.code)
    if opened:
        session.flush()
        freshness.changed(session, site=True)
    if opener is not None:
        for board_id, codes in by_board.items():
            moderation.log_action(
                session,
                opener,
                moderation.LoggedAction.OPEN_EPISODE_THREADS,
                target=boards[board_id],
                details=", ".join(codes),
            )
    return Opened(opened)


# Every 15 minutes: an episode's thread is open soon after its air date begins (UTC).
@jobs.periodic(crontab(minute="*/15"))
def open_episode_threads() -> None:
    """Periodic: open the threads of episodes that have aired, and commit."""
    session = db_session()
    result = open_aired_threads(session, utcnow().date())
    if result.reason:
        log.warning("episode threads not opened: %s", result.reason)
    for thread in result.opened:
        log.info("opened episode thread %s (board %s)", thread.id, thread.board_id)
    session.commit()


# ------------------------------------------------------------------------------ a thread's episode


def set_thread_episode(
    session: Session,
    actor: User,
    thread: Thread,
    episode_key: int | None,
    is_news: bool,
    reason: str = "",
) -> bool:
    """A moderator ties `thread` to an episode (or to none) and marks it as show news or not,
    logged; False when nothing changed (nothing is logged then). The thread's slug follows, so
    its links never carry a title that may be masked, and so do its earlier log rows."""
    if thread.episode_key == episode_key and thread.is_news == is_news:
        return False
    before = thread_episode_label(thread.episode_key, thread.is_news)
    if episode_key is not None:
        # Its posts discuss the new episode at least. A post's episode is never lowered: a
        # post its author marked as discussing S1E8 (or that quotes one) stays about S1E8
        # wherever the thread is moved to.
        session.execute(
            update(Post)
            .where(
                Post.thread_id == thread.id,
                or_(Post.episode_key.is_(None), Post.episode_key < episode_key),
            )
            .values(episode_key=episode_key)
        )
    thread.episode_key, thread.is_news = episode_key, is_news
    thread.slug = thread_slug(thread.title, episode_key, is_news)
    if thread_may_be_masked(thread):
        # The public log named it by its title until now: those rows name its episode too,
        # and a rename's old title goes.
        session.execute(
            update(ModAction)
            .where(ModAction.target_thread_id == thread.id)
            .values(
                target_label=public_thread_label(thread),
                details=case(
                    (ModAction.action == moderation.LoggedAction.RENAME_THREAD.value, ""),
                    else_=ModAction.details,
                ),
            )
        )
    moderation.log_action(
        session,
        actor,
        moderation.LoggedAction.SET_THREAD_EPISODE,
        target=thread,
        reason=reason,
        details=f"from {before} to {thread_episode_label(episode_key, is_news)}",
    )
    return True
