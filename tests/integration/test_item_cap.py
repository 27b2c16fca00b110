"""A feed listing 100,000 items: only the newest few hundred are read, in little memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from bot.feeds.itemcap import cut_items
from bot.feeds.parser import parse_feed
from bot.feeds.reader import DEFAULT_MAX_ITEMS

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def big_feed(count: int, *, newest_first: bool = True) -> bytes:
    """`count` items an hour apart, in ~40 bytes each (100,000 make a 4 MB document)."""
    numbers = range(count) if newest_first else reversed(range(count))
    items = "".join(
        f"<item><guid>i{n}</guid><pubDate>{format_datetime(NOW - timedelta(hours=n))}"
        "</pubDate></item>"
        for n in numbers
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Huge</title>{items}'
        "</channel></rss>"
    ).encode()


def parse(body: bytes, max_items: int | None) -> list[str]:
    feed = parse_feed(body, feed_url="https://huge.example/f", feed_id=1, now=NOW,
                      max_items=max_items)  # fmt: skip
    return [a.published.isoformat() for a in feed.articles]


def hours(*numbers: int) -> list[str]:
    return [(NOW - timedelta(hours=n)).isoformat() for n in numbers]


def test_a_100000_item_feed_keeps_the_newest_items() -> None:
    body = big_feed(100_000)
    assert len(body) > 4_000_000
    assert parse(body, DEFAULT_MAX_ITEMS) == hours(*range(DEFAULT_MAX_ITEMS))


def test_an_oldest_first_feed_keeps_its_newest_items_too() -> None:
    assert sorted(parse(big_feed(2_000, newest_first=False), 10), reverse=True) == hours(*range(10))


def test_the_cut_document_is_still_the_same_feed() -> None:
    body = big_feed(50)
    assert cut_items(body, 50) is body
    cut = cut_items(body, 5)
    assert cut.startswith(body[: body.index(b"<item>")]) and cut.endswith(b"</channel></rss>")
    assert cut.count(b"<item>") == 5


def test_items_beyond_the_cap_that_the_cut_missed_are_dropped_oldest_first() -> None:
    # Atom entries in a namespace prefix are not cut before parsing; the cap still holds.
    entries = "".join(
        f"<a:entry><a:id>e{n}</a:id><a:title>t{n}</a:title>"
        f"<a:updated>{(NOW - timedelta(hours=n)).isoformat()}</a:updated></a:entry>"
        for n in (3, 0, 4, 1, 2)
    )
    body = f'<a:feed xmlns:a="http://www.w3.org/2005/Atom"><a:title>F</a:title>{entries}</a:feed>'
    assert parse(body.encode(), 2) == hours(0, 1)
    assert len(parse(body.encode(), None)) == 5
