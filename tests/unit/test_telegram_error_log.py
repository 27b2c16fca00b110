"""A failed Telegram update is logged by its id only: never what the user wrote, nor names."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest
from telegram import Update

from bot.telegram.handlers import TelegramHandlers


class _NoCommands:
    """The handlers need a command port; on_error never calls it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"on_error called {name}")


async def test_a_failed_update_is_logged_without_its_text(caplog: pytest.LogCaptureFixture) -> None:
    update = Update.de_json(
        {"update_id": 4242, "message": {
            "message_id": 7, "date": 0, "text": "/watch my private lawsuit",
            "chat": {"id": 99, "type": "private", "first_name": "Ayşe"},
            "from": {"id": 99, "is_bot": False, "first_name": "Ayşe"},
        }},
        None,
    )  # fmt: skip
    handlers = TelegramHandlers(_NoCommands())  # type: ignore[arg-type]
    context = SimpleNamespace(error=RuntimeError("boom"))
    with caplog.at_level(logging.DEBUG):
        await handlers.on_error(update, context)  # type: ignore[arg-type]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "4242" in logged
    assert "lawsuit" not in logged and "Ayşe" not in logged
