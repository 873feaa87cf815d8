"""Unread tracking as a member meets it: bold rows with "N new" on board lists, the stable link
/t/<id>/unread that lands on the first unread post they actually see, the "New" line in the
thread, and "mark all read" per board and site-wide (forum/conversation/unread.py,
forum/views/unread.py). Visitors get none of it."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from forum.conversation import unread
from forum.discussion import posting
from forum.models import (
    Board,
    BoardState,
    CacheState,
    MemberMute,
    Post,
    Thread,
    ThreadState,
    User,
    utcnow,
)
from forum.platform import freshness
from forum.staff import moderation
from tests.conftest import (
    Browserish,
    Factory,
    LoginAs,
    StatementLog,
    moderator_of,
    text_of,
)
from tests.test_freshness import undeclared_writers

PER_PAGE = 20  # POSTS_PER_PAGE's default (forum/platform/config.py)


def thread_url(thread: Thread) -> str:
    return f"/t/{thread.id}/{thread.slug}"


def row_of(page: str, thread: Thread) -> str:
    """The board list's row (the <li>) of `thread`."""
    rows: list[str] = re.findall(r'<li class="thread-row[^"]*">.*?</li>', page, re.DOTALL)
    found = [row for row in rows if f'href="{thread_url(thread)}"' in row]
    assert len(found) == 1, f"no single row for {thread.title!r}"
    return found[0]


def is_bold(row: str) -> bool:
    return bool(re.match(r'<li class="thread-row[^"]*\bis-unread\b', row))


def badge_of(row: str) -> str | None:
    """The "N new" badge's visible words (without its screen-reader tail), or None."""
    found = re.search(r'<a class="badge badge-new" href="([^"]+)">(.*?)</a>', row, re.DOTALL)
    if found is None:
        return None
    return re.sub(r'<span class="visually-hidden">.*?</span>', "", found.group(2)).strip()


def badge_link(row: str) -> str | None:
    found = re.search(r'<a class="badge badge-new" href="([^"]+)"', row)
    return found.group(1) if found else None


def board_page(browser: Browserish, board: Board) -> str:
    response = browser.get(f"/b/{board.slug}")
    assert response.status_code == 200
    return text_of(response)


def posts_of(db: Session, thread: Thread) -> dict[int, Post]:
    """The thread's posts by number."""
    return {
        post.number: post for post in db.scalars(select(Post).where(Post.thread_id == thread.id))
    }


def jump(browser: Browserish, thread: Thread) -> str:
    response = browser.get(f"/t/{thread.id}/unread")
    assert response.status_code == 302
    return str(response.headers["Location"])


def landing(thread: Thread, post: Post) -> str:
    page = (post.number - 1) // PER_PAGE + 1
    query = f"?page={page}" if page > 1 else ""
    return f"{thread_url(thread)}{query}#post-{post.id}"


@pytest.fixture
def board(make: Factory) -> Board:
    return make.board("unread-show", name="Unread Show")


@pytest.fixture
def reader(make: Factory) -> User:
    return make.user("reader_rae")


@pytest.fixture
def talker(make: Factory) -> User:
    return make.user("talker_tom")


@pytest.fixture
def rae(login_as: LoginAs, reader: User) -> Browserish:
    return login_as(reader)


# ------------------------------------------------------------------------------ board lists


def test_another_members_replies_make_the_row_bold_with_their_count_until_read(
    make: Factory, board: Board, reader: User, talker: User, rae: Browserish
) -> None:
    thread = make.thread(board=board, author=talker, title="Finale theories")
    rae.get(thread_url(thread))
    assert not is_bold(row_of(board_page(rae, board), thread))

    make.reply(thread, talker, "First new reply")
    make.reply(thread, talker, "Second new reply")
    row = row_of(board_page(rae, board), thread)

    assert is_bold(row)
    assert badge_of(row) == "2 new"
    assert badge_link(row) == f"/t/{thread.id}/unread"

    rae.get(thread_url(thread))
    row = row_of(board_page(rae, board), thread)
    assert not is_bold(row)
    assert badge_of(row) is None


