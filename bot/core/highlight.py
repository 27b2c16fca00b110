"""The alert snippet: a window of article text around a hit, its found words in bold."""

from __future__ import annotations

from bot.core.hits import RuleHit
from bot.core.models import Highlight


def highlight(title: str, text: str, hit: RuleHit, width: int = 240) -> Highlight:
    """A snippet of about `width` characters around the hit's first span, found words in bold.

    The snippet comes from the text when the hit is there (the title is shown anyway), else
    from the title; whitespace runs become one space; "…" marks each cut end.
    """
    field = "text" if any(f == "text" for f, _, _ in hit.spans) else "title"
    source = text if field == "text" else title
    spans = sorted((s, e) for f, s, e in hit.spans if f == field)
    lo, hi = _window(source, spans[0] if spans else (0, 0), width)
    body, inside = _squeeze(source, lo, hi, spans)
    prefix = "…" if lo > 0 and body else ""
    suffix = "…" if hi < len(source.rstrip()) and body else ""
    shifted = tuple((s + len(prefix), e + len(prefix)) for s, e in inside)
    return Highlight(prefix + body + suffix, shifted)


def _window(source: str, anchor: tuple[int, int], width: int) -> tuple[int, int]:
    """[lo, hi) of about `width` chars, a third before the anchor, cut between words."""
    lo = max(0, anchor[0] - width // 3)
    while 0 < lo < anchor[0] and not source[lo - 1].isspace():
        lo += 1
    hi = min(len(source), lo + max(width, anchor[1] - lo))
    while anchor[1] < hi < len(source) and not source[hi].isspace():
        hi -= 1
    return lo, hi


def _squeeze(
    source: str, lo: int, hi: int, spans: list[tuple[int, int]]
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """source[lo:hi] with whitespace runs collapsed and ends trimmed, and spans mapped into it."""
    out: list[str] = []
    where: list[int] = []  # position in `out` of each source index from lo to hi
    for char in source[lo:hi]:
        where.append(len(out))
        if not char.isspace():
            out.append(char)
        elif out and out[-1] != " ":
            out.append(" ")
    where.append(len(out))
    if out and out[-1] == " ":
        out.pop()
    visible = ((s, e) for s, e in spans if s < hi and e > lo)
    mapped = ((where[max(s, lo) - lo], min(where[min(e, hi) - lo], len(out))) for s, e in visible)
    return "".join(out), tuple((s, e) for s, e in mapped if s < e)
