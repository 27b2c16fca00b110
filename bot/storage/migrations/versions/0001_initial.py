"""Initial schema: feeds, chats, rules, stories, articles, matches, mutes, outbox."""

import sqlalchemy as sa
from alembic import op

from bot.storage.tables import Id, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


def _chat_fk(primary: bool = False) -> sa.Column:  # type: ignore[type-arg]
    fk = sa.ForeignKey("chats.id", ondelete="CASCADE")
    return sa.Column("chat_id", Id, fk, primary_key=primary, nullable=False)


def upgrade() -> None:
    op.create_table(
        "feeds", _id(),
        sa.Column("url", sa.Text, nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.Column("etag", sa.Text), sa.Column("last_modified", sa.Text),
        sa.Column("next_poll_at", UTCDateTime, nullable=False, index=True),
        sa.Column("error_count", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text), sa.Column("last_ok_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "chats", _id(),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("platform_id", sa.String(128), nullable=False),
        sa.Column("thread_id", sa.String(128)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_digest_at", UTCDateTime),
        sa.Column("deactivated_reason", sa.Text),
        sa.UniqueConstraint("platform", "platform_id", name="uq_chats_platform_id"),
    )
    op.create_table(
        "chat_feeds", _chat_fk(primary=True),
        sa.Column("feed_id", Id, sa.ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_table(
        "rules", _id(), _chat_fk(),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("chat_id", "number", name="uq_rules_chat_number"),
    )
    op.create_table(
        "stories",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("headline", sa.Text, nullable=False), sa.Column("url", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False), sa.Column("sources", sa.JSON, nullable=False),
        sa.Column("developments", sa.Integer, nullable=False),
        sa.Column("first_seen", UTCDateTime, nullable=False),
        sa.Column("last_seen", UTCDateTime, nullable=False, index=True),
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("feed_id", Id, sa.ForeignKey("feeds.id", ondelete="SET NULL")),
        sa.Column("url", sa.Text, nullable=False, index=True),
        sa.Column("title", sa.Text, nullable=False), sa.Column("text", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("published", UTCDateTime, nullable=False, index=True),
        sa.Column("story_id", sa.String(80), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("fetched_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "story_matches", _chat_fk(primary=True),
        sa.Column("story_id", sa.String(80), primary_key=True),
        sa.Column("rule_label", sa.Text, nullable=False),
        sa.Column("matched_at", UTCDateTime, nullable=False, index=True),
    )
    op.create_table(
        "mutes", _chat_fk(primary=True), sa.Column("story_id", sa.String(80), primary_key=True)
    )
    op.create_table(
        "outbox", _id(), _chat_fk(),
        sa.Column("story_id", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("dedup_key", sa.String(120), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("claimed_until", UTCDateTime), sa.Column("sent_ref", sa.String(128)),
        sa.Column("deferred", sa.Boolean, nullable=False),
        sa.Column("last_error", sa.Text), sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.UniqueConstraint("chat_id", "story_id", "kind", "dedup_key", name="uq_outbox_message"),
    )
    op.create_index("ix_outbox_chat_status", "outbox", ["chat_id", "status", "id"])


def downgrade() -> None:
    for table in ("outbox", "mutes", "story_matches", "articles", "stories", "rules",
                  "chat_feeds", "chats", "feeds"):
        op.drop_table(table)
