"""Search on PostgreSQL: a stored tsvector on `search_documents` with a GIN index.

`search_documents.vector` is a generated column (migrations/versions/0011_full_text_search.py):
the title weighted A, the open body D and the spoiler text B, each through the `english`
configuration (stemming: "renewed" finds "renewal"). Accents need no `unaccent` extension:
documents and queries are normalised in Python (search_query.normalise) before PostgreSQL sees
them. Ranking: a post whose title holds a searched term (`word:A`, checked on the candidate
rows only) is in the search.TITLE_TIER tier; within a tier, ts_rank with the title at ten
times the body; spoiler text (weight B) counts only where the viewer may match it, and rows
beyond the viewer are matched with every word restricted to weights A and D (`word:AD`).

Title candidates (search.py) come from a GIN expression index on to_tsvector('english',
title) (migration 0012; only openers have a title, so it is small): the newest TITLE_SCAN
titles holding the words are sorted by id from that index alone and only they are joined and
checked, in the candidates' first statement (UNION ALL). The vector's own GIN index can't
serve `word:A`: it holds no weights, so every body match would be rechecked. A word in very
many titles still costs their sort (the bench's 100,000 identical bulk titles: ~80 ms at 1M
posts, 25 ms at 50k).

The semantics are websearch_to_tsquery's, built from search_query's parse instead of handing
PostgreSQL the typed text: each term is its own `to_tsquery('english', :term)` (words joined
by `<->` for a phrase), a bound parameter made only of letters and digits, combined with AND,
OR and NOT in SQL.

Plain-word fallback: the english configuration drops stop words ("who", "the", "it"), so a term
made only of them ("The Who", "who", "it") would match nothing, or everything. Such a term is
matched against the open text (title and body) through the `simple` configuration: an exact,
unstemmed match, served by a GIN expression index on `to_tsvector('simple', title || ' ' ||
body)` (no stored column: 15 MB per 1M bench posts; without it "the who" read every document,
3.7 s at 1M posts). A phrase with a few stop words among others stays on the english vector,
where they hold their positions ("renewed for season" = renew <2> season), and must also
match word for word on that plain-word index: the english query drops stop words, so 'the
office' alone would be 'offic' and "season before the" would be 'season'.

Why it scales: candidates are the newest matches in post id order, with a LIMIT. The newest
WINDOW documents are walked backwards along the primary key checking `@@` (a common word fills
the limit there and the walk stops); when they hold some matches but too few (a filter thinned
them), the walk goes on as far as their density says the rest lies (up to MAX_WALK); otherwise
the older ones are read through the GIN index (a rarer word: its few matches are sorted). Left to
itself, the planner walked the whole primary key for a rare word whenever its statistics
couldn't tell rare from common (a small vocabulary, as in the benchmark's bulk rows): 190 ms
at 1M posts instead of 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal_column,
    not_,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from forum.models import Post, SearchDocument, Thread
from forum.search import search_query
from forum.search.search import TITLE_TIER, Candidate, Scope
from forum.search.search_query import Query, Term

# The english vector has none of these (search_query.STOP_WORDS): a term made only of them goes
# to the plain-word fallback, and a phrase holding some is also checked there word for word.
STOP_WORDS = search_query.STOP_WORDS
# How many title candidates join the newest matches before ranking (search.py).
TITLE_CANDIDATES = 40
# How many of the newest titles holding the words are looked at for them.
TITLE_SCAN = 400

# How many of the newest documents are walked in id order before the rest is taken from the
# GIN index (see _Engine.candidates).
WINDOW = 16 * 1000
# The longest further walk worth taking instead of the GIN index (see _Engine.candidates).
MAX_WALK = 8 * WINDOW

ADD_COLUMN = (
    "ALTER TABLE search_documents ADD COLUMN vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english'::regconfig, title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, body), 'D') || "
    "setweight(to_tsvector('english'::regconfig, spoilers), 'B')) STORED"
)
CREATE_INDEX = "CREATE INDEX ix_search_documents_vector ON search_documents USING gin (vector)"
# The plain-word fallback's index: an expression index, so the words cost no stored column.
CREATE_PLAIN_INDEX = (
    "CREATE INDEX ix_search_documents_plain ON search_documents "
    "USING gin (to_tsvector('simple'::regconfig, title || ' ' || body))"
)
# Title candidates (search.py): only openers have a title, so this index is small; the
# vector's GIN index can't serve `word:A` (it holds no weights: every body match is rechecked).
CREATE_TITLE_INDEX = (
    "CREATE INDEX ix_search_documents_title ON search_documents "
    "USING gin (to_tsvector('english'::regconfig, title))"
)
# Not in the models (autogenerate must leave them alone: migrations/env.py).
UNMAPPED_COLUMNS = frozenset({"vector"})
UNMAPPED_INDEXES = frozenset(
    {"ix_search_documents_vector", "ix_search_documents_plain", "ix_search_documents_title"}
)

_vector: ColumnElement[Any] = literal_column("search_documents.vector")
# Written as CREATE_PLAIN_INDEX has it (a literal space, no parameter), so the index serves it.
_open_words = func.to_tsvector(
    literal_column("'simple'::regconfig"),
    SearchDocument.title + literal_column("' '") + SearchDocument.body,
)
_ENGLISH: ColumnElement[Any] = literal_column("'english'::regconfig")
_SIMPLE: ColumnElement[Any] = literal_column("'simple'::regconfig")
# Written as CREATE_TITLE_INDEX has it, so the index serves the title candidates.
_title_words = func.to_tsvector(_ENGLISH, SearchDocument.title)
# ts_rank's weights, in the order {D, C, B, A}: body, (unused), spoilers, title.
_WEIGHTS: ColumnElement[Any] = literal_column("'{0.1, 0.1, 0.1, 1.0}'::float4[]")
_WEIGHTS_NO_SPOILERS: ColumnElement[Any] = literal_column("'{0.1, 0, 0, 1.0}'::float4[]")


def install(connection: Connection) -> None:
    connection.exec_driver_sql(ADD_COLUMN)
    connection.exec_driver_sql(CREATE_INDEX)
    connection.exec_driver_sql(CREATE_PLAIN_INDEX)
    connection.exec_driver_sql(CREATE_TITLE_INDEX)


def is_fallback(term: Term) -> bool:
    return term.only_stop_words


def tsquery_text(term: Term, open_only: bool) -> str:
    """`term` in to_tsquery's syntax: words of letters and digits (search_query.TOKEN), so
    nothing in them is an operator; `:AD` keeps them to the title and the open body."""
    suffix = ":AD" if open_only else ""
    return " <-> ".join(word + suffix for word in term.words)


class _Conditions:
    """Builds the boolean tree of one query, numbering its bound parameters."""

    def __init__(self) -> None:
        self.count = 0

    def _param(self, value: str) -> ColumnElement[str]:
        self.count += 1
        return bindparam(f"term_{self.count}", value)

    def _plain(self, term: Term) -> ColumnElement[bool]:
        query = func.phraseto_tsquery(_SIMPLE, self._param(" ".join(term.words)))
        return _open_words.bool_op("@@")(query)

    def term(self, term: Term, open_only: bool) -> ColumnElement[bool]:
        if is_fallback(term):
            return self._plain(term)
        query = func.to_tsquery(_ENGLISH, self._param(tsquery_text(term, open_only)))
        matched: ColumnElement[bool] = _vector.bool_op("@@")(query)
        if term.has_stop_words:
            # The english query drops them ('the <-> office' is 'offic'; "season before the"
            # is 'season'): the exact phrase must be in the open text as well.
            matched = and_(matched, self._plain(term))
        return matched

    def in_title(self, term: Term) -> ColumnElement[bool]:
        """`term` in the title (the rank's tier: a fallback term as plain words)."""
        if is_fallback(term):
            query = func.phraseto_tsquery(_SIMPLE, self._param(" ".join(term.words)))
            plain_title = func.to_tsvector(_SIMPLE, SearchDocument.title)
            return plain_title.bool_op("@@")(query)
        title_only = " <-> ".join(word + ":A" for word in term.words)
        return _vector.bool_op("@@")(func.to_tsquery(_ENGLISH, self._param(title_only)))

    def titled(self, query: Query) -> ColumnElement[bool]:
        """Every titled group in the title, through the title index (search.py)."""
        return and_(
            *(
                or_(
                    *(
                        _title_words.bool_op("@@")(
                            func.to_tsquery(_ENGLISH, self._param(tsquery_text(t, False)))
                        )
                        for t in group
                    )
                )
                for group in query.titled_groups
            )
        )

    def query(self, query: Query, open_only: bool) -> ColumnElement[bool]:
        wanted = and_(*(or_(*(self.term(t, open_only) for t in group)) for group in query.groups))
        if not query.excluded:
            return wanted
        return and_(wanted, not_(or_(*(self.term(t, True) for t in query.excluded))))


def _rank_text(query: Query, open_only: bool) -> str | None:
    terms = [t for group in query.groups for t in group if not is_fallback(t)]
    if not terms:
        return None
    return " | ".join(f"({tsquery_text(t, open_only)})" for t in terms)


class _Engine:
    def candidates(
        self, session: Session, query: Query, scope: Scope, *, limit: int, ranked: bool
    ) -> Sequence[Candidate]:
        build = _Conditions()
        everywhere = build.query(query, open_only=False)
        outside_spoilers = build.query(query, open_only=True)
        rank: ColumnElement[float] = literal_column("0.0")
        if ranked:
            rank = _rank(build, query, scope)
        matching = (
            select(SearchDocument.post_id, rank.label("rank"))
            .join(Post, Post.id == SearchDocument.post_id)
            .join(Thread, Thread.id == Post.thread_id)
            .where(everywhere, scope.where, or_(scope.spoilers_allowed, outside_spoilers))
        )
        # The planner can't tell a word in 18% of the posts from one in none of them when the
        # vocabulary is small, and walks the whole primary key for the rare one. So the plan
        # is chosen here: the newest WINDOW documents are walked first (a common word fills
        # the page there); only if they hold too few matches are the older ones taken from the
        # GIN index alone (`post_id + 0` keeps the planner off the primary key for that part).
        # One row at least, carrying the floor of the window (None: no documents at all).
        window = select((func.max(SearchDocument.post_id) - WINDOW).label("floor")).subquery()
        newest = (
            matching.where(SearchDocument.post_id > window.c.floor)
            .order_by(SearchDocument.post_id.desc())
            .limit(limit)
            .lateral()
        )
        first: Any = select(window.c.floor, *newest.c, false().label("by_title")).select_from(
            window.outerjoin(newest, true())
        )
        if ranked and query.titled_groups:
            # Title candidates, whatever their age, in the same statement: the title index
            # holds only openers' words, so this costs what the few matching titles cost.
            # The newest TITLE_SCAN titles holding the words that the viewer may find: the
            # index's ids are sorted (`+ 0` keeps the planner off the primary key) and joined
            # in that order until enough pass, so a word in 100,000 titles costs a sort and a
            # few hundred visibility checks, not 100,000 (500 ms at 1M posts). The scope is
            # applied before the limit: hidden titles must not crowd visible ones out (a
            # visitor could count them by what stops being found).
            titled_ids = (
                select(SearchDocument.post_id)
                .join(Post, Post.id == SearchDocument.post_id)
                .join(Thread, Thread.id == Post.thread_id)
                .where(build.titled(query), scope.where)
                .order_by((SearchDocument.post_id + 0).desc())
                .limit(TITLE_SCAN)
            )
            titles = (
                matching.where(SearchDocument.post_id.in_(titled_ids))
                .order_by(SearchDocument.post_id.desc())
                .limit(TITLE_CANDIDATES)
                .subquery()
            )
            first = union_all(
                first,
                select(cast(null(), Integer), titles.c.post_id, titles.c.rank, true()),
            )
        rows = session.execute(first).all()
        floor = next(row[0] for row in rows if not row[3])
        found = [
            Candidate(int(row[1]), float(row[2]), by_title=bool(row[3]))
            for row in rows
            if row[1] is not None
        ]
        titled = [c for c in found if c.by_title]
        found = [c for c in found if not c.by_title]
        wanted = limit - len(found)
        if wanted > 0 and found and floor is not None and floor > 0:
            # Matches thinned by a filter (one board of five): if the window's density says the
            # rest lies within a few more windows, walk on (twice the expected stretch).
            stretch = wanted * WINDOW * 2 // len(found)
            if stretch <= MAX_WALK:
                bottom = max(floor - stretch, 0)
                more = session.execute(
                    matching.where(SearchDocument.post_id <= floor, SearchDocument.post_id > bottom)
                    .order_by(SearchDocument.post_id.desc())
                    .limit(wanted)
                ).all()
                found += [Candidate(int(post_id), float(score)) for post_id, score in more]
                floor = bottom
        if len(found) < limit and floor is not None and floor > 0:
            older = session.execute(
                matching.where(SearchDocument.post_id + 0 <= floor)
                .order_by((SearchDocument.post_id + 0).desc())
                .limit(limit - len(found))
            ).all()
            found += [Candidate(int(post_id), float(score)) for post_id, score in older]
        return found + titled


def _rank(build: _Conditions, query: Query, scope: Scope) -> ColumnElement[float]:
    """A title holding a searched term puts its post in the top tier (search.TITLE_TIER), so
    no number of body repeats outranks it; within a tier, ts_rank (title ten times the body;
    spoiler text only where the viewer may match it)."""
    title_hit = or_(*(build.in_title(t) for group in query.groups for t in group))
    tier = case((title_hit, TITLE_TIER), else_=0.0)
    all_text, open_text = _rank_text(query, False), _rank_text(query, True)
    if not (all_text and open_text):
        return tier
    within = case(
        (
            scope.spoilers_allowed,
            func.ts_rank(
                _WEIGHTS, _vector, func.to_tsquery(_ENGLISH, bindparam("rank_all", all_text))
            ),
        ),
        else_=func.ts_rank(
            _WEIGHTS_NO_SPOILERS,
            _vector,
            func.to_tsquery(_ENGLISH, bindparam("rank_open", open_text)),
        ),
    )
    return tier + within


ENGINE = _Engine()
