"""`storywatch match QUERY [FILE ...]`: try a watch query on articles and show what it finds."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from bot.core.matcher import RuleIndex, highlight
from bot.core.models import Highlight
from bot.core.query import QueryError, describe_query_language, parse_query

EXIT_MATCHED, EXIT_NO_MATCH, EXIT_ERROR = 0, 1, 2
_ANSI_BOLD, _ANSI_RESET = "\033[1m", "\033[0m"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="storywatch match",
        description="Check which articles a watch query matches. An article file's first "
        "non-empty line is its title, the rest its text; stdin is read when no file is given.",
        epilog=describe_query_language(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("query", help="the watch query, e.g. 'S-400 -India'")
    parser.add_argument("files", nargs="*", type=Path, help="article files (default: stdin)")
    return parser


def split_article(raw: str) -> tuple[str, str]:
    """(title, text): the first non-empty line is the title, everything after it the text."""
    stripped = raw.lstrip()
    title, _, text = stripped.partition("\n")
    return title.strip(), text


def _inputs(files: list[Path]) -> Iterator[tuple[str, str]]:
    """(name, content) of each input; OSError propagates for the caller to report."""
    if not files:
        yield "<stdin>", sys.stdin.read()
    for path in files:
        yield str(path), path.read_text(encoding="utf-8", errors="replace")


def render(snippet: Highlight, ansi: bool) -> str:
    """The snippet with its spans in bold: ANSI for a terminal, **word** otherwise."""
    opening, closing = (_ANSI_BOLD, _ANSI_RESET) if ansi else ("**", "**")
    pieces: list[str] = []
    done = 0
    for start, end in snippet.spans:
        pieces += [snippet.text[done:start], opening, snippet.text[start:end], closing]
        done = end
    pieces.append(snippet.text[done:])
    return "".join(pieces)


def main(argv: list[str]) -> int:
    """Run the command; exit 0 if any input matched, 1 if none did, 2 on a bad query or file."""
    args = _parser().parse_args(argv)
    try:
        query = str(parse_query(args.query))
    except QueryError as error:
        print(f"storywatch match: invalid query: {error}", file=sys.stderr)
        return EXIT_ERROR
    index = RuleIndex.build([(1, query)])
    ansi = sys.stdout.isatty()
    matched = False
    try:
        for name, raw in _inputs(args.files):
            title, text = split_article(raw)
            hits = index.match(title, text)
            matched |= bool(hits)
            print(f"{name}: {'match' if hits else 'no match'}")
            if hits:
                print("  " + render(highlight(title, text, hits[0]), ansi))
    except OSError as error:
        print(f"storywatch match: cannot read {error.filename}: {error.strerror}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_MATCHED if matched else EXIT_NO_MATCH
