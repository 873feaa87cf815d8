"""Watching and muting through HTTP (forum/views/watching.py, forum/conversation/subscriptions.py):
thread and board levels, member mutes, the auto-watch setting and /watching. Every POST carries
the CSRF token its page gave; leaks are checked on the raw bytes of the pages."""

from __future__ import annotations

import logging
import re
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.discussion import posting
from forum.discussion.episode_codes import key_of
from forum.discussion.episodes import EpisodeEntry, upsert_episodes
from forum.models import (
    Board,
    BoardState,
    CacheState,
    MemberMute,
    Thread,
    ThreadState,
    User,
    WatchLevel,
)
from forum.staff import moderation
from tests.conftest import AppBuilder, Browserish, Factory, LoginAs, browser_for, fresh

TOKEN_PAGE = "/watching"


def state_of(db: Session, user: User, thread: Thread) -> ThreadState | None:
    db.expire_all()
    return db.get(ThreadState, (user.id, thread.id))


def board_state(db: Session, user: User, board: Board) -> BoardState | None:
    db.expire_all()
    return db.get(BoardState, (user.id, board.id))


def muted_ids(db: Session, user: User) -> set[int]:
    db.expire_all()
    return set(db.scalars(select(MemberMute.muted_id).where(MemberMute.user_id == user.id)))


def flash_of(client: Browserish) -> str:
    page: str = client.get(TOKEN_PAGE).get_data(as_text=True)
    return page


def without_tokens(page: bytes) -> bytes:
    """A page with its CSRF tokens blanked: they are signed with the time, so they change
    from one second to the next whatever else does."""
    return re.sub(rb'(name="csrf_token"[^>]*value=")[^"]+"', rb'\1"', page)


def hide(app: Flask, db: Session, admin: User, thread: Thread) -> None:
    """A moderator hides the thread (in an app context: hiding notifies its author)."""
    with app.app_context():
        moderation.set_thread_hidden(db, admin, thread, True)
        db.commit()


def thread_url(thread: Thread) -> str:
    return f"/t/{thread.id}/{thread.slug}"


# ------------------------------------------------------------------------------ threads


FLASHES = {
    "watching": "watching “Who killed the partner?”: every reply will notify you.",
    "muted": "You muted “Who killed the partner?”: nothing in it will notify you.",
    "normal": "“Who killed the partner?” is back to normal",
}


@pytest.mark.parametrize("level", ["watching", "muted", "normal"])
def test_a_thread_level_persists_and_shows_on_the_thread_page(
    member_client: Browserish, member: User, make: Factory, db: Session, level: str
) -> None:
    thread = make.thread(title="Who killed the partner?")

    sent = member_client.post(f"/t/{thread.id}/watch", {"level": level}, page=thread_url(thread))

    assert sent.status_code == 302
    assert sent.headers["Location"] == thread_url(thread)
    assert FLASHES[level] in flash_of(member_client)
    state = state_of(db, member, thread)
    assert state is not None and state.level == level and state.level_chosen
    page = member_client.get(thread_url(thread)).get_data(as_text=True)
    assert f'value="{level}" aria-pressed="true"' in page
    assert page.count('aria-pressed="true"') == 1


def test_a_thread_never_opened_shows_normal(member_client: Browserish, make: Factory) -> None:
    thread = make.thread()

    page = member_client.get(thread_url(thread)).get_data(as_text=True)

    assert 'value="normal" aria-pressed="true"' in page
    assert f'action="/t/{thread.id}/watch"' in page


def test_a_bad_level_is_a_clear_400_and_writes_nothing(
    member_client: Browserish, member: User, make: Factory, db: Session
) -> None:
    thread = make.thread()

    for bad in ["loud", "", "WATCHING!", "0" * 500]:
        refused = member_client.post(f"/t/{thread.id}/watch", {"level": bad}, page=TOKEN_PAGE)
        assert refused.status_code == 400
        assert "Choose watching, normal or muted." in refused.get_data(as_text=True)
    assert state_of(db, member, thread) is None


