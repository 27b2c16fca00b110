"""Driver errors that mean "the database is unavailable" become the port's StorageUnavailable.

Unavailable: SQLite's disk full, read-only or locked file, a file that cannot be opened;
PostgreSQL down, unreachable, restarting, read-only (a standby) or out of disk. Anything else
(a constraint, a bug in a query) is not the user's to retry and propagates unchanged.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import exc as sa

from bot.services.errors import StorageUnavailable

T = TypeVar("T")
# SQLSTATE classes: 08 connection exception, 53 insufficient resources (53100 disk full),
# 57P operator intervention (shutdown, cannot connect now), 25006 read-only transaction.
_PG_UNAVAILABLE = ("08", "53", "57P", "25006")


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot serve us now (rather than a bad query)."""
    if isinstance(error, (sa.OperationalError, sa.InterfaceError, sa.DisconnectionError)):
        return True
    if isinstance(error, sa.DBAPIError):
        state = str(getattr(error.orig, "sqlstate", "") or "")
        return error.connection_invalidated or state.startswith(_PG_UNAVAILABLE)
    return isinstance(error, OSError)  # refused, reset, timed out before the driver answered


def _translated(method: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    @functools.wraps(method)
    async def call(*args: Any, **kwargs: Any) -> T:
        try:
            return await method(*args, **kwargs)
        except Exception as error:
            if is_unavailable(error):
                raise StorageUnavailable(f"{type(error).__name__}: {error}"[:300]) from error
            raise

    return call


def translate_errors(cls: type[T]) -> type[T]:
    """Wrap every public coroutine method of `cls` (inherited ones too) with the translation."""
    for name, member in inspect.getmembers(cls, inspect.iscoroutinefunction):
        if not name.startswith("_") and not isinstance(
            inspect.getattr_static(cls, name), classmethod
        ):
            setattr(cls, name, _translated(member))
    return cls
