"""Oversized, malformed and pathological input: refused politely (with the fan's text kept where
there is text to keep), stored clean, rendered safely. Never a 500."""

from __future__ import annotations

import io
import socket
import threading
from urllib.parse import quote_plus

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from forum.discussion.markup_bounds import MAX_TABLE_CELLS
from forum.models import Post, Thread, User
from tests.conftest import PASSWORD, Browserish, Factory, browser_for
from tests.html_scan import read, scan
from tests.security.targets import Forum, changed_tables, snapshot

LIMIT_MESSAGE = "Posts can be up to 50,000 characters long."
TEN_MEGABYTES = 10 * 1024 * 1024


@pytest.fixture
def member(app: Flask, forum: Forum) -> Browserish:
    return browser_for(app, forum.mallory.username)


def kept_body(response: TestResponse) -> str:
    return read(response.get_data(as_text=True)).values.get("body", "")


# ------------------------------------------------------------------------------ long posts


def test_a_50001_character_post_is_refused_and_kept(
    member: Browserish, forum: Forum, db: Session
) -> None:
    aim = forum.main
    text = ("Long theory. " * 4000)[:50_001]
    token = member.token("/settings")
    before = snapshot(db)
    answers = {
        "new thread": member.client.post(
            f"/b/{aim.board_slug}/new",
            data={"csrf_token": token, "title": "A very long theory", "body": text},
        ),
        "reply": member.client.post(
            f"/t/{aim.thread_id}/reply", data={"csrf_token": token, "body": text}
        ),
        "edit": member.client.post(
            f"/p/{aim.reported_post_id}/edit", data={"csrf_token": token, "body": text}
        ),
    }

    for what, response in answers.items():
        page = read(response.get_data(as_text=True))
        assert response.status_code == 200, what
        assert LIMIT_MESSAGE in page.errors, f"{what}: {page.errors}"
        assert kept_body(response) == text, f"{what}: the text was not handed back whole"
    assert changed_tables(before, snapshot(db)) == []


def test_a_50000_character_post_is_accepted(member: Browserish, forum: Forum) -> None:
    """The control for the test above: the limit is 50,000, not less."""
    text = ("Long theory. " * 4000)[:50_000]

    response = member.post(f"/t/{forum.main.thread_id}/reply", {"body": text}, page="/settings")

    assert response.status_code == 302


