"""The bot's SQLAlchemy database URL as a libpq connection string for psycopg (procrastinate)."""

from __future__ import annotations

from sqlalchemy.engine import make_url

# asyncpg spells TLS `ssl=`; libpq spells it `sslmode=` (same values: disable … verify-full).
_QUERY_NAMES = {"ssl": "sslmode"}


def libpq_conninfo(url: str) -> str:
    """`postgresql+asyncpg://u:p@h:5432/db?ssl=require` -> `postgresql://u:p@h:5432/db?sslmode=require`."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError("a cluster needs PostgreSQL")
    query = {_QUERY_NAMES.get(key, key): value for key, value in parsed.query.items()}
    plain = parsed.set(drivername="postgresql", query=query)
    return plain.render_as_string(hide_password=False)
