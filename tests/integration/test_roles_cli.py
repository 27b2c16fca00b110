"""`storywatch run --role`: the default runs today's bot without procrastinate; a cluster's
roles refuse SQLite with one line (exit 2), as does `migrate --cluster`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from botprocess import BotProcess
from test_cli import storywatch

CLUSTER_ROLES = ("fetch", "stories", "deliver", "chat", "ops")


@pytest.mark.parametrize("role", CLUSTER_ROLES)
def test_a_cluster_role_on_sqlite_refuses_to_start_with_one_line(role: str, tmp_path: Path) -> None:
    result = storywatch(
        "run", "--role", role, env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}, cwd=tmp_path
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"--role {role} needs PostgreSQL (DATABASE_URL is SQLite); only --role all "
                     "runs on SQLite"]  # fmt: skip
    assert not (tmp_path / "x.db").exists()  # refused before touching anything


def test_migrate_cluster_on_sqlite_refuses_with_one_line(tmp_path: Path) -> None:
    result = storywatch(
        "migrate", "--cluster", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "needs PostgreSQL" in result.stderr


def test_migrate_brings_a_sqlite_database_up_to_date(tmp_path: Path) -> None:
    result = storywatch("migrate", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout and (tmp_path / "x.db").exists()


def test_the_default_role_runs_the_whole_bot_without_importing_procrastinate(
    tmp_path: Path,
) -> None:
    bot = BotProcess(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
                     {"log_level": "INFO"}, [])  # fmt: skip
    bot.env["PYTHONPROFILEIMPORTTIME"] = "1"  # every import the process makes, on stderr
    bot.start()
    try:
        _wait_for_log(bot, "storywatch running")
    finally:
        assert bot.process is not None
        bot.process.terminate()
        assert bot.process.wait(timeout=30) == 0
    imported = [line.split("|")[-1].strip() for line in bot.log.read_text().splitlines()
                if line.startswith("import time:")]  # fmt: skip
    assert "bot.scheduler" in imported  # the log does list the bot's imports
    assert not [name for name in imported if name.split(".")[0] == "procrastinate"]


def _wait_for_log(bot: BotProcess, text: str, timeout: float = 60) -> None:
    """Re-read the bot's log until `text` appears (a subprocess: no other signal to wait on)."""
    deadline = time.monotonic() + timeout
    while text not in (bot.log.read_text() if bot.log.exists() else ""):
        assert bot.process is not None and bot.process.poll() is None, bot.log.read_text()
        if time.monotonic() > deadline:
            pytest.fail(f"no {text!r} in the log within {timeout} s")
        time.sleep(0.05)


def test_help_lists_the_roles() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--help"], capture_output=True, text=True, check=True
    )
    for role in ("all", *CLUSTER_ROLES):
        assert role in result.stdout
