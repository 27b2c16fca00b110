"""Logging setup; secrets never reach log lines (Settings keeps them as SecretStr)."""

from __future__ import annotations

import logging
import sys


def setup_logging(level: str) -> None:
    """One line per event on stderr; chatty libraries kept at WARNING."""
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in (
        "httpx",
        "httpcore",
        "apscheduler",
        "telegram",
        "slack_bolt",
        "aiosqlite",
        "hpack",
        "alembic",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
