"""Turn feed HTML (titles, summaries, content) into clean plain text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Tags whose content is never readable text (code, styling, embedded documents).
_SKIPPED = frozenset({"script", "style", "template", "noscript", "iframe", "svg", "math", "head"})
# Block-level tags end a run of text; without a space "<p>One</p><p>Two</p>" reads "OneTwo".
_BLOCKS = frozenset(
    {
        "p", "div", "br", "li", "ul", "ol", "tr", "td", "th", "table", "h1", "h2", "h3", "h4",
        "h5", "h6", "blockquote", "pre", "hr", "section", "article", "header", "footer",
        "figure", "figcaption", "dd", "dt", "dl", "img",
    }
)  # fmt: skip
_SPACE = re.compile(r"\s+")
_CUT_TAG = re.compile(r"<[A-Za-z/!][^>]*\Z")
_LOOKS_LIKE_MARKUP = re.compile(r"<[A-Za-z/!]|&(?:#\d+|#x[0-9A-Fa-f]+|[A-Za-z]+);")


class _TextCollector(HTMLParser):
    """Collects character data outside skipped elements; entities arrive already decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip_depth += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def normalise_space(text: str) -> str:
    """Collapse every run of whitespace (including NBSP and newlines) to one space; strip ends."""
    return _SPACE.sub(" ", text.replace("\u00a0", " ")).strip()


def normalise_paragraphs(text: str) -> str:
    """Whitespace normalised within lines; one newline between non-empty paragraphs."""
    lines = (normalise_space(line) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def plain_text(markup: str, *, paragraphs: bool = False) -> str:
    """HTML or plain text → plain text: tags dropped, entities decoded, whitespace normalised.

    With `paragraphs`, block boundaries (<p>, <br>, <li> …) and newlines stay as single
    newlines: boilerplate such as "Subscribe to our newsletter" is a paragraph of its own,
    and flattening it into the article would make it impossible to cut out cleanly.
    Text with no tags or entities is returned normalised but otherwise untouched, so a
    literal "a < b" in a plain title survives.
    """
    normalise = normalise_paragraphs if paragraphs else normalise_space
    if not _LOOKS_LIKE_MARKUP.search(markup):
        return normalise(markup)
    collector = _TextCollector()
    # A summary cut off mid-tag ("... <a href='x") would otherwise come back as text.
    collector.feed(_CUT_TAG.sub("", markup))
    collector.close()
    return normalise("".join(collector.parts))
