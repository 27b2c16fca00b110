"""The Telegram adapter with a real PTB client against the local fake Bot API."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from fakes.telegram_api import (
    BAD_ENTITIES,
    BLOCKED,
    CHAT_NOT_FOUND,
    FakeBotApi,
    migrated,
    too_many_requests,
)
from telegram import Bot
from telegram.error import BadRequest

from bot.core.models import AlertMessage, Highlight, NoticeMessage, Source, StoryView, UpdateMessage
from bot.services.chat.ports import Button, CommandContext, CommandReply
from bot.services.errors import (
    DestinationGone,
    MessageGone,
    MessageRejected,
    RateLimited,
    TransientError,
)
from bot.services.ports import Address
from bot.telegram.app import TelegramRuntime, bot_commands
from bot.telegram.handlers import command_text
from bot.telegram.notifier import TelegramNotifier

USER, GROUP, CHANNEL = 1001, -1001234567890, -1009876543210
STORY = StoryView(
    "g:" + "c" * 32,
    "S-400 moved to Crimea",
    "https://e.example/a",
    "Satellite images show a battery.",
    (Source("RFE/RL", "https://rferl.org/a"),),
)
ALERT = AlertMessage(STORY, Highlight("The S-400 was seen", ((4, 9),)))


class RecordingCommands:
    """A CommandPort that records what reached it and answers with canned replies."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.contexts: list[CommandContext] = []
        self.buttons: list[str] = []
        self.admin_answers: list[bool] = []
        self.migrations: list[tuple[str, str, str]] = []
        self._changed = asyncio.Condition()

    async def handle(self, ctx: CommandContext, text: str) -> CommandReply:
        if text.startswith("/mode"):  # a settings command: the service asks is_admin lazily
            self.admin_answers.append(await ctx.is_admin())
        await self._record(lambda: self._seen(ctx, self.texts, text))
        return CommandReply(f"You said {text} <ok>", (Button("Stop", "stop:confirm"),))

    async def on_button(self, ctx: CommandContext, data: str) -> CommandReply:
        await self._record(lambda: self._seen(ctx, self.buttons, data))
        return CommandReply("Muted: S-400 moved to Crimea")

    async def migrate_chat(self, platform: str, old_id: str, new_id: str) -> None:
        await self._record(lambda: self.migrations.append((platform, old_id, new_id)))

    def command_list(self) -> list[tuple[str, str]]:
        return [("watch", "Follow a topic"), ("help", "What I can do")]

    async def wait_for(self, predicate: Callable[[], Any]) -> None:
        async with asyncio.timeout(5), self._changed:
            await self._changed.wait_for(predicate)

    def _seen(self, ctx: CommandContext, into: list[str], value: str) -> None:
        self.contexts.append(ctx)
        into.append(value)

    async def _record(self, change: Callable[[], object]) -> None:
        async with self._changed:
            change()
            self._changed.notify_all()


@dataclass
class Running:
    api: FakeBotApi
    runtime: TelegramRuntime
    commands: RecordingCommands


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as fake:
        fake.chats.types[CHANNEL] = "channel"
        yield fake


async def started(api: FakeBotApi, **options: Any) -> Running:
    commands = RecordingCommands()
    options.setdefault("rate_limit", False)
    runtime = TelegramRuntime(api.token, commands, base_url=api.base_url, **options)
    await runtime.start()
    return Running(api, runtime, commands)


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Running]:
    running = await started(api)
    yield running
    await running.runtime.stop()


# -- notifier --------------------------------------------------------------------------------


async def test_send_alert_posts_html_with_buttons_into_the_topic(bot: Running) -> None:
    ref = await bot.runtime.notifier.send(Address(str(GROUP), thread_id="7"), ALERT)

    [sent] = bot.api.messages_to(GROUP)
    assert ref == str(sent.message_id)
    assert sent.parse_mode == "HTML"
    assert sent.message_thread_id == 7
    assert "<b>S-400</b>" in sent.text
    assert sent.buttons() == [
        ("Mute story", "mute:" + STORY.story_id),
        ("Sources (1)", "sources:" + STORY.story_id),
    ]
    assert sent.link_preview_options == {"is_disabled": True}


