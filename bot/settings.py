"""Validated settings: secrets from the environment, the rest from config/storywatch.toml."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG = Path("config/storywatch.toml")


class FeedConfig(BaseModel):
    """A default feed every chat watches."""

    url: str
    name: str = ""


def _config_path() -> Path | None:
    explicit = os.environ.get("STORYWATCH_CONFIG")
    if explicit:
        return Path(explicit)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def _secret(name: str) -> Any:
    return Field(default=None, validation_alias=AliasChoices(name), repr=False)


class Settings(BaseSettings):
    """Everything the composition root needs; nothing reads the environment elsewhere."""

    model_config = SettingsConfigDict(
        env_prefix="STORYWATCH_", extra="forbid", populate_by_name=True
    )

    telegram_bot_token: SecretStr | None = _secret("TELEGRAM_BOT_TOKEN")
    slack_bot_token: SecretStr | None = _secret("SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = _secret("SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = _secret("SLACK_SIGNING_SECRET")
    # Slack for many workspaces (the OAuth install flow, HTTP mode): both set to turn it on.
    slack_client_id: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_CLIENT_ID", "slack_client_id")
    )
    slack_client_secret: SecretStr | None = _secret("SLACK_CLIENT_SECRET")
    telegram_webhook_secret: SecretStr | None = _secret("TELEGRAM_WEBHOOK_SECRET")
    database_url: str = Field(
        default="sqlite+aiosqlite:///data/storywatch.db",
        validation_alias=AliasChoices("DATABASE_URL", "STORYWATCH_DATABASE_URL", "database_url"),
    )
    telegram_api_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TELEGRAM_API_BASE_URL", "telegram_api_base_url"),
    )
    telegram_webhook_url: str | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_WEBHOOK_URL", "telegram_webhook_url")
    )
    slack_api_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_API_BASE_URL", "slack_api_base_url")
    )
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    slack_http_port: int = Field(default=3000, ge=1, le=65535)
    listen_host: str = "0.0.0.0"
    poll_interval_minutes: float = Field(default=10, gt=0, le=1440)
    # Paced polling (bot/core/pacing.py): each feed's interval from its publishing rate,
    # within [floor, ceiling], with the fixed interval's request budget. Off until wired.
    paced_polling: bool = False
    poll_floor_minutes: float = Field(default=2, gt=0, le=1440)
    poll_ceiling_minutes: float = Field(default=60, gt=0, le=1440)
    delivery_interval_seconds: float = Field(default=2, gt=0, le=3600)
    digest_check_seconds: float = Field(default=60, gt=0, le=3600)
    poll_tick_seconds: float = Field(default=30, gt=0, le=3600)
    poll_concurrency: int = Field(default=64, ge=1, le=2000)
    per_host_concurrency: int = Field(default=4, ge=1, le=1000)
    fetch_timeout_seconds: float = Field(default=10, gt=0, le=300)
    max_feed_bytes: int = Field(default=5_000_000, ge=10_000)
    max_redirects: int = Field(default=5, ge=0, le=20)
    allow_private_feeds: bool = False
    # Feeds are parsed in this many worker processes; unset: cores - 1 (at least 1);
    # 0: in a thread of the bot's process (tests, tiny deployments).
    parse_workers: int | None = Field(default=None, ge=0, le=64)
    # Only the newest this many items of a feed are read (a feed may list 100,000).
    max_items_per_feed: int = Field(default=500, ge=1, le=100_000)
    # A poll saves its results in transactions of about this many new articles, so a big
    # ingest never holds the database (SQLite's single write lock) for long.
    max_articles_per_transaction: int = Field(default=2_000, ge=1, le=100_000)
    max_rules_per_chat: int = Field(default=50, ge=1, le=10_000)
    # /addfeed checks one chat may have running at once (each answers "checking…", then later)
    max_feed_checks_per_chat: int = Field(default=3, ge=1, le=100)
    story_window_hours: float = Field(default=72, gt=0, le=24 * 30)
    max_delivery_attempts: int = Field(default=50, ge=1)
    # The longest a failing message (5xx, timeout) waits before its next try; its chat's queue
    # waits behind it, so this bounds how long one message can hold the others up at a time.
    max_delivery_backoff_seconds: float = Field(default=300, ge=1, le=3600)
    # A claimed outbox row is re-sent by another worker (or after a restart) once this passes
    # without it being marked sent: longer than any single send may take.
    delivery_lease_seconds: float = Field(default=60, gt=0, le=3600)
    # Slack OAuth: the bot scopes asked for at install, and where Slack sends the installer
    # back (unset: the redirect URL configured in the app's settings).
    slack_scopes: list[str] = Field(
        default_factory=lambda: [
            "commands",
            "chat:write",
            "app_mentions:read",
            "users:read",
            "files:read",
        ]
    )
    slack_redirect_uri: str | None = None
    # An OPML file for /import may be at most this big and list at most this many feeds.
    max_opml_bytes: int = Field(default=1_000_000, ge=1_000, le=20_000_000)
    max_opml_feeds: int = Field(default=200, ge=1, le=10_000)
    # Prometheus metrics at /metrics and a health check at /healthz on this port (off: unset).
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # --- WebSub push (on only when the bot has a public URL hubs can reach) ---------------
    # e.g. https://bot.example.org: hubs call <public_base_url>/websub/<token> back.
    public_base_url: str | None = None
    # The callback listener's port (behind the public URL's reverse proxy, if any).
    websub_port: int = Field(default=8090, ge=1, le=65535)
    # A feed its hub pushes is still polled this often: the safety net for a failing hub.
    push_poll_hours: float = Field(default=3, gt=0, le=24 * 7)
    # --- a cluster (`storywatch run --role ...`, PostgreSQL and storywatch[cluster]) ---------
    # Feeds per fetch job: a job costs the queue about 8 ms, so never one job per feed.
    cluster_fetch_batch: int = Field(default=200, ge=1, le=10_000)
    # The ops role plans polls every this many seconds (a divisor of 60: a cron seconds field).
    cluster_plan_seconds: int = Field(default=30, ge=1, le=60)
    # At most this many fetch jobs planned per tick (bounds one tick's transaction count).
    cluster_max_batches_per_tick: int = Field(default=100, ge=1, le=10_000)
    # A planned feed stays claimed this long unless its fetch job renews it (queue wait included).
    cluster_fetch_lease_seconds: float = Field(default=120, gt=0, le=3600)
    # Fetch jobs one fetch process runs at once.
    cluster_fetch_jobs: int = Field(default=2, ge=1, le=64)
    # New articles the story stage plans and writes per transaction.
    cluster_story_chunk: int = Field(default=500, ge=1, le=100_000)
    # Workers beat this often; a job whose worker missed three beats is retried by the sweep.
    cluster_heartbeat_seconds: float = Field(default=10, gt=0, le=600)
    # Finished jobs are kept this many hours (for watching the queue), then deleted.
    cluster_keep_jobs_hours: int = Field(default=1, ge=1, le=24 * 30)
    log_level: str = "INFO"
    feeds: list[FeedConfig] = Field(default_factory=list)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level

    @field_validator("public_base_url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in value:
            raise ValueError("must be an http:// or https:// URL with a host, as hubs reach it")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _pace_limits(self) -> Settings:
        if self.poll_floor_minutes >= self.poll_ceiling_minutes:
            raise ValueError("poll_floor_minutes must be below poll_ceiling_minutes")
        return self

    @field_validator("cluster_plan_seconds")
    @classmethod
    def _divides_a_minute(cls, value: int) -> int:
        if 60 % value:
            raise ValueError("must divide 60 (it is a cron seconds step)")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalise_database_url(value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _config_path()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    def pushes(self) -> bool:
        """WebSub is on: hubs can reach the bot at its public URL."""
        return bool(self.public_base_url)

    def slack_oauth(self) -> bool:
        """Slack for many workspaces: client id and secret are both set."""
        return self.slack_client_id is not None and self.slack_client_secret is not None

    def runs_slack(self) -> bool:
        return self.slack_bot_token is not None or self.slack_oauth()


def normalise_database_url(url: str) -> str:
    """Accept the usual `postgres://` / `postgresql://` / `sqlite://` forms; use async drivers."""
    for prefix, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(prefix):
            return driver + url[len(prefix) :]
    if not url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        raise ValueError("must be a sqlite:// or postgresql:// URL")
    return url


class SettingsError(Exception):
    """A bad setting, explained in one line naming the key."""


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning validation errors into one clear line."""
    path = _config_path()
    if path is not None and not path.exists():
        raise SettingsError(f"STORYWATCH_CONFIG: no such file: {path}")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "settings"
        raise SettingsError(f"config error: {key}: {first['msg']}") from None
    except ValueError as exc:  # a malformed TOML file
        raise SettingsError(f"config error: {path}: {exc}") from None