def test_a_muted_boards_threads_are_not_bold_unless_the_member_follows_one(
    make: Factory, board: Board, talker: User, rae: Browserish
) -> None:
    ignored = make.thread(board=board, author=talker, title="Thread left alone")
    followed = make.thread(board=board, author=talker, title="Thread followed anyway")
    rae.get(thread_url(ignored))
    rae.get(thread_url(followed))
    page = f"/t/{followed.id}/{followed.slug}"
    assert rae.post(f"/t/{followed.id}/watch", {"level": "watching"}, page=page).status_code == 302
    board_url = f"/b/{board.slug}"
    assert rae.post(f"{board_url}/watch", {"level": "muted"}, page=board_url).status_code == 302

    make.reply(ignored, talker, "News nobody on this board asked for")
    make.reply(followed, talker, "News the member asked for")
    listing = board_page(rae, board)

    assert not is_bold(row_of(listing, ignored))
    assert badge_of(row_of(listing, followed)) == "1 new"


def test_a_thread_never_opened_is_new_unless_it_is_older_than_the_member(
    make: Factory, db: Session, board: Board, talker: User, login_as: LoginAs
) -> None:
    older = make.thread(board=board, author=talker, title="From before you joined")
    newcomer = make.user("newcomer_nia")
    newer = make.thread(board=board, author=talker, title="Since you joined")
    page = board_page(login_as(newcomer), board)

    assert is_bold(row_of(page, newer))
    assert badge_of(row_of(page, newer)) == "new"
    assert not is_bold(row_of(page, older))
    assert badge_of(row_of(page, older)) is None


# ------------------------------------------------------------------------------ /t/<id>/unread


@pytest.fixture
def long_thread(make: Factory, board: Board, talker: User) -> Thread:
    """25 posts: two pages, page 2 from post 21."""
    return make.thread(board=board, author=talker, title="The long one", replies=24)


def test_the_jump_skips_deleted_and_hidden_posts_for_a_member_across_pages(
    make: Factory,
    db: Session,
    long_thread: Thread,
    rae: Browserish,
    board: Board,
    global_moderator: User,
) -> None:
    posts = posts_of(db, long_thread)
    rae.get(thread_url(long_thread))  # page 1: read up to post 20
    posting.delete_post(posts[21])
    db.commit()
    moderation.set_post_hidden(db, global_moderator, posts[22], True, "Off topic")
    db.commit()

    assert jump(rae, long_thread) == landing(long_thread, posts[23])


def test_a_moderator_lands_on_the_hidden_post_they_can_read(
    make: Factory, db: Session, long_thread: Thread, board: Board, login_as: LoginAs
) -> None:
    moderator = moderator_of(make, db, board, name="mod_mae")
    posts = posts_of(db, long_thread)
    mae = login_as(moderator)
    mae.get(thread_url(long_thread))
    posting.delete_post(posts[21])
    db.commit()
    moderation.set_post_hidden(db, moderator, posts[22], True, "Off topic")
    db.commit()

    assert jump(mae, long_thread) == landing(long_thread, posts[22])


def test_a_moderator_of_another_board_is_a_member_here(
    make: Factory, db: Session, long_thread: Thread, board: Board, login_as: LoginAs
) -> None:
    elsewhere = moderator_of(make, db, make.board("other-show"), name="mod_otto")
    posts = posts_of(db, long_thread)
    otto = login_as(elsewhere)
    otto.get(thread_url(long_thread))
    moderation.set_post_hidden(db, elsewhere, posts[21], True, "Off topic")
    db.commit()

    assert jump(otto, long_thread) == landing(long_thread, posts[22])