def test_a_151_character_title_is_refused_and_kept(member: Browserish, forum: Forum) -> None:
    title = "T" * 151

    response = member.post(
        f"/b/{forum.main.board_slug}/new", {"title": title, "body": "Short body"}, page="/settings"
    )

    page = read(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Titles are 3 to 150 characters long." in page.errors
    assert page.values.get("title") == title


# ------------------------------------------------------------------------------ 10 MB


def test_a_ten_megabyte_request_gets_a_friendly_413(
    app: Flask, member: Browserish, forum: Forum, db: Session
) -> None:
    aim = forum.main
    visitor = Browserish(app.test_client())
    huge = "x" * TEN_MEGABYTES
    before = snapshot(db)
    answers = {
        "login": visitor.post("/login", {"username": huge, "password": PASSWORD}),
        "sign-up": visitor.post("/register", {"username": "big", "email": huge}, page="/register"),
        "new thread": member.post(
            f"/b/{aim.board_slug}/new", {"title": "Big", "body": huge}, page="/settings"
        ),
        "reply": member.post(f"/t/{aim.thread_id}/reply", {"body": huge}, page="/settings"),
        "preview": member.post("/preview", {"body": huge}, page="/settings"),
        "file upload": member.post(
            f"/t/{aim.thread_id}/reply",
            {"body": "small", "attachment": (io.BytesIO(huge.encode()), "a.txt")},
            page="/settings",
        ),
    }

    for what, response in answers.items():
        assert response.status_code == 413, what
        assert response.mimetype == "text/html", what
        assert "too big" in read(response.get_data(as_text=True)).text.lower(), what
    assert changed_tables(before, snapshot(db)) == []


def test_the_413_page_says_the_text_is_kept_and_offers_the_way_back(
    member: Browserish, forum: Forum
) -> None:
    """The body of a 413 is never read, so the server can't hand the text back; the page says
    where it is (static/js/app.js keeps it in the browser tab) and links back to the form."""
    form_page = f"/t/{forum.main.thread_id}/{forum.main.thread_slug}"
    response = member.post(
        f"/t/{forum.main.thread_id}/reply",
        {"body": "x" * TEN_MEGABYTES},
        page="/settings",
        headers={"Referer": f"http://localhost{form_page}"},
    )

    page = read(response.get_data(as_text=True))
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "Posts can be up to 50,000 characters long, and a whole form up to 1 MB" in page.text
    assert "Your text is kept in this browser tab" in page.text
    assert f'href="{form_page}">Back to the form</a>' in html
    assert f'data-refused-action="/t/{forum.main.thread_id}/reply"' in html


def test_the_413_back_link_never_leaves_the_site(member: Browserish, forum: Forum) -> None:
    response = member.post(
        f"/t/{forum.main.thread_id}/reply",
        {"body": "x" * TEN_MEGABYTES},
        page="/settings",
        headers={"Referer": "https://evil.example/form"},
    )

    assert response.status_code == 413
    assert 'href="/">Back to the form</a>' in response.get_data(as_text=True)


def chunked_post(member: Browserish, url: str, fields: dict[str, str]) -> TestResponse:
    """A POST whose body comes chunked, as a WSGI server hands it on: no Content-Length, the
    stream de-chunked and marked terminated (gunicorn and Werkzeug's server both do this)."""
    body = "&".join(f"{name}={quote_plus(value)}" for name, value in fields.items()).encode()
    return member.client.post(
        url,
        input_stream=io.BytesIO(body),
        content_type=URLENCODED,
        headers={"Transfer-Encoding": "chunked"},
        # The test client would add a Content-Length; a chunked request has none.
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )


def test_a_chunked_body_over_the_limit_is_refused_with_413(
    app: Flask, member: Browserish, forum: Forum, db: Session
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100_000
    before = snapshot(db)

    response = chunked_post(
        member,
        f"/t/{forum.main.thread_id}/reply",
        {"csrf_token": member.token("/settings"), "body": "Long theory. " * 10_000},
    )

    assert response.status_code == 413
    assert "too big" in read(response.get_data(as_text=True)).text.lower()
    assert changed_tables(before, snapshot(db)) == []


def test_a_chunked_body_within_the_limit_goes_through_whole(
    app: Flask, member: Browserish, forum: Forum, db: Session
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100_000
    text = "Shorter theory, ending here: THE END"

    response = chunked_post(
        member,
        f"/t/{forum.main.thread_id}/reply",
        {"csrf_token": member.token("/settings"), "body": text},
    )

    assert response.status_code == 302
    post = db.scalar(select(Post).order_by(Post.id.desc()).limit(1))
    assert post is not None and post.source == text


def test_werkzeug_server_refuses_a_chunked_body_over_the_limit(app: Flask) -> None:
    """The same through a real server and a raw socket: Werkzeug's server de-chunks the body;
    before the fix the form was read cut off at the limit and answered 200 or 400."""
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        body = b"username=" + b"x" * 50_000 + b"&password=y"
        chunks = (
            b"".join(
                b"%x\r\n%s\r\n" % (len(body[i : i + 4096]), body[i : i + 4096])
                for i in range(0, len(body), 4096)
            )
            + b"0\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as sock:
            sock.sendall(
                b"POST /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n" + chunks
            )
            answer = sock.recv(65536)  # the status line is enough
    finally:
        server.shutdown()
        thread.join()
    assert answer.startswith(b"HTTP/1.1 413")


# ------------------------------------------------------------------------------ bad bytes

RAW_BAD_UTF8 = b"Season \xff\xfe two \xc3\x28 \xed\xa0\x80 end"
ENCODED_BAD_UTF8 = b"Season%FF%FE two %C3%28 %ED%A0%80 end"


URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data; boundary=X"


def encode(fields: list[tuple[bytes, bytes]], content_type: str) -> bytes:
    if content_type == URLENCODED:
        return b"&".join(name + b"=" + value for name, value in fields)
    return (
        b"".join(
            b'--X\r\nContent-Disposition: form-data; name="' + name + b'"\r\n\r\n' + value + b"\r\n"
            for name, value in fields
        )
        + b"--X--\r\n"
    )


BAD_BYTES = [
    # Browsers percent-encode; these reach the form as the literal escapes.
    pytest.param(ENCODED_BAD_UTF8, URLENCODED, {200, 302}, id="percent-encoded"),
    # Only attackers send raw bytes. Multipart decodes them with replacement characters.
    pytest.param(RAW_BAD_UTF8, MULTIPART, {200, 302}, id="raw-multipart"),
    # Werkzeug drops a url-encoded body it can't decode, so the CSRF token is missing: 400.
    pytest.param(RAW_BAD_UTF8, URLENCODED, {200, 302, 400}, id="raw-urlencoded"),
]


@pytest.mark.parametrize("value, content_type, answers", BAD_BYTES)
def test_invalid_utf8_in_every_form_is_handled(
    app: Flask, member: Browserish, forum: Forum, value: bytes, content_type: str, answers: set[int]
) -> None:
    aim = forum.main
    visitor = Browserish(app.test_client())
    forms = [
        (visitor, "/login", b"username,password,next"),
        (visitor, "/register", b"username,email,password,confirm"),
        (visitor, "/reset", b"email"),
        (member, f"/b/{aim.board_slug}/new", b"title,body"),
        (member, f"/t/{aim.thread_id}/reply", b"body"),
        (member, f"/p/{aim.reported_post_id}/edit", b"body"),
        (member, "/preview", b"body"),
        (member, f"/p/{aim.post_id}/report", b"reason,details"),
        (member, "/settings/email", b"em-email,em-current_password"),
        (member, "/settings/password", b"pw-current_password,pw-new_password,pw-confirm"),
    ]
    unexpected = []
    for client, url, names in forms:
        token = client.token("/login" if client is visitor else "/settings").encode()
        fields = [(b"csrf_token", token), *((name, value) for name in names.split(b","))]
        response = client.client.post(
            url, data=encode(fields, content_type), content_type=content_type
        )
        if response.status_code not in answers:
            unexpected.append(f"{url}: {response.status_code}")

    assert unexpected == []


@pytest.mark.parametrize(
    "value, content_type",
    [(ENCODED_BAD_UTF8, URLENCODED), (RAW_BAD_UTF8, MULTIPART)],
    ids=["percent-encoded", "raw-multipart"],
)
def test_invalid_utf8_is_stored_as_valid_text(
    member: Browserish, forum: Forum, db: Session, value: bytes, content_type: str
) -> None:
    token = member.token("/settings").encode()
    body = encode([(b"csrf_token", token), (b"title", value), (b"body", value)], content_type)

    response = member.client.post(
        f"/b/{forum.main.board_slug}/new", data=body, content_type=content_type
    )

    assert response.status_code == 302
    thread = db.scalar(select(Thread).order_by(Thread.id.desc()).limit(1))
    assert thread is not None and thread.id != forum.main.thread_id
    assert thread.title.startswith("Season") and thread.title.endswith("end")
    thread.title.encode("utf-8")  # raises on lone surrogates
    assert member.get(response.headers["Location"]).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/search?q=%FF%FE%00",
        "/search?q=%ED%A0%80",
        "/login?next=%FF%2F%2Fevil",
        "/u/%FF%00",
        "/b/%C3%28",
        "/t/1/%FF",
        "/b/x?page=%FF",
        "/mod/log?action=%FF&board=%00",
        "/reset/%FF%FE",
        "/verify/%00%FF",
        "/search?q=" + "%E2%80%AE" * 50,
        "/b/%FF",
        "/t/1?page=%FF",
        "/b/%00",
        "/b/%00/new",
        "/u/fan%00",
        "/login?next=/%00",
        "/t/1/%00",
    ],
)
def test_bad_bytes_in_urls_never_5xx(app: Flask, url: str) -> None:
    assert app.test_client().get(url).status_code < 500


# ------------------------------------------------------------------------- invisible characters

INVISIBLE_NAMES = [
    pytest.param("mel\x00fan", id="nul"),
    pytest.param("mel\u202efan", id="right-to-left-override"),
    pytest.param("\u202enaf_lem", id="leading-rlo"),
    pytest.param("mel\u200bfan", id="zero-width-space"),
    pytest.param("mel\u200dfan", id="zero-width-joiner"),
    pytest.param("mel\ufefffan", id="byte-order-mark"),
    pytest.param("mel\u2066fan\u2069", id="bidi-isolate"),
    pytest.param("mel\u00adfan", id="soft-hyphen"),
]


@pytest.mark.parametrize("username", INVISIBLE_NAMES)
def test_usernames_with_invisible_characters_are_refused_with_a_message(
    client: Browserish, db: Session, username: str
) -> None:
    users = db.scalar(select(func.count()).select_from(User))

    response = client.post(
        "/register",
        {
            "username": username,
            "email": "hidden@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
        page="/register",
    )

    page = read(response.get_data(as_text=True))
    assert response.status_code == 200
    assert any("letters, digits" in error for error in page.errors), page.errors
    assert db.scalar(select(func.count()).select_from(User)) == users


@pytest.mark.parametrize("username", INVISIBLE_NAMES)
def test_logging_in_with_invisible_characters_never_5xx(
    client: Browserish, make: Factory, username: str
) -> None:
    make.user("melfan")

    response = client.post("/login", {"username": username, "password": PASSWORD})

    assert response.status_code in (200, 302)


def test_invisible_characters_are_stripped_from_titles_and_posts(
    member: Browserish, forum: Forum, db: Session
) -> None:
    sneaky = "Sea\u202eson\u200b two\x00 finale\u2066"

    response = member.post(
        f"/b/{forum.main.board_slug}/new", {"title": sneaky, "body": sneaky}, page="/settings"
    )

    assert response.status_code == 302
    thread = db.scalar(select(Thread).order_by(Thread.id.desc()).limit(1))
    post = db.scalar(select(Post).order_by(Post.id.desc()).limit(1))
    assert thread is not None and post is not None
    assert thread.title == "Season two finale"
    assert post.source == "Season two finale"


# ------------------------------------------------------------------------------ deep nesting

DEEP = [
    pytest.param(">" * 10_000 + " deep quote", id="10000-quote-markers"),
    pytest.param("> " * 10_000 + "deep quote", id="10000-spaced-quotes"),
    pytest.param("- " * 10_000 + "deep list", id="10000-list-markers"),
    pytest.param("1. " * 10_000 + "deep list", id="10000-numbered-markers"),
    pytest.param(
        "\n".join(" " * (2 * n) + "- level" for n in range(2_000))[:50_000],
        id="indented-list-levels",
    ),
    pytest.param("\n".join(">" * n + " line" for n in range(1, 300)), id="growing-quotes"),
    pytest.param("*" * 10_000 + "emphasis" + "*" * 10_000, id="10000-emphasis"),
    pytest.param("> - " * 5_000 + "mixed", id="quote-list-mix"),
    pytest.param("|" * 5_000 + "\n" + "|-" * 2_500, id="wide-table-header"),
]


@pytest.mark.parametrize("body", DEEP)
def test_deeply_nested_markdown_renders_safely(member: Browserish, forum: Forum, body: str) -> None:
    created = member.post(
        f"/b/{forum.main.board_slug}/new", {"title": "Deep nesting", "body": body}, page="/settings"
    )

    assert created.status_code == 302
    page = member.get(created.headers["Location"])
    assert page.status_code == 200
    assert scan(page.get_data(as_text=True)).findings == []


def test_pathological_markdown_previews_within_the_budget(member: Browserish) -> None:
    """The 50,000-character patterns that took a second each: the preview renders Markdown only
    within the budget, so the page holds a bounded number of structures, and all the text."""
    token = member.token("/settings")
    table = "|a|b|\n|-|-|\n" + "".join(f"|x{n}|y{n}|\n" for n in range(3_400))
    assert len(table) <= 50_000

    response = member.client.post("/preview", data={"csrf_token": token, "body": table})

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count("<tr>") <= MAX_TABLE_CELLS // 2
    assert "x3399" in page and "y3399" in page
