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
from forum.discussion import markup, posting
from forum.discussion.episode_codes import key_of
from forum.models import Board, Episode, Post, Role, Thread, User, utcnow
from forum.platform import freshness
from forum.platform.text import identity_key

DEMO_PASSWORD = "showboard-demo"
DEMO_LOGINS = {"demo": Role.MEMBER, "mod_maria": Role.MODERATOR, "admin": Role.ADMIN}
FANS = [
    "ingrid_stan",
    "lawfirm_lurker",
    "murphys_law",
    "helen_wan_reader",
    "associate_ally",
    "tvdebates",
    "bingewatcher22",
    "nyc_paralegal",
]

# (board slug, title, [(author, body), ...]); the first post opens the thread.
CONVERSATIONS: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "partner-track",
        "Will Partner Track get a season 2?",
        [
            (
                "ingrid_stan",
                "I know Netflix said no back in November 2022, but hear me out. "
                "It was in the **Top 10** within days, and it was never billed as a limited "
                "series. "
                "That ending >!S1E10: with Jeff!< *cannot* be how Ingrid's story ends.\n\n"
                "Is there any realistic path to a second season?",
            ),
            (
                "lawfirm_lurker",
                "Realistically? Variety confirmed the cancellation, so it would take "
                "another platform picking it up. It has happened before, but rarely for a show "
                "that's been off the air this long.",
            ),
            (
                "murphys_law",
                "> it was never billed as a limited series\n\nThis is what hurts. "
                "Everything in the finale was set-up: >!S1E10: the partnership vote, the "
                "betrayal, Rachel's storyline!<. They clearly planned for more.",
            ),
            (
                "helen_wan_reader",
                "The novel gives you a lot of what a season 2 would have dealt "
                "with. If you haven't read Helen Wan's book, start there while we wait.",
            ),
            (
                "associate_ally",
                "Remember that Netflix's drama chief sounded hopeful about a second "
                "season before the news broke. I still think the numbers were closer than people "
                "assume.",
            ),
            (
                "demo",
                "Count me in for the revival campaign. What would you want season 2 to "
                "focus on? (I'm only at episode 6, so tag your spoilers!)\n\n1. Whatever is going "
                "on with Jeff\n2. The firm's diversity initiative, for "
                "real this time\n3. More Rachel, obviously",
            ),
            ("tvdebates", "3, always 3. Alexandra Turshen stole every scene she was in."),
            (
                "lawfirm_lurker",
                "2, but mostly I want >!S1E10: Ingrid making the firm pay for what Jeff did!<.",
            ),
            (
                "bingewatcher22",
                "Mine is simple: >!a straight answer to the question the finale leaves "
                "hanging!<. Ten episodes of build-up deserve one.",
            ),
            (
                "ingrid_stan",
                "Honestly just give us Arden Cho in a courtroom for ten more episodes. "
                "~~I would watch her read a contract~~ I *have* watched her read a contract.",
            ),
        ],
    ),
    (
        "partner-track",
        "Book vs. show: what Georgia Lee changed",
        [
            (
                "helen_wan_reader",
                "The show moves a lot faster than the book. Georgia Lee added "
                "the romance triangle up front, while the novel spends longer on the day-to-day "
                "grind at the firm. Which version of Ingrid do you prefer?",
            ),
            (
                "bingewatcher22",
                "Show Ingrid is more sure of herself. Book Ingrid's doubts felt "
                "more real to me though.",
            ),
            (
                "nyc_paralegal",
                "As someone who works at a firm: the book is *painfully* accurate "
                "about billable hours. The show is prettier.",
            ),
        ],
    ),
    (
        "partner-track",
        "Where the cast went next",
        [
            (
                "tvdebates",
                "Keeping a list of what Arden Cho, Dominic Sherwood and Alexandra "
                "Turshen have done since. Add anything I missed!",
            ),
            ("associate_ally", "Following this thread. I'd watch any of them in anything."),
            (
                "ingrid_stan",
                "Whatever Arden Cho does next, it'll be hard to top >!S1E8: the last scene of "
                "episode 8!<. I rewound it twice.",
            ),
        ],
    ),
    (
        "partner-track",
        "Petition to revive the show: sign and share",
        [
            (
                "murphys_law",
                "Fans have petitions going. Signing costs nothing, and shows like "
                "*Lucifer* and *Manifest* came back because fans made noise.",
            ),
            ("lawfirm_lurker", "Signed. Not holding my breath, but signed."),
        ],
    ),
    (
        "severance",
        "Theory thread: what is Lumon actually doing?",
        [
            ("tvdebates", "Post your best theory. No proof required, just vibes and screenshots."),
            ("bingewatcher22", "The goats. It is always the goats."),
        ],
    ),
    (
        "the-bear",
        "Best episode so far?",
        [
            (
                "nyc_paralegal",
                "I'll start: the one-take kitchen episode raised my blood pressure "
                "in the best way.",
            ),
        ],
    ),
    (
        "succession",
        "Rank the Roy siblings",
        [
            ("associate_ally", "Worst to best, go. Be honest."),
            ("murphys_law", "Connor is secretly the happiest man in the show and I stand by it."),
        ],
    ),
]


