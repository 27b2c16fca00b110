"""The bot's database URL handed to psycopg (procrastinate) in libpq's own form."""

from __future__ import annotations

import pytest

from bot.cluster.conninfo import libpq_conninfo


def test_an_asyncpg_url_becomes_a_libpq_url_keeping_password_port_and_tls() -> None:
    url = "postgresql+asyncpg://bot:p%40ss@db.example:5433/storywatch?ssl=require"
    assert (
        libpq_conninfo(url) == "postgresql://bot:p%40ss@db.example:5433/storywatch?sslmode=require"
    )


def test_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        libpq_conninfo("sqlite+aiosqlite:///data/storywatch.db")
