"""Suggestions under the header's search box (/search/suggest): threads whose titles hold every
word typed, and boards whose names do, as the fan types (static/js/app.js asks once typing
pauses; the page adds its own last option, "Search for ...", that runs the full search).

Three statements at most, whatever the forum's size: the boards, the newest thread's id, and
one page of titles from the SUGGEST_WINDOW newest threads. Words are compared as the engine
compares them, case and accents aside ("cafe", "café" and "CAFÉ" all find "Café Society"):
forum/search/search_folding.py folds the stored titles in SQL, and each row is checked
again with `search.normalise` in Python.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, false, func, select
from sqlalchemy.orm import Session

from forum.access import spoilers
from forum.access.viewer import Viewer
from forum.access.visibility import unspoiled_threads, visible_threads
from forum.discussion.reading import all_boards
from forum.models import Thread
from forum.platform.links import link
from forum.search import search
from forum.search.search_folding import contains_folded

# Threads and boards together.
SUGGESTION_CAP = 8
SUGGESTED_BOARDS = 3
# Suggestions start at this many characters: fewer match too much to help.
SUGGEST_MIN = 2
# Suggested threads come from this many of the newest (by id), so a suggestion costs the same
# at 5,000 threads as at 100,000.
SUGGEST_WINDOW = 5_000
# At most this many words of what was typed are looked for.
SUGGEST_WORDS = 5


@dataclass(frozen=True, slots=True)
class Suggestion:
    kind: str  # "thread" or "board"
    label: str
    url: str
    detail: str  # the thread's board; "Board" for a board


def suggestions(session: Session, viewer: Viewer, query: str) -> list[Suggestion]:
    """Threads whose titles hold every word typed (the last one as a prefix: the fan is
    still typing it) and boards whose names do. Only threads the viewer may see and whose
    titles don't spoil them."""
    words = [search.normalise(word) for word in re.findall(r"\w+", query)][:SUGGEST_WORDS]
    if len("".join(words)) < SUGGEST_MIN:
        return []
    boards = all_boards(session)
    by_id = {board.id: board for board in boards}
    board_hits = [board for board in boards if _name_has_all(board.name, words)]
    board_hits = board_hits[:SUGGESTED_BOARDS]
    threads = _titles(session, viewer, words, SUGGESTION_CAP - len(board_hits))
    found = [
        Suggestion("board", board.name, link("boards.board", slug=board.slug), "Board")
        for board in board_hits
    ]
    for thread in threads:
        title = spoilers.thread_title(viewer, thread)
        if title.masked:  # the SQL left these out; a title is never sent masked or not
            continue
        found.append(
            Suggestion(
                "thread",
                title.text,
                link("threads.thread", thread_id=thread.id, slug=thread.slug),
                by_id[thread.board_id].name,
            )
        )
    return found


def _name_has_all(name: str, words: Sequence[str]) -> bool:
    """Whether each of `words` (normalised) begins some word of `name`."""
    parts = re.findall(r"\w+", search.normalise(name))
    return all(any(part.startswith(word) for part in parts) for word in words)


def _titles(session: Session, viewer: Viewer, words: Sequence[str], limit: int) -> list[Thread]:
    """The latest active threads among the SUGGEST_WINDOW newest whose titles contain each
    word, visible and unspoiled. Titles have no index (LIKE '%word%' can't use one): an id
    range bounds the scan at any size, a few milliseconds; older threads are the search
    page's to find. The range's start is read first, so the planner sees a number: behind a
    subquery PostgreSQL guesses a third of the table and scans it all."""
    newest = session.scalar(select(func.max(Thread.id))) or 0
    conditions = [
        Thread.id > newest - SUGGEST_WINDOW,
        visible_threads(viewer),
        unspoiled_threads(viewer),
    ]
    if viewer.hides_news:
        conditions.append(Thread.is_news == false())
    conditions.extend(contains_folded(session, Thread.title, word) for word in words)
    rows = session.scalars(
        select(Thread).where(and_(*conditions)).order_by(Thread.last_post_at.desc()).limit(limit)
    ).all()
    # Whatever ILIKE and the fold let through, a title is offered only if normalise agrees.
    return [
        thread for thread in rows if all(word in search.normalise(thread.title) for word in words)
    ]
