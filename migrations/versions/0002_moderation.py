"""moderation, reports, revisions, settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

New NOT NULL columns get server defaults so existing rows migrate; accounts that existed before
email verification count as verified.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import forum.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_settings",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_site_settings")),
    )
    op.create_table(
        "board_moderators",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["boards.id"],
            name=op.f("fk_board_moderators_board_id_boards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_board_moderators_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "board_id", name=op.f("pk_board_moderators")),
    )
    op.create_table(
        "mod_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", forum.models.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=True),
        sa.Column("target_board_id", sa.Integer(), nullable=True),
        sa.Column("target_thread_id", sa.Integer(), nullable=True),
        sa.Column("target_post_id", sa.Integer(), nullable=True),
        sa.Column("target_user_id", sa.Integer(), nullable=True),
        sa.Column("target_label", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "(CASE WHEN target_board_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN target_thread_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN target_post_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN target_user_id IS NULL THEN 0 ELSE 1 END) <= 1",
            name=op.f("ck_mod_actions_one_target"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_mod_actions_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["boards.id"],
            name=op.f("fk_mod_actions_board_id_boards"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_board_id"],
            ["boards.id"],
            name=op.f("fk_mod_actions_target_board_id_boards"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_post_id"],
            ["posts.id"],
            name=op.f("fk_mod_actions_target_post_id_posts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_thread_id"],
            ["threads.id"],
            name=op.f("fk_mod_actions_target_thread_id_threads"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_user_id"],
            ["users.id"],
            name=op.f("fk_mod_actions_target_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mod_actions")),
    )
    with op.batch_alter_table("mod_actions", schema=None) as batch_op:
        batch_op.create_index("ix_mod_actions_actor", ["actor_id", "created_at"], unique=False)
        batch_op.create_index("ix_mod_actions_board", ["board_id", "created_at"], unique=False)
        batch_op.create_index("ix_mod_actions_created", ["created_at", "id"], unique=False)

    op.create_table(
        "post_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", forum.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["editor_id"],
            ["users.id"],
            name=op.f("fk_post_revisions_editor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_revisions_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_revisions")),
        sa.UniqueConstraint("post_id", "number", name="uq_post_revisions_post_number"),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("created_at", forum.models.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("handled_at", forum.models.UTCDateTime(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["handled_by_id"],
            ["users.id"],
            name=op.f("fk_reports_handled_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_reports_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
            name=op.f("fk_reports_reporter_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("post_id", "reporter_id", name="uq_reports_post_reporter"),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index("ix_reports_status_created", ["status", "created_at"], unique=False)

    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_hidden", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("hidden_reason", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("revision_count", sa.Integer(), nullable=False, server_default="0")
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suspended_until", forum.models.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("is_banned", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("suspension_reason", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("email_verified_at", forum.models.UTCDateTime(), nullable=True)
        )
    op.execute("UPDATE users SET email_verified_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_verified_at")
        batch_op.drop_column("suspension_reason")
        batch_op.drop_column("is_banned")
        batch_op.drop_column("suspended_until")

    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("revision_count")
        batch_op.drop_column("hidden_reason")
        batch_op.drop_column("is_hidden")

    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_status_created")

    op.drop_table("reports")
    op.drop_table("post_revisions")
    with op.batch_alter_table("mod_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_mod_actions_created")
        batch_op.drop_index("ix_mod_actions_board")
        batch_op.drop_index("ix_mod_actions_actor")

    op.drop_table("mod_actions")
    op.drop_table("board_moderators")
    op.drop_table("site_settings")
