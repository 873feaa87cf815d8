"""A quote is a copy of the quoted post's text, stored in the quoting post's HTML: when the quoted
post is hidden, deleted or purged (or its thread hidden), the copy leaves every place that prints
stored HTML (thread pages, feeds, search), and comes back when the post is restored. A quote of
a post that is already gone is stored without its copy, and counts for no episode.
forum/discussion/quote_copies.py, markup.render's withheld_quotes, posting.quoted_posts."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.discussion import markup, posting
from forum.discussion.episode_codes import key_of
from forum.models import Board, Notification, NotificationKind, Post, PostQuote, Thread, User
from forum.staff import moderation
from tests.conftest import Browserish, Factory, LoginAs, fresh, text_of

MARKER = "zebrafinch"
SOURCE_TEXT = f"The {MARKER} sang the whole finale."
PLACEHOLDER = markup.WITHHELD_QUOTE.encode()


@pytest.fixture
def show(make: Factory) -> Board:
    return make.board("copy-show", name="Copy Show")


@pytest.fixture
def source_author(make: Factory) -> User:
    return make.user("source_sam")


@pytest.fixture
def source(make: Factory, show: Board, source_author: User) -> Post:
    """The post that gets quoted, in a thread of its own."""
    thread = make.thread(board=show, author=source_author, title="Where it was said")
    return make.reply(thread, source_author, SOURCE_TEXT)


@pytest.fixture
def other_thread(make: Factory, show: Board, source_author: User) -> Thread:
    return make.thread(board=show, author=source_author, title="Where it is quoted")


def quote_reply(browser: Browserish, thread: Thread, body: str) -> None:
    page = f"/t/{thread.id}/{thread.slug}"
    response = browser.post(f"/t/{thread.id}/reply", {"body": body}, page=page)
    assert response.status_code == 302, text_of(response)


@pytest.fixture
def quoting(db: Session, member_client: Browserish, source: Post, other_thread: Thread) -> Post:
    """A member's quote-reply to `source`, written the way the Quote button writes it."""
    quoted = member_client.get(f"/p/{source.id}/quote?format=md")
    assert quoted.status_code == 200 and MARKER in text_of(quoted)
    quote_reply(member_client, other_thread, text_of(quoted) + "Couldn't agree more.")
    reply = db.scalars(
        select(Post).where(Post.thread_id == other_thread.id).order_by(Post.number.desc())
    ).first()
    assert reply is not None and reply.number == 2
    return reply


def thread_page(browser: Browserish, thread: Thread) -> bytes:
    response = browser.get(f"/t/{thread.id}/{thread.slug}")
    assert response.status_code == 200
    return bytes(response.data)


def everywhere(
    visitor: Browserish, member: Browserish, thread: Thread, reply: Post
) -> dict[str, bytes]:
    """What visitors and members get where the quoting reply is printed, as raw bytes."""
    search = visitor.get(f"/search?q={MARKER}")
    assert search.status_code == 200
    return {
        "visitor's thread page": thread_page(visitor, thread),
        "member's thread page": thread_page(member, thread),
        "thread feed": bytes(visitor.get(f"/t/{thread.id}/feed.atom").data),
        # The page repeats the query: the hit is the reply's link.
        "search": f"#post-{reply.id}".encode() if f"#post-{reply.id}" in text_of(search) else b"",
    }


def assert_copied(pages: dict[str, bytes], reply: Post) -> None:
    for where, data in pages.items():
        if where == "search":
            assert data == f"#post-{reply.id}".encode(), "the reply is found by the quoted words"
        else:
            assert MARKER.encode() in data, where
            assert PLACEHOLDER not in data, where


def assert_withheld(pages: dict[str, bytes]) -> None:
    for where, data in pages.items():
        if where == "search":
            assert data == b"", "the reply is no longer found by the quoted words"
        else:
            assert MARKER.encode() not in data, where
    assert PLACEHOLDER in pages["visitor's thread page"]
    assert PLACEHOLDER in pages["thread feed"]


