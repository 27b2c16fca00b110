"""Kill loop: the real bot SIGKILLed ten times, at seeded moments of its polls and deliveries.

Three outlets publish new reports between lives (real HTTP on 127.0.0.1); six Telegram chats
(fake Bot API) and a Slack channel (fake Web API) watch S-400, F-35 or both. Across the kills,
what a user notices must hold: every planned alert and update arrives, in the order planned;
a chat sees a second copy only of a message that was in flight to it at a kill (at most one
per chat per kill); and a restarted bot polls every feed within two ticks. SQLite and
PostgreSQL. The script (reports, kill moments) is in tests/kill_plan.py.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botprocess import BotProcess
from fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, FakeSlackApi
from fakes.telegram_api import FakeBotApi
from feedserver import FeedServer, Seen
from kill_plan import LIFE_SPAN, LIVES, OUTLETS, Kill, Report, kills, schedule
from outbox_view import (
    Inbox,
    OutboxReader,
    OutboxRow,
    assert_inboxes,
    copies,
    slack_inbox,
    telegram_inbox,
)
from support import rss
from test_slack_scenarios import SlackUser, free_port

TICK = 1.0  # poll tick (and poll lease), seconds
SEED = int(os.environ.get("KILL_LOOP_SEED", "11"))  # the news; SEED + 1: the kill moments
WAIT = 30.0  # the longest any one awaited event may take on a loaded machine
TELEGRAM_RULES = {201: "S-400", 202: "S-400", 203: "F-35", 204: "F-35"}
TELEGRAM_RULES |= {205: "S-400 OR F-35", 206: "S-400 OR F-35"}
SLACK_CHANNEL, SLACK_RULE = "C0NEWS", "S-400 OR F-35"  # SlackUser's channel


class Newsroom:
    """The outlets' feeds on the feed server; each lists every report published on it so far.
    A feed can hang for one life (its requests are read, never answered)."""

    def __init__(self, server: FeedServer) -> None:
        self.server = server
        self.items: dict[str, list[Report]] = {outlet: [] for outlet in OUTLETS}
        self.hung: set[str] = set()
        self._serve()

    @staticmethod
    def path(outlet: str) -> str:
        return f"/{outlet}.xml"

    def publish(self, reports: list[Report]) -> None:
        for report in reports:
            self.items[report.outlet].append(report)
        self._serve()

    def hang(self, outlet: str) -> None:
        self.hung.add(outlet)
        self.server.hang(self.path(outlet))

    def unhang(self) -> None:
        self.hung.clear()
        self._serve()

    def _serve(self) -> None:
        for outlet, reports in self.items.items():
            if outlet not in self.hung:
                feed = rss(f"Outlet {outlet.upper()}", [r.item for r in reports])
                self.server.set(self.path(outlet), feed)


@dataclass
class Life:
    """One run of the bot, from start to SIGKILL (or, for the last, to a clean stop)."""

    number: int
    kill: Kill | None
    calls_before: int
    sent_before: int
    feed_requests_before: int
    started: float = field(default_factory=time.monotonic)
    in_flight: list[OutboxRow] = field(default_factory=list)  # claimed, unsent, at the kill


@dataclass
class Loop:
    """Everything the loop drives and records."""

    bot: BotProcess
    api: FakeBotApi
    slack: FakeSlackApi
    news: Newsroom
    outbox: OutboxReader
    slack_port: int
    reports: list[Report]
    lives: list[Life] = field(default_factory=list)
    first_alert: int = 0  # api.sent index after the command replies

    def begin(self, number: int, kill: Kill | None) -> Life:
        life = Life(number, kill, len(self.api.calls), len(self.api.sent),
                    len(self.news.server.log()))  # fmt: skip
        self.lives.append(life)
        return life

    def sends_in(self, life: Life) -> int:
        return sum(1 for name, _ in self.api.calls[life.calls_before :] if name == "sendMessage")


def loop_bot(tmp: Path, database_url: str, api: FakeBotApi, slack: FakeSlackApi, port: int,
             server: FeedServer) -> BotProcess:  # fmt: skip
    settings = {
        "allow_private_feeds": True, "poll_tick_seconds": TICK, "poll_interval_minutes": 0.005,
        "delivery_interval_seconds": 0.1, "delivery_lease_seconds": 2, "log_level": "WARNING",
        "listen_host": "127.0.0.1", "slack_http_port": port,
    }  # fmt: skip
    env = {
        "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_BASE_URL": slack.base_url,
    }  # fmt: skip
    feeds = [(server.url(Newsroom.path(o)), f"Outlet {o.upper()}") for o in OUTLETS]
    return BotProcess(tmp, database_url, settings, feeds, env=env)


@pytest.fixture
async def loop(database_url: str, tmp_path: Path) -> AsyncIterator[Loop]:
    rng = random.Random(SEED)
    reports = schedule(rng, datetime.now(UTC) - LIVES * LIFE_SPAN)
    async with FakeBotApi() as api, FakeSlackApi() as slack, OutboxReader(database_url) as outbox:
        with FeedServer() as server:
            port = free_port()
            bot = loop_bot(tmp_path, database_url, api, slack, port, server)
            state = Loop(bot, api, slack, Newsroom(server), outbox, port, reports)
            try:
                yield state
            finally:
                await bot.stop()


async def test_ten_sigkills_lose_nothing_repeat_at_most_the_message_in_flight_keep_order(
    loop: Loop,
) -> None:
    plan = kills(random.Random(SEED + 1), loop.reports)
    for number in range(LIVES):
        kill = plan[number] if number < len(plan) else None
        life = loop.begin(number, kill)
        if number == 0:
            loop.bot.start()
            await _subscribe(loop)
        gate = _arm(loop, kill)
        loop.news.publish([r for r in loop.reports if r.life == number])
        if number > 0:
            life.started = time.monotonic()
            loop.bot.start()
        if kill is None:
            await _until_everything_is_delivered(loop)
            await loop.bot.stop()
        else:
            await _until(loop, life, kill)
            await _kill(loop, life, gate)
    print(_summary(loop))  # shown with -s, and below a failure
    await _assert_what_users_saw(loop)
    _assert_polling_resumed_within_two_ticks(loop)


async def _subscribe(loop: Loop) -> None:
    api = loop.api
    for chat, rule in TELEGRAM_RULES.items():
        api.push_message(chat, f"/watch {rule}", user_id=chat)
        api.push_message(chat, "/digest off", user_id=chat)
    await api.wait_for(lambda: all(len(api.messages_to(c)) >= 2 for c in TELEGRAM_RULES), WAIT)
    assert all(api.messages_to(c)[0].text.startswith("Watching") for c in TELEGRAM_RULES)
    loop.first_alert = len(api.sent)
    loop.slack.set_user("U0ALICE", is_admin=True)
    user = SlackUser(loop.slack, loop.slack_port)
    assert (await user.command(f"watch {SLACK_RULE}")).startswith("Watching")
    await user.command("digest off")


def _arm(loop: Loop, kill: Kill | None) -> asyncio.Event | None:
    """Prepare the kill: a feed that will hang, or sendMessage held by the fake API."""
    if kill is not None and kill.moment == "fetching":
        loop.news.hang(kill.outlet)
    if kill is not None and kill.moment == "sending":
        return loop.api.hold("sendMessage")
    return None


async def _until(loop: Loop, life: Life, kill: Kill) -> None:
    """Wait for the kill's moment: first every feed requested (`nth` times for poll kills)."""
    times = kill.nth if kill.moment in ("fetching", "saving") else 1
    paths = [Newsroom.path(o) for o in OUTLETS]

    def polled(seen: list[Seen]) -> bool:
        counts = Counter(s.path for s in seen[life.feed_requests_before :])
        return all(counts[p] >= times for p in paths)

    polls = await asyncio.to_thread(loop.news.server.wait_until, polled, WAIT)
    assert polls, f"life {life.number} ({kill}): every feed not polled {times}x in {WAIT} s"
    if kill.moment == "sending":
        await _event(loop.api, lambda: loop.sends_in(life) >= 1, life, "no message was sent")
    if kill.moment == "sent":
        done = lambda: len(loop.api.sent) - life.sent_before >= kill.nth  # noqa: E731
        await _event(loop.api, done, life, f"fewer than {kill.nth} messages were sent")


