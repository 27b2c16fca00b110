"""Logging setup: one line per event on stderr, and no secret or request body in any line.

A filter on the one handler enforces three rules for every logger, at every level:
1. Records from libraries (any logger outside `bot`) below WARNING are dropped. slack_bolt
   logs a rejected request whole at INFO (its `response_url` lets anyone post into that
   channel for a while) and every request body at DEBUG, slack_sdk logs request bodies at
   DEBUG, httpx logs Telegram URLs, which hold the bot token, at INFO. Lowering their loggers'
   levels is not enough: bolt gives each of its loggers the root's level when an app is built.
2. Structured arguments (dicts, lists, SDK objects such as a Telegram Update) are shown by
   their type only: they are request bodies.
3. What is kept is redacted: the configured secrets, anything shaped like a Slack or Telegram
   token, Slack response URLs and `response_url` values, in messages and tracebacks alike.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

LIBRARY_FLOOR = logging.WARNING
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"
_OWN_LOGGERS = "bot"
# Cheaper than letting the filter drop their records: these never create DEBUG/INFO ones.
_NOISY = ("httpx", "httpcore", "apscheduler", "telegram", "slack_bolt", "slack_sdk", "aiosqlite",
          "hpack", "alembic", "aiohttp", "asyncio")  # fmt: skip
_SHAPES = (
    re.compile(r"\bx(?:ox[a-z]|app)-[A-Za-z0-9-]+"),  # Slack bot, user and app tokens
    re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}"),  # Telegram bot token, also in /bot…/ URLs
    re.compile(r"https?(?::|%3A)(?://|%2F%2F)hooks\.slack\.com[^\s'\"&,}]*", re.IGNORECASE),
)
_RESPONSE_URL = re.compile(r"(response_url['\"]?\s*(?:[:=]|%3D)\s*['\"]?)[^\s'\"&,}]+")


class LogGuard(logging.Filter):
    """The three rules of this module's docstring, as a handler filter."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is replaced whole; very short values
        # would blank out ordinary words.
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)
        self._formatter = logging.Formatter(FORMAT)

    def filter(self, record: logging.LogRecord) -> bool:
        if not _is_own(record.name) and record.levelno < LIBRARY_FLOOR:
            return False
        record.msg, record.args = self.redact(_message(record)), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def redact(self, text: str) -> str:
        """`text` with secrets, token shapes and response URLs replaced by [redacted]."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for shape in _SHAPES:
            text = shape.sub(REDACTED, text)
        return _RESPONSE_URL.sub(rf"\g<1>{REDACTED}", text)


def _is_own(name: str) -> bool:
    return name == _OWN_LOGGERS or name.startswith(_OWN_LOGGERS + ".")


class _TypeName(str):
    """What a structured argument is shown as, for %s and %r alike: "<Update>"."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def _plain(value: Any) -> Any:
    """`value`, or only its type name when it is a structure such as a request body."""
    if isinstance(value, Mapping | list | tuple | set) or hasattr(value, "to_dict"):
        return _TypeName(f"<{type(value).__name__}>")
    return value


def _message(record: logging.LogRecord) -> str:
    args = record.args
    if isinstance(args, Mapping) and "%(" in str(record.msg):  # logging's "%(name)s" form
        args = {key: _plain(value) for key, value in args.items()}
    elif isinstance(args, Mapping):  # one dict argument: logging unwraps it from its tuple
        args = (_plain(args),)
    elif args:
        args = tuple(_plain(arg) for arg in args)
    msg = _plain(record.msg)
    try:
        return str(msg) % args if args else str(msg)
    except (TypeError, ValueError):
        return f"{msg} (arguments did not fit the message)"


def setup_logging(level: str, *, secrets: Iterable[str] = (), stream: TextIO | None = None) -> None:
    """One line per event on `stream` (stderr), through a LogGuard knowing `secrets`."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(LogGuard(secrets))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(LIBRARY_FLOOR)
