"""Search on SQLite: an FTS5 table over `search_documents`, kept by triggers.

`search_fts(title, body, spoilers)` is an *external-content* FTS5 table: it stores only the
index, reading the text from `search_documents` (content_rowid = post_id), and three AFTER
INSERT/UPDATE/DELETE triggers on `search_documents` keep it in step, so Python writes the plain
table alone (forum/search/search_documents.py). Tokenizer: `porter unicode61
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
read every match of every word: each title hit is worth search.TITLE_TIER, body and spoiler
hits count below it (capped). Title candidates come from `search_fts_titles`, a second
external-content FTS5 index of the titled documents only (migration 0012, its own triggers),
walked newest first and stopped at TITLE_CANDIDATES; they rank by their title hits (a body
lookup each cost 0.7 ms for a word in many titles; one also among the newest keeps its full
rank). A `{title}` column filter on search_fts instead read every posting of the word. Within
one thread the statement turns round: the thread's posts are walked along their index, each
looked up in FTS5 by rowid (a thread's few matches of a common word are otherwise found by
walking all of its matches).

`install` (re)creates the triggers and is idempotent: migrations/env.py runs it after every
upgrade on SQLite, because a batch migration that rebuilds `search_documents` drops them (the
titles' triggers only once migration 0012 has made their table).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    type_coerce,
    union_all,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from forum.models import Post, SearchDocument, Thread
from forum.search.search import TITLE_TIER, Candidate, Scope
from forum.search.search_query import Query, Term

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
# Title candidates (search.py) come from a second, small FTS5 index over the titles alone
# (openers' documents only): in search_fts a title-only match reads every posting of the word,
# body or title (a common word at 1M posts: 180,000 entries, +20 ms a search).
TITLES = "search_fts_titles"
CREATE_TITLES = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TITLES} USING fts5("
    "title, content='search_documents', content_rowid='post_id', columnsize=0, "
    "tokenize='porter unicode61 remove_diacritics 2')"
)
# Only rows with a title are in it, and an edit that leaves the title alone doesn't touch it.
_CHANGED = "old.title IS NOT new.title"
TITLE_TRIGGERS = {
    "search_titles_ai": (
        f"AFTER INSERT ON search_documents WHEN new.title <> '' BEGIN "
        f"INSERT INTO {TITLES}(rowid, title) VALUES (new.post_id, new.title); END"
    ),
    "search_titles_ad": (
        f"AFTER DELETE ON search_documents WHEN old.title <> '' BEGIN "
        f"INSERT INTO {TITLES}({TITLES}, rowid, title) VALUES ('delete', old.post_id, old.title); "
        "END"
    ),
    "search_titles_au": (
        f"AFTER UPDATE OF title, post_id ON search_documents WHEN {_CHANGED} OR "
        f"old.post_id IS NOT new.post_id BEGIN "
        f"INSERT INTO {TITLES}({TITLES}, rowid, title) "
        f"SELECT 'delete', old.post_id, old.title WHERE old.title <> ''; "
        f"INSERT INTO {TITLES}(rowid, title) SELECT new.post_id, new.title WHERE new.title <> ''; "
        "END"
    ),
}
# The FTS5 tables and the shadow tables they keep: not in the models, never to be dropped.
OBJECT_PREFIX = "search_fts"


def install(connection: Connection) -> None:
    """Create the FTS5 table and its triggers where missing (the documents table must exist);
    the titles' triggers too once migration 0012 has made their table."""
    connection.exec_driver_sql(CREATE_TABLE)
    triggers = dict(TRIGGERS)
    has_titles = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TITLES,)
    ).first()
    if has_titles:
        triggers.update(TITLE_TRIGGERS)
    for name, body in triggers.items():
        connection.exec_driver_sql(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")


def rebuild(connection: Connection) -> None:
    """Rebuild the FTS5 indexes from the documents table (after rows were written past the
    triggers, or to repair them)."""
    connection.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
    # Not 'rebuild' here: it would add every document, titled or not (see TITLE_TRIGGERS).
    connection.exec_driver_sql(f"INSERT INTO {TITLES}({TITLES}) VALUES ('delete-all')")
    connection.exec_driver_sql(
        f"INSERT INTO {TITLES}(rowid, title) "
        "SELECT post_id, title FROM search_documents WHERE title <> ''"
    )


def uninstall(connection: Connection) -> None:
    for name in [*TRIGGERS, *TITLE_TRIGGERS]:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {TITLES}")
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
    """The MATCH expression on the titles' index for title candidates (search.py): every
    titled group in the title (None: no group to look for there). The whole query is checked
    on search_fts besides."""
    if not query.titled_groups:
        return None
    return " AND ".join(_any(group) for group in query.titled_groups)


_fts = table("search_fts", column("rowid"), column("search_fts"))
_titles = table(TITLES, column("rowid"), column(TITLES))


def _lookup(expression: ColumnElement[Any], words: str, rowid: Any) -> Any:
    """`expression` of the row `rowid` in search_fts (as `matched`) if it matches `words`,
    else NULL: one FTS5 lookup by rowid."""
    matched = _fts.alias("matched")
    return (
        select(expression)
        .select_from(matched)
        .where(matched.c.search_fts.op("MATCH")(words), matched.c.rowid == rowid)
        .scalar_subquery()
    )


def _matches(words: str, rowid: Any) -> ColumnElement[bool]:
    found: ColumnElement[bool] = _lookup(literal_column("1"), words, rowid).is_not(None)
    return found


def _hits_in(index: int, fts: str = "search_fts") -> ColumnElement[float]:
    marked = f"highlight({fts}, {index}, char(1), '')"
    return literal_column(f"(length({marked}) - length(replace({marked}, char(1), '')))")


def _score(fts: str, spoilers_allowed: ColumnElement[Any]) -> ColumnElement[float]:
    """Each title hit is worth a tier (search.TITLE_TIER); below it, body and spoiler hits,
    capped under the tier (30 repeats of a word in a body never beat a title). Three
    highlight() counts a row: the ranking's whole cost."""
    title, body, spoilers = (_hits_in(i, fts) for i in range(3))
    # Typed: min() takes its first argument's type, here a boolean's (true is 1 in SQLite),
    # and would turn every score into True.
    below = func.min(
        body + spoilers * spoilers_allowed.self_group(),
        literal_column(str(int(TITLE_TIER) - 1)),
        type_=Float,
    )
    return type_coerce(title * literal_column(str(int(TITLE_TIER))) + below, Float)


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

        matches = (
            select(_fts.c.rowid.label("post_id"), rank.label("score"), literal(False))
            .select_from(_fts)
            .join(SearchDocument, SearchDocument.post_id == _fts.c.rowid)
            .join(Post, Post.id == _fts.c.rowid)
            .join(Thread, Thread.id == Post.thread_id)
            .where(
                _fts.c.search_fts.op("MATCH")(everywhere),
                scope.where,
                or_(scope.spoilers_allowed, outside_spoilers),
            )
            .order_by(_fts.c.rowid.desc())
            .limit(limit)
            .subquery()
        )
        stmt: Any = select(*matches.c)
        titled = title_expression(query) if ranked else None
        if titled is not None:
            # Title candidates, whatever their age, in the same statement: the titles' own
            # index finds them, each then checked for the whole query in search_fts by rowid.
            # Ranked by their title hits alone (a lookup in search_fts for the body's would
            # cost ~0.7 ms each for a word in many titles); one also among the newest matches
            # keeps its full rank there (search.py).
            row = _titles.c.rowid
            score = type_coerce(_hits_in(0, TITLES) * literal_column(str(int(TITLE_TIER))), Float)
            checks: list[ColumnElement[bool]] = []
            if query.excluded or query.titled_groups != query.groups:
                # The title alone doesn't settle the whole query: check it by rowid.
                checks = [
                    _matches(everywhere, row),
                    or_(scope.spoilers_allowed, _matches(open_text, row)),
                ]
            titles = (
                select(row.label("post_id"), score.label("score"), literal(True))
                .select_from(_titles)
                .join(SearchDocument, SearchDocument.post_id == row)
                .join(Post, Post.id == row)
                .join(Thread, Thread.id == Post.thread_id)
                .where(_titles.c[TITLES].op("MATCH")(titled), scope.where, *checks)
                .order_by(row.desc())
                .limit(TITLE_CANDIDATES)
                .subquery()
            )
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
        newest_by = scope.newest_by
        assert newest_by is not None
        rank: Any = literal_column("0")
        if ranked:
            rank = _lookup(
                _score("matched.search_fts", scope.spoilers_allowed), everywhere, Post.id
            )
        stmt = (
            select(Post.id, rank)
            .join(Thread, Thread.id == Post.thread_id)
            .join(SearchDocument, SearchDocument.post_id == Post.id)
            .where(
                scope.where,
                _matches(everywhere, Post.id),
                or_(scope.spoilers_allowed, _matches(open_text, Post.id)),
            )
            # The key alone, so the filter's index gives the order and the walk stops early.
            .order_by(newest_by.desc())
            .limit(limit)
        )
        return [
            Candidate(int(post_id), float(score or 0)) for post_id, score in session.execute(stmt)
        ]


ENGINE = _Engine()
