"""Outbox: a `folded` column instead of the "folded:" prefix inside `sent_ref`."""

import sqlalchemy as sa
from alembic import op

revision = "0003_outbox_columns"
down_revision = "0002_poll_leases"  # re-chained after main gained 0002
branch_labels = None
depends_on = None

PREFIX = "folded:"


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("folded", sa.Boolean, nullable=False, server_default=sa.false())
        )
    outbox = sa.table("outbox", sa.column("sent_ref", sa.String), sa.column("folded", sa.Boolean))
    op.execute(
        outbox.update()
        .where(outbox.c.sent_ref.like(f"{PREFIX}%"))
        .values(folded=True, sent_ref=sa.func.substr(outbox.c.sent_ref, len(PREFIX) + 1))
    )


def downgrade() -> None:
    outbox = sa.table("outbox", sa.column("sent_ref", sa.String), sa.column("folded", sa.Boolean))
    op.execute(
        outbox.update()
        .where(outbox.c.folded.is_(True))
        .values(sent_ref=sa.literal(PREFIX) + outbox.c.sent_ref)
    )
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("folded")
