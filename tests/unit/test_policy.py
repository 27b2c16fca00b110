"""Delivery policy: setting parsers, digest timing across zones and DST, quiet hours, pause."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.models import ChatMode, ChatSettings
from bot.core.policy import (
    Delivery,
    alert_decision,
    digest_due,
    next_digest_at,
    parse_hhmm,
    parse_quiet_hours,
    parse_timezone,
    quiet_until,
)

NEW_YORK = ZoneInfo("America/New_York")
ISTANBUL = ZoneInfo("Europe/Istanbul")
CHATHAM = ZoneInfo("Pacific/Chatham")


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def run_digests(
    settings: ChatSettings,
    start: datetime,
    end: datetime,
    *,
    step: timedelta = timedelta(minutes=1),
    last: datetime | None = None,
) -> list[datetime]:
    """Tick a fake scheduler from `start` to `end`, sending whatever is due; return send times.

    Like the service, it records the send time as the chat's last digest. The clock runs in UTC:
    adding minutes to a New York datetime would step wall-clock time and skip the DST changes.
    """
    sent: list[datetime] = []
    last = start if last is None else last
    now = start.astimezone(UTC)
    while now < end:
        if digest_due(settings, last, now) is not None:
            sent.append(now)
            last = now
        now += step
    return sent


def local_days(sent: list[datetime], zone: ZoneInfo) -> Counter[date]:
    return Counter(moment.astimezone(zone).date() for moment in sent)


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8:05", "08:05"),
        ("08:00", "08:00"),
        (" 23:59 ", "23:59"),
        ("0:00", "00:00"),
        ("7.30", "07:30"),
    ],
)
def test_parse_hhmm_normalizes(text: str, expected: str) -> None:
    assert parse_hhmm(text) == expected


@pytest.mark.parametrize("text", ["24:00", "8", "8:5", "12:60", "noon", "", "8:00pm"])
def test_parse_hhmm_rejects_with_the_format_to_use(text: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_hhmm(text)
    message = str(error.value)
    assert "use HH:MM, 24-hour, e.g. 08:00" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Europe/Istanbul", "Europe/Istanbul"),
        ("europe/istanbul", "Europe/Istanbul"),
        ("America/New York", "America/New_York"),
        ("  Pacific/Chatham ", "Pacific/Chatham"),
        ("UTC", "UTC"),
    ],
)
def test_parse_timezone_accepts_iana_names_in_any_case(name: str, expected: str) -> None:
    assert parse_timezone(name) == expected


def test_parse_timezone_suggests_the_zone_for_a_bare_city() -> None:
    with pytest.raises(ValueError, match=r"Europe/Istanbul") as error:
        parse_timezone("Istanbul")
    assert "\n" not in str(error.value)


def test_parse_timezone_suggests_a_close_spelling() -> None:
    with pytest.raises(ValueError, match=r"America/New_York"):
        parse_timezone("Amerca/New_Yrok")


@pytest.mark.parametrize("name", ["Mars/Olympus", "Europe", "../etc/passwd", "", "GMT+3"])
def test_parse_timezone_rejects_unknown_names_with_an_example(name: str) -> None:
    with pytest.raises(ValueError, match=r"time zone") as error:
        parse_timezone(name)
    assert "/" in str(error.value).split(":", 1)[1]  # names at least one real Area/City zone


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("22:00-07:00", ("22:00", "07:00")),
        ("22:00 – 7:00", ("22:00", "07:00")),
        ("13:00 to 14:30", ("13:00", "14:30")),
        ("off", None),
        (" OFF ", None),
    ],
)
def test_parse_quiet_hours(text: str, expected: tuple[str, str] | None) -> None:
    assert parse_quiet_hours(text) == expected


@pytest.mark.parametrize("text", ["22:00", "22:00-", "22:00-07:00-08:00", "tonight"])
def test_parse_quiet_hours_rejects_non_ranges(text: str) -> None:
    with pytest.raises(ValueError, match=r"22:00-07:00"):
        parse_quiet_hours(text)


def test_parse_quiet_hours_rejects_bad_times_and_empty_ranges() -> None:
    with pytest.raises(ValueError, match=r"HH:MM"):
        parse_quiet_hours("25:00-07:00")
    with pytest.raises(ValueError, match=r"off"):
        parse_quiet_hours("22:00-22:00")


# --- digest timing -------------------------------------------------------------------------


def test_one_digest_a_day_at_the_local_time() -> None:
    settings = ChatSettings(timezone="Europe/Istanbul", digest_time="08:00")
    start = utc(11, 20, 0)
    sent = run_digests(settings, start, start + timedelta(days=3), step=timedelta(minutes=5))
    assert sent == [datetime(2026, 11, day, 8, 0, tzinfo=ISTANBUL) for day in (20, 21, 22)]


def test_istanbul_has_no_dst_so_the_utc_time_never_moves() -> None:
    settings = ChatSettings(timezone="Europe/Istanbul", digest_time="08:00")
    for month in (1, 4, 7, 10):
        now = utc(month, 15, 12)
        assert digest_due(settings, None, now) == utc(month, 15, 5)


def test_spring_forward_digest_in_the_skipped_hour_is_sent_once_after_the_gap() -> None:
    # 2026-03-08: New York clocks jump from 02:00 to 03:00, so 02:30 never happens.
    settings = ChatSettings(timezone="America/New_York", digest_time="02:30")
    start = datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK)
    sent = run_digests(settings, start, datetime(2026, 3, 10, 0, 0, tzinfo=NEW_YORK))
    assert local_days(sent, NEW_YORK) == {date(2026, 3, 8): 1, date(2026, 3, 9): 1}
    after_gap = datetime(2026, 3, 8, 3, 0, tzinfo=NEW_YORK).astimezone(UTC)
    assert after_gap in sent  # the first minute after the gap


def test_fall_back_digest_in_the_repeated_hour_is_sent_once() -> None:
    # 2026-11-01: New York lives through 01:00-02:00 twice.
    settings = ChatSettings(timezone="America/New_York", digest_time="01:30")
    start = datetime(2026, 10, 31, 12, 0, tzinfo=NEW_YORK)
    sent = run_digests(settings, start, datetime(2026, 11, 3, 0, 0, tzinfo=NEW_YORK))
    assert local_days(sent, NEW_YORK) == {date(2026, 11, 1): 1, date(2026, 11, 2): 1}
    first_occurrence = datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK, fold=0).astimezone(UTC)
    assert first_occurrence in sent


def test_digest_keeps_local_time_across_both_dst_changes() -> None:
    settings = ChatSettings(timezone="America/New_York", digest_time="08:00")
    start = utc(3, 1, 0)
    sent = run_digests(settings, start, start + timedelta(days=250), step=timedelta(minutes=15))
    assert len(sent) == 250
    assert {moment.astimezone(NEW_YORK).strftime("%H:%M") for moment in sent} == {"08:00"}


@pytest.mark.parametrize("month", [1, 7])  # Chatham summer (+13:45) and winter (+12:45)
def test_forty_five_minute_offset(month: int) -> None:
    settings = ChatSettings(timezone="Pacific/Chatham", digest_time="08:00")
    expected = datetime(2026, month, 15, 8, 0, tzinfo=CHATHAM).astimezone(UTC)
    assert (expected.minute, expected.day) == (15, 14)  # the evening before, in UTC
    assert digest_due(settings, None, expected - timedelta(minutes=1)) != expected
    assert digest_due(settings, None, expected) == expected
    assert next_digest_at(settings, expected - timedelta(minutes=1)) == expected


def test_downtime_catch_up_sends_one_digest_not_one_per_missed_day() -> None:
    settings = ChatSettings(digest_time="08:00")
    last = utc(11, 18, 8)
    back_up = utc(11, 21, 12)  # down for three days
    due = digest_due(settings, last, back_up)
    assert due == utc(11, 21, 8)
    assert digest_due(settings, due, back_up + timedelta(minutes=1)) is None
    assert digest_due(settings, back_up, back_up + timedelta(minutes=1)) is None


def test_ticking_after_downtime_sends_once_then_resumes_the_schedule() -> None:
    settings = ChatSettings(digest_time="08:00")
    back_up = utc(11, 21, 12)
    sent = run_digests(
        settings, back_up, back_up + timedelta(days=1), last=back_up - timedelta(days=3)
    )
    assert sent == [back_up, utc(11, 22, 8)]


def test_new_chat_waits_for_its_first_slot() -> None:
    settings = ChatSettings(digest_time="08:00")
    created = utc(11, 21, 9)
    sent = run_digests(settings, created, created + timedelta(days=1))
    assert sent == [utc(11, 22, 8)]


def test_no_previous_digest_means_the_latest_slot_is_due() -> None:
    now = utc(11, 21, 9)
    assert digest_due(ChatSettings(), None, now) == utc(11, 21, 8)


@pytest.mark.parametrize(
    "settings",
    [
        ChatSettings(mode=ChatMode.INSTANT),
        ChatSettings(digest_time=None),
        ChatSettings(paused=True),
    ],
)
def test_no_digest_when_off_instant_only_or_paused(settings: ChatSettings) -> None:
    now = utc(11, 21, 9)
    assert digest_due(settings, now - timedelta(days=2), now) is None
    assert next_digest_at(settings, now) is None


def test_resume_sends_the_digest_missed_while_paused_once() -> None:
    paused = ChatSettings(paused=True)
    start = utc(11, 18, 9)
    assert run_digests(paused, start, start + timedelta(days=3), step=timedelta(minutes=5)) == []
    resumed_at = start + timedelta(days=3)
    sent = run_digests(ChatSettings(), resumed_at, resumed_at + timedelta(hours=2), last=start)
    assert sent == [resumed_at]


def test_next_digest_at_for_status() -> None:
    settings = ChatSettings(digest_time="08:00")
    assert next_digest_at(settings, utc(11, 21, 7)) == utc(11, 21, 8)
    assert next_digest_at(settings, utc(11, 21, 8)) == utc(11, 22, 8)
    spring = ChatSettings(timezone="America/New_York", digest_time="02:30")
    before_gap = datetime(2026, 3, 8, 1, 0, tzinfo=NEW_YORK)
    assert next_digest_at(spring, before_gap) == datetime(2026, 3, 8, 3, 0, tzinfo=NEW_YORK)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        digest_due(ChatSettings(), None, datetime(2026, 11, 21, 9, 0))


# --- alerts: mode, pause, quiet hours ------------------------------------------------------

NIGHT = ChatSettings(quiet_start="22:00", quiet_end="07:00")


def test_alert_is_sent_by_default() -> None:
    assert alert_decision(ChatSettings(), utc(11, 21, 23, 30)) == (Delivery.SEND, None)


def test_digest_mode_skips_instant_alerts_even_when_paused() -> None:
    now = utc(11, 21, 12)
    assert alert_decision(ChatSettings(mode=ChatMode.DIGEST), now) == (Delivery.SKIP, None)
    digest_paused = ChatSettings(mode=ChatMode.DIGEST, paused=True)
    assert alert_decision(digest_paused, now) == (Delivery.SKIP, None)


def test_paused_chat_holds_alerts_until_resume() -> None:
    now = utc(11, 21, 12)
    assert alert_decision(ChatSettings(paused=True), now) == (Delivery.HOLD, None)


def test_quiet_hours_across_midnight_hold_until_the_morning() -> None:
    late = utc(11, 21, 23, 30)
    assert alert_decision(NIGHT, late) == (Delivery.HOLD, utc(11, 22, 7))
    early = utc(11, 22, 6, 59)
    assert alert_decision(NIGHT, early) == (Delivery.HOLD, utc(11, 22, 7))
    for hour, minute in ((12, 0), (7, 0), (21, 59)):
        noon = utc(11, 21, hour, minute)
        assert alert_decision(NIGHT, noon) == (Delivery.SEND, None)


def test_quiet_hours_are_local_time() -> None:
    settings = ChatSettings(timezone="Europe/Istanbul", quiet_start="22:00", quiet_end="07:00")
    now = utc(11, 21, 20, 30)  # 23:30 in Istanbul
    assert quiet_until(settings, now) == utc(11, 22, 4)
    assert quiet_until(settings, utc(11, 21, 18, 30)) is None


def test_a_day_of_quiet_hours_holds_exactly_the_quiet_minutes() -> None:
    start = utc(11, 21, 0)
    minutes = [start + timedelta(minutes=m) for m in range(24 * 60)]
    decisions = Counter(alert_decision(NIGHT, now)[0] for now in minutes)
    assert decisions == {Delivery.HOLD: 9 * 60, Delivery.SEND: 15 * 60}
    held_until = {quiet_until(NIGHT, now) for now in minutes} - {None}
    assert held_until == {utc(11, 21, 7), utc(11, 22, 7)}


def test_daytime_quiet_hours_and_equal_bounds() -> None:
    lunch = ChatSettings(quiet_start="13:00", quiet_end="14:00")
    assert quiet_until(lunch, utc(11, 21, 13, 30)) == utc(11, 21, 14)
    assert quiet_until(lunch, utc(11, 21, 14)) is None
    never = ChatSettings(quiet_start="07:00", quiet_end="07:00")
    assert quiet_until(never, utc(11, 21, 7)) is None


def test_quiet_hours_on_fall_back_night_end_at_the_last_occurrence() -> None:
    # Quiet until 01:30 on the night New York repeats 01:00-02:00: both passes are quiet.
    settings = ChatSettings(timezone="America/New_York", quiet_start="22:00", quiet_end="01:30")
    second_pass = datetime(2026, 11, 1, 1, 10, tzinfo=NEW_YORK, fold=1)
    until = quiet_until(settings, second_pass)
    # Compared in UTC: Python's == across zones is always False for an ambiguous wall time.
    assert until == datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK, fold=1).astimezone(UTC)
    first_pass = datetime(2026, 11, 1, 1, 10, tzinfo=NEW_YORK, fold=0)
    assert quiet_until(settings, first_pass) == datetime(
        2026, 11, 1, 1, 30, tzinfo=NEW_YORK, fold=0
    ).astimezone(UTC)
