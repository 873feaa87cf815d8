"""forum.search.search.find on the database under test: the same cases run on SQLite (FTS5)
and on PostgreSQL (tsvector) with FORUM_TEST_DATABASE_URL set. Query syntax, normalisation and
stemming, ranking, filters, paging and its cap, and above all what a viewer may not find:
hidden, deleted and purged posts, hidden threads, episode spoilers beyond their progress, show
news for members who hide it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from types import MappingProxyType

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forum.access.viewer import VISITOR, Viewer, viewer_for
from forum.discussion import posting
from forum.discussion.episode_codes import CAUGHT_UP, key_of
from forum.models import Board, Post, SearchDocument, Thread, User, utcnow
from forum.search import search
from forum.search.search import SearchFilters
from forum.search.search_query import parse
from forum.staff import moderation
from tests.conftest import Factory, StatementLog, is_postgres, moderator_of

EVERYTHING = Viewer(spoiler_default=CAUGHT_UP)


def found(db: Session, viewer: Viewer, query: str, **filters: object) -> list[int]:
    """The post ids `viewer` finds for `query`, in the order shown (all pages)."""
    ids: list[int] = []
    for page in range(1, search.MAX_PAGES + 1):
        result = search.find(db, viewer, query, SearchFilters(**filters), page)  # type: ignore[arg-type]
        ids += [hit.post_id for hit in result.hits]
        if len(result.hits) < search.PER_PAGE:
            break
    return ids


def opener(db: Session, thread: Thread) -> Post:
    post = db.scalar(select(Post).where(Post.thread_id == thread.id, Post.number == 1))
    assert post is not None
    return post


@pytest.fixture
def board(make: Factory) -> Board:
    return make.board("search-show", name="Search Show")


@pytest.fixture
def author(make: Factory) -> User:
    return make.user("searcher_sue")


# ------------------------------------------------------------------------------ syntax


def test_every_word_must_match(db: Session, make: Factory, board: Board, author: User) -> None:
    thread = make.thread(board, author, "Chatter", "The lawyers argue in the boardroom")
    only_one = make.reply(thread, author, "The lawyers went home")

    hits = found(db, EVERYTHING, "lawyers boardroom")

    assert hits == [opener(db, thread).id]
    assert only_one.id in found(db, EVERYTHING, "lawyers")


def test_a_quoted_phrase_matches_the_words_in_order(
    db: Session, make: Factory, board: Board, author: User
) -> None:
    thread = make.thread(board, author, "Cast", "Arden Cho leads the cast")
    apart = make.reply(thread, author, "Cho was great, and so was Arden's friend")

    assert found(db, EVERYTHING, '"Arden Cho"') == [opener(db, thread).id]
    assert set(found(db, EVERYTHING, "arden cho")) == {opener(db, thread).id, apart.id}


def test_excluded_words_and_phrases_leave_posts_out(
    db: Session, make: Factory, board: Board, author: User
) -> None:
    thread = make.thread(board, author, "Future", "Will the show be renewed at last?")
    cancelled = make.reply(thread, author, "Renewal? It was cancelled, sadly")

    assert found(db, EVERYTHING, "renewal -cancelled") == [opener(db, thread).id]
    assert found(db, EVERYTHING, 'renewal -"at last"') == [cancelled.id]


def test_or_between_two_words_matches_either(
    db: Session, make: Factory, board: Board, author: User
) -> None:
    thread = make.thread(board, author, "Verdicts", "The jury acquitted him")
    other = make.reply(thread, author, "The judge convicted her")
    make.reply(thread, author, "Nothing of the kind here")

    assert set(found(db, EVERYTHING, "acquitted OR convicted")) == {opener(db, thread).id, other.id}
    # A lower-case "or" is a word like any other.
    assert found(db, EVERYTHING, "acquitted or convicted") == []


def test_case_and_accents_do_not_matter(
    db: Session, make: Factory, board: Board, author: User
) -> None:
    thread = make.thread(board, author, "Where to eat", "Meet me at the Café Noir, ARDEN")

    for query in ("cafe noir", "CAFÉ", "Cafe", "arden", '"café noir"'):
        assert found(db, EVERYTHING, query) == [opener(db, thread).id], query


def test_english_stemming_finds_other_forms(
    db: Session, make: Factory, board: Board, author: User
) -> None:
    thread = make.thread(board, author, "News", "Netflix announced the renewal today")

    assert found(db, EVERYTHING, "renewed") == [opener(db, thread).id]
    assert found(db, EVERYTHING, "announcing renewals") == [opener(db, thread).id]


def test_common_words_are_still_words(
    db: Session, make: Factory, board: Board, author: User
) -> None:
    # The plain-word fallback: English stop words still find what holds them.
    thread = make.thread(board, author, "Music", "The Who played the theme")
    office = make.reply(thread, author, "Better than the office party")

    assert found(db, EVERYTHING, "who") == [opener(db, thread).id]
    assert found(db, EVERYTHING, '"the who"') == [opener(db, thread).id]
    assert found(db, EVERYTHING, "the office") == [office.id]
    assert found(db, EVERYTHING, "who OR party") == [office.id, opener(db, thread).id]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "-",
        '""',
        "OR",
        "OR OR",
        "* ^ : ( ) & | ! <-> :*",
        "\x00",
        "-alone",
        '-"only this"',
    ],
)
def test_a_query_with_nothing_to_look_for_says_so(
    db: Session, make: Factory, board: Board, author: User, query: str
) -> None:
    make.thread(board, author, "Alone", "alone only this")

    result = search.find(db, EVERYTHING, query, SearchFilters())

    assert result.hits == () and result.total == 0
    assert result.message in (search.EMPTY_MESSAGE, search.ONLY_EXCLUDED_MESSAGE)


def test_engine_syntax_is_searched_as_plain_words(
    db: Session, make: Factory, board: Board, author: User
) -> None:
    thread = make.thread(board, author, "Syntax", "near title body column spoilers")

    for query in ("NEAR(near, title)", "title:near", "body:*", "^near", "near*", "{title body}"):
        result = search.find(db, EVERYTHING, query, SearchFilters())
        assert [h.post_id for h in result.hits] == [opener(db, thread).id], query


# ------------------------------------------------------------------------------ ranking


def test_a_title_match_ranks_above_body_matches(
    db: Session, make: Factory, board: Board, author: User
) -> None:
    thread = make.thread(board, author, "Renewal announced", "Good news everyone")
    body_only = make.reply(thread, author, "A renewal, at last: the renewal we hoped for")

    by_relevance = search.find(db, EVERYTHING, "renewal", SearchFilters())
    newest = search.find(db, EVERYTHING, "renewal", SearchFilters(newest_first=True))

    assert [h.post_id for h in by_relevance.hits] == [opener(db, thread).id, body_only.id]
    assert by_relevance.hits[0].rank > by_relevance.hits[1].rank
    assert [h.post_id for h in newest.hits] == [body_only.id, opener(db, thread).id]


def test_hits_carry_their_thread_number_and_open_text(
    db: Session, make: Factory, board: Board, author: User
) -> None:
    thread = make.thread(board, author, "Texts", "Opening")
    reply = make.reply(thread, author, "The **bold** move >!S1E2: twist!< and >!hidden!< after")

    (hit,) = search.find(db, EVERYTHING, "bold", SearchFilters()).hits

    assert (hit.post_id, hit.thread_id, hit.post_number) == (reply.id, thread.id, 2)
    assert hit.text == "The bold move and after"


def test_a_search_costs_two_statements(
    db: Session, make: Factory, board: Board, author: User, sql: StatementLog
) -> None:
    thread = make.thread(board, author, "Counted", "counted words")
    for n in range(5):
        make.reply(thread, author, f"counted again {n}")
    sql.clear()

    search.find(db, EVERYTHING, "counted", SearchFilters())
    assert len(sql) == 2
    sql.clear()
    search.find(db, EVERYTHING, "nowhere", SearchFilters())
    assert len(sql) == 1


# ------------------------------------------------------------------------------ filters


def test_filters_narrow_the_search(db: Session, make: Factory, author: User) -> None:
    here, there = make.board("filter-here"), make.board("filter-there")
    other = make.user("other_otto")
    first = make.thread(here, author, "Filter one", "filtered word")
    reply = make.reply(first, other, "filtered word again")
    second = make.thread(there, other, "Filter two", "filtered word elsewhere")
    old = make.reply(second, author, "filtered word, long ago")
    db.execute(
        update(Post).where(Post.id == old.id).values(created_at=utcnow() - timedelta(days=40))
    )
    db.commit()
    today = utcnow().date()

    assert set(found(db, EVERYTHING, "filtered", board_id=here.id)) == {
        opener(db, first).id,
        reply.id,
    }
    assert set(found(db, EVERYTHING, "filtered", author_id=other.id)) == {
        reply.id,
        opener(db, second).id,
    }
    assert set(found(db, EVERYTHING, "filtered", thread_id=second.id)) == {
        opener(db, second).id,
        old.id,
    }
    assert set(found(db, EVERYTHING, "filtered", threads_only=True)) == {
        opener(db, first).id,
        opener(db, second).id,
    }
    assert found(db, EVERYTHING, "filtered", until=today - timedelta(days=30)) == [old.id]
    assert old.id not in found(db, EVERYTHING, "filtered", since=today - timedelta(days=30))
    assert len(found(db, EVERYTHING, "filtered", since=today, until=today)) == 3


def test_pages_and_the_cap_on_depth(
    db: Session, make: Factory, board: Board, author: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A small cap for a fast test: 5 a page, 3 pages, 15 results.
    monkeypatch.setattr(search, "PER_PAGE", 5)
    monkeypatch.setattr(search, "MAX_PAGES", 3)
    monkeypatch.setattr(search, "MAX_RESULTS", 15)
    thread = make.thread(board, author, "Deep", "paging word 0")
    for n in range(1, 18):
        posting.add_post(db, thread, author, f"paging word {n}")
    db.commit()

    pages = [
        search.find(db, EVERYTHING, "paging", SearchFilters(newest_first=True), page)
        for page in (1, 2, 3, 4)
    ]

    assert [len(p.hits) for p in pages[:3]] == [5, 5, 5]
    assert [p.total for p in pages[:3]] == [15, 15, 15]
    assert all(p.more_than_total for p in pages[:3])
    shown = [h.post_number for p in pages[:3] for h in p.hits]
    assert shown == list(range(18, 3, -1))
    assert pages[3].hits == () and pages[3].message == search.TOO_DEEP_MESSAGE

    few = search.find(db, EVERYTHING, '"paging word 3"', SearchFilters())
    assert (few.total, few.more_than_total) == (1, False)


def test_the_real_cap_is_fifty_pages_of_twenty() -> None:
    assert (search.PER_PAGE, search.MAX_PAGES, search.MAX_RESULTS) == (20, 50, 1000)


# ------------------------------------------------------------------------------ visibility


def test_hidden_deleted_and_purged_posts_are_not_found(
    db: Session,
    make: Factory,
    moderated_board: Board,
    board_moderator: User,
    global_moderator: User,
    admin: User,
    member: User,
) -> None:
    thread = make.thread(moderated_board, member, "Visible", "plain zebra")
    hidden = make.reply(thread, member, "hidden zebra")
    deleted = make.reply(thread, member, "deleted zebra")
    purged = make.reply(thread, member, "purged zebra")
    moderation.set_post_hidden(db, admin, hidden, True, "rude")
    posting.delete_post(deleted)
    moderation.purge_post(db, admin, purged)
    db.commit()
    elsewhere = moderator_of(make, db, make.board("elsewhere"), name="mod_elsie")

    visible = opener(db, thread).id
    for who in (VISITOR, viewer_for(db, member), viewer_for(db, elsewhere)):
        assert found(db, replace(who, spoiler_default=CAUGHT_UP), "zebra") == [visible]
    for moderator in (board_moderator, global_moderator, admin):
        assert found(db, viewer_for(db, moderator), "zebra") == [hidden.id, visible]
    assert db.get(SearchDocument, purged.id) is None


def test_hidden_threads_are_found_by_their_moderators_only(
    db: Session,
    make: Factory,
    moderated_board: Board,
    board_moderator: User,
    admin: User,
    member: User,
) -> None:
    thread = make.thread(moderated_board, member, "Quarrel", "heated quarrel")
    reply = make.reply(thread, member, "more quarrel")
    moderation.set_thread_hidden(db, admin, thread, True, "flame war")
    db.commit()
    elsewhere = moderator_of(make, db, make.board("elsewhere"), name="mod_elsie")

    assert found(db, VISITOR, "quarrel") == []
    assert found(db, viewer_for(db, member), "quarrel") == []
    assert found(db, viewer_for(db, elsewhere), "quarrel") == []
    assert set(found(db, viewer_for(db, board_moderator), "quarrel")) == {
        reply.id,
        opener(db, thread).id,
    }


# ------------------------------------------------------------------------------ spoilers


def at(viewer: Viewer, board: Board, season: int, number: int) -> Viewer:
    return replace(viewer, spoiler_limits=MappingProxyType({board.id: key_of(season, number)}))


def test_a_word_only_in_a_later_episode_spoiler_is_found_once_watched(
    db: Session, make: Factory, board: Board, author: User, member: User
) -> None:
    thread = make.thread(board, author, "Theories", "What happens to Hunter?")
    reply = make.reply(thread, author, "My guess >!S1E8: Hunter betrays Ingrid!< for sure")
    viewer = viewer_for(db, member)

    for query in ("betrays", "hunter betrays", '"betrays ingrid"'):
        assert reply.id not in found(db, at(viewer, board, 1, 6), query), query
        assert reply.id not in found(db, VISITOR, query), query
        assert reply.id in found(db, at(viewer, board, 1, 8), query), query
        assert reply.id in found(db, at(viewer, board, 1, 9), query), query
    # The post's open words are found by anyone, and its snippet text holds no spoiler.
    hits = search.find(db, at(viewer, board, 1, 6), "guess", SearchFilters()).hits
    assert [h.post_id for h in hits] == [reply.id]
    assert "betrays" not in hits[0].text.lower() and "Ingrid" not in hits[0].text


def test_an_excluded_word_in_a_withheld_spoiler_changes_nothing(
    db: Session, make: Factory, board: Board, author: User
) -> None:
    # Otherwise "finale -dies" against "finale" would tell what the spoiler says.
    thread = make.thread(board, author, "Finale", "The finale >!S1E8: Ingrid dies!< was wild")

    assert found(db, at(VISITOR, board, 1, 6), "finale -dies") == [opener(db, thread).id]
    assert found(db, at(VISITOR, board, 1, 6), "finale") == [opener(db, thread).id]


def test_generic_spoilers_are_found_by_anyone_who_may_read_the_post(
    db: Session, make: Factory, board: Board, author: User
) -> None:
    thread = make.thread(board, author, "Twists", "Careful >!the butler did it!< folks")

    assert found(db, VISITOR, "butler") == [opener(db, thread).id]
    hit = search.find(db, VISITOR, "butler", SearchFilters()).hits[0]
    assert "butler" not in hit.text


def test_posts_and_threads_about_later_episodes_are_not_found(
    db: Session, make: Factory, board: Board, author: User, member: User
) -> None:
    plain = make.thread(board, author, "Plain", "a mystery unfolds")
    later_post = posting.add_post(db, plain, author, "mystery solved", episode_key=key_of(1, 8))
    episode_thread = posting.create_thread(
        db,
        board,
        author,
        "S1E9 discussion: mystery",
        "the mystery thread",
        episode_key=key_of(1, 9),
    )
    db.commit()
    viewer = viewer_for(db, member)

    assert found(db, at(viewer, board, 1, 6), "mystery") == [opener(db, plain).id]
    assert found(db, at(viewer, board, 1, 8), "mystery") == [later_post.id, opener(db, plain).id]
    assert set(found(db, at(viewer, board, 1, 9), "mystery")) == {
        opener(db, plain).id,
        later_post.id,
        opener(db, episode_thread).id,
    }


def test_show_news_is_not_found_by_members_who_hide_it(
    db: Session, make: Factory, board: Board, author: User, member: User
) -> None:
    news = posting.create_thread(
        db, board, author, "Renewed for season 2!", "Official renewal", is_news=True
    )
    db.commit()
    viewer = viewer_for(db, member)

    assert found(db, viewer, "renewal") == [opener(db, news).id]
    assert found(db, replace(viewer, hides_news=True), "renewal") == []


def test_the_index_holds_no_text_of_a_purged_opener_but_keeps_its_title(
    db: Session, make: Factory, board: Board, author: User, admin: User
) -> None:
    thread = make.thread(board, author, "Secret title", "confidential body >!S1E2: twist!<")
    moderation.purge_post(db, admin, opener(db, thread))
    db.commit()

    for viewer in (viewer_for(db, admin), VISITOR):
        assert found(db, viewer, "confidential") == []
        assert found(db, viewer, "twist") == []
        # The thread is still there under that title, and found by it.
        assert found(db, viewer, "secret") == [opener(db, thread).id]
    document = db.get(SearchDocument, opener(db, thread).id)
    assert document is not None
    assert (document.title, document.body, document.spoilers) == ("secret title", "", "")


def test_older_matches_come_from_the_index_past_the_newest_window(
    db: Session, make: Factory, board: Board, author: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL walks the newest WINDOW documents, then takes older matches from the GIN
    # index; a window of 2 makes both parts run on a few posts.
    if not is_postgres():
        pytest.skip("the window is PostgreSQL's plan")
    from forum.search import search_postgres

    thread = make.thread(board, author, "Windowed", "walrus one")
    posts = [make.reply(thread, author, text) for text in ("walrus two", "other", "walrus 3")]
    posts += [make.reply(thread, author, "filler") for _ in range(4)]
    monkeypatch.setattr(search_postgres, "WINDOW", 2)

    assert found(db, EVERYTHING, "walrus", newest_first=True) == [
        posts[2].id,
        posts[0].id,
        opener(db, thread).id,
    ]


def test_stop_word_terms_are_served_by_their_own_index(db: Session) -> None:
    # The fallback's expression must be the index's, word for word, or every document is read.
    if not is_postgres():
        pytest.skip("PostgreSQL's plain-word index")
    from sqlalchemy import text

    from forum.search import search_postgres

    condition = search_postgres._Conditions().term(parse("who").groups[0][0], False)
    statement = select(SearchDocument.post_id).where(condition)
    sql_text = str(statement.compile(db.get_bind(), compile_kwargs={"literal_binds": True}))
    db.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(db.execute(text(f"EXPLAIN {sql_text}")).scalars())

    assert "ix_search_documents_plain" in plan, plan


def test_within_one_thread_the_same_rules_hold(
    db: Session, make: Factory, board: Board, author: User
) -> None:
    # A thread's own search walks its posts instead of the words' matches (SQLite): ranking,
    # spoilers and excluded words must come out the same.
    thread = make.thread(board, author, "Heron sightings", "Opening words")
    body = make.reply(thread, author, "a heron, a heron again")
    spoiled = make.reply(thread, author, "Look >!S1E8: heron dies!< here")
    make.thread(board, author, "Elsewhere heron", "heron elsewhere")
    viewer = at(EVERYTHING, board, 1, 6)

    by_relevance = found(db, viewer, "heron", thread_id=thread.id)
    assert by_relevance == [opener(db, thread).id, body.id]
    assert found(db, at(EVERYTHING, board, 1, 8), "heron", thread_id=thread.id) == [
        opener(db, thread).id,
        body.id,  # twice
        spoiled.id,
    ]
    assert found(db, viewer, "look -dies", thread_id=thread.id) == [spoiled.id]
    assert found(db, viewer, "heron -again", thread_id=thread.id, newest_first=True) == [
        opener(db, thread).id
    ]


@pytest.mark.parametrize("max_walk", [0, 10**6])
def test_past_the_window_the_walk_goes_on_or_the_index_serves(
    db: Session,
    make: Factory,
    board: Board,
    author: User,
    monkeypatch: pytest.MonkeyPatch,
    max_walk: int,
) -> None:
    # PostgreSQL: a window holding some matches walks on when the rest looks near (max_walk
    # large), else the GIN index serves the older ones (0); the answer is the same.
    if not is_postgres():
        pytest.skip("the window is PostgreSQL's plan")
    from forum.search import search_postgres

    thread = make.thread(board, author, "Otters", "otter 0")
    posts = [make.reply(thread, author, f"otter {n}" if n % 2 else "filler") for n in range(9)]
    monkeypatch.setattr(search_postgres, "WINDOW", 2)
    monkeypatch.setattr(search_postgres, "MAX_WALK", max_walk)

    otters = [p.id for p in reversed(posts) if "otter" in p.source] + [opener(db, thread).id]
    assert found(db, EVERYTHING, "otter", newest_first=True) == otters
