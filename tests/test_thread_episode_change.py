"""A moderator ties a thread to an episode after the fact (episodes.set_thread_episode): its
posts that discussed the thread's episode follow, posts marked as discussing another episode
keep theirs, and a member before that episode no longer gets the posts' text anywhere."""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.discussion import episodes, posting
from forum.discussion.episode_codes import key_of
from forum.models import Post, Role
from forum.platform import freshness
from tests.conftest import Factory, browser_for


def episode_keys(db: Session, thread_id: int) -> dict[int, int | None]:
    rows = db.execute(select(Post.number, Post.episode_key).where(Post.thread_id == thread_id))
    return {number: key for number, key in rows}


def test_posts_follow_the_thread_to_its_new_episode(app: Flask, db: Session, make: Factory) -> None:
    board = make.board("partner-track")
    admin = make.user("admin_ada", role=Role.ADMIN)
    for number in range(1, 11):
        episodes.save_episode(db, admin, board, 1, number, f"Episode {number}", date(2022, 8, 26))
    author = make.user("fan_fay")
    thread = posting.create_thread(db, board, author, "That office scene", "OPENING-MARKER")
    posting.add_post(db, thread, author, "REPLY-MARKER")
    later = posting.add_post(db, thread, author, "LATER-MARKER", episode_key=key_of(1, 9))
    watcher = make.user("watcher_wes")
    watcher.watch_progress = {str(board.id): key_of(1, 6)}
    freshness.changed(db, site=True)
    db.flush()
    watching = browser_for(app, watcher)
    assert b"REPLY-MARKER" in watching.get(f"/u/{author.username}").data

    episodes.set_thread_episode(db, admin, thread, key_of(1, 8), False, "It's about S1E8")
    db.flush()

    keys = episode_keys(db, thread.id)
    assert keys == {1: key_of(1, 8), 2: key_of(1, 8), 3: later.episode_key}
    assert thread.slug == "s1e8"
    for url in (f"/u/{author.username}", f"/b/{board.slug}", "/", f"/t/{thread.id}/s1e8"):
        page = watching.get(url).data
        for marker in (b"OPENING-MARKER", b"REPLY-MARKER", b"LATER-MARKER", b"office scene"):
            assert marker not in page, (url, marker)
    # Moved back to an earlier episode, or untied: a post's episode is never lowered (the S1E8
    # talk in it stays about S1E8).
    episodes.set_thread_episode(db, admin, thread, key_of(1, 3), False, "Wrong episode")
    episodes.set_thread_episode(db, admin, thread, None, False, "Not about one episode")
    db.flush()
    assert episode_keys(db, thread.id) == {1: key_of(1, 8), 2: key_of(1, 8), 3: key_of(1, 9)}
    page = watching.get(f"/t/{thread.id}/{thread.slug}").data
    assert b"REPLY-MARKER" not in page and b"LATER-MARKER" not in page
