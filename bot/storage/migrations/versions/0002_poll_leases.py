"""Poll leases: who claimed a feed for polling, and until when (renewed while it works)."""

import sqlalchemy as sa
from alembic import op

from bot.storage.tables import UTCDateTime

revision = "0002_poll_leases"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feeds", sa.Column("claimed_by", sa.String(64)))
    op.add_column("feeds", sa.Column("claimed_until", UTCDateTime))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("claimed_until")
        batch.drop_column("claimed_by")
