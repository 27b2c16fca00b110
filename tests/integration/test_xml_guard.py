"""The XML-level DOCTYPE check (defusedxml/expat): tricks a text scan missed are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.feeds.parser import FeedError, parse_feed
from bot.tools.check_feed import main

HOSTILE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "feeds" / "hostile"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
CHANNEL = '<rss version="2.0"><channel><title>&x;</title><item><title>a</title></item>'
# The internal subset "ends" at the "]>" inside the comment for a scan that looks for "]"
# then ">": the ENTITY after it was never seen.
HIDDEN = f'<?xml version="1.0"?><!DOCTYPE rss [<!-- ]> --><!ENTITY x "boom">]>{CHANNEL}'


def parse(body: bytes) -> None:
    parse_feed(body, feed_url="https://e.example/f", feed_id=1, now=NOW)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (HIDDEN, "entity declarations are not allowed"),
        (HIDDEN.replace("<!-- ]> -->", "<?pi ]> ?>"), "entity declarations are not allowed"),
        ('<!DOCTYPE rss [<!ENTITY % p "x">]><rss/>', "entity declarations are not allowed"),
        ('<!DOCTYPE rss [<!ELEMENT rss ANY> <!-- ]> --> <!ENTITY x SYSTEM "file:///etc/passwd">]>'
         f"{CHANNEL}", "entity declarations are not allowed"),
        ("<!--" + "x" * 70_000 + '--><!DOCTYPE r SYSTEM "file:///etc/passwd"><rss/>',
         "external DTD"),
        ('<!DOCTYPE r [<!ENTITY x "y">', "unsafe XML"),
        ("<!--" + "x" * 1_100_000 + "--><rss/>", "no root element"),
    ],
)  # fmt: skip
def test_dtd_tricks_are_refused_at_the_xml_level(doc: str, message: str) -> None:
    for body in (doc.encode(), doc.encode("utf-16")):
        with pytest.raises(FeedError, match=message):
            parse(body)


@pytest.mark.parametrize(
    "doc",
    [
        '<?xml version="1.0" encoding="windows-1251"?><!DOCTYPE rss [<!ELEMENT rss ANY>]>'
        '<rss version="2.0"><channel><title>T</title><item><title>a</title></item></channel></rss>',
        '\ufeff  <?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        "<item><title>a</title></item></channel></rss>",
    ],
)
def test_harmless_prologues_still_parse(doc: str) -> None:
    parse(doc.encode("utf-8"))


def test_the_hidden_entity_is_one_error_line_from_check_feed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hidden.xml"
    path.write_text(HIDDEN, encoding="utf-8")
    assert main([str(path)]) == 1
    assert capsys.readouterr().err == "error: unsafe XML: entity declarations are not allowed\n"


def test_every_hostile_shared_file_is_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(p for p in HOSTILE.glob("*") if not p.name.startswith("LICENSE"))
    if not files:
        pytest.skip("shared feed data absent")
    for path in files:
        assert main([str(path)]) == 1, path
        _, err = capsys.readouterr()
        assert err.startswith(("error: unsafe XML:", "error: not a feed:")), (path, err)
        assert err.count("\n") == 1
        if b"<!ENTITY" in path.read_bytes():
            assert err.startswith("error: unsafe XML:"), path
