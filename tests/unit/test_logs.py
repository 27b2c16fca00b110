"""The log guard: library chatter below WARNING dropped; secrets, tokens, response URLs and
request bodies never written, whichever logger and level they come from."""

from __future__ import annotations

import io
import logging
import sys
from typing import Any

import pytest

from bot.compose.basics import secret_values
from bot.logs import FORMAT, LogGuard
from bot.settings import Settings

SECRET = "s3cr3t-signing-value"


def written(name: str, level: int, msg: Any, *args: Any, exc: bool = False) -> str:
    """What the guarded handler writes for one record."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(LogGuard([SECRET, "short"]))
    record = logging.LogRecord(name, level, __file__, 1, msg, args, None)
    if exc:
        try:
            raise RuntimeError(f"signature check with {SECRET} failed")
        except RuntimeError:
            record.exc_info = sys.exc_info()
    handler.handle(record)
    return stream.getvalue()


@pytest.mark.parametrize("name", ["slack_bolt.RequestVerification", "storywatch", "httpx"])
@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO])
def test_library_records_below_warning_are_dropped(name: str, level: int) -> None:
    assert written(name, level, "body: %s", "text=hello") == ""


def test_our_own_debug_lines_are_kept() -> None:
    assert "polling 3 feeds" in written(
        "bot.services.poll.polling", logging.DEBUG, "polling %d feeds", 3
    )


@pytest.mark.parametrize(
    ("message", "leak"),
    [
        (f"verifying with {SECRET}", SECRET),
        ("token xoxb-123-456-abcDEF", "xoxb-123"),
        ("app token xapp-1-A0-123-abc", "xapp-1"),
        ("POST http://127.0.0.1/bot7654321098:AAH-realistic_Token_0123456789abc/getMe", "AAH-"),
        ("answer to https://hooks.slack.com/commands/T0/123/abc failed", "hooks.slack.com"),
        ("body: token=x&response_url=http%3A%2F%2F127.0.0.1%2Fresponse%2F1&text=hi", "127.0.0.1"),
        ("{'response_url': 'http://127.0.0.1:80/response/2', 'text': 'hi'}", "/response/"),
    ],
)
def test_secrets_tokens_and_response_urls_are_redacted_even_in_warnings(
    message: str, leak: str
) -> None:
    out = written("slack_bolt.App", logging.WARNING, "%s", message)
    assert "[redacted]" in out and leak not in out


def test_short_secrets_do_not_blank_out_words() -> None:
    assert "a short line" in written("bot.app", logging.INFO, "a short line")


def test_a_traceback_is_redacted_too() -> None:
    out = written("bot.slack.handlers", logging.ERROR, "command failed", exc=True)
    assert "RuntimeError: signature check with [redacted] failed" in out and SECRET not in out


class Update:
    """Stands for an SDK object such as telegram.Update: it has to_dict()."""

    def to_dict(self) -> dict[str, str]:
        return {"text": "private words"}

    def __repr__(self) -> str:
        return "Update(text='private words')"


def test_structured_arguments_are_shown_by_type_only() -> None:
    out = written("bot.telegram.handlers", logging.ERROR, "update %r failed", Update())
    assert "update <Update> failed" in out and "private words" not in out
    out = written("bot.x", logging.WARNING, "payload %s", {"text": "private words"})
    assert "payload <dict>" in out and "private words" not in out
    assert "private" not in written("slack_bolt.App", logging.ERROR, {"text": "private words"})


def test_arguments_that_do_not_fit_the_message_still_give_a_line() -> None:
    assert "arguments did not fit" in written("bot.x", logging.WARNING, "%d items", "many")


def test_every_configured_secret_is_known_to_the_guard() -> None:
    settings = Settings(
        slack_bot_token="xoxb-1", slack_signing_secret="signing", telegram_bot_token="1:t",
        telegram_webhook_secret="hook", slack_app_token="xapp-2",
        database_url="postgresql://storywatch:dbpass@db.example/storywatch",
    )  # fmt: skip
    assert sorted(secret_values(settings)) == [
        "1:t",
        "dbpass",
        "hook",
        "signing",
        "xapp-2",
        "xoxb-1",
    ]
