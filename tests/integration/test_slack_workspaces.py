"""Slack for many workspaces: the OAuth install flow (fake oauth.v2.access), each workspace's
alerts sent with its own token, and an uninstall or a revoked token deactivating only that
workspace's chats. The real bolt app in HTTP mode, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import unescape
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from fakes.slack_api import (
    BOT_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    SIGNING_SECRET,
    TEAM_ID,
    FakeSlackApi,
    signed_headers,
    slash_command,
    workspace_event,
)
from feedserver import FeedServer
from pydantic import SecretStr
from sqlalchemy import text
from test_slack_scenarios import RSS, SlackUser, free_port, publish, slack_bot

from bot.compose.app import App, build_app
from bot.compose.basics import secret_values
from bot.logs import setup_logging
from bot.settings import FeedConfig, Settings
from bot.slack.app import EVENTS_PATH

ONE, TWO = ("T0FAKE", "C0NEWS", "xoxb-one-1111-QuiteSecret"), ("T0TWO", "C0TWO", "xoxb-two-22")


class Logged(logging.Handler):
    """Wakes a waiting test when a log line containing some text is written."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self._loop.call_soon_threadsafe(self._changed.set)

    async def wait_for(self, needle: str) -> None:
        async with asyncio.timeout(10):
            while not any(needle in line for line in self.lines):
                self._changed.clear()
                await self._changed.wait()


@dataclass
class Deployment:
    app: App
    api: FakeSlackApi
    feeds: FeedServer
    root: str
    logged: Logged

    async def install(self, team: str, token: str, code: str) -> str:
        """A workspace admin clicks "Add to Slack", approves, and comes back."""
        self.api.grant(code, team, token)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{self.root}/slack/install") as page:
                html = await page.text()
                cookie = SimpleCookie(page.headers["Set-Cookie"])
            link = html.split('<a href="', 1)[1].split('"', 1)[0]
            authorize = urlsplit(unescape(link))  # the "Add to Slack" button
            assert (page.status, authorize.hostname) == (200, "slack.com")
            asked = parse_qs(authorize.query)
            assert asked["client_id"] == [CLIENT_ID] and "chat:write" in asked["scope"][0]
            [state] = [morsel.value for morsel in cookie.values()]
            query = urlencode({"code": code, "state": state})
            headers = {"Cookie": f"{next(iter(cookie))}={state}"}
            async with session.get(f"{self.root}/slack/oauth_redirect?{query}",
                                   headers=headers) as done:  # fmt: skip
                return f"{done.status} {await done.text()}"

    async def command(self, team: str, channel: str, user: str, words: str) -> str:
        url = self.api.response_url()
        form = slash_command(words, url, channel_id=channel, user_id=user, team_id=team)
        await self._post(urlencode(form), "application/x-www-form-urlencoded")
        hook = url.rsplit("/", 1)[1]
        await self.api.wait_for(lambda: any(r["hook"] == hook for r in self.api.responses))
        return str(next(r for r in self.api.responses if r["hook"] == hook)["text"])

    async def event(self, payload: dict[str, object]) -> None:
        await self._post(json.dumps(payload), "application/json")

    async def _post(self, body: str, kind: str) -> None:
        headers = signed_headers(body, secret=SIGNING_SECRET, content_type=kind)
        async with aiohttp.ClientSession() as session, session.post(
            self.root + EVENTS_PATH, data=body, headers=headers
        ) as answer:  # fmt: skip
            assert answer.status == 200

    def publish(self) -> None:
        body = RSS.format(date=format_datetime(datetime.now(UTC)))
        self.feeds.set("/rss.xml", body, headers={"Content-Type": "application/rss+xml"})

    async def round(self) -> None:
        await self.app.poller.poll_once()
        await self.app.deliverer.drain()

    async def active(self, channel: str) -> bool:
        chat = await self.app.store.chat_by_platform("slack", channel)
        return chat is not None and chat.active


@pytest.fixture
async def deployment(database_url: str) -> AsyncIterator[Deployment]:
    async with FakeSlackApi() as api, FeedServer() as feeds:
        port = free_port()
        settings = Settings(
            slack_client_id=CLIENT_ID, slack_client_secret=SecretStr(CLIENT_SECRET),
            slack_signing_secret=SecretStr(SIGNING_SECRET), slack_api_base_url=api.base_url,
            listen_host="127.0.0.1", slack_http_port=port, database_url=database_url,
            feeds=[FeedConfig(url=feeds.url("/rss.xml"), name="BulgarianMilitary")],
            allow_private_feeds=True,
        )  # fmt: skip
        api.teams.clear()  # no single-workspace token: every workspace installs by OAuth
        for user in ("U0ALICE", "U0BOB"):
            api.set_user(user, is_admin=True)
        logged = Logged()
        ours = logging.getLogger("bot")
        level = ours.level
        ours.addHandler(logged)
        ours.setLevel(logging.INFO)
        app = await build_app(settings)
        try:
            await app.start()
            yield Deployment(app, api, feeds, f"http://127.0.0.1:{port}", logged)
        finally:
            await app.close()
            ours.removeHandler(logged)
            ours.setLevel(level)


