"""Turns Telegram updates into CommandPort calls and sends the replies back."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from telegram import Bot, Chat, Message, ReplyParameters, Update, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.services.chat.feed_checks import FollowUp
from bot.services.chat.ports import Attachment, CommandContext, CommandPort, CommandReply
from bot.services.errors import AdminCheckFailed
from bot.telegram.files import CAPTION_LIMIT, IMPORT, attachment, send_file, wants_import
from bot.telegram.render import PARSE_MODE, render_reply

log = logging.getLogger(__name__)

PLATFORM = "telegram"
PRIVATE_HINT = CommandReply(
    "I follow news stories for you and answer commands only. "
    "Try /watch S-400 to follow a topic, or /help for everything I can do."
)
FAILED = CommandReply("Sorry, that did not work. Please try again in a moment.")
ADMIN_STATUSES = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
# getChatMember answers these (Bad Request) for someone who is simply not in the chat.
NOT_A_MEMBER = ("user not found", "participant_id_invalid", "member not found")
COMMAND = re.compile(r"/(?P<name>\w+)(?:@(?P<bot>\w+))?(?P<rest>.*)", re.DOTALL)


def command_text(text: str, bot_username: str) -> str | None:
    """ "/watch@ours S-400" → "/watch S-400"; None when not a command or meant for another bot."""
    match = COMMAND.fullmatch(text.strip())
    if match is None:
        return None
    target = match["bot"]
    if target and target.lower() != bot_username.lower():
        return None
    return f"/{match['name']}{match['rest']}"


def admin_check(
    bot: Bot, chat: Chat, user: User | None, sender_chat: Chat | None
) -> Callable[[], Awaitable[bool]]:
    """A lazy, memoised is_admin: getChatMember is asked only if a command needs it."""
    known: list[bool] = []

    async def is_admin() -> bool:
        if not known:
            known.append(await _is_admin(bot, chat, user, sender_chat))
        return known[0]

    return is_admin


async def _is_admin(bot: Bot, chat: Chat, user: User | None, sender_chat: Chat | None) -> bool:
    if chat.type == ChatType.PRIVATE:
        return True
    if sender_chat is not None:
        # Posting as the chat itself is reserved to its admins: channel posts and anonymous
        # group admins. A linked channel posting into its discussion group is not an admin.
        return sender_chat.id == chat.id
    if user is None:
        return False
    try:
        member = await bot.get_chat_member(chat.id, user.id)
    except BadRequest as error:
        if any(reason in error.message.lower() for reason in NOT_A_MEMBER):
            return False
        raise AdminCheckFailed(f"getChatMember: {error.message}") from error
    except TelegramError as error:
        # Neither yes nor no: the command is refused with "try again", never granted.
        raise AdminCheckFailed(f"getChatMember: {type(error).__name__}: {error}") from error
    return member.status in ADMIN_STATUSES


def topic_of(message: object) -> int | None:
    """The forum topic a message belongs to (reply threads in plain groups are not topics)."""
    if isinstance(message, Message) and message.is_topic_message:
        return message.message_thread_id
    return None


def context_for(
    bot: Bot,
    chat: Chat,
    user: User | None,
    sender_chat: Chat | None,
    thread: int | None,
    followup: FollowUp | None = None,
) -> CommandContext:
    sender = user or sender_chat or chat  # channel posts have no user: the channel speaks
    return CommandContext(
        platform=PLATFORM,
        platform_chat_id=str(chat.id),
        user_id=str(sender.id),
        is_admin=admin_check(bot, chat, user, sender_chat),
        thread_id=str(thread) if thread is not None else None,
        user_name=user.full_name if user else getattr(sender_chat, "title", None) or "",
        followup=followup,
    )


async def send_reply(
    bot: Bot, chat_id: int, reply: CommandReply, thread: int | None, answer_to: int | None
) -> None:
    """Send a command reply into the same chat and topic, quoting what it answers."""
    if reply.file is not None and len(reply.text) <= CAPTION_LIMIT:
        await send_file(bot, chat_id, reply.file, reply.text, thread)
        return
    if reply.text.strip():
        await _send_text(bot, chat_id, reply, thread, answer_to)
    if reply.file is not None:
        await send_file(bot, chat_id, reply.file, "", thread)


async def _send_text(
    bot: Bot, chat_id: int, reply: CommandReply, thread: int | None, answer_to: int | None
) -> None:
    out = render_reply(reply)
    for index, chunk in enumerate(out.chunks):
        quote = answer_to if index == 0 else None
        await bot.send_message(
            chat_id,
            chunk,
            parse_mode=PARSE_MODE,
            reply_markup=out.keyboard if index == 0 else None,
            link_preview_options=out.link_preview_options,
            message_thread_id=thread,
            reply_parameters=(
                ReplyParameters(quote, allow_sending_without_reply=True) if quote else None
            ),
        )


class TelegramHandlers:
    """PTB callbacks for one CommandPort; `install` registers them on an Application."""

    def __init__(self, commands: CommandPort) -> None:
        self._commands = commands

    def install(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        new_posts = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self.on_migrate))
        app.add_handler(MessageHandler(new_posts & filters.COMMAND, self.on_command))
        app.add_handler(MessageHandler(new_posts & filters.Document.ALL, self.on_document))
        app.add_handler(CallbackQueryHandler(self.on_button))
        private_other = (
            filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & ~filters.StatusUpdate.ALL
        )
        app.add_handler(MessageHandler(private_other, self.on_private_other))
        app.add_error_handler(self.on_error)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        text = command_text(message.text, context.bot.username)
        if text is not None:  # else addressed to another bot in the same group
            await self._command(update, context, text)

    async def on_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An OPML file for /import: captioned /import, or a reply to our prompt."""
        message = update.effective_message
        if message is None or message.document is None:
            return
        caption = command_text(message.caption or "", context.bot.username)
        if wants_import(message, context.bot.id, caption):
            file = attachment(context.bot, message.document)
            await self._command(update, context, caption or IMPORT, file)

    async def _command(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        text: str,
        file: Attachment | None = None,
    ) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        thread, bot = topic_of(message), context.bot

        async def answer(reply: CommandReply) -> None:
            await send_reply(bot, chat.id, reply, thread, message.message_id)

        later = FollowUp(answer)
        ctx = context_for(bot, chat, message.from_user, message.sender_chat, thread, later)
        reply = await self._reply(replace(ctx, attachment=file), text, chat.id)
        try:
            await answer(reply)
        finally:
            later.answered()

    async def _reply(self, ctx: CommandContext, text: str, chat_id: int) -> CommandReply:
        """The command's answer; a failure is logged and answered with a short apology."""
        try:
            return await self._commands.handle(ctx, text)
        except Exception:
            log.exception("command %r failed in chat %s", text.split()[0], chat_id)
            return FAILED

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        message = query.message
        if message is None or not query.data:
            await query.answer()  # inline-mode or data-less press: just stop the spinner
            return
        thread = topic_of(message)
        ctx = context_for(context.bot, message.chat, query.from_user, None, thread)
        try:
            reply = await self._commands.on_button(ctx, query.data)
        except Exception:
            log.exception("button %r failed in chat %s", query.data, message.chat.id)
            reply = FAILED
        finally:
            await query.answer()
        await send_reply(context.bot, message.chat.id, reply, thread, message.message_id)

    async def on_migrate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Both the old group and the new supergroup get a service message; acting on the old
        # one's migrate_to_chat_id alone keeps the migration a single call.
        message = update.effective_message
        if message is None or message.migrate_to_chat_id is None:
            return
        old, new = str(message.chat.id), str(message.migrate_to_chat_id)
        await self._commands.migrate_chat(PLATFORM, old, new)

    async def on_private_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None:
            await send_reply(context.bot, message.chat.id, PRIVATE_HINT, None, None)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # The update id only: the update itself carries what users wrote, and their names.
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("telegram update %s failed", update_id, exc_info=context.error)
