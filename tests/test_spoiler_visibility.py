"""visibility.unspoiled_posts / unspoiled_threads (SQL) agree with spoilers.spoils (Python) for
viewers with every kind of spoiler limit, over threads and posts tied to episodes before, at and
after those limits on two boards. Lists that print text to someone who didn't ask (a profile,
later search and feeds) filter with them."""

from __future__ import annotations

from types import MappingProxyType

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.access import spoilers
from forum.access.viewer import VISITOR, Viewer
from forum.access.visibility import unspoiled_posts, unspoiled_threads
from forum.discussion import posting
from forum.discussion.episode_codes import CAUGHT_UP, key_of
from forum.models import Post, Thread
from tests.conftest import Factory

EPISODES = (None, key_of(1, 3), key_of(1, 6), key_of(1, 8), key_of(2, 1))


def viewers(here: int, there: int) -> dict[str, Viewer]:
    return {
        "visitor (sees no episode)": VISITOR,
        "at S1E6 here only": Viewer(spoiler_limits=MappingProxyType({here: key_of(1, 6)})),
        "at S1E6 here, S2E1 there": Viewer(
            spoiler_limits=MappingProxyType({here: key_of(1, 6), there: key_of(2, 1)})
        ),
        "nothing watched here, default S1E8": Viewer(
            spoiler_limits=MappingProxyType({here: 0}), spoiler_default=key_of(1, 8)
        ),
        "sees everything": Viewer(spoiler_default=CAUGHT_UP),
    }


@pytest.fixture
def world(db: Session, make: Factory) -> tuple[list[Thread], list[Post], dict[str, Viewer]]:
    here, there = make.board("here"), make.board("there")
    author = make.user("ann")
    threads, posts = [], []
    for board in (here, there):
        for thread_key in EPISODES:
            thread = posting.create_thread(
                db, board, author, "T", "opening", episode_key=thread_key
            )
            threads.append(thread)
            for post_key in EPISODES:
                posts.append(posting.add_post(db, thread, author, "reply", episode_key=post_key))
    db.flush()
    return threads, posts, viewers(here.id, there.id)


@pytest.mark.parametrize(
    "who",
    [
        "visitor (sees no episode)",
        "at S1E6 here only",
        "at S1E6 here, S2E1 there",
        "nothing watched here, default S1E8",
        "sees everything",
    ],
)
def test_sql_agrees_with_the_predicate(
    db: Session, world: tuple[list[Thread], list[Post], dict[str, Viewer]], who: str
) -> None:
    threads, posts, everyone = world
    viewer = everyone[who]
    boards = {thread.id: thread.board_id for thread in threads}
    expected_threads = {
        t.id for t in threads if not spoilers.spoils(viewer, t.board_id, t.episode_key)
    }
    found_threads = set(
        db.scalars(select(Thread.id).where(Thread.id.in_(boards), unspoiled_threads(viewer)))
    )
    assert found_threads == expected_threads
    expected_posts = {
        p.id for p in posts if not spoilers.spoils(viewer, boards[p.thread_id], p.episode_key)
    }
    found_posts = set(
        db.scalars(
            select(Post.id)
            .join(Post.thread)
            .where(Post.id.in_([p.id for p in posts]), unspoiled_posts(viewer))
        )
    )
    assert found_posts == expected_posts
    # Written out, so a filter and a predicate wrong in the same way still fail: a reply keeps
    # at least its thread's episode, so a visitor (no episode seen) reads only the one reply
    # about no episode in the thread about none, on each board.
    if who == "visitor (sees no episode)":
        assert len(found_posts) == 2
    if who == "sees everything":
        assert found_posts == {p.id for p in posts}