async def _event(api: FakeBotApi, predicate: Callable[[], bool], life: Life, what: str) -> None:
    try:
        await api.wait_for(predicate, WAIT)
    except TimeoutError:
        pytest.fail(f"life {life.number} ({life.kill}): {what} within {WAIT} s")


async def _kill(loop: Loop, life: Life, gate: asyncio.Event | None) -> None:
    """SIGKILL; then let the platform take what was held, and note what was in flight."""
    loop.bot.kill()
    killed_at = datetime.now(UTC)
    if gate is not None:
        gate.set()  # the platform got the requests: it delivers them though the bot is gone
        held = loop.sends_in(life)
        await _event(loop.api, lambda: len(loop.api.sent) - life.sent_before >= held, life,
                     "the held messages were not all taken")  # fmt: skip
    loop.news.unhang()
    earlier = {(r.id, r.claimed_until) for past in loop.lives for r in past.in_flight}
    life.in_flight = [
        row for row in await loop.outbox.rows()
        if row.status == "pending" and row.claimed_until is not None
        and row.claimed_until > killed_at and (row.id, row.claimed_until) not in earlier
    ]  # fmt: skip
    chats = Counter(row.chat for row in life.in_flight)
    assert all(n == 1 for n in chats.values()), f"more than one in flight per chat: {chats}"


