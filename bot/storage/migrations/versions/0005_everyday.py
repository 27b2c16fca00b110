"""Slack for many workspaces: slack-sdk's installation, bot and OAuth-state tables (the schema
its SQLAlchemy stores read and write), and which workspace each Slack channel belongs to."""

import sqlalchemy as sa
from alembic import op

from bot.storage.tables import UTCDateTime

revision = "0005_everyday"
down_revision = "0003_outbox_columns"
branch_labels = None
depends_on = None

# The columns of slack_sdk.oauth.installation_store.sqlalchemy (3.x), written out here so
# this migration stays what it was when a later slack-sdk changes its definitions.
_BOT_COLUMNS = (
    ("enterprise_id", 32), ("enterprise_name", 200), ("team_id", 32), ("team_name", 200),
    ("bot_token", 200), ("bot_id", 32), ("bot_user_id", 32), ("bot_scopes", 1000),
    ("bot_refresh_token", 200),
)  # fmt: skip
_INSTALLATION_COLUMNS = (
    ("enterprise_id", 32), ("enterprise_name", 200), ("enterprise_url", 200), ("team_id", 32),
    ("team_name", 200), ("bot_token", 200), ("bot_id", 32), ("bot_user_id", 32),
    ("bot_scopes", 1000), ("bot_refresh_token", 200),
)  # fmt: skip
_USER_COLUMNS = (
    ("user_token", 200), ("user_scopes", 1000), ("user_refresh_token", 200),
)  # fmt: skip
_WEBHOOK_COLUMNS = (
    ("incoming_webhook_url", 200), ("incoming_webhook_channel", 200),
    ("incoming_webhook_channel_id", 200), ("incoming_webhook_configuration_url", 200),
)  # fmt: skip


def _strings(pairs: tuple[tuple[str, int], ...]) -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(name, sa.String(size)) for name, size in pairs]


def _head() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
    ]


def _installed_at() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("installed_at", sa.DateTime, nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "slack_installations",
        *_head(),
        *_strings(_INSTALLATION_COLUMNS),
        sa.Column("bot_token_expires_at", sa.DateTime),
        sa.Column("user_id", sa.String(32), nullable=False),
        *_strings(_USER_COLUMNS),
        sa.Column("user_token_expires_at", sa.DateTime),
        *_strings(_WEBHOOK_COLUMNS),
        sa.Column("is_enterprise_install", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("token_type", sa.String(32)),
        _installed_at(),
    )
    op.create_index(
        "slack_installations_idx", "slack_installations",
        ["client_id", "enterprise_id", "team_id", "user_id", "installed_at"],
    )  # fmt: skip
    op.create_table(
        "slack_bots",
        *_head(),
        *_strings(_BOT_COLUMNS),
        sa.Column("bot_token_expires_at", sa.DateTime),
        sa.Column("is_enterprise_install", sa.Boolean, nullable=False, server_default=sa.false()),
        _installed_at(),
    )
    op.create_index(
        "slack_bots_idx", "slack_bots", ["client_id", "enterprise_id", "team_id", "installed_at"]
    )
    op.create_table(
        "slack_oauth_states",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("state", sa.String(200), nullable=False),
        sa.Column("expire_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "slack_channels",
        sa.Column("channel_id", sa.String(128), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False, index=True),
        sa.Column("enterprise_id", sa.String(32)),
        sa.Column("seen_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("slack_channels", "slack_oauth_states", "slack_bots", "slack_installations"):
        op.drop_table(table)
