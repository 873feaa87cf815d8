"""The episode guide (/b/<slug>/episodes) and the staff's episode tools: adding an episode
(admins), opening the aired episodes' threads (admins and the board's moderators), tying a
thread to an episode (the board's moderators). Spoilers are checked on the raw bytes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from types import MappingProxyType

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.access.viewer import Viewer
from forum.discussion import episode_reading
from forum.discussion.episode_codes import key_of
from forum.discussion.episodes import EpisodeEntry, upsert_episodes
from forum.models import Board, Episode, ModAction, Thread, User
from forum.staff.moderation import LoggedAction
from tests.conftest import (
    Browserish,
    Factory,
    LoginAs,
    StatementLog,
    fresh,
    latest_log_row,
    log_count,
)
from tests.html_scan import form_page, page_text


def words(response: object) -> str:
    """The page's text with its whitespace runs made single spaces."""
    return " ".join(page_text(response).split())  # type: ignore[arg-type]


RELEASED = date(2022, 8, 26)
SECRET = "Secret Title"


@pytest.fixture
def show(db: Session, moderated_board: Board) -> Board:
    """Partner Track: season 1 released at once (S1E8 has a title worth hiding), S2E1 airs next
    month, S2E2 has no date yet."""
    entries = [
        EpisodeEntry(1, n, SECRET if n == 8 else f"Episode {n}", RELEASED) for n in range(1, 11)
    ]
    entries += [
        EpisodeEntry(2, 1, "Future Premiere", date.today() + timedelta(days=30)),
        EpisodeEntry(2, 2, "Undated Finale", None),
    ]
    upsert_episodes(db, moderated_board, entries)
    db.commit()
    return moderated_board


def at(db: Session, user: User, board: Board, season: int, number: int) -> None:
    user.watch_progress = {str(board.id): key_of(season, number)}
    db.commit()


def guide_url(board: Board) -> str:
    return f"/b/{board.slug}/episodes"


def episode_row(db: Session, board: Board, season: int, number: int) -> Episode:
    db.expire_all()
    found = db.scalar(
        select(Episode).where(
            Episode.board_id == board.id, Episode.season == season, Episode.number == number
        )
    )
    assert found is not None
    return found


# ------------------------------------------------------------------------------ the page


def test_the_guide_lists_seasons_with_dates_and_discussion_threads(
    db: Session, make: Factory, show: Board, visitor: Browserish
) -> None:
    thread = make.thread(board=show, title="S1E1 talk", replies=3)
    pilot = episode_row(db, show, 1, 1)
    pilot.thread_id = thread.id
    db.commit()

    response = visitor.get(guide_url(show))

    assert response.status_code == 200
    text = page_text(response)
    assert "Season 1" in text and "Season 2" in text
    assert "S1E1" in text and "S1E10" in text
    assert "26 August 2022" in text
    assert "Not aired yet" in text
    assert "Date unknown" in text
    assert f'href="/t/{thread.id}/{thread.slug}"'.encode() in response.data
    assert "3 replies" in text
    # Visitors: spoilers hidden, with a way to log in and set progress.
    assert "Log in" in text and "Watched up to here" not in text


def test_a_member_at_s1e6_never_receives_a_later_title(
    db: Session, show: Board, member: User, login_as: LoginAs
) -> None:
    at(db, member, show, 1, 6)

    response = login_as(member).get(guide_url(show))

    assert response.status_code == 200
    assert SECRET.encode() not in response.data
    assert b"Future Premiere" not in response.data
    assert b"Undated Finale" not in response.data
    assert b"Episode 6" in response.data
    assert b"Episode 7" not in response.data
    assert response.data.count(b"Title hidden") == 6  # S1E7-S1E10, S2E1, S2E2
    assert response.data.count("✓ Watched".encode()) == 6
    assert "You're at S1E6 · change" in words(response)


def test_a_visitor_sees_aired_titles_but_not_unaired_ones(show: Board, visitor: Browserish) -> None:
    response = visitor.get(guide_url(show))

    assert SECRET.encode() in response.data  # aired years ago: out of the grace period
    assert b"Future Premiere" not in response.data
    assert b"Undated Finale" not in response.data