def test_the_level_is_read_case_insensitively(
    member_client: Browserish, member: User, make: Factory, db: Session
) -> None:
    thread = make.thread()

    member_client.post(f"/t/{thread.id}/watch", {"level": " Watching "}, page=TOKEN_PAGE)

    state = state_of(db, member, thread)
    assert state is not None and state.level == WatchLevel.WATCHING


def test_unknown_and_hidden_threads_are_404(
    app: Flask,
    member_client: Browserish,
    member: User,
    make: Factory,
    db: Session,
    admin: User,
    login_as: LoginAs,
) -> None:
    thread = make.thread()
    hide(app, db, admin, thread)

    assert (
        member_client.post("/t/999999/watch", {"level": "watching"}, page=TOKEN_PAGE).status_code
        == 404
    )
    hidden = member_client.post(f"/t/{thread.id}/watch", {"level": "watching"}, page=TOKEN_PAGE)
    assert hidden.status_code == 404
    assert state_of(db, member, thread) is None
    # The admin sees the hidden thread, so may watch it.
    staff = login_as(admin)
    assert (
        staff.post(f"/t/{thread.id}/watch", {"level": "watching"}, page=TOKEN_PAGE).status_code
        == 302
    )


def test_a_missing_csrf_token_is_refused_everywhere(
    member_client: Browserish, member: User, make: Factory, db: Session
) -> None:
    thread = make.thread()
    board = make.board()
    other = make.user("other_olive")
    before_auto = member.auto_watch

    for url, data in [
        (f"/t/{thread.id}/watch", {"level": "watching"}),
        (f"/b/{board.slug}/watch", {"level": "muted"}),
        (f"/u/{other.username}/mute", {}),
        (f"/u/{other.username}/unmute", {}),
        ("/watching/settings", {}),
    ]:
        assert member_client.raw_post(url, data).status_code == 400, url

    assert state_of(db, member, thread) is None
    assert board_state(db, member, board) is None
    assert muted_ids(db, member) == set()
    fresh(db, member)
    assert member.auto_watch == before_auto


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_next_never_leaves_the_site(member_client: Browserish, make: Factory, target: str) -> None:
    thread = make.thread()

    sent = member_client.post(
        f"/t/{thread.id}/watch", {"level": "watching", "next": target}, page=TOKEN_PAGE
    )

    assert sent.headers["Location"] == thread_url(thread)


def test_next_on_this_site_is_followed(member_client: Browserish, make: Factory) -> None:
    thread = make.thread()

    sent = member_client.post(
        f"/t/{thread.id}/watch", {"level": "muted", "next": "/watching?page=2"}, page=TOKEN_PAGE
    )

    assert sent.headers["Location"] == "/watching?page=2"


# ------------------------------------------------------------------------------ auto-watch


def reply_over_http(client: Browserish, thread: Thread, body: str = "Agreed!") -> None:
    sent = client.post(f"/t/{thread.id}/reply", {"body": body}, page=thread_url(thread))
    assert sent.status_code == 302, sent.get_data(as_text=True)[:500]


def test_replying_watches_the_thread(
    member_client: Browserish, member: User, make: Factory, db: Session
) -> None:
    thread = make.thread()

    reply_over_http(member_client, thread)

    state = state_of(db, member, thread)
    assert state is not None and state.level == WatchLevel.WATCHING and not state.level_chosen
    page = member_client.get(thread_url(thread)).get_data(as_text=True)
    assert 'value="watching" aria-pressed="true"' in page
    assert "watched because you posted here" in page


def test_replying_keeps_a_chosen_mute(
    member_client: Browserish, member: User, make: Factory, db: Session
) -> None:
    thread = make.thread()
    member_client.post(f"/t/{thread.id}/watch", {"level": "muted"}, page=TOKEN_PAGE)

    reply_over_http(member_client, thread)

    state = state_of(db, member, thread)
    assert state is not None and state.level == WatchLevel.MUTED


def test_replying_keeps_a_chosen_normal(
    member_client: Browserish, member: User, make: Factory, db: Session
) -> None:
    thread = make.thread()
    member_client.post(f"/t/{thread.id}/watch", {"level": "normal"}, page=TOKEN_PAGE)

    reply_over_http(member_client, thread)

    state = state_of(db, member, thread)
    assert state is not None and state.level == WatchLevel.NORMAL