async def _two_workspaces_watching(d: Deployment) -> None:
    for (team, channel, token), code, user in (
        (ONE, "code-1", "U0ALICE"),
        (TWO, "code-2", "U0BOB"),
    ):
        assert (await d.install(team, token, code)).startswith("200 ")
        assert (await d.command(team, channel, user, "start")).startswith("Welcome")
        assert (await d.command(team, channel, user, "watch S-400")).startswith("Watching #1")


async def test_a_second_workspace_installs_and_gets_its_own_alerts(
    deployment: Deployment,
) -> None:
    d = deployment
    await _two_workspaces_watching(d)
    d.publish()
    await d.round()
    posted = {(p.channel, p.token) for p in d.api.posted}
    assert posted == {(ONE[1], ONE[2]), (TWO[1], TWO[2])}  # each with its workspace's token
    [exchanged_once, _] = d.api.method_calls("oauth.v2.access")
    assert exchanged_once["code"] == "code-1"


async def test_an_uninstall_deactivates_only_that_workspace(deployment: Deployment) -> None:
    d = deployment
    await _two_workspaces_watching(d)
    await d.event(workspace_event("app_uninstalled", TWO[0]))
    await d.logged.wait_for(f"workspace {TWO[0]}: app uninstalled")
    assert (await d.active(TWO[1]), await d.active(ONE[1])) == (False, True)
    async with d.app.store.engine.connect() as conn:
        teams = (await conn.execute(text("SELECT team_id FROM slack_bots"))).scalars().all()
    assert sorted(teams) == [ONE[0]]  # the uninstalled workspace's token is forgotten

    d.publish()
    await d.round()
    assert [(p.channel, p.token) for p in d.api.posted] == [(ONE[1], ONE[2])]


async def test_a_revoked_bot_token_deactivates_only_that_workspace(
    deployment: Deployment,
) -> None:
    d = deployment
    await _two_workspaces_watching(d)
    d.api.revoke(ONE[2])
    await d.event(workspace_event("tokens_revoked", ONE[0], tokens={"bot": ["UBT0FAKE"]}))
    await d.logged.wait_for(f"workspace {ONE[0]}: bot token revoked")
    assert (await d.active(ONE[1]), await d.active(TWO[1])) == (False, True)
    d.publish()
    await d.round()
    assert [p.channel for p in d.api.posted] == [TWO[1]]


async def test_tokens_and_the_client_secret_never_reach_the_logs(
    deployment: Deployment,
) -> None:
    d = deployment
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    setup_logging("DEBUG", secrets=secret_values(d.app.settings), stream=stream)
    try:
        await _two_workspaces_watching(d)
        d.publish()
        await d.round()
        logging.getLogger("bot.test").info("installed %s, refresh xoxe-1-abcDEF, %s", ONE[2],
                                           CLIENT_SECRET)  # fmt: skip
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    written = stream.getvalue()
    assert "installed [redacted], refresh [redacted], [redacted]" in written
    for secret in (ONE[2], TWO[2], CLIENT_SECRET, "xoxe-1-abcDEF"):
        assert secret not in written


async def test_single_workspace_mode_still_works_and_an_uninstall_stops_it(
    tmp_path: Path,
) -> None:
    async with slack_bot(tmp_path) as (app, api, feeds, port):
        api.set_user("U0ALICE", is_admin=True)
        alice = SlackUser(api, port)
        assert (await alice.command("start")).startswith("Welcome")
        await alice.command("watch S-400")
        publish(feeds)
        await app.poller.poll_once()
        await app.deliverer.drain()
        assert [(p.channel, p.token) for p in api.posted] == [("C0NEWS", BOT_TOKEN)]
        ours = logging.getLogger("bot")
        logged, level = Logged(), ours.level
        ours.addHandler(logged)
        ours.setLevel(logging.INFO)
        try:
            body = json.dumps(workspace_event("app_uninstalled", TEAM_ID))
            headers = signed_headers(body, secret=SIGNING_SECRET, content_type="application/json")
            async with aiohttp.ClientSession() as session, session.post(
                f"http://127.0.0.1:{port}{EVENTS_PATH}", data=body, headers=headers
            ) as answer:  # fmt: skip
                assert answer.status == 200
            await logged.wait_for(f"workspace {TEAM_ID}: app uninstalled")
        finally:
            ours.removeHandler(logged)
            ours.setLevel(level)
        chat = await app.store.chat_by_platform("slack", "C0NEWS")
        assert chat is not None and not chat.active
