"""Terms, named entities and facts pulled from news text, plus an online document frequency."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable

from bot.core.text import fold

# Letter-digit designators (S-400, F-35, Q4, 5G), money ($1.8B), words with inner apostrophes
# or dots (Men's, U.S.), plain numbers (1,200 / 3.5).
_L = r"[^\W\d_]"  # any letter, accented ones included (Çavuşoğlu)
_TOKEN = re.compile(rf"\$?\d[\d,.]*%?{_L}*|{_L}+(?:[-'’.](?:{_L}|\d)+)*\.?")
_DESIGNATOR = re.compile(r"^(?:[A-Za-z]{1,4}-?\d{1,5}[A-Za-z]?|\d{1,4}[A-Za-z]{1,3})$")
_NUMBER = re.compile(r"\d")
_QUOTE = re.compile(r"[\"“”]([^\"“”]{12,300})[\"“”]")
_SENTENCE_END = re.compile(r"([.!?…][\"”’)]?)\s+(?=[\"“‘(]?[A-Z0-9À-Ý])")
# A full stop after these ends an abbreviation, not a sentence (U.S. Secretary, Mr. Demir).
_ABBREVIATION = re.compile(
    r"(?:\b(?:[A-Za-z]\.)+|\b(?:Mr|Mrs|Ms|Dr|Prof|St|Gen|Sen|Rep|Gov|Lt|Col|Sgt|Capt|Jr|Sr|Inc|"
    r"Corp|Co|Ltd|No|vs|etc|Jan|Feb|Mar|Apr|Aug|Sept?|Oct|Nov|Dec)\.)$"
)

_STOPWORD_TEXT = """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours out
    over own same she should so some such than that the their theirs them then there these they
    this those through to too under until up very was we were what when where which while who whom
    why will with would you your yours yourself says said say saying told tells tell new news over
    amid after via vs report reports reported update updates live video watch photos here's what's
    it's get gets got make makes made may might one two first last year years week day today
    yesterday tomorrow mr mrs ms according just still back like"""
# The most frequent function words of other languages feeds are often written in (Tagalog,
# Spanish, French, German, Portuguese, Italian, Indonesian/Malay): without them, two items in
# one language look alike just for being in that language.
_FUNCTION_WORDS = """
    ang ng sa na mga ay at si ni kay ito para pero hindi wala may din rin lang naman ko mo siya
    sila kami tayo kayo nila namin natin nang kung kapag dahil ayon isang nitong noong po raw daw
    umano ba niya yung le les un une des du et est que qui dans pour pas sur au aux ce cette il
    elle ils nous vous avec par plus ou der das und ist nicht ein eine zu dem mit von auf im sich
    auch es sie wir el los las del en una por con es se al lo como sus su os um uma do da dos das
    em no com mais di untuk dengan ini itu dari tidak ke pada akan che della"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split()) | frozenset(_FUNCTION_WORDS.split())

