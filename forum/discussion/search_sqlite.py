"""Search on SQLite: an FTS5 table over `search_documents`, kept by triggers.

`search_fts(title, body, spoilers)` is an *external-content* FTS5 table: it stores only the
index, reading the text from `search_documents` (content_rowid = post_id), and three AFTER
INSERT/UPDATE/DELETE triggers on `search_documents` keep it in step, so Python writes the plain
table alone (forum/discussion/search_documents.py). Tokenizer: `porter unicode61
remove_diacritics 2`: Porter stemming ("renewed" finds "renewal") over Unicode words with
accents folded (documents and queries are normalised in Python as well). FTS5 keeps every word,
so short common words ("who", "the office") need no fallback here; PostgreSQL's does
(search_postgres.py).

Queries never reach FTS5 as typed: search_query parses them into words of letters and digits,
and this module writes the MATCH expression itself, every word inside double quotes, passed as
a bound parameter.

Why it scales: the candidate statement drives from the FTS5 table in rowid (post id) order,
newest first, checks visibility row by row through primary keys and stops at the limit, so a
common word costs MAX_RESULTS rows, not all of its matches. Ranking uses highlight() on those
rows (the phrase instances of the row itself) instead of bm25(), whose document frequencies
read every match of every word. Title matches weigh TITLE_WEIGHT times a body match. Within
one thread the statement turns round: the thread's posts are walked along their index, each
looked up in FTS5 by rowid (a thread's few matches of a common word are otherwise found by
walking all of its matches).

`install` (re)creates the triggers and is idempotent: migrations/env.py runs it after every
upgrade on SQLite, because a batch migration that rebuilds `search_documents` drops them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    case,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    union_all,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from forum.discussion.search import TITLE_TIER, Candidate, Scope
from forum.discussion.search_query import Query, Term
from forum.models import Post, SearchDocument, Thread

TITLE_WEIGHT = 10
# How many title candidates join the newest matches before ranking (search.py).
TITLE_CANDIDATES = 40

CREATE_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
    "title, body, spoilers, content='search_documents', content_rowid='post_id', columnsize=0, "
    "tokenize='porter unicode61 remove_diacritics 2')"
)
_COLUMNS = "title, body, spoilers"
_NEW = "new.post_id, new.title, new.body, new.spoilers"
_OLD = "old.post_id, old.title, old.body, old.spoilers"
TRIGGERS = {
    "search_documents_ai": (
        f"AFTER INSERT ON search_documents BEGIN "
        f"INSERT INTO search_fts(rowid, {_COLUMNS}) VALUES ({_NEW}); END"
    ),
    "search_documents_ad": (
        f"AFTER DELETE ON search_documents BEGIN "
        f"INSERT INTO search_fts(search_fts, rowid, {_COLUMNS}) VALUES ('delete', {_OLD}); END"
    ),
    "search_documents_au": (
        f"AFTER UPDATE ON search_documents BEGIN "
        f"INSERT INTO search_fts(search_fts, rowid, {_COLUMNS}) VALUES ('delete', {_OLD}); "
        f"INSERT INTO search_fts(rowid, {_COLUMNS}) VALUES ({_NEW}); END"
    ),
}
# The FTS5 table and the shadow tables it keeps: not in the models, never to be dropped.
OBJECT_PREFIX = "search_fts"


def install(connection: Connection) -> None:
    """Create the FTS5 table and its triggers where missing (the documents table must exist)."""
    connection.exec_driver_sql(CREATE_TABLE)
    for name, body in TRIGGERS.items():
        connection.exec_driver_sql(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")


def rebuild(connection: Connection) -> None:
    """Rebuild the FTS5 index from the documents table (after rows were written past the
    triggers, or to repair it)."""
    connection.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")


def uninstall(connection: Connection) -> None:
    for name in TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    connection.exec_driver_sql("DROP TABLE IF EXISTS search_fts")


# ------------------------------------------------------------------------------ queries


def _term(term: Term) -> str:
    # Words are letters and digits only (search_query.TOKEN): nothing in them is FTS5 syntax.
    phrase = '"' + " ".join(term.words) + '"'
    # Stop words alone are looked for in the open text, where PostgreSQL looks for them.
    return "{title body} : " + phrase if term.only_stop_words else phrase


def _any(terms: Sequence[Term]) -> str:
    return "(" + " OR ".join(_term(t) for t in terms) + ")"


def match_expressions(query: Query) -> tuple[str, str]:
    """The MATCH expressions for rows whose spoiler text the viewer may match, and for the
    others (title and body only). Excluded terms look at title and body for everyone."""
    wanted = " AND ".join(_any(group) for group in query.groups)
    unwanted = f" NOT {{title body}} : {_any(query.excluded)}" if query.excluded else ""
    return f"({wanted}){unwanted}", f"{{title body}} : ({wanted}){unwanted}"


def title_expression(query: Query) -> str | None:
    """The MATCH expression of title candidates (search.py): the whole query, with every
    titled group in the title (None: no group to look for there)."""
    if not query.titled_groups:
        return None
    everywhere, _ = match_expressions(query)
    in_title = " AND ".join(_any(group) for group in query.titled_groups)
    return f"({{title}} : ({in_title})) AND ({everywhere})"


_fts = table("search_fts", column("rowid"), column("search_fts"))


def _hits_in(index: int, fts: str = "search_fts") -> ColumnElement[float]:
    marked = f"highlight({fts}, {index}, char(1), '')"
    return literal_column(f"(length({marked}) - length(replace({marked}, char(1), '')))")


def _score(fts: str, spoilers_allowed: ColumnElement[Any]) -> ColumnElement[float]:
    """A title hit is its own tier (search.TITLE_TIER); below it, title hits weigh TITLE_WEIGHT
    body hits, capped under the tier (30 repeats of a word in a body never beat a title)."""
    title, body, spoilers = (_hits_in(i, fts) for i in range(3))
    within = title * TITLE_WEIGHT + body + spoilers * spoilers_allowed.self_group()
    capped = func.min(within, literal_column(str(int(TITLE_TIER) - 1)))
    tier = case((title > 0, literal_column(str(int(TITLE_TIER)))), else_=literal_column("0"))
    return tier + capped


class _Engine:
    def candidates(
        self, session: Session, query: Query, scope: Scope, *, limit: int, ranked: bool
    ) -> Sequence[Candidate]:
        everywhere, open_text = match_expressions(query)
        # Rows with a spoiler beyond the viewer must match without their spoiler text: checked
        # for those rows only, on the FTS5 index by rowid.
        outside_spoilers = sql_text(
            "EXISTS (SELECT 1 FROM search_fts AS spoiled WHERE spoiled.search_fts MATCH "
            ":open_text AND spoiled.rowid = search_fts.rowid)"
        ).bindparams(open_text=open_text)
        rank: ColumnElement[float] = literal_column("0")
        if ranked:
            # A spoiler's words count only where the viewer may match them (true is 1).
            rank = _score("search_fts", scope.spoilers_allowed)
        if scope.newest_by is not None:
            return self._along_posts(session, everywhere, open_text, scope, limit, ranked)

        def newest(words: str, count: int, by_title: bool) -> Any:
            return (
                select(_fts.c.rowid.label("post_id"), rank.label("rank"), literal(by_title))
                .select_from(_fts)
                .join(SearchDocument, SearchDocument.post_id == _fts.c.rowid)
                .join(Post, Post.id == _fts.c.rowid)
                .join(Thread, Thread.id == Post.thread_id)
                .where(
                    _fts.c.search_fts.op("MATCH")(words),
                    scope.where,
                    or_(scope.spoilers_allowed, outside_spoilers),
                )
                .order_by(_fts.c.rowid.desc())
                .limit(count)
                .subquery()
            )

        matches = newest(everywhere, limit, False)
        stmt: Any = select(*matches.c)
        titled = title_expression(query) if ranked else None
        if titled is not None:
            # Title candidates, whatever their age, in the same statement: FTS5 reads the
            # words' posting lists for title positions and stops at the few it needs.
            titles = newest(titled, TITLE_CANDIDATES, True)
            stmt = union_all(stmt, select(*titles.c))
        return [
            Candidate(int(post_id), float(score), by_title=bool(by_title))
            for post_id, score, by_title in session.execute(stmt)
        ]

    def _along_posts(
        self,
        session: Session,
        everywhere: str,
        open_text: str,
        scope: Scope,
        limit: int,
        ranked: bool,
    ) -> Sequence[Candidate]:
        """One thread's or one author's posts, newest first along their index, each looked up
        in the FTS5 index by rowid (left to itself, SQLite walked every match of a common word
        to find one thread's: 3 s at 1M posts)."""
        matched = _fts.alias("matched")
        newest_by = scope.newest_by
        assert newest_by is not None

        def lookup(expression: ColumnElement[Any], words: str) -> Any:
            return (
                select(expression)
                .select_from(matched)
                .where(
                    matched.c.search_fts.op("MATCH")(words),
                    matched.c.rowid == Post.id,
                )
                .scalar_subquery()
            )

        def match(words: str) -> ColumnElement[bool]:
            found: ColumnElement[bool] = lookup(literal_column("1"), words).is_not(None)
            return found

        rank: Any = literal_column("0")
        if ranked:
            rank = lookup(_score("matched.search_fts", scope.spoilers_allowed), everywhere)
        stmt = (
            select(Post.id, rank)
            .join(Thread, Thread.id == Post.thread_id)
            .join(SearchDocument, SearchDocument.post_id == Post.id)
            .where(
                scope.where,
                match(everywhere),
                or_(scope.spoilers_allowed, match(open_text)),
            )
            # The key alone, so the filter's index gives the order and the walk stops early.
            .order_by(newest_by.desc())
            .limit(limit)
        )
        return [
            Candidate(int(post_id), float(score or 0)) for post_id, score in session.execute(stmt)
        ]


ENGINE = _Engine()