def test_hiding_the_quoted_post_takes_its_copy_out_of_pages_feeds_and_search(
    app: Flask,
    db: Session,
    visitor: Browserish,
    login_as: LoginAs,
    global_moderator: User,
    make: Factory,
    source: Post,
    other_thread: Thread,
    quoting: Post,
) -> None:
    reader = login_as(make.user("reader_rita"))
    assert_copied(everywhere(visitor, reader, other_thread, quoting), quoting)
    moderator = login_as(global_moderator)

    hidden = moderator.post(f"/mod/posts/{source.id}/hide", {"reason": "Off topic"}, page="/")

    assert hidden.status_code == 302
    assert_withheld(everywhere(visitor, reader, other_thread, quoting))
    fresh(db, quoting)
    assert MARKER not in quoting.html
    assert quoting.source.count(MARKER) == 1, "the quoting post's own text is kept"
    # Its own words stay; the quote's attribution goes with the quoted text.
    assert "Couldn't agree more." in quoting.html
    assert f'href="/p/{source.id}"' not in quoting.html

    restored = moderator.post(f"/mod/posts/{source.id}/restore", {"reason": "Fine"}, page="/")

    assert restored.status_code == 302
    assert_copied(everywhere(visitor, reader, other_thread, quoting), quoting)


def test_the_author_deleting_the_quoted_post_takes_its_copy_too(
    app: Flask,
    db: Session,
    visitor: Browserish,
    login_as: LoginAs,
    member_client: Browserish,
    source_author: User,
    source: Post,
    other_thread: Thread,
    quoting: Post,
) -> None:
    author = login_as(source_author)
    thread = db.get_one(Thread, source.thread_id)

    deleted = author.post(f"/p/{source.id}/delete", page=f"/t/{thread.id}/{thread.slug}")

    assert deleted.status_code == 302
    assert_withheld(everywhere(visitor, member_client, other_thread, quoting))


def test_an_admin_purge_takes_the_copy_and_the_purged_posts_own_quotes(
    app: Flask,
    db: Session,
    visitor: Browserish,
    member_client: Browserish,
    login_as: LoginAs,
    admin: User,
    make: Factory,
    source: Post,
    other_thread: Thread,
    quoting: Post,
) -> None:
    # The quoting post is quoted in turn: once purged it quotes nothing.
    assert db.scalars(select(PostQuote.quoted_post_id).where(PostQuote.post_id == quoting.id))
    administrator = login_as(admin)

    purged = administrator.post(f"/admin/posts/{quoting.id}/purge", {"reason": "Gone"}, page="/")
    assert purged.status_code == 302
    assert db.scalar(select(PostQuote).where(PostQuote.post_id == quoting.id)) is None

    second = make.reply(other_thread, admin, f"> [@x said](/p/{source.id}):\n> {SOURCE_TEXT}")
    assert MARKER in second.html
    administrator.post(f"/admin/posts/{source.id}/purge", {"reason": "Gone"}, page="/")

    fresh(db, second)
    assert MARKER not in second.html
    assert markup.WITHHELD_QUOTE in second.html
    assert MARKER.encode() not in thread_page(visitor, other_thread)


def test_hiding_the_quoted_posts_thread_takes_the_copy(
    app: Flask,
    db: Session,
    visitor: Browserish,
    member_client: Browserish,
    global_moderator: User,
    source: Post,
    other_thread: Thread,
    quoting: Post,
) -> None:
    with app.app_context():  # the moderator's action queues its notification's jobs
        moderation.set_thread_hidden(
            db, global_moderator, db.get_one(Thread, source.thread_id), True, "Spam"
        )
        db.commit()

    assert_withheld(everywhere(visitor, member_client, other_thread, quoting))

    with app.app_context():
        moderation.set_thread_hidden(
            db, global_moderator, db.get_one(Thread, source.thread_id), False, "Fine"
        )
        db.commit()

    assert_copied(everywhere(visitor, member_client, other_thread, quoting), quoting)


