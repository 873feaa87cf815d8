"""Quote-replies: /p/<id>/quote (the reply form pre-filled, or the Markdown alone for
static/js/quoting.js), what a quote may copy (never hidden text, never a spoiler the viewer
hasn't reached), and the quote reply going through the ordinary reply endpoint."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.access.viewer import Viewer
from forum.accounts.membership import delete_account
from forum.conversation import quoting
from forum.discussion import markup, posting
from forum.discussion.episode_codes import key_of
from forum.models import Board, Post, Thread, User
from forum.staff import moderation
from tests.conftest import Browserish, Factory, LoginAs, fresh, text_of

SECRET = "Marcus wins the Zagreb case"
SPOILER_POST = f"Watch the ending.\n\nThen >!S1E8: {SECRET}!< and nothing else."


def textarea(page: str) -> str:
    """The reply box's text, as the browser would read it (entities decoded)."""
    found = re.search(r'<textarea[^>]*name="body"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    assert found, "no reply box on the page"
    # A browser drops the newline that follows <textarea>.
    return unescape(found.group(1)).removeprefix("\r\n").replace("\r\n", "\n")


def at_episode(db: Session, user: User, board: Board, season: int, number: int) -> None:
    user.watch_progress = {str(board.id): key_of(season, number)}
    db.commit()


@pytest.fixture
def show(make: Factory) -> Board:
    return make.board("partner-show", name="Partner Show")


@pytest.fixture
def author(make: Factory) -> User:
    return make.user("demo")


@pytest.fixture
def thread(make: Factory, show: Board, author: User) -> Thread:
    return make.thread(board=show, author=author, title="Season talk", body="Opening words")


def test_quote_page_prefills_the_reply_form_with_attribution_and_permalink(
    member_client: Browserish, make: Factory, thread: Thread, author: User
) -> None:
    post = make.reply(thread, author, "The goats were *the* best part.\n\nSecond paragraph.")

    response = member_client.get(f"/p/{post.id}/quote")

    assert response.status_code == 200
    page = text_of(response)
    body = textarea(page)
    assert body == (
        f"> [@demo said](/p/{post.id}):\n"
        ">\n"
        "> The goats were *the* best part.\n"
        ">\n"
        "> Second paragraph.\n\n"
    )
    # The thread page's reply form: same endpoint, CSRF token, buttons.
    assert f'action="/t/{thread.id}/reply"' in page
    assert 'name="csrf_token"' in page
    assert 'name="post"' in page and 'name="preview"' in page
    assert markup.render(body).quoted_post_ids == (post.id,)


def test_markdown_alone_for_the_script(
    member_client: Browserish, make: Factory, thread: Thread, author: User
) -> None:
    post = make.reply(thread, author, "Short one")

    as_md = member_client.get(f"/p/{post.id}/quote?format=md")
    as_json = member_client.get(f"/p/{post.id}/quote", headers={"Accept": "application/json"})

    assert as_md.status_code == 200
    assert as_md.content_type.startswith("text/markdown")
    assert text_of(as_md) == f"> [@demo said](/p/{post.id}):\n>\n> Short one\n\n"
    assert as_json.get_json() == {"markdown": text_of(as_md)}


def test_visitors_are_sent_to_log_in(client: Browserish, thread: Thread) -> None:
    post_id = thread.last_post_id

    page = client.get(f"/p/{post_id}/quote")
    script = client.get(f"/p/{post_id}/quote?format=md")

    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert script.status_code == 401


def test_a_hidden_post_is_not_found_for_members_and_refused_to_its_moderators(
    app: Flask,
    db: Session,
    make: Factory,
    member_client: Browserish,
    login_as: LoginAs,
    global_moderator: User,
    thread: Thread,
    author: User,
) -> None:
    post = make.reply(thread, author, "Hidden words for moderators")
    with app.app_context():  # the moderator's action queues its notification's jobs
        moderation.set_post_hidden(db, global_moderator, post, True, "off topic")
        db.commit()
    moderator = login_as(global_moderator)

    for url in (f"/p/{post.id}/quote", f"/p/{post.id}/quote?format=md"):
        response = member_client.get(url)
        assert response.status_code == 404
        assert b"Hidden words" not in response.data
    # Moderators still read it on the thread page, but a quote would publish it again.
    for url in (f"/p/{post.id}/quote", f"/p/{post.id}/quote?format=md"):
        response = moderator.get(url)
        assert response.status_code == 403
        assert b"Hidden words" not in response.data
        assert quoting.HIDDEN_REFUSAL in unescape(text_of(response))
        assert 'name="body"' not in text_of(response)
    as_json = moderator.get(f"/p/{post.id}/quote", headers={"Accept": "application/json"})
    assert as_json.status_code == 403
    assert as_json.get_json() == {"error": quoting.HIDDEN_REFUSAL}
    assert quoting.quote_markdown(db, Viewer(user=global_moderator), post) is None


def test_no_quote_button_for_a_hidden_post_even_for_moderators(
    app: Flask,
    db: Session,
    make: Factory,
    member_client: Browserish,
    login_as: LoginAs,
    global_moderator: User,
    thread: Thread,
    author: User,
) -> None:
    shown = make.reply(thread, author, "Words anyone may quote")
    hidden = make.reply(thread, author, "Hidden words for moderators")
    with app.app_context():  # the moderator's action queues its notification's jobs
        moderation.set_post_hidden(db, global_moderator, hidden, True, "off topic")
        db.commit()

    for client in (member_client, login_as(global_moderator)):
        page = text_of(client.get(f"/t/{thread.id}", follow_redirects=True))
        assert f'href="/p/{shown.id}/quote"' in page
        assert f'href="/p/{hidden.id}/quote"' not in page
        assert f'data-quote="{hidden.id}"' not in page


def test_a_hidden_threads_posts_are_quotable_by_its_moderators(
    app: Flask,
    db: Session,
    make: Factory,
    login_as: LoginAs,
    global_moderator: User,
    thread: Thread,
    author: User,
) -> None:
    post = make.reply(thread, author, "Words in a hidden thread")
    with app.app_context():  # the moderator's action queues its notification's jobs
        moderation.set_thread_hidden(db, global_moderator, thread, True, "off topic")
        db.commit()

    response = login_as(global_moderator).get(f"/p/{post.id}/quote?format=md")

    assert response.status_code == 200
    assert "> Words in a hidden thread" in text_of(response)


def test_a_deleted_post_or_a_missing_one_is_not_found(
    member_client: Browserish, make: Factory, thread: Thread, author: User
) -> None:
    post = make.reply(thread, author, "Soon gone")
    posting.delete_post(post)
    make.session.commit()

    assert member_client.get(f"/p/{post.id}/quote").status_code == 404
    assert member_client.get("/p/999999999/quote").status_code == 404


def test_an_unreached_spoiler_is_never_copied(
    db: Session,
    make: Factory,
    member: User,
    member_client: Browserish,
    show: Board,
    thread: Thread,
    author: User,
) -> None:
    post = make.reply(thread, author, SPOILER_POST)
    at_episode(db, member, show, 1, 6)

    page = member_client.get(f"/p/{post.id}/quote")
    script = member_client.get(f"/p/{post.id}/quote?format=md")

    for response in (page, script):
        assert response.status_code == 200
        assert SECRET.encode() not in response.data
        assert b"Zagreb" not in response.data
    body = text_of(script)
    assert "> Then >!S1E8: (spoiler not copied: you haven't watched it yet)!< and nothing" in body
    assert "> Watch the ending." in body


def test_a_reached_spoiler_is_kept_in_spoiler_syntax(
    db: Session,
    make: Factory,
    member: User,
    member_client: Browserish,
    show: Board,
    thread: Thread,
    author: User,
) -> None:
    post = make.reply(thread, author, SPOILER_POST)
    at_episode(db, member, show, 1, 9)

    body = text_of(member_client.get(f"/p/{post.id}/quote?format=md"))

    assert f"> Then >!S1E8: {SECRET}!< and nothing else." in body
    # In the reply it is a spoiler still, hidden from its readers.
    assert markup.render(body).spoiler_codes == frozenset({key_of(1, 8)})


def test_a_post_about_an_unreached_episode_is_not_copied_at_all(
    db: Session, make: Factory, member: User, member_client: Browserish, show: Board, author: User
) -> None:
    episode_thread = posting.create_thread(
        db, show, author, "S1E8 discussion", f"Opening: {SECRET}", episode_key=key_of(1, 8)
    )
    db.commit()
    at_episode(db, member, show, 1, 6)
    opener_id = db.scalar(select(Post.id).where(Post.thread_id == episode_thread.id))

    response = member_client.get(f"/p/{opener_id}/quote?format=md")

    assert response.status_code == 200
    assert SECRET.encode() not in response.data
    assert "this post discusses S1E8, which you haven't watched yet" in text_of(response)


def test_the_quote_reply_posts_and_discusses_the_quoted_episode(
    db: Session,
    make: Factory,
    member: User,
    member_client: Browserish,
    show: Board,
    thread: Thread,
    author: User,
) -> None:
    source = make.reply(thread, author, "About S1E8")
    source.episode_key = key_of(1, 8)
    db.commit()
    at_episode(db, member, show, 1, 9)
    page = text_of(member_client.get(f"/p/{source.id}/quote"))
    body = textarea(page) + "I agree with this."

    response = member_client.post(
        f"/t/{thread.id}/reply", {"body": body, "post": "1"}, page=f"/p/{source.id}/quote"
    )

    assert response.status_code == 302
    reply = db.scalar(select(Post).where(Post.thread_id == thread.id).order_by(Post.id.desc()))
    assert reply is not None and reply.author_id == member.id
    assert reply.episode_key == key_of(1, 8)
    assert f'<a href="/p/{source.id}"' in reply.html
    assert "<blockquote>" in reply.html


def test_the_reply_needs_its_csrf_token(
    member_client: Browserish, make: Factory, thread: Thread, author: User
) -> None:
    post = make.reply(thread, author, "Quote me")
    body = textarea(text_of(member_client.get(f"/p/{post.id}/quote")))

    forged = member_client.raw_post(f"/t/{thread.id}/reply", {"body": body, "post": "1"})

    assert forged.status_code == 400


def test_a_locked_thread_says_why_and_offers_no_form(
    app: Flask,
    db: Session,
    make: Factory,
    member_client: Browserish,
    global_moderator: User,
    thread: Thread,
    author: User,
) -> None:
    post = make.reply(thread, author, "Before the lock")
    with app.app_context():  # the moderator's action queues its notification's jobs
        moderation.set_locked(db, global_moderator, thread, True)
        db.commit()

    page = member_client.get(f"/p/{post.id}/quote")
    script = member_client.get(f"/p/{post.id}/quote?format=md")

    assert page.status_code == 403
    assert "This thread is locked" in text_of(page)
    assert 'name="body"' not in text_of(page)
    assert script.status_code == 403 and "locked" in text_of(script)


def test_a_suspended_member_is_told_why(
    login_as: LoginAs, suspended_member: User, make: Factory, thread: Thread, author: User
) -> None:
    post = make.reply(thread, author, "Quote me if you can")

    page = login_as(suspended_member).get(f"/p/{post.id}/quote")

    assert page.status_code == 403
    assert "suspended" in text_of(page)


# ------------------------------------------------------------------------------ the Markdown


def viewer_at(user: User, board: Board, limit: int) -> Viewer:
    return Viewer(user=user, spoiler_limits={board.id: limit})


def test_nested_quotes_are_dropped(
    db: Session, make: Factory, member: User, thread: Thread, author: User, show: Board
) -> None:
    post = make.reply(
        thread, author, "> [@someone said](/p/1):\n> old words\n\nMy answer\n>!kept spoiler!<"
    )

    quoted = quoting.quote_markdown(db, viewer_at(member, show, 0), post)

    assert quoted == (f"> [@demo said](/p/{post.id}):\n>\n> My answer\n> >!kept spoiler!<\n\n")
    assert markup.render(quoted).quoted_post_ids == (post.id,)


@pytest.mark.parametrize(
    "source",
    [
        f"x >!S1E8: {SECRET}!<",
        f">!S01E08: {SECRET}!<",
        f">!s1e8:{SECRET}!<",
        f"a >!S1E8: one\nline two {SECRET}!< b",
        f"`code` >!S1E2: fine!< and >!S1E8: {SECRET}!<",
        f">!S1E2: reached, then >!S1E8: {SECRET}!<",
        f"![>!S1E8: {SECRET}!<](https://example.org/x.png)",
        f"- item >!S1E8: {SECRET}!<",
        "x" * 5_000 + f"\n\n>!S1E8: {SECRET}!<",  # past the Markdown budget
    ],
)
def test_no_unreached_spoiler_text_in_any_quote(source: str) -> None:
    withheld = quoting.withhold_spoilers(source, key_of(1, 6))

    assert "Zagreb" not in withheld
    # What markup makes of the original: the same episodes, their text gone.
    assert "Zagreb" not in markup.render(withheld).html


def test_spoilers_the_viewer_reached_are_left_alone() -> None:
    source = f">!S1E8: {SECRET}!< and >!plain!<"

    assert quoting.withhold_spoilers(source, key_of(1, 8)) == source


def test_long_posts_are_cut_outside_spoilers(
    db: Session, make: Factory, member: User, thread: Thread, author: User, show: Board
) -> None:
    long_text = "word " * 590 + f">!S1E2: {'secret ' * 20}!< " + "tail " * 400
    post = make.reply(thread, author, long_text)

    quoted = quoting.quote_markdown(db, viewer_at(member, show, key_of(1, 2)), post)

    assert quoted is not None and quoted.endswith("> …\n\n")
    assert len(quoted) < quoting.QUOTE_MAX_CHARS + 200
    # The spoiler is whole or gone: never its text without its closing `!<`.
    assert ("secret" in quoted) == ("!<" in quoted)


def test_a_deleted_authors_post_is_credited_to_a_deleted_member(
    db: Session, make: Factory, member: User, show: Board
) -> None:
    gone = make.user("gone_gus")
    thread = make.thread(board=show, author=gone, body="Words that stay")
    delete_account(db, gone)
    db.commit()
    post = db.scalar(select(Post).where(Post.thread_id == thread.id))
    assert post is not None
    fresh(db, post)

    quoted = quoting.quote_markdown(db, viewer_at(member, show, 0), post)

    assert quoted == f"> [A deleted member said](/p/{post.id}):\n>\n> Words that stay\n\n"