def test_the_jump_lands_on_a_later_page_when_unread_starts_there(
    make: Factory, db: Session, long_thread: Thread, rae: Browserish, talker: User
) -> None:
    rae.get(f"{thread_url(long_thread)}?page=2")  # read to post 25, the end
    for n in range(20):
        make.reply(long_thread, talker, f"Later reply {n}")  # posts 26 to 45
    posts = posts_of(db, long_thread)

    target = jump(rae, long_thread)

    assert target == landing(long_thread, posts[26])
    assert "?page=2#" in target
    rae.get(f"{thread_url(long_thread)}?page=2")  # now read to post 40
    assert jump(rae, long_thread) == landing(long_thread, posts[41])
    assert "?page=3#" in jump(rae, long_thread)


def test_with_nothing_unread_the_jump_lands_on_the_last_post_they_see(
    db: Session, long_thread: Thread, rae: Browserish, global_moderator: User
) -> None:
    posts = posts_of(db, long_thread)
    rae.get(f"{thread_url(long_thread)}?page=2")
    posting.delete_post(posts[25])
    db.commit()
    moderation.set_post_hidden(db, global_moderator, posts[24], True, "Off topic")
    db.commit()

    assert jump(rae, long_thread) == landing(long_thread, posts[23])


def test_a_thread_never_opened_starts_at_its_first_post_they_see(
    db: Session, long_thread: Thread, rae: Browserish
) -> None:
    posts = posts_of(db, long_thread)
    posting.delete_post(posts[1])
    db.commit()

    assert jump(rae, long_thread) == landing(long_thread, posts[2])
    assert landing(long_thread, posts[2]) == f"{thread_url(long_thread)}#post-{posts[2].id}"


def test_posts_of_a_muted_member_are_no_place_to_land(
    make: Factory, db: Session, board: Board, reader: User, talker: User, login_as: LoginAs
) -> None:
    pest = make.user("pest_pat")
    thread = make.thread(board=board, author=talker, title="Quiet please")
    db.add(MemberMute(user_id=reader.id, muted_id=pest.id))
    db.execute(update(User).where(User.id == reader.id).values(has_conversation_settings=True))
    freshness.private(db)
    db.commit()
    rae = login_as(reader)
    rae.get(thread_url(thread))
    make.reply(thread, pest, "Noise")
    make.reply(thread, talker, "Worth reading")

    assert jump(rae, thread) == landing(thread, posts_of(db, thread)[3])


def test_visitors_get_the_first_page_and_hidden_threads_are_not_found(
    make: Factory,
    db: Session,
    long_thread: Thread,
    board: Board,
    visitor: Browserish,
    rae: Browserish,
    global_moderator: User,
) -> None:
    assert jump(visitor, long_thread) == thread_url(long_thread)

    moderation.set_thread_hidden(db, global_moderator, long_thread, True, "Spam")
    db.commit()

    assert visitor.get(f"/t/{long_thread.id}/unread").status_code == 404
    assert rae.get(f"/t/{long_thread.id}/unread").status_code == 404
    assert rae.get("/t/99999999/unread").status_code == 404
    assert rae.get(f"/t/{2**40}/unread").status_code == 404


# ------------------------------------------------------------------------------ the "New" line


def new_marker_count(page: str) -> int:
    return page.count('class="new-marker"')


def test_the_new_line_sits_before_the_first_unread_post_once(
    make: Factory, db: Session, board: Board, talker: User, rae: Browserish
) -> None:
    thread = make.thread(board=board, author=talker, title="Marker", replies=2)
    first_view = text_of(rae.get(thread_url(thread)))
    assert new_marker_count(first_view) == 0  # never opened: no line
    make.reply(thread, talker, "The first unread")
    make.reply(thread, talker, "The second unread")
    posts = posts_of(db, thread)

    page = text_of(rae.get(thread_url(thread)))

    assert new_marker_count(page) == 1
    assert page.count('id="new"') == 1
    marker = page.index('class="new-marker"')
    assert page.index(f'id="post-{posts[3].id}"') < marker < page.index(f'id="post-{posts[4].id}"')
    # Read now: the line is gone.
    assert new_marker_count(text_of(rae.get(thread_url(thread)))) == 0


# ------------------------------------------------------------------------------ mark read


