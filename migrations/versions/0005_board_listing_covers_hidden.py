"""board listing index covers is_hidden, so a deep board page skips index entries, not rows

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_COLUMNS = ["board_id", "is_pinned", "last_post_at", "id"]
NEW_COLUMNS = ["board_id", "is_hidden", "is_pinned", "last_post_at", "id"]


def upgrade() -> None:
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.drop_index("ix_threads_board_listing")
        batch_op.create_index("ix_threads_board_listing", NEW_COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.drop_index("ix_threads_board_listing")
        batch_op.create_index("ix_threads_board_listing", OLD_COLUMNS, unique=False)
