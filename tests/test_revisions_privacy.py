"""Who may read a post's edit history (/p/<id>/revisions), which holds every version of its text.
A live post's history is public; once the post is deleted (even by its author) or hidden, only
moderators of its board and admins read it; once purged, nobody does. Checked on the raw bytes
of the response, so no version of the text can slip through in any markup."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.models import BoardModerator, Post, Role
from tests.conftest import Browserish, Factory

ORIGINAL = "Zebrafinch spoiler about the finale"
EDITED = "Marmalade spoiler about the finale"
VIEWERS = ("visitor", "member", "author", "board_moderator", "other_board_moderator", "admin")
STAFF = {"board_moderator", "admin"}

# state -> who reads the history (everyone else gets a 403 without the text)
ALLOWED: dict[str, set[str]] = {
    "normal": set(VIEWERS),
    "deleted": STAFF,
    "hidden": STAFF,
    "purged": set(),
}


def browser(app: Flask, username: str | None = None) -> Browserish:
    found = Browserish(app.test_client())
    if username is not None:
        found.login(username)
    return found


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("state", list(ALLOWED))
def test_edit_history_is_shown_only_to_those_who_may_read_the_text(
    app: Flask, db: Session, make: Factory, state: str, viewer: str
) -> None:
    board, elsewhere = make.board(), make.board()
    author = make.user("author_ann")
    people = {
        "member": make.user("member_max"),
        "author": author,
        "board_moderator": make.user("mod_here", role=Role.MODERATOR),
        "other_board_moderator": make.user("mod_there", role=Role.MODERATOR),
        "admin": make.user("admin_ada", role=Role.ADMIN),
    }
    db.add_all(
        [
            BoardModerator(user_id=people["board_moderator"].id, board_id=board.id),
            BoardModerator(user_id=people["other_board_moderator"].id, board_id=elsewhere.id),
        ]
    )
    db.commit()
    thread = make.thread(board=board, author=make.user("opener"))
    post = make.reply(thread, author, ORIGINAL)
    post_id = post.id

    writer = browser(app, author.username)
    edit = writer.post(f"/p/{post_id}/edit", {"body": EDITED}, page=f"/p/{post_id}/edit")
    assert edit.status_code == 302
    if state == "deleted":
        assert writer.post(f"/p/{post_id}/delete", page="/").status_code == 302
    elif state == "hidden":
        hidden = browser(app, "mod_here").post(
            f"/mod/posts/{post_id}/hide", {"reason": "Spoiler"}, page="/"
        )
        assert hidden.status_code == 302
    elif state == "purged":
        purged = browser(app, "admin_ada").post(
            f"/admin/posts/{post_id}/purge", {"reason": "Personal data"}, page="/"
        )
        assert purged.status_code == 302
    db.expire_all()
    stored = db.scalar(select(Post).where(Post.id == post_id))
    assert stored is not None and stored.revision_count > 0
    assert stored.is_deleted == (state in ("deleted", "purged"))
    assert stored.is_hidden == (state == "hidden")

    person = people.get(viewer)
    response = browser(app, person.username if person else None).get(f"/p/{post_id}/revisions")
    body = response.get_data()
    if viewer in ALLOWED[state]:
        assert response.status_code == 200
        assert ORIGINAL.encode() in body  # the original, whole
        assert b"Marmalade" in body  # the edit, as a change against it
    else:
        assert response.status_code == 403
        assert b"Zebrafinch" not in body and b"Marmalade" not in body
