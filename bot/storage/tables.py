"""SQLAlchemy Core tables; the Alembic migrations create exactly these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, so SQLite and PostgreSQL behave the same."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


# BigInteger ids with SQLite's INTEGER affinity so autoincrement works on both.
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

feeds = Table(
    "feeds",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("url", Text, nullable=False, unique=True),
    Column("title", Text, nullable=False, default=""),
    Column("is_default", Boolean, nullable=False, default=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("next_poll_at", UTCDateTime, nullable=False, index=True),
    Column("error_count", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("last_ok_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    # A poll lease: the worker polling this feed now, renewed while it works (see FeedStore).
    Column("claimed_by", String(64)),
    Column("claimed_until", UTCDateTime),
    # Paced polling: the feed's publishing-rate state as JSON (bot/core/pace_state.py).
    Column("pace", Text),
)

chats = Table(
    "chats",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("platform_id", String(128), nullable=False),
    Column("thread_id", String(128)),
    Column("active", Boolean, nullable=False, default=True),
    Column("settings", JSON, nullable=False),
    Column("created_by", String(128), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_digest_at", UTCDateTime),
    Column("deactivated_reason", Text),
    UniqueConstraint("platform", "platform_id", name="uq_chats_platform_id"),
)

chat_feeds = Table(
    "chat_feeds",
    metadata,
    Column("chat_id", Id, ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    Column("feed_id", Id, ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True),
)

rules = Table(
    "rules",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("chat_id", Id, ForeignKey("chats.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("query", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("chat_id", "number", name="uq_rules_chat_number"),
)

stories = Table(
    "stories",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("headline", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("sources", JSON, nullable=False),
    Column("developments", Integer, nullable=False, default=0),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False, index=True),
)

articles = Table(
    "articles",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("feed_id", Id, ForeignKey("feeds.id", ondelete="SET NULL")),
    Column("url", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("published", UTCDateTime, nullable=False, index=True),
    Column("story_id", String(80), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),
)
Index("ix_articles_url", articles.c.url)

story_matches = Table(
    "story_matches",
    metadata,
    Column("chat_id", Id, ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    Column("story_id", String(80), primary_key=True),
    Column("rule_label", Text, nullable=False),
    Column("matched_at", UTCDateTime, nullable=False, index=True),
)

mutes = Table(
    "mutes",
    metadata,
    Column("chat_id", Id, ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    Column("story_id", String(80), primary_key=True),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("chat_id", Id, ForeignKey("chats.id", ondelete="CASCADE"), nullable=False),
    Column("story_id", String(80), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("dedup_key", String(120), nullable=False, default=""),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_until", UTCDateTime),
    Column("sent_ref", String(128)),
    # The alert went out folded into one "while you were away" notice (sent_ref is the notice).
    Column("folded", Boolean, nullable=False, default=False),
    # Held by quiet hours or /pause: several such alerts are folded into one message.
    Column("deferred", Boolean, nullable=False, default=False),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    UniqueConstraint("chat_id", "story_id", "kind", "dedup_key", name="uq_outbox_message"),
)
Index("ix_outbox_chat_status", outbox.c.chat_id, outbox.c.status, outbox.c.id)

# --- the cluster's story stage (migration 0006): idle in the embedded `all` mode ------------

# Parsed articles a fetch worker found new, waiting for the one story stage to assign them.
inbox = Table(
    "inbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("article_id", String(80), nullable=False, unique=True),
    Column("feed_id", Id, ForeignKey("feeds.id", ondelete="SET NULL")),
    Column("url", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
)
Index("ix_inbox_url", inbox.c.url)

# One row each. story_head counts the story stage's commits: a stage writes only if the head
# is still the one its index was built on (a paused, superseded stage can never write twice).
story_head = Table(
    "story_head", metadata, Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)  # fmt: skip
# Bumped with every change to the rule set, so a process caching the automaton sees it moved.
rules_version = Table(
    "rules_version", metadata, Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)  # fmt: skip

# --- WebSub (migration 0007): a feed's subscription at its hub; idle without a public URL --
websub_subscriptions = Table(
    "websub_subscriptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("feed_id", Id, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("hub", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("token", String(64), nullable=False, unique=True),  # the callback URL's last part
    Column("secret", String(128), nullable=False),
    Column("state", String(16), nullable=False),
    Column("asked", String(16)),
    Column("next_attempt_at", UTCDateTime, nullable=False, index=True),
    Column("lease_expires_at", UTCDateTime),
    Column("error_count", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("algorithm", String(16)),
    Column("created_at", UTCDateTime, nullable=False),
)
