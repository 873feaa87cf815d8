"""Link previews (forum/sharing/link_previews.py): OpenGraph and Twitter tags, canonical URL
and feed link on the index, board and thread pages, absolute on FORUM_PUBLIC_URL, and always
as a visitor sees the page: a thread inside the visitor's spoiler window gets its masked title
and no excerpt, and no spoiler of any kind reaches an excerpt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.discussion import posting
from forum.discussion.episode_codes import key_of
from forum.discussion.episodes import EpisodeEntry, upsert_episodes
from forum.models import Board, Post, Thread, User, utcnow
from forum.staff import moderation
from tests.conftest import AppBuilder, Factory, browser_for
from tests.html_scan import HeadTags, head_tags

PUBLIC = "https://fans.example.org"
SECRET_TITLE = "Ingrid quits the firm"


@dataclass
class Forum:
    app: Flask
    board: Board
    author: User
    plain: Thread  # an opener with spoilers of both kinds
    episode_thread: Thread  # tied to S1E8, which aired two days ago: masked for visitors
    news: Thread


def opener(db: Session, thread: Thread) -> Post:
    return db.scalars(select(Post).where(Post.thread_id == thread.id, Post.number == 1)).one()


@pytest.fixture
def forum(build_app: AppBuilder, make: Factory, db: Session) -> Forum:
    app = build_app(PUBLIC_URL=PUBLIC, POSTS_PER_PAGE=2)
    board = make.board(
        "partner-track", name="Partner Track", description="Ingrid fights to make partner."
    )
    month_ago, two_days_ago = utcnow().date() - timedelta(30), utcnow().date() - timedelta(2)
    entries = [EpisodeEntry(1, n, f"Episode {n}", month_ago) for n in range(1, 8)]
    upsert_episodes(db, board, [*entries, EpisodeEntry(1, 8, "Episode 8", two_days_ago)])
    author = make.user("writer_wes")
    plain = posting.create_thread(
        db,
        board,
        author,
        "Will Partner Track get a season 2?",
        'Hear me "out" & <b>listen</b>: >!GENERIC-SECRET!< and >!S1E3: AIRED-SECRET!< done.',
    )
    posting.add_post(db, plain, author, "A reply")
    posting.add_post(db, plain, author, "Page two")
    episode_thread = posting.create_thread(
        db, board, author, SECRET_TITLE, "What a twist", episode_key=key_of(1, 8)
    )
    news = posting.create_thread(
        db, board, author, "Renewed for season 2!", "Official news", is_news=True
    )
    db.commit()
    return Forum(app, board, author, plain, episode_thread, news)


def tags_of(app: Flask, url: str, user: User | None = None) -> HeadTags:
    response = browser_for(app, user).get(url)
    assert response.status_code == 200, url
    return head_tags(response.get_data(as_text=True))


def test_the_index_says_what_the_site_is(forum: Forum) -> None:
    tags = tags_of(forum.app, "/")

    assert tags.one("og:site_name") == "Showboard"
    assert tags.one("og:title") == "Showboard"
    assert tags.one("og:type") == "website"
    assert tags.one("og:url") == f"{PUBLIC}/"
    assert tags.one("og:description")
    assert tags.one("twitter:card") == "summary"
    assert tags.one("twitter:title") == "Showboard"
    assert tags.link("canonical") == {"rel": "canonical", "href": f"{PUBLIC}/"}
    feed = tags.link("alternate", "application/atom+xml")
    assert feed is not None and feed["href"] == f"{PUBLIC}/feed.atom"
    assert feed["title"] == "Showboard: latest threads"


def test_a_board_page_has_its_name_description_and_feed(forum: Forum) -> None:
    tags = tags_of(forum.app, "/b/partner-track")

    assert tags.one("og:title") == "Partner Track"
    assert tags.one("og:description") == "Ingrid fights to make partner."
    assert tags.one("twitter:description") == "Ingrid fights to make partner."
    assert tags.one("og:url") == f"{PUBLIC}/b/partner-track"
    assert tags.link("canonical") == {"rel": "canonical", "href": f"{PUBLIC}/b/partner-track"}
    feed = tags.link("alternate", "application/atom+xml")
    assert feed is not None and feed["href"] == f"{PUBLIC}/b/partner-track/feed.atom"


def test_a_thread_shows_its_title_and_a_plain_excerpt_without_spoilers(forum: Forum) -> None:
    thread = forum.plain
    tags = tags_of(forum.app, f"/t/{thread.id}/{thread.slug}")

    canonical = f"{PUBLIC}/t/{thread.id}/{thread.slug}"
    assert tags.one("og:title") == "Will Partner Track get a season 2?"
    assert tags.one("og:type") == "article"
    assert tags.one("og:url") == canonical
    assert tags.link("canonical") == {"rel": "canonical", "href": canonical}
    # Plain text: the Markdown's escaped <b> is text, the spoilers are left out whole.
    assert tags.one("og:description") == 'Hear me "out" & <b>listen</b>: and done.'
    assert tags.one("twitter:description") == tags.one("og:description")
    feed = tags.link("alternate", "application/atom+xml")
    assert feed is not None and feed["href"] == f"{PUBLIC}/t/{thread.id}/feed.atom"


def test_later_pages_have_their_own_canonical_and_no_excerpt(forum: Forum) -> None:
    thread = forum.plain
    tags = tags_of(forum.app, f"/t/{thread.id}/{thread.slug}?page=2")

    canonical = f"{PUBLIC}/t/{thread.id}/{thread.slug}?page=2"
    assert tags.link("canonical") == {"rel": "canonical", "href": canonical}
    assert tags.one("og:description") is None


def test_a_long_opener_is_cut_at_a_word(forum: Forum, make: Factory) -> None:
    thread = make.thread(board=forum.board, body="word " * 100 + "LAST-WORD")
    tags = tags_of(forum.app, f"/t/{thread.id}/{thread.slug}")

    excerpt = tags.one("og:description") or ""
    assert 150 < len(excerpt) <= 200
    assert excerpt.endswith("word…") and "LAST-WORD" not in excerpt


def test_a_masked_episode_thread_previews_masked_for_everyone(
    forum: Forum, db: Session, make: Factory
) -> None:
    """S1E8 aired two days ago: inside the visitor's window. A member who has seen everything
    reads the thread, but the tags (cached for all alike, fetched by crawlers) stay masked."""
    fan = make.user("fan_fay")
    fan.sees_all_spoilers = True
    db.commit()
    thread = forum.episode_thread
    response = browser_for(forum.app, fan).get(f"/t/{thread.id}/{thread.slug}")
    assert SECRET_TITLE.encode() in response.get_data()  # the member's page shows it

    tags = head_tags(response.get_data(as_text=True))

    assert tags.one("og:title") == "Episode thread for S1E8 · new or not aired yet"
    assert tags.one("twitter:title") == tags.one("og:title")
    assert tags.one("og:description") is None
    assert tags.one("twitter:description") is None
    assert tags.link("canonical") == {"rel": "canonical", "href": f"{PUBLIC}/t/{thread.id}/s1e8"}
    feed = tags.link("alternate", "application/atom+xml")
    assert feed is not None and SECRET_TITLE not in feed["title"]
    every_value = [*map(str, tags.meta.values()), *map(str, tags.links)]
    assert not [value for value in every_value if "quits" in value]


def test_once_the_episode_leaves_the_window_the_thread_previews_in_full(forum: Forum) -> None:
    forum.app.config["SPOILER_GRACE_DAYS"] = 0
    thread = forum.episode_thread

    tags = tags_of(forum.app, f"/t/{thread.id}/{thread.slug}")

    assert tags.one("og:title") == SECRET_TITLE
    assert tags.one("og:description") == "What a twist"


def test_news_threads_preview_for_visitors(forum: Forum, db: Session, make: Factory) -> None:
    """Hiding show news is a member's choice; previews are a visitor's, who sees news."""
    hider = make.user("no_news")
    hider.hides_show_news = True
    db.commit()
    thread = forum.news

    tags = tags_of(forum.app, f"/t/{thread.id}/{thread.slug}?reveal=1", hider)

    assert tags.one("og:title") == "Renewed for season 2!"
    assert tags.one("og:description") == "Official news"


def test_a_hidden_opener_gives_no_excerpt(
    forum: Forum, db: Session, global_moderator: User
) -> None:
    moderator = global_moderator
    moderation.set_post_hidden(db, moderator, opener(db, forum.plain), True, "spoiler")
    db.commit()
    url = f"/t/{forum.plain.id}/{forum.plain.slug}"

    for viewer in (None, moderator):
        tags = tags_of(forum.app, url, viewer)
        assert tags.one("og:title") == "Will Partner Track get a season 2?"
        assert tags.one("og:description") is None


def test_a_deleted_opener_gives_no_excerpt(forum: Forum, db: Session) -> None:
    posting.delete_post(opener(db, forum.plain))
    db.commit()

    tags = tags_of(forum.app, f"/t/{forum.plain.id}/{forum.plain.slug}")

    assert tags.one("og:description") is None


def test_members_and_visitors_get_the_same_tags(forum: Forum, member: User) -> None:
    for url in ("/", "/b/partner-track", f"/t/{forum.plain.id}/{forum.plain.slug}"):
        assert tags_of(forum.app, url, member) == tags_of(forum.app, url), url


def test_a_member_behind_the_visitors_gets_no_excerpt_of_a_later_opener(
    forum: Forum, db: Session, make: Factory
) -> None:
    """The visitor boundary is S1E7; a member at S1E6 reads an S1E3 thread whose opening post
    discusses S1E7 (a quote raised it): collapsed on their page, and out of their tags."""
    thread = make.thread(board=forum.board, title="Episode three chat", body="S1E7-WORDS here")
    thread.episode_key = key_of(1, 3)
    opener(db, thread).episode_key = key_of(1, 7)
    behind = make.user("behind_ben")
    behind.watch_progress = {str(forum.board.id): key_of(1, 6)}
    db.commit()
    url = f"/t/{thread.id}/{thread.slug}"

    assert tags_of(forum.app, url).one("og:description") == "S1E7-WORDS here"
    page = browser_for(forum.app, behind).get(url).get_data(as_text=True)
    assert head_tags(page).one("og:description") is None
    assert "S1E7-WORDS" not in page


def test_the_warning_page_previews_the_viewers_mask(forum: Forum) -> None:
    """A visitor opening the masked thread gets the warning page: its tags carry the mask, no
    excerpt, and the thread's own canonical address."""
    thread = forum.episode_thread
    response = browser_for(forum.app, None).get(f"/t/{thread.id}/{thread.slug}")
    body = response.get_data()
    assert b"spoiler-warning" in body and SECRET_TITLE.encode() not in body

    tags = head_tags(response.get_data(as_text=True))

    assert tags.one("og:title") == "Episode thread for S1E8 · new or not aired yet"
    assert tags.one("og:description") is None
    assert tags.link("canonical") == {"rel": "canonical", "href": f"{PUBLIC}/t/{thread.id}/s1e8"}