@pytest.mark.parametrize("who", ["moderator", "member"])
def test_quoting_a_post_that_is_already_hidden_stores_no_copy(
    app: Flask,
    db: Session,
    visitor: Browserish,
    login_as: LoginAs,
    global_moderator: User,
    make: Factory,
    source: Post,
    other_thread: Thread,
    who: str,
) -> None:
    with app.app_context():
        moderation.set_post_hidden(db, global_moderator, source, True, "Off topic")
        db.commit()
    writer = login_as(global_moderator if who == "moderator" else make.user("typist_tom"))
    # The moderator can read the hidden post and copies it by hand; a member retypes a quote
    # from memory. Either way the blockquote credits the hidden post, so it keeps nothing.
    body = f"> [@source_sam said](/p/{source.id}):\n> {SOURCE_TEXT}\n\nMy own words."

    quote_reply(writer, other_thread, body)

    reply = db.scalars(
        select(Post).where(Post.thread_id == other_thread.id).order_by(Post.number.desc())
    ).first()
    assert reply is not None and reply.source == body
    assert MARKER not in reply.html and markup.WITHHELD_QUOTE in reply.html
    assert "My own words." in reply.html
    page = thread_page(visitor, other_thread)
    assert MARKER.encode() not in page and PLACEHOLDER in page
    # The quote is recorded, so restoring the post brings the copy back.
    rows = db.scalars(select(PostQuote.quoted_post_id).where(PostQuote.post_id == reply.id))
    assert list(rows) == [source.id]
    with app.app_context():
        moderation.set_post_hidden(db, global_moderator, source, False, "Fine")
        db.commit()
    assert MARKER.encode() in thread_page(visitor, other_thread)


def test_a_hidden_or_deleted_post_counts_for_no_episode(
    app: Flask,
    db: Session,
    login_as: LoginAs,
    global_moderator: User,
    make: Factory,
    show: Board,
    source_author: User,
    other_thread: Thread,
) -> None:
    episode_thread = make.thread(board=show, author=source_author, title="Late talk")
    later = key_of(1, 9)
    visible = posting.add_post(db, episode_thread, source_author, "Seen it", episode_key=later)
    hidden = posting.add_post(db, episode_thread, source_author, "Hush", episode_key=later)
    deleted = posting.add_post(db, episode_thread, source_author, "Gone", episode_key=later)
    db.commit()
    with app.app_context():
        moderation.set_post_hidden(db, global_moderator, hidden, True, "Spoiler")
        posting.delete_post(deleted)
        db.commit()
    writer = login_as(make.user("quoter_quinn"))

    def episode_of_reply_quoting(post: Post) -> int | None:
        quote_reply(writer, other_thread, f"> [said](/p/{post.id}):\n> words")
        reply = db.scalars(
            select(Post).where(Post.thread_id == other_thread.id).order_by(Post.number.desc())
        ).first()
        assert reply is not None
        return reply.episode_key

    assert episode_of_reply_quoting(visible) == later  # the control: a readable post counts
    assert episode_of_reply_quoting(hidden) is None
    assert episode_of_reply_quoting(deleted) is None
    quotes = posting.quoted_posts(db, show.id, [hidden.id, deleted.id, visible.id])
    assert quotes.episode_key == later
    assert quotes.withheld == {hidden.id, deleted.id}


def test_an_edit_replaces_what_the_post_quotes(
    app: Flask,
    db: Session,
    global_moderator: User,
    make: Factory,
    source: Post,
    other_thread: Thread,
) -> None:
    writer = make.user("editor_eve")
    post = make.reply(other_thread, writer, "Nothing quoted yet")
    with app.app_context():
        moderation.set_post_hidden(db, global_moderator, source, True, "Off topic")
        db.commit()

    assert posting.edit_post(db, post, f"> [s](/p/{source.id}):\n> {SOURCE_TEXT}", writer) is None
    db.commit()

    assert MARKER not in post.html and markup.WITHHELD_QUOTE in post.html
    rows = db.scalars(select(PostQuote.quoted_post_id).where(PostQuote.post_id == post.id))
    assert list(rows) == [source.id]

    assert posting.edit_post(db, post, "Changed my mind", writer) is None
    db.commit()

    assert db.scalar(select(PostQuote).where(PostQuote.post_id == post.id)) is None


