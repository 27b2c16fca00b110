"""The WebSub use case: subscribe feeds that name a hub, answer verifications, take pushes.

Policy (when, what counts, which signature) is `bot.core.websub`; this module runs it
against three ports: the subscription store, the hub client and the push sink. The callback
adapter (`bot.websub.callback`) turns HTTP into `verify` and `receive` calls. Nothing here
logs a token or a secret: log lines name the feed id.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bot.core import websub as policy
from bot.core.websub import Action, Subscription, SubState
from bot.services.ports import Clock

log = logging.getLogger(__name__)


class HubError(Exception):
    """The hub refused a request or could not be reached; one line, no secret in it."""


class HubPort(Protocol):
    """Sends subscription requests to hubs (`bot.websub.hub.HubClient`)."""

    async def request(
        self, hub: str, *, mode: str, topic: str, callback: str, secret: str, lease_seconds: int
    ) -> None: ...


class SubscriptionPort(Protocol):
    """Where subscriptions live (`bot.storage.websub.WebSubStore`)."""

    async def by_feed(self, feed_id: int) -> Subscription | None: ...
    async def by_token(self, token: str) -> Subscription | None: ...
    async def add(self, sub: Subscription, now: datetime) -> None: ...
    async def save(self, sub: Subscription, *, if_next_attempt: datetime | None = None) -> bool: ...
    async def remove(self, sub_id: int) -> None: ...
    async def raise_algorithm(self, sub_id: int, algorithm: str) -> None: ...
    async def due(self, now: datetime, limit: int) -> list[Subscription]: ...
    async def unused(self, limit: int) -> list[Subscription]: ...
    async def poll_soon(self, feed_id: int, now: datetime) -> None: ...
    async def pushed_feeds(self, now: datetime) -> set[int]: ...


# A pushed body for one feed, parsed and saved like a polled one (`bot.websub.ingest`):
# (feed_id, the feed's URL, body, content type) -> new articles saved or queued, None if unusable.
PushSink = Callable[[int, str, bytes, str | None], Awaitable[int | None]]


class PushOutcome(StrEnum):
    UNKNOWN = "unknown"  # no such subscription: the callback answers 410 so the hub stops
    DROPPED = "dropped"  # unsigned, forged or unusable: acknowledged, nothing stored
    TAKEN = "taken"


@dataclass(frozen=True, slots=True)
class TickReport:
    """What one tick did."""

    requests: int = 0
    failures: int = 0
    expired: int = 0

    def plus(self, other: TickReport) -> TickReport:
        return TickReport(
            self.requests + other.requests,
            self.failures + other.failures,
            self.expired + other.expired,
        )


class WebSubService:
    """Subscriptions for feeds with a hub; the callbacks are `<base_url>/websub/<token>`."""

    def __init__(
        self,
        subs: SubscriptionPort,
        hub: HubPort,
        ingest: PushSink,
        clock: Clock,
        *,
        base_url: str,
        batch: int = 20,
    ) -> None:
        self._subs, self._hub, self._ingest, self._clock = subs, hub, ingest, clock
        self._base, self._batch = base_url.rstrip("/"), batch

    def callback_url(self, sub: Subscription) -> str:
        return f"{self._base}/websub/{sub.token}"

    async def offer(self, feed_id: int, hub: str | None, topic: str | None) -> None:
        """After a successful poll: the hub and topic the feed names now (None: no hub)."""
        await self.observe(feed_id, hub, topic)

    async def observe(
        self, feed_id: int, hub: str | None, topic: str | None, *, modified: bool = True
    ) -> bool:
        """After a successful poll (one lookup): a new hub is subscribed (spread over the
        start-up window), a changed one replaces the old, one the feed no longer names is
        unsubscribed (a 304, `modified=False`, says nothing about links). True when a hub
        pushes the feed now."""
        now = self._clock.now()
        sub = await self._subs.by_feed(feed_id)
        if not modified:
            return policy.is_live(sub, now)
        if hub is None or topic is None:
            if sub is not None and sub.state is not SubState.UNSUBSCRIBING:
                await self._subs.save(policy.unsubscribing(sub, now))
            return False
        if sub is None:
            fresh = policy.new_subscription(feed_id, hub, topic, *_credentials(), now)
            await self._subs.add(fresh, now)
        elif (sub.hub, sub.topic) != (hub, topic) or sub.state is SubState.UNSUBSCRIBING:
            log.info("feed %s: subscribing anew (another hub or topic, or wanted again)", feed_id)
            await self._subs.save(policy.retargeted(sub, hub, topic, *_credentials(), now))
        else:
            return policy.is_live(sub, now)
        return False

    async def unsubscribe(self, feed_id: int) -> None:
        """Tell the feed's hub we are done, at the next tick. (`tick` does this by itself
        for every feed no chat uses any more.)"""
        await self.offer(feed_id, None, None)

    async def is_pushed(self, feed_id: int) -> bool:
        return policy.is_live(await self._subs.by_feed(feed_id), self._clock.now())

    async def pushed_feeds(self) -> set[int]:
        return await self._subs.pushed_feeds(self._clock.now())

    async def tick(self) -> TickReport:
        """Send the requests that are due (a batch per tick: never a storm), renew leases
        near their end, return lapsed ones to normal polling, let go of unused feeds."""
        now = self._clock.now()
        for unused in await self._subs.unused(self._batch):
            log.info("feed %s is no longer polled for anyone: unsubscribing", unused.feed_id)
            await self._subs.save(policy.unsubscribing(unused, now))
        report = TickReport()
        for sub in await self._subs.due(now, self._batch):
            report = report.plus(await self._step(sub, now))
        return report

    async def _step(self, sub: Subscription, now: datetime) -> TickReport:
        action = policy.due_action(sub, now)
        if action is Action.EXPIRE:
            log.warning("feed %s: hub lease lapsed, polling it normally again", sub.feed_id)
            await self._subs.save(policy.lapsed(sub, now))
            await self._subs.poll_soon(sub.feed_id, now)
            return TickReport(expired=1)
        if action is Action.DROP:
            await self._subs.remove(sub.id)
        elif action is not None:
            ok = await self._send(sub, action.value, now)
            return TickReport(requests=1, failures=0 if ok else 1)
        return TickReport()

    async def _send(self, sub: Subscription, mode: str, now: datetime) -> bool:
        """One request to the hub. Recorded as asked BEFORE it goes: many hubs verify
        before they answer the request itself."""
        asked = policy.asking(sub, mode, now)
        if not await self._subs.save(asked, if_next_attempt=sub.next_attempt_at):
            return True  # another process claimed this attempt
        try:
            await self._hub.request(
                sub.hub,
                mode=mode,
                topic=sub.topic,
                callback=self.callback_url(sub),
                secret=sub.secret,
                lease_seconds=int(policy.REQUESTED_LEASE.total_seconds()),
            )
        except HubError as exc:
            log.warning("feed %s: hub %s failed: %s", sub.feed_id, mode, exc)
            current = await self._subs.by_token(sub.token)
            if current is not None and current.asked == mode:
                await self._subs.save(policy.hub_failed(current, str(exc)))
            return False
        return True

    async def verify(
        self, token: str, mode: str, topic: str, lease_seconds: int | None, reason: str = ""
    ) -> bool:
        """A hub's GET to the callback. True: answer it (echo the challenge); False: 404,
        nothing changed (not our request, a replay, another topic or mode)."""
        sub = await self._subs.by_token(token)
        if sub is None or not policy.same_topic(sub, topic):
            return False
        now = self._clock.now()
        if mode == "denied":
            log.warning("feed %s: the hub denied the subscription", sub.feed_id)
            await self._subs.save(policy.denied(sub, now, reason))
            await self._subs.poll_soon(sub.feed_id, now)
            return True
        if not policy.verification_matches(sub, mode, topic):
            return False
        if mode == "unsubscribe":
            await self._subs.remove(sub.id)
        else:
            live = policy.confirmed(sub, now, policy.granted_lease(lease_seconds))
            if not await self._subs.save(live, if_next_attempt=sub.next_attempt_at):
                return False  # a copy of this verification was answered meanwhile
            log.info("feed %s: pushed by its hub", sub.feed_id)
        return True

    async def knows(self, token: str) -> bool:
        """A callback token of ours (a push to any other is refused before it is read)."""
        return await self._subs.by_token(token) is not None

    async def receive(
        self, token: str, body: bytes, signature: str | None, content_type: str | None = None
    ) -> PushOutcome:
        """A hub's POST (content distribution): only a correctly signed body is taken."""
        sub = await self._subs.by_token(token)
        if sub is None:
            return PushOutcome.UNKNOWN
        algorithm = policy.signature_algorithm(sub.secret, body, signature, sub.algorithm)
        if algorithm is None:
            log.warning("feed %s: push dropped, missing or bad signature", sub.feed_id)
            return PushOutcome.DROPPED
        if policy.stronger(sub.algorithm, algorithm):
            await self._subs.raise_algorithm(sub.id, algorithm)
        taken = await self._ingest(sub.feed_id, sub.feed_url or sub.topic, body, content_type)
        return PushOutcome.TAKEN if taken is not None else PushOutcome.DROPPED


def _credentials() -> tuple[str, str]:
    """A callback token and a signing secret, both random and unguessable."""
    return secrets.token_urlsafe(24), secrets.token_hex(32)
