"""Typed SQLAlchemy models. Counters on boards, threads and users are denormalised and kept
exact by forum/discussion/posting.py in the same transaction as the write that changes them."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.usernames import username_skeleton
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


def _skeleton_of_username(context: Any) -> str:
    # Rows inserted without a skeleton (bulk inserts of the demo data) still get one.
    return username_skeleton(context.get_current_parameters()["username"])


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(30))
    # NFKC + casefold of the username: the uniqueness key, so look-alikes collide.
    username_key: Mapped[str] = mapped_column(String(60), unique=True)
    # The UTS #39 confusable skeleton (forum/accounts/usernames.py): names that look alike share it,
    # so a look-alike of an existing member is refused with one indexed query. Not unique:
    # databases from before it may already hold two look-alikes.
    username_skeleton: Mapped[str] = mapped_column(Text, index=True, default=_skeleton_of_username)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped with every change this row's public pages show (forum/platform/pagecache.py).
    cache_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Accounts made by an admin on the CLI skip the new-member limits.
    is_trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    # A suspension ends by itself when suspended_until passes; a ban has no end.
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_banned: Mapped[bool] = mapped_column(Boolean, default=False)
    suspension_reason: Mapped[str] = mapped_column(Text, default="")
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The latest end of this member's board suspensions (BoardSuspension); only while it lies
    # ahead does forum/access/viewer.py read them, so other members' pages pay no query for it.
    board_suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Watch progress per show: board id (as text, JSON keys are strings) -> the key of the last
    # episode watched (forum/discussion/episode_codes.py; 0 = nothing yet). On the user row, so
    # the spoiler rules cost no statement on any page: the row is loaded to sign the member in.
    watch_progress: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, server_default="{}")
    # "Show me everything": no episode spoiler is withheld from this member.
    sees_all_spoilers: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Renewal and cancellation news is a spoiler class this member opted into: board statuses
    # and threads marked as news stay hidden until revealed.
    hides_show_news: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Conversation (forum/conversation/): the unread notifications behind the header's bell,
    # kept exact by the writes that add and read them, so no page pays a query for the count.
    unread_notifications: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Email per notification kind: {"mention": "immediate" | "digest" | "never"}; a kind left
    # out has its default (forum/conversation/notification_kinds.py).
    email_choices: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    # Threads the member starts or replies to are watched unless they turn this off.
    auto_watch: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Whether the member has muted members or set a level on a board (BoardState): only then
    # does forum/access/viewer.py read them, so other members' pages pay no query for it.
    has_conversation_settings: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # "Mark all read", site-wide: threads with nothing newer count as read.
    marked_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the last digest mail was built for this member (forum/conversation/notification_mail.py).
    digest_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The token of the AuthSession this request was authenticated by (forum/accounts/auth.py):
    # Flask-Login's user id, which the login and remember-me cookies carry, so deleting the row
    # logs that device out. The only per-request value on User, because Flask-Login asks the
    # user object for it; everything else about the request's viewer is in forum/access/viewer.py.
    session_token: str = ""

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_moderator(self) -> bool:
        return self.role in (Role.MODERATOR, Role.ADMIN)

    def is_suspended(self, now: datetime | None = None) -> bool:
        if self.is_banned:
            return True
        return self.suspended_until is not None and self.suspended_until > (now or utcnow())

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
    # Bumped with every change this row's public pages show (forum/platform/pagecache.py).
    cache_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
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
        # Board listing: visible threads, pinned first, then latest activity; the id breaks
        # ties. It holds every column the listing filters and sorts on, so a page's thread ids
        # come from the index alone, however deep the page (forum/discussion/reading.py).
        Index(
            "ix_threads_board_listing", "board_id", "is_hidden", "is_pinned", "last_post_at", "id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(150))
    slug: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped with every change this row's public pages show (forum/platform/pagecache.py).
    cache_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", use_alter=True, ondelete="SET NULL")
    )
    last_post_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_poster_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    is_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    is_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    # The episode this thread discusses (episode_codes key), or None. Viewers who haven't
    # reached it see the thread with a masked title and a warning instead of its posts.
    episode_key: Mapped[int | None] = mapped_column(Integer)
    # About a renewal or a cancellation: hidden from members who opted out of show news.
    is_news: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

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
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_reason: Mapped[str] = mapped_column(Text, default="")
    revision_count: Mapped[int] = mapped_column(Integer, default=0)
    # The post discusses the show up to this episode (episode_codes key; by default its
    # thread's): collapsed, its text withheld, for viewers who haven't reached it.
    episode_key: Mapped[int | None] = mapped_column(Integer)

    thread: Mapped[Thread] = relationship(foreign_keys=[thread_id], lazy="raise")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id], lazy="raise")

    def __repr__(self) -> str:
        return f"<Post {self.id} #{self.number} in {self.thread_id}>"


class Episode(Base):
    """One episode of a board's show, from the show file or an admin's form; upserted by
    (season, number), never renumbered, so its key (season * 1000 + number) is stable and
    threads and posts can carry the key itself."""

    __tablename__ = "episodes"
    __table_args__ = (
        UniqueConstraint("board_id", "season", "number", name="uq_episodes_board_season_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"))
    season: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    # None: no date known (counted as not yet seen by visitors); a future date: not aired yet.
    aired: Mapped[date | None] = mapped_column(Date)
    # The official discussion thread, opened when the episode airs (forum/discussion/episodes.py).
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    thread: Mapped[Thread | None] = relationship(lazy="raise")

    @property
    def key(self) -> int:
        return self.season * 1000 + self.number

    @property
    def code(self) -> str:
        return f"S{self.season}E{self.number}"

    def __repr__(self) -> str:
        return f"<Episode {self.code} of board {self.board_id}>"


class BoardModerator(Base):
    """A moderator limited to some boards. A moderator with no rows here moderates them all."""

    __tablename__ = "board_moderators"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    board_id: Mapped[int] = mapped_column(
        ForeignKey("boards.id", ondelete="CASCADE"), primary_key=True
    )


class BoardSuspension(Base):
    """A member barred from posting on one board until a moment (a board moderator's tool;
    site-wide suspensions and bans live on the user row). One per member and board: a new one
    replaces the old."""

    __tablename__ = "board_suspensions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    board_id: Mapped[int] = mapped_column(
        ForeignKey("boards.id", ondelete="CASCADE"), primary_key=True
    )
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def is_running(self, now: datetime | None = None) -> bool:
        return self.until > (now or utcnow())


class PostRevision(Base):
    """The text of a post before one of its edits; revision 1 is the original."""

    __tablename__ = "post_revisions"
    __table_args__ = (UniqueConstraint("post_id", "number", name="uq_post_revisions_post_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    # Who wrote this version and when (the post's author, or the moderator who edited it).
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    editor: Mapped[User | None] = relationship(lazy="raise")


class ReportReason(enum.StrEnum):
    SPOILER = "spoiler"
    HARASSMENT = "harassment"
    SPAM = "spam"
    OFF_TOPIC = "off-topic"
    OTHER = "other"


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("post_id", "reporter_id", name="uq_reports_post_reporter"),
        Index("ix_reports_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(20))
    details: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(12), default=ReportStatus.OPEN.value)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str] = mapped_column(Text, default="")

    post: Mapped[Post] = relationship(lazy="raise")
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id], lazy="raise")
    handled_by: Mapped[User | None] = relationship(foreign_keys=[handled_by_id], lazy="raise")


class ModAction(Base):
    """One row of the public moderation log: who did what to exactly one target, and why."""

    __tablename__ = "mod_actions"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN target_board_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN target_thread_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN target_post_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN target_user_id IS NULL THEN 0 ELSE 1 END) <= 1",
            name="one_target",
        ),
        Index("ix_mod_actions_created", "created_at", "id"),
        Index("ix_mod_actions_board", "board_id", "created_at"),
        Index("ix_mod_actions_actor", "actor_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    # The board the action happened in (for filtering); None for site-wide actions.
    board_id: Mapped[int | None] = mapped_column(ForeignKey("boards.id", ondelete="SET NULL"))
    target_board_id: Mapped[int | None] = mapped_column(
        ForeignKey("boards.id", ondelete="SET NULL")
    )
    target_thread_id: Mapped[int | None] = mapped_column(
        ForeignKey("threads.id", ondelete="SET NULL")
    )
    target_post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # What the target was called when the action happened, so the log reads well forever.
    target_label: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="raise")
    board: Mapped[Board | None] = relationship(foreign_keys=[board_id], lazy="raise")


class SiteSetting(Base):
    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class AuthSession(Base):
    """One logged-in device. Cookies carry the token; the table keeps only its SHA-256, so a
    leaked database can't be replayed. Deleting a row ends that session at once."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user", "user_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # When the member signed in with their password; kept when a remember token is rotated,
    # so the absolute lifetime (SESSION_MAX_DAYS) counts from the real sign-in.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    # For the idle timeout and the "your sessions" page; written at most every few minutes.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_ip: Mapped[str] = mapped_column(String(45), default="", server_default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Set when a remember cookie was exchanged for a new token: the old one keeps working for
    # a short grace (requests already in flight with it), then it is refused and deleted.
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CacheState(Base):
    """A single row: the content version. Every transaction that writes bumps it (see
    forum/platform/pagecache.py), so cached pages keyed by it are never served stale. The namespace
    is
    random per database, so databases sharing one Redis never read each other's pages."""

    __tablename__ = "cache_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    namespace: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=0)


