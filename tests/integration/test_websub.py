"""WebSub end to end over real HTTP on 127.0.0.1: a fake hub, the real callback, the real poll path.

The bot side is what the composition root builds when public_base_url is set: the callback
served on websub_port, pushes saved through the poller, the poller's reader push-aware.
SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fakehub import FakeHub
from feedserver import FeedServer
from sqlalchemy import func, select
from support import rss
from world import MEETING_A, MEETING_B, World, ask

from bot.core.websub import START_SPREAD, SubState
from bot.services.poll.polling import Poller
from bot.services.poll.websub import WebSubService
from bot.storage import tables as t
from bot.storage.websub import WebSubStore
from bot.websub.hub import HubClient
from bot.websub.ingest import PushIngest

SAFETY = timedelta(hours=3)
MAX_BYTES = 200_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Bot:
    """The WebSub half of the bot, as the composition root builds it with push on."""

    subs: WebSubStore
    service: WebSubService
    poller: Poller
    port: int  # the callback listener's
    client: HubClient  # a second client, for a test's own service
    closed: bool = False

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            await self.client.aclose()


async def start_bot(world: World) -> Bot:
    """The world's bot restarted with a public URL: the root serves the callbacks on its
    websub_port, wraps the poller's reader and saves pushes through the poller."""
    await world.stop()
    port = free_port()
    app = await world.start(public_base_url=f"http://127.0.0.1:{port}", websub_port=port,
                            listen_host="127.0.0.1", max_feed_bytes=MAX_BYTES)  # fmt: skip
    await app.start()  # the callback listener, as `storywatch run` starts it
    assert app.websub is not None
    return Bot(WebSubStore(app.store.engine), app.websub, app.poller, port,
               HubClient(allow_private=True))  # fmt: skip


@pytest.fixture
async def hub() -> AsyncIterator[FakeHub]:
    started = await FakeHub.start()
    yield started
    await started.stop()


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    with FeedServer() as server:
        w = World(server, database_url)
        app = await w.start()
        assert (await ask(app, "/watch S-400")).startswith("Watching #1")
        yield w
        await w.stop()


@pytest.fixture
async def bot(world: World) -> AsyncIterator[Bot]:
    started = await start_bot(world)
    yield started
    await started.close()


def publish_with_hub(world: World, hub: FakeHub, *items: object) -> str:
    """Outlet A's feed, naming the hub in its Link header; returns the topic (the feed URL)."""
    topic = world.server.url("/a.xml")
    link = f'<{hub.url}>; rel="hub", <{topic}>; rel="self"'
    world.server.set("/a.xml", rss("Outlet A", list(items)), headers={"Link": link})  # type: ignore[arg-type]
    return topic


async def poll(world: World, bot: Bot) -> None:
    world.clock.advance(minutes=30)
    await bot.poller.poll_once()
    assert world.app is not None
    await world.app.deliverer.drain()


async def subscribed(world: World, bot: Bot, hub: FakeHub) -> str:
    """Outlet A polled once (its hub discovered), then the subscription made and verified."""
    topic = publish_with_hub(world, hub)
    await poll(world, bot)
    world.clock.advance(seconds=START_SPREAD.total_seconds())
    await bot.service.tick()
    assert hub.subscriber(topic).verified
    return topic


async def stored_articles(world: World) -> int:
    assert world.app is not None
    async with world.app.store.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(t.articles)) or 0)


async def next_poll_of(world: World, url: str) -> object:
    assert world.app is not None
    query = select(t.feeds.c.next_poll_at).where(t.feeds.c.url == url)
    async with world.app.store.engine.connect() as conn:
        return await conn.scalar(query)


async def test_a_feed_naming_a_hub_is_subscribed_verified_and_shown_in_status(
    world: World, bot: Bot, hub: FakeHub
) -> None:
    topic = await subscribed(world, bot, hub)
    [request] = hub.requests
    assert request.mode == "subscribe" and request.topic == topic
    assert request.callback.startswith(f"http://127.0.0.1:{bot.port}/websub/")
    assert len(request.secret) >= 32
    sub = await bot.subs.by_token(_token(hub, topic))
    assert sub is not None and sub.state is SubState.LIVE
    assert await bot.service.pushed_feeds() == {sub.feed_id}
    assert world.app is not None
    assert "1 pushed by hub" in await ask(world.app, "/status")