# Partner Track's episode guide: Netflix released all ten episodes of its one season at once.
EPISODE_BOARD = "partner-track"
EPISODE_COUNT = 10
RELEASE_DAY = date(2022, 8, 26)
# The demo member is mid-binge, so the spoilers tagged S1E7 and later are withheld from them.
DEMO_PROGRESS = key_of(1, 6)
EPISODE_HOST = "admin"  # the site opens episode threads as its first admin

# A reply: (author, body, episode it discusses up to; None for the thread's own episode).
Reply = tuple[str, str, int | None]

# Fans' replies in each episode's official thread, by episode number. Nothing here claims what
# happens in which episode (feelings, theories and performances only), except the finale's
# betrayal; later episodes are only mentioned inside spoilers tagged with them.
EPISODE_TALK: dict[int, list[Reply]] = {
    1: [
        (
            "ingrid_stan",
            "Arden Cho owns this from her first scene. You believe right away that Ingrid has "
            "been grinding for years to get a shot at partner.",
            None,
        ),
        (
            "bingewatcher22",
            "Went in expecting *Emily in Paris* with lawyers. It is that, but with more teeth.",
            None,
        ),
        (
            "murphys_law",
            "Dominic Sherwood gets about one look in and I already don't know what to make of "
            "Jeff. Just a feeling.",
            None,
        ),
        (
            "lawfirm_lurker",
            "Finished the whole thing this weekend. All I'll say: >!keep an eye on Jeff!<.",
            None,
        ),
    ],
    2: [
        (
            "helen_wan_reader",
            "Book reader checking in: the office politics feel right. Helen Wan would recognise "
            "this firm.",
            None,
        ),
        (
            "tvdebates",
            "Rachel is the friend every associate needs. Alexandra Turshen's timing is so good.",
            None,
        ),
        (
            "bingewatcher22",
            "Came back to this thread after watching episode 9. Knowing where things go, the "
            "small moments in this one land completely differently. Not saying more!",
            key_of(1, 9),
        ),
    ],
    3: [
        (
            "murphys_law",
            "Rewatching this knowing >!S1E10: what Jeff does at the end!< makes every scene "
            "with him hurt.",
            None,
        ),
        ("ingrid_stan", "This episode's ending had me talking to my screen.", None),
        (
            "nyc_paralegal",
            "The billable-hours stress is the most realistic thing I've seen on TV. My chest "
            "actually got tight.",
            None,
        ),
        (
            "tvdebates",
            "Theory time: >!somebody at that firm is not on Ingrid's side!<. Calling it now.",
            None,
        ),
    ],
    4: [
        (
            "helen_wan_reader",
            "The romance gets a lot more room than in the book. Not complaining, just noting.",
            None,
        ),
        (
            "associate_ally",
            "The diversity-and-inclusion side of the firm is handled better than I expected "
            "from a glossy Netflix show. Being the face of an initiative is its own job.",
            None,
        ),
        (
            "lawfirm_lurker",
            "Binge shows usually sag around here. This one didn't for me.",
            None,
        ),
    ],
    5: [
        (
            "tvdebates",
            "Halfway ranking: Rachel, Ingrid, everyone else, then Jeff on probation.",
            None,
        ),
        (
            "bingewatcher22",
            "Compared it to *Younger* in my group chat and got yelled at. Same glossy office, "
            "same how-long-can-she-keep-this-up feeling. I stand by it.",
            None,
        ),
        (
            "murphys_law",
            "For those who've finished: does >!S1E8: the way episode 8 leaves Ingrid and Jeff!< "
            "change how you read this one?",
            None,
        ),
    ],
    6: [
        (
            "ingrid_stan",
            "The ending of this episode! Arden Cho did so much with just her face.",
            None,
        ),
        (
            "nyc_paralegal",
            "The late nights at the office are accurate down to the sad takeout.",
            None,
        ),
        (
            "associate_ally",
            "Anyone else feel the whole partner race tightening? Every episode turns the screw "
            "a little more.",
            None,
        ),
        (
            "helen_wan_reader",
            "Book readers know roughly where this is heading, >!though the show takes its own "
            "road to get there!<.",
            None,
        ),
    ],
    7: [
        ("tvdebates", "The competition at the firm is getting vicious and I love it.", None),
        (
            "lawfirm_lurker",
            "True to life: nobody ever tells you where you stand on partnership, so everyone "
            "reads tea leaves. The show gets that.",
            None,
        ),
        (
            "murphys_law",
            "Just rewatched and I keep thinking about >!S1E10: Jeff in the finale!<. Sorry, I "
            "have feelings.",
            None,
        ),
    ],
    8: [
        ("ingrid_stan", "My heart cannot take Ingrid and Jeff right now.", None),
        (
            "bingewatcher22",
            "Two episodes left and I don't see how they wrap this up. >!Spoiler: they don't, "
            "and then Netflix cancelled it.!<",
            None,
        ),
        (
            "associate_ally",
            "Dominic Sherwood is doing a lot of quiet work in this one.",
            None,
        ),
    ],
    9: [
        ("tvdebates", "Penultimate-episode energy: every piece is being moved into place.", None),
        ("nyc_paralegal", "Rachel deserves her own spin-off. Please.", None),
        (
            "lawfirm_lurker",
            "That ending made me hit *next episode* faster than I've ever hit anything.",
            None,
        ),
    ],
    10: [
        ("ingrid_stan", "JEFF. After everything, he betrays her? I am not okay.", None),
        (
            "murphys_law",
            "My username has never felt so cursed. I defended Jeff for nine episodes.",
            None,
        ),
        (
            "helen_wan_reader",
            "The betrayal hurts, but it also frees Ingrid to go after partner on her own terms. "
            "That's the season 2 I wanted to see.",
            None,
        ),
        (
            "tvdebates",
            "Ending a season on Ingrid finding out about Jeff and then cancelling the show "
            "should be illegal.",
            None,
        ),
        (
            "associate_ally",
            "Arden Cho's face when Ingrid realises what Jeff did. Give her all the awards.",
            None,
        ),
    ],
}

