"""The SQL filters of forum/access/visibility.py give the same answers as the Python predicates
of forum/access/permissions.py, over a generated matrix: threads (normal, hidden) on a board the
moderator under test moderates and on another one, each with posts in every state (normal,
hidden by a moderator, deleted by its author, purged), seen by every kind of viewer.

A list page filters in SQL; a single page (a thread, a permalink) asks the predicates. If the
two drift apart, a list shows what the thread page refuses, or hides what it shows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from forum.access import permissions
from forum.access.viewer import Viewer, viewer_for
from forum.access.visibility import readable_posts, visible_posts, visible_threads
from forum.discussion import posting
from forum.models import Board, Post, Role, Thread, User, utcnow
from forum.staff import moderation
from tests.conftest import Factory, moderator_of

THREAD_STATES = ("normal", "hidden")
POST_STATES = ("normal", "hidden", "deleted", "purged")
VIEWERS = (
    "visitor",
    "member",
    "author",
    "board_moderator",  # of `here` only
    "other_board_moderator",  # of `elsewhere` only
    "global_moderator",
    "admin",
    "suspended_member",
    "suspended_board_moderator",  # of `here`, suspended site-wide: sees what members see
)


@dataclass(frozen=True)
class World:
    boards: list[Board]
    threads: list[Thread]
    posts: list[Post]
    people: dict[str, User | None]


def build_world(db: Session, make: Factory) -> World:
    here, elsewhere = make.board("here"), make.board("elsewhere")
    admin = make.user("admin_ada", role=Role.ADMIN)
    author = make.user("author_ann")
    people: dict[str, User | None] = {
        "visitor": None,
        "member": make.user("member_max"),
        "author": author,
        "board_moderator": moderator_of(make, db, here, name="mod_here"),
        "other_board_moderator": moderator_of(make, db, elsewhere, name="mod_there"),
        "global_moderator": moderator_of(make, db, name="mod_all"),
        "admin": admin,
        "suspended_member": make.user("suspended_sam"),
        "suspended_board_moderator": moderator_of(make, db, here, name="mod_benched"),
    }
    week = utcnow() + timedelta(days=7)
    for name in ("suspended_member", "suspended_board_moderator"):
        suspended = people[name]
        assert suspended is not None
        moderation.suspend(db, admin, suspended, week, "Spoilers")
    db.commit()

    threads, posts = [], []
    for board in (here, elsewhere):
        for thread_state in THREAD_STATES:
            thread = make.thread(board, author=author, title=f"{thread_state} on {board.slug}")
            opening = db.get_one(Post, thread.last_post_id)
            in_thread = {"normal": opening}
            for post_state in POST_STATES[1:]:
                in_thread[post_state] = make.reply(thread, author, f"{post_state} post")
            moderation.set_post_hidden(db, admin, in_thread["hidden"], True, "rude")
            posting.delete_post(in_thread["deleted"])
            moderation.purge_post(db, admin, in_thread["purged"])
            if thread_state == "hidden":
                moderation.set_thread_hidden(db, admin, thread, True, "off-topic")
            db.commit()
            threads.append(thread)
            posts.extend(in_thread.values())
    for row in [*threads, *posts]:
        db.refresh(row)
    return World([here, elsewhere], threads, posts, people)


@pytest.fixture
def world(app: Flask, db: Session, make: Factory) -> Iterator[World]:
    # The predicates read the app's settings (email verification): an app context throughout.
    with app.app_context():
        yield build_world(db, make)


def viewer_named(db: Session, world: World, who: str) -> Viewer:
    return viewer_for(db, world.people[who])


def thread_ids(db: Session, world: World, condition: ColumnElement[bool]) -> set[int]:
    ours = [thread.id for thread in world.threads]
    return set(db.scalars(select(Thread.id).where(Thread.id.in_(ours), condition)))


def post_ids(db: Session, world: World, condition: ColumnElement[bool]) -> set[int]:
    ours = [post.id for post in world.posts]
    return set(db.scalars(select(Post.id).join(Post.thread).where(Post.id.in_(ours), condition)))


def thread_of(world: World, post: Post) -> Thread:
    return next(thread for thread in world.threads if thread.id == post.thread_id)


def text_shown(viewer: Viewer, post: Post, thread: Thread) -> bool:
    """What the thread page prints the text of (templates/threads/thread.html)."""
    return permissions.can_see_thread(viewer, thread) and permissions.can_see_post_text(
        viewer, post, thread
    )


@pytest.mark.parametrize("who", VIEWERS)
def test_sql_filters_agree_with_the_predicates(db: Session, world: World, who: str) -> None:
    viewer = viewer_named(db, world, who)

    expected_threads = {t.id for t in world.threads if permissions.can_see_thread(viewer, t)}
    assert thread_ids(db, world, visible_threads(viewer)) == expected_threads
    for board in world.boards:
        on_board = {t.id for t in world.threads if t.board_id == board.id}
        found = thread_ids(db, world, visible_threads(viewer, board.id)) & on_board
        assert found == expected_threads & on_board, board.slug

    expected_posts = {
        p.id for p in world.posts if permissions.can_see_thread(viewer, thread_of(world, p))
    }
    assert post_ids(db, world, visible_posts(viewer)) == expected_posts

    expected_text = {p.id for p in world.posts if text_shown(viewer, p, thread_of(world, p))}
    assert post_ids(db, world, readable_posts(viewer)) == expected_text


# What each viewer sees, written out: the agreement above would also hold if the filters and
# the predicates were wrong in the same way. (thread state, post state) pairs per board.
STAFF_OF_HERE = {"board_moderator", "global_moderator", "admin"}
STAFF_OF_ELSEWHERE = {"other_board_moderator", "global_moderator", "admin"}


def readable_states(sees_hidden: bool) -> set[tuple[str, str]]:
    threads = THREAD_STATES if sees_hidden else ("normal",)
    posts = ("normal", "hidden") if sees_hidden else ("normal",)
    return {(thread, post) for thread in threads for post in posts}


@pytest.mark.parametrize("who", VIEWERS)
def test_each_viewer_reads_what_their_role_allows(db: Session, world: World, who: str) -> None:
    viewer = viewer_named(db, world, who)
    readable = post_ids(db, world, readable_posts(viewer))
    for board, staff in zip(world.boards, (STAFF_OF_HERE, STAFF_OF_ELSEWHERE), strict=True):
        found = set()
        for thread in (t for t in world.threads if t.board_id == board.id):
            for state, post in zip(
                POST_STATES, (p for p in world.posts if p.thread_id == thread.id), strict=True
            ):
                if post.id in readable:
                    found.add(("hidden" if thread.is_hidden else "normal", state))
        assert found == readable_states(who in staff), board.slug


def test_the_matrix_covers_every_state(world: World) -> None:
    states = {
        (t.is_hidden, p.is_hidden, p.is_deleted, p.source == "")
        for t in world.threads
        for p in world.posts
        if p.thread_id == t.id
    }
    # (thread hidden, post hidden, deleted, purged) for normal, hidden, deleted, purged posts
    assert states == {
        (hidden, *post)
        for hidden in (False, True)
        for post in (
            (False, False, False),
            (True, False, False),
            (False, True, False),
            (False, True, True),
        )
    }