async def _until_everything_is_delivered(loop: Loop) -> None:
    """Every report stored and nothing left to send. The database sends no notifications
    (and the last "sent" is written after the platform's last answer), so it is re-read
    every 50 ms: a wait on an observable state, bounded by a timeout."""
    async with asyncio.timeout(60):
        while not await loop.outbox.drained(len(loop.reports)):  # noqa: ASYNC110 (see above)
            await asyncio.sleep(0.05)


def _inboxes(loop: Loop) -> list[Inbox]:
    return [
        *(telegram_inbox(loop.api, chat, rule, loop.first_alert)
          for chat, rule in TELEGRAM_RULES.items()),
        slack_inbox(loop.slack, SLACK_CHANNEL, SLACK_RULE),
    ]  # fmt: skip


async def _assert_what_users_saw(loop: Loop) -> None:
    in_flight = Counter(row.chat for life in loop.lives for row in life.in_flight)
    assert_inboxes(_inboxes(loop), loop.reports, await loop.outbox.rows(), in_flight)


def _ready_at(loop: Loop, life: Life) -> float:
    """When the bot was up: its deleteWebhook call, which starts Telegram's update polling
    right before the bot starts its scheduler (and so its first poll)."""
    first = life.calls_before
    calls = zip(loop.api.calls[first:], loop.api.called_at[first:], strict=True)
    return next(at for (name, _), at in calls if name == "deleteWebhook")


def _first_polls(loop: Loop, life: Life) -> dict[str, float]:
    """Seconds from the bot being up to its first request for each feed (feed server's log)."""
    ready, log = _ready_at(loop, life), loop.news.server.log()
    return {
        outlet: next(s.at for s in log if s.path == Newsroom.path(outlet) and s.at >= ready) - ready
        for outlet in OUTLETS
    }


def _assert_polling_resumed_within_two_ticks(loop: Loop) -> None:
    late = {
        life.number: waits
        for life in loop.lives[1:]
        if max((waits := _first_polls(loop, life)).values()) > 2 * TICK
    }
    assert not late, f"feeds first polled more than two ticks after a restart: {late}"


def _summary(loop: Loop) -> str:
    lines = [f"kill loop, seed {SEED} (start-up: Popen to deleteWebhook; first poll after it):"]
    for life in loop.lives:
        flying = ", ".join(f"{r.chat} {r.kind} #{r.id}" for r in life.in_flight)
        up = _ready_at(loop, life) - life.started
        first = max(_first_polls(loop, life).values())
        lines.append(
            f"  life {life.number}: {life.kill}; start-up {up:.2f} s, every feed polled "
            f"{first:.2f} s later; in flight at the kill: {flying or '-'}"
        )
    repeated = {inbox.chat: copies(inbox, loop.reports) for inbox in _inboxes(loop)}
    return "\n".join([*lines, f"  messages received twice: {repeated}"])