# Show news: (title, [(author, body), ...]); the first post opens the thread.
SHOW_NEWS: tuple[str, list[tuple[str, str]]] = (
    "Netflix cancels Partner Track after one season",
    [
        (
            "tvdebates",
            "Variety has confirmed it: Netflix will not make a second season of Partner Track. "
            "That's a surprise after the Top 10 run, and after Netflix's drama chief sounded "
            "hopeful about more. It was never billed as a limited series either.",
        ),
        ("ingrid_stan", "I refuse to accept this. Petition thread, anyone?"),
        (
            "helen_wan_reader",
            "Gutted. At least Helen Wan's novel is there for anyone who needs more Ingrid.",
        ),
    ],
)


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
    for slug, title, posts in CONVERSATIONS:
        board = boards.get(slug)
        if board is None:
            continue
        author, body = posts[0]
        thread = posting.create_thread(session, board, users[author], title, body)
        for author, body in posts[1:]:
            posting.add_post(session, thread, users[author], body)
    freshness.changed(session, site=True)  # new members, threads and counts everywhere
    session.flush()
    return True


# ---------------------------------------------------------------------------- bulk generation

BULK_BODIES = [
    "Just rewatched the finale and I still can't get over it.",
    "Hard agree. The writing in the middle episodes was **so** good.",
    "> That ending though\n\nExactly what I was thinking.",
    "Does anyone know if the soundtrack is on streaming services?",
    "Hot take: the first episode is the best one. Fight me.",
    "Adding this to my rewatch list, thanks for the recommendation!",
    "The book covers this in more detail, chapter 12 if you're curious.",
    "1. Great cast\n2. Great writing\n3. Cancelled anyway",
    # Spoilers, so thread pages pay for withholding them: an episode spoiler beyond a viewer
    # at S1E6, one before it (kept), and a generic one (shown to everyone behind a click).
    "Calling it now: >!S1E8: the partner vote goes the other way and she walks out!< You heard "
    "it here first.",
    "Still thinking about >!S1E3: the dinner scene and that phone call!< weeks later.",
    "No details, but >!the last five minutes!< are worth the whole season.",
]
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
            _flush_rows(session, thread_rows, post_rows)
            written += len(post_rows)
            thread_rows, post_rows = [], []
            progress(written)
    _flush_rows(session, thread_rows, post_rows)
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
    session: Session, threads: list[dict[str, object]], posts: list[dict[str, object]]
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
    """Explicit ids skip PostgreSQL's sequences; move them past the highest id."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in ("users", "threads", "posts"):
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )
