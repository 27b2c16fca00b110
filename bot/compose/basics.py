"""What every process needs before any part: the clock, logging without secrets, the data
folder, and delivery's retry policy from the settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.core.outbox import RetryPolicy
from bot.logs import setup_logging
from bot.settings import Settings


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def configure_logging(settings: Settings) -> None:
    """Logging for a run: the configured level, every secret kept out (see bot.logs)."""
    setup_logging(settings.log_level, secrets=secret_values(settings))


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret: tokens, signing and webhook secrets, the database password."""
    fields = (getattr(settings, name) for name in type(settings).model_fields)
    values = [value.get_secret_value() for value in fields if isinstance(value, SecretStr)]
    try:
        password = make_url(settings.database_url).password
    except ArgumentError:
        password = None
    return values + ([str(password)] if password else [])


def secret(value: object) -> str:
    """A SecretStr's value (or the value itself)."""
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value)


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a SQLite file so the default `./data/` works on a fresh clone."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def retry_policy(settings: Settings) -> RetryPolicy:
    """How hard delivery tries, from the settings."""
    return RetryPolicy(
        max_attempts=settings.max_delivery_attempts,
        max_backoff=timedelta(seconds=settings.max_delivery_backoff_seconds),
    )
