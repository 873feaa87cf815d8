"""The hostile-input corpus (tests/security/xss_corpus.py) through the real forms: as thread
title and opening post, as a reply, through the live preview, as a search query, and as a
username at sign-up. Every answer and every page that shows the input is read with the HTML
parser (tests/html_scan.py): post bodies hold only inert Markdown output, and titles,
usernames and queries show up as text, leaving the page's element structure untouched.

Each test tries the whole corpus and reports how many inputs got through (`-rA` or `-s` shows
the count); one got through is a failure.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from forum.models import Board, User
from forum.platform.text import strip_control
from tests.conftest import PASSWORD, Browserish, Factory
from tests.html_scan import PageScan, TextAndFields, csrf_token, scan
from tests.security.xss_corpus import CORPUS


@dataclass
class Tally:
    """How many hostile inputs were tried in one context, and which got through (and how)."""

    context: str
    tried: int = 0
    through: dict[str, list[str]] = field(default_factory=dict)

    def record(self, name: str, problems: Iterable[str]) -> None:
        self.tried += 1
        found = list(problems)
        if found:
            self.through.setdefault(name, []).extend(found)

    def summary(self) -> str:
        lines = [
            f"XSS {self.context}: {self.tried} hostile inputs tried, "
            f"{len(self.through)} got through"
        ]
        for name, problems in sorted(self.through.items()):
            lines.append(f"  {name}: {'; '.join(dict.fromkeys(problems))}"[:400])
        return "\n".join(lines)

    def check(self) -> None:
        print(self.summary())
        assert self.tried >= len(CORPUS)
        assert not self.through, self.summary()


def inspect(
    response: TestResponse, baseline_shape: list[str] | None, where: str
) -> tuple[list[str], TextAndFields]:
    """What is wrong with a page that shows hostile input (a server error, live markup in a
    post body or elsewhere, an element structure unlike the harmless page's), and what a fan
    sees of it."""
    page: PageScan = scan(response.get_data(as_text=True))
    found = [f"{where}: {finding}" for finding in page.findings]
    if response.status_code >= 500:
        found.append(f"{where}: HTTP {response.status_code}")
    if baseline_shape is not None and page.shape != baseline_shape:
        extra = [tag for tag in page.shape if tag not in baseline_shape][:3]
        found.append(f"{where}: page structure changed (new elements: {extra})")
    return found, page.seen


def problems_on(response: TestResponse, baseline_shape: list[str] | None, where: str) -> list[str]:
    return inspect(response, baseline_shape, where)[0]


def valid_title(text: str) -> str:
    """The input as a title the form accepts (3 to 150 characters once cleaned)."""
    if len(strip_control(text).strip()) > 150:
        text = text[:150]
    if len(strip_control(text).strip()) < 3:
        text = f"{text} ep"
    return text


def test_corpus_is_large_and_distinct() -> None:
    names = [name for name, _text in CORPUS]
    texts = [text for _name, text in CORPUS]
    assert len(CORPUS) >= 100
    assert len(set(names)) == len(names), "duplicate names in the corpus"
    assert len(set(texts)) == len(texts), "duplicate inputs in the corpus"


# ------------------------------------------------------------------------------ posts


@pytest.fixture
def board(make: Factory) -> Board:
    return make.board("partner-track", name="Partner Track")


def start_thread(
    client: Browserish, token: str, board: Board, title: str, body: str
) -> TestResponse:
    return client.client.post(
        f"/b/{board.slug}/new", data={"csrf_token": token, "title": title, "body": body}
    )


def test_hostile_titles_and_opening_posts_render_inert(
    member_client: Browserish, board: Board
) -> None:
    tally = Tally("thread title + opening post")
    token = member_client.token(f"/b/{board.slug}/new")
    created = start_thread(member_client, token, board, "Season two renewal", "Harmless body")
    assert created.status_code == 302
    baseline = scan(member_client.get(created.headers["Location"]).get_data(as_text=True))
    assert baseline.post_bodies >= 1 and not baseline.findings

    for name, text in CORPUS:
        title = valid_title(text)
        response = start_thread(member_client, token, board, title, text)
        if response.status_code != 302:
            tally.record(
                name,
                [
                    f"new thread refused: HTTP {response.status_code}",
                    *problems_on(response, None, "form"),
                ],
            )
            continue
        page = member_client.get(response.headers["Location"])
        problems, shown = inspect(page, baseline.shape, "thread page")
        expected = strip_control(title).strip()
        if shown.h1 != expected:
            problems.append(f"heading shows {shown.h1!r}, not the title typed")
        if not shown.title.startswith(expected):
            problems.append(f"<title> shows {shown.title!r}, not the title typed")
        tally.record(name, problems)

    # Pages listing the titles: every page of the board, the index, the author's profile.
    listings = [f"/b/{board.slug}?page={n}" for n in range(1, 2 + len(CORPUS) // 30)]
    for url in [*listings, "/", "/u/member_mel"]:
        if problems := problems_on(member_client.get(url), None, url):
            tally.through[url] = problems
    tally.check()


def test_hostile_replies_render_inert(
    app: Flask, member_client: Browserish, make: Factory, board: Board
) -> None:
    """Replies go into threads of one full page each (an opening post and POSTS_PER_PAGE - 1
    replies), so one page view checks a batch; the last batch is topped up with harmless
    replies, and every page must have the shape of a page of harmless replies."""
    tally = Tally("reply")
    per_page = app.config["POSTS_PER_PAGE"] - 1
    author = make.user("thread_starter")
    token = member_client.token("/settings")  # one token serves the whole session

    def thread_of_replies(texts: list[str]) -> tuple[str, list[TestResponse]]:
        thread = make.thread(board=board, author=author, title="Recap thread")
        answers = [
            member_client.client.post(
                f"/t/{thread.id}/reply", data={"csrf_token": token, "body": text}
            )
            for text in texts
        ]
        return f"/t/{thread.id}/{thread.slug}", answers

    url, answers = thread_of_replies([f"Harmless reply {n}" for n in range(per_page)])
    assert {answer.status_code for answer in answers} == {302}
    baseline = scan(member_client.get(url).get_data(as_text=True))
    assert baseline.post_bodies > per_page and not baseline.findings

    for start in range(0, len(CORPUS), per_page):
        batch = CORPUS[start : start + per_page]
        padding = [f"Padding reply {n}" for n in range(per_page - len(batch))]
        url, answers = thread_of_replies([text for _name, text in batch] + padding)
        page = member_client.get(url)
        problems = problems_on(page, baseline.shape, "thread page")
        for offset, ((name, _text), answer) in enumerate(zip(batch, answers, strict=False)):
            mine = [p for p in problems if f"post-body #{offset + 1} " in p]
            if answer.status_code != 302:
                mine.append(f"reply refused: HTTP {answer.status_code}")
            tally.record(name, mine)
        # Problems not inside one of these replies (page structure, the page itself) count
        # against the whole batch: they can't be pinned on one input.
        shared = [p for p in problems if "post-body #" not in p]
        for name, _text in batch if shared else []:
            tally.through.setdefault(name, []).extend(shared)
    tally.check()


def test_hostile_previews_render_inert(member_client: Browserish) -> None:
    tally = Tally("live preview")
    token = member_client.token("/settings")

    for name, text in CORPUS:
        response = member_client.client.post("/preview", data={"csrf_token": token, "body": text})
        if response.status_code != 200:
            tally.record(name, [f"preview answered HTTP {response.status_code}"])
            continue
        fragment = scan(response.get_data(as_text=True), fragment_is_post_body=True)
        tally.record(name, fragment.findings)
    tally.check()


def test_aligned_tables_render_without_inline_style(
    member_client: Browserish, make: Factory
) -> None:
    thread = make.thread(title="Ratings table")
    token = member_client.token(f"/t/{thread.id}/{thread.slug}")

    response = member_client.client.post(
        "/preview",
        data={"csrf_token": token, "body": "| Episode | Rating |\n|:--|--:|\n| 1 | 9.1 |"},
    )

    assert response.status_code == 200
    fragment = scan(response.get_data(as_text=True), fragment_is_post_body=True)
    assert fragment.findings == []


# ------------------------------------------------------------------------------ search


def test_hostile_search_queries_render_inert(client: Browserish) -> None:
    tally = Tally("search query")
    baseline = scan(client.get("/search?q=severance").get_data(as_text=True))
    assert not baseline.findings

    for name, text in CORPUS:
        response = client.get(f"/search?q={quote(text)}")
        problems, page = inspect(response, baseline.shape, "search page")
        expected = strip_control(text)[:200].strip()
        shown = page.values.get("q")
        if shown != expected:
            problems.append(f"search box shows {shown!r}, not the query typed")
        tally.record(name, problems)
    tally.check()


# ------------------------------------------------------------------------------ usernames


def test_hostile_usernames_are_refused_or_escaped(client: Browserish, db: Session) -> None:
    tally = Tally("username at sign-up")
    token = client.token("/register")

    def register(username: str, email: str) -> TestResponse:
        return client.client.post(
            "/register",
            data={
                "csrf_token": token,
                "username": username,
                "email": email,
                "password": PASSWORD,
                "confirm": PASSWORD,
            },
        )

    refused = register("not a name!", "baseline@example.org")
    assert refused.status_code == 200
    baseline = scan(refused.get_data(as_text=True))
    assert not baseline.findings

    for number, (name, text) in enumerate(CORPUS):
        response = register(text, f"hostile{number}@example.org")
        if response.status_code == 302:
            # Accepted: the name must then show up escaped wherever it appears.
            user = db.scalar(select(User).where(User.email == f"hostile{number}@example.org"))
            problems = [f"accepted as {user.username if user else None!r}"]
            if user is not None:
                problems += problems_on(client.get(f"/u/{quote(user.username)}"), None, "profile")
            tally.record(name, problems if len(problems) > 1 else [])
            client.client.post(
                "/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))}
            )
            token = client.token("/register")
            continue
        problems, page = inspect(response, baseline.shape, "sign-up form")
        typed = unicodedata.normalize("NFKC", text).strip()
        shown = page.values.get("username")
        if shown != typed:
            problems.append(f"username box shows {shown!r}, not what was typed")
        tally.record(name, problems)
    tally.check()
