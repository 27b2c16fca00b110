"""The Slack adapter against a local fake Slack: real slack-sdk/bolt, real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from fakes.slack_api import (
    APP_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlackApi,
    app_mention,
    block_action,
    signed_headers,
    slash_command,
)
from slack_sdk.errors import SlackApiError

from bot.core.models import AlertMessage, Highlight, Source, StoryView
from bot.services.chat.ports import Button, CommandContext, CommandReply
from bot.services.errors import (
    DestinationGone,
    MessageGone,
    MessageRejected,
    RateLimited,
    TransientError,
)
from bot.services.ports import Address
from bot.slack.app import EVENTS_PATH, SlackRuntime
from bot.slack.handlers import command_text, slack_spelling, strip_mentions
from bot.slack.notifier import SlackAuthError

STORY = StoryView(
    "st-42",
    "S-400 battery moved to Kursk",
    "https://bulgarianmilitary.com/s400",
    "Satellite images show the launchers.",
    (Source("BulgarianMilitary", "https://bulgarianmilitary.com/s400"),),
)
ALERT = AlertMessage(STORY, Highlight("New S-400 launchers", ((4, 9),)))
NEWS = Address("C0NEWS")


class RecordingCommands:
    """A CommandPort that records what reached it and answers with a canned reply."""

    def __init__(self, reply: CommandReply | None = None) -> None:
        self.reply = reply or CommandReply("Watching S-400 (#1)")
        self.asks_admin = False
        self.handled: list[tuple[CommandContext, str]] = []
        self.pressed: list[tuple[CommandContext, str]] = []
        self.admin_answers: list[bool] = []

    async def handle(self, ctx: CommandContext, text: str) -> CommandReply:
        self.handled.append((ctx, text))
        if self.asks_admin:
            self.admin_answers += [await ctx.is_admin(), await ctx.is_admin()]
        return self.reply

    async def on_button(self, ctx: CommandContext, data: str) -> CommandReply:
        self.pressed.append((ctx, data))
        return self.reply

    async def migrate_chat(self, platform: str, old_id: str, new_id: str) -> None:
        return None

    def command_list(self) -> list[tuple[str, str]]:
        return [("watch", "Follow a topic")]


@asynccontextmanager
async def running(
    api: FakeSlackApi, commands: RecordingCommands, **options: Any
) -> AsyncIterator[SlackRuntime]:
    runtime = SlackRuntime(
        BOT_TOKEN,
        commands,
        signing_secret=SIGNING_SECRET,
        base_url=api.base_url,
        host="127.0.0.1",
        port=0,
        **options,
    )
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def post_signed(runtime: SlackRuntime, body: str, **signing: Any) -> int:
    content_type = "application/json" if body.startswith("{") else None
    extra = {"content_type": content_type} if content_type else {}
    headers = signed_headers(body, **(extra | signing))
    url = f"http://127.0.0.1:{runtime.port}{EVENTS_PATH}"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as r,
    ):
        return r.status


def notifier_for(api: FakeSlackApi, base_url: str | None = None) -> Any:
    # The runtime's own notifier, so the client configuration (no silent retries) is tested too.
    runtime = SlackRuntime(
        BOT_TOKEN, RecordingCommands(), signing_secret="s", base_url=base_url or api.base_url
    )
    return runtime.notifier


# -- notifier ------------------------------------------------------------------------------
async def test_send_posts_the_alert_and_returns_its_ts() -> None:
    async with FakeSlackApi() as api:
        ts = await notifier_for(api).send(NEWS, ALERT)
        [post] = api.posted
        assert (post.channel, post.ts, post.thread_ts) == ("C0NEWS", ts, None)
        assert "<https://bulgarianmilitary.com/s400|S-400 battery moved to Kursk>" in post.shown
        assert "New *S-400* launchers" in post.shown
        assert post.params["unfurl_links"] is False


async def test_send_to_a_thread_address_and_with_link_previews() -> None:
    async with FakeSlackApi() as api:
        await notifier_for(api).send(Address("C0NEWS", "1699.000001", link_previews=True), ALERT)
        [post] = api.posted
        assert post.thread_ts == "1699.000001"
        assert post.params["unfurl_links"] is True


async def test_reply_threads_under_the_parent_and_edit_updates_in_place() -> None:
    async with FakeSlackApi() as api:
        notifier = notifier_for(api)
        parent = await notifier.send(NEWS, ALERT)
        await notifier.reply(NEWS, parent, ALERT)
        two_sources = (*STORY.sources, Source("RFE/RL", "https://www.rferl.org/a/s400.html"))
        edited = AlertMessage(
            StoryView(STORY.story_id, STORY.headline, STORY.url, STORY.summary, two_sources),
            ALERT.highlight,
        )
        assert await notifier.edit(NEWS, parent, edited) == parent
        assert api.posted[1].thread_ts == parent
        [update] = api.updated
        assert update.ts == parent
        assert "<https://www.rferl.org/a/s400.html|RFE/RL>" in update.shown


async def test_429_becomes_rate_limited_with_retry_after_and_no_silent_retry() -> None:
    async with FakeSlackApi() as api:
        api.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=7)
        notifier = notifier_for(api)
        with pytest.raises(RateLimited) as caught:
            await notifier.send(NEWS, ALERT)
        assert caught.value.retry_after == 7
        assert len(api.method_calls("chat.postMessage")) == 1 and api.posted == []
        await notifier.send(NEWS, ALERT)  # the outbox's later retry goes through
        assert len(api.posted) == 1


async def test_archived_channel_is_gone() -> None:
    async with FakeSlackApi() as api:
        api.archived.add("C0OLD")
        with pytest.raises(DestinationGone, match="is_archived"):
            await notifier_for(api).send(Address("C0OLD"), ALERT)


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
async def test_channel_errors_are_gone(error: str) -> None:
    async with FakeSlackApi() as api:
        api.fail_next("chat.postMessage", error=error)
        with pytest.raises(DestinationGone):
            await notifier_for(api).send(NEWS, ALERT)


async def test_editing_a_deleted_message_is_message_gone() -> None:
    async with FakeSlackApi() as api:
        notifier = notifier_for(api)
        ts = await notifier.send(NEWS, ALERT)
        api.delete_message("C0NEWS", ts)
        with pytest.raises(MessageGone):
            await notifier.edit(NEWS, ts, ALERT)


async def test_revoked_token_is_not_blamed_on_the_channel() -> None:
    async with FakeSlackApi() as api:
        api.fail_next("chat.postMessage", error="token_revoked")
        with pytest.raises(SlackAuthError) as caught:
            await notifier_for(api).send(NEWS, ALERT)
        assert isinstance(caught.value, TransientError)
        assert not isinstance(caught.value, DestinationGone)


async def test_a_message_slack_refuses_is_rejected_not_transient() -> None:
    async with FakeSlackApi() as api:
        api.fail_next("chat.postMessage", error="invalid_arguments")
        with pytest.raises(MessageRejected):
            await notifier_for(api).send(NEWS, ALERT)


async def test_server_error_is_transient() -> None:
    async with FakeSlackApi() as api:
        api.fail_next("chat.postMessage", error="service_unavailable", status=503)
        with pytest.raises(TransientError):
            await notifier_for(api).send(NEWS, ALERT)


async def test_unreachable_slack_is_transient() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    async with FakeSlackApi() as api:
        notifier = notifier_for(api, base_url=f"http://127.0.0.1:{closed_port}/api/")
        with pytest.raises(TransientError):
            await notifier.send(NEWS, ALERT)


async def test_rejected_blocks_fall_back_to_plain_text() -> None:
    async with FakeSlackApi() as api:
        api.fail_next("chat.postMessage", error="invalid_blocks")
        ts = await notifier_for(api).send(NEWS, ALERT)
        [post] = api.posted
        assert (post.ts, post.blocks) == (ts, [])
        assert post.text == "S-400 battery moved to Kursk — BulgarianMilitary"


# -- HTTP mode -----------------------------------------------------------------------------
async def test_signed_slash_command_reaches_commands_and_answers_ephemerally() -> None:
    commands = RecordingCommands(CommandReply("Watching S-400 (#1)", (Button("Undo", "u:1"),)))
    async with FakeSlackApi() as api, running(api, commands) as runtime:
        body = urlencode(slash_command("watch S-400", response_url=api.response_url()))
        assert await post_signed(runtime, body) == 200
        await api.wait_for(lambda: bool(api.responses))
        [(ctx, text)] = commands.handled
        assert text == "/watch S-400"
        assert (ctx.platform, ctx.platform_chat_id, ctx.user_id) == ("slack", "C0NEWS", "U0ALICE")
        [answer] = api.responses
        assert answer["response_type"] == "ephemeral"
        assert answer["text"] == "Watching S-400 (#1)"
        assert answer["blocks"][-1]["elements"][0]["value"] == "u:1"


class SlowCommands(RecordingCommands):
    """Holds every command until the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def handle(self, ctx: CommandContext, text: str) -> CommandReply:
        await self.release.wait()
        return await super().handle(ctx, text)


