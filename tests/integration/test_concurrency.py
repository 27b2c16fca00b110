"""One chat's slow /addfeed checks never hold up another chat (Telegram, Slack, console).

A feed server trickles its answer one byte a second and only finishes when the test releases
it, so "the other chat was answered while the checks were still running" is a fact about
overlap that the test observes, not a race against a clock.
"""

from __future__ import annotations

import asyncio
import html
import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, FakeSlackApi, signed_headers, slash_command
from fakes.slow_feed import SlowFeed
from fakes.telegram_api import FakeBotApi, Recorded
from pydantic import SecretStr
from telegram import Chat, Message, Update

from bot.compose.app import App, build_app
from bot.settings import Settings
from bot.slack.app import EVENTS_PATH
from bot.telegram.app import ChatOrderedUpdates

ALICE, BOB = 1001, 2002  # two private chats
TOO_MANY = "This chat already has 3 feed checks running; wait for their results, then try again."


def _settings(database_url: str, **platform: object) -> Settings:
    return Settings(
        database_url=database_url,
        allow_private_feeds=True,
        fetch_timeout_seconds=120,  # the test decides when the slow feed finishes
        feeds=[],
        **platform,  # type: ignore[arg-type]
    )


@asynccontextmanager
async def running(settings: Settings, **options: object) -> AsyncIterator[App]:
    app = await build_app(settings, **options)  # type: ignore[arg-type]
    try:
        await app.start()
        yield app
    finally:
        await app.close()


def answers(api: FakeBotApi, chat_id: int, asked: dict[str, object]) -> list[str]:
    """The bot's replies quoting one message, oldest first, as the user reads them."""
    quoted: Callable[[Recorded], bool] = lambda m: (  # noqa: E731
        (m.reply_parameters or {}).get("message_id") == asked["message_id"]
    )
    return [html.unescape(m.text) for m in api.messages_to(chat_id) if quoted(m)]


async def test_telegram_other_chats_are_answered_while_one_chat_checks_slow_feeds(
    tmp_path: Path, database_url: str
) -> None:
    async with FakeBotApi() as api, SlowFeed() as slow:
        token = {"telegram_bot_token": SecretStr(api.token), "telegram_api_base_url": api.base_url}
        async with running(_settings(database_url, **token)):
            slow_asks = [
                api.push_message(ALICE, f"/addfeed {slow.url(f'/{n}.xml')}", user_id=ALICE)
                for n in range(3)
            ]
            await slow.wait_in_flight(3)
            await api.wait_for(lambda: all(answers(api, ALICE, a) for a in slow_asks))
            fourth = api.push_message(ALICE, f"/addfeed {slow.url('/4.xml')}", user_id=ALICE)
            other = api.push_message(BOB, "/watch S-400", user_id=BOB)
            await api.wait_for(lambda: answers(api, BOB, other) and answers(api, ALICE, fourth))

            # Bob was answered and Alice's fourth check refused while all three still ran.
            assert (slow.in_flight, slow.finished) == (3, 0)
            assert answers(api, BOB, other) == ["Watching #1: S-400\nNothing in the last 72 h yet."]
            assert answers(api, ALICE, fourth) == [TOO_MANY]
            for asked in slow_asks:
                [checking] = answers(api, ALICE, asked)
                assert checking.startswith("Checking http://127.0.0.1:")

            slow.release()
            await api.wait_for(lambda: all(len(answers(api, ALICE, a)) == 2 for a in slow_asks))
            for asked in slow_asks:
                checking, result = answers(api, ALICE, asked)
                assert checking.startswith("Checking") and result.startswith("Added feed")
                assert ": Slow Outlet — " in result


class SlackUser:
    """Posts signed slash commands; every answer arrives later through its response_url."""

    def __init__(self, api: FakeSlackApi, port: int, channel: str) -> None:
        self.api, self.channel = api, channel
        self.url = f"http://127.0.0.1:{port}{EVENTS_PATH}"

    async def command(self, text: str) -> str:
        """Post the command; returns its response_url hook once Slack got its 200."""
        response_url = self.api.response_url()
        form = slash_command(text, response_url, channel_id=self.channel, user_id="U0ADMIN")
        body = urlencode(form)
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, data=body, headers=signed_headers(body)) as response,
        ):
            assert response.status == 200  # acknowledged at once, whatever the command does
        return response_url.rsplit("/", 1)[1]

    def answers(self, hook: str) -> list[str]:
        return [str(r["text"]) for r in self.api.responses if r["hook"] == hook]


async def test_slack_acks_at_once_and_answers_other_channels_during_slow_checks(
    tmp_path: Path, database_url: str, unused_tcp_port: int
) -> None:
    async with FakeSlackApi() as api, SlowFeed() as slow:
        api.set_user("U0ADMIN", is_admin=True)
        slack = {
            "slack_bot_token": SecretStr(BOT_TOKEN),
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_api_base_url": api.base_url,
            "listen_host": "127.0.0.1",
            "slack_http_port": unused_tcp_port,
        }
        async with running(_settings(database_url, **slack)):
            news, sport = (SlackUser(api, unused_tcp_port, c) for c in ("C0NEWS", "C0SPORT"))
            hooks = [await news.command(f"addfeed {slow.url(f'/{n}.xml')}") for n in range(3)]
            await slow.wait_in_flight(3)
            other = await sport.command("watch S-400")
            await api.wait_for(lambda: bool(sport.answers(other)))

            assert (slow.in_flight, slow.finished) == (3, 0)
            assert sport.answers(other) == ["Watching #1: S-400\nNothing in the last 72 h yet."]
            await api.wait_for(lambda: all(news.answers(h) for h in hooks))
            assert all(news.answers(h)[0].startswith("Checking") for h in hooks)

            slow.release()
            await api.wait_for(lambda: all(len(news.answers(h)) == 2 for h in hooks))
            assert all(news.answers(h)[1].startswith("Added feed") for h in hooks)


class WatchedOutput(io.StringIO):
    """The console's output stream; `wait_for` wakes on every write."""

    def __init__(self) -> None:
        super().__init__()
        self._changed = asyncio.Event()

    def write(self, text: str) -> int:
        self._changed.set()
        return super().write(text)

    async def wait_for(self, predicate: Callable[[str], bool]) -> None:
        async with asyncio.timeout(10):
            while not predicate(self.getvalue()):
                self._changed.clear()
                await self._changed.wait()


async def test_console_keeps_answering_while_a_slow_check_runs(
    tmp_path: Path, database_url: str
) -> None:
    out = WatchedOutput()
    async with (
        SlowFeed() as slow,
        running(_settings(database_url), console=(io.StringIO(), out)) as app,
    ):
        console = app.runtimes["console"]
        await console.type(f"/addfeed {slow.url('/a.xml')}")  # type: ignore[attr-defined]
        await slow.wait_in_flight(1)
        await console.type("/watch S-400")  # type: ignore[attr-defined]

        assert "Checking http://127.0.0.1:" in out.getvalue()
        assert "Watching #1: S-400" in out.getvalue() and "Added feed" not in out.getvalue()
        slow.release()
        await out.wait_for(lambda text: "Added feed" in text)
        assert out.getvalue().index("Watching #1") < out.getvalue().index("Added feed")


GROUP = -1001234567890


async def test_telegram_a_chat_waiting_on_a_slow_admin_check_delays_only_itself(
    tmp_path: Path,
) -> None:
    async with FakeBotApi() as api:
        token = {"telegram_bot_token": SecretStr(api.token), "telegram_api_base_url": api.base_url}
        async with running(_settings(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}", **token)):
            api.set_member(GROUP, ALICE, "administrator")
            gate = api.hold("getChatMember")
            start = api.push_message(GROUP, "/start", user_id=ALICE)
            listing = api.push_message(GROUP, "/watchlist", user_id=ALICE)
            await api.wait_for(lambda: bool(api.calls_of("getChatMember")))
            other = api.push_message(BOB, "/watch S-400", user_id=BOB)
            await api.wait_for(lambda: bool(answers(api, BOB, other)))

            assert answers(api, GROUP, start) == answers(api, GROUP, listing) == []
            gate.set()
            await api.wait_for(lambda: bool(answers(api, GROUP, listing)))
            # The group's own commands still run in the order they were sent.
            [welcome] = answers(api, GROUP, start)
            first = api.messages_to(GROUP)[0]
            assert welcome.startswith("Welcome") and html.unescape(first.text) == welcome
            assert answers(api, GROUP, listing) == ["No rules yet. Add one with /watch S-400."]


def _update(chat_id: int, number: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    return Update(number, message=Message(number, datetime.now(UTC), chat, text="/status"))


async def test_one_chat_runs_in_order_within_its_bound_and_never_blocks_another() -> None:
    processor = ChatOrderedUpdates(workers=4, per_chat=2)
    gate, ran = asyncio.Event(), []
    started = {tag: asyncio.Event() for tag in ("alice0", "alice1", "alice2", "bob")}

    async def handle(tag: str) -> None:
        ran.append(tag)
        started[tag].set()
        await gate.wait()

    flood = [
        asyncio.create_task(processor.process_update(_update(ALICE, n), handle(f"alice{n}")))
        for n in range(3)
    ]
    other = asyncio.create_task(processor.process_update(_update(BOB, 9), handle("bob")))
    await asyncio.wait([flood[2]])  # past the bound: dropped at once
    await started["alice0"].wait()
    await started["bob"].wait()
    assert ran == ["alice0", "bob"]  # alice1 waits for alice0; bob did not wait for anyone

    gate.set()
    await asyncio.gather(*flood, other)
    assert ran == ["alice0", "bob", "alice1"]
