"""`storywatch cluster [FILE.jsonl]`: articles to stories, one verdict a line.

Input: one JSON object per line with `id`, `title`, optional `text`, `url`, `source`, and
`published` (ISO 8601; naive times are taken as UTC), in publication order. Output: one line
per readable article, `{"id": ..., "story": ..., "kind": "new"|"repeat"|"development"}`,
exactly as the bot decides (the shipped models and settings). A malformed line is reported on
stderr with its line number and skipped. Exit status: 0 when every line was read, 1 when some
lines were skipped, 2 when the file cannot be opened.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.core.models import Article
from bot.core.stories import StoryIndex, StoryModels
from bot.story_models import load_models


def parse_article(line: str) -> Article:
    """One input line as an Article; ValueError/KeyError/TypeError when it is not one."""
    data: Any = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    published = datetime.fromisoformat(str(data["published"]).replace("Z", "+00:00"))
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    article_id, title = data["id"], data["title"]
    if not isinstance(article_id, str | int) or not isinstance(title, str) or not title.strip():
        raise ValueError("id must be a string or number and title a non-empty string")
    return Article(
        id=str(article_id),
        feed_id=0,
        url=str(data.get("url") or ""),
        title=title,
        text=str(data.get("text") or ""),
        published=published.astimezone(UTC),
        source=str(data.get("source") or ""),
    )


def _read(line: str, number: int, err: TextIO) -> Article | None:
    """The line's article, or None after telling `err` why the line is skipped."""
    try:
        return parse_article(line)
    except json.JSONDecodeError as exc:
        print(f"line {number}: skipped, not valid JSON ({exc.msg})", file=err)
    except KeyError as exc:
        print(f"line {number}: skipped, missing field {exc}", file=err)
    except (ValueError, TypeError) as exc:
        print(f"line {number}: skipped, {exc}", file=err)
    return None


def cluster_lines(
    lines: Iterable[str], out: TextIO, err: TextIO, models: StoryModels | None = None
) -> int:
    """Assign each line's article and write its verdict; return how many lines were skipped.
    `models`: the shipped ones unless given (the fitting scripts pass their own)."""
    index = StoryIndex(models or load_models())
    skipped = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        article = _read(line, number, err)
        if article is None:
            skipped += 1
            continue
        verdict = index.assign(article)
        out.write(json.dumps({"id": article.id, "story": verdict.story_id, "kind": verdict.kind}))
        out.write("\n")
    return skipped


def main(argv: list[str]) -> int:
    """Entry point: `[FILE.jsonl]`; stdin is read when FILE is absent or `-`."""
    if len(argv) > 1 or any(a.startswith("--") for a in argv):
        print("usage: storywatch cluster [FILE.jsonl]", file=sys.stderr)
        return 2
    if not argv or argv[0] == "-":
        return 1 if cluster_lines(sys.stdin, sys.stdout, sys.stderr) else 0
    try:
        with open(argv[0], encoding="utf-8") as fh:
            return 1 if cluster_lines(fh, sys.stdout, sys.stderr) else 0
    except OSError as exc:
        print(f"cannot read {argv[0]}: {exc.strerror}", file=sys.stderr)
        return 2
