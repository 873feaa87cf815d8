"""Typed SQLAlchemy models. Counters on boards, threads and users are denormalised and kept
exact by forum/posting.py in the same transaction as the write that changes them."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.db import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC on every database and always hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use forum.models.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Role(enum.StrEnum):
    MEMBER = "member"
    MODERATOR = "moderator"
    ADMIN = "admin"


class BoardStatus(enum.StrEnum):
    AIRING = "airing"
    RENEWED = "renewed"
    ON_HIATUS = "on hiatus"
    ENDED = "ended"
    CANCELLED = "cancelled"
    UPCOMING = "upcoming"


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(30))
    # NFKC + casefold of the username: the uniqueness key, so look-alikes collide.
    username_key: Mapped[str] = mapped_column(String(60), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped when the password changes: it is part of the login cookie, so old sessions end.
    session_version: Mapped[int] = mapped_column(Integer, default=1)

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_moderator(self) -> bool:
        return self.role in (Role.MODERATOR, Role.ADMIN)

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Board(Base):
    __tablename__ = "boards"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    network: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[str] = mapped_column(String(20), default="")
    premiered: Mapped[int | None] = mapped_column(Integer)
    facts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    thread_count: Mapped[int] = mapped_column(Integer, default=0)
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    last_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", use_alter=True, ondelete="SET NULL")
    )
    last_post_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    last_post: Mapped[Post | None] = relationship(foreign_keys=[last_post_id], lazy="raise")

    def __repr__(self) -> str:
        return f"<Board {self.slug}>"


class Thread(Base):
    __tablename__ = "threads"
    __table_args__ = (
        # Board listing: pinned first, then latest activity; the id breaks ties for keyset paging.
        Index("ix_threads_board_listing", "board_id", "is_pinned", "last_post_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(150))
    slug: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    last_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", use_alter=True, ondelete="SET NULL")
    )
    last_post_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_poster_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    is_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    is_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False)

    board: Mapped[Board] = relationship(lazy="raise")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id], lazy="raise")
    last_poster: Mapped[User | None] = relationship(foreign_keys=[last_poster_id], lazy="raise")

    @property
    def reply_count(self) -> int:
        return max(self.post_count - 1, 0)

    def __repr__(self) -> str:
        return f"<Thread {self.id} {self.title!r}>"


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        # `number` is the post's 1-based position in its thread: page N of a thread is a range
        # on this unique index, so the last page of a huge thread costs what the first does.
        UniqueConstraint("thread_id", "number", name="uq_posts_thread_number"),
        Index("ix_posts_author_created", "author_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    number: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    render_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)

    thread: Mapped[Thread] = relationship(foreign_keys=[thread_id], lazy="raise")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id], lazy="raise")

    def __repr__(self) -> str:
        return f"<Post {self.id} #{self.number} in {self.thread_id}>"