async def test_long_notice_goes_out_in_order_and_returns_the_first_id(bot: Running) -> None:
    ref = await bot.runtime.notifier.send(Address(str(USER)), NoticeMessage("line\n" * 2000))

    sent = bot.api.messages_to(USER)
    assert len(sent) == 3
    assert ref == str(sent[0].message_id)
    assert sum(m.text.count("line") for m in sent) == 2000
    assert all(len(m.text) <= 4096 for m in sent)


async def test_edit_replaces_the_alert_and_a_repeat_edit_is_fine(bot: Running) -> None:
    to = Address(str(GROUP))
    ref = await bot.runtime.notifier.send(to, ALERT)
    more = AlertMessage(
        StoryView(**{**_fields(STORY), "sources": (*STORY.sources, Source("BBC", "https://b"))}),
        ALERT.highlight,
    )

    assert await bot.runtime.notifier.edit(to, ref, more) == ref
    assert await bot.runtime.notifier.edit(to, ref, more) == ref  # "message is not modified"

    [edit] = bot.api.edits
    assert "Sources: RFE/RL, BBC" in edit.text
    assert ("Sources (2)", "sources:" + STORY.story_id) in edit.buttons()


async def test_edit_of_a_deleted_alert_is_message_gone(bot: Running) -> None:
    with pytest.raises(MessageGone):
        await bot.runtime.notifier.edit(Address(str(GROUP)), "999", ALERT)


async def test_update_replies_under_the_alert(bot: Running) -> None:
    to = Address(str(GROUP))
    ref = await bot.runtime.notifier.send(to, ALERT)
    update = UpdateMessage(STORY, "A second battery", Source("BBC", "https://b"))

    reply_ref = await bot.runtime.notifier.reply(to, ref, update)

    reply = bot.api.messages_to(GROUP)[-1]
    assert reply_ref == str(reply.message_id) != ref
    assert reply.reply_parameters == {"message_id": int(ref)}
    assert reply.text.startswith("<b>Update:</b> A second battery")


async def test_update_under_a_deleted_alert_is_message_gone(bot: Running) -> None:
    update = UpdateMessage(STORY, "A second battery", Source("BBC", "https://b"))

    with pytest.raises(MessageGone):
        await bot.runtime.notifier.reply(Address(str(GROUP)), "999", update)
    assert bot.api.messages_to(GROUP) == []


# PTB itself warns while building RetryAfter (its retry_after is becoming a timedelta).
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
@pytest.mark.parametrize("rate_limit", [False, True])
async def test_429_is_rate_limited_with_retry_after_and_no_hidden_retry(
    api: FakeBotApi, rate_limit: bool
) -> None:
    running = await started(api, rate_limit=rate_limit)
    api.fail_next("sendMessage", too_many_requests(7), chat_id=USER)
    try:
        with pytest.raises(RateLimited) as caught:
            await running.runtime.notifier.send(Address(str(USER)), ALERT)
    finally:
        await running.runtime.stop()

    assert caught.value.retry_after == 7
    assert len(api.calls_of("sendMessage")) == 1 and api.sent == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (BLOCKED, DestinationGone),
        (CHAT_NOT_FOUND, DestinationGone),
        (BAD_ENTITIES, MessageRejected),
    ],
)
async def test_api_errors_become_our_error_family(
    bot: Running, error: Any, expected: type[Exception]
) -> None:
    bot.api.fail_next("sendMessage", error)

    with pytest.raises(expected):
        await bot.runtime.notifier.send(Address(str(USER)), ALERT)


async def test_send_to_a_migrated_group_lands_in_the_new_supergroup(bot: Running) -> None:
    bot.api.fail_next("sendMessage", migrated(GROUP), chat_id=-4001)

    ref = await bot.runtime.notifier.send(Address("-4001"), ALERT)

    [alert] = bot.api.sent
    assert (alert.chat_id, str(alert.message_id)) == (GROUP, ref)