def test_every_member_gets_a_watched_up_to_here_form_per_episode(
    show: Board, member: User, login_as: LoginAs
) -> None:
    response = login_as(member).get(guide_url(show))

    assert response.data.count(b"Watched up to here") == 12
    assert b'name="watched" value="S1E8"' in response.data
    assert "You haven't set your progress" in words(response)


def test_unknown_boards_are_404(visitor: Browserish) -> None:
    assert visitor.get("/b/no-such-show/episodes").status_code == 404


def test_a_board_without_episodes_says_so(make: Factory, visitor: Browserish) -> None:
    board = make.board("quiet-show")

    response = visitor.get(guide_url(board))

    assert response.status_code == 200
    assert "No episodes are listed" in page_text(response)


def test_the_guide_costs_two_statements_with_or_without_progress(
    app: Flask, db: Session, make: Factory, show: Board, member: User, sql: StatementLog
) -> None:
    for n in (1, 2, 3):
        thread = make.thread(board=show, replies=n)
        episode_row(db, show, 1, n).thread_id = thread.id
    db.commit()
    slug = show.slug
    db.refresh(member)  # the committed rows reloaded now, not inside the count

    def loader_statements(viewer: Viewer) -> int:
        with app.test_request_context():
            sql.clear()
            guide = episode_reading.episode_guide(db, viewer, slug)
            assert guide is not None
            # Everything the template reads is plain data: no lazy load left to trigger.
            assert [e.reply_count for e in guide.seasons[0].episodes[:3]] == [1, 2, 3]
            return len(sql)

    without = Viewer(member)
    with_progress = replace(
        without,
        spoiler_limits=MappingProxyType({show.id: key_of(1, 6)}),
        progress=MappingProxyType({show.id: key_of(1, 6)}),
    )
    assert loader_statements(without) == 2
    assert loader_statements(with_progress) == 2


def test_the_guide_page_costs_the_same_with_progress_set_and_unset(
    db: Session, show: Board, member: User, login_as: LoginAs, sql: StatementLog
) -> None:
    browser = login_as(member)

    def page_statements() -> int:
        browser.get("/search")  # settings and the catalogue warmed, as on a running site
        sql.clear()
        assert browser.get(guide_url(show)).status_code == 200
        return len(sql)

    unset = page_statements()
    at(db, member, show, 1, 6)
    assert page_statements() == unset
    assert unset <= 3  # the member, the board, the episodes


def test_an_archived_board_shows_its_guide_without_staff_tools(
    db: Session, show: Board, admin: User, login_as: LoginAs
) -> None:
    show.is_archived = True
    db.commit()
    browser = login_as(admin)

    response = browser.get(guide_url(show))

    assert response.status_code == 200
    assert b"Open threads for aired episodes" not in response.data
    assert b"Add or change an episode" not in response.data
    refused = browser.post(
        guide_url(show),
        {"season": "3", "number": "1", "title": "Late"},
        page=guide_url(show),
    )
    assert refused.status_code == 403
    opened = browser.post(f"{guide_url(show)}/open", page=guide_url(show))
    assert opened.status_code == 403


# ------------------------------------------------------------------------------ permissions


OPEN_THREADS = {
    "visitor": 401,
    "member": 403,
    "suspended member": 403,
    "moderator elsewhere": 403,
    "moderator here": 302,
    "admin": 302,
}


@pytest.mark.parametrize("who", list(OPEN_THREADS))
def test_who_may_open_episode_threads(
    db: Session,
    make: Factory,
    show: Board,
    login_as: LoginAs,
    person_called: Callable[[str], User | None],
    who: str,
) -> None:
    person = person_called(who)
    browser = login_as(person)

    response = browser.post(f"{guide_url(show)}/open", page="/login" if person is None else "/")

    assert response.status_code == OPEN_THREADS[who]
    db.expire_all()
    opened = db.scalars(select(Episode.thread_id).where(Episode.board_id == show.id)).all()
    if OPEN_THREADS[who] == 302:
        assert sum(t is not None for t in opened) == 10  # season 1 aired; season 2 hasn't
        assert latest_log_row(db).action == LoggedAction.OPEN_EPISODE_THREADS
    else:
        assert all(t is None for t in opened)


