"""The real bot (`python -m bot run`) as a subprocess, for crash and restart tests.

    bot = BotProcess(tmp_path, database_url, {"poll_tick_seconds": 0.5}, [(url, "Outlet A")],
                     env={"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url})
    bot.start(); ...; bot.kill()   # SIGKILL: no cleanup, no flush, like a power cut
    bot.start(); ...; await bot.stop()   # SIGTERM; the end of its log on stderr for a failure

The settings go into a TOML file named by STORYWATCH_CONFIG, secrets and URLs into the
environment, exactly as an operator would run it. Its output is appended to `tmp/bot.log`
(`tmp/NAME.log` for a cluster's process: `BotProcess(..., role="fetch", name="fetch-1")`).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

Setting = str | int | float | bool


def toml_config(settings: Mapping[str, Setting], feeds: Sequence[tuple[str, str]]) -> str:
    """A storywatch.toml: top-level keys, then one [[feeds]] table per (url, name)."""
    lines = [f"{key} = {_toml_value(value)}" for key, value in settings.items()]
    for url, name in feeds:
        lines += ["[[feeds]]", f"url = {_toml_value(url)}", f"name = {_toml_value(name)}"]
    return "\n".join(lines) + "\n"


def _toml_value(value: Setting) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    return repr(value)


class BotProcess:
    """One bot installation (config, database, log) that can be started, killed and restarted."""

    def __init__(
        self,
        tmp: Path,
        database_url: str,
        settings: Mapping[str, Setting],
        feeds: Sequence[tuple[str, str]],
        *,
        env: Mapping[str, str] | None = None,
        role: str = "all",
        name: str = "bot",
    ) -> None:
        config = tmp / ("storywatch.toml" if name == "bot" else f"{name}.toml")
        config.write_text(toml_config(settings, feeds))
        self.env = {
            **os.environ, **(env or {}), "STORYWATCH_CONFIG": str(config),
            "DATABASE_URL": database_url,
            "PYTHONFAULTHANDLER": "1",  # a bot that hangs on SIGTERM dumps its stacks on SIGABRT
        }  # fmt: skip
        self.log = tmp / f"{name}.log"
        self.args = ["run"] if role == "all" else ["run", "--role", role]  # a cluster's process
        self.process: subprocess.Popen[bytes] | None = None
        self._shown = 0  # characters of the log already written to stderr

    def start(self) -> None:
        # stdin stays open (a pipe): without a chat token the bot runs a console chat on it.
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", *self.args], env=self.env,
                stdin=subprocess.PIPE, stdout=log, stderr=log,
            )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL, and wait until the process is gone (nothing of it runs after this)."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)
        self._close_stdin()

    async def stop(self) -> None:
        """SIGTERM (a clean shutdown) if still running; the log's end goes to stderr.

        Waits in a thread: fake platform APIs on this event loop must keep answering while
        the bot shuts down (it says goodbye to them).
        """
        try:
            await asyncio.to_thread(self._terminate)
        finally:
            self._close_stdin()
            if self.log.exists():  # what it logged since the last stop, shown on failure
                text = self.log.read_text(errors="replace")
                sys.stderr.write(text[self._shown :][-8000:])
                self._shown = len(text)

    def _terminate(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGABRT)  # its threads' stacks into the log
            self.process.wait(timeout=30)
            raise

    def _close_stdin(self) -> None:
        if self.process is not None and self.process.stdin is not None:
            self.process.stdin.close()
