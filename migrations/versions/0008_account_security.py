"""account security: username skeletons, board-level suspensions, session devices and lifetimes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Existing members get their username's confusable skeleton (forum/accounts/usernames.py), so a new name
that looks like theirs is refused. Existing sessions count as seen when they were created.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import forum.models
from forum.accounts.usernames import username_skeleton

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "board_suspensions",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("until", forum.models.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", forum.models.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_board_suspensions_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["boards.id"],
            name=op.f("fk_board_suspensions_board_id_boards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_board_suspensions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "board_id", name=op.f("pk_board_suspensions")),
    )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_skeleton", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("board_suspended_until", forum.models.UTCDateTime(), nullable=True)
        )
    users = sa.table(
        "users",
        sa.column("id", sa.Integer()),
        sa.column("username", sa.String()),
        sa.column("username_skeleton", sa.Text()),
    )
    connection = op.get_bind()
    for user_id, username in connection.execute(sa.select(users.c.id, users.c.username)).all():
        connection.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(username_skeleton=username_skeleton(username))
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("username_skeleton", existing_type=sa.Text(), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_users_username_skeleton"), ["username_skeleton"], unique=False
        )

    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", forum.models.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("last_seen_ip", sa.String(length=45), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("user_agent", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("rotated_at", forum.models.UTCDateTime(), nullable=True))
    op.execute("UPDATE auth_sessions SET last_seen_at = created_at")
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.alter_column(
            "last_seen_at", existing_type=forum.models.UTCDateTime(), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_column("rotated_at")
        batch_op.drop_column("user_agent")
        batch_op.drop_column("last_seen_ip")
        batch_op.drop_column("last_seen_at")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_username_skeleton"))
        batch_op.drop_column("board_suspended_until")
        batch_op.drop_column("username_skeleton")

    op.drop_table("board_suspensions")
