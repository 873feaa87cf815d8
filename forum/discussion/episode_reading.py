"""The episode guide (/b/<slug>/episodes): a board's seasons and episodes as one viewer may see
them, loaded in two statements whoever is looking (the board; its episodes with their official
threads), so a member's progress costs nothing: it rides on the Viewer (forum/access/spoilers.py).

Rows come out ready to print (a media tracker's spoiler mode): an episode beyond the viewer's
spoiler limit has its title replaced here, so the template never holds it; links and dates
are worked out here too, so the template's loop calls nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from forum.access.viewer import Viewer
from forum.access.visibility import visible_threads
from forum.discussion.episode_codes import NOTHING_WATCHED, code_of, key_of
from forum.discussion.reading import board_by_slug
from forum.models import Board, Episode, Thread, utcnow
from forum.platform.links import link

HIDDEN_TITLE = "Title hidden"


@dataclass(frozen=True, slots=True)
class GuideEpisode:
    key: int
    code: str
    # The title, or HIDDEN_TITLE for an episode past the viewer's spoiler limit.
    title: str
    title_hidden: bool
    aired_text: str  # "26 August 2022", "Not aired yet", "Date unknown"
    aired_iso: str | None  # for <time datetime>, when there is a date
    # The official discussion thread, when it is open and the viewer may see it.
    thread_url: str | None
    reply_count: int
    watched: bool  # at or before the viewer's own progress


@dataclass(frozen=True, slots=True)
class GuideSeason:
    number: int
    episodes: tuple[GuideEpisode, ...]


@dataclass(frozen=True)
class EpisodeGuide:
    board: Board
    seasons: tuple[GuideSeason, ...]


def air_date_text(aired: date | None, today: date) -> str:
    if aired is None:
        return "Date unknown"
    if aired > today:
        return "Not aired yet"
    return f"{aired.day} {aired:%B %Y}"


def episode_guide(
    session: Session, viewer: Viewer, slug: str, today: date | None = None
) -> EpisodeGuide | None:
    """The guide of the board at `slug` for `viewer`, or None when there is no such board.
    `today` (UTC by default) decides which episodes have aired."""
    today = today or utcnow().date()
    board = board_by_slug(session, slug)
    if board is None:
        return None
    rows = session.execute(
        select(
            Episode.season,
            Episode.number,
            Episode.title,
            Episode.aired,
            Thread.id,
            Thread.slug,
            Thread.post_count,
        )
        .outerjoin(
            Thread,
            and_(Thread.id == Episode.thread_id, visible_threads(viewer, board.id)),
        )
        .where(Episode.board_id == board.id)
        .order_by(Episode.season, Episode.number)
    ).all()
    limit = viewer.spoiler_limit(board.id)
    progress = viewer.progress.get(board.id, NOTHING_WATCHED)
    seasons: dict[int, list[GuideEpisode]] = {}
    for season, number, title, aired, thread_id, thread_slug, post_count in rows:
        key = key_of(season, number)
        hidden = key > limit
        seasons.setdefault(season, []).append(
            GuideEpisode(
                key=key,
                code=code_of(key),
                title=HIDDEN_TITLE if hidden else title,
                title_hidden=hidden,
                aired_text=air_date_text(aired, today),
                aired_iso=aired.isoformat() if aired is not None else None,
                thread_url=(
                    link("threads.thread", thread_id=thread_id, slug=thread_slug)
                    if thread_id is not None
                    else None
                ),
                reply_count=max((post_count or 0) - 1, 0),
                watched=key <= progress,
            )
        )
    return EpisodeGuide(
        board, tuple(GuideSeason(number, tuple(eps)) for number, eps in seasons.items())
    )
