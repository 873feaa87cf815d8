"""Who may do what: plain functions over (user, thing). Views, templates and the API ask here,
so a button is shown exactly when the action behind it is allowed.

`user` is Flask-Login's current_user, so it may be the anonymous user. Board-scoped moderators
carry `moderated_board_ids` (loaded by forum/auth.py); a moderator without any moderates all.
"""

from __future__ import annotations

from typing import Any

from forum.models import Board, Post, Role, Thread, User


def is_member(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_active_member(user: Any) -> bool:
    """Logged in and not suspended or banned: may post, reply, report."""
    return is_member(user) and not user.is_suspended()


def is_admin(user: Any) -> bool:
    return is_active_member(user) and user.role == Role.ADMIN


def is_moderator(user: Any) -> bool:
    """A moderator of at least one board, or an admin."""
    return is_active_member(user) and user.role in (Role.MODERATOR, Role.ADMIN)


def is_global_moderator(user: Any) -> bool:
    return is_admin(user) or (is_moderator(user) and not user.moderated_board_ids)


def moderates(user: Any, board_id: int) -> bool:
    if not is_moderator(user):
        return False
    return (
        user.role == Role.ADMIN
        or not user.moderated_board_ids
        or (board_id in user.moderated_board_ids)
    )


# ------------------------------------------------------------------------------ members


def can_start_thread(user: Any, board: Board) -> bool:
    if not is_active_member(user):
        return False
    return not board.is_archived or moderates(user, board.id)


def can_reply(user: Any, thread: Thread) -> bool:
    if not is_active_member(user):
        return False
    if moderates(user, thread.board_id):
        return True
    return not thread.is_locked and not thread.is_hidden and not thread.board.is_archived


def can_see_thread(user: Any, thread: Thread) -> bool:
    return not thread.is_hidden or moderates(user, thread.board_id)


def can_see_post_text(user: Any, post: Post, thread: Thread) -> bool:
    """Hidden posts show a stub to members; moderators of the board still read them."""
    if post.is_deleted and not post.source:
        return False
    return not post.is_hidden or moderates(user, thread.board_id)


def can_edit_post(user: Any, post: Post, thread: Thread) -> bool:
    if not is_active_member(user) or post.is_deleted:
        return False
    if moderates(user, thread.board_id):
        return True
    return post.author_id == user.id and not post.is_hidden and can_reply(user, thread)


def can_delete_post(user: Any, post: Post, thread: Thread) -> bool:
    return can_edit_post(user, post, thread)


def can_see_revisions(user: Any, post: Post, thread: Thread) -> bool:
    return (
        post.revision_count > 0
        and can_see_thread(user, thread)
        and (can_see_post_text(user, post, thread))
    )


def can_report(user: Any, post: Post) -> bool:
    return (
        is_active_member(user)
        and post.author_id != user.id
        and not post.is_deleted
        and not post.is_hidden
    )


# ------------------------------------------------------------------------------ moderators


def can_moderate_thread(user: Any, thread: Thread) -> bool:
    return moderates(user, thread.board_id)


def can_move_thread(user: Any, thread: Thread, destination: Board) -> bool:
    return moderates(user, thread.board_id) and moderates(user, destination.id)


def can_moderate_post(user: Any, thread: Thread) -> bool:
    return moderates(user, thread.board_id)


def can_use_mod_area(user: Any) -> bool:
    return is_moderator(user)


def can_suspend(user: Any, target: User) -> bool:
    """Moderators suspend members; only admins suspend moderators and other admins."""
    if not is_moderator(user) or target.id == user.id:
        return False
    if user.role == Role.ADMIN:
        return True
    return target.role == Role.MEMBER


# ------------------------------------------------------------------------------ admins


def can_administer(user: Any) -> bool:
    return is_admin(user)


def can_purge(user: Any) -> bool:
    return is_admin(user)
