"""Matched rules and where their words are, worked out in the original text only when read."""

from __future__ import annotations

from bot.core.automaton import TEXT, TITLE, Found
from bot.core.text import JoinedTokens

Span = tuple[str, int, int]  # (field "title"|"text", start, end) in the original string
Shown = tuple[tuple[int, int], ...]  # (term id, field bits) of a rule's positive terms


class RuleHit:
    """A rule that matched an article, and where.

    `spans` are (field "title"|"text", start, end) in the original strings, headline first;
    `terms` are the distinct original words there, for display. Hits made by the matcher work
    both out on first read: many callers only need `rule_id`. Treat a hit as immutable.
    """

    __slots__ = ("_shown", "_spans", "_terms", "_view", "rule_id")

    def __init__(
        self, rule_id: int, spans: tuple[Span, ...] = (), terms: tuple[str, ...] = ()
    ) -> None:
        self.rule_id = rule_id
        self._spans = spans
        self._terms = terms
        self._view: ArticleView | None = None
        self._shown: Shown = ()

    @classmethod
    def deferred(cls, rule_id: int, view: ArticleView, shown: Shown) -> RuleHit:
        """A hit whose spans and words are those of its `shown` terms, located when read."""
        hit = object.__new__(cls)  # bypasses __init__: made once per matched rule and article
        hit.rule_id, hit._spans, hit._terms, hit._view, hit._shown = rule_id, (), (), view, shown
        return hit

    @property
    def spans(self) -> tuple[Span, ...]:
        self._resolve()
        return self._spans

    @property
    def terms(self) -> tuple[str, ...]:
        self._resolve()
        return self._terms

    def _resolve(self) -> None:
        view = self._view
        if view is not None:
            # The view is dropped only after both answers are stored, so a thread reading
            # concurrently either locates again (same answer) or finds them.
            self._spans, self._terms = view.locate(self._shown)
            self._view = None

    def _key(self) -> tuple[int, tuple[Span, ...], tuple[str, ...]]:
        return self.rule_id, self.spans, self.terms

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RuleHit) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"RuleHit(rule_id={self.rule_id!r}, spans={self.spans!r}, terms={self.terms!r})"


class ArticleView:
    """One matched article: its tokens and found terms, mapped back to the originals on demand.

    Every hit of the article shares one view, so the first hit asked for its spans maps the
    occurrences of all found terms in one linear pass per field, and the others reuse it.
    """

    __slots__ = ("_located", "_originals", "_split", "_tokens", "found")

    def __init__(
        self, originals: tuple[str, str], tokens: tuple[JoinedTokens, JoinedTokens], found: Found
    ) -> None:
        self._originals = originals
        self._tokens = tokens
        self._split = len(tokens[0].joined)  # where the text starts in the scanned string
        self.found = found
        self._located: dict[tuple[int, int], tuple[int, int, int]] | None = None

    def locate(self, shown: Shown) -> tuple[tuple[Span, ...], tuple[str, ...]]:
        """Spans in the originals of the occurrences of `shown` terms, and the words there."""
        located = self._located
        if located is None:
            located = self._located = self._locate_all()
        split = self._split
        ordered = sorted(
            {
                located[at]
                for term_id, allowed in shown
                for at in self.found.get(term_id, ())
                if allowed & (TITLE if at[0] < split else TEXT)
            }
        )
        spans = tuple((("title", "text")[f], s, e) for f, s, e in ordered)
        words = dict.fromkeys(self._originals[f][s:e] for f, s, e in ordered)
        return spans, tuple(words)

    def _locate_all(self) -> dict[tuple[int, int], tuple[int, int, int]]:
        """(field index, start, end) in the original of every found occurrence."""
        split = self._split
        occurrences = {at for ats in self.found.values() for at in ats}
        title = self._tokens[0].spans(at for at in occurrences if at[0] < split)
        text = self._tokens[1].spans((s - split, e - split) for s, e in occurrences if s >= split)
        located = {at: (0, *span) for at, span in title.items()}
        located |= {(s + split, e + split): (1, *span) for (s, e), span in text.items()}
        return located