def test_with_auto_watch_off_replying_watches_nothing(
    member_client: Browserish, member: User, make: Factory, db: Session
) -> None:
    thread = make.thread()

    off = member_client.post("/watching/settings", {}, page=TOKEN_PAGE)
    assert off.status_code == 302
    fresh(db, member)
    assert member.auto_watch is False
    assert "Auto-watch is off" in flash_of(member_client)
    reply_over_http(member_client, thread)

    state = state_of(db, member, thread)
    assert state is not None and state.level == WatchLevel.NORMAL
    page = member_client.get(TOKEN_PAGE).get_data(as_text=True)
    assert 'name="auto_watch" value="y">' in page  # unchecked

    member_client.post("/watching/settings", {"auto_watch": "y"}, page=TOKEN_PAGE)
    fresh(db, member)
    assert member.auto_watch is True
    assert 'name="auto_watch" value="y" checked>' in member_client.get(TOKEN_PAGE).get_data(
        as_text=True
    )


# ------------------------------------------------------------------------------ boards


@pytest.mark.parametrize("level", ["watching", "muted"])
def test_a_board_level_persists_and_the_viewer_sees_it(
    member_client: Browserish, member: User, make: Factory, db: Session, level: str
) -> None:
    board = make.board(name="Partner Track")
    assert member.has_conversation_settings is False

    sent = member_client.post(f"/b/{board.slug}/watch", {"level": level}, page=f"/b/{board.slug}")

    assert sent.status_code == 302 and sent.headers["Location"] == f"/b/{board.slug}"
    state = board_state(db, member, board)
    assert state is not None and state.level == level
    fresh(db, member)
    assert member.has_conversation_settings is True
    page = member_client.get(f"/b/{board.slug}").get_data(as_text=True)
    assert f'value="{level}" aria-pressed="true"' in page
    assert "Partner Track" in page


def test_board_normal_keeps_the_mark_all_read(
    member_client: Browserish, member: User, make: Factory, db: Session
) -> None:
    from forum.models import utcnow

    board = make.board()
    marked = utcnow().replace(microsecond=0)
    db.add(BoardState(user_id=member.id, board_id=board.id, level="muted", marked_read_at=marked))
    db.commit()

    member_client.post(f"/b/{board.slug}/watch", {"level": "normal"}, page=TOKEN_PAGE)

    state = board_state(db, member, board)
    assert state is not None and state.level == "normal" and state.marked_read_at == marked


def test_unknown_board_is_404_and_a_bad_level_400(member_client: Browserish, make: Factory) -> None:
    board = make.board()

    assert (
        member_client.post("/b/no-such-show/watch", {"level": "muted"}, page=TOKEN_PAGE).status_code
        == 404
    )
    refused = member_client.post(f"/b/{board.slug}/watch", {"level": "banana"}, page=TOKEN_PAGE)
    assert refused.status_code == 400
    assert "Choose watching, normal or muted." in refused.get_data(as_text=True)


def test_a_muted_board_goes_last_on_the_index_without_its_latest_thread(
    member_client: Browserish, member: User, make: Factory, login_as: LoginAs
) -> None:
    loud = make.board("aaa-loud", name="Aaa Loud Show", position=0)
    quiet = make.board("zzz-quiet", name="Zzz Quiet Show", position=1)
    make.thread(board=loud, title="Loud latest thread")
    make.thread(board=quiet, title="Quiet latest thread")

    member_client.post(f"/b/{loud.slug}/watch", {"level": "muted"}, page=TOKEN_PAGE)
    flash_of(member_client)  # the flash names the board: shown, so the index is the list alone

    page = member_client.get("/").get_data(as_text=True)
    assert "Loud latest thread" not in page  # out of the member's latest views
    assert "Quiet latest thread" in page
    assert page.index("Zzz Quiet Show") < page.index("Aaa Loud Show")
    assert 'class="badge badge-muted">muted<' in page
    # Nobody else's index changes.
    other = login_as(make.user()).get("/").get_data(as_text=True)
    assert "Loud latest thread" in other and "badge-muted" not in other
    assert other.index("Aaa Loud Show") < other.index("Zzz Quiet Show")


