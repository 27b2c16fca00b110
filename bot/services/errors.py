"""The error family of the use cases; adapters translate SDK, HTTP and driver errors into these.

Errors a notifier may raise:

    DeliveryError
      ├── RateLimited(retry_after)   platform said slow down: retry the same message later, in order
      ├── DestinationGone(reason)    blocked, kicked, archived: deactivate the chat
      ├── MessageGone                the message to edit/reply to no longer exists: send anew
      ├── MessageRejected            the platform refused this message itself (HTTP 400):
      │                              a few tries, then given up, so it cannot hold its chat
      └── TransientError             network error, timeout, 5xx: retry with backoff
"""

from __future__ import annotations


class DeliveryError(Exception):
    """Base of everything a Notifier may raise."""


class RateLimited(DeliveryError):
    """The platform asked us to wait `retry_after` seconds before sending again."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after:g}s")
        self.retry_after = retry_after


class DestinationGone(DeliveryError):
    """The chat can no longer receive messages (blocked, kicked, archived, deleted)."""


class MessageGone(DeliveryError):
    """The message to edit or reply to no longer exists."""


class MessageRejected(DeliveryError):
    """The platform refused this very message (malformed, too long): other messages still go."""


class TransientError(DeliveryError):
    """A temporary failure (network, timeout, 5xx): retry with backoff."""


class AdminCheckFailed(Exception):
    """The platform could not say whether the user is an admin (an API error or timeout)."""


class RuleLimitReached(Exception):
    """The chat already has as many rules as allowed."""


class StorageUnavailable(Exception):
    """The database cannot be reached or written (disk full, read-only, down, locked too long).

    The storage adapter raises this instead of its driver's errors, so the services can tell
    the user to try again later without knowing which database is behind the port.
    """


class Superseded(Exception):
    """The story head moved since this stage read it: another stage wrote; nothing was saved."""
