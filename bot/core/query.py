"""The watchlist query language: a hand-written lexer and parser producing a small boolean AST.

Grammar (operators are upper-case only, so "and"/"or"/"not" stay ordinary words):

    query   := or_expr
    or_expr := and_expr (("OR" | "|") and_expr)*
    and_expr:= unary (["AND"] unary)*
    unary   := ("-" | "NOT") unary | "(" or_expr ")" | term
    term    := [field ":"] ["~"] (word | '"' phrase '"')
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.query_tree import And, Node, Not, Or, Query, Term, needs_hit
from bot.core.text import JoinedTokens

__all__ = [
    "FIELDS",
    "MAX_NESTING",
    "MAX_QUERY_LENGTH",
    "And",
    "Node",
    "Not",
    "Or",
    "Query",
    "QueryError",
    "Term",
    "describe_query_language",
    "needs_hit",
    "parse_query",
]

MAX_QUERY_LENGTH = 512
MAX_NESTING = 16  # keeps recursion bounded whatever the user types
FIELDS = ("title", "text")
_STOP_CHARS = '()"|'
_OPERATORS = ("AND", "OR", "NOT")


class QueryError(ValueError):
    """A query the user must rewrite; the message is one line saying what is wrong and how."""


# Lexer tokens: ("(", ")", "OR", "AND", "NOT") as plain strings, or a Term.
Lexeme = str | Term


def _lex(text: str) -> list[Lexeme]:
    out: list[Lexeme] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            out.append(char)
            i += 1
        elif char == "|":
            out.append("OR")
            i += 1
        elif char == "-":
            _check_minus(text, i)
            out.append("NOT")
            i += 1
        else:
            lexeme, i = _lex_word(text, i)
            out.append(lexeme)
    return out


def _check_minus(text: str, i: int) -> None:
    after = text[i + 1 : i + 2]
    if not after or after.isspace() or after in ")|":
        raise QueryError("A '-' must be followed directly by what to exclude, e.g. S-400 -India")


def _lex_word(text: str, i: int) -> tuple[Lexeme, int]:
    start = i
    field, i = _lex_field(text, i)
    fuzzy = text.startswith("~", i)
    i += fuzzy
    if text.startswith('"', i):
        close = text.find('"', i + 1)
        if close < 0:
            raise QueryError('Unclosed quote: end the phrase with ", e.g. "air defense system"')
        return _term(text[i + 1 : close], True, fuzzy, field), close + 1
    end = _word_end(text, i)
    word = text[i:end]
    if word in _OPERATORS and end - start == len(word):
        return word, end
    if not word:
        raise QueryError(f"'{text[start:i]}' must be followed by a word, e.g. title:~Blinken")
    return _term(word, False, fuzzy, field), end


def _word_end(text: str, i: int) -> int:
    """Where the word from `i` ends: at whitespace, one of ( ) " |, or the end of the query."""
    # str methods rather than a per-character loop: a 100,000-rule rebuild lexes every query.
    stop = min((at for char in _STOP_CHARS if (at := text.find(char, i)) >= 0), default=len(text))
    if stop == i or text[i].isspace():
        return i
    return i + len(text[i:stop].split(maxsplit=1)[0])


def _lex_field(text: str, i: int) -> tuple[str | None, int]:
    """Read a "title:" style prefix; a colon elsewhere (e.g. "10:30") stays part of the word."""
    end = text.find(":", i, i + 6)  # no field name is longer than five letters
    name = text[i:end]
    if end < 0 or not (name.isascii() and name.isalpha()):
        return None, i
    if name.lower() not in FIELDS:
        raise QueryError(
            f"Unknown field '{name}:'; only title: and text: exist, e.g. title:Blinken"
        )
    return name.lower(), end + 1


def _term(word: str, phrase: bool, fuzzy: bool, field: str | None) -> Term:
    if word.isascii() and word.isalpha():  # the common case, kept cheap for big rebuilds
        folded: tuple[str, ...] = (word.lower(),)
    else:
        folded = tuple(JoinedTokens.of(word).joined.split())
    if not folded:
        what = "The phrase" if phrase else f"'{word}'"
        raise QueryError(f"{what} has no letters or digits to match; use words, e.g. S-400 Turkey")
    return Term(" ".join(word.split()), folded, phrase, fuzzy, field)