# ------------------------------------------------------------------------------ members


def test_muting_a_member_collapses_their_posts_for_the_muter_only(
    app: Flask,
    member_client: Browserish,
    member: User,
    make: Factory,
    db: Session,
    login_as: LoginAs,
) -> None:
    loud = make.user("loud_larry")
    bystander = make.user("bystander_bea")
    thread = make.thread(author=member, title="Finale thoughts")
    make.reply(thread, loud, "LOUD OPINION ABOUT THE FINALE")
    bystander_browser = login_as(bystander)
    loud_browser = login_as(loud)
    bystander_before = without_tokens(bystander_browser.get(thread_url(thread)).get_data())
    loud_profile_before = without_tokens(loud_browser.get(f"/u/{member.username}").get_data())

    sent = member_client.post(f"/u/{loud.username}/mute", {}, page=f"/u/{loud.username}")

    assert sent.status_code == 302 and sent.headers["Location"] == f"/u/{loud.username}"
    assert muted_ids(db, member) == {loud.id}
    fresh(db, member)
    assert member.has_conversation_settings is True
    page = member_client.get(thread_url(thread)).get_data(as_text=True)
    assert page.count('<details class="muted-post">') == 1
    folded = page[page.index('<details class="muted-post">') :]
    assert "LOUD OPINION ABOUT THE FINALE" in folded[: folded.index("</details>")]
    profile = member_client.get(f"/u/{loud.username}").get_data(as_text=True)
    assert 'action="/u/loud_larry/unmute"' in profile and "badge-muted" in profile
    # The bystander's page is byte for byte what it was (CSRF tokens aside).
    assert without_tokens(bystander_browser.get(thread_url(thread)).get_data()) == bystander_before
    # The muted member sees nothing about being muted: the muter's profile is unchanged.
    loud_profile_after = without_tokens(loud_browser.get(f"/u/{member.username}").get_data())
    assert loud_profile_after == loud_profile_before
    loud_thread = loud_browser.get(thread_url(thread)).get_data()
    assert b"muted-post" not in loud_thread and b"is-muted" not in loud_thread
    assert b"badge-muted" not in loud_profile_after and b"unmute" not in loud_profile_after


def test_unmuting_brings_the_posts_back(
    member_client: Browserish, member: User, make: Factory, db: Session
) -> None:
    loud = make.user("loud_larry")
    thread = make.thread(author=loud)
    member_client.post(f"/u/{loud.username}/mute", {}, page=TOKEN_PAGE)
    assert b"muted-post" in member_client.get(thread_url(thread)).get_data()

    sent = member_client.post(f"/u/{loud.username}/unmute", {}, page=TOKEN_PAGE)

    assert sent.status_code == 302
    assert "You unmuted loud_larry." in flash_of(member_client)
    assert muted_ids(db, member) == set()
    assert b"muted-post" not in member_client.get(thread_url(thread)).get_data()


def test_muting_twice_is_one_mute_and_names_are_case_insensitive(
    member_client: Browserish, member: User, make: Factory, db: Session
) -> None:
    loud = make.user("loud_larry")

    member_client.post("/u/Loud_Larry/mute", {}, page=TOKEN_PAGE)
    member_client.post(f"/u/{loud.username}/mute", {}, page=TOKEN_PAGE)

    assert muted_ids(db, member) == {loud.id}


def test_muting_yourself_is_a_clear_400(
    member_client: Browserish, member: User, db: Session
) -> None:
    refused = member_client.post(f"/u/{member.username}/mute", {}, page=TOKEN_PAGE)

    assert refused.status_code == 400
    assert "You can&#39;t mute yourself." in refused.get_data(as_text=True)
    assert muted_ids(db, member) == set()


def test_unknown_member_is_404(member_client: Browserish) -> None:
    assert member_client.post("/u/nobody_here/mute", {}, page=TOKEN_PAGE).status_code == 404
    assert member_client.post("/u/nobody_here/unmute", {}, page=TOKEN_PAGE).status_code == 404


def test_own_profile_has_no_mute_button(member_client: Browserish, member: User) -> None:
    page = member_client.get(f"/u/{member.username}").get_data(as_text=True)

    assert "/mute" not in page


