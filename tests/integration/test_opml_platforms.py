"""OPML in Slack (a file shared with @storywatch import, /export as a snippet), in the console
(/import PATH) and offline (`storywatch opml import|export --chat ID`)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import aiohttp
from fakes.slack_api import SIGNING_SECRET, app_mention, signed_headers
from feedserver import FeedServer
from support import Item, rss
from test_concurrency import WatchedOutput
from test_opml import NOW, opml
from test_slack_scenarios import SlackUser, slack_bot

from bot.compose.app import build_app
from bot.settings import Settings
from bot.slack.app import EVENTS_PATH


async def _mention(port: int, event: dict[str, object]) -> None:
    body = json.dumps(event)
    headers = signed_headers(body, secret=SIGNING_SECRET, content_type="application/json")
    url = f"http://127.0.0.1:{port}{EVENTS_PATH}"
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers):
        pass


async def test_slack_imports_a_shared_file_and_exports_a_snippet(tmp_path: Path) -> None:
    async with slack_bot(tmp_path) as (_app, api, feeds, port):
        api.set_user("U0ALICE", is_admin=True)
        alice = SlackUser(api, port)
        await alice.command("start")
        feeds.set("/one.xml", rss("Outlet One", [Item("One", "t", "http://o/1", "o1", NOW)]))
        shared = api.share_file(opml(feeds.url("/one.xml"), "not a url"))
        await _mention(port, app_mention("import", files=[shared]))
        await api.wait_for(lambda: any("OPML import:" in p.text for p in api.posted))
        assert api.downloads == [shared["id"]]
        summary = next(p.text for p in api.posted if "OPML import:" in p.text)
        assert summary.startswith("OPML import: added 1, already present 0, refused 1:")

        answer = await alice.command("export")
        assert answer == "1 feed(s) added in this chat, as OPML."
        reply = api.responses[-1]
        snippet = "".join(b["text"]["text"] for b in reply["blocks"] if b["type"] == "section")
        assert snippet.count("```") == 2 and f'xmlUrl="{feeds.url("/one.xml")}"' in snippet


async def test_slack_refuses_a_file_that_is_not_on_slacks_file_server(tmp_path: Path) -> None:
    async with slack_bot(tmp_path) as (_app, api, _feeds, port):
        api.set_user("U0ALICE", is_admin=True)
        await SlackUser(api, port).command("start")
        shared = api.share_file(b"<opml/>") | {"url_private_download": "http://evil.example/f"}
        await _mention(port, app_mention("import", files=[shared]))
        await api.wait_for(lambda: bool(api.posted))
        assert api.posted[-1].text == "Could not read that file (ValueError). Nothing was added."


async def test_console_import_from_a_path_and_export_prints_the_file(tmp_path: Path) -> None:
    with FeedServer() as feeds:
        feeds.set("/one.xml", rss("Outlet One", [Item("One", "t", "http://o/1", "o1", NOW)]))
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", allow_private_feeds=True
        )
        out = WatchedOutput()
        app = await build_app(settings, console=(io.StringIO(), out))
        try:
            console = app.runtimes["console"]
            path = tmp_path / "mine.opml"
            path.write_bytes(opml(feeds.url("/one.xml")))
            await console.type(f"/import {path}")  # type: ignore[attr-defined]
            await out.wait_for(lambda text: "OPML import:" in text)
        finally:
            await app.close()
    printed = out.getvalue()
    assert "Checking 1 feed(s) from the OPML file" in printed
    assert "OPML import: added 1, already present 0, refused 0." in printed


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "STORYWATCH_ALLOW_PRIVATE_FEEDS":
           "true", "PATH": "/usr/bin:/bin", "STORYWATCH_PARSE_WORKERS": "0"}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "bot", "opml", *args], capture_output=True, text=True, env=env,
        cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip


async def test_the_opml_tool_imports_and_exports_offline(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    app = await build_app(settings, console=(io.StringIO(), io.StringIO()))
    await app.commands.handle(app.runtimes["console"].context, "/start")  # type: ignore[attr-defined]
    await app.close()
    with FeedServer() as feeds:
        feeds.set("/one.xml", rss("Outlet One", [Item("One", "t", "http://o/1", "o1", NOW)]))
        path = tmp_path / "in.opml"
        path.write_bytes(opml(feeds.url("/one.xml"), feeds.url("/gone.xml")))
        loaded = _cli(tmp_path, "import", str(path), "--chat", "console:console")
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith("OPML import: added 1, already present 0, refused 1:")
    dumped = _cli(tmp_path, "export", "--chat", "console:console")
    assert dumped.returncode == 0 and f'xmlUrl="{feeds.url("/one.xml")}"' in dumped.stdout
    bomb = tmp_path / "bomb.opml"
    bomb.write_bytes(b'<!DOCTYPE x [<!ENTITY a "b">]><opml/>')
    refused = _cli(tmp_path, "import", str(bomb), "--chat", "console:console")
    assert refused.returncode == 1 and refused.stderr.strip().endswith("Nothing was added.")
    assert _cli(tmp_path, "export", "--chat", "slack:nobody").returncode == 1
