"""Paced polling: each feed's publishing-rate state (JSON text, see bot/core/pace_state.py)."""

import sqlalchemy as sa
from alembic import op

revision = "0008_pacing"
down_revision = "0007_websub"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feeds", sa.Column("pace", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("pace")