async def test_a_push_alerts_through_the_same_pipeline_and_a_repeat_or_poll_saves_it_once(
    world: World, bot: Bot, hub: FakeHub
) -> None:
    topic = await subscribed(world, bot, hub)
    body = rss("Outlet A", [MEETING_A])
    assert await hub.push(topic, body) == 202
    assert world.app is not None
    await world.app.deliverer.drain()
    assert world.notifier.actions() == ["send"]
    assert await hub.push(topic, body) == 202
    publish_with_hub(world, hub, MEETING_A)
    await poll(world, bot)
    assert world.notifier.actions() == ["send"]
    assert await stored_articles(world) == 1


async def test_a_polled_pushed_feed_waits_for_the_safety_poll(
    world: World, bot: Bot, hub: FakeHub
) -> None:
    topic = await subscribed(world, bot, hub)
    await poll(world, bot)
    assert await next_poll_of(world, topic) == world.clock.now() + SAFETY


async def test_a_forged_unsigned_or_downgraded_push_is_acknowledged_and_dropped(
    world: World, bot: Bot, hub: FakeHub
) -> None:
    topic = await subscribed(world, bot, hub)
    assert await hub.push(topic, rss("Outlet A", [MEETING_A]), secret="guessed") == 202
    assert await hub.push(topic, rss("Outlet A", [MEETING_A]), algorithm=None) == 202
    assert await stored_articles(world) == 0
    assert await hub.push(topic, rss("Outlet A", [MEETING_A]), algorithm="sha512") == 202
    assert await stored_articles(world) == 1
    # sha1 once a stronger algorithm was seen: refused even with the right secret
    assert await hub.push(topic, rss("Outlet A", [MEETING_B]), algorithm="sha1") == 202
    assert await stored_articles(world) == 1


async def test_sha1_is_taken_from_a_hub_that_never_signed_stronger(
    world: World, bot: Bot, hub: FakeHub
) -> None:
    topic = await subscribed(world, bot, hub)
    assert await hub.push(topic, rss("Outlet A", [MEETING_A]), algorithm="sha1") == 202
    assert await stored_articles(world) == 1


async def test_a_replayed_or_foreign_verification_is_404_and_changes_nothing(
    world: World, bot: Bot, hub: FakeHub
) -> None:
    topic = await subscribed(world, bot, hub)
    sub = hub.subscriber(topic)
    before = await bot.subs.by_token(sub.callback.rsplit("/", 1)[1])
    assert (await hub.verify(sub, "subscribe"))[0] == 404  # replay: nothing awaits it
    assert (await hub.verify(sub, "unsubscribe"))[0] == 404  # never asked
    assert (await hub.verify(sub, "subscribe", topic="http://evil.example/x"))[0] == 404
    stranger = type(sub)(topic, sub.callback.rsplit("/", 1)[0] + "/nosuchtoken", "", None)
    assert (await hub.verify(stranger, "subscribe"))[0] == 404
    assert await bot.subs.by_token(sub.callback.rsplit("/", 1)[1]) == before


async def test_the_lease_is_renewed_before_it_ends(world: World, bot: Bot, hub: FakeHub) -> None:
    hub.lease_seconds = 3600
    topic = await subscribed(world, bot, hub)
    world.clock.advance(minutes=45)
    await bot.service.tick()
    assert len(hub.requests) == 1  # not yet: 85% of the lease is 51 minutes
    world.clock.advance(minutes=7)
    await bot.service.tick()
    assert [r.mode for r in hub.requests] == ["subscribe", "subscribe"]
    world.clock.advance(minutes=30)  # past the first lease's end: the renewed one runs
    await bot.service.tick()
    assert await bot.service.is_pushed((await bot.subs.by_token(_token(hub, topic))).feed_id)  # type: ignore[union-attr]


async def test_a_hub_that_goes_away_returns_the_feed_to_normal_polling(
    world: World, bot: Bot, hub: FakeHub
) -> None:
    hub.lease_seconds = 3600
    topic = await subscribed(world, bot, hub)
    token = _token(hub, topic)
    await poll(world, bot)  # pushed: the next poll is the safety poll, hours away
    await hub.stop()
    world.clock.advance(minutes=25)
    report = await bot.service.tick()
    assert report.failures == 1
    world.clock.advance(minutes=10)
    await bot.service.tick()
    sub = await bot.subs.by_token(token)
    assert sub is not None and sub.state is SubState.NEW and sub.last_error == "lease lapsed"
    assert await next_poll_of(world, topic) == world.clock.now()  # due now, not in hours
    await poll(world, bot)
    assert await next_poll_of(world, topic) < world.clock.now() + timedelta(hours=1)  # type: ignore[operator]
    assert world.app is not None
    assert "pushed by hub" not in await ask(world.app, "/status")


