"""The index's "Latest" column and a member's profile print only what their viewer may see.

- The index prints each board's denormalised latest post (Board.last_post): its thread's title
  and its author. Should that post ever sit in a thread the viewer may not see (a counter that
  drifted, a rule added later), the title must not reach them.
- Defect 13: a profile's post count included deleted posts. It now counts the posts the viewer
  may read, the same ones its recent posts list.
"""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session

from forum.discussion import posting
from forum.models import Role, Thread
from forum.staff import moderation
from tests.conftest import Factory, browser_for, moderator_of

SECRET_TITLE = "Quetzalcoatl finale leak"


def test_the_index_never_prints_a_latest_post_from_a_thread_hidden_from_the_viewer(
    app: Flask, db: Session, make: Factory
) -> None:
    board = make.board("severance", name="Severance")
    thread = make.thread(board, author=make.user("leaker_lou"), title=SECRET_TITLE)
    # The board row still names the thread's post as its latest: what a drifted counter (or a
    # later rule, such as spoiler protection) would leave behind.
    db.execute(update(Thread).where(Thread.id == thread.id).values(is_hidden=True))
    db.commit()

    visitor = browser_for(app).get("/").get_data()
    member = browser_for(app, make.user("member_max")).get("/").get_data()
    moderator = browser_for(app, moderator_of(make, db, board)).get("/").get_data()

    for page in (visitor, member):
        assert SECRET_TITLE.encode() not in page
        assert b"leaker_lou" not in page
        assert b"Severance" in page
    assert SECRET_TITLE.encode() in moderator


def test_the_index_prints_the_latest_post_everyone_may_see(
    app: Flask, db: Session, make: Factory
) -> None:
    board = make.board()
    make.thread(board, author=make.user("poster_pat"), title="Rewatch night")

    page = browser_for(app).get("/").get_data()

    assert b"Rewatch night" in page
    assert b"poster_pat" in page


def profile_count(page: bytes) -> int:
    found = re.search(rb"<span>([\d,]+) posts?</span>", page)
    assert found is not None
    return int(found.group(1).replace(b",", b""))


def test_a_profile_counts_and_lists_only_the_posts_its_viewer_may_read(
    app: Flask, db: Session, make: Factory
) -> None:
    board, elsewhere = make.board(), make.board()
    admin = make.user("admin_ada", role=Role.ADMIN)
    author = make.user("author_ann")
    thread = make.thread(board, author=author, body="Kept opening words")
    make.reply(thread, author, "Kept reply words")
    deleted = make.reply(thread, author, "Regretted deleted words")
    posting.delete_post(deleted)
    hidden = make.reply(thread, author, "Rude hidden words")
    moderation.set_post_hidden(db, admin, hidden, True, "Rude")
    secret = make.thread(
        elsewhere, author=author, title="Hidden thread title", body="Words in a hidden thread"
    )
    moderation.set_thread_hidden(db, admin, secret, True, "Spoilers")
    db.commit()

    people = {
        "visitor": None,
        "author": author,
        "board_moderator": moderator_of(make, db, board),
        "admin": admin,
    }
    pages = {
        who: browser_for(app, user).get("/u/author_ann").get_data() for who, user in people.items()
    }

    # Five posts written, one deleted by its author: the denormalised count says 5.
    for who in ("visitor", "author"):
        assert profile_count(pages[who]) == 2, who
        for words in (
            b"Regretted deleted words",
            b"Rude hidden words",
            b"Words in a hidden thread",
            b"Hidden thread title",
        ):
            assert words not in pages[who], (who, words)
        assert b"Kept reply words" in pages[who]
    # The board's moderator reads the hidden post there, not the thread hidden elsewhere.
    assert profile_count(pages["board_moderator"]) == 3
    assert b"Rude hidden words" in pages["board_moderator"]
    assert b"Words in a hidden thread" not in pages["board_moderator"]
    # An admin reads everything but the deleted post.
    assert profile_count(pages["admin"]) == 4
    assert b"Words in a hidden thread" in pages["admin"]
    assert b"Regretted deleted words" not in pages["admin"]
