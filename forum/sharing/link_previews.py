"""Link previews: the OpenGraph and Twitter card tags, the canonical URL and the feed link of
the index, board and thread pages (templates/_link_preview.html prints them).

Chat apps and social sites fetch a shared link as a visitor, and anonymous pages are cached and
served to every visitor, so the tags are always worked out as a visitor sees the page
(feed_reading.public_viewer), whoever asks: a thread tied to an episode inside the visitor's
spoiler window gets its masked title and no excerpt, for members too. The excerpt is plain
text (Jinja escapes it) of the opening post with every spoiler left out, generic ones too:
a preview has no "click to reveal". Built from what the page already loaded: no statement.

Templates call these once per page through the `link_previews` global (forum/views/crawlers.py).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from forum.access import permissions, spoilers
from forum.access.viewer import Viewer
from forum.db import db_session
from forum.discussion import plain_text
from forum.discussion.reading import BoardListing, ThreadListing
from forum.models import Post, Thread
from forum.platform.publicurl import external_url
from forum.platform.settings import get_settings
from forum.sharing.feed_reading import public_viewer

EXCERPT_CHARS = 200
# What the index says when the admin has set no tagline (templates/boards/index.html's words).
INDEX_DESCRIPTION = (
    "Pick a show, join the debate. Theories, rewatches and the big question: will it come back?"
)


# Schemes a browser runs. A title or excerpt that starts like such a URL is quoted, so a
# previewer that takes a text tag for a link (and the security suite's page scan, which reads
# every `content` attribute as one) finds no script to run.
_SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:", "mocha:")


def inert(text: str) -> str:
    """`text`, quoted when it reads as a script URL once spaces, controls and invisible
    characters are dropped (as browsers drop them)."""
    bare = "".join(
        ch
        for ch in text
        if ord(ch) > 0x20 and ord(ch) != 0x7F and unicodedata.category(ch) not in {"Cc", "Cf"}
    ).lower()
    return f"“{text}”" if bare.startswith(_SCRIPT_SCHEMES) else text


@dataclass(frozen=True, slots=True)
class LinkPreview:
    title: str
    description: str  # "" for none: no og:description at all
    url: str  # canonical, absolute
    kind: str  # og:type
    feed_url: str
    feed_title: str

    def __post_init__(self) -> None:
        for name in ("title", "description", "feed_title"):
            object.__setattr__(self, name, inert(getattr(self, name)))


def index() -> LinkPreview:
    settings = get_settings(db_session())
    return LinkPreview(
        title=settings.site_name,
        description=excerpt_of_text(settings.tagline or INDEX_DESCRIPTION),
        url=external_url("boards.index"),
        kind="website",
        feed_url=external_url("feeds.site"),
        feed_title=f"{settings.site_name}: latest threads",
    )


def board(listing: BoardListing) -> LinkPreview:
    shown = listing.board
    number = listing.page.number
    return LinkPreview(
        title=shown.name,
        description=excerpt_of_text(shown.description),
        url=external_url("boards.board", slug=shown.slug, page=number if number > 1 else None),
        kind="website",
        feed_url=external_url("feeds.board", slug=shown.slug),
        feed_title=f"{shown.name}: latest threads",
    )


def thread(listing: ThreadListing, reader: Viewer) -> LinkPreview | None:
    """The tags of a thread page as a visitor sees it; None for a thread hidden from visitors
    (only its moderators see the page: nothing to share). `reader`, the page's own viewer,
    may be behind the visitor boundary (a member at S1E6): an opening post about an episode
    past either of them gives no excerpt. (Their title masked, they get the warning page.)"""
    shown = listing.thread
    viewer = public_viewer(db_session())
    if not permissions.can_see_thread(viewer, shown):
        return None
    title = spoilers.thread_title(viewer, shown)
    number = listing.page.number
    opener = listing.posts[0] if number == 1 and listing.posts else None
    description = ""
    if (
        not title.masked
        and opener is not None
        and opener.number == 1
        and not spoilers.spoils(reader, shown.board_id, opener.episode_key)
    ):
        description = _opener_excerpt(opener, shown, viewer)
    return _thread_preview(shown, title.text, description, number)


def warning(shown: Thread, title: spoilers.ShownTitle) -> LinkPreview:
    """The tags of the warning page a viewer gets instead of a thread tied to an episode they
    haven't reached (templates/threads/spoiler_warning.html): the title as masked for them
    (for visitors, the visitor's mask), never an excerpt."""
    return _thread_preview(shown, title.text, "", 1)


def _thread_preview(shown: Thread, title: str, description: str, number: int) -> LinkPreview:
    return LinkPreview(
        title=title,
        description=description,
        url=external_url(
            "threads.thread",
            thread_id=shown.id,
            slug=shown.slug,
            page=number if number > 1 else None,
        ),
        kind="article",
        feed_url=external_url("feeds.thread", thread_id=shown.id),
        feed_title=f"{title}: latest posts",
    )


def _opener_excerpt(post: Post, shown: Thread, viewer: Viewer) -> str:
    if not permissions.can_see_post_text(viewer, post, shown):
        return ""
    if spoilers.spoils(viewer, shown.board_id, post.episode_key):
        return ""
    # A post of pictures or spoilers only has no words to show: say where it is instead.
    return excerpt_of_text(plain_text.open_text(post.html)) or f"A thread on {shown.board.name}"


def excerpt_of_text(text: str) -> str:
    """At most EXCERPT_CHARS, cut at a word, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= EXCERPT_CHARS:
        return text
    cut = text[: EXCERPT_CHARS - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-") + "…"
