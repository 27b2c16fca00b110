"""The watchlist query's syntax tree: terms and boolean nodes, and what matching needs of them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Term:
    """A word or phrase to find; `tokens` are its folded tokens."""

    word: str  # as the user wrote it, without prefixes or quotes
    tokens: tuple[str, ...]
    phrase: bool = False
    fuzzy: bool = False
    field: str | None = None  # None: title or text
    # What the matcher must find, shared by every rule using the same term; stored because
    # the matcher reads it for every candidate rule of every article.
    key: tuple[str, tuple[str, ...]] = dataclasses.field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        mode = "fuzzy" if self.fuzzy else ("phrase" if self.phrase else "word")
        object.__setattr__(self, "key", (mode, self.tokens))

    def __str__(self) -> str:
        body = f'"{self.word}"' if self.phrase else self.word
        return (f"{self.field}:" if self.field else "") + ("~" if self.fuzzy else "") + body


@dataclass(frozen=True, slots=True)
class Not:
    """True when the child is false."""

    child: Node

    def __str__(self) -> str:
        inner = str(self.child)
        return f"-({inner})" if isinstance(self.child, And | Or) else f"-{inner}"


@dataclass(frozen=True, slots=True)
class And:
    """True when every child is true."""

    children: tuple[Node, ...]

    def __str__(self) -> str:
        return " ".join(f"({c})" if isinstance(c, Or) else str(c) for c in self.children)


@dataclass(frozen=True, slots=True)
class Or:
    """True when any child is true."""

    children: tuple[Node, ...]

    def __str__(self) -> str:
        return " OR ".join(str(c) for c in self.children)


Node = Term | Not | And | Or


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query; str() gives its normalised text."""

    root: Node

    def __str__(self) -> str:
        return str(self.root)

    def positive_terms(self) -> tuple[Term, ...]:
        """Terms whose presence helps a match (not under an odd number of negations)."""
        return tuple(_positive_terms(self.root, negated=False))


def _positive_terms(node: Node, negated: bool) -> list[Term]:
    if isinstance(node, Term):
        return [] if negated else [node]
    if isinstance(node, Not):
        return _positive_terms(node.child, not negated)
    return [t for c in node.children for t in _positive_terms(c, negated)]


def needs_hit(node: Node) -> bool:
    """True when the node can only be true if one of its positive terms occurs.

    The matcher evaluates a rule only when one of its terms was found, so every accepted
    query must have this property (it rules out "-India" and "Blinken OR -India").
    """
    if isinstance(node, Term):
        return True
    if isinstance(node, Not):
        return isinstance(node.child, Not) and needs_hit(node.child.child)
    if isinstance(node, And):
        return any(needs_hit(c) for c in node.children)
    return all(needs_hit(c) for c in node.children)
