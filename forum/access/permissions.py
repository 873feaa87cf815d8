"""Who may do what: plain functions over (viewer, thing). Views, templates and the API ask here,
so a button is shown exactly when the action behind it is allowed.

`viewer` is the request's forum/access/viewer.py Viewer (a visitor's has no user). Board-scoped
moderators carry `moderated_board_ids`; a moderator without any moderates all boards. What a
viewer may *see* in lists is also a SQL filter (forum/access/visibility.py), held to the same
answers as the predicates here by tests/test_visibility.py.
"""

from __future__ import annotations

from flask import current_app

from forum.access.viewer import Viewer
from forum.models import Board, BoardSuspension, Post, Role, Thread, User


def is_member(viewer: Viewer) -> bool:
    return viewer.user is not None


def is_active_member(viewer: Viewer) -> bool:
    """Logged in, not suspended or banned, and verified where that is required: may post,
    reply, report."""
    return (
        viewer.user is not None
        and not viewer.user.is_suspended()
        and not needs_verification(viewer)
    )


def needs_verification(viewer: Viewer) -> bool:
    return (
        viewer.user is not None
        and viewer.user.email_verified_at is None
        and bool(current_app.config["REQUIRE_EMAIL_VERIFICATION"])
    )


def is_admin(viewer: Viewer) -> bool:
    return is_active_member(viewer) and viewer.role == Role.ADMIN


def is_moderator(viewer: Viewer) -> bool:
    """A moderator of at least one board, or an admin."""
    return is_active_member(viewer) and viewer.role in (Role.MODERATOR, Role.ADMIN)


def is_global_moderator(viewer: Viewer) -> bool:
    return is_admin(viewer) or (is_moderator(viewer) and not viewer.moderated_board_ids)


def moderates(viewer: Viewer, board_id: int) -> bool:
    if not is_moderator(viewer):
        return False
    return (
        viewer.role == Role.ADMIN
        or not viewer.moderated_board_ids
        or (board_id in viewer.moderated_board_ids)
    )


# ------------------------------------------------------------------------------ members


def board_suspension(viewer: Viewer, board_id: int) -> BoardSuspension | None:
    """The running suspension barring `viewer` from posting on that board, if any."""
    found = viewer.board_suspensions.get(board_id)
    return found if found is not None and found.is_running() else None


def can_start_thread(viewer: Viewer, board: Board) -> bool:
    if not is_active_member(viewer) or board_suspension(viewer, board.id):
        return False
    return not board.is_archived or moderates(viewer, board.id)


def can_reply(viewer: Viewer, thread: Thread) -> bool:
    if not is_active_member(viewer):
        return False
    if moderates(viewer, thread.board_id):
        return True
    if board_suspension(viewer, thread.board_id):
        return False
    return not thread.is_locked and not thread.is_hidden and not thread.board.is_archived


def standing_refusal(viewer: Viewer) -> str | None:
    """Why a logged-in member can't post at all right now, in words for them."""
    member = viewer.user
    assert member is not None, "asked only about members"
    if member.is_suspended():
        if member.is_banned:
            return "Your account is banned, so you can't post."
        return (
            f"Your account is suspended until {member.suspended_until:%B %d, %Y %H:%M} UTC, "
            "so you can't post until then."
        )
    if needs_verification(viewer):
        return "Confirm your email address first: we sent you a link (you can ask for a new one)."
    return None


def _board_refusal(viewer: Viewer, board: Board) -> str | None:
    suspension = board_suspension(viewer, board.id)
    if suspension is None:
        return None
    because = f" Reason: {suspension.reason}" if suspension.reason else ""
    return (
        f"You're suspended from posting on {board.name} until "
        f"{suspension.until:%B %d, %Y %H:%M} UTC, so you can't post, reply or start threads "
        f"there until then.{because}"
    )


def posting_refusal(viewer: Viewer, board: Board) -> str | None:
    """None when `viewer` may start a thread on `board`; otherwise the reason."""
    if can_start_thread(viewer, board):
        return None
    return (
        standing_refusal(viewer)
        or _board_refusal(viewer, board)
        or "This board is archived: it's read-only now."
    )


def reply_refusal(viewer: Viewer, thread: Thread) -> str | None:
    """None when `viewer` may reply to `thread`; otherwise the reason."""
    if can_reply(viewer, thread):
        return None
    if reason := standing_refusal(viewer) or _board_refusal(viewer, thread.board):
        return reason
    if thread.is_locked:
        return "This thread is locked: new replies are closed."
    if thread.board.is_archived:
        return "This board is archived: it's read-only now."
    return "You can't reply to this thread."


def can_see_thread(viewer: Viewer, thread: Thread) -> bool:
    return not thread.is_hidden or moderates(viewer, thread.board_id)


