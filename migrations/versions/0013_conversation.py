"""conversation: notifications, watching, muting, read marks

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

The tables behind quotes and mentions, notifications, watching and muting and unread
tracking (forum/conversation/), and the member's settings for them on the user row. Posts
written before it get their post_quotes rows from `flask posts rerender` (render version 6
comes with this release, so every older post is re-rendered).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import forum.models

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "board_states",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=10), server_default="normal", nullable=False),
        sa.Column("marked_read_at", forum.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["boards.id"],
            name=op.f("fk_board_states_board_id_boards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_board_states_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "board_id", name=op.f("pk_board_states")),
    )
    with op.batch_alter_table("board_states", schema=None) as batch_op:
        batch_op.create_index("ix_board_states_board_level", ["board_id", "level"], unique=False)

    op.create_table(
        "member_mutes",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("muted_id", sa.Integer(), nullable=False),
        sa.Column("created_at", forum.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["muted_id"],
            ["users.id"],
            name=op.f("fk_member_mutes_muted_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_member_mutes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "muted_id", name=op.f("pk_member_mutes")),
    )
    with op.batch_alter_table("member_mutes", schema=None) as batch_op:
        batch_op.create_index("ix_member_mutes_muted", ["muted_id"], unique=False)

    op.create_table(
        "thread_states",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("last_read_number", sa.Integer(), server_default="0", nullable=False),
        sa.Column("level", sa.String(length=10), server_default="normal", nullable=False),
        sa.Column("level_chosen", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threads.id"],
            name=op.f("fk_thread_states_thread_id_threads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_thread_states_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "thread_id", name=op.f("pk_thread_states")),
    )
    with op.batch_alter_table("thread_states", schema=None) as batch_op:
        batch_op.create_index("ix_thread_states_thread_level", ["thread_id", "level"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("latest_post_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("count", sa.Integer(), server_default="1", nullable=False),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", forum.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", forum.models.UTCDateTime(), nullable=False),
        sa.Column("read_at", forum.models.UTCDateTime(), nullable=True),
        sa.Column("emailed_at", forum.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_notifications_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_notifications_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threads.id"],
            name=op.f("fk_notifications_thread_id_threads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_mail", ["emailed_at", "read_at"], unique=False)
        batch_op.create_index(
            "ix_notifications_user_created", ["user_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "uq_notifications_unread",
            ["user_id", "kind", "thread_id"],
            unique=True,
            sqlite_where=sa.text("read_at IS NULL"),
            postgresql_where=sa.text("read_at IS NULL"),
        )

    op.create_table(
        "post_quotes",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("quoted_post_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_quotes_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quoted_post_id"],
            ["posts.id"],
            name=op.f("fk_post_quotes_quoted_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", "quoted_post_id", name=op.f("pk_post_quotes")),
    )
    with op.batch_alter_table("post_quotes", schema=None) as batch_op:
        batch_op.create_index("ix_post_quotes_quoted", ["quoted_post_id"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unread_notifications", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("email_choices", sa.JSON(), server_default="{}", nullable=False)
        )
        batch_op.add_column(
            sa.Column("auto_watch", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "has_conversation_settings", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.add_column(sa.Column("marked_read_at", forum.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("digest_sent_at", forum.models.UTCDateTime(), nullable=True))

    # Members who were here before unread tracking have read what there was: without a floor,
    # every thread would be bold for everyone the day this deploys.
    op.execute(
        sa.text("UPDATE users SET marked_read_at = :now").bindparams(
            sa.bindparam("now", datetime.now(UTC), type_=forum.models.UTCDateTime())
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("digest_sent_at")
        batch_op.drop_column("marked_read_at")
        batch_op.drop_column("has_conversation_settings")
        batch_op.drop_column("auto_watch")
        batch_op.drop_column("email_choices")
        batch_op.drop_column("unread_notifications")

    with op.batch_alter_table("post_quotes", schema=None) as batch_op:
        batch_op.drop_index("ix_post_quotes_quoted")

    op.drop_table("post_quotes")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_notifications_unread",
            sqlite_where=sa.text("read_at IS NULL"),
            postgresql_where=sa.text("read_at IS NULL"),
        )
        batch_op.drop_index("ix_notifications_user_created")
        batch_op.drop_index("ix_notifications_mail")

    op.drop_table("notifications")
    with op.batch_alter_table("thread_states", schema=None) as batch_op:
        batch_op.drop_index("ix_thread_states_thread_level")

    op.drop_table("thread_states")
    with op.batch_alter_table("member_mutes", schema=None) as batch_op:
        batch_op.drop_index("ix_member_mutes_muted")

    op.drop_table("member_mutes")
    with op.batch_alter_table("board_states", schema=None) as batch_op:
        batch_op.drop_index("ix_board_states_board_level")

    op.drop_table("board_states")
