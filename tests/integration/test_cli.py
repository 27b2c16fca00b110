"""The `storywatch` command as a user runs it: a real subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def storywatch(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=full_env,
        cwd=cwd,
        check=False,
    )


def test_demo_shows_one_alert_with_both_sources_then_a_threaded_update() -> None:
    result = storywatch("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    alerts = [line for line in out.splitlines() if line.endswith(": new ──")]
    assert len(alerts) == 1, out
    assert "Sources: Balkan Defence Wire, Free Europe Radio Desk" in out
    assert "reply to message #1" in out and "Update:" in out
    # The second outlet retells the meeting (a sources edit); only the third brings news.
    updates = [line for line in out.splitlines() if line.startswith("│ Update:")]
    assert len(updates) == 1, out
    assert "From Ankara Dispatch" in out
    for boilerplate in ("Subscribe to", "Dear reader", "Accessibility links", "16x9 Image"):
        assert boilerplate not in out


def test_a_bad_setting_exits_2_with_one_line(tmp_path: Path) -> None:
    result = storywatch("run", env={"STORYWATCH_MAX_REDIRECTS": "many"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "max_redirects" in result.stderr


def test_digest_dry_run_for_an_unknown_chat_says_so(tmp_path: Path) -> None:
    result = storywatch("digest", "--chat", "console:console", "--dry-run", cwd=tmp_path)
    assert result.returncode == 1 and "no active chat" in result.stderr


async def test_digest_dry_run_prints_what_the_chat_would_receive(tmp_path: Path) -> None:
    from feedserver import FeedServer
    from world import MEETING_A, MEETING_B, World, ask

    db = tmp_path / "bot.db"
    with FeedServer() as server:
        world = World(server, f"sqlite+aiosqlite:///{db}")
        app = await world.start()
        await ask(app, "/watch S-400")
        world.publish("a", MEETING_A)
        world.publish("b", MEETING_B)
        await world.poll_and_deliver()
        await world.stop()
    result = storywatch(
        "digest",
        "--chat",
        "console:console",
        "--dry-run",
        cwd=tmp_path,
        env={"DATABASE_URL": f"sqlite:///{db}"},
    )
    assert result.returncode == 0, result.stderr
    assert "S-400" in result.stdout and "(Outlet A, Outlet B)" in result.stdout


def test_a_listener_port_already_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
               "STORYWATCH_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
               "STORYWATCH_WEBSUB_PORT": port, "STORYWATCH_LISTEN_HOST": "127.0.0.1"}  # fmt: skip
        result = storywatch("run", env=env, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("cannot start:") and port in line