def test_the_open_threads_button_shows_for_the_boards_moderators_only(
    show: Board, board_moderator: User, member: User, login_as: LoginAs
) -> None:
    assert b"Open threads for aired episodes" in login_as(board_moderator).get(guide_url(show)).data
    assert b"Open threads for aired episodes" not in login_as(member).get(guide_url(show)).data


SAVE = {
    "visitor": 401,
    "member": 403,
    "suspended member": 403,
    "moderator elsewhere": 403,
    "moderator here": 403,
    "admin": 302,
}


@pytest.mark.parametrize("who", list(SAVE))
def test_who_may_save_an_episode(
    db: Session,
    make: Factory,
    show: Board,
    login_as: LoginAs,
    person_called: Callable[[str], User | None],
    who: str,
) -> None:
    person = person_called(who)
    browser = login_as(person)

    response = browser.post(
        guide_url(show),
        {"season": "3", "number": "1", "title": "New Season", "aired": "2027-01-15"},
        page="/login" if person is None else "/",
    )

    assert response.status_code == SAVE[who]
    db.expire_all()
    saved = db.scalar(select(Episode).where(Episode.board_id == show.id, Episode.season == 3))
    if SAVE[who] == 302:
        assert saved is not None
        assert (saved.title, saved.aired) == ("New Season", date(2027, 1, 15))
        assert response.headers["Location"].endswith(f"{guide_url(show)}#s3e1")
    else:
        assert saved is None


def test_saving_an_existing_episode_updates_it(
    db: Session, show: Board, admin: User, login_as: LoginAs
) -> None:
    browser = login_as(admin)

    response = browser.post(
        guide_url(show), {"season": "1", "number": "2", "title": "Renamed"}, page="/"
    )

    assert response.status_code == 302
    episode = episode_row(db, show, 1, 2)
    assert (episode.title, episode.aired) == ("Renamed", None)


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"season": "abc", "number": "1", "title": "Kept text"}, "season", "season"),
        ({"season": "0", "number": "1", "title": "Kept text"}, "season", "1 to 999"),
        ({"season": "1", "number": "5000", "title": "Kept text"}, "number", "1 to 999"),
        ({"season": "1", "number": "1", "title": "   "}, "title", "title"),
        ({"season": "1", "number": "1", "title": "x" * 201}, "title", "200"),
        (
            {"season": "1", "number": "1", "title": "Kept text", "aired": "next week"},
            "aired",
            "",
        ),
    ],
)
def test_a_bad_episode_is_shown_back_with_the_error_under_its_field(
    show: Board,
    admin: User,
    login_as: LoginAs,
    values: dict[str, str],
    field: str,
    message: str,
) -> None:
    browser = login_as(admin)

    response = browser.post(guide_url(show), values, page="/")

    assert response.status_code == 400
    page = form_page(response)
    assert page.errors, "the error is shown"
    assert message.lower() in " ".join(page.errors).lower()
    assert f'id="{field}-error"'.encode() in response.data
    if values["title"] == "Kept text":
        assert page.values["title"] == "Kept text"
    assert page.values["season"] == values["season"]


def test_episode_tools_refuse_a_post_without_its_csrf_token(
    db: Session, show: Board, admin: User, login_as: LoginAs
) -> None:
    browser = login_as(admin)

    saved = browser.raw_post(guide_url(show), {"season": "3", "number": "1", "title": "Forged"})
    opened = browser.raw_post(f"{guide_url(show)}/open")

    assert saved.status_code == 400 and opened.status_code == 400
    db.expire_all()
    assert db.scalar(select(Episode).where(Episode.season == 3)) is None
    assert db.scalars(select(Episode.thread_id).where(Episode.thread_id.is_not(None))).all() == []


# ------------------------------------------------------------------------------ a thread's episode