async def test_a_denied_subscription_is_polled_normally(
    world: World, bot: Bot, hub: FakeHub
) -> None:
    topic = await subscribed(world, bot, hub)
    assert await hub.deny(hub.subscriber(topic)) == 200
    sub = await bot.subs.by_token(_token(hub, topic))
    assert sub is not None and sub.state is SubState.NEW and "not allowed" in (sub.last_error or "")
    assert await bot.service.pushed_feeds() == set()


async def test_a_restart_mid_lease_keeps_the_subscription_without_subscribing_again(
    world: World, bot: Bot, hub: FakeHub
) -> None:
    topic = await subscribed(world, bot, hub)
    await bot.close()
    await world.stop()
    await world.start()
    again = await start_bot(world)
    try:
        callback = hub.subscriber(topic).callback.replace(
            f":{bot.port}/", f":{again.port}/"
        )  # the test's port changed; a real bot keeps its public URL
        await poll(world, again)
        world.clock.advance(minutes=10)
        await again.service.tick()
        assert len(hub.requests) == 1
        status = await hub.push(topic, rss("Outlet A", [MEETING_A]), callback=callback)
        assert status == 202 and await stored_articles(world) == 1
    finally:
        await again.close()


async def test_an_oversize_push_is_413_and_saves_nothing(
    world: World, bot: Bot, hub: FakeHub
) -> None:
    topic = await subscribed(world, bot, hub)
    big = rss("Outlet A", [MEETING_A]).replace(b"</channel>", b" " * MAX_BYTES + b"</channel>")
    assert await hub.push(topic, big) == 413
    assert await stored_articles(world) == 0


async def test_a_hostile_xml_push_is_dropped(
    world: World, bot: Bot, hub: FakeHub, shared_dir: Path
) -> None:
    topic = await subscribed(world, bot, hub)
    bomb = (shared_dir / "data/feeds/hostile/xmlbomb.xml").read_bytes()
    assert await hub.push(topic, bomb) == 202
    assert await stored_articles(world) == 0


async def test_a_push_to_an_unknown_callback_is_410(world: World, bot: Bot, hub: FakeHub) -> None:
    topic = await subscribed(world, bot, hub)
    wrong = f"http://127.0.0.1:{bot.port}/websub/not-a-token"
    assert await hub.push(topic, rss("Outlet A", [MEETING_A]), callback=wrong) == 410


