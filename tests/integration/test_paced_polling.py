"""Paced polling end to end: two feeds over real HTTP on 127.0.0.1, the real poller and store
on a driven clock; the busy feed is due sooner, and a restarted bot keeps what it learnt."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from feedserver import FeedServer
from support import SettableClock, rss
from world import Item

from bot.compose.app import build_app
from bot.core.pace_state import PaceState, observe
from bot.core.pacing import PaceLimits, Pacer
from bot.feeds.reader import HttpFeedReader
from bot.services.poll.pacing import recalibrate
from bot.services.ports import FeedRef
from bot.settings import FeedConfig, Settings
from bot.storage import tables as t
from bot.storage.store import SqlStore

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
BASE = timedelta(minutes=10)
LIMITS = PaceLimits(base=BASE)


def item(outlet: str, n: int, at: datetime) -> Item:
    words = ("harbour", "budget", "storm", "court", "vaccine", "tariff", "summit", "strike")
    title = f"{outlet} report {n}: {words[n % 8]} {words[(n * 3) % 8]} in district {n}"
    return Item(title, f"{title}, officials said.", f"http://{outlet}.example/{n}",
                f"{outlet}-{n}", at)  # fmt: skip


class Outlets:
    """A busy feed (an item every 15 minutes) and a quiet one (one item, at the start)."""

    def __init__(self, server: FeedServer) -> None:
        self.server, self.busy = server, [item("busy", 0, T0)]
        server.set("/quiet.xml", rss("Quiet", [item("quiet", 0, T0)]), etag='"q"')
        self._publish()

    def tick(self, now: datetime) -> None:
        if now - self.busy[-1].published >= timedelta(minutes=15):
            self.busy.append(item("busy", len(self.busy), now))
            self._publish()

    def _publish(self) -> None:
        body = rss("Busy", list(reversed(self.busy[-20:])))
        self.server.set("/busy.xml", body, etag=f'"b{len(self.busy)}"')


async def poll_for(
    url: str, server: FeedServer, outlets: Outlets, clock: SettableClock, hours: int
) -> Rows:
    """The bot as `storywatch run` builds it with paced_polling on, its poll job run each
    simulated minute and its pacing job every five (as their loops would); the feed rows."""
    feeds = [FeedConfig(url=server.url(f"/{n}.xml"), name=n.title()) for n in ("busy", "quiet")]
    settings = Settings(database_url=url, allow_private_feeds=True, feeds=feeds,
                        paced_polling=True, parse_workers=0)  # fmt: skip
    app = await build_app(settings, clock=clock, console=(io.StringIO(), io.StringIO()))
    try:
        poll, calibrate = app.job("poll"), app.job("pacing")
        for minute in range(hours * 60):
            if minute % 5 == 0:
                await calibrate()
            outlets.tick(clock.now())
            await poll()
            clock.advance(minutes=1)
        return await stored(app.store)
    finally:
        await app.close()


Rows = dict[str, tuple[datetime, PaceState]]  # feed title: (next poll, rate state)


async def stored(store: SqlStore) -> Rows:
    async with store.engine.connect() as conn:
        rows = (await conn.execute(t.feeds.select())).mappings().all()
    return {r["title"]: (r["next_poll_at"], PaceState.from_json(r["pace"])) for r in rows}


async def test_the_busy_feed_is_due_sooner_and_a_restart_keeps_the_rates(
    database_url: str,
) -> None:
    clock = SettableClock(T0)
    with FeedServer() as server:
        outlets = Outlets(server)
        # Five hours on a fresh database (paced after the first two, once watched long enough).
        before = await poll_for(database_url, server, outlets, clock, hours=5)
        busy_polls, quiet_polls = server.count("/busy.xml"), server.count("/quiet.xml")
        (busy_due, busy), (quiet_due, quiet), now = before["Busy"], before["Quiet"], clock.now()
        assert busy_due - now < BASE < quiet_due - now
        assert busy_polls > 2 * quiet_polls  # the fixed interval polls both 30 times

        store = await SqlStore.open(database_url)  # a restarted bot
        try:
            assert await stored(store) == before
            # It calibrates from the stored rows alone, and paces as before.
            pacer = Pacer(LIMITS)
            await recalibrate(store, pacer)
            assert pacer.interval(busy, now) < BASE < pacer.interval(quiet, now)
        finally:
            await store.close()
        await poll_for(database_url, server, outlets, clock, hours=1)
        busy_polls = server.count("/busy.xml") - busy_polls
        assert busy_polls > 3 * (server.count("/quiet.xml") - quiet_polls)


async def test_a_publishers_cache_lifetime_outlasts_a_short_paced_interval() -> None:
    pacer = Pacer(LIMITS)
    busy = quiet = observe(PaceState(), [], T0)
    with FeedServer() as server:
        url = server.url("/feed.xml")
        async with HttpFeedReader(allow_private=True, interval=BASE, pacer=pacer) as reader:
            now = T0
            for n in range(1, 50):  # a new item at every poll three minutes apart: busy
                now += timedelta(minutes=3)
                server.set("/feed.xml", rss("Busy", [item("busy", n, now)]))
                result = await reader.read(FeedRef(1, url, pace=busy.to_json()), now)
                busy, quiet = PaceState.from_json(result.pace), observe(quiet, [], now)
                pacer.calibrate([busy, quiet])
            assert result.next_poll_at - now < BASE
            server.set("/feed.xml", rss("Busy", [item("busy", 99, now)]),
                       headers={"Cache-Control": "max-age=1800"})  # fmt: skip
            result = await reader.read(FeedRef(1, url, pace=busy.to_json()), now)
    assert result.next_poll_at == now + timedelta(minutes=30)
