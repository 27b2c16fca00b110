"""Shared fixtures: a clean environment for every test, and a store on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.storage.store import SqlStore

POSTGRES_ENV = "STORYWATCH_TEST_POSTGRES_URL"
_KEEP = {POSTGRES_ENV}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No token, database or config from the developer's shell leaks into a test."""
    prefixes = ("STORYWATCH_", "TELEGRAM_", "SLACK_")
    for name in list(os.environ):
        if (name.startswith(prefixes) or name == "DATABASE_URL") and name not in _KEEP:
            monkeypatch.delenv(name)
    # Feeds parse in a thread: a spawned parser process per app would add a second to
    # every test. tests/integration/test_parse_pool.py covers the processes.
    monkeypatch.setenv("STORYWATCH_PARSE_WORKERS", "0")
    monkeypatch.chdir(tmp_path)
    yield


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'storywatch.db'}"


def require_test_database(url: str) -> str:
    """The database name in `url`, if it is clearly a test database; else pytest.fail.

    The fixture below drops the whole `public` schema, so it must never run against a database
    that merely happens to be named in the variable: the name has to say "test".
    """
    name = make_url(url).database or ""
    if "test" not in name.lower():
        pytest.fail(
            f"{POSTGRES_ENV} names the database {name!r}, which is not a test database: the "
            "PostgreSQL tests drop its public schema, so its name must contain 'test' "
            "(e.g. test or test_mine).",
            pytrace=False,
        )
    return name


async def fresh_postgres_url() -> str:
    """The test server's URL with an empty public schema."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    require_test_database(url)
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated-on-open database URL: a SQLite file, or the PostgreSQL test server."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return await fresh_postgres_url()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    opened = await SqlStore.open(database_url)
    yield opened
    await opened.close()


@pytest.fixture
def shared_dir() -> Path:
    """`../shared` beside the repository; tests that need it skip when it is absent."""
    path = Path(__file__).resolve().parents[1].parent / "shared"
    if not path.is_dir():
        pytest.skip("../shared is not present")
    return path
