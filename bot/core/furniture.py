"""Furniture lines: the pleas, subscribe lines, captions and credits outlets wrap around news."""

from __future__ import annotations

import re

import ahocorasick

# Lines an outlet wraps around every article. Each pattern names a kind of furniture, not a
# particular site, so the filter carries over to outlets we have never seen.
_BOILERPLATE = re.compile(
    r"|".join(
        (
            r"^dear readers?\b",
            r"recurring (?:monthly )?(?:financial )?contributions?",
            r"\b(?:make|making|consider) a (?:donation|contribution)\b",
            r"^(?:please )?(?:subscribe|sign up|register)\b",
            r"\bsubscribe (?:to|for|now|today)\b",
            r"^follow us\b",
            r"\bfollow (?:us|our)\b.*\b(?:twitter|facebook|news|pages?|instagram|youtube)\b",
            r"^accessibility links$",
            r"^(?:breaking news|advertisement|skip to (?:main )?content|share this)\W*$",
            r"\b\d{1,2}x\d{1,2} image\b",
            r"\bnewsletters?\b",
            r"\b(?:app ?store|google ?play|download (?:our|the) app)\b",
            r"\byou may also like\b",
            r"\b(?:read|see) (?:the full story|more)\b",
            r"^(?:related|more|also read|read also)\s*:",
            r"^(?:with )?(?:additional )?(?:reporting|editing|writing) by\b",
            r"\ball rights reserved\b|©|\bcopyright\b",
            r"\bclick here\b",
            r"\bindependent journalism\b|\bpaid wall\b|\bpaywall\b|\bfree press\b",
        )
    ),
    re.IGNORECASE,
)
# First-person plural outside quotes next to media words is an outlet describing itself.
_SELF = re.compile(r"\b(?:we|our|us)\b", re.IGNORECASE)
_MEDIA = re.compile(
    r"\b(?:journalis\w*|readers?|content|site|page|website|support|news|coverage|stories)\b",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"[\"“][^\"”]*[\"”]")
# Every furniture pattern above needs one of these clues (casefolded), and a self-description
# one of the media words: lines with neither (nearly all) skip the regexes, which try every
# alternative at every position. One automaton finds any clue in one pass over the line.
_CLUES = (
    "dear reader", "recurring", "a donation", "a contribution", "subscribe", "sign up",
    "register", "follow us", "follow our", "accessibility links", "breaking news",
    "advertisement", "skip to", "share this", " image", "newsletter", "app store", "appstore",
    "google play", "googleplay", "download our app", "download the app", "you may also like",
    "the full story", "read more", "see more", "reporting by", "editing by", "writing by",
    "all rights reserved", "©", "copyright", "click here", "independent journalism",
    "paid wall", "paywall", "free press",
)  # fmt: skip
_LEADS = ("related", "more", "also read", "read also")  # ^(…)\s*:  only at the start
_MEDIA_CLUES = ("journalis", "reader", "content", "site", "page", "support", "news", "coverage",
                "stories")  # fmt: skip


def _clue_automaton() -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for clue in _CLUES:
        automaton.add_word(clue, True)
    for word in _MEDIA_CLUES:
        automaton.add_word(word, False)
    automaton.make_automaton()
    return automaton


_CLUE_FINDER = _clue_automaton()


def _clues(line: str) -> tuple[bool, bool]:
    """(a furniture clue, a media word) in `line`, case aside as the regexes put it aside
    (they also take dotless and dotted Turkish i for i)."""
    folded = line.casefold().replace("ı", "i").replace("i\u0307", "i")
    furniture = media = False
    for _, is_furniture in _CLUE_FINDER.iter(folded):
        furniture, media = furniture or is_furniture, media or not is_furniture
        if furniture and media:
            break
    return furniture or folded.startswith(_LEADS), media


def is_boilerplate(line: str) -> bool:
    """True for outlet furniture: pleas, follow/subscribe lines, captions, credits, self-promo."""
    text = line.strip()
    if not text:
        return False
    furniture, media = _clues(text)
    if furniture and _BOILERPLATE.search(text):
        return True
    unquoted = _QUOTED.sub("", text)
    if unquoted != text:  # a quotation left out may join two pieces into a word
        media = _clues(unquoted)[1]
    if not media:
        return False
    return bool(_SELF.search(unquoted) and _MEDIA.search(unquoted))
