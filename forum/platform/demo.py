"""Demo content: a believable community for first start, and bulk data for benchmarks.

The believable part goes through forum/discussion/posting.py like real posts: Partner Track gets
its episode guide with an official thread per episode, show news and spoilers tagged to later
episodes, and the demo member has watched up to S1E6, so spoiler protection has something to
hide. The bulk part inserts rows directly (executemany) with counters computed up front: it is
for benchmarks, not for fans. On boards with episodes it ties some threads and posts to them, and
some bodies carry episode spoilers, so a benchmark pays for the spoiler rules as fans would.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from forum.access.spoilers import thread_slug
from forum.accounts.membership import create_user
from forum.accounts.passwords import hash_password
from forum.conversation import notifications
from forum.discussion import markup, posting
from forum.discussion.episode_codes import key_of
from forum.models import (
    Board,
    Episode,
    NotificationKind,
    Post,
    Role,
    SearchDocument,
    Thread,
    ThreadState,
    User,
    WatchLevel,
    utcnow,
)
from forum.platform import freshness
from forum.platform.demo_content import (
    BULK_BODIES,
    CONVERSATIONS,
    EPISODE_TALK,
    FANS,
    SHOW_NEWS,
)
from forum.platform.text import identity_key
from forum.search import search_documents

DEMO_PASSWORD = "showboard-demo"
DEMO_LOGINS = {"demo": Role.MEMBER, "mod_maria": Role.MODERATOR, "admin": Role.ADMIN}
# Partner Track's episode guide: Netflix released all ten episodes of its one season at once.
EPISODE_BOARD = "partner-track"
EPISODE_COUNT = 10
RELEASE_DAY = date(2022, 8, 26)
# The demo member is mid-binge, so the spoilers tagged S1E7 and later are withheld from them.
DEMO_PROGRESS = key_of(1, 6)
EPISODE_HOST = "admin"  # the site opens episode threads as its first admin


def _episode_opener(code: str) -> str:
    return (
        f"The official discussion thread for {code}. Talk about this episode and everything "
        "before it. Anything from a later episode goes in a spoiler tagged with that episode, "
        "like `>!S1E9: your text!<`, so fans still watching don't see it."
    )


def _seed_episode_guide(session: Session, board: Board, users: dict[str, User]) -> None:
    """Partner Track's episodes, each with its official thread and the fans' replies."""
    existing = {
        (e.season, e.number): e
        for e in session.scalars(select(Episode).where(Episode.board_id == board.id))
    }
    for number in range(1, EPISODE_COUNT + 1):
        episode = existing.get((1, number))
        if episode is None:
            episode = Episode(board_id=board.id, season=1, number=number, title="")
            session.add(episode)
        # An episode the show file already described keeps its title; only gaps are filled.
        episode.title = episode.title or f"Episode {number}"
        episode.aired = episode.aired or RELEASE_DAY
        session.flush()
        if episode.thread_id is not None:
            thread = session.get_one(Thread, episode.thread_id)
        else:
            thread = posting.create_thread(
                session,
                board,
                users[EPISODE_HOST],
                f"{episode.code} discussion: {episode.title}",
                _episode_opener(episode.code),
                episode_key=episode.key,
            )
            episode.thread_id = thread.id
        for author, body, discusses in EPISODE_TALK[number]:
            posting.add_post(session, thread, users[author], body, episode_key=discusses)
    title, posts = SHOW_NEWS
    author, body = posts[0]
    news = posting.create_thread(session, board, users[author], title, body, is_news=True)
    for author, body in posts[1:]:
        posting.add_post(session, news, users[author], body)
    # A new dict, not an edit in place: SQLAlchemy only sees a JSON column change on assignment.
    users["demo"].watch_progress = {str(board.id): DEMO_PROGRESS}


def seed_demo(session: Session) -> bool:
    """Add the demo community once; False when it is already there. Never commits."""
    if session.scalar(select(User.id).where(User.username_key == "demo")) is not None:
        return False
    boards = {b.slug: b for b in session.scalars(select(Board))}
    password_hash = hash_password(DEMO_PASSWORD)
    users: dict[str, User] = {}
    for name in [*DEMO_LOGINS, *FANS]:
        role = DEMO_LOGINS.get(name, Role.MEMBER)
        users[name] = create_user(
            session,
            name,
            f"{name}@example.org",
            role=role,
            password_hash=password_hash,
            trusted=True,
        )
    # The episode threads and the news come first, as they did on the show's real timeline.
    if EPISODE_BOARD in boards:
        _seed_episode_guide(session, boards[EPISODE_BOARD], users)
    threads: dict[str, Thread] = {}
    for slug, title, posts in CONVERSATIONS:
        board = boards.get(slug)
        if board is None:
            continue
        author, body = posts[0]
        thread = posting.create_thread(session, board, users[author], title, body)
        for author, body in posts[1:]:
            posting.add_post(session, thread, users[author], body)
        threads[title] = thread
    _seed_conversation(session, users["demo"], threads)
    freshness.changed(session, site=True)  # new members, threads and counts everywhere
    session.flush()
    return True


# What the demo member finds when they log in: the season-2 thread they replied to is watched,
# with the four replies after their own unread (the first mentions them: two notifications,
# a mention and "3 new replies"), and the petition thread is one they never opened; every
# other thread is read.
DEMO_READ_UP_TO = {"Will Partner Track get a season 2?": 6}
DEMO_UNOPENED = "Petition to revive the show: sign and share"


def _seed_conversation(session: Session, demo: User, threads: dict[str, Thread]) -> None:
    session.flush()
    every_thread = session.scalars(select(Thread)).all()
    for thread in every_thread:
        if thread.title == DEMO_UNOPENED:
            continue
        read_up_to = DEMO_READ_UP_TO.get(thread.title, thread.post_count)
        watching = thread.title in DEMO_READ_UP_TO
        session.add(
            ThreadState(
                user_id=demo.id,
                thread_id=thread.id,
                last_read_number=read_up_to,
                level=(WatchLevel.WATCHING if watching else WatchLevel.NORMAL).value,
            )
        )
    session.flush()
    for title, read_up_to in DEMO_READ_UP_TO.items():
        watched = threads.get(title)
        if watched is None:
            continue
        unread = session.execute(
            select(Post.id, Post.author_id, Post.source)
            .where(Post.thread_id == watched.id, Post.number > read_up_to)
            .order_by(Post.number)
        ).all()
        for post_id, author_id, source in unread:
            mentioned = f"@{demo.username}" in source
            notifications.notify(
                session,
                recipient_id=demo.id,
                kind=NotificationKind.MENTION if mentioned else NotificationKind.WATCHED_REPLY,
                thread_id=watched.id,
                post_id=post_id,
                actor_id=author_id,
            )


# ---------------------------------------------------------------------------- bulk generation

# On boards with episodes, every THREAD_EPISODE_EVERY-th thread is tied to one of them (its
# posts discuss that episode, as posting's default has it) and, in the other threads, every
# POST_EPISODE_EVERY-th post is marked as discussing one: a reader behind them gets masked
# titles and collapsed posts. Never the first thread, which the Pareto split may make the long
# one: the deep-paging benchmark needs its posts shown.
THREAD_EPISODE_EVERY = 4
POST_EPISODE_EVERY = 7


@dataclass(frozen=True)
class BulkResult:
    threads: int
    posts: int
    users: int


def bulk_generate(
    session: Session,
    threads: int,
    posts: int,
    *,
    seed: int = 7,
    chunk: int = 5_000,
    progress: Callable[[int], None] = lambda _n: None,
) -> BulkResult:
    """Add `threads` threads holding `posts` posts in all (at least one each), spread over the
    boards, by bulk inserts; counters are computed here and written once. Never commits."""
    if threads < 1 or posts < threads:
        raise ValueError("need at least one thread and at least one post per thread")
    rng = random.Random(seed)
    board_ids = list(session.scalars(select(Board.id).where(Board.is_archived.is_(False))))
    if not board_ids:
        raise ValueError("import some boards first (flask boards import shows.example.toml)")
    authors = _bulk_authors(session, count=min(200, max(10, posts // 500)))
    # Rows are inserted in bulk, past posting.add_post: the bodies are rendered here, once.
    rendered = [(body, markup.render(body).html) for body in BULK_BODIES]
    episode_keys = _episode_keys(session)

    first_thread = (session.scalar(select(func.max(Thread.id))) or 0) + 1
    first_post = (session.scalar(select(func.max(Post.id))) or 0) + 1
    sizes = _split(posts, threads, rng)
    start = utcnow() - timedelta(days=365)
    step = timedelta(days=365) / posts

    thread_rows: list[dict[str, object]] = []
    post_rows: list[dict[str, object]] = []
    # Findable like any post: each row's search document goes in with it.
    document_rows: list[dict[str, object]] = []
    board_totals: dict[int, list[int]] = {b: [0, 0] for b in board_ids}
    user_totals: dict[int, int] = {}
    post_id = first_post
    moment = start
    written = 0
    for index, size in enumerate(sizes):
        thread_id = first_thread + index
        board_id = board_ids[index % len(board_ids)]
        keys = episode_keys.get(board_id, ())
        thread_episode = (
            keys[(index // THREAD_EPISODE_EVERY) % len(keys)]
            if keys and index % THREAD_EPISODE_EVERY == THREAD_EPISODE_EVERY - 1
            else None
        )
        title = f"Discussion #{thread_id}: episode thoughts and theories"
        opener = rng.choice(authors)
        created = moment
        last_author = opener
        for number in range(1, size + 1):
            author = opener if number == 1 else rng.choice(authors)
            body, html = rendered[(post_id + number) % len(rendered)]
            post_episode = thread_episode
            if post_episode is None and keys and post_id % POST_EPISODE_EVERY == 0:
                post_episode = keys[(post_id // POST_EPISODE_EVERY) % len(keys)]
            post_rows.append(
                {
                    "id": post_id,
                    "thread_id": thread_id,
                    "author_id": author,
                    "number": number,
                    "source": body,
                    "html": html,
                    "render_version": markup.RENDER_VERSION,
                    "created_at": moment,
                    "is_deleted": False,
                    "episode_key": post_episode,
                }
            )
            document_rows.append(
                search_documents.row(post_id, html, title if number == 1 else None)
            )
            user_totals[author] = user_totals.get(author, 0) + 1
            last_author = author
            post_id += 1
            moment += step
        thread_rows.append(
            {
                "id": thread_id,
                "board_id": board_id,
                "author_id": opener,
                "title": title,
                "slug": thread_slug(title, thread_episode, is_news=False),
                "created_at": created,
                "post_count": size,
                "last_post_id": post_id - 1,
                "last_post_at": moment - step,
                "last_poster_id": last_author,
                "is_pinned": False,
                "is_locked": False,
                "is_hidden": False,
                "episode_key": thread_episode,
            }
        )
        board_totals[board_id][0] += 1
        board_totals[board_id][1] += size
        if len(post_rows) >= chunk:
            _flush_rows(session, thread_rows, post_rows, document_rows)
            written += len(post_rows)
            thread_rows, post_rows, document_rows = [], [], []
            progress(written)
    _flush_rows(session, thread_rows, post_rows, document_rows)
    progress(posts)
    _apply_totals(session, board_totals, user_totals)
    _resync_sequences(session)
    freshness.changed(session, site=True)
    return BulkResult(threads=threads, posts=posts, users=len(authors))


def _episode_keys(session: Session) -> dict[int, tuple[int, ...]]:
    """Each board's episode keys in order (boards without episodes are left out)."""
    keys: dict[int, list[int]] = {}
    for board_id, season, number in session.execute(
        select(Episode.board_id, Episode.season, Episode.number).order_by(
            Episode.board_id, Episode.season, Episode.number
        )
    ):
        keys.setdefault(board_id, []).append(key_of(season, number))
    return {board_id: tuple(found) for board_id, found in keys.items()}


