"""Who may do what: plain functions over (user, thing). Views, templates and the API ask here,
so a button is shown exactly when the action behind it is allowed.

`user` is Flask-Login's current_user, so it may be the anonymous user. Board-scoped moderators
carry `moderated_board_ids` (loaded by forum/accounts/auth.py); a moderator without any moderates
all.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from forum.models import Board, BoardSuspension, Post, Role, Thread, User


def is_member(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_active_member(user: Any) -> bool:
    """Logged in, not suspended or banned, and verified where that is required: may post,
    reply, report."""
    return is_member(user) and not user.is_suspended() and not needs_verification(user)


def needs_verification(user: Any) -> bool:
    return (is_member(user) and user.email_verified_at is None
            and bool(current_app.config["REQUIRE_EMAIL_VERIFICATION"]))


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


def board_suspension(user: Any, board_id: int) -> BoardSuspension | None:
    """The running suspension barring `user` from posting on that board, if any."""
    if not is_member(user):
        return None
    found = user.board_suspensions.get(board_id)
    return found if found is not None and found.is_running() else None


def can_start_thread(user: Any, board: Board) -> bool:
    if not is_active_member(user) or board_suspension(user, board.id):
        return False
    return not board.is_archived or moderates(user, board.id)


def can_reply(user: Any, thread: Thread) -> bool:
    if not is_active_member(user):
        return False
    if moderates(user, thread.board_id):
        return True
    if board_suspension(user, thread.board_id):
        return False
    return not thread.is_locked and not thread.is_hidden and not thread.board.is_archived


def standing_refusal(user: Any) -> str | None:
    """Why a logged-in member can't post at all right now, in words for them."""
    if user.is_suspended():
        if user.is_banned:
            return "Your account is banned, so you can't post."
        return (f"Your account is suspended until {user.suspended_until:%B %d, %Y %H:%M} UTC, "
                "so you can't post until then.")
    if needs_verification(user):
        return "Confirm your email address first: we sent you a link (you can ask for a new one)."
    return None


def _board_refusal(user: Any, board: Board) -> str | None:
    suspension = board_suspension(user, board.id)
    if suspension is None:
        return None
    because = f" Reason: {suspension.reason}" if suspension.reason else ""
    return (f"You're suspended from posting on {board.name} until "
            f"{suspension.until:%B %d, %Y %H:%M} UTC, so you can't post, reply or start threads "
            f"there until then.{because}")


def posting_refusal(user: Any, board: Board) -> str | None:
    """None when `user` may start a thread on `board`; otherwise the reason."""
    if can_start_thread(user, board):
        return None
    return (standing_refusal(user) or _board_refusal(user, board)
            or "This board is archived: it's read-only now.")


def reply_refusal(user: Any, thread: Thread) -> str | None:
    """None when `user` may reply to `thread`; otherwise the reason."""
    if can_reply(user, thread):
        return None
    if reason := standing_refusal(user) or _board_refusal(user, thread.board):
        return reason
    if thread.is_locked:
        return "This thread is locked: new replies are closed."
    if thread.board.is_archived:
        return "This board is archived: it's read-only now."
    return "You can't reply to this thread."


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
    """Every version of the text, so stricter than the post itself: once a post is deleted (by its
    author too) or hidden, its history is for the board's moderators and admins only, and a
    purged post's text is gone for everyone."""
    if post.revision_count == 0 or not can_see_thread(user, thread):
        return False
    if post.is_deleted and not post.source:
        return False
    if post.is_deleted or post.is_hidden:
        return moderates(user, thread.board_id)
    return True


def can_report(user: Any, post: Post) -> bool:
    return (
        is_active_member(user)
        and post.author_id != user.id
        and not post.is_deleted
        and not post.is_hidden
    )


def edit_refusal(user: Any, post: Post, thread: Thread) -> str:
    """Why `user` may not edit or delete `post`, in words for them (asked only after
    can_edit_post said no)."""
    if post.is_deleted:
        return "That post was deleted, so there is nothing left to change."
    if post.author_id != user.id:
        return ("That's someone else's post: only its author and the board's moderators can "
                "edit or delete it.")
    if post.is_hidden:
        return "A moderator hid this post, so it can't be edited or deleted."
    return reply_refusal(user, thread) or "You can't change this post."


def report_refusal(user: Any, post: Post) -> str | None:
    """None when a logged-in `user` may report `post`; otherwise the reason, for them."""
    if can_report(user, post):
        return None
    if reason := standing_refusal(user):
        return reason
    if post.author_id == user.id:
        return "That's your own post: you can edit or delete it instead."
    return "That post has already been removed, so there is nothing left to report."


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
    """Site-wide suspensions and bans: global moderators suspend members; only admins
    suspend moderators and other admins. Board moderators can't (see can_suspend_on_board)."""
    if not is_global_moderator(user) or target.id == user.id:
        return False
    if user.role == Role.ADMIN:
        return True
    return target.role == Role.MEMBER


def can_suspend_on_board(user: Any, target: User, board_id: int) -> bool:
    """A board suspension: any moderator of the board may bar a member from posting there."""
    return moderates(user, board_id) and target.id != user.id and target.role == Role.MEMBER


def can_restrict(user: Any, target: User) -> bool:
    """Whether `user` has any way to suspend `target` (site-wide or on a board they
    moderate): the moderator tools link to the suspension page exactly then."""
    return can_suspend(user, target) or (
        is_moderator(user) and target.id != user.id and target.role == Role.MEMBER)


def suspension_refusal(user: Any, target: User) -> str | None:
    """None when `user` may suspend or ban `target` site-wide; otherwise why not."""
    if can_suspend(user, target):
        return None
    if target.id == user.id:
        return "You can't suspend yourself."
    if target.role != Role.MEMBER and user.role != Role.ADMIN:
        return "Only admins can suspend moderators and admins."
    return ("Board moderators can suspend members only on the boards they moderate: site-wide "
            "suspensions and bans are for global moderators and admins.")


# ------------------------------------------------------------------------------ admins


def can_administer(user: Any) -> bool:
    return is_admin(user)


def can_purge(user: Any) -> bool:
    return is_admin(user)


def can_change_role(user: Any, target: User) -> bool:
    """Admins change other people's roles, never their own: an admin can't lock the site out
    of its last admin by accident."""
    return is_admin(user) and target.id != user.id
