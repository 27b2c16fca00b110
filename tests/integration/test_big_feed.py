"""A valid 4 MB feed with 100,000 items: capped, saved in bounded transactions, in bounded
memory, and chat commands keep working while it is written (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from feedserver import FeedServer
from support import SettableClock
from world import ask

from bot.compose.app import build_app
from bot.services.records import PollBatch
from bot.settings import FeedConfig, Settings

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
CAP, PER_SAVE = 500, 400


def huge_feed(name: str, count: int = 100_000) -> bytes:
    """`count` items of ~40 bytes, newest first (only the first few carry a date)."""
    items = "".join(
        f"<item><title>Talks {name} {n}</title>"
        + (f"<pubDate>{format_datetime(NOW - timedelta(minutes=n))}</pubDate>" if n < 3 else "")
        + "</item>"
        for n in range(count)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>{items}'
        "</channel></rss>"
    ).encode()


def test_a_100000_item_feed_is_checked_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.xml"
    path.write_bytes(huge_feed("h"))
    assert path.stat().st_size > 4_000_000
    script = (
        "import sys; from bot.tools.check_feed import main; code = main([sys.argv[1]]); "
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]; "
        "print(int(hwm.split()[1]) // 1024, file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"h — {CAP} items"
    assert lines[1].split("\t")[1] == "Talks h 0"  # the newest first
    assert int(done.stderr.strip().splitlines()[-1]) <= 300  # peak RSS, MB


async def test_commands_work_while_huge_feeds_are_ingested(database_url: str) -> None:
    names = ["a", "b", "c"]
    with FeedServer() as server:
        for name in names:
            server.set(f"/{name}.xml", huge_feed(name))
        feeds = [FeedConfig(url=server.url(f"/{n}.xml"), name=n) for n in names]
        settings = Settings(
            database_url=database_url, allow_private_feeds=True, feeds=feeds,
            max_items_per_feed=CAP, max_articles_per_transaction=PER_SAVE,
        )  # fmt: skip
        app = await build_app(settings, clock=SettableClock(NOW), console=(io.StringIO(),) * 2)
        try:
            assert (await ask(app, "/watch Talks")).startswith("Watching")
            saves = _record_saves(app.store)
            poll = asyncio.create_task(app.poller.poll_once())
            replies, during = await _commands_until(poll, app, saves)
            report = await poll
        finally:
            await app.close()
    assert report.feeds == 3 and report.errors == 0 and report.articles == 3 * CAP
    assert len(saves.sizes) >= 3 and max(saves.sizes) <= PER_SAVE + CAP
    assert during > 0  # some commands ran while a poll transaction was being written
    bad = [r for r in replies if not r.startswith(("Watching", "Stopped", "Your rules"))]
    assert bad == []


class _Saves:
    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.writing = False


def _record_saves(store: Any) -> _Saves:
    """Wrap the real save_poll to know when a poll transaction is being written."""
    saves, real = _Saves(), store.save_poll

    async def save_poll(batch: PollBatch, now: datetime) -> None:
        saves.writing = True
        saves.sizes.append(len(batch.articles))  # len(sizes): saves started so far
        try:
            await real(batch, now)
        finally:
            saves.writing = False

    store.save_poll = save_poll
    return saves


async def _commands_until(
    poll: asyncio.Task[Any], app: Any, saves: _Saves
) -> tuple[list[str], int]:
    """Watch, list and unwatch rules until the poll is over; count those that overlapped a
    poll transaction (one was open when they started, or one began while they ran)."""
    replies: list[str] = []
    during, n = 0, 0
    steps: list[Callable[[int], Awaitable[str]]] = [
        lambda k: ask(app, f"/watch rule{k}"),
        lambda k: ask(app, "/watchlist"),
        lambda k: ask(app, f"/unwatch rule{k}"),
    ]
    while not poll.done():
        n += 1
        for step in steps:
            writing, started = saves.writing, len(saves.sizes)
            replies.append(await step(n))
            during += writing or len(saves.sizes) > started
    return replies, during