def test_staff_may_be_muted(
    member_client: Browserish, member: User, admin: User, db: Session
) -> None:
    sent = member_client.post(f"/u/{admin.username}/mute", {}, page=TOKEN_PAGE)

    assert sent.status_code == 302
    assert muted_ids(db, member) == {admin.id}


# ------------------------------------------------------------------------------ /watching


@pytest.fixture
def spoiler_board(make: Factory, db: Session, member: User) -> Board:
    """A show with ten aired episodes; the member has watched up to S1E6."""
    board = make.board("spoiled-show", name="Spoiled Show")
    aired = date(2022, 8, 26)
    upsert_episodes(db, board, [EpisodeEntry(1, n, f"Episode {n}", aired) for n in range(1, 11)])
    db.refresh(member)
    member.watch_progress = {str(board.id): key_of(1, 6)}
    db.commit()
    return board


def test_watching_lists_threads_boards_and_members(
    member_client: Browserish, member: User, make: Factory, db: Session
) -> None:
    board = make.board(name="Watched Show")
    quiet = make.board(name="Quiet Show")
    watched = make.thread(board=board, title="A thread I watch")
    muted = make.thread(board=board, title="A thread I muted")
    make.thread(board=board, title="A thread I ignore")
    loud = make.user("loud_larry")
    member_client.post(f"/t/{watched.id}/watch", {"level": "watching"}, page=TOKEN_PAGE)
    member_client.post(f"/t/{muted.id}/watch", {"level": "muted"}, page=TOKEN_PAGE)
    member_client.post(f"/b/{board.slug}/watch", {"level": "watching"}, page=TOKEN_PAGE)
    member_client.post(f"/b/{quiet.slug}/watch", {"level": "muted"}, page=TOKEN_PAGE)
    member_client.post(f"/u/{loud.username}/mute", {}, page=TOKEN_PAGE)

    page = member_client.get("/watching").get_data(as_text=True)

    assert page.index("A thread I watch") < page.index("A thread I muted")
    assert "A thread I ignore" not in page
    assert f'action="/t/{watched.id}/watch"' in page
    assert "Watched Show" in page and "Quiet Show" in page
    assert f'action="/b/{quiet.slug}/watch"' in page
    assert 'action="/u/loud_larry/unmute"' in page

    # The inline controls undo each.
    member_client.post(f"/t/{watched.id}/watch", {"level": "normal"}, page=TOKEN_PAGE)
    member_client.post(f"/b/{quiet.slug}/watch", {"level": "normal"}, page=TOKEN_PAGE)
    member_client.post(f"/u/{loud.username}/unmute", {}, page=TOKEN_PAGE)
    page = member_client.get("/watching").get_data(as_text=True)
    assert "A thread I watch" not in page
    assert "Quiet Show" not in page
    assert 'href="/u/loud_larry"' not in page


def test_watching_never_shows_a_hidden_thread_or_a_spoiler_title(
    app: Flask,
    member_client: Browserish,
    member: User,
    make: Factory,
    db: Session,
    admin: User,
    spoiler_board: Board,
) -> None:
    secret = make.thread(title="Secret hidden thread title")
    finale = posting.create_thread(
        db, spoiler_board, admin, "Finale twist: the partner dies", "Wow", episode_key=key_of(1, 10)
    )
    db.commit()
    member_client.post(f"/t/{secret.id}/watch", {"level": "watching"}, page=TOKEN_PAGE)
    member_client.post(f"/t/{finale.id}/watch", {"level": "watching"}, page=TOKEN_PAGE)
    hide(app, db, admin, secret)

    raw = member_client.get("/watching").get_data()

    assert b"Secret hidden" not in raw
    assert f"/t/{secret.id}".encode() not in raw
    assert b"partner dies" not in raw and b"Finale twist" not in raw
    assert b"Episode thread for S1E10" in raw
    # The flash after watching it was masked too.
    member_client.post(f"/t/{finale.id}/watch", {"level": "muted"}, page=TOKEN_PAGE)
    assert b"partner dies" not in member_client.get("/watching").get_data()


