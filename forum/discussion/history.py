"""A post's edit history: every version of its text, each marked against the one before.

Public (/p/<id>/revisions, forum/views/history.py) for whoever may read the post's text
(permissions.can_see_revisions), so it lives with the discussion, not with the moderator tools.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from forum.discussion import reading
from forum.models import Post, PostRevision


@dataclass(frozen=True)
class Change:
    kind: str  # "same", "added", "removed", or "skipped" (a long unchanged stretch, shortened)
    text: str


@dataclass(frozen=True)
class Version:
    revision: PostRevision
    # How this version differs from the one before; empty for the original.
    changes: Sequence[Change]


@dataclass(frozen=True)
class EditHistory:
    post: Post
    versions: Sequence[Version]


# A word or a single punctuation mark together with the whitespace before it, and the text's
# trailing whitespace. Posts are prose, so a word-level diff reads better than a line diff; and
# keeping each word's space with it means an insertion or a deletion comes out as one run with
# its spaces ("<ins> also what</ins>"), where matching the spaces on their own shredded edits
# into single words glued together ("@demoAlso whatadding").
_TOKENS = re.compile(r"\s*(?:\w+|[^\w\s])|\s+")
UNCHANGED_KEPT = 160


def tokens(text: str) -> list[str]:
    """`text` cut into diff tokens; joined again they are `text` exactly."""
    return _TOKENS.findall(text)


def word_diff(before: str, after: str) -> list[Change]:
    """`after` as a list of unchanged, added and removed stretches of text, a changed stretch's
    removed words before its added ones. Plain text: the template escapes it like any other user
    text and marks it up with <ins> and <del>."""
    old, new = tokens(before), tokens(after)
    changes: list[Change] = []
    # difflib's "autojunk" stays on: for long posts it ignores tokens that make up over 1% of
    # the text when looking for matches (" the", " and"), which keeps a 50,000-character post
    # to milliseconds instead of seconds. Posts under 200 tokens are diffed exactly.
    matcher = difflib.SequenceMatcher(None, old, new)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            changes.extend(_shortened("".join(old[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            changes.append(Change("removed", "".join(old[i1:i2])))
        if tag in ("insert", "replace"):
            changes.append(Change("added", "".join(new[j1:j2])))
    return changes


def _shortened(same: str) -> list[Change]:
    """Long unchanged text keeps its two ends around the edits and skips its middle."""
    if len(same) <= 3 * UNCHANGED_KEPT:
        return [Change("same", same)]
    return [
        Change("same", same[:UNCHANGED_KEPT]),
        Change("skipped", f"{len(same) - 2 * UNCHANGED_KEPT:,} unchanged characters"),
        Change("same", same[-UNCHANGED_KEPT:]),
    ]


def edit_history(session: Session, post_id: int) -> EditHistory | None:
    """A post (with thread and board) and every version of it, oldest first. Two statements;
    the caller asks permissions.can_see_revisions before showing it."""
    post = reading.post_in_thread(session, post_id)
    if post is None:
        return None
    revisions = session.scalars(
        select(PostRevision)
        .where(PostRevision.post_id == post.id)
        .options(joinedload(PostRevision.editor))
        .order_by(PostRevision.number)
    ).all()
    versions: list[Version] = []
    previous: PostRevision | None = None
    for revision in revisions:
        changes = word_diff(previous.source, revision.source) if previous else []
        versions.append(Version(revision, changes))
        previous = revision
    return EditHistory(post, versions)
