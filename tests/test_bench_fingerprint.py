"""When a cached benchmark dataset is stale for search: bench/dataset.py digests the code of the
migrations that make the search objects and of the bulk data, not their comments, docstrings or
imports, so a module move does not cost a 1M-post rebuild and a changed statement does."""

from __future__ import annotations

from pathlib import Path

from bench.dataset import _code_digest, search_fingerprint, search_stale

MIGRATION = '''"""search: an index

Revision ID: 0099
"""

from alembic import op  # the tool

from forum.discussion import search_documents

TABLE = "CREATE VIRTUAL TABLE t USING fts5(title, tokenize='porter')"


def upgrade() -> None:
    """Make it."""
    op.execute(TABLE)  # the table
    search_documents.reindex()
'''


def digest(tmp_path: Path, text: str) -> str:
    path = tmp_path / "migration.py"
    path.write_text(text)
    return _code_digest(path)


def test_comments_docstrings_and_imports_do_not_count(tmp_path: Path) -> None:
    before = digest(tmp_path, MIGRATION)
    moved = (
        MIGRATION.replace("from forum.discussion import", "from forum.search import")
        .replace("# the table", "# the FTS5 table, as search_sqlite.py makes it")
        .replace('"""Make it."""', '"""Make the table."""')
        .replace("search: an index", "search: an index of titles")
    )
    assert digest(tmp_path, moved) == before


def test_a_changed_statement_counts(tmp_path: Path) -> None:
    before = digest(tmp_path, MIGRATION)
    assert digest(tmp_path, MIGRATION.replace("porter", "unicode61")) != before
    assert digest(tmp_path, MIGRATION.replace("    op.execute(TABLE)  # the table\n", "")) != before


def test_the_fingerprint_covers_the_search_migrations_and_the_bulk_data() -> None:
    now = search_fingerprint()
    assert "migrations/versions/0011_full_text_search.py" in now
    assert "migrations/versions/0001_initial_schema.py" not in now
    assert {"forum/platform/demo.py", "forum/platform/demo_content.py"} <= set(now)
    assert not search_stale(now)
    assert search_stale({**now, "forum/platform/demo.py": "0" * 16})
