"""The cluster's story stage: the inbox fetch workers fill, story_head and rules_version."""

import sqlalchemy as sa
from alembic import op

from bot.storage.tables import UTCDateTime

revision = "0006_cluster"
down_revision = "0005_everyday"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("article_id", sa.String(80), nullable=False, unique=True),
        sa.Column("feed_id", _ID, sa.ForeignKey("feeds.id", ondelete="SET NULL")),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("published", UTCDateTime, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_inbox_url", "inbox", ["url"])
    for name in ("story_head", "rules_version"):
        table = op.create_table(
            name,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("version", sa.BigInteger, nullable=False),
        )
        op.bulk_insert(table, [{"id": 1, "version": 0}])


def downgrade() -> None:
    for name in ("rules_version", "story_head", "inbox"):
        op.drop_table(name)
