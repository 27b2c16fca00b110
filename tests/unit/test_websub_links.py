"""WebSub discovery: Link headers first, then the feed's own links; http(s) only."""

from __future__ import annotations

from datetime import UTC, datetime

from multidict import CIMultiDict

from bot.feeds.links import websub_links
from bot.feeds.parser import parse_feed

NOW = datetime(2026, 1, 5, tzinfo=UTC)
BASE = "https://news.example/feed.xml"

ATOM = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<link rel="hub" href="https://hub.example/"/><link rel="self" href="https://news.example/atom"/>
<entry><id>x</id><title>t</title><updated>2026-01-05T00:00:00Z</updated></entry></feed>"""
RSS = b"""<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel><title>R</title><atom:link rel="hub" href="https://pubsubhubbub.example/"/>
<atom:link rel="self" type="application/rss+xml" href="https://news.example/rss"/>
<item><title>t</title><link>https://news.example/1</link></item></channel></rss>"""


def test_atom_and_rss_feeds_name_their_hub_and_self() -> None:
    atom = parse_feed(ATOM, feed_url=BASE, feed_id=1, now=NOW)
    assert (atom.hub, atom.self_url) == ("https://hub.example/", "https://news.example/atom")
    rss = parse_feed(RSS, feed_url=BASE, feed_id=1, now=NOW)
    assert (rss.hub, rss.self_url) == ("https://pubsubhubbub.example/", "https://news.example/rss")


def test_link_headers_come_before_the_feed_and_may_be_split_or_combined() -> None:
    headers = CIMultiDict(
        [
            ("Link", '<https://h1.example/>; rel="hub"'),
            ("Link", '</topic>; rel=self, <https://x.example/>; rel="other"'),
        ]
    )
    assert websub_links(headers, BASE, "https://feedhub.example/", "https://f.example/s") == (
        "https://h1.example/", "https://news.example/topic",
    )  # fmt: skip


def test_without_a_self_link_the_topic_is_the_fetched_url_and_no_hub_means_none() -> None:
    assert websub_links({}, BASE, "https://hub.example/", None) == ("https://hub.example/", BASE)
    assert websub_links({}, BASE, None, "https://news.example/rss") == (None, None)


def test_a_hub_that_is_not_a_web_url_is_ignored() -> None:
    headers = {"link": '<javascript:alert(1)>; rel="hub"'}
    assert websub_links(headers, BASE, None, None) == (None, None)
