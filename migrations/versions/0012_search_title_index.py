"""search: an index of titles alone, for title candidates

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Search ranks the newest matches and, besides them, a few posts whose title holds the words,
whatever their age (forum/search/search.py). Those come from an index of titles alone:
only openers have a title, so it is small, and a common word's few titles are found without
reading its every body posting.

- SQLite: a second external-content FTS5 table, `search_fts_titles`, over search_documents'
  title, kept by its own triggers (rows with a title only), filled here from the documents.
- PostgreSQL: a GIN expression index on to_tsvector('english', title); the vector's own GIN
  index holds no weights, so `word:A` would recheck every body match.

Documents written before possessives were folded ("ingrid's" is now "ingrid") are brought in
line by `flask search reindex`, which this revision doesn't run (minutes at 1M posts; until
then a stale document still matches the word, only a phrase across the possessive misses it).
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# As forum/search/search_sqlite.py and search_postgres.py have them (the running code's
# statements must stay what this revision made). IF NOT EXISTS: migrations/env.py may already
# have restored the triggers.
SQLITE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts_titles USING fts5("
    "title, content='search_documents', content_rowid='post_id', columnsize=0, "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS search_titles_ai AFTER INSERT ON search_documents "
    "WHEN new.title <> '' BEGIN "
    "INSERT INTO search_fts_titles(rowid, title) VALUES (new.post_id, new.title); END",
    "CREATE TRIGGER IF NOT EXISTS search_titles_ad AFTER DELETE ON search_documents "
    "WHEN old.title <> '' BEGIN "
    "INSERT INTO search_fts_titles(search_fts_titles, rowid, title) "
    "VALUES ('delete', old.post_id, old.title); END",
    "CREATE TRIGGER IF NOT EXISTS search_titles_au AFTER UPDATE OF title, post_id "
    "ON search_documents WHEN old.title IS NOT new.title OR old.post_id IS NOT new.post_id "
    "BEGIN "
    "INSERT INTO search_fts_titles(search_fts_titles, rowid, title) "
    "SELECT 'delete', old.post_id, old.title WHERE old.title <> ''; "
    "INSERT INTO search_fts_titles(rowid, title) "
    "SELECT new.post_id, new.title WHERE new.title <> ''; END",
    # Filled from the documents (only those with a title; not 'rebuild', which takes all).
    "INSERT INTO search_fts_titles(search_fts_titles) VALUES ('delete-all')",
    "INSERT INTO search_fts_titles(rowid, title) "
    "SELECT post_id, title FROM search_documents WHERE title <> ''",
]
POSTGRES = (
    "CREATE INDEX ix_search_documents_title ON search_documents "
    "USING gin (to_tsvector('english'::regconfig, title))"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES)
        return
    for statement in SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_search_documents_title")
        return
    for name in ("search_titles_ai", "search_titles_ad", "search_titles_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS search_fts_titles")