# Capitalised in running text without naming anything in particular.
_NOT_NAMES = STOPWORDS | {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
_SUFFIXES = ("ies", "sses", "ing", "ed", "es", "s")


def words(text: str) -> list[str]:
    """Raw word-like tokens of `text`, in order, punctuation dropped."""
    return [tok.rstrip(".") or tok for tok in _TOKEN.findall(text)]


# Pure and called for every word of every article: memoised (news reuses its vocabulary).
@functools.lru_cache(maxsize=1 << 14)
def normalize(token: str) -> str:
    """Lower-case and strip possessives and plural/verb endings, so `Bank's`/`banks` and
    `closes`/`closed` meet. Crude on purpose: it only has to map variants together."""
    # Folded like watch queries, so "Mevlüt Çavuşoğlu" and "Mevlut Cavusoglu" are one name.
    term = fold(token).replace("’", "'")
    if term.endswith("'s"):
        term = term[:-2]
    if _NUMBER.search(term):
        return term.replace(",", "")  # 1,200 = 1200; keep decimals: $2.5b is not $25b
    term = term.replace(".", "").replace("'", "")
    if len(term) <= 3:
        return term
    for suffix in _SUFFIXES:
        if term.endswith(suffix) and len(term) - len(suffix) >= 3:
            if suffix == "s" and term.endswith("ss"):
                break
            term = term[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    # A final "e" comes and goes with endings (close, closed, closes): drop it everywhere.
    return term[:-1] if term.endswith("e") and len(term) > 3 else term


def terms(text: str) -> set[str]:
    """Content terms of `text`: normalised words without stopwords or one-letter noise."""
    found: set[str] = set()
    for tok in words(text):
        if tok.lower() not in STOPWORDS:
            found.update(_forms(tok))
    return found


@functools.lru_cache(maxsize=1 << 14)
def _forms(tok: str) -> frozenset[str]:
    """The terms one word stands for. "Comcast-Time Warner" must meet "Comcast" and
    "docu-series" meet "series"; a compound of two or more content words ("stay-at-home",
    "Russian-made") is said by its parts, not once more as a whole."""
    term = normalize(tok)
    parts = _parts(tok) if "-" in tok and not _NUMBER.search(tok) else set()
    if len(term) > 1 and term not in STOPWORDS and len(parts) < 2:
        parts.add(term)
    return frozenset(parts)


def _parts(hyphenated: str) -> set[str]:
    """Terms of a hyphenated word's parts, too short or common parts (T-Mobile's T) left out."""
    return {
        normalize(part)
        for part in hyphenated.split("-")
        if len(part) > 2 and part.lower() not in STOPWORDS
    }


def is_title_case(text: str) -> bool:
    """True when most words are capitalised, so capitals say nothing about names."""
    toks = [t for t in words(text) if t[0].isalpha() and t.lower() not in STOPWORDS]
    # Title Case capitalises nearly every content word; a news sentence full of names and
    # titles ("Secretary of State Antony Blinken pressed …") still has lowercase verbs.
    lower = sum(1 for t in toks if t[0].islower())
    return len(toks) >= 3 and lower <= 0.1 * len(toks)


def entities(text: str) -> set[str]:
    """Named things in `text`, normalised: designators (S-400), acronyms (NATO), and, outside
    title-cased lines, capitalised words that do not start a sentence."""
    found = set()
    title_case = is_title_case(text)
    for sentence in sentences(text):
        for pos, tok in enumerate(words(sentence)):
            if _is_code(tok):
                found.add(normalize(tok))
            elif not title_case and pos > 0 and _is_name(tok):
                found.update(_forms(tok))
    return found


def _is_code(tok: str) -> bool:
    """Designators and acronyms: S-400, F-35, Q4, NATO, U.S."""
    if _DESIGNATOR.match(tok):
        return not tok.isdigit() and any(c.isalpha() for c in tok)
    return len(tok) >= 2 and tok.replace(".", "").isalpha() and tok.replace(".", "").isupper()


def _is_name(tok: str) -> bool:
    return tok[0].isupper() and len(tok) > 2 and tok.lower() not in _NOT_NAMES


def numbers(text: str) -> set[str]:
    """Figures in `text` (counts, money, percentages, years), as written minus separators."""
    return {
        tok.replace(",", "").lower()
        for tok in words(text)
        if _NUMBER.search(tok) and not _DESIGNATOR.match(tok)
    }


def quotes(text: str) -> list[str]:
    """Direct quotations long enough to carry a statement."""
    return [q.strip() for q in _QUOTE.findall(text)]


def sentences(text: str) -> list[str]:
    """Split paragraphs and then sentences; blank pieces dropped."""
    out: list[str] = []
    for para in text.splitlines():
        pieces = [p.strip() for p in _SENTENCE_END.sub("\\1\n", para).split("\n") if p.strip()]
        for n, piece in enumerate(pieces):
            if n and _ABBREVIATION.search(pieces[n - 1]):
                out[-1] = f"{out[-1]} {piece}"
            else:
                out.append(piece)
    return out


class DocumentFrequency:
    """Document frequencies learned online, so rare (salient) terms weigh more as news flows.

    `prior_documents` pretends that many earlier documents lacked every term: a cold index
    then treats words as rare until it has seen them spread, instead of as all equally common.
    """

    __slots__ = ("_df", "_docs", "_prior")

    def __init__(self, prior_documents: int = 100) -> None:
        self._df: dict[str, int] = {}
        self._docs = 0
        self._prior = prior_documents

    def add(self, doc_terms: Iterable[str]) -> None:
        """Count one document's distinct terms."""
        self._docs += 1
        for term in doc_terms:
            self._df[term] = self._df.get(term, 0) + 1

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency; unseen terms get the highest weight."""
        return math.log((self._docs + self._prior + 1) / (self._df.get(term, 0) + 1)) + 1.0

    def count(self, term: str) -> int:
        """Documents seen with `term`."""
        return self._df.get(term, 0)
