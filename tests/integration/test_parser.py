"""Feed bytes → Articles: safety rejections, clear errors, canonical URLs and stable identity."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.urls import canonical_url
from bot.feeds.parser import FeedError, ParsedFeed, article_id, parse_feed

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "feeds"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
FEED_URL = "https://news.example.com/rss/world.xml"


def shared_files(group: str, pattern: str = "*") -> list[Path]:
    folder = SHARED / group
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(pattern) if not p.name.startswith("LICENSE"))


def needs_shared(paths: list[Path]) -> list[Any]:
    """Parametrize over shared files, or one skipped case when /work/shared is absent."""
    if paths:
        return paths
    return [pytest.param(None, marks=pytest.mark.skip(reason="shared feed data absent"))]


def parse(body: bytes | str, feed_url: str = FEED_URL) -> ParsedFeed:
    data = body.encode() if isinstance(body, str) else body
    return parse_feed(data, feed_url=feed_url, feed_id=7, now=NOW)


def rss(*items: str, title: str = "World News", extra: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://news.example.com/</link>{extra}"
        + "".join(f"<item>{item}</item>" for item in items)
        + "</channel></rss>"
    )


ITEM = (
    "<title>Talks &amp; <b>treaties</b></title>"
    "<link>https://News.Example.com/a/1?utm_source=rss&amp;id=5&amp;fbclid=abc#top</link>"
    "<guid isPermaLink='false'>story-1</guid>"
    "<pubDate>Tue, 10 Jun 2025 04:00:00 +0200</pubDate>"
    "<description>&lt;p&gt;Leaders   met.&lt;/p&gt;&lt;p&gt;More soon&lt;/p&gt;</description>"
)


def test_an_rss_item_becomes_a_clean_article() -> None:
    feed = parse(rss(ITEM, extra="<ttl>60</ttl>"))
    assert feed.title == "World News"
    assert feed.ttl_minutes == 60
    (article,) = feed.articles
    assert article.title == "Talks & treaties"
    assert article.text == "Leaders met.\nMore soon"  # paragraphs kept, whitespace normalised
    assert article.url == "https://news.example.com/a/1?id=5"
    assert article.published == datetime(2025, 6, 10, 2, 0, tzinfo=UTC)
    assert article.source == "World News"
    assert article.feed_id == 7
    assert article.id.startswith("g:")


def test_identity_survives_an_edited_title_and_a_new_pubdate() -> None:
    first = parse(rss(ITEM)).articles[0]
    edited = ITEM.replace("Talks", "Historic talks").replace("10 Jun", "11 Jun")
    again = parse(rss(edited)).articles[0]
    assert again.title != first.title and again.published != first.published
    assert again.id == first.id


def test_link_identity_survives_edits_and_ignores_tracking_parameters() -> None:
    a = "<title>A</title><link>https://x.example/p?utm_medium=feed</link><pubDate>x</pubDate>"
    b = "<title>A, updated</title><link>HTTPS://X.EXAMPLE/p#c</link>"
    assert parse(rss(a)).articles[0].id == parse(rss(b)).articles[0].id
    assert parse(rss(a)).articles[0].id.startswith("u:")


def test_a_url_guid_is_the_same_article_in_every_feed() -> None:
    item = "<title>T</title><guid>https://x.example/story?utm_campaign=z</guid>"
    one = parse(rss(item), feed_url="https://a.example/feed").articles[0]
    two = parse(rss(item), feed_url="https://b.example/rss").articles[0]
    link_only = parse(rss("<title>T</title><link>https://x.example/story</link>")).articles[0]
    assert one.id == two.id == link_only.id
    assert one.url == "https://x.example/story"


def test_an_opaque_guid_is_scoped_by_its_feed() -> None:
    item = "<title>T</title><guid isPermaLink='false'>42</guid>"
    one = parse(rss(item), feed_url="https://a.example/feed").articles[0]
    two = parse(rss(item), feed_url="https://b.example/feed").articles[0]
    assert one.id != two.id


def test_without_guid_or_link_the_id_hashes_title_and_text() -> None:
    item = "<title>Quake  hits</title><description>Details</description>"
    article = parse(rss(item)).articles[0]
    assert article.id.startswith("h:") and len(article.id) == 2 + 32
    assert article.id == parse(rss(item.replace("  ", " "))).articles[0].id


def test_article_id_has_bounded_length() -> None:
    long_guid = "x" * 10_000
    assert len(article_id(guid=long_guid, url="", title="", text="", feed_url=FEED_URL)) == 34


def test_relative_links_resolve_against_the_feed_url() -> None:
    article = parse(rss("<title>T</title><link>/a/2</link>")).articles[0]
    assert article.url == "https://news.example.com/a/2"


def test_published_falls_back_to_updated_then_now() -> None:
    atom = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        "<entry><title>U</title><id>tag:a,2025:1</id><updated>2025-01-02T03:04:05Z</updated>"
        "</entry><entry><title>N</title><id>tag:a,2025:2</id></entry></feed>"
    )
    updated, undated = parse(atom).articles
    assert updated.published == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert undated.published == NOW


def test_source_falls_back_to_the_host() -> None:
    article = parse(rss("<title>T</title><link>https://x.example/1</link>", title="")).articles[0]
    assert article.source == "news.example.com"


def test_repeated_items_are_kept_once() -> None:
    item = "<title>T</title><guid>https://x.example/1</guid>"
    assert len(parse(rss(item, item)).articles) == 1


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM:80/a?b=1", "http://example.com/a?b=1"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://e.com/x?utm_source=a&utm_medium=b&gclid=1&mc_cid=2&mc_eid=3&igshid=4", "https://e.com/x"),
        ("https://e.com/x?a=1&fbclid=z&b=%20c+d", "https://e.com/x?a=1&b=%20c+d"),
        ("https://e.com/x?ref=main", "https://e.com/x?ref=main"),
        ("https://user:pw@e.com/x#frag", "https://e.com/x"),
        ("tag:example.com,2025:1", "tag:example.com,2025:1"),
    ],
)  # fmt: skip
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_html_page_is_not_a_feed() -> None:
    page = b"<!DOCTYPE html>\n<html><head><title>Hi</title></head><body>x</body></html>"
    with pytest.raises(FeedError, match="not a feed: looks like an HTML page"):
        parse(page)


def test_truncated_xml_keeps_the_items_it_recovered() -> None:
    whole = rss(*(f"<title>Item {n}</title><guid>https://x.example/{n}</guid>" for n in range(5)))
    cut = whole[: whole.index("Item 3")]
    titles = [a.title for a in parse(cut).articles]
    assert titles[:3] == ["Item 0", "Item 1", "Item 2"]


def test_truncated_xml_with_nothing_recovered_is_an_error() -> None:
    whole = rss("<title>Only</title>")
    with pytest.raises(FeedError, match="malformed XML"):
        parse(whole[:60])


@pytest.mark.parametrize(
    "body",
    [b"", b"   \n", b"just some text", b"<root><a>1</a></root>", b"\x1f\x8b\x08\x00junk"],
)
def test_non_feeds_are_clear_errors(body: bytes) -> None:
    with pytest.raises(FeedError, match="not a feed"):
        parse(body)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ('<!DOCTYPE r [<!ENTITY a "x">]><rss/>', "entity declarations are not allowed"),
        ('<!DOCTYPE r SYSTEM "file:///etc/passwd"><rss/>', "external DTD"),
        ('<!-- c --><?pi x?>\n<!doctype r PUBLIC "x" "http://e/x.dtd"><rss/>', "external DTD"),
    ],
)
def test_dtd_tricks_are_refused(doc: str, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        parse(doc)
    with pytest.raises(FeedError, match=message):
        parse(doc.encode("utf-16"))


def test_the_netscape_rss_091_doctype_is_accepted() -> None:
    doctype = (
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">'
    )
    body = rss("<title>Old</title><link>https://x.example/o</link>")
    body = body.replace("<rss", doctype + "<rss", 1)
    assert parse(body).articles[0].title == "Old"


@pytest.mark.parametrize("path", needs_shared(shared_files("hostile", "*.xml")))
def test_hostile_files_are_clear_errors_quickly(path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(FeedError) as caught:
        parse(path.read_bytes())
    assert time.monotonic() - started < 2
    message = str(caught.value)
    assert message.startswith(("unsafe XML:", "not a feed:")) and "\n" not in message
    if b"<!ENTITY" in path.read_bytes():
        assert message.startswith("unsafe XML:")


@pytest.mark.parametrize(
    "path", needs_shared(shared_files("real-world") + shared_files("edge-cases"))
)
def test_shared_feeds_parse_or_fail_clearly(path: Path) -> None:
    try:
        feed = parse(path.read_bytes())
    except FeedError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for article in feed.articles:
        assert article.id[:2] in ("g:", "u:", "h:")
        assert article.published.tzinfo is not None
        assert "<" not in article.title or ">" not in article.title


@pytest.mark.parametrize("name", ["rss2sample.xml", "intertwingly.atom", "wapowellness.xml"])
def test_known_good_edge_cases_have_items(name: str) -> None:
    path = SHARED / "edge-cases" / name
    if not path.is_file():
        pytest.skip("shared feed data absent")
    assert parse(path.read_bytes()).articles
