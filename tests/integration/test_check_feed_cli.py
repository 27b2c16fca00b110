"""`storywatch check-feed`: list a feed's items, or one clear error line and exit 1."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest
from feedserver import FeedServer

from bot.feeds.reader import check_feed
from bot.tools.check_feed import main

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "feeds"
RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour Watch</title>'
    "<item><title>Ferry delayed</title><link>https://harbour.example/ferry?fbclid=x</link>"
    "<pubDate>Mon, 02 Jun 2025 08:30:00 GMT</pubDate></item></channel></rss>"
)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_lists_a_served_feed(capsys: pytest.CaptureFixture[str]) -> None:
    with FeedServer() as server:
        server.set("/rss", RSS)
        code, out, err = run([server.url("/rss"), "--allow-private"], capsys)
    assert code == 0 and err == ""
    title, item = out.splitlines()
    assert title == "Harbour Watch — 1 items"
    published, headline, url, article_id = item.split("\t")
    assert (published, headline, url) == (
        "2025-06-02 08:30 UTC",
        "Ferry delayed",
        "https://harbour.example/ferry",
    )
    assert article_id.startswith("u:")


def test_private_address_is_refused_without_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with FeedServer() as server:
        server.set("/rss", RSS)
        code, out, err = run([server.url("/rss")], capsys)
        assert server.count("/rss") == 0
    assert code == 1 and out == ""
    assert err == "error: refused: 127.0.0.1 is a loopback address\n"


def test_html_page_is_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    with FeedServer() as server:
        server.set("/", "<html><body>hello</body></html>")
        code, _, err = run([server.url("/"), "--allow-private"], capsys)
    assert code == 1
    assert err == "error: not a feed: looks like an HTML page\n"


def test_reads_local_files_plain_or_gzipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "feed.xml"
    plain.write_text(RSS, encoding="utf-8")
    packed = tmp_path / "feed.xml.gz"
    packed.write_bytes(gzip.compress(RSS.encode()))
    for path in (plain, packed):
        code, out, _ = run([str(path)], capsys)
        assert code == 0 and out.startswith("Harbour Watch — 1 items")


def test_missing_file_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([str(tmp_path / "nope.xml")], capsys)
    assert code == 1 and out == ""
    assert err.startswith("error: cannot read ") and err.count("\n") == 1


@pytest.mark.parametrize("name", ["xmlbomb.xml", "quadratic.xml", "external_file.xml", "dtd.xml"])
def test_hostile_shared_files_are_refused(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = SHARED / "hostile" / name
    if not path.is_file():
        pytest.skip("shared feed data absent")
    code, _, err = run([str(path)], capsys)
    assert code == 1 and err.startswith("error: unsafe XML:")


async def test_check_feed_reads_no_local_files_unless_asked(tmp_path: Path) -> None:
    # /addfeed uses check_feed with a user's text: a path must never be opened.
    secret = tmp_path / "secret.xml"
    secret.write_text(RSS, encoding="utf-8")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for source in (str(secret), secret.as_uri()):
        result = await check_feed(source, allow_private=True, now=now)
        assert result.error is not None
        assert result.error is not None and result.error.startswith("refused:")
    allowed = await check_feed(str(secret), allow_private=False, now=now, allow_files=True)
    assert allowed.error is None and allowed.title == "Harbour Watch"
