"""The read pages (board index, board, thread, permalink, profile, search) and the thread actions
a fan takes from them (reply, preview, edit, delete), through HTTP."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from forum.models import Board, Post, Role, Thread, User
from forum.staff import moderation
from tests.conftest import Browserish, Factory

ARTICLE = re.compile(r'<article class="post[^"]*" id="post-(\d+)"[^>]*>(.*?)</article>', re.S)
POST_NUMBER = re.compile(r'<span class="post-number">#(\d+)</span>')
THREAD_TITLE = re.compile(r'<h3 class="thread-title">.*?<a href="[^"]*">([^<]*)</a>', re.S)
BOARD_CARD = re.compile(r'<li class="board-card">(.*?)</li>', re.S)

GARBAGE_PAGES = ["abc", "-5", "0", "1.5", "", "%00", "999999", "99999999999999999999999999"]


def page_text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def thread_url(thread: Thread) -> str:
    return f"/t/{thread.id}/{thread.slug}"


def articles(html: str) -> list[tuple[int, str]]:
    return [(int(post_id), body) for post_id, body in ARTICLE.findall(html)]


def post_numbers(html: str) -> list[int]:
    return [int(n) for n in POST_NUMBER.findall(html)]


def board_card(html: str, board_name: str) -> str:
    cards = [card for card in BOARD_CARD.findall(html) if f">{board_name}</a>" in card]
    assert len(cards) == 1, f"expected one card for {board_name}, found {len(cards)}"
    return cards[0]


def count_posts(db: Session, thread: Thread) -> int:
    return db.scalar(select(func.count()).select_from(Post).where(Post.thread_id == thread.id)) or 0


def posts_of(db: Session, thread: Thread) -> list[Post]:
    return list(db.scalars(select(Post).where(Post.thread_id == thread.id).order_by(Post.number)))


@pytest.fixture
def board(make: Factory) -> Board:
    return make.board("the-bear", name="The Bear", network="FX", status="renewed")


@pytest.fixture
def others_thread(make: Factory, board: Board) -> Thread:
    """A thread started by someone other than the logged-in member."""
    return make.thread(
        board=board,
        author=make.user("other_olu"),
        title="Best episode ever?",
        body="Fishes, obviously",
    )


# ------------------------------------------------------------------------------ index


def test_index_shows_board_name_network_and_status(client: Browserish, board: Board) -> None:
    card = board_card(page_text(client.get("/")), "The Bear")

    assert 'class="network">FX<' in card
    assert ">renewed<" in card


def test_index_shows_board_counts_and_latest_thread(
    client: Browserish, make: Factory, board: Board
) -> None:
    fan = make.user()
    make.thread(board=board, author=fan, title="Season 2 theories", replies=2)
    make.thread(board=board, author=fan, title="Who is Richie?", replies=1)

    card = board_card(page_text(client.get("/")), "The Bear")
    assert "<dt>Threads</dt><dd>2</dd>" in card
    assert "<dt>Posts</dt><dd>5</dd>" in card
    assert ">Who is Richie?</a>" in card


def test_index_lists_every_board_but_not_archived_ones(client: Browserish, make: Factory) -> None:
    for name in ("Severance", "Andor", "Shogun"):
        make.board(name=name)
    make.board(name="Firefly", is_archived=True)

    page = page_text(client.get("/"))
    for name in ("Severance", "Andor", "Shogun"):
        board_card(page, name)
    assert "Firefly" not in page


def test_index_never_names_a_hidden_thread(
    client: Browserish, make: Factory, db: Session, board: Board
) -> None:
    moderator = make.user(role=Role.MODERATOR)
    make.thread(board=board, title="Episode 1 discussion")
    leak = make.thread(board=board, title="Leaked finale script")
    moderation.set_thread_hidden(db, moderator, leak, True)
    db.commit()
    make.reply(leak, moderator, "Hiding this until it airs")

    page = page_text(client.get("/"))

    assert "Leaked finale script" not in page
    assert ">Episode 1 discussion</a>" in board_card(page, "The Bear")


# ------------------------------------------------------------------------------ board page


def test_board_lists_pinned_threads_first_then_latest_activity(
    client: Browserish, make: Factory, db: Session, board: Board
) -> None:
    fan = make.user()
    oldest = make.thread(board=board, author=fan, title="Oldest")
    make.thread(board=board, author=fan, title="Middle")
    pinned = make.thread(board=board, author=fan, title="Rules of the board")
    make.thread(board=board, author=fan, title="Newest")
    pinned.is_pinned = True
    db.commit()
    make.reply(oldest, fan, "Bumping this back up")

    titles = THREAD_TITLE.findall(page_text(client.get(f"/b/{board.slug}")))
    assert titles == ["Rules of the board", "Oldest", "Newest", "Middle"]


@pytest.fixture
def busy_board(make: Factory, board: Board) -> Board:
    """31 threads: one more than a page. "Thread 1" is the least recently active."""
    fan = make.user()
    for n in range(1, 32):
        make.thread(board=board, author=fan, title=f"Thread {n}")
    return board


def test_board_shows_30_threads_per_page(client: Browserish, busy_board: Board) -> None:
    titles = THREAD_TITLE.findall(page_text(client.get(f"/b/{busy_board.slug}")))

    assert titles == [f"Thread {n}" for n in range(31, 1, -1)]


def test_board_page_2_shows_the_rest(client: Browserish, busy_board: Board) -> None:
    first = page_text(client.get(f"/b/{busy_board.slug}"))
    assert f'href="/b/{busy_board.slug}?page=2"' in first

    titles = THREAD_TITLE.findall(page_text(client.get(f"/b/{busy_board.slug}?page=2")))
    assert titles == ["Thread 1"]


@pytest.mark.parametrize("raw", GARBAGE_PAGES)
def test_board_page_number_garbage_still_shows_the_board(
    client: Browserish, app: Flask, make: Factory, board: Board, raw: str
) -> None:
    app.config["THREADS_PER_PAGE"] = 2  # three threads make two pages
    for n in range(3):
        make.thread(board=board, title=f"Thread {n}")

    response = client.get(f"/b/{board.slug}?page={raw}")

    assert response.status_code == 200
    assert len(THREAD_TITLE.findall(page_text(response))) in (2, 1)


@pytest.mark.parametrize(("raw", "shown"), [("999999", ["Thread 1"]), ("-5", None)])
def test_board_page_number_is_clamped(
    client: Browserish, busy_board: Board, raw: str, shown: list[str] | None
) -> None:
    titles = THREAD_TITLE.findall(page_text(client.get(f"/b/{busy_board.slug}?page={raw}")))

    assert titles == (shown or [f"Thread {n}" for n in range(31, 1, -1)])


# ------------------------------------------------------------------------------ not found


@pytest.mark.parametrize(
    "url", ["/b/no-such-show", "/t/999999", "/t/999999/some-slug", "/p/999999", "/u/nobody_here"]
)
def test_unknown_things_get_a_friendly_404(client: Browserish, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 404
    page = page_text(response)
    assert "<h1>We couldn&#39;t find that page</h1>" in page
    assert "Back to the show boards" in page


# ------------------------------------------------------------------------------ thread page


def test_thread_without_slug_redirects_permanently_to_canonical_url(
    client: Browserish, others_thread: Thread
) -> None:
    response = client.get(f"/t/{others_thread.id}")

    assert response.status_code == 301
    assert response.headers["Location"] == f"/t/{others_thread.id}/best-episode-ever"


def test_thread_with_wrong_slug_redirects_keeping_the_page(
    client: Browserish, make: Factory, board: Board
) -> None:
    thread = make.thread(board=board, title="Long one", replies=24)

    response = client.get(f"/t/{thread.id}/old-title?page=2")

    assert response.status_code == 301
    assert response.headers["Location"] == f"/t/{thread.id}/long-one?page=2"


@pytest.fixture
def long_thread(make: Factory, board: Board) -> Thread:
    """45 posts: pages of 20, 20 and 5."""
    return make.thread(board=board, title="Episode discussion", replies=44)


def test_thread_shows_the_first_20_posts_oldest_first(
    client: Browserish, long_thread: Thread
) -> None:
    page = page_text(client.get(thread_url(long_thread)))

    assert post_numbers(page) == list(range(1, 21))


def test_thread_articles_are_the_posts_each_with_one_body(
    client: Browserish, db: Session, long_thread: Thread
) -> None:
    page = page_text(client.get(thread_url(long_thread)))

    found = articles(page)
    assert [post_id for post_id, _ in found] == [post.id for post in posts_of(db, long_thread)[:20]]
    for post_id, body in found:
        assert body.count('class="post-body"') == 1, f"post {post_id}"


def test_thread_last_page_is_linked_and_reachable(client: Browserish, long_thread: Thread) -> None:
    first = page_text(client.get(thread_url(long_thread)))
    assert f'href="{thread_url(long_thread)}?page=3"' in first

    last = page_text(client.get(f"{thread_url(long_thread)}?page=3"))
    assert post_numbers(last) == [41, 42, 43, 44, 45]


@pytest.mark.parametrize("raw", GARBAGE_PAGES)
def test_thread_page_number_garbage_still_shows_posts(
    client: Browserish, app: Flask, make: Factory, board: Board, raw: str
) -> None:
    app.config["POSTS_PER_PAGE"] = 2  # three posts make two pages
    thread = make.thread(board=board, replies=2)

    response = client.get(f"{thread_url(thread)}?page={raw}")

    assert response.status_code == 200
    assert post_numbers(page_text(response)) in ([1, 2], [3])


@pytest.fixture
def hidden_post(make: Factory, db: Session, others_thread: Thread) -> Post:
    """A reply a moderator has hidden as a spoiler."""
    post = make.reply(others_thread, make.user("spoiler_sam"), "Carmy leaves in the finale")
    moderation.set_post_hidden(db, make.user(role=Role.MODERATOR), post, True, "spoiler")
    db.commit()
    return post


def test_thread_page_hides_a_hidden_posts_text_from_members(
    member_client: Browserish, others_thread: Thread, hidden_post: Post
) -> None:
    page = page_text(member_client.get(thread_url(others_thread)))

    (article,) = [body for post_id, body in articles(page) if post_id == hidden_post.id]
    assert "Carmy leaves" not in page
    assert 'class="post-body"' not in article


def test_each_post_shows_the_buttons_its_viewer_may_use_and_no_empty_footer(
    app: Flask, member_client: Browserish, member: User, make: Factory, others_thread: Thread
) -> None:
    own = make.reply(others_thread, member, "My own take")
    visitor = page_text(Browserish(app.test_client()).get(thread_url(others_thread)))
    mine = page_text(member_client.get(thread_url(others_thread)))

    assert 'class="post-actions"' not in visitor  # no buttons, so no footer either
    by_post = dict(articles(mine))
    assert f'href="/p/{own.id}/edit"' in by_post[own.id]
    assert "report-link" not in by_post[own.id]
    (opening,) = [body for post_id, body in articles(mine) if post_id != own.id]
    assert "report-link" in opening and "/edit" not in opening


# ------------------------------------------------------------------------------ permalinks


@pytest.mark.parametrize(("number", "page"), [(1, None), (20, None), (21, 2), (45, 3)])
def test_permalink_redirects_to_the_page_holding_the_post(
    client: Browserish, db: Session, long_thread: Thread, number: int, page: int | None
) -> None:
    post = posts_of(db, long_thread)[number - 1]

    response = client.get(f"/p/{post.id}")

    query = f"?page={page}" if page else ""
    assert response.status_code == 302
    assert response.headers["Location"] == f"{thread_url(long_thread)}{query}#post-{post.id}"


# ------------------------------------------------------------------------------ profiles


def test_profile_shows_join_date_post_count_and_recent_posts(
    client: Browserish, make: Factory, member: User, board: Board
) -> None:
    thread = make.thread(
        board=board, author=member, title="Ranking every finale", body="Number one: **The Bear** S1"
    )
    make.reply(thread, member, "Number two: the one with the fishes")

    page = page_text(client.get("/u/member_mel"))

    joined = f"{member.created_at:%B} {member.created_at.day}, {member.created_at.year}"
    assert f'Joined <time datetime="{member.created_at.isoformat(timespec="seconds")}' in page
    assert joined in page
    assert "2 posts" in page
    assert "Ranking every finale" in page
    assert "Number one: <strong>The Bear</strong> S1" in page
    assert "the one with the fishes" in page


FULLWIDTH_MEMBER_MEL = "".join(chr(ord(c) + 0xFEE0) if c.isalpha() else c for c in "member_mel")


def test_profile_leaves_out_hidden_posts(client: Browserish, hidden_post: Post) -> None:
    page = page_text(client.get("/u/spoiler_sam"))

    assert "Carmy leaves" not in page


@pytest.mark.parametrize("spelling", ["MEMBER_MEL", "Member_Mel", FULLWIDTH_MEMBER_MEL])
def test_profile_lookup_ignores_case_and_width(
    client: Browserish, member: User, spelling: str
) -> None:
    response = client.get(f"/u/{spelling}")

    assert response.status_code == 200
    assert "<h1>member_mel</h1>" in page_text(response)


# ------------------------------------------------------------------------------ replying


def test_reply_lands_on_the_last_page_anchored_to_the_new_post(
    member_client: Browserish, make: Factory, db: Session, board: Board
) -> None:
    thread = make.thread(board=board, title="Twenty posts", replies=19)

    response = member_client.post(
        f"/t/{thread.id}/reply", {"body": "Number twenty-one"}, page=thread_url(thread)
    )

    new = posts_of(db, thread)[-1]
    assert new.number == 21
    assert new.source == "Number twenty-one"
    assert response.status_code == 302
    assert response.headers["Location"] == f"{thread_url(thread)}?page=2#post-{new.id}"
    assert f'id="post-{new.id}"' in page_text(member_client.get(f"{thread_url(thread)}?page=2"))


def test_a_reply_shows_on_the_next_anonymous_view_of_a_cached_thread(
    member_client: Browserish, app: Flask, others_thread: Thread
) -> None:
    visitor = Browserish(app.test_client())
    assert "Sydney deserves better" not in page_text(visitor.get(thread_url(others_thread)))

    member_client.post(
        f"/t/{others_thread.id}/reply",
        {"body": "Sydney deserves better"},
        page=thread_url(others_thread),
    )

    assert "Sydney deserves better" in page_text(visitor.get(thread_url(others_thread)))


def test_reply_preview_shows_rendered_html_and_saves_nothing(
    member_client: Browserish, db: Session, others_thread: Thread
) -> None:
    response = member_client.post(
        f"/t/{others_thread.id}/reply",
        {"body": "What a **cliffhanger**", "preview": "1"},
        page=thread_url(others_thread),
    )

    assert response.status_code == 200
    page = page_text(response)
    assert '<div class="post-body preview-body"><p>What a <strong>cliffhanger</strong></p>' in page
    assert "What a **cliffhanger**</textarea>" in page
    assert count_posts(db, others_thread) == 1


@pytest.mark.parametrize("body", ["", "   ", "\n\n\n"])
def test_empty_reply_shows_an_error_and_saves_nothing(
    member_client: Browserish, db: Session, others_thread: Thread, body: str
) -> None:
    response = member_client.post(
        f"/t/{others_thread.id}/reply", {"body": body}, page=thread_url(others_thread)
    )

    page = page_text(response)
    assert re.search(r'<p class="error"[^>]*>Write something first.</p>', page)
    assert count_posts(db, others_thread) == 1


def test_too_long_reply_is_refused_and_the_text_is_kept(
    member_client: Browserish, db: Session, others_thread: Thread
) -> None:
    body = "spoiler " * 6250 + "!"  # 50,001 characters

    response = member_client.post(
        f"/t/{others_thread.id}/reply", {"body": body}, page=thread_url(others_thread)
    )

    page = page_text(response)
    assert "Posts can be up to 50,000 characters long." in page
    assert f"{body}</textarea>" in page
    assert count_posts(db, others_thread) == 1


def test_reply_of_exactly_50000_characters_is_accepted(
    member_client: Browserish, db: Session, others_thread: Thread
) -> None:
    body = "spoiler " * 6250  # trailing space is trimmed, so end on a letter
    body = body[:-1] + "!"

    response = member_client.post(
        f"/t/{others_thread.id}/reply", {"body": body}, page=thread_url(others_thread)
    )

    assert len(body) == 50_000
    assert response.status_code == 302
    assert posts_of(db, others_thread)[-1].source == body


def test_anonymous_reply_gets_the_login_page_keeping_the_text(
    client: Browserish, db: Session, others_thread: Thread
) -> None:
    body = 'Theory: "Sydney" <3 opens her own place & Carmy stays'

    response = client.post(f"/t/{others_thread.id}/reply", {"body": body})

    assert response.status_code == 401
    page = page_text(response)
    assert 'action="/login"' in page
    assert f'<input type="hidden" name="body" value="{escape(body)}">' in page
    assert count_posts(db, others_thread) == 1


@pytest.mark.parametrize("token", [None, "forged-token"], ids=["missing", "invalid"])
def test_reply_without_a_valid_csrf_token_saves_nothing_and_keeps_the_text(
    member_client: Browserish, db: Session, others_thread: Thread, token: str | None
) -> None:
    body = "Typed for ten minutes & <em>not</em> losing it"
    data = {"body": body} if token is None else {"body": body, "csrf_token": token}

    response = member_client.raw_post(
        f"/t/{others_thread.id}/reply", data, headers={"Sec-Fetch-Site": "same-origin"}
    )

    assert response.status_code == 400
    assert f"{escape(body)}</textarea>" in page_text(response)
    assert count_posts(db, others_thread) == 1


# ------------------------------------------------------------------------------ edit and delete


@pytest.fixture
def own_post(make: Factory, member: User, board: Board) -> Post:
    thread = make.thread(board=board, author=member, title="My hot take")
    return make.reply(thread, member, "The **original** take")


def test_edit_form_shows_the_post_source(member_client: Browserish, own_post: Post) -> None:
    response = member_client.get(f"/p/{own_post.id}/edit")

    assert response.status_code == 200
    assert "The **original** take</textarea>" in page_text(response)


def test_editing_own_post_updates_it_and_marks_it_edited(
    member_client: Browserish, db: Session, own_post: Post
) -> None:
    response = member_client.post(
        f"/p/{own_post.id}/edit", {"body": "A _revised_ take"}, page=f"/p/{own_post.id}/edit"
    )

    assert response.status_code == 302
    db.refresh(own_post)
    assert own_post.source == "A _revised_ take"
    (article,) = [
        body
        for post_id, body in articles(
            page_text(member_client.get(response.headers["Location"].split("#")[0]))
        )
        if post_id == own_post.id
    ]
    assert "<p>A <em>revised</em> take</p>" in article
    assert '<span class="edited"' in article


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_editing_someone_elses_post_is_forbidden(
    member_client: Browserish, db: Session, others_thread: Thread, method: str
) -> None:
    (post,) = posts_of(db, others_thread)

    if method == "GET":
        response = member_client.get(f"/p/{post.id}/edit")
    else:
        response = member_client.post(f"/p/{post.id}/edit", {"body": "Vandalised"})

    assert response.status_code == 403
    db.refresh(post)
    assert post.source == "Fishes, obviously"


def test_deleting_own_post_leaves_a_removed_stub(
    member_client: Browserish, db: Session, own_post: Post
) -> None:
    thread = db.get(Thread, own_post.thread_id)
    assert thread is not None

    response = member_client.post(f"/p/{own_post.id}/delete", page=thread_url(thread))

    assert response.status_code == 302
    page = page_text(member_client.get(thread_url(thread)))
    (article,) = [body for post_id, body in articles(page) if post_id == own_post.id]
    assert "This post was deleted by its author." in article
    assert "original" not in article
    db.refresh(own_post)
    assert own_post.is_deleted


# ------------------------------------------------------------------------------ search, preview


@pytest.mark.parametrize(
    "query",
    [
        "q=",
        "q=the+bear",
        "q=%00%01",
        "q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "q=%27%20OR%201%3D1%20--",
        "q=%E2%80%AE%F0%9F%8D%9D",
        "q=%FF%FE",
        "q=" + "x" * 5000,
        "q=x&page=abc",
        "q=x&page=-1",
        "q=x&q=y",
    ],
)
def test_search_never_fails(client: Browserish, query: str) -> None:
    assert client.get(f"/search?{query}").status_code == 200


def test_preview_renders_markdown_for_a_member(member_client: Browserish) -> None:
    response = member_client.post("/preview", {"body": "Yes, **chef**!"}, page="/")

    assert response.status_code == 200
    assert "<p>Yes, <strong>chef</strong>!</p>" in page_text(response)


def test_preview_is_for_members_only(client: Browserish) -> None:
    response = client.post("/preview", {"body": "Yes, **chef**!"})

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
