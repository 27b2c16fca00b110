"""WebSub: each feed's subscription at its hub (callback token, secret, lease, state)."""

import sqlalchemy as sa
from alembic import op

from bot.storage.tables import UTCDateTime

revision = "0007_websub"
down_revision = "0006_cluster"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "websub_subscriptions",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "feed_id", _ID, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False,
            unique=True,
        ),  # fmt: skip
        sa.Column("hub", sa.Text, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("asked", sa.String(16)),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("lease_expires_at", UTCDateTime),
        sa.Column("error_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("algorithm", sa.String(16)),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index(
        "ix_websub_subscriptions_next_attempt_at", "websub_subscriptions", ["next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_table("websub_subscriptions")
