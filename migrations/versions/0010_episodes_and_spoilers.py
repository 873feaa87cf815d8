"""episodes and spoilers: episodes, threads' and posts' episode, members' watch progress

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import forum.models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "episodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("aired", sa.Date(), nullable=True),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("created_at", forum.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["boards.id"],
            name=op.f("fk_episodes_board_id_boards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threads.id"],
            name=op.f("fk_episodes_thread_id_threads"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_episodes")),
        sa.UniqueConstraint("board_id", "season", "number", name="uq_episodes_board_season_number"),
    )
    with op.batch_alter_table("threads") as batch_op:
        batch_op.add_column(sa.Column("episode_key", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("is_news", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("posts") as batch_op:
        batch_op.add_column(sa.Column("episode_key", sa.Integer(), nullable=True))
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("watch_progress", sa.JSON(), server_default="{}", nullable=False)
        )
        batch_op.add_column(
            sa.Column("sees_all_spoilers", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("hides_show_news", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("hides_show_news")
        batch_op.drop_column("sees_all_spoilers")
        batch_op.drop_column("watch_progress")
    with op.batch_alter_table("posts") as batch_op:
        batch_op.drop_column("episode_key")
    with op.batch_alter_table("threads") as batch_op:
        batch_op.drop_column("is_news")
        batch_op.drop_column("episode_key")
    op.drop_table("episodes")
