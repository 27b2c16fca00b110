"""Hostile or odd typing, and a database that fails: one clear line, the same on SQLite and
PostgreSQL, and nothing stored that should not be."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import fresh_postgres_url
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine
from support import SettableClock

from bot.services.chat import replies
from bot.services.chat.commands import CommandService
from bot.services.chat.ports import CommandContext, CommandReply
from bot.storage.store import SqlStore, make_engine


async def _admin() -> bool:
    return True


CTX = CommandContext("console", "c1", "alice", _admin)


class Checks:
    """Every URL passes the feed check (the feed check itself is tested elsewhere)."""

    async def __call__(self, url: str) -> tuple[str | None, str | None]:
        return "A feed", None


def _service(store: SqlStore) -> CommandService:
    return CommandService(store, SettableClock(), Checks(), max_rules=50)


@pytest.fixture
async def commands(store: SqlStore) -> AsyncIterator[CommandService]:
    service = _service(store)
    await service.handle(CTX, "/start")
    yield service


async def say(commands: CommandService, text: str) -> str:
    reply: CommandReply = await commands.handle(CTX, text)
    return reply.text


@pytest.mark.parametrize("key", ["99999999999999999999999", "#99999999999999999999999", "²"])
async def test_unwatch_of_a_huge_or_odd_number_is_one_clear_line(
    commands: CommandService, key: str
) -> None:
    await say(commands, "/watch S-400")
    reply = await say(commands, f"/unwatch {key}")
    assert reply.startswith("No rule ") and reply.endswith("/watchlist shows your rules and IDs.")
    assert "\n" not in reply
    assert await say(commands, "/watchlist") == "Watching:\n#1  S-400"


async def test_removefeed_of_a_huge_number_is_one_clear_line(commands: CommandService) -> None:
    reply = await say(commands, "/removefeed 99999999999999999999999")
    assert reply.startswith("This chat did not add a feed ")


@pytest.mark.parametrize("typed", ["/watch\nS-400", "/watch\tS-400", "/watch \r\n\t S-400 \n"])
async def test_watch_then_a_newline_or_tab_works_like_a_space(
    commands: CommandService, typed: str
) -> None:
    assert await say(commands, typed) == "Watching #1: S-400"
    assert await say(commands, "/watchlist") == "Watching:\n#1  S-400"


async def test_whitespace_inside_a_query_is_stored_as_single_spaces(
    commands: CommandService,
) -> None:
    assert await say(commands, "/watch S-400\n\tTurkey") == "Watching #1: S-400 Turkey"


@pytest.mark.parametrize(
    ("typed", "character"),
    [
        ("/watch a\x00b", "U+0000"),
        ("/watch S-400\x1b[2J", "U+001B"),
        ("/unwatch a\x00b", "U+0000"),
        ("/addfeed http://feeds.example/rss\x00.xml", "U+0000"),
        ("/timezone Europe/Istanbul\x00", "U+0000"),
        ("/digest 08:00\x07", "U+0007"),
        ("/quiet 22:00-07:00\x7f", "U+007F"),
        ("/mute story\x00", "U+0000"),
        ("/watch \ud800", "U+D800"),
    ],
)
async def test_control_characters_are_refused_the_same_on_both_databases(
    commands: CommandService, store: SqlStore, typed: str, character: str
) -> None:
    reply = await say(commands, typed)

    assert reply == (
        f"That contains a control character ({character}); please type it again without it."
    )
    chat = await store.chat_by_platform("console", "c1")
    assert chat is not None
    assert await store.chat_rules(chat.id) == []
    assert [f.url for f in await store.chat_feeds(chat.id)] == []
    assert chat.settings.timezone == "UTC" and chat.settings.digest_time == "08:00"


async def test_a_forged_button_with_a_control_character_is_refused(
    commands: CommandService,
) -> None:
    assert (await commands.on_button(CTX, "mute:st\x00")).text == replies.BUTTON_INVALID


# --- a database that fails ---------------------------------------------------------------
def _fill_limit(store: SqlStore, pages: int) -> None:
    """SQLite's own "database or disk is full" (SQLITE_FULL) once the file reaches `pages`."""

    @event.listens_for(store.engine.sync_engine, "connect")
    def limit(connection: object, _record: object) -> None:
        connection.cursor().execute(f"PRAGMA max_page_count = {pages}")  # type: ignore[attr-defined]


async def test_a_full_disk_answers_storage_unavailable_and_keeps_what_was_stored(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'full.db'}"
    store = await SqlStore.open(url)
    try:
        commands = _service(store)
        await commands.handle(CTX, "/start")
        async with store.engine.connect() as conn:
            pages = int((await conn.exec_driver_sql("PRAGMA page_count")).scalar_one())
        _fill_limit(store, pages)
        await store.engine.dispose()

        answers = [await say(commands, f"/watch {'x' * 400} n{i}") for i in range(30)]

        refused = [a for a in answers if a == replies.STORAGE_UNAVAILABLE]
        kept = [a for a in answers if a.startswith("Watching #")]
        assert refused and len(kept) + len(refused) == len(answers)
        assert answers[len(kept) :] == refused  # once full, every write is refused alike
        listing = await say(commands, "/watchlist")  # reading still works
        assert listing.count("\n#") == len(kept)
    finally:
        await store.close()


async def test_an_unopenable_sqlite_file_answers_storage_unavailable(tmp_path: Path) -> None:
    store = SqlStore(make_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}"))
    try:
        assert await say(_service(store), "/watch S-400") == replies.STORAGE_UNAVAILABLE
    finally:
        await store.close()


async def test_an_unreachable_postgresql_answers_storage_unavailable() -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    store = SqlStore(make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/test_gone"))
    try:
        assert await say(_service(store), "/watch S-400") == replies.STORAGE_UNAVAILABLE
        assert await say(_service(store), "/watchlist") == replies.STORAGE_UNAVAILABLE
    finally:
        await store.close()


@pytest.mark.postgres
async def test_a_read_only_postgresql_refuses_writes_and_still_answers_reads() -> None:
    url = await fresh_postgres_url()
    writable = await SqlStore.open(url)
    await say(_service(writable), "/start")
    await say(_service(writable), "/watch S-400")
    await writable.close()
    # What a hot standby (or a database put in read-only mode) answers: SQLSTATE 25006.
    read_only = {"server_settings": {"default_transaction_read_only": "on"}}
    store = SqlStore(create_async_engine(url, connect_args=read_only))
    try:
        commands = _service(store)
        assert await say(commands, "/watch F-35") == replies.STORAGE_UNAVAILABLE
        assert await say(commands, "/watchlist") == "Watching:\n#1  S-400"
    finally:
        await store.close()