async def test_update_or_edit_in_a_migrated_group_is_message_gone(bot: Running) -> None:
    update = UpdateMessage(STORY, "A second battery", Source("BBC", "https://b"))
    bot.api.fail_next("sendMessage", migrated(GROUP), chat_id=-4001)
    bot.api.fail_next("editMessageText", migrated(GROUP), chat_id=-4001)

    with pytest.raises(MessageGone):  # the alert stayed in the old chat: the outbox sends anew
        await bot.runtime.notifier.reply(Address("-4001"), "3", update)
    with pytest.raises(MessageGone):
        await bot.runtime.notifier.edit(Address("-4001"), "3", ALERT)
    assert bot.api.sent == [] and bot.api.edits == []


async def test_the_fake_refuses_what_telegram_would_so_these_tests_mean_something(
    bot: Running,
) -> None:
    for text in ("<b>unclosed", "<script>x</script>", "x" * 4097):
        with pytest.raises(BadRequest):
            await bot.runtime.app.bot.send_message(USER, text, parse_mode="HTML")
    assert bot.api.sent == []


async def test_unreachable_api_is_transient() -> None:
    async with FakeBotApi() as api:
        tg = Bot(api.token, base_url=f"{api.base_url}/bot")
        await tg.initialize()
    try:
        with pytest.raises(TransientError):  # the fake is gone now: connection refused
            await TelegramNotifier(tg).send(Address(str(USER)), ALERT)
    finally:
        await tg.shutdown()


# -- handlers --------------------------------------------------------------------------------


async def test_start_publishes_the_command_menu(bot: Running) -> None:
    assert bot.api.commands == [
        {"command": "watch", "description": "Follow a topic"},
        {"command": "help", "description": "What I can do"},
    ]


async def test_command_reaches_the_service_and_the_reply_goes_back_escaped(bot: Running) -> None:
    asked = bot.api.push_message(USER, "/watch S-400")
    await bot.api.wait_for(lambda: bot.api.messages_to(USER))

    assert bot.commands.texts == ["/watch S-400"]
    ctx = bot.commands.contexts[0]
    assert (ctx.platform, ctx.platform_chat_id, ctx.user_id, ctx.thread_id) == (
        "telegram",
        str(USER),
        str(USER),
        None,
    )
    [reply] = bot.api.messages_to(USER)
    assert reply.text == "You said /watch S-400 &lt;ok&gt;"
    assert reply.reply_parameters == {
        "message_id": asked["message_id"],
        "allow_sending_without_reply": True,
    }
    assert reply.buttons() == [("Stop", "stop:confirm")]


async def test_command_for_another_bot_is_ignored_and_ours_is_stripped(bot: Running) -> None:
    bot.api.push_message(GROUP, "/watch@otherbot S-400")
    bot.api.push_message(GROUP, "/watch@StoryWatch_Bot Patriot")
    await bot.api.wait_for(lambda: bot.api.messages_to(GROUP))

    assert bot.commands.texts == ["/watch Patriot"]


async def test_group_member_is_not_admin_but_an_administrator_is(bot: Running) -> None:
    bot.api.set_member(GROUP, 2002, "administrator")
    bot.api.push_message(GROUP, "/mode digest", user_id=USER)
    bot.api.push_message(GROUP, "/mode digest", user_id=2002)
    await bot.api.wait_for(lambda: len(bot.api.messages_to(GROUP)) == 2)

    assert bot.commands.admin_answers == [False, True]
    assert len(bot.api.calls_of("getChatMember")) == 2


async def test_private_chat_is_admin_without_asking_telegram(bot: Running) -> None:
    bot.api.push_message(USER, "/mode digest")
    await bot.api.wait_for(lambda: bot.api.messages_to(USER))

    assert bot.commands.admin_answers == [True]
    assert bot.api.calls_of("getChatMember") == []


async def test_channel_post_command_works_and_counts_as_admin(bot: Running) -> None:
    bot.api.push_message(CHANNEL, "/mode instant", user_id=None, sender_chat_id=CHANNEL)
    await bot.api.wait_for(lambda: bot.api.messages_to(CHANNEL))

    assert bot.commands.texts == ["/mode instant"]
    assert bot.commands.admin_answers == [True]


