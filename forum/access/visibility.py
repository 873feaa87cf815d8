"""What a viewer may see, as SQL: WHERE conditions that every list query adds to its `select()`.

forum/access/permissions.py answers for one row already loaded (`can_see_thread`,
`can_see_post_text`); a list (a board, the index's latest posts, a profile, later search, feeds,
notifications and the API) must leave out what the viewer may not see *in the database*, so
that paging and counts stay right and nothing hidden is ever loaded. tests/test_visibility.py
holds the conditions here and those predicates to the same answers over a matrix of threads,
posts and viewers.

Three questions, from coarse to fine:

- `visible_threads(viewer)`: the thread appears at all (hidden threads: only to their board's
  moderators, global moderators and admins).
- `visible_posts(viewer)`: the post appears in its thread, with its text or as a stub ("deleted",
  "removed by a moderator"): every post of a visible thread keeps its numbered slot.
- `readable_posts(viewer)`: the post's text may be shown: not deleted (nor purged), and not
  hidden unless the viewer moderates its board. Lists that print text (a profile's recent
  posts, search results, feeds) use this one.

The post conditions name Thread's columns: join `Post.thread` first.

Spoilers are a fourth question, for lists that print text or titles to someone who didn't ask
for them (a profile's recent posts; later search results, feeds and notifications):
`unspoiled_posts(viewer)` leaves out posts discussing an episode beyond the viewer's limit on
their board, `unspoiled_threads(viewer)` threads tied to one (forum/access/spoilers.py). Lists
where a thread or post keeps its place masked (a board's threads, a thread's posts) don't
filter: forum/discussion/presenting.py masks them.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, case, false, literal, or_, true

from forum.access import permissions
from forum.access.viewer import Viewer
from forum.models import Post, Thread

# Every board: the viewer moderates them all (a global moderator, an admin).
_ALL_BOARDS = None


def moderated_boards(viewer: Viewer) -> frozenset[int] | None:
    """The boards whose hidden things `viewer` sees: None for all of them, else their ids
    (none for visitors, members, and moderators who are suspended)."""
    if permissions.is_global_moderator(viewer):
        return _ALL_BOARDS
    if permissions.is_moderator(viewer):
        return viewer.moderated_board_ids
    return frozenset()


def _on_moderated_board(viewer: Viewer) -> ColumnElement[bool] | None:
    """The rows of the boards `viewer` moderates; None when that is every board."""
    return _on_boards(moderated_boards(viewer))


def _on_boards(boards: frozenset[int] | None) -> ColumnElement[bool] | None:
    if boards is _ALL_BOARDS:
        return None
    if not boards:
        return false()
    return Thread.board_id.in_(sorted(boards))


def visible_threads(viewer: Viewer, board_id: int | None = None) -> ColumnElement[bool]:
    """Threads `viewer` may see (permissions.can_see_thread). With `board_id`, the condition for
    that one board's threads, reduced to what the board listing's index serves: `is_hidden =
    false` for those who don't moderate it (`= false`, not `IS false`, so PostgreSQL uses
    ix_threads_board_listing), nothing at all for those who do."""
    if board_id is not None:
        return true() if permissions.moderates(viewer, board_id) else Thread.is_hidden == false()
    return threads_visible_with(moderated_boards(viewer))


def threads_visible_with(boards: frozenset[int] | None) -> ColumnElement[bool]:
    """visible_threads for a viewer who moderates `boards` (moderated_boards(viewer)): all a
    statement built once per set of boards needs to know about its viewer."""
    moderated = _on_boards(boards)
    if moderated is None:
        return true()
    # or_() drops a false(): visitors and members get `is_hidden = false` alone.
    return or_(Thread.is_hidden == false(), moderated)


def visible_posts(viewer: Viewer) -> ColumnElement[bool]:
    """Posts that appear to `viewer` in their thread, with their text or as a stub: those of
    the threads they may see. Needs Thread joined (`Post.thread`)."""
    return visible_threads(viewer)


def readable_posts(viewer: Viewer) -> ColumnElement[bool]:
    """Posts whose text `viewer` may read where they appear: in a visible thread, not deleted
    (a purged post is deleted too), and not hidden by a moderator unless the viewer moderates
    the board (what the thread page prints the text of: permissions.can_see_post_text).
    Needs Thread joined (`Post.thread`)."""
    moderated = _on_moderated_board(viewer)
    if moderated is None:
        return Post.is_deleted == false()
    return and_(
        visible_threads(viewer),
        Post.is_deleted == false(),
        or_(Post.is_hidden == false(), moderated),
    )


def spoiler_limit_of(viewer: Viewer) -> ColumnElement[int]:
    """The viewer's spoiler limit on each row's board (Thread.board_id), as SQL (search also
    compares it with a post's inline spoilers)."""
    if not viewer.spoiler_limits:
        return literal(viewer.spoiler_default)
    return case(dict(viewer.spoiler_limits), value=Thread.board_id, else_=viewer.spoiler_default)


def unspoiled_posts(viewer: Viewer) -> ColumnElement[bool]:
    """Posts that discuss no episode beyond `viewer`'s limit on their board (spoilers.spoils).
    Needs Thread joined (`Post.thread`). Spoiler spans inside a post are the presenters' job."""
    return or_(Post.episode_key.is_(None), Post.episode_key <= spoiler_limit_of(viewer))


def unspoiled_threads(viewer: Viewer) -> ColumnElement[bool]:
    """Threads tied to no episode beyond `viewer`'s limit on their board."""
    return or_(Thread.episode_key.is_(None), Thread.episode_key <= spoiler_limit_of(viewer))
