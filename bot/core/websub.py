"""WebSub subscription policy: when to (re)subscribe, what counts as live, which signatures pass.

A subscription's life (`state`):

    new ──subscribe sent──► pending ──hub verifies──► live ──lease lapses──► new
     ▲                        │                        │ renew at 85% of the lease
     └──hub error / denied / no verification in time ──┘ (stays live while renewing)
    any ──feed dropped its hub / lost its subscribers──► unsubscribing ──verified──► (deleted)

`asked` is the mode of the one request we sent and whose verification we still await: a
verification is answered only when it matches it (and the topic), so a replayed or forged
verification finds nothing to confirm. Every request counts as a failure until verified
(`error_count` + 1, retry scheduled with backoff), so a hub that never answers backs off
exactly like one that answers 5xx, and a verification resets the count.

Signatures: sha256, sha384 and sha512 are always accepted. The subscriber cannot know what a
hub supports before its first push, so sha1 (all some older hubs offer) is accepted only as
long as this subscription has never carried a stronger one; once a stronger algorithm was
seen, sha1 is refused (a forger cannot downgrade us to it).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class SubState(StrEnum):
    NEW = "new"  # to be subscribed (first time, after a failure, after a lapsed lease)
    PENDING = "pending"  # subscribe sent, verification awaited
    LIVE = "live"  # verified and within its lease: the hub pushes this feed
    UNSUBSCRIBING = "unsubscribing"


class Action(StrEnum):
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    EXPIRE = "expire"  # the lease lapsed: back to normal polling, subscribe again
    DROP = "drop"  # an unsubscribe the hub never confirmed: forget it


@dataclass(frozen=True, slots=True)
class Subscription:
    """One feed's subscription at one hub. `token` names the callback URL, `secret` signs
    the pushes; both are random and never logged."""

    id: int
    feed_id: int
    hub: str
    topic: str
    token: str
    secret: str
    state: SubState
    next_attempt_at: datetime
    asked: str | None = None  # "subscribe" / "unsubscribe" awaiting verification
    lease_expires_at: datetime | None = None
    error_count: int = 0
    last_error: str | None = None
    algorithm: str | None = None  # the strongest signature algorithm a push carried
    # The URL the feed is polled at: pushed bodies are parsed against it, so an opaque GUID
    # gets the same article id whether the item was pushed or polled.
    feed_url: str = ""


REQUESTED_LEASE = timedelta(days=5)
MIN_LEASE = timedelta(minutes=5)  # a shorter lease would have us renewing constantly
MAX_LEASE = timedelta(days=30)
RENEW_FRACTION = 0.85  # renew with 15% of the lease left: time for several retries
FIRST_RETRY = timedelta(minutes=5)
MAX_RETRY = timedelta(hours=12)
DENIED_WAIT = timedelta(hours=12)  # a hub that said no is asked again, but rarely
START_SPREAD = timedelta(minutes=5)
MAX_UNSUBSCRIBE_TRIES = 5
STRONG = ("sha256", "sha384", "sha512")


def start_delay(feed_id: int, spread: timedelta = START_SPREAD) -> timedelta:
    """Where in `spread` this feed's first subscribe goes: a stable hash of its id, so a
    start with a thousand hub feeds sends a trickle, not a storm, and a restart the same."""
    digest = hashlib.sha256(str(feed_id).encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    return spread * fraction


def retry_after(error_count: int) -> timedelta:
    """Backoff after `error_count` consecutive failures: 5 min doubling, at most 12 h."""
    if error_count <= 0:
        return timedelta(0)
    doubled: timedelta = FIRST_RETRY * 2 ** min(error_count - 1, 16)
    return min(doubled, MAX_RETRY)


def new_subscription(
    feed_id: int, hub: str, topic: str, token: str, secret: str, now: datetime
) -> Subscription:
    """A subscription to be made, its first attempt spread over the start-up window."""
    return Subscription(
        0, feed_id, hub, topic, token, secret, SubState.NEW, now + start_delay(feed_id)
    )


def due_action(sub: Subscription, now: datetime) -> Action | None:
    """What to do for `sub` now, if anything."""
    if sub.state is SubState.LIVE and sub.lease_expires_at and sub.lease_expires_at <= now:
        return Action.EXPIRE
    if sub.next_attempt_at > now:
        return None
    if sub.state is SubState.UNSUBSCRIBING:
        if sub.error_count >= MAX_UNSUBSCRIBE_TRIES:
            return Action.DROP
        return Action.UNSUBSCRIBE
    return Action.SUBSCRIBE


def asking(sub: Subscription, mode: str, now: datetime) -> Subscription:
    """`sub` once a request in `mode` is about to go: counted as failed until verified."""
    errors = sub.error_count + 1
    state = SubState.PENDING if sub.state is SubState.NEW else sub.state
    return replace(
        sub, state=state, asked=mode, error_count=errors, next_attempt_at=now + retry_after(errors)
    )


def hub_failed(sub: Subscription, error: str) -> Subscription:
    """The hub refused or could not be reached; the retry `asking` scheduled stands."""
    state = SubState.NEW if sub.state is SubState.PENDING else sub.state
    return replace(sub, state=state, asked=None, last_error=error)


def verification_matches(sub: Subscription, mode: str, topic: str) -> bool:
    """A hub's verification of intent is for a request we sent and still await."""
    return sub.asked is not None and sub.asked == mode and same_topic(sub, topic)


def same_topic(sub: Subscription, topic: str) -> bool:
    """The topic a hub names is this subscription's (compared in constant time)."""
    return hmac.compare_digest(sub.topic.encode(), topic.encode())


def granted_lease(offered: int | None) -> timedelta:
    """The hub's lease (what we asked when it names none), within sane bounds."""
    lease = REQUESTED_LEASE if offered is None else timedelta(seconds=offered)
    return min(max(lease, MIN_LEASE), MAX_LEASE)


def confirmed(sub: Subscription, now: datetime, lease: timedelta) -> Subscription:
    """The hub verified our subscribe: live until the lease ends, renewed before it does."""
    return replace(
        sub,
        state=SubState.LIVE,
        asked=None,
        error_count=0,
        last_error=None,
        lease_expires_at=now + lease,
        next_attempt_at=now + lease * RENEW_FRACTION,
    )


def denied(sub: Subscription, now: datetime, reason: str) -> Subscription:
    """The hub refused the subscription (or cancelled it): polled normally, asked rarely."""
    wait = max(retry_after(sub.error_count), DENIED_WAIT)
    return replace(
        sub,
        state=SubState.NEW,
        asked=None,
        lease_expires_at=None,
        last_error=f"denied by the hub: {reason[:200]}" if reason else "denied",
        next_attempt_at=now + wait,
    )


def lapsed(sub: Subscription, now: datetime) -> Subscription:
    """The lease ran out unrenewed: polled normally again, resubscribed with backoff."""
    errors = max(sub.error_count, 1)
    return replace(
        sub,
        state=SubState.NEW,
        asked=None,
        lease_expires_at=None,
        last_error="lease lapsed",
        error_count=errors,
        next_attempt_at=min(sub.next_attempt_at, now + retry_after(errors)),
    )


def unsubscribing(sub: Subscription, now: datetime) -> Subscription:
    """To be unsubscribed at the hub as soon as the tick comes."""
    return replace(
        sub, state=SubState.UNSUBSCRIBING, asked=None, error_count=0, next_attempt_at=now
    )


def retargeted(
    sub: Subscription, hub: str, topic: str, token: str, secret: str, now: datetime
) -> Subscription:
    """The feed now names another hub or topic: a new subscription, new token and secret
    (pushes from the old hub to the old token get 410 and stop)."""
    return replace(
        sub,
        hub=hub,
        topic=topic,
        token=token,
        secret=secret,
        state=SubState.NEW,
        asked=None,
        lease_expires_at=None,
        error_count=0,
        last_error=None,
        algorithm=None,
        next_attempt_at=now,
    )


def is_live(sub: Subscription | None, now: datetime) -> bool:
    """The hub pushes this feed: verified, and its lease has not run out."""
    return (
        sub is not None
        and sub.state is SubState.LIVE
        and sub.lease_expires_at is not None
        and sub.lease_expires_at > now
    )


def signature_algorithm(
    secret: str, body: bytes, header: str | None, strongest_seen: str | None
) -> str | None:
    """The algorithm of a valid `X-Hub-Signature` ("method=hexdigest") on `body`, or None
    when it is missing, malformed, wrong or of a refused algorithm (see the module doc)."""
    method, _, given = (header or "").strip().partition("=")
    method = method.strip().lower()
    if method not in (*STRONG, "sha1") or not given:
        return None
    if method == "sha1" and strongest_seen in STRONG:
        return None
    given = given.strip().lower()
    if not given.isascii():  # compare_digest refuses non-ASCII text: a forgery, not a crash
        return None
    expected = hmac.new(secret.encode(), body, method).hexdigest()
    return method if hmac.compare_digest(expected.encode(), given.encode()) else None


def stronger(seen: str | None, algorithm: str) -> bool:
    """`algorithm` is stronger than any seen before on this subscription."""
    order = ("sha1", *STRONG)
    return seen not in order or order.index(algorithm) > order.index(seen)  # type: ignore[arg-type]


def safety_poll_at(normal: datetime, now: datetime, interval: timedelta) -> datetime:
    """A pushed feed's next poll: the hub brings news, the slow poll catches what it missed."""
    return max(normal, now + interval)
