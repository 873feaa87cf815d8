"""per-row content versions for the page cache: threads, boards and users

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = ("threads", "boards", "users")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table, sa.Column("cache_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("cache_version")