SET_EPISODE = {
    "visitor": 401,
    "member": 403,
    "suspended member": 403,
    "moderator elsewhere": 403,
    "moderator here": 302,
    "admin": 302,
}


@pytest.mark.parametrize("who", list(SET_EPISODE))
def test_who_may_tie_a_thread_to_an_episode(
    db: Session,
    make: Factory,
    show: Board,
    login_as: LoginAs,
    person_called: Callable[[str], User | None],
    who: str,
) -> None:
    person = person_called(who)
    thread = make.thread(board=show, title="What a twist in the office")
    before = log_count(db)
    browser = login_as(person)

    response = browser.post(
        f"/t/{thread.id}/episode",
        {"episode": "S1E8", "reason": "Talks about S1E8"},
        page="/login" if person is None else "/",
    )

    assert response.status_code == SET_EPISODE[who]
    fresh(db, thread)
    if SET_EPISODE[who] == 302:
        assert (thread.episode_key, thread.is_news) == (key_of(1, 8), False)
        assert response.headers["Location"].endswith(f"/t/{thread.id}/s1e8")
        row = latest_log_row(db)
        assert (row.action, row.target_thread_id) == (LoggedAction.SET_THREAD_EPISODE, thread.id)
        assert log_count(db) == before + 1
    else:
        assert thread.episode_key is None
        assert log_count(db) == before


def test_a_moderator_marks_a_thread_as_news_and_clears_its_episode(
    db: Session, make: Factory, show: Board, board_moderator: User, login_as: LoginAs
) -> None:
    thread = make.thread(board=show, title="Renewed for season 3!")
    browser = login_as(board_moderator)
    browser.post(f"/t/{thread.id}/episode", {"episode": "S1E2"}, page="/")

    response = browser.post(f"/t/{thread.id}/episode", {"episode": "", "is_news": "y"}, page="/")

    assert response.status_code == 302
    fresh(db, thread)
    assert (thread.episode_key, thread.is_news) == (None, True)
    unchanged = browser.post(f"/t/{thread.id}/episode", {"episode": "", "is_news": "y"}, page="/")
    assert unchanged.status_code == 302
    assert db.scalar(select(ModAction).order_by(ModAction.id.desc()).limit(1)) is not None


@pytest.mark.parametrize("episode", ["S9E9", "S3E1", "banana", "S0E1", "S1E1; DROP", "x" * 300])
def test_a_code_that_is_no_episode_of_the_board_is_a_400(
    db: Session,
    make: Factory,
    show: Board,
    board_moderator: User,
    login_as: LoginAs,
    episode: str,
) -> None:
    thread = make.thread(board=show)
    response = login_as(board_moderator).post(
        f"/t/{thread.id}/episode", {"episode": episode}, page="/"
    )

    assert response.status_code == 400
    assert "isn't an episode of Partner Track" in page_text(response)
    fresh(db, thread)
    assert thread.episode_key is None


def test_the_thread_episode_form_is_in_the_moderators_thread_tools(
    make: Factory, show: Board, board_moderator: User, member: User, login_as: LoginAs
) -> None:
    thread = make.thread(board=show)
    url = f"/t/{thread.id}/{thread.slug}"

    as_moderator = login_as(board_moderator).get(url)
    as_member = login_as(member).get(url)

    assert f'action="/t/{thread.id}/episode"'.encode() in as_moderator.data
    assert f'action="/t/{thread.id}/episode"'.encode() not in as_member.data


def test_unknown_threads_are_404(board_moderator: User, login_as: LoginAs) -> None:
    response = login_as(board_moderator).post("/t/999999/episode", {"episode": ""}, page="/")
    assert response.status_code == 404


def test_a_thread_on_another_board_is_refused_in_words(
    db: Session, make: Factory, show: Board, board_moderator: User, login_as: LoginAs
) -> None:
    other = make.thread(board=make.board("elsewhere"))

    response = login_as(board_moderator).post(f"/t/{other.id}/episode", {"episode": ""}, page="/")

    assert response.status_code == 403
    assert "You don't moderate Elsewhere" in page_text(response)
    assert db.get(Thread, other.id) is not None
