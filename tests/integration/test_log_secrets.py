"""The logs of a real run, at DEBUG, with Slack (HTTP mode) and Telegram tokens set, hold no
token, signing secret, request body or response_url, even when a badly signed request is
rejected: `python -m bot run` as a subprocess, its stderr captured and searched."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from fakes.slack_api import FakeSlackApi, signed_headers, slash_command
from fakes.telegram_api import FakeBotApi
from test_slack_scenarios import free_port

from bot.slack.app import EVENTS_PATH

SLACK_TOKEN = "xoxb-2718281828-3141592653-QuiteSecretBotToken"
TELEGRAM_TOKEN = "7654321098:AAH-realistic_Token_0123456789abcdefghij"
SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
MARKER = "bodymarker"  # in every request body sent below


class StderrLog:
    """Collects a subprocess's stderr lines as they come; waits for a line without polling."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self._task = asyncio.create_task(self._read(stream))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        async for raw in stream:
            async with self._changed:
                self.lines.append(raw.decode(errors="replace"))
                self._changed.notify_all()

    async def wait_for(self, text: str, timeout: float = 60) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: any(text in line for line in self.lines))

    async def text(self) -> str:
        await self._task  # the process has exited: read to the end
        return "".join(self.lines)


def bot_environment(
    tmp: Path, slack: FakeSlackApi, telegram: FakeBotApi, port: int
) -> dict[str, str]:
    return {
        **os.environ,
        "SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_BASE_URL": slack.base_url,
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_API_BASE_URL": telegram.base_url,
        "STORYWATCH_LOG_LEVEL": "DEBUG", "STORYWATCH_LISTEN_HOST": "127.0.0.1",
        "STORYWATCH_SLACK_HTTP_PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp / 'bot.db'}",
    }  # fmt: skip


async def post_command(port: int, text: str, response_url: str, secret: str) -> int:
    body = urlencode(slash_command(text, response_url=response_url))
    url = f"http://127.0.0.1:{port}{EVENTS_PATH}"
    headers = signed_headers(body, secret=secret)
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as r,
    ):
        return r.status


async def test_a_debug_run_that_rejects_a_badly_signed_request_logs_no_secret_or_body(
    tmp_path: Path,
) -> None:
    async with FakeSlackApi(bot_token=SLACK_TOKEN) as slack, FakeBotApi(TELEGRAM_TOKEN) as telegram:
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp_path,
            env=bot_environment(tmp_path, slack, telegram, port),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert process.stderr is not None
        log = StderrLog(process.stderr)
        try:
            await log.wait_for("storywatch running")
            rejected_url, answered_url = slack.response_url(), slack.response_url()
            assert await post_command(port, f"stop {MARKER}", rejected_url, "wrong") == 401
            assert await post_command(port, f"watch {MARKER}", answered_url, SIGNING_SECRET) == 200
            await slack.wait_for(lambda: bool(slack.responses))
            telegram.push_message(42, f"/watch {MARKER}", user_id=42)
            await telegram.wait_for(lambda: bool(telegram.messages_to(42)))
        finally:
            process.terminate()
            await process.wait()
        text = await log.text()
    assert "Slack events endpoint on 127.0.0.1" in text  # the run's log was captured
    for leak in (SLACK_TOKEN, TELEGRAM_TOKEN, SIGNING_SECRET, MARKER, "response_url", "/response/"):
        assert leak not in text, f"{leak!r} in the log:\n{text}"
    assert slack.responses[0]["hook"] == answered_url.rsplit("/", 1)[1]  # only the signed one ran
