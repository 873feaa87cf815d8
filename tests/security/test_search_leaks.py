"""Search never tells anyone what they may not see: not in a result, a snippet, a count or a
suggestion. Checked on the raw bytes of /search and /search/suggest (status, headers, body).

The show: S1E1-S1E7 aired a month ago, S1E8 two days ago (inside the visitor grace period, so
a visitor's boundary is S1E7), S1E9 not yet. Every thing that must stay out carries two made-up
words: a KEY the test searches for, and a SECRET that only ever sits next to it. The query
itself comes back in the page (the box, the title), so leaks are judged by the secret, and by
the page finding nothing (no result, "No results", the count unchanged).

Readers: a visitor, a member at S1E6, a member who hides show news, the board's moderator
(hidden things), a member at S1E9 (every episode spoiler that has aired for them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from forum.discussion import posting
from forum.discussion.episode_codes import key_of
from forum.discussion.episodes import EpisodeEntry, upsert_episodes
from forum.models import Board, User, utcnow
from forum.staff import moderation
from tests.conftest import Browserish, Factory, browser_for, moderator_of

S1E3, S1E6, S1E8, S1E9 = key_of(1, 3), key_of(1, 6), key_of(1, 8), key_of(1, 9)


@dataclass(frozen=True)
class Secret:
    key: str  # what the test searches for
    secret: str  # next to it, never typed: its presence in a response is a leak
    title: bool = False  # the words are in a thread title (suggestions look there)


HIDDEN_POST = Secret("zqhiddenkey", "zqhiddensecret")
DELETED_POST = Secret("zqdeletedkey", "zqdeletedsecret")
HIDDEN_THREAD = Secret("zqhidethreadkey", "zqhidethreadsecret", title=True)
EPISODE_TITLE = Secret("zqepisodekey", "zqepisodesecret", title=True)
EPISODE_BODY = Secret("zqepbodykey", "zqepbodysecret")
TAGGED_POST = Secret("zqtaggedkey", "zqtaggedsecret")
SPAN = Secret("zqspankey", "zqspansecret")
GENERIC_SPAN = Secret("zqgenerickey", "zqgenericsecret")
NEWS = Secret("zqnewskey", "zqnewssecret", title=True)
# Words every reader may find, in posts beside the hidden ones: counts must not move.
COMMON = "zqcommonword"


def raw(response: TestResponse) -> bytes:
    headers = "".join(f"{name}: {value}\n" for name, value in response.headers.items())
    return (f"{response.status}\n{headers}\n").encode() + response.get_data()


@dataclass
class Show:
    app: Flask
    board: Board
    fan_s1e6: User
    fan_s1e9: User
    news_hider: User
    moderator: User
    episode_thread_id: int  # tied to S1E8
    hidden_thread_id: int


@pytest.fixture
def show(app: Flask, make: Factory, db: Session) -> Show:
    board = make.board("search-leak-show", name="Leak Show")
    today = utcnow().date()
    entries = [EpisodeEntry(1, n, f"Episode {n}", today - timedelta(days=30)) for n in range(1, 8)]
    entries += [
        EpisodeEntry(1, 8, "Episode 8", today - timedelta(days=2)),
        EpisodeEntry(1, 9, "Episode 9", today - timedelta(days=1)),
    ]
    upsert_episodes(db, board, entries)
    db.commit()
    author = make.user("leak_author")
    moderator = moderator_of(make, db, board, name="leak_mod")

    general = posting.create_thread(db, board, author, "General talk", f"{COMMON} one")
    posting.add_post(db, general, author, f"{COMMON} two")
    hidden = posting.add_post(
        db, general, author, f"{COMMON} {HIDDEN_POST.key} {HIDDEN_POST.secret}"
    )
    deleted = posting.add_post(
        db, general, author, f"{COMMON} {DELETED_POST.key} {DELETED_POST.secret}"
    )
    hidden_thread = posting.create_thread(
        db, board, author, f"{HIDDEN_THREAD.key} {HIDDEN_THREAD.secret}", f"{COMMON} inside"
    )
    early = posting.create_thread(
        db, board, author, "Episode three chat", "Opening words", episode_key=S1E3
    )
    posting.add_post(
        db, early, author, f"{COMMON} {TAGGED_POST.key} {TAGGED_POST.secret}", episode_key=S1E8
    )
    posting.add_post(db, early, author, f"Careful: >!S1E8: {SPAN.key} {SPAN.secret}!< ok")
    posting.add_post(
        db, early, author, f"Plain words >!{GENERIC_SPAN.key} {GENERIC_SPAN.secret}!< here"
    )
    episode_thread = posting.create_thread(
        db,
        board,
        author,
        f"{EPISODE_TITLE.key} {EPISODE_TITLE.secret}",
        f"{COMMON} {EPISODE_BODY.key} {EPISODE_BODY.secret}",
        episode_key=S1E8,
    )
    posting.create_thread(
        db, board, author, f"{NEWS.key} {NEWS.secret}", f"{COMMON} renewed!", is_news=True
    )
    moderation.set_post_hidden(db, moderator, hidden, True, "rude")
    posting.delete_post(deleted)
    moderation.set_thread_hidden(db, moderator, hidden_thread, True, "off topic")
    db.commit()

    fan_s1e6, fan_s1e9 = make.user("fan_at_six"), make.user("fan_at_nine")
    news_hider = make.user("news_hider")
    for user, progress in ((fan_s1e6, S1E6), (fan_s1e9, S1E9), (news_hider, S1E9)):
        user.watch_progress = {str(board.id): progress}
    news_hider.hides_show_news = True
    db.commit()
    return Show(
        app, board, fan_s1e6, fan_s1e9, news_hider, moderator, episode_thread.id, hidden_thread.id
    )


def reader(show: Show, who: str) -> Browserish:
    user = {
        "visitor": None,
        "member at S1E6": show.fan_s1e6,
        "member at S1E9": show.fan_s1e9,
        "member hiding news": show.news_hider,
        "board moderator": show.moderator,
    }[who]
    return browser_for(show.app, user)


def results_in(response: TestResponse) -> int:
    return response.get_data(as_text=True).count('<li class="result')


def assert_nothing_found(browser: Browserish, secret: Secret, who: str) -> None:
    for url in (
        f"/search?q={secret.key}",
        f"/search?q={secret.key}&sort=newest",
        f"/search?q={secret.key}&threads_only=1",
        f"/search?q=%22{secret.key}%22",
    ):
        response = browser.get(url)
        assert response.status_code == 200
        assert secret.secret.encode() not in raw(response), f"{url} leaks to {who}"
        assert results_in(response) == 0, f"{url} finds something for {who}"
        assert b"No results" in response.get_data(), url
    suggested = browser.get(f"/search/suggest?q={secret.key}")
    assert secret.secret.encode() not in raw(suggested), f"suggestions leak to {who}"
    assert json.loads(suggested.get_data())["suggestions"] == []


def assert_found(browser: Browserish, secret: Secret, who: str, shows_secret: bool) -> None:
    response = browser.get(f"/search?q={secret.key}")
    assert results_in(response) >= 1, f"{who} should find {secret.key}"
    assert (secret.secret.encode() in raw(response)) is shows_secret
    if secret.title:
        suggested = json.loads(browser.get(f"/search/suggest?q={secret.key}").get_data())
        assert any(secret.secret in s["label"] for s in suggested["suggestions"])


# Who must find nothing of what.
NEVER: dict[str, Iterable[Secret]] = {
    "visitor": (HIDDEN_POST, DELETED_POST, HIDDEN_THREAD, EPISODE_TITLE, EPISODE_BODY,
                TAGGED_POST, SPAN),
    "member at S1E6": (HIDDEN_POST, DELETED_POST, HIDDEN_THREAD, EPISODE_TITLE, EPISODE_BODY,
                       TAGGED_POST, SPAN),
    "member hiding news": (HIDDEN_POST, DELETED_POST, HIDDEN_THREAD, NEWS),
    "board moderator": (DELETED_POST, EPISODE_TITLE, EPISODE_BODY, TAGGED_POST, SPAN),
    "member at S1E9": (HIDDEN_POST, DELETED_POST, HIDDEN_THREAD),
}  # fmt: skip


@pytest.mark.parametrize("who", list(NEVER))
def test_what_a_reader_may_not_see_is_never_found(show: Show, who: str) -> None:
    browser = reader(show, who)
    for secret in NEVER[who]:
        assert_nothing_found(browser, secret, who)


def test_the_moderator_finds_what_they_hid(show: Show) -> None:
    browser = reader(show, "board moderator")

    assert_found(browser, HIDDEN_POST, "board moderator", shows_secret=True)
    assert_found(browser, HIDDEN_THREAD, "board moderator", shows_secret=True)
    page = browser.get(f"/search?q={HIDDEN_POST.key}").get_data(as_text=True)
    assert "badge-hidden" in page


def test_a_member_at_s1e9_finds_the_s1e8_spoilers(show: Show) -> None:
    browser = reader(show, "member at S1E9")

    assert_found(browser, EPISODE_TITLE, "member at S1E9", shows_secret=True)
    assert_found(browser, EPISODE_BODY, "member at S1E9", shows_secret=True)
    assert_found(browser, TAGGED_POST, "member at S1E9", shows_secret=True)
    # Found by the span's words, but a snippet is never cut from spoiler text.
    assert_found(browser, SPAN, "member at S1E9", shows_secret=False)


@pytest.mark.parametrize("who", ["visitor", "member at S1E6", "member at S1E9"])
def test_a_generic_spoiler_finds_its_post_but_never_shows(show: Show, who: str) -> None:
    assert_found(reader(show, who), GENERIC_SPAN, who, shows_secret=False)


def test_news_is_found_by_those_who_dont_hide_it(show: Show) -> None:
    assert_found(reader(show, "visitor"), NEWS, "visitor", shows_secret=True)


# The COMMON word's posts each reader may find: the counts must be exactly these.
COUNTS = {
    # general x2, the hidden thread's post: no; tagged (S1E8): no; episode thread: no; news: yes
    "visitor": 3,
    "member at S1E6": 3,
    # news hidden; tagged and episode thread found (S1E9)
    "member hiding news": 4,
    # the hidden post and the hidden thread's post too; spoilers beyond S1E7: no
    "board moderator": 5,
    "member at S1E9": 5,
}


@pytest.mark.parametrize("who", list(COUNTS))
def test_counts_count_only_what_the_reader_may_see(show: Show, who: str) -> None:
    response = reader(show, who).get(f"/search?q={COMMON}")
    expected = COUNTS[who]

    assert results_in(response) == expected
    text = response.get_data(as_text=True)
    noun = "result" if expected == 1 else "results"
    assert f"About {expected} {noun}" in text, who


@pytest.mark.parametrize("who", ["visitor", "member at S1E6"])
def test_searching_within_a_masked_or_hidden_thread_shows_nothing_of_it(
    show: Show, who: str
) -> None:
    browser = reader(show, who)
    within = browser.get(f"/search?thread={show.episode_thread_id}&q={COMMON}")
    hidden = browser.get(f"/search?thread={show.hidden_thread_id}&q={COMMON}")

    for response in (within, hidden):
        assert response.status_code == 200
        assert results_in(response) == 0
        for secret in (EPISODE_TITLE, EPISODE_BODY, HIDDEN_THREAD):
            assert secret.secret.encode() not in raw(response), who
    # The masked thread is named by its mask, as everywhere else.
    assert "Episode thread for S1E8" in within.get_data(as_text=True)


def test_hidden_titles_never_crowd_a_visible_title_out(
    app: Flask, make: Factory, db: Session
) -> None:
    """Title candidates (any age) come from the newest titles holding the words: those the
    viewer may find, counted after the visibility rules. Otherwise 400 newer hidden titles
    pushed a visible one out, and a visitor could tell they exist by what stopped being found.
    The old title needs the candidates: 1,005 newer posts hold the word too."""
    board = make.board("crowd", name="Crowd")
    author = make.user("crowd_author")
    moderator = moderator_of(make, db, board, name="crowd_mod")
    old = posting.create_thread(db, board, author, "zqcrowd old visible", "opening text")
    talk = posting.create_thread(db, board, author, "chatter", "chatter")
    for n in range(1005):
        posting.add_post(db, talk, author, f"zqcrowd reply {n}")
    db.commit()
    visitor = browser_for(app)

    def first_result() -> bytes:
        page = visitor.get("/search?q=zqcrowd").get_data()
        return page.split(b'class="result-title"', 1)[1][:200]

    assert f"/t/{old.id}/".encode() in first_result()
    for n in range(400):
        spam = posting.create_thread(db, board, author, f"zqcrowd spam {n}", "spam")
        moderation.set_thread_hidden(db, moderator, spam, True, "spam")
    db.commit()

    assert f"/t/{old.id}/".encode() in first_result()
