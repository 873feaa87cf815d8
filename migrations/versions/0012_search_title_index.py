"""search: PostgreSQL's title index (title candidates rank old threads by their title)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Search ranks the newest matches and, besides them, the few posts whose title holds the words
(forum/discussion/search.py). On PostgreSQL those come from a GIN expression index over the
title alone (only openers have one, so it is small); the tsvector's own GIN index holds no
weights and would recheck every body match for `word:A`. SQLite's FTS5 needs nothing new.
Documents written before possessives were folded ("ingrid's" is now "ingrid") are brought in
line by `flask search reindex`, which this revision doesn't run (at 1M posts it takes minutes;
a stale document still matches "ingrid", only the phrase "ingrid's friend" misses it).
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# As forum/discussion/search_postgres.py CREATE_TITLE_INDEX has it (the query must match it).
POSTGRES_INDEX = (
    "CREATE INDEX ix_search_documents_title ON search_documents "
    "USING gin (to_tsvector('english'::regconfig, title))"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_INDEX)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_search_documents_title")