async def test_slash_command_is_acked_before_the_command_finishes() -> None:
    commands = SlowCommands()
    async with FakeSlackApi() as api, running(api, commands) as runtime:
        body = urlencode(slash_command("status", response_url=api.response_url()))
        assert await post_signed(runtime, body) == 200  # Slack got its ack; work still pending
        assert commands.handled == [] and api.responses == []
        commands.release.set()
        await api.wait_for(lambda: bool(api.responses))
        assert [text for _, text in commands.handled] == ["/status"]


async def test_replies_name_commands_the_way_slack_users_type_them() -> None:
    commands = RecordingCommands(CommandReply("No rules yet. Add one with /watch S-400."))
    async with FakeSlackApi() as api, running(api, commands) as runtime:
        body = urlencode(slash_command("watchlist", response_url=api.response_url()))
        await post_signed(runtime, body)
        await api.wait_for(lambda: bool(api.responses))
        assert api.responses[0]["text"] == "No rules yet. Add one with /storywatch watch S-400."


async def test_bare_slash_command_is_help() -> None:
    commands = RecordingCommands()
    async with FakeSlackApi() as api, running(api, commands) as runtime:
        await post_signed(runtime, urlencode(slash_command("", response_url=api.response_url())))
        await api.wait_for(lambda: bool(api.responses))
        assert [text for _, text in commands.handled] == ["/help"]