async def test_logs_never_carry_the_token_or_the_secret(
    world: World, bot: Bot, hub: FakeHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # (a database driver's DEBUG lines show query parameters)
    caplog.set_level(logging.DEBUG, logger="bot")
    hub.lease_seconds = 3600
    topic = await subscribed(world, bot, hub)
    sub = hub.subscriber(topic)
    await hub.push(topic, rss("Outlet A", [MEETING_A]), secret="forged")
    await hub.stop()
    world.clock.advance(minutes=70)
    await bot.service.tick()
    await bot.service.tick()
    text = caplog.text
    assert "push dropped" in text and "lease lapsed" in text
    assert _token(hub, topic) not in text and sub.secret not in text


async def test_the_cluster_sink_queues_a_push_once_for_the_story_stage(
    world: World, bot: Bot, hub: FakeHub
) -> None:
    topic = await subscribed(world, bot, hub)
    ingest = PushIngest(lambda a: bot.subs.queue_pushed(a, world.clock.now()), world.clock)
    cluster = WebSubService(bot.subs, bot.client, ingest, world.clock, base_url="http://x")
    token = _token(hub, topic)
    sub = hub.subscriber(topic)
    body = rss("Outlet A", [MEETING_A, MEETING_B])
    signature = "sha256=" + _hmac(sub.secret, body)
    await cluster.receive(token, body, signature)
    await cluster.receive(token, body, signature)
    assert world.app is not None
    async with world.app.store.engine.connect() as conn:
        queued = int(await conn.scalar(select(func.count()).select_from(t.inbox)) or 0)
    assert queued == 2 and await stored_articles(world) == 0


def _token(hub: FakeHub, topic: str) -> str:
    return hub.subscriber(topic).callback.rsplit("/", 1)[1]


def _hmac(secret: str, body: bytes) -> str:
    import hashlib
    import hmac

    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class RecordingHub:
    """A HubPort that accepts every request and remembers the feeds it was asked about."""

    def __init__(self) -> None:
        self.topics: list[str] = []

    async def request(self, hub: str, *, mode: str, topic: str, callback: str, secret: str,
                      lease_seconds: int) -> None:  # fmt: skip
        self.topics.append(topic)


async def test_many_hub_feeds_at_start_are_subscribed_in_a_trickle(world: World) -> None:
    assert world.app is not None
    urls = [(f"https://outlet{i}.example/rss", f"o{i}") for i in range(200)]
    await world.app.store.sync_default_feeds(urls, world.clock.now())
    subs, recording = WebSubStore(world.app.store.engine), RecordingHub()
    service = WebSubService(subs, recording, PushIngest(_nothing, world.clock), world.clock,
                            base_url="https://bot.example", batch=20)  # fmt: skip
    async with world.app.store.engine.connect() as conn:
        ids = list(await conn.scalars(select(t.feeds.c.id).where(t.feeds.c.url.like("%outlet%"))))
    for feed_id in ids:
        await service.offer(feed_id, "https://hub.example/", f"topic-{feed_id}")
    sent = []
    for _ in range(10):  # a tick every 30 s over five minutes
        await service.tick()
        sent.append(len(recording.topics))
        world.clock.advance(seconds=30)
    per_tick = [b - a for a, b in zip([0, *sent], sent, strict=False)]
    assert max(per_tick) <= 20 and sent[0] < 40
    for _ in range(3):  # (unverified requests are retried after 5 minutes, in the same slots)
        await service.tick()
        world.clock.advance(seconds=30)
    assert len(set(recording.topics)) == 200


async def test_the_hub_client_refuses_a_private_hub_unless_allowed(hub: FakeHub) -> None:
    from bot.services.poll.websub import HubError

    strict = HubClient(allow_private=False)
    try:
        with pytest.raises(HubError, match="refused"):
            await strict.request(hub.url, mode="subscribe", topic="t", callback="http://x/",
                                 secret="s", lease_seconds=60)  # fmt: skip
    finally:
        await strict.aclose()
    assert hub.requests == []


async def _nothing(_: object) -> int:
    return 0


async def test_a_feed_no_chat_uses_any_more_is_unsubscribed_and_wanted_again_resubscribed(
    world: World, bot: Bot, hub: FakeHub
) -> None:
    topic = await subscribed(world, bot, hub)
    token = _token(hub, topic)
    feed = await bot.subs.by_token(token)
    assert world.app is not None and feed is not None
    await world.app.store.sync_default_feeds([], world.clock.now())  # no chat polls "a" now
    await bot.service.tick()
    assert [r.mode for r in hub.requests] == ["subscribe", "unsubscribe"]
    assert hub.subscribers == {} and await bot.subs.by_token(token) is None
    await world.app.store.sync_default_feeds([(topic, "a")], world.clock.now())
    await bot.service.offer(
        feed.feed_id, hub.url, topic
    )  # wanted again: its next poll offers the hub
    world.clock.advance(seconds=START_SPREAD.total_seconds())
    await bot.service.tick()
    assert hub.subscriber(topic).verified and _token(hub, topic) != token


async def test_a_hub_refusing_the_request_is_asked_again_after_a_backoff(
    world: World, bot: Bot, hub: FakeHub
) -> None:
    topic = publish_with_hub(world, hub)
    await poll(world, bot)
    hub.answer = 503
    world.clock.advance(seconds=START_SPREAD.total_seconds())
    assert (await bot.service.tick()).failures == 1
    assert await bot.service.pushed_feeds() == set() and hub.subscribers == {}
    hub.answer = 202
    world.clock.advance(minutes=4)
    assert (await bot.service.tick()).requests == 0  # backing off: five minutes first
    world.clock.advance(minutes=1)
    await bot.service.tick()
    assert hub.subscriber(topic).verified and len(await bot.service.pushed_feeds()) == 1


async def test_copies_of_one_verification_arriving_at_once_are_answered_once(
    world: World, bot: Bot, hub: FakeHub
) -> None:
    hub.verify_at_once = False
    topic = publish_with_hub(world, hub)
    await poll(world, bot)
    world.clock.advance(seconds=START_SPREAD.total_seconds())
    await bot.service.tick()
    [request] = hub.requests
    answers = await asyncio.gather(*(hub.verify(request, "subscribe") for _ in range(8)))
    assert sorted(status for status, _ in answers) == [200] + [404] * 7
    assert await bot.service.pushed_feeds() == {(await _feed(world, topic))}


async def _feed(world: World, url: str) -> int:
    assert world.app is not None
    async with world.app.store.engine.connect() as conn:
        return int(await conn.scalar(select(t.feeds.c.id).where(t.feeds.c.url == url)) or 0)