class _Parser:
    """Recursive descent over the lexemes, with a nesting limit."""

    def __init__(self, lexemes: list[Lexeme]) -> None:
        self.lexemes = lexemes
        self.pos = 0
        self.depth = 0

    def peek(self) -> Lexeme | None:
        return self.lexemes[self.pos] if self.pos < len(self.lexemes) else None

    def take(self) -> Lexeme | None:
        lexeme = self.peek()
        self.pos += 1
        return lexeme

    def parse(self) -> Node:
        node = self.or_expr()
        if self.peek() == ")":
            raise QueryError(_UNBALANCED)
        return node

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while self.peek() == "OR":
            self.take()
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else Or(tuple(_flatten(children, Or)))

    def and_expr(self) -> Node:
        children = [self.unary()]
        while self.peek() not in (None, ")", "OR"):
            if self.peek() == "AND":
                self.take()
            children.append(self.unary())
        return children[0] if len(children) == 1 else And(tuple(_flatten(children, And)))

    def unary(self) -> Node:
        lexeme = self.take()
        if isinstance(lexeme, Term):
            return lexeme
        if lexeme == "NOT":
            return Not(self.nested(self.unary))
        if lexeme == "(":
            node = self.nested(self.or_expr)
            if self.take() != ")":
                raise QueryError(_UNBALANCED)
            return node
        raise QueryError(_misplaced(lexeme))

    def nested(self, parse: Callable[[], Node]) -> Node:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise QueryError(f"The query nests deeper than {MAX_NESTING} levels; flatten it")
        node = parse()
        self.depth -= 1
        return node


_UNBALANCED = "Unbalanced parentheses: every ( needs a matching ), e.g. (Blinken OR Antony) NATO"


def _misplaced(lexeme: Lexeme | None) -> str:
    if lexeme == ")":
        return _UNBALANCED
    if lexeme in ("OR", "AND"):
        return f"{lexeme} needs a word on each side, e.g. Blinken {lexeme} Cavusoglu"
    if lexeme == "NOT":
        return "NOT must be followed by what to exclude, e.g. S-400 NOT India"
    return "The query ends too early: finish it with a word, e.g. Blinken OR Cavusoglu"


def _flatten(children: list[Node], kind: type[And] | type[Or]) -> list[Node]:
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, kind) else (child,))
    return flat


def parse_query(text: str) -> Query:
    """Parse a watchlist query or raise QueryError with a one-line explanation."""
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(
            f"The query is {len(text)} characters long; the limit is {MAX_QUERY_LENGTH}:"
            " split it into several rules"
        )
    if text.isascii() and text.isalpha() and text not in _OPERATORS:
        return Query(Term(text, (text.lower(),)))  # one plain word, as most queries are
    lexemes = _lex(text)
    if not lexemes:
        raise QueryError("The query is empty: give the words to watch, e.g. S-400 Turkey")
    if lexemes.count("(") != lexemes.count(")"):
        raise QueryError(_UNBALANCED)
    root = _Parser(lexemes).parse()
    if not needs_hit(root):
        raise QueryError(_negation_message(Query(root)))
    return Query(root)


def _negation_message(query: Query) -> str:
    if not query.positive_terms():
        return "The query only excludes words: add a word that must appear, e.g. S-400 -India"
    return (
        "Each OR alternative needs a word that must appear, e.g. (Blinken -India) OR Cavusoglu,"
        " not Blinken OR -India"
    )


def describe_query_language() -> str:
    """Plain-text help for /help and the README."""
    return _HELP


_HELP = """\
Watch queries (case, accents, hyphens and invisible characters do not matter; whole words):
  S-400                 the word: S-400, S400, S 400, S-400s, S-400's
  Cavusoglu             also matches Çavuşoğlu, CAVUSOGLU, Cavusoglu's
  "air defense system"  the words in this order (plurals too: air defense systems)
  Blinken Turkey        both words (same as Blinken AND Turkey)
  Blinken OR Cavusoglu  either word (| works too)
  S-400 -India          S-400 but not India (NOT India works too)
  (Blinken OR Cavusoglu) NATO   parentheses group
  title:Blinken         only in the headline (text: for the body)
  ~Anthony              tolerates one typo in words of 6+ letters (matches Antony)
Operators AND, OR, NOT must be written in capitals. A query is at most 512 characters."""