@pytest.mark.parametrize(
    "signing",
    [
        {"secret": "not-the-secret"},
        {"timestamp": int(time.time()) - 600},
        {"timestamp": "now"},
        {"timestamp": "1.7e9"},
        {"timestamp": ""},
    ],
    ids=["bad-signature", "stale-timestamp", "word-timestamp", "float-timestamp", "empty"],
)
async def test_unverifiable_requests_are_rejected(signing: dict[str, Any]) -> None:
    commands = RecordingCommands()
    async with FakeSlackApi() as api, running(api, commands) as runtime:
        body = urlencode(slash_command("stop", response_url=api.response_url()))
        assert await post_signed(runtime, body, **signing) == 401
        assert commands.handled == [] and api.responses == []


async def test_admin_check_is_lazy_cached_and_uses_users_info() -> None:
    commands = RecordingCommands()
    async with FakeSlackApi() as api, running(api, commands) as runtime:
        api.set_user("U0BOSS", is_owner=True)
        api.set_user("U0ALICE")
        # Without a response_url the answer goes out as chat.postEphemeral.
        await post_signed(runtime, urlencode(slash_command("help", response_url="")))
        await api.wait_for(lambda: bool(api.ephemeral))
        assert (api.ephemeral[0].user, api.ephemeral[0].text) == ("U0ALICE", "Watching S-400 (#1)")
        commands.asks_admin = True
        await post_signed(runtime, urlencode(slash_command("mode digest", "", user_id="U0BOSS")))
        await api.wait_for(lambda: len(api.ephemeral) == 2)
        await post_signed(runtime, urlencode(slash_command("mode digest", "", user_id="U0ALICE")))
        await api.wait_for(lambda: len(api.ephemeral) == 3)
        assert commands.admin_answers == [True, True, False, False]
        assert [p["user"] for p in api.method_calls("users.info")] == ["U0BOSS", "U0ALICE"]


async def test_button_click_reaches_on_button_and_answers_ephemerally() -> None:
    commands = RecordingCommands(CommandReply("Muted this story."))
    async with FakeSlackApi() as api, running(api, commands) as runtime:
        payload = block_action("mute:st-42", response_url=api.response_url())
        await post_signed(runtime, urlencode({"payload": json.dumps(payload)}))
        await api.wait_for(lambda: bool(api.responses))
        [(ctx, data)] = commands.pressed
        assert (data, ctx.platform_chat_id, ctx.user_id) == ("mute:st-42", "C0NEWS", "U0ALICE")
        assert api.responses[0]["response_type"] == "ephemeral"
        assert api.responses[0]["text"] == "Muted this story."


async def test_confirm_button_in_an_ephemeral_answer_replaces_that_answer() -> None:
    commands = RecordingCommands(CommandReply("Unsubscribed."))
    async with FakeSlackApi() as api, running(api, commands) as runtime:
        payload = block_action("stop:confirm", response_url=api.response_url(), ephemeral=True)
        await post_signed(runtime, urlencode({"payload": json.dumps(payload)}))
        await api.wait_for(lambda: bool(api.responses))
        assert [data for _, data in commands.pressed] == ["stop:confirm"]
        assert api.responses[0]["replace_original"] is True


