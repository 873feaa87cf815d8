"""Quote-replies: a post as a Markdown quote for the reply box, with what the viewer may copy.

A quote is a blockquote whose first line credits the author and links to the post's
permalink (`> [@demo said](/p/123):`), which is what forum/discussion/markup.py recognises as a
quote when the reply is saved (the quoted author is notified, and the reply discusses the
quoted post's episode: posting.quoted_posts). Then the post's Markdown source, since the
reply should quote what was written, not its HTML, with four things taken out:

- nothing at all of a post the viewer may not read (hidden from them, deleted): None;
- nothing of a hidden post, even for the moderators who still read it: hiding took its text
  off the page, and a quote would publish it again in a reply everyone reads (HIDDEN_REFUSAL;
  the posts of a hidden thread are quoted as usual, by the moderators who may reply there);
- episode spoilers (`>!S1E8: ...!<`) beyond the viewer's progress on the board: their text is
  replaced by a placeholder, still in spoiler syntax, so the viewer never gets it in their
  reply box (a source has no stored HTML to withhold it from, so it is cut out here); and a
  whole post about an episode they haven't reached (or show news they hide) is not copied;
- the quotes inside it (as on Discourse): a quote of a quote says what the quoter said.

Spoilers the viewer has reached, and generic `>!spoilers!<`, are kept in spoiler syntax, so
they stay hidden from the reply's readers. Long posts are cut (never inside a spoiler).
The selection quote (static/js/quoting.js) follows the same rules from the HTML the viewer
already has, in which unreached spoilers are withheld.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from forum.access import permissions, spoilers
from forum.access.viewer import Viewer
from forum.discussion import markup, spoiler_markup
from forum.discussion.episode_codes import CODE, code_of, key_of
from forum.models import Post, Thread, User

# Of the quoted text: a quote says what it answers; the permalink has the rest.
QUOTE_MAX_CHARS = 3_000
HIDDEN_REFUSAL = "Hidden posts can't be quoted: a quote would publish their text again."
NOT_WATCHED = "(spoiler not copied: you haven't watched it yet)"
# Leniently: `>! S1E8 :` is no episode spoiler for markup (it is a plain one), but taking it
# for one costs a reader nothing, while missing one would copy its text.
_EPISODE_OPENER = re.compile(rf">!\s*{CODE.pattern}\s*:")


@dataclass(frozen=True, slots=True)
class QuotedPost:
    """A post to quote, with its thread (board loaded) and author (None: a deleted account)."""

    post: Post
    thread: Thread
    author: User | None


def quoted_post(session: Session, viewer: Viewer, post_id: int) -> QuotedPost | None:
    """The post `viewer` wants to quote, with its thread, board and author, in one statement;
    None when it doesn't exist or its text isn't theirs to read (as if it didn't exist)."""
    post = session.scalar(
        select(Post)
        .where(Post.id == post_id)
        .options(joinedload(Post.thread).joinedload(Thread.board), joinedload(Post.author))
    )
    if post is None:
        return None
    thread = post.thread
    if not permissions.can_see_thread(viewer, thread):
        return None
    if not permissions.can_see_post_text(viewer, post, thread):
        return None
    return QuotedPost(post, thread, post.author)


def quote_markdown(session: Session, viewer: Viewer, post: Post) -> str | None:
    """`post` as a Markdown quote for `viewer` to put in a reply (see the module docstring):
    None when they may not read it or it is hidden. `post` may come with its thread and author
    loaded (quoted_post); otherwise they are read through `session`."""
    if post.is_hidden:
        return None
    thread = session.get(Thread, post.thread_id)
    if thread is None or not permissions.can_see_thread(viewer, thread):
        return None
    if not permissions.can_see_post_text(viewer, post, thread):
        return None
    author = session.get(User, post.author_id) if post.author_id is not None else None
    name = f"@{author.username}" if author is not None else "A deleted member"
    attribution = f"[{name} said](/p/{post.id}):"
    return _as_quote(attribution, _quotable_text(viewer, post, thread))


def _quotable_text(viewer: Viewer, post: Post, thread: Thread) -> str:
    limit = viewer.spoiler_limit(thread.board_id)
    if spoilers.spoils(viewer, thread.board_id, post.episode_key):
        episode = code_of(post.episode_key or 0)
        return f"(Not copied: this post discusses {episode}, which you haven't watched yet.)"
    if spoilers.thread_title(viewer, thread).masked:  # show news the viewer hides
        return "(Not copied: this post is show news, which your settings hide.)"
    text = markup.without_quotes(withhold_spoilers(post.source, limit)).strip()
    return _shortened(text)


def withhold_spoilers(source: str, limit: int) -> str:
    """`source` with the text of every episode spoiler beyond `limit` (an episode key)
    replaced by a placeholder. A spoiler ends at the first `!<` after its opening, as markup
    reads it (spoilers don't nest), so the span cut here holds at least the spoiler's text
    wherever markup would make one; an opening with no `!<` after it hides nothing."""
    pieces: list[str] = []
    done = 0
    position = 0
    while found := _EPISODE_OPENER.search(source, position):
        close = source.find(spoiler_markup.SPOILER_CLOSE, found.end())
        if close < 0:
            break
        key = key_of(int(found.group(1)), int(found.group(2)))
        if key <= limit:
            # Kept as written; an opening inside its text is looked at too (over-protecting).
            position = found.end()
            continue
        pieces += [source[done : found.start()], f">!{code_of(key)}: {NOT_WATCHED}!<"]
        done = position = close + len(spoiler_markup.SPOILER_CLOSE)
    pieces.append(source[done:])
    return "".join(pieces)


def _shortened(text: str) -> str:
    """At most QUOTE_MAX_CHARS, cut at a paragraph (or line) break and never inside a
    spoiler, whose text would show once its `!<` is cut off."""
    if len(text) <= QUOTE_MAX_CHARS:
        return text
    cut = text.rfind("\n\n", 0, QUOTE_MAX_CHARS)
    if cut < QUOTE_MAX_CHARS // 2:
        cut = text.rfind("\n", 0, QUOTE_MAX_CHARS)
    if cut < QUOTE_MAX_CHARS // 2:
        cut = text.rfind(" ", 0, QUOTE_MAX_CHARS)
    if cut <= 0:
        cut = QUOTE_MAX_CHARS
    cut = spoiler_markup.cut_outside_spoiler(text, cut)
    return text[:cut].rstrip() + "\n\n…"


def _as_quote(attribution: str, text: str) -> str:
    lines = [attribution]
    if text:
        lines += ["", *text.split("\n")]
    # A blank line after it, so what the fan types next is not part of the quote.
    return "".join(f"> {line}\n" if line else ">\n" for line in lines) + "\n"
