"""Files in Telegram: an OPML document sent for /import, and the /export file sent back."""

from __future__ import annotations

from telegram import Bot, Document, InputFile, Message

from bot.services.chat.opml_import import PROMPT
from bot.services.chat.ports import Attachment, ReplyFile

IMPORT = "/import"
CAPTION_LIMIT = 1024  # Telegram's limit for a document's caption


def wants_import(message: Message, bot_id: int, command: str | None) -> bool:
    """A document with the caption /import, or sent as a reply to our /import prompt."""
    if command is not None:
        return command.split(maxsplit=1)[0].lower() == IMPORT
    asked = message.reply_to_message
    return (
        asked is not None
        and asked.from_user is not None
        and asked.from_user.id == bot_id
        and (asked.text or "").startswith(PROMPT[:40])
    )


def attachment(bot: Bot, document: Document) -> Attachment:
    """The document, downloaded only when the command reads it (a document announced as
    bigger than the limit is refused before that)."""

    async def read(limit: int) -> bytes:
        file = await bot.get_file(document.file_id)
        return bytes(await file.download_as_bytearray())[: limit + 1]

    return Attachment(document.file_name or "file", document.file_size, read)


async def send_file(
    bot: Bot, chat_id: int, file: ReplyFile, caption: str, thread: int | None
) -> None:
    """The reply's file as a document, its text as the caption when it fits."""
    await bot.send_document(
        chat_id,
        InputFile(file.data, filename=file.name),
        caption=caption if 0 < len(caption) <= CAPTION_LIMIT else None,
        message_thread_id=thread,
    )