def can_see_post_text(viewer: Viewer, post: Post, thread: Thread) -> bool:
    """Whether the post's text may be shown: a deleted post is a stub for everyone (its history
    is for moderators: can_see_revisions); a hidden one is a stub for members, and moderators
    of the board still read it."""
    if post.is_deleted:
        return False
    return not post.is_hidden or moderates(viewer, thread.board_id)


def can_edit_post(viewer: Viewer, post: Post, thread: Thread) -> bool:
    if not is_active_member(viewer) or post.is_deleted:
        return False
    if moderates(viewer, thread.board_id):
        return True
    return post.author_id == viewer.id and not post.is_hidden and can_reply(viewer, thread)


def can_delete_post(viewer: Viewer, post: Post, thread: Thread) -> bool:
    return can_edit_post(viewer, post, thread)


def can_see_revisions(viewer: Viewer, post: Post, thread: Thread) -> bool:
    """Every version of the text, so stricter than the post itself: once a post is deleted (by its
    author too) or hidden, its history is for the board's moderators and admins only, and a
    purged post's text is gone for everyone."""
    if post.revision_count == 0 or not can_see_thread(viewer, thread):
        return False
    if post.is_deleted and not post.source:
        return False
    if post.is_deleted or post.is_hidden:
        return moderates(viewer, thread.board_id)
    return True


def can_report(viewer: Viewer, post: Post) -> bool:
    return (
        is_active_member(viewer)
        and post.author_id != viewer.id
        and not post.is_deleted
        and not post.is_hidden
    )


def edit_refusal(viewer: Viewer, post: Post, thread: Thread) -> str:
    """Why `viewer` may not edit or delete `post`, in words for them (asked only after
    can_edit_post said no)."""
    if post.is_deleted:
        return "That post was deleted, so there is nothing left to change."
    if post.author_id != viewer.id:
        return (
            "That's someone else's post: only its author and the board's moderators can "
            "edit or delete it."
        )
    if post.is_hidden:
        return "A moderator hid this post, so it can't be edited or deleted."
    return reply_refusal(viewer, thread) or "You can't change this post."


def report_refusal(viewer: Viewer, post: Post) -> str | None:
    """None when a logged-in `viewer` may report `post`; otherwise the reason, for them."""
    if can_report(viewer, post):
        return None
    if reason := standing_refusal(viewer):
        return reason
    if post.author_id == viewer.id:
        return "That's your own post: you can edit or delete it instead."
    return "That post has already been removed, so there is nothing left to report."


# ------------------------------------------------------------------------------ moderators


def can_moderate_thread(viewer: Viewer, thread: Thread) -> bool:
    return moderates(viewer, thread.board_id)


def can_move_thread(viewer: Viewer, thread: Thread, destination: Board) -> bool:
    return moderates(viewer, thread.board_id) and moderates(viewer, destination.id)


def can_moderate_post(viewer: Viewer, thread: Thread) -> bool:
    return moderates(viewer, thread.board_id)


def can_use_mod_area(viewer: Viewer) -> bool:
    return is_moderator(viewer)


def can_suspend(viewer: Viewer, target: User) -> bool:
    """Site-wide suspensions and bans: global moderators suspend members; only admins
    suspend moderators and other admins. Board moderators can't (see can_suspend_on_board)."""
    if not is_global_moderator(viewer) or target.id == viewer.id:
        return False
    if viewer.role == Role.ADMIN:
        return True
    return target.role == Role.MEMBER


def can_suspend_on_board(viewer: Viewer, target: User, board_id: int) -> bool:
    """A board suspension: any moderator of the board may bar a member from posting there."""
    return moderates(viewer, board_id) and target.id != viewer.id and target.role == Role.MEMBER


def can_restrict(viewer: Viewer, target: User) -> bool:
    """Whether `viewer` has any way to suspend `target` (site-wide or on a board they
    moderate): the moderator tools link to the suspension page exactly then."""
    return can_suspend(viewer, target) or (
        is_moderator(viewer) and target.id != viewer.id and target.role == Role.MEMBER
    )


def suspension_refusal(viewer: Viewer, target: User) -> str | None:
    """None when `viewer` may suspend or ban `target` site-wide; otherwise why not."""
    if can_suspend(viewer, target):
        return None
    if target.id == viewer.id:
        return "You can't suspend yourself."
    if target.role != Role.MEMBER and viewer.role != Role.ADMIN:
        return "Only admins can suspend moderators and admins."
    return (
        "Board moderators can suspend members only on the boards they moderate: site-wide "
        "suspensions and bans are for global moderators and admins."
    )


# ------------------------------------------------------------------------------ admins


def can_administer(viewer: Viewer) -> bool:
    return is_admin(viewer)


def can_purge(viewer: Viewer) -> bool:
    return is_admin(viewer)


def can_change_role(viewer: Viewer, target: User) -> bool:
    """Admins change other people's roles, never their own: an admin can't lock the site out
    of its last admin by accident."""
    return is_admin(viewer) and target.id != viewer.id