def _bulk_authors(session: Session, count: int) -> list[int]:
    existing = list(
        session.scalars(
            select(User.id).where(User.username_key.like("fan\\_%", escape="\\")).limit(count)
        )
    )
    if len(existing) >= count:
        return existing
    password_hash = hash_password(DEMO_PASSWORD)
    taken = {identity_key(n) for n in session.scalars(select(User.username))}
    rows = []
    for n in range(count * 2):
        name = f"fan_{n:04d}"
        if name in taken:
            continue
        rows.append(
            {
                "username": name,
                "username_key": name,
                "email": f"{name}@example.org",
                "email_key": f"{name}@example.org",
                "password_hash": password_hash,
                "role": Role.MEMBER.value,
                "created_at": utcnow(),
                "post_count": 0,
                "email_verified_at": utcnow(),
                "is_trusted": True,
            }
        )
        if len(rows) + len(existing) >= count:
            break
    session.execute(insert(User), rows)
    return list(
        session.scalars(
            select(User.id).where(User.username_key.like("fan\\_%", escape="\\")).limit(count)
        )
    )


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """Post counts per thread: one each, the rest spread unevenly (some threads run long)."""
    sizes = [1] * parts
    weights = [rng.paretovariate(1.2) for _ in range(parts)]
    scale = (total - parts) / sum(weights)
    for i, weight in enumerate(weights):
        sizes[i] += int(weight * scale)
    sizes[0] += total - sum(sizes)
    return sizes