def test_mark_board_read_clears_its_rows_and_counts_only_what_comes_after(
    make: Factory, db: Session, board: Board, talker: User, reader: User, rae: Browserish
) -> None:
    read_a_bit = make.thread(board=board, author=talker, title="Read a bit", replies=2)
    rae.get(thread_url(read_a_bit))  # read to post 3
    for n in range(5):
        make.reply(read_a_bit, talker, f"Unread {n}")  # posts 4 to 8
    never_opened = make.thread(board=board, author=talker, title="Never opened", replies=3)
    other_board = make.board("elsewhere-show")
    elsewhere = make.thread(board=other_board, author=talker, title="Elsewhere")
    page = board_page(rae, board)
    assert is_bold(row_of(page, read_a_bit)) and is_bold(row_of(page, never_opened))

    response = rae.post(f"/b/{board.slug}/mark-read", page=f"/b/{board.slug}")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/b/{board.slug}"
    page = text_of(rae.get(response.headers["Location"]))
    assert "Every thread in Unread Show is marked read." in page
    for thread in (read_a_bit, never_opened):
        assert not is_bold(row_of(page, thread))
        assert badge_of(row_of(page, thread)) is None
    assert 'class="badge badge-new"' not in page
    assert is_bold(row_of(board_page(rae, other_board), elsewhere))  # another board: untouched

    # What comes after counts, and only that: one reply is "1 new", not "6 new".
    make.reply(read_a_bit, talker, "After the mark")
    make.reply(never_opened, talker, "After the mark too")
    page = board_page(rae, board)
    assert badge_of(row_of(page, read_a_bit)) == "1 new"
    assert is_bold(row_of(page, never_opened))
    assert badge_of(row_of(page, never_opened)) == "new"
    posts = posts_of(db, never_opened)
    # The jump goes to what came after the mark, not to the start of a thread never opened.
    assert jump(rae, never_opened) == landing(never_opened, posts[5])
    assert jump(rae, read_a_bit) == landing(read_a_bit, posts_of(db, read_a_bit)[9])


def test_mark_all_read_clears_every_board(
    make: Factory, db: Session, board: Board, talker: User, rae: Browserish
) -> None:
    here = make.thread(board=board, author=talker, title="Here")
    other_board = make.board("second-show")
    there = make.thread(board=other_board, author=talker, title="There")
    rae.get(thread_url(there))
    make.reply(there, talker, "Unread there")
    index = text_of(rae.get("/"))
    assert 'action="/mark-read"' in index

    response = rae.post("/mark-read", page="/")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Every thread on the forum is marked read." in text_of(rae.get("/"))
    assert not is_bold(row_of(board_page(rae, board), here))
    assert not is_bold(row_of(board_page(rae, other_board), there))
    make.reply(there, talker, "After the mark")
    assert badge_of(row_of(board_page(rae, other_board), there)) == "1 new"


def test_a_board_mark_later_than_the_site_mark_wins_and_both_hold(
    make: Factory, db: Session, board: Board, reader: User, talker: User, rae: Browserish
) -> None:
    thread = make.thread(board=board, author=talker, title="Layers")
    assert rae.post("/mark-read", page="/").status_code == 302
    make.reply(thread, talker, "Between the marks")
    assert is_bold(row_of(board_page(rae, board), thread))
    assert rae.post(f"/b/{board.slug}/mark-read", page=f"/b/{board.slug}").status_code == 302

    assert not is_bold(row_of(board_page(rae, board), thread))
    state = db.scalar(select(BoardState).where(BoardState.user_id == reader.id))
    assert state is not None and state.marked_read_at is not None
    db.expire_all()
    assert db.get(User, reader.id).has_conversation_settings  # type: ignore[union-attr]


def board_states(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(BoardState)) or 0


def test_mark_read_without_a_token_is_refused_and_writes_nothing(
    db: Session, board: Board, reader: User, rae: Browserish
) -> None:
    board_response = rae.raw_post(f"/b/{board.slug}/mark-read")
    site_response = rae.raw_post("/mark-read", headers={"Sec-Fetch-Site": "same-origin"})

    assert board_response.status_code == 400
    assert site_response.status_code == 400
    db.expire_all()
    assert board_states(db) == 0
    assert db.scalar(select(User.marked_read_at).where(User.id == reader.id)) is None