async def test_app_mention_is_a_command_answered_in_its_thread() -> None:
    commands = RecordingCommands()
    async with FakeSlackApi() as api, running(api, commands) as runtime:
        event = app_mention("watch S-400 &amp; Patriot", thread_ts="1700000000.000009")
        assert await post_signed(runtime, json.dumps(event)) == 200
        await api.wait_for(lambda: bool(api.posted))
        assert [text for _, text in commands.handled] == ["/watch S-400 & Patriot"]
        [answer] = api.posted
        assert (answer.channel, answer.thread_ts) == ("C0NEWS", "1700000000.000009")
        assert answer.text == "Watching S-400 (#1)"


async def test_http_mode_requires_a_signing_secret() -> None:
    with pytest.raises(ValueError, match="signing_secret"):
        SlackRuntime(BOT_TOKEN, RecordingCommands())


async def test_start_fails_fast_on_a_wrong_bot_token() -> None:
    async with FakeSlackApi(bot_token="xoxb-other") as api:
        runtime = SlackRuntime(
            BOT_TOKEN, RecordingCommands(), signing_secret="s", base_url=api.base_url, port=0
        )
        with pytest.raises(SlackApiError):
            await runtime.start()
        assert runtime.port is None


# -- Socket Mode ---------------------------------------------------------------------------
async def test_socket_mode_slash_command_is_acked_and_handled() -> None:
    commands = RecordingCommands()
    async with FakeSlackApi() as api, running(api, commands, app_token=APP_TOKEN) as runtime:
        assert runtime.port is None  # no HTTP listener in Socket Mode
        payload = slash_command("unwatch 1", response_url=api.response_url())
        envelope_id = await api.push_envelope("slash_commands", payload)
        await api.wait_for(lambda: envelope_id in api.acks)
        await api.wait_for(lambda: bool(api.responses))
        assert [text for _, text in commands.handled] == ["/unwatch 1"]
        assert api.responses[0]["text"] == "Watching S-400 (#1)"


# -- translating what users type -----------------------------------------------------------
def test_command_text_unwraps_slack_links_and_entities() -> None:
    assert command_text("addfeed <https://ex.example/rss?a=1&amp;b=2|ex.example/rss>") == (
        "/addfeed https://ex.example/rss?a=1&b=2"
    )
    assert command_text("watch AT&amp;T &lt;b&gt;") == "/watch AT&T <b>"
    assert command_text("/watch S-400") == "/watch S-400"
    assert command_text("   ") == "/help"


def test_only_the_bots_own_mention_is_stripped() -> None:
    assert strip_mentions("<@U0BOT> watch <@U0ALICE>", "U0BOT") == "watch <@U0ALICE>"
    assert strip_mentions("<@U0BOT|storywatch> help", None) == "help"


def test_slack_spelling_leaves_urls_alone() -> None:
    text = "Try /watch S-400, /watchlist, https://ex.example/watch and /unknown"
    assert slack_spelling(text, ["watch", "watchlist"]) == (
        "Try /storywatch watch S-400, /storywatch watchlist, https://ex.example/watch and /unknown"
    )


async def test_socket_mode_start_fails_fast_on_a_wrong_app_token() -> None:
    async with FakeSlackApi(app_token="xapp-other") as api:
        runtime = SlackRuntime(
            BOT_TOKEN, RecordingCommands(), app_token=APP_TOKEN, base_url=api.base_url
        )
        with pytest.raises(SlackApiError):
            await runtime.start()
        await runtime.stop()


class AnswersTwice(RecordingCommands):
    """Answers "now" and, through the follow-up, "later" (as /addfeed does)."""

    async def handle(self, ctx: CommandContext, text: str) -> CommandReply:
        assert ctx.followup is not None
        self.later = asyncio.create_task(ctx.followup(CommandReply("later: /watch done")))
        return CommandReply("now")


async def test_a_follow_up_arrives_after_the_first_answer_in_the_same_place() -> None:
    commands = AnswersTwice()
    async with FakeSlackApi() as api, running(api, commands) as runtime:
        event = app_mention("addfeed x", thread_ts="1700000000.000009")
        assert await post_signed(runtime, json.dumps(event)) == 200
        await api.wait_for(lambda: len(api.posted) == 2)
        assert [(p.text, p.thread_ts) for p in api.posted] == [
            ("now", "1700000000.000009"),
            ("later: /storywatch watch done", "1700000000.000009"),  # spelled the Slack way
        ]

        hook = api.response_url()
        await post_signed(runtime, urlencode(slash_command("addfeed x", response_url=hook)))
        await api.wait_for(lambda: len(api.responses) == 2)
        assert [r["text"] for r in api.responses] == ["now", "later: /storywatch watch done"]
