"""`storywatch check-feed URL_OR_FILE [--allow-private]`: fetch, parse and list one feed."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import TextIO

from bot.feeds.reader import CheckResult, check_feed


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="storywatch check-feed",
        description="Fetch (or read) one feed with every safety rule and list its items.",
    )
    parser.add_argument("source", help="feed URL (http/https) or a local file path")
    parser.add_argument(
        "--allow-private",
        action="store_true",
        help="allow feeds on loopback/private addresses (local testing only)",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")
    return parser


def render(result: CheckResult, out: TextIO) -> None:
    """Feed title, then one line per item: published, title, url, id (tab-separated)."""
    out.write(f"{result.title or '(untitled feed)'} — {len(result.articles)} items\n")
    for article in result.articles:
        published = article.published.strftime("%Y-%m-%d %H:%M UTC")
        out.write(f"{published}\t{article.title}\t{article.url or '-'}\t{article.id}\n")


def main(argv: list[str]) -> int:
    """Exit 0 and list the items, or print one error line on stderr and exit 1."""
    args = build_parser().parse_args(argv)
    result = asyncio.run(
        check_feed(
            args.source,
            allow_private=args.allow_private,
            now=datetime.now(UTC),
            allow_files=True,  # the operator's own explicit choice on their own machine
            fetch_timeout=args.timeout,
        )
    )
    if result.error is not None:
        print(f"error: {result.error}", file=sys.stderr)
        return 1
    render(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
