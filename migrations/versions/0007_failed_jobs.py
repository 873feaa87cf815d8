"""failed background jobs, kept for admins (forum/platform/jobs.py records a job that ran out of retries)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "failed_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=100), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False, server_default=""),
        sa.Column("error", sa.Text(), nullable=False, server_default=""),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("failed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_jobs")),
    )
    op.create_index("ix_failed_jobs_failed_at", "failed_jobs", ["failed_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_failed_jobs_failed_at", table_name="failed_jobs")
    op.drop_table("failed_jobs")