async def test_forum_topic_command_carries_the_thread_both_ways(bot: Running) -> None:
    bot.api.push_message(GROUP, "/watch S-400", thread_id=7)
    await bot.api.wait_for(lambda: bot.api.messages_to(GROUP))

    assert bot.commands.contexts[0].thread_id == "7"
    assert bot.api.messages_to(GROUP)[0].message_thread_id == 7


async def test_group_migration_moves_the_chat(bot: Running) -> None:
    bot.api.push_migration(-4001, -1004001)
    await bot.commands.wait_for(lambda: bot.commands.migrations)

    assert bot.commands.migrations == [("telegram", "-4001", "-1004001")]


async def test_button_press_reaches_on_button_is_answered_and_replied(bot: Running) -> None:
    ref = await bot.runtime.notifier.send(Address(str(GROUP)), ALERT)
    query_id = bot.api.push_callback(GROUP, int(ref), "mute:" + STORY.story_id, user_id=2002)
    await bot.api.wait_for(lambda: len(bot.api.messages_to(GROUP)) == 2)

    assert bot.commands.buttons == ["mute:" + STORY.story_id]
    assert bot.commands.contexts[0].user_id == "2002"
    assert bot.api.answered_callbacks == [query_id]
    assert bot.api.messages_to(GROUP)[1].text == "Muted: S-400 moved to Crimea"


async def test_non_text_message_in_private_gets_a_hint(bot: Running) -> None:
    sticker = {"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}
    sticker |= {"is_animated": False, "is_video": False, "type": "regular"}
    bot.api.push_update(
        {
            "message": {
                "message_id": 50,
                "date": 0,
                "chat": bot.api.chats.chat_json(USER),
                "from": {"id": USER, "is_bot": False, "first_name": "Ann"},
                "sticker": sticker,
            }
        }
    )
    await bot.api.wait_for(lambda: bot.api.messages_to(USER))

    assert "/help" in bot.api.messages_to(USER)[0].text
    assert bot.commands.texts == []


# -- webhook ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_requires_the_secret_token(api: FakeBotApi) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg-hook"
    running = await started(
        api, webhook_url=url, webhook_secret="s3cret", listen="127.0.0.1", port=port
    )
    update = {"update_id": 1, "message": api.push_message(USER, "/watch S-400")}
    try:
        assert api.webhook is not None and api.webhook["secret_token"] == "s3cret"
        async with aiohttp.ClientSession() as http:
            wrong = await http.post(url, json=update, headers={_SECRET: "guess"})
            right = await http.post(url, json=update, headers={_SECRET: "s3cret"})
        await api.wait_for(lambda: api.messages_to(USER))
    finally:
        await running.runtime.stop()

    assert (wrong.status, right.status) == (403, 200)
    assert running.commands.texts == ["/watch S-400"]


async def test_webhook_without_a_configured_secret_registers_a_random_one(api: FakeBotApi) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg-hook"
    running = await started(api, webhook_url=url, listen="127.0.0.1", port=port)
    try:
        assert api.webhook is not None and len(api.webhook["secret_token"]) >= 32
        async with aiohttp.ClientSession() as http:
            unsigned = await http.post(url, json={"update_id": 1})
    finally:
        await running.runtime.stop()

    assert unsigned.status == 403


_SECRET = "X-Telegram-Bot-Api-Secret-Token"


def _fields(story: StoryView) -> dict[str, Any]:
    return {name: getattr(story, name) for name in StoryView.__dataclass_fields__}


# -- pure edges ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("/watch S-400", "/watch S-400"),
        ("/watch@StoryWatch_Bot S-400", "/watch S-400"),
        ("/watch@otherbot S-400", None),
        ("/watchlist", "/watchlist"),
        ('/watch\n"air defense" Turkey', '/watch\n"air defense" Turkey'),
        ("hello /watch", None),
    ],
)
def test_command_text_strips_our_name_and_ignores_other_bots(
    typed: str, expected: str | None
) -> None:
    assert command_text(typed, "storywatch_bot") == expected


def test_command_menu_keeps_only_names_telegram_accepts() -> None:
    menu = bot_commands([("/Watch", "Follow a topic"), ("bad-name", "x"), ("help", "")])

    assert [(c.command, c.description) for c in menu] == [
        ("watch", "Follow a topic"),
        ("help", "help"),
    ]