class FailedJob(Base):
    """A background job that ran out of retries (forum/platform/jobs.py), kept so admins see it on
    /admin instead of it vanishing from the queue. `arguments` is a summary that leaves out
    secrets and message bodies."""

    __tablename__ = "failed_jobs"
    __table_args__ = (Index("ix_failed_jobs_failed_at", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    arguments: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Passkey(Base):
    """A WebAuthn credential (a passkey) a member registered, for signing in or as a second
    factor. Only the public key is kept; the sign count catches a cloned authenticator."""

    __tablename__ = "passkeys"
    __table_args__ = (Index("ix_passkeys_user", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # base64url of the credential id, as browsers send it back (unique across the site).
    credential_id: Mapped[str] = mapped_column(String(700), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TotpSecret(Base):
    """A member's authenticator-app secret. `enabled_at` is None until a first code proved the
    app has it; `last_step` is the newest 30-second step a code was accepted for, so a code
    seen over a shoulder (or replayed) is refused within its own step."""

    __tablename__ = "totp_secrets"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(String(64))
    last_step: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecoveryCode(Base):
    """One single-use recovery code, stored as its SHA-256 (the codes are random, so a plain
    hash is enough); `used_at` is set when it is spent."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_user", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebAuthnChallenge(Base):
    """A challenge handed to the browser for one ceremony, kept server-side so it is used at
    most once: verifying deletes the row. `session_key` binds it to the browser session that
    asked (a random value in that session's cookie)."""

    __tablename__ = "webauthn_challenges"

    challenge: Mapped[str] = mapped_column(String(100), primary_key=True)
    session_key: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchDocument(Base):
    """What full-text search matches in one post (forum/search/search_documents.py writes it
    from the post's stored HTML): normalised words, the thread's title in the opener's row.
    The engines index it themselves (migrations/versions/0011_full_text_search.py): SQLite's
    FTS5 table `search_fts` through triggers on this table, PostgreSQL's generated tsvector
    column `vector` with its GIN index, deliberately not mapped here (migrations/env.py keeps
    autogenerate away from them). No foreign key to posts: a batch migration that rebuilds
    `posts` on SQLite would cascade-delete every row; `flask search reindex` removes rows
    whose post is gone."""

    __tablename__ = "search_documents"

    post_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(Text, default="", server_default="")
    body: Mapped[str] = mapped_column(Text, default="", server_default="")
    spoilers: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The latest episode (episode_codes key) the post's inline episode spoilers are about; None
    # when it has none (generic spoilers are matched for anyone who may read the post).
    spoiler_key: Mapped[int | None] = mapped_column(Integer)


# ------------------------------------------------------------------------------ conversation


class WatchLevel(enum.StrEnum):
    """How closely a member follows a thread or a board (forum/conversation/subscriptions.py).
    A watched thread notifies every reply; a watched board every new thread. Muted: nothing
    from it notifies, and a muted board's threads leave the member's latest views."""

    WATCHING = "watching"
    NORMAL = "normal"
    MUTED = "muted"


class NotificationKind(enum.StrEnum):
    WATCHED_REPLY = "watched_reply"  # a reply in a thread you watch
    REPLY = "reply"  # a reply to your post (in a thread you started)
    MENTION = "mention"
    QUOTE = "quote"
    NEW_THREAD = "new_thread"  # a new thread on a board you watch
    MODERATED = "moderated"  # a moderator acted on your post or thread
    REPORT_RESOLVED = "report_resolved"


class ThreadState(Base):
    """One member and one thread: how far they have read (the last post number their pages
    showed) and how closely they follow it. Written by reading a page (forum/conversation/
    read_marks.py) and by the watch controls; joined into the thread and board pages'
    statements, so it costs them none of its own."""

    __tablename__ = "thread_states"
    __table_args__ = (Index("ix_thread_states_thread_level", "thread_id", "level"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True
    )
    last_read_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    level: Mapped[str] = mapped_column(
        String(10), default=WatchLevel.NORMAL.value, server_default=WatchLevel.NORMAL.value
    )
    # The member chose the level themselves: auto-watch (on replying) never overrides it.
    level_chosen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class BoardState(Base):
    """A member's level on a board (watching: notify new threads; muted: out of their latest
    views, no notifications) and their "mark all read" on it. Read into the Viewer."""

    __tablename__ = "board_states"
    __table_args__ = (Index("ix_board_states_board_level", "board_id", "level"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    board_id: Mapped[int] = mapped_column(
        ForeignKey("boards.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[str] = mapped_column(
        String(10), default=WatchLevel.NORMAL.value, server_default=WatchLevel.NORMAL.value
    )
    marked_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MemberMute(Base):
    """`user_id` muted `muted_id`: their posts collapse for them and they can't notify them."""

    __tablename__ = "member_mutes"
    __table_args__ = (Index("ix_member_mutes_muted", "muted_id"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    muted_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """Something for one member to look at. At most one UNREAD row per (member, kind, thread)
    (a partial unique index): a new event of the same kind in the same thread adds to `count`
    and moves `latest_post_id` forward rather than adding a row, so a busy thread can't flood
    anyone; `post_id` stays the first unread post (where the link goes). `latest_post_id` only
    grows, which makes writing the same event twice (a retried job) a no-op."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index(
            "uq_notifications_unread",
            "user_id",
            "kind",
            "thread_id",
            unique=True,
            sqlite_where=text("read_at IS NULL"),
            postgresql_where=text("read_at IS NULL"),
        ),
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index("ix_notifications_mail", "emailed_at", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    latest_post_id: Mapped[int | None] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # For MODERATED and REPORT_RESOLVED: what happened, in words ("hid your post").
    detail: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Mailed (immediately or in a digest); None while waiting, or when the member chose never.
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    thread: Mapped[Thread | None] = relationship(lazy="raise")
    post: Mapped[Post | None] = relationship(foreign_keys=[post_id], lazy="raise")
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="raise")


class PostQuote(Base):
    """`post_id` quotes `quoted_post_id` (a blockquote crediting its permalink, as markup finds
    it: Rendered.quoted_post_ids), written with the post's text. The quoting post's stored HTML
    carries a copy of the quoted text, so when the quoted post is hidden, deleted or purged
    (or restored) forum/discussion/quote_copies.py finds the copies here and re-renders them."""

    __tablename__ = "post_quotes"
    __table_args__ = (Index("ix_post_quotes_quoted", "quoted_post_id"),)

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    quoted_post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
