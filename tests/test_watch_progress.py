"""A fan's watch progress (POST /b/<slug>/progress) and spoiler settings (POST /settings/spoilers):
who may set them, what a bad value gets (never a 500), the CSRF token, safe redirects, and a
member on two devices seeing the change on the next request of either."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from forum.discussion.episode_codes import CAUGHT_UP, NOTHING_WATCHED, key_of
from forum.discussion.episodes import EpisodeEntry, upsert_episodes
from forum.models import Board, User
from tests.conftest import Browserish, Factory, LoginAs, fresh
from tests.html_scan import page_text, read

RELEASED = date(2022, 8, 26)
SECRET = "Secret Title"


@pytest.fixture
def show(db: Session, moderated_board: Board) -> Board:
    """Partner Track: ten episodes released at once (S1E8's title is a spoiler), and S2E1 airing
    next month."""
    entries = [
        EpisodeEntry(1, n, SECRET if n == 8 else f"Episode {n}", RELEASED) for n in range(1, 11)
    ]
    entries.append(EpisodeEntry(2, 1, "Future Premiere", date.today() + timedelta(days=30)))
    upsert_episodes(db, moderated_board, entries)
    db.commit()
    return moderated_board


def progress_url(board: Board) -> str:
    return f"/b/{board.slug}/progress"


def progress_on(db: Session, user: User, board: Board) -> int | None:
    fresh(db, user)
    return user.watch_progress.get(str(board.id))


def words(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------------------ setting it


@pytest.mark.parametrize(
    ("watched", "expected"),
    [
        ("S1E6", key_of(1, 6)),
        ("s01e08", key_of(1, 8)),
        ("none", NOTHING_WATCHED),
        ("all", key_of(1, 10)),  # the last episode aired: S2E1 is still to come
    ],
)
def test_a_member_sets_their_progress(
    db: Session, show: Board, member: User, login_as: LoginAs, watched: str, expected: int
) -> None:
    response = login_as(member).post(progress_url(show), {"watched": watched}, page="/")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/b/{show.slug}"
    assert progress_on(db, member, show) == expected


def test_progress_on_one_board_keeps_the_others(
    db: Session, make: Factory, show: Board, member: User, login_as: LoginAs
) -> None:
    other = make.board("another-show")
    member.watch_progress = {str(other.id): key_of(3, 2)}
    db.commit()

    login_as(member).post(progress_url(show), {"watched": "S1E6"}, page="/")

    fresh(db, member)
    assert member.watch_progress == {str(other.id): key_of(3, 2), str(show.id): key_of(1, 6)}


def test_all_means_caught_up_on_a_board_without_air_dates(
    db: Session, make: Factory, member: User, login_as: LoginAs
) -> None:
    undated = make.board("undated-show")
    upsert_episodes(db, undated, [EpisodeEntry(1, 1, "Pilot")])
    db.commit()

    response = login_as(member).post(progress_url(undated), {"watched": "all"}, page="/")

    assert response.status_code == 302
    assert progress_on(db, member, undated) == CAUGHT_UP


def test_forward_only_moves_progress_up(
    db: Session, show: Board, member: User, login_as: LoginAs
) -> None:
    browser = login_as(member)
    browser.post(progress_url(show), {"watched": "S1E8"}, page="/")

    behind = browser.post(progress_url(show), {"watched": "S1E3", "forward": "1"}, page="/")
    assert behind.status_code == 302
    assert progress_on(db, member, show) == key_of(1, 8)

    ahead = browser.post(progress_url(show), {"watched": "S1E9", "forward": "1"}, page="/")
    assert ahead.status_code == 302
    assert progress_on(db, member, show) == key_of(1, 9)


@pytest.mark.parametrize(
    ("next_value", "location"),
    [
        ("/b/partner-track/episodes", "/b/partner-track/episodes"),
        ("//evil.example/steal", "/b/partner-track"),
        ("https://evil.example/", "/b/partner-track"),
        ("javascript:alert(1)", "/b/partner-track"),
        ("", "/b/partner-track"),
    ],
)
def test_the_redirect_stays_on_this_site(
    show: Board, member: User, login_as: LoginAs, next_value: str, location: str
) -> None:
    response = login_as(member).post(
        progress_url(show), {"watched": "S1E2", "next": next_value}, page="/"
    )

    assert response.status_code == 302
    assert response.headers["Location"] == location


@pytest.mark.parametrize(
    "watched", ["S9E9", "S2E2", "S0E1", "banana", "", "   ", "S1E6 OR 1=1", "x" * 5000, "\x00"]
)
def test_a_value_that_is_no_episode_is_a_400_with_a_message(
    db: Session, show: Board, member: User, login_as: LoginAs, watched: str
) -> None:
    response = login_as(member).post(progress_url(show), {"watched": watched}, page="/")

    assert response.status_code == 400
    text = page_text(response)
    assert "isn't an episode of Partner Track" in text or "Choose an episode" in text
    assert progress_on(db, member, show) is None


def test_a_code_of_another_boards_episode_is_refused(
    db: Session, make: Factory, show: Board, member: User, login_as: LoginAs
) -> None:
    other = make.board("short-show")
    upsert_episodes(db, other, [EpisodeEntry(4, 1, "Elsewhere", RELEASED)])
    db.commit()

    response = login_as(member).post(progress_url(show), {"watched": "S4E1"}, page="/")

    assert response.status_code == 400
    assert progress_on(db, member, show) is None


def test_unknown_boards_are_404(member: User, login_as: LoginAs) -> None:
    response = login_as(member).post("/b/no-such-show/progress", {"watched": "none"}, page="/")
    assert response.status_code == 404


def test_without_the_csrf_token_nothing_changes(
    db: Session, show: Board, member: User, login_as: LoginAs
) -> None:
    response = login_as(member).raw_post(progress_url(show), {"watched": "S1E8"})

    assert response.status_code == 400
    assert progress_on(db, member, show) is None


# ------------------------------------------------------------------------------ who may

PROGRESS = {
    "visitor": 401,
    "member": 302,
    "suspended member": 302,  # reading is theirs still: progress is about reading
    "moderator elsewhere": 302,
    "moderator here": 302,
    "admin": 302,
}


@pytest.mark.parametrize("who", list(PROGRESS))
def test_who_may_set_progress(
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
        progress_url(show), {"watched": "S1E6"}, page="/login" if person is None else "/"
    )

    assert response.status_code == PROGRESS[who]
    if person is None:
        # The house's "log in to continue": the login form, coming back to the board.
        page = read(response.get_data(as_text=True))
        assert page.values.get("next") == f"/b/{show.slug}"
        assert "password" in page.values
    else:
        assert progress_on(db, person, show) == key_of(1, 6)


# ------------------------------------------------------------------------------ what it changes


def test_two_devices_see_the_same_progress_on_their_next_request(
    show: Board, member: User, login_as: LoginAs
) -> None:
    phone, laptop = login_as(member), login_as(member)
    guide = f"/b/{show.slug}/episodes"
    phone.post(progress_url(show), {"watched": "S1E6"}, page="/")
    assert SECRET.encode() not in laptop.get(guide).data

    moved = laptop.post(progress_url(show), {"watched": "S1E8"}, page=guide)

    assert moved.status_code == 302
    on_phone = phone.get(guide)
    assert SECRET.encode() in on_phone.data
    assert "You're at S1E8 · change" in words(page_text(on_phone))


def test_the_board_page_says_where_a_member_is(
    db: Session, show: Board, member: User, login_as: LoginAs, visitor: Browserish
) -> None:
    browser = login_as(member)
    board_page = f"/b/{show.slug}"
    assert "You haven't set your progress" in words(page_text(browser.get(board_page)))

    browser.post(progress_url(show), {"watched": "S1E6"}, page=board_page)
    response = browser.get(board_page)

    text = words(page_text(response))
    assert "You're at S1E6 · change" in text
    assert f'action="{progress_url(show)}"'.encode() in response.data
    assert b'<option value="S1E6" selected>' in response.data
    assert f'href="/b/{show.slug}/episodes"'.encode() in response.data
    as_visitor = words(page_text(visitor.get(board_page)))
    assert "Spoilers from recent episodes are hidden" in as_visitor
    assert "Log in" in as_visitor


# ------------------------------------------------------------------------------ spoiler settings


def test_a_member_chooses_their_spoiler_settings(
    db: Session, member: User, login_as: LoginAs
) -> None:
    browser = login_as(member)

    response = browser.post(
        "/settings/spoilers", {"sees_all_spoilers": "y", "hides_show_news": "y"}, page="/"
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/settings"
    fresh(db, member)
    assert (member.sees_all_spoilers, member.hides_show_news) == (True, True)
    settings = browser.get("/settings")
    assert b'id="sees_all_spoilers" name="sees_all_spoilers" type="checkbox" value="y" checked' in (
        settings.data
    )
    assert "Show me everything: no spoiler protection" in page_text(settings)
    assert "Hide renewal and cancellation news until I reveal it" in page_text(settings)

    browser.post("/settings/spoilers", {}, page="/")
    fresh(db, member)
    assert (member.sees_all_spoilers, member.hides_show_news) == (False, False)


def test_show_me_everything_reveals_every_title(
    show: Board, member: User, login_as: LoginAs
) -> None:
    browser = login_as(member)
    browser.post(progress_url(show), {"watched": "S1E2"}, page="/")
    assert SECRET.encode() not in browser.get(f"/b/{show.slug}/episodes").data

    browser.post("/settings/spoilers", {"sees_all_spoilers": "y"}, page="/")

    assert SECRET.encode() in browser.get(f"/b/{show.slug}/episodes").data


SETTINGS = {
    "visitor": 401,
    "member": 302,
    "suspended member": 302,
    "moderator elsewhere": 302,
    "moderator here": 302,
    "admin": 302,
}


@pytest.mark.parametrize("who", list(SETTINGS))
def test_who_may_change_spoiler_settings(
    db: Session,
    make: Factory,
    login_as: LoginAs,
    person_called: Callable[[str], User | None],
    who: str,
) -> None:
    person = person_called(who)

    response = login_as(person).post(
        "/settings/spoilers",
        {"hides_show_news": "y"},
        page="/login" if person is None else "/",
    )

    assert response.status_code == SETTINGS[who]
    if person is not None:
        fresh(db, person)
        assert person.hides_show_news is True


def test_spoiler_settings_refuse_a_post_without_its_token(
    db: Session, member: User, login_as: LoginAs
) -> None:
    response = login_as(member).raw_post("/settings/spoilers", {"sees_all_spoilers": "y"})

    assert response.status_code == 400
    fresh(db, member)
    assert member.sees_all_spoilers is False


def test_an_episode_added_seconds_ago_is_no_bad_request(
    db: Session, show: Board, member: User, login_as: LoginAs
) -> None:
    browser = login_as(member)
    browser.get(f"/b/{show.slug}/episodes")  # this process now holds the catalogue for a while
    upsert_episodes(db, show, [EpisodeEntry(1, 11, "Bonus Episode", RELEASED)])
    db.commit()

    response = browser.post(progress_url(show), {"watched": "S1E11"}, page="/")

    assert response.status_code == 302
    assert progress_on(db, member, show) == key_of(1, 11)