def _flush_rows(
    session: Session,
    threads: list[dict[str, object]],
    posts: list[dict[str, object]],
    documents: list[dict[str, object]],
) -> None:
    # Threads point at their last post and posts at their thread: insert threads without the
    # pointer, then posts, then set it (foreign keys are checked on every statement).
    # Core executemany on the tables, not ORM bulk inserts: several times faster.
    connection = session.connection()
    # A mapped class's __table__ is typed as any FROM clause; these are plain tables.
    thread_table, post_table = cast(Table, Thread.__table__), cast(Table, Post.__table__)
    if threads:
        connection.execute(insert(thread_table), [{**row, "last_post_id": None} for row in threads])
    if posts:
        connection.execute(insert(post_table), posts)
    if documents:
        connection.execute(insert(cast(Table, SearchDocument.__table__)), documents)
    if threads:
        connection.execute(
            update(thread_table)
            .where(thread_table.c.id == bindparam("thread_id"))
            .values(last_post_id=bindparam("last_post")),
            [{"thread_id": row["id"], "last_post": row["last_post_id"]} for row in threads],
        )


def _apply_totals(session: Session, boards: dict[int, list[int]], users: dict[int, int]) -> None:
    for board_id, (thread_total, post_total) in boards.items():
        if not thread_total:
            continue
        last = session.execute(
            select(Thread.last_post_id, Thread.last_post_at)
            .where(Thread.board_id == board_id)
            .order_by(Thread.last_post_at.desc())
            .limit(1)
        ).one()
        session.execute(
            update(Board)
            .where(Board.id == board_id)
            .values(
                thread_count=Board.thread_count + thread_total,
                post_count=Board.post_count + post_total,
                last_post_id=last.last_post_id,
                last_post_at=last.last_post_at,
            )
        )
    for user_id, added in users.items():
        session.execute(
            update(User).where(User.id == user_id).values(post_count=User.post_count + added)
        )


def _resync_sequences(session: Session) -> None:
    """Explicit ids skip PostgreSQL's sequences; move them past the highest id. Fresh
    statistics too: planned on the empty tables' numbers, the first searches and pages after a
    bulk load would scan whole tables until autovacuum got round to them."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text("ANALYZE users, threads, posts, search_documents"))
    for table in ("users", "threads", "posts"):
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )
