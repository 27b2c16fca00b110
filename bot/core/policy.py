"""Delivery policy: parsing chat settings, when a digest is due, and whether an alert goes now."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.models import ChatMode, ChatSettings

HHMM_HELP = "use HH:MM, 24-hour, e.g. 08:00"
TIMEZONE_HELP = 'use an IANA time zone name such as "Europe/Istanbul" or "America/New_York"'
QUIET_HELP = 'use HH:MM-HH:MM, e.g. 22:00-07:00, or "off"'

_HHMM = re.compile(r"(\d{1,2})[:.](\d{2})")
# Hyphen, en dash, em dash or the word "to": people type all of them.
_RANGE = re.compile(r"\s*(?:-|–|—|\bto\b)\s*", re.IGNORECASE)
_OFF_WORDS = frozenset({"off", "none", "no"})


class Delivery(StrEnum):
    """What to do with an instant alert for a chat right now."""

    SEND = "send"
    HOLD = "hold"  # keep it in the outbox; fold it into one notice when the hold ends
    SKIP = "skip"  # the chat sees the story through its digest instead


def _shown(text: str) -> str:
    """The user's input, quoted and kept short, for an error message."""
    cleaned = " ".join(text.split())
    return f'"{cleaned[:40]}…"' if len(cleaned) > 40 else f'"{cleaned}"'


def parse_hhmm(text: str) -> str:
    """Normalize a 24-hour local time ("8:05" -> "08:05"); ValueError with a user message."""
    match = _HHMM.fullmatch(text.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{_shown(text)} is not a time of day: {HHMM_HELP}")
    return f"{int(match[1]):02d}:{int(match[2]):02d}"


def _loads(key: str) -> bool:
    try:
        ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory such as "Europe"
        return False
    return True


def _zone_suggestions(name: str, zones: Iterable[str]) -> list[str]:
    """Known zones the user probably meant: same city first, else close spellings."""
    by_lower = {zone.lower(): zone for zone in zones}
    city = name.rsplit("/", 1)[-1].lower()
    same_city = sorted(zone for low, zone in by_lower.items() if low.rsplit("/", 1)[-1] == city)
    if same_city:
        return same_city[:3]
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=2, cutoff=0.75)
    return [by_lower[low] for low in close]


def parse_timezone(name: str) -> str:
    """Validate an IANA zone name, fixing case and spaces ("europe/istanbul" -> "Europe/Istanbul").

    Raises ValueError with a one-line message that suggests real zone names where it can.
    """
    cleaned = "_".join(name.split())  # "America/New York" -> "America/New_York"
    if not cleaned:
        raise ValueError(f"give a time zone: {TIMEZONE_HELP}")
    zones = available_timezones()
    if cleaned in zones or (not zones and _loads(cleaned)):
        return cleaned
    exact = sorted(zone for zone in zones if zone.lower() == cleaned.lower())
    if exact:
        return exact[0]
    suggestions = _zone_suggestions(cleaned, zones)
    if suggestions:
        options = " or ".join(f'"{zone}"' for zone in suggestions)
        raise ValueError(f"unknown time zone {_shown(name)}: did you mean {options}?")
    raise ValueError(f"unknown time zone {_shown(name)}: {TIMEZONE_HELP}")


def parse_quiet_hours(text: str) -> tuple[str, str] | None:
    """Parse "22:00-07:00" into (start, end) local times, or "off" into None; ValueError otherwise.

    A range may cross midnight. Equal start and end is rejected: it would mean either no quiet
    hours or all-day quiet, and the user should say which (`off` or `/pause`).
    """
    if text.strip().lower() in _OFF_WORDS:
        return None
    parts = _RANGE.split(text.strip())
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"{_shown(text)} is not a time range: {QUIET_HELP}")
    start, end = (parse_hhmm(part) for part in parts)
    if start == end:
        raise ValueError(f"quiet hours start and end at {start}: {QUIET_HELP}")
    return start, end


def _time_of(hhmm: str) -> time:
    hours, minutes = parse_hhmm(hhmm).split(":")
    return time(int(hours), int(minutes))


def _gap_end(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """First instant (to the second) in (before, after] that already uses `after`'s UTC offset."""
    offset_after = after.astimezone(zone).utcoffset()
    while after - before > timedelta(seconds=1):
        middle = before + timedelta(seconds=int((after - before).total_seconds()) // 2)
        if middle.astimezone(zone).utcoffset() == offset_after:
            after = middle
        else:
            before = middle
    return after


def _local_instant(day: date, hhmm: str, zone: ZoneInfo, *, fold: int = 0) -> datetime:
    """The UTC instant of wall-clock `hhmm` on `day` in `zone`.

    A wall time skipped by a spring-forward gap becomes the first instant after the gap, so the
    event still happens that day, exactly once. An ambiguous (fall-back) wall time takes `fold`:
    0 is the first occurrence.
    """
    wall = datetime.combine(day, _time_of(hhmm), tzinfo=zone).replace(fold=fold)
    instant = wall.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall.replace(tzinfo=None):
        return instant
    # In a gap the two folds convert with the offsets either side of the transition.
    first, second = sorted(wall.replace(fold=f).astimezone(UTC) for f in (0, 1))
    return _gap_end(first, second, zone)


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")


def _digest_time(settings: ChatSettings) -> str | None:
    """The chat's local digest time, or None when it gets no digests (right now)."""
    if settings.mode is ChatMode.INSTANT or settings.paused:
        return None
    return settings.digest_time


def _local_day(settings: ChatSettings, now: datetime) -> tuple[date, str, ZoneInfo] | None:
    """The chat's local date at `now`, its digest time and zone; None when it has no digest."""
    _require_aware(now)
    hhmm = _digest_time(settings)
    if hhmm is None:
        return None
    zone = ZoneInfo(settings.timezone)
    return now.astimezone(zone).date(), hhmm, zone


def digest_due(
    settings: ChatSettings, last_digest_at: datetime | None, now: datetime
) -> datetime | None:
    """The UTC instant of the latest scheduled digest at or before `now`, if later than the last.

    Returns None when nothing is due: digests off, mode `instant`, paused, or the latest slot was
    already covered by `last_digest_at`. After downtime only the latest missed slot is returned,
    so a chat gets one digest, not one per missed day; the same holds after `/resume`.

    `last_digest_at` is when the chat's last digest was sent (or the slot returned here). For a
    chat that never had one, pass the chat's creation time so its first digest waits for the
    next slot; None means "no lower bound" and makes the latest past slot due at once.
    Raises ZoneInfoNotFoundError for a zone that `parse_timezone` would have rejected.
    """
    local = _local_day(settings, now)
    if local is None:
        return None
    today, hhmm, zone = local
    slot = _local_instant(today, hhmm, zone)
    if slot > now:
        slot = _local_instant(today - timedelta(days=1), hhmm, zone)
    if last_digest_at is not None and slot <= last_digest_at:
        return None
    return slot


def next_digest_at(settings: ChatSettings, now: datetime) -> datetime | None:
    """The UTC instant of the next scheduled digest after `now` (for /status); None if none.

    A paused chat has no next digest until it resumes (it then gets the missed one once).
    """
    local = _local_day(settings, now)
    if local is None:
        return None
    today, hhmm, zone = local
    slot = _local_instant(today, hhmm, zone)
    return slot if slot > now else _local_instant(today + timedelta(days=1), hhmm, zone)


def _is_quiet_at(clock: time, start: time, end: time) -> bool:
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end  # the range crosses midnight


def quiet_until(settings: ChatSettings, now: datetime) -> datetime | None:
    """The UTC end of the quiet period `now` falls in, or None when the chat is not quiet.

    Quiet hours are local wall-clock times and may cross midnight; equal start and end, or a
    missing bound, means no quiet hours.
    """
    _require_aware(now)
    if settings.quiet_start is None or settings.quiet_end is None:
        return None
    start, end = _time_of(settings.quiet_start), _time_of(settings.quiet_end)
    zone = ZoneInfo(settings.timezone)
    local = now.astimezone(zone)
    if start == end or not _is_quiet_at(local.time(), start, end):
        return None
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    until = _local_instant(day, settings.quiet_end, zone)
    if until <= now:
        # `now` is in the hour repeated at fall-back: the period ends at the second occurrence.
        until = _local_instant(day, settings.quiet_end, zone, fold=1)
    return until if until > now else None


def alert_decision(settings: ChatSettings, now: datetime) -> tuple[Delivery, datetime | None]:
    """Whether an instant alert for this chat is sent now, held (until when), or skipped.

    Mode `digest` wins over pause: such a chat never wants instant alerts, so holding them would
    deliver them on /resume anyway. A paused chat holds with no end (None: until /resume).
    """
    if settings.mode is ChatMode.DIGEST:
        return Delivery.SKIP, None
    if settings.paused:
        return Delivery.HOLD, None
    until = quiet_until(settings, now)
    if until is not None:
        return Delivery.HOLD, until
    return Delivery.SEND, None