def test_watching_is_paged(build_app: AppBuilder, make: Factory, member: User, db: Session) -> None:
    app = build_app(THREADS_PER_PAGE=3)
    client = browser_for(app, member)
    board = make.board()
    threads = [make.thread(board=board, title=f"Watched number {n}") for n in range(5)]
    for thread in threads:
        db.add(ThreadState(user_id=member.id, thread_id=thread.id, level="watching"))
    db.commit()

    first = client.get("/watching").get_data(as_text=True)
    second = client.get("/watching?page=2").get_data(as_text=True)

    assert sum(f"Watched number {n}<" in first for n in range(5)) == 3
    assert sum(f"Watched number {n}<" in second for n in range(5)) == 2
    assert 'href="/watching?page=2"' in first


# ------------------------------------------------------------------------------ who may


POSTS = [
    ("thread", "watch", {"level": "watching"}),
    ("board", "watch", {"level": "muted"}),
    ("user", "mute", {}),
    ("user", "unmute", {}),
    ("settings", "", {"auto_watch": "y"}),
]


def url_for_target(kind: str, action: str, thread: Thread, board: Board, other: User) -> str:
    return {
        "thread": f"/t/{thread.id}/watch",
        "board": f"/b/{board.slug}/watch",
        "user": f"/u/{other.username}/{action}",
        "settings": "/watching/settings",
    }[kind]


@pytest.mark.parametrize(("kind", "action", "data"), POSTS)
def test_visitors_are_sent_to_log_in(
    visitor: Browserish, make: Factory, kind: str, action: str, data: dict[str, str]
) -> None:
    thread, board, other = make.thread(), make.board(), make.user()
    url = url_for_target(kind, action, thread, board, other)

    sent = visitor.post(url, data)

    assert sent.status_code == 302
    assert sent.headers["Location"].startswith("/login?next=")


def test_visitors_asking_for_watching_are_sent_to_log_in(visitor: Browserish) -> None:
    sent = visitor.get("/watching")

    assert sent.status_code == 302
    assert sent.headers["Location"] == "/login?next=/watching"


@pytest.mark.parametrize(("kind", "action", "data"), POSTS)
def test_suspended_members_may_still_watch_and_mute(
    suspended_member: User,
    login_as: LoginAs,
    make: Factory,
    kind: str,
    action: str,
    data: dict[str, str],
) -> None:
    """Watching and muting change only what the member sees and hears of: a suspension (no
    posting, no reporting) leaves them alone."""
    thread, board, other = make.thread(), make.board(), make.user()
    browser = login_as(suspended_member)

    sent = browser.post(url_for_target(kind, action, thread, board, other), data, page=TOKEN_PAGE)

    assert sent.status_code == 302
    assert not sent.headers["Location"].startswith("/login")
    assert browser.get("/watching").status_code == 200


# ------------------------------------------------------------------------------ cache


@pytest.mark.parametrize(("kind", "action", "data"), POSTS)
def test_each_write_is_declared_private(
    member_client: Browserish,
    make: Factory,
    db: Session,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    action: str,
    data: dict[str, str],
) -> None:
    """No public page shows a level or a mute: the anonymous cache keeps every page, and no
    write goes undeclared (forum/platform/freshness.py)."""
    thread, board, other = make.thread(), make.board(), make.user()
    url = url_for_target(kind, action, thread, board, other)
    token_page = member_client.token(TOKEN_PAGE)
    db.expire_all()
    versions = (
        db.scalar(select(CacheState.version)),
        db.scalar(select(Thread.cache_version).where(Thread.id == thread.id)),
        db.scalar(select(Board.cache_version).where(Board.id == board.id)),
        db.scalar(select(User.cache_version).where(User.id == other.id)),
    )

    with caplog.at_level(logging.INFO):
        sent = member_client.client.post(url, data={"csrf_token": token_page, **data})

    assert sent.status_code == 302
    assert not any("undeclared write" in r.getMessage() for r in caplog.records)
    db.expire_all()
    assert versions == (
        db.scalar(select(CacheState.version)),
        db.scalar(select(Thread.cache_version).where(Thread.id == thread.id)),
        db.scalar(select(Board.cache_version).where(Board.id == board.id)),
        db.scalar(select(User.cache_version).where(User.id == other.id)),
    )