def test_an_edit_tells_whom_it_newly_names_or_quotes_never_a_hidden_posts_author(
    app: Flask,
    db: Session,
    global_moderator: User,
    make: Factory,
    show: Board,
    source_author: User,
    source: Post,
    other_thread: Thread,
) -> None:
    writer = make.user("editor_ed")
    named = make.user("named_nia")
    quotable_author = make.user("quoted_quill")
    quotable = make.reply(other_thread, quotable_author, "Quotable")
    post = make.reply(other_thread, writer, "First draft, @named_nia")
    with app.app_context():
        moderation.set_post_hidden(db, global_moderator, source, True, "Off topic")
        db.commit()

    def told(user: User) -> list[str]:
        rows = db.scalars(select(Notification.kind).where(Notification.user_id == user.id))
        return sorted(rows)

    with app.app_context():
        edited = (
            f"Still @NAMED_NIA\n\n> [q](/p/{quotable.id}):\n> Quotable\n\n"
            f"> [s](/p/{source.id}):\n> {SOURCE_TEXT}"
        )
        assert posting.edit_post(db, post, edited, writer) is None
        db.commit()  # the job runs at the commit in tests

    assert told(named) == [], "named before the edit (the same account, typed otherwise)"
    assert told(quotable_author) == [NotificationKind.QUOTE.value]
    # The hidden post's author only hears of it being hidden, not of a quote of it.
    assert NotificationKind.QUOTE.value not in told(source_author)


def test_rerender_withholds_the_copies_and_records_the_quotes(
    app: Flask,
    db: Session,
    global_moderator: User,
    make: Factory,
    source: Post,
    other_thread: Thread,
    quoting: Post,
) -> None:
    with app.app_context():
        moderation.set_post_hidden(db, global_moderator, source, True, "Off topic")
        db.commit()
    # As a post from before post_quotes: its copy stored, no row.
    fresh(db, quoting)
    with_copy = markup.render(quoting.source).html
    quoting.html = with_copy
    db.query(PostQuote).filter(PostQuote.post_id == quoting.id).delete()
    db.commit()

    result = app.test_cli_runner().invoke(args=["posts", "rerender", "--all"])

    assert result.exit_code == 0, result.output
    fresh(db, quoting)
    assert MARKER not in quoting.html and markup.WITHHELD_QUOTE in quoting.html
    rows = db.scalars(select(PostQuote.quoted_post_id).where(PostQuote.post_id == quoting.id))
    assert list(rows) == [source.id]


# ------------------------------------------------------------------------------ markup


QUOTE = (
    f"> [@sam said](/p/5):\n>\n> {SOURCE_TEXT}\n> > nested {MARKER}\n\n"
    "Mine.\n\n> [b](/p/6):\n> kept"
)


def test_a_withheld_quote_keeps_only_the_placeholder() -> None:
    whole = markup.render(QUOTE)
    withheld = markup.render(QUOTE, withheld_quotes={5})

    assert MARKER in whole.html
    assert MARKER not in withheld.html
    assert withheld.html.count(markup.WITHHELD_QUOTE) == 1
    assert "Mine." in withheld.html and "kept" in withheld.html
    assert withheld.quoted_post_ids == whole.quoted_post_ids == (5, 6)
    assert markup.render(QUOTE, withheld_quotes={7}).html == whole.html


def test_a_quote_credited_anywhere_in_it_or_nested_is_withheld() -> None:
    credited_last = f"> {SOURCE_TEXT}\n>\n> ([source](/p/5))\n\nMine."
    nested = f"> [a](/p/6)\n> > [b](/p/5) {SOURCE_TEXT}\n\nMine."

    assert MARKER not in markup.render(credited_last, withheld_quotes={5}).html
    inner = markup.render(nested, withheld_quotes={5}).html
    assert MARKER not in inner and 'href="/p/6"' in inner
    assert MARKER not in markup.render(nested, withheld_quotes={6}).html


@pytest.mark.parametrize("filler_lines", [200, 250, 300])
def test_a_quote_past_the_markdown_budget_is_withheld_too(filler_lines: int) -> None:
    # Costly characters push the Markdown budget's end before, into or past the quote.
    source = (
        "*** filler ***\n" * filler_lines
        + f"> [@sam said](/p/5):\n> {SOURCE_TEXT}"
        + f"\n> more {MARKER} *" * 300
        + f"\nlazy {MARKER}\n\nMine after."
    )

    whole = markup.render(source)
    withheld = markup.render(source, withheld_quotes={5})

    assert MARKER in whole.html and 5 in whole.quoted_post_ids
    assert MARKER not in withheld.html
    assert markup.WITHHELD_QUOTE in withheld.html and "Mine after." in withheld.html
    assert markup.render(source, withheld_quotes={6}).html == whole.html
