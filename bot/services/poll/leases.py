"""Poll leases: a worker's claim on the feeds it polls, renewed while it works.

A claim lasts one lease (the poll tick) and is renewed every third of it, so a worker that
dies (SIGKILL, power cut) holds its feeds at most one lease; a poll that fails gives its
unsaved feeds back at once. Saving a feed's poll ends its claim (storage does that).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from bot.services.poll.ports import HeldFeeds
from bot.services.ports import Clock

log = logging.getLogger(__name__)


class HeldClaims:
    """`worker`'s claim on `ids`, renewed in the background until `done` or `give_back`."""

    def __init__(
        self, store: HeldFeeds, ids: list[int], worker: str, lease: timedelta, clock: Clock
    ) -> None:
        self._store, self._ids, self._worker = store, ids, worker
        self._renewal = asyncio.create_task(_renew(store, ids, worker, lease, clock))

    def done(self) -> None:
        """The feeds are saved (which ended their claims): stop renewing."""
        self._renewal.cancel()

    async def give_back(self) -> None:
        """The poll failed: release the unsaved feeds so the next tick polls them."""
        self.done()
        with contextlib.suppress(Exception):  # the database may be what failed
            await self._store.release_feeds(self._ids, self._worker)


async def _renew(
    store: HeldFeeds, ids: list[int], worker: str, lease: timedelta, clock: Clock
) -> None:
    while True:
        await asyncio.sleep(lease.total_seconds() / 3)
        try:
            await store.renew_feed_claims(ids, worker, clock.now() + lease)
        except Exception:  # retried at the next beat; the poll itself reports failures
            log.warning("could not renew the poll lease", exc_info=True)
