"""Who may do what: plain functions over (user, thing). Views, templates and the API ask here.

`user` is Flask-Login's current_user, so it may be the anonymous user.
"""

from __future__ import annotations

from typing import Any

from forum.models import Board, Post, Role, Thread


def is_member(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_moderator(user: Any) -> bool:
    return is_member(user) and user.role in (Role.MODERATOR, Role.ADMIN)


def can_start_thread(user: Any, board: Board) -> bool:
    return is_member(user) and (not board.is_archived or is_moderator(user))


def can_reply(user: Any, thread: Thread) -> bool:
    if not is_member(user):
        return False
    if is_moderator(user):
        return True
    return not thread.is_locked and not thread.is_hidden and not thread.board.is_archived


def can_edit_post(user: Any, post: Post, thread: Thread) -> bool:
    if not is_member(user) or post.is_deleted:
        return False
    if is_moderator(user):
        return True
    return post.author_id == user.id and can_reply(user, thread)


def can_delete_post(user: Any, post: Post, thread: Thread) -> bool:
    return can_edit_post(user, post, thread)
