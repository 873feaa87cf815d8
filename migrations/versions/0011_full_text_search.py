"""full-text search: search_documents, SQLite's FTS5 table and triggers, PostgreSQL's tsvector

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The engines' objects as this revision creates them (forum/search/search_sqlite.py and
# search_postgres.py hold the same statements for the running code).
SQLITE_TABLE = (
    "CREATE VIRTUAL TABLE search_fts USING fts5("
    "title, body, spoilers, content='search_documents', content_rowid='post_id', columnsize=0, "
    "tokenize='porter unicode61 remove_diacritics 2')"
)
SQLITE_TRIGGERS = [
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, title, body, spoilers) "
    "VALUES (new.post_id, new.title, new.body, new.spoilers); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body, spoilers) "
    "VALUES ('delete', old.post_id, old.title, old.body, old.spoilers); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body, spoilers) "
    "VALUES ('delete', old.post_id, old.title, old.body, old.spoilers); "
    "INSERT INTO search_fts(rowid, title, body, spoilers) "
    "VALUES (new.post_id, new.title, new.body, new.spoilers); END",
]
POSTGRES = [
    "ALTER TABLE search_documents ADD COLUMN vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english'::regconfig, title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, body), 'D') || "
    "setweight(to_tsvector('english'::regconfig, spoilers), 'B')) STORED",
    "CREATE INDEX ix_search_documents_vector ON search_documents USING gin (vector)",
    # The plain-word fallback (stop words): an expression index, no stored column.
    "CREATE INDEX ix_search_documents_plain ON search_documents "
    "USING gin (to_tsvector('simple'::regconfig, title || ' ' || body))",
]


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("post_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.Text(), server_default="", nullable=False),
        sa.Column("body", sa.Text(), server_default="", nullable=False),
        sa.Column("spoilers", sa.Text(), server_default="", nullable=False),
        sa.Column("spoiler_key", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_search_documents")),
    )
    statements = (
        [SQLITE_TABLE, *SQLITE_TRIGGERS] if op.get_bind().dialect.name == "sqlite" else POSTGRES
    )
    for statement in statements:
        op.execute(statement)
    # Existing posts become findable now (the triggers or the generated column index them).
    from forum.search import search_documents

    session = Session(bind=op.get_bind())
    try:
        search_documents.reindex(session, batch=5000)
    finally:
        session.close()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("search_documents_ai", "search_documents_ad", "search_documents_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_table("search_documents")
