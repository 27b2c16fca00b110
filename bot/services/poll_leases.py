"""Poll leases: a worker's claim on the feeds it polls, renewed while it works.

A claim lasts one lease (the poll tick) and is renewed every third of it, so a worker that
dies (SIGKILL, power cut) holds its feeds at most one lease; a poll that fails gives its
unsaved feeds back at once. Saving a feed's poll ends its claim (storage does that).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from bot.services.ports import Clock
from bot.services.store_port import Store

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def held_claims(
    store: Store, ids: list[int], worker: str, lease: timedelta, clock: Clock
) -> AsyncIterator[None]:
    """Keep `worker`'s claim on `ids` alive inside the block; release it if the block fails."""
    renewal = asyncio.create_task(_renew(store, ids, worker, lease, clock))
    try:
        yield
    except Exception:
        with contextlib.suppress(Exception):  # the database may be what failed
            await store.release_feeds(ids, worker)
        raise
    finally:
        renewal.cancel()


async def _renew(store: Store, ids: list[int], worker: str, lease: timedelta, clock: Clock) -> None:
    while True:
        await asyncio.sleep(lease.total_seconds() / 3)
        try:
            await store.renew_feed_claims(ids, worker, clock.now() + lease)
        except Exception:  # retried at the next beat; the poll itself reports failures
            log.warning("could not renew the poll lease", exc_info=True)