def test_visitors_cannot_mark_read(db: Session, board: Board, visitor: Browserish) -> None:
    assert visitor.post(f"/b/{board.slug}/mark-read").status_code == 401
    assert visitor.post("/mark-read").status_code == 401
    assert visitor.post("/b/no-such-show/mark-read").status_code == 404
    assert board_states(db) == 0


def test_a_direct_call_never_commits(db: Session, board: Board, reader: User) -> None:
    unread.mark_board_read(db, reader, board.id)
    unread.mark_all_read(db, reader)
    db.rollback()
    assert board_states(db) == 0


# ------------------------------------------------------------------------------ visitors


def test_visitors_see_no_unread_styling(
    make: Factory, db: Session, board: Board, talker: User, visitor: Browserish
) -> None:
    thread = make.thread(board=board, author=talker, title="Fresh for everyone", replies=3)
    db.execute(update(Thread).values(last_post_at=utcnow() + timedelta(minutes=1)))
    freshness.changed(db, site=True)
    db.commit()

    for url in (f"/b/{board.slug}", "/", thread_url(thread)):
        raw = visitor.get(url).get_data()
        for leak in (rb"is-unread", rb"badge-new", rb"/t/\d+/unread", rb"mark-read", rb'id="new"'):
            assert re.search(leak, raw) is None, (url, leak)


def test_a_member_sees_the_mark_read_buttons(board: Board, rae: Browserish) -> None:
    assert f'action="/b/{board.slug}/mark-read"' in board_page(rae, board)
    assert 'action="/mark-read"' in text_of(rae.get("/"))


def test_thread_states_only_grow(
    make: Factory, db: Session, long_thread: Thread, reader: User, rae: Browserish
) -> None:
    rae.get(f"{thread_url(long_thread)}?page=2")
    rae.get(thread_url(long_thread))  # page 1 again: the mark stays at 25
    db.expire_all()
    assert (
        db.scalar(
            select(ThreadState.last_read_number).where(
                ThreadState.user_id == reader.id, ThreadState.thread_id == long_thread.id
            )
        )
        == 25
    )


# ------------------------------------------------------------------------------ freshness


def test_every_unread_write_declares_itself_private() -> None:
    assert undeclared_writers(unread) == []


@pytest.mark.parametrize("where", ["board", "site"])
def test_marking_read_leaves_every_cached_page(
    db: Session,
    board: Board,
    make: Factory,
    talker: User,
    rae: Browserish,
    visitor: Browserish,
    caplog: pytest.LogCaptureFixture,
    where: str,
) -> None:
    thread = make.thread(board=board, author=talker, title="Cached for visitors")
    pages = [f"/b/{board.slug}", "/", thread_url(thread)]
    for page in pages:
        visitor.get(page)
        assert visitor.get(page).headers["X-Cache"] == "hit", page
    before = db.scalar(select(CacheState.version))
    url = f"/b/{board.slug}/mark-read" if where == "board" else "/mark-read"

    with caplog.at_level(logging.INFO):
        assert rae.post(url, page="/").status_code == 302

    assert "undeclared write" not in caplog.text
    db.expire_all()
    assert db.scalar(select(CacheState.version)) == before
    for page in pages:
        assert visitor.get(page).headers["X-Cache"] == "hit", page


def test_the_jump_costs_two_statements_after_the_member(
    make: Factory, db: Session, long_thread: Thread, rae: Browserish, sql: StatementLog
) -> None:
    """The thread (visibility, slug), then one statement for where to land: three LIMIT 1
    ranges, whatever the thread's length."""
    rae.get(thread_url(long_thread))
    rae.get("/search")  # settings warmed
    sql.clear()
    jump(rae, long_thread)
    assert len(sql) == 1 + 2  # the member's row, then the jump's own
