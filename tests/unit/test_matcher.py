"""The rule index: which rules match an article, where, and the alert snippet around it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.matcher import RuleHit, RuleIndex, highlight, validate_query
from bot.core.query import QueryError

SEEDS = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds"


def matches(query: str, text: str, title: str = "") -> bool:
    return bool(RuleIndex.build([(1, query)]).match(title, text))


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("S-400", "bought the S-400", True),
        ("S-400", "bought the S400", True),
        ("S-400", "bought the S 400", True),
        ("S-400", "several s-400s", True),
        ("S-400", "the S-400's radar", True),
        ("S-400", "the S-4000 system", False),
        ("S-400", "the S-300 and 400 troops", False),
        ("Cavusoglu", "Mevlüt Çavuşoğlu said", True),
        ("Cavusoglu", "CAVUSOGLU SAID", True),
        ("Cavusoglu", "Cavusoglu's remarks", True),
        ("Cavusoglu", "Cavusoglus", True),  # plural ending on the last token
        ("Cavusoglu", "Cavusogluesque", False),
        ("Çavuşoğlu", "met Cavusoglu", True),
        ("F-35", "the F-35 jet", True),
        ("F-35", "the F-35A jet", True),
        ("F-35", "the F35 jet", True),
        ("F-35", "a Ford F-350 truck", False),
        ("F-35", "an F-3500", False),
        ("missile", "two missiles", True),
        ("ally", "its allies", True),
        ("Turkey", "Turkish", False),  # whole tokens only
        ('"air defense system"', "an air-defense system", True),
        ('"air defense system"', "air defense systems", True),  # plurals, word by word
        ('"air defense"', "air defenses were bolstered", True),
        ('"air defense"', "the air defense's radar", True),
        ('"air defense"', "air defenseless", False),  # a longer word is another word
        ('"air defense"', "air defensive lines", False),
        ('"air defense"', "airs defenses", True),
        ('"air defense"', "air and defense", False),  # a phrase keeps its words together
        ('"air defense system"', "defense system of the air", False),
        ("Blinken Turkey", "Turkey met Blinken", True),
        ("Blinken AND Turkey", "Blinken alone", False),
        ("Blinken OR Cavusoglu", "Cavusoglu alone", True),
        ("Blinken | Cavusoglu", "nobody", False),
        ("S-400 -India", "S-400 for Turkey", True),
        ("S-400 -India", "S-400 for India", False),
        ("S-400 NOT India", "S-400 for India", False),
        ("(Blinken OR Antony) NATO", "Antony at NATO", True),
        ("(Blinken OR Antony) NATO", "Antony at home", False),
        ("~Anthony", "Antony Blinken", True),
        ("~Antony", "Anthony Blinken", True),
        ("~Blinken", "Blinkin said", True),
        ("~Blinken", "Blinkenn said", True),
        ("~Blinken", "Blink said", False),  # two edits away
        ("~Anthony", "Antonia", False),
        ("~NATO", "NATOS", True),  # 4 letters: no edit allowed, but plurals still count
        ("~NATO", "NAT", False),
        ('~"Mevlut Cavusolu"', "Mevlut Cavusoglu spoke", True),
        ("İstanbul", "ISTANBUL", True),
        ("istanbul", "İstanbul", True),
        ("ılık", "ILIK", True),
    ],
)
def test_examples(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected


def test_title_field_limits_a_term_to_the_headline() -> None:
    assert matches("title:Blinken", "nothing here", title="Blinken in Brussels")
    assert not matches("title:Blinken", "Blinken in Brussels", title="NATO meets")
    assert matches("text:Blinken", "Blinken in Brussels", title="NATO meets")
    assert matches("title:NATO Blinken", "Blinken in Brussels", title="NATO meets")


def test_hit_records_spans_and_words_in_the_original_strings() -> None:
    title, text = "Çavuşoğlu meets Blinken", "Talks on the S400s and the S-400 deal."
    index = RuleIndex.build([(7, "Cavusoglu OR S-400")])
    [hit] = index.match(title, text)
    assert hit.rule_id == 7
    assert hit.spans == (("title", 0, 9), ("text", 13, 17), ("text", 27, 32))
    assert hit.terms == ("Çavuşoğlu", "S400", "S-400")


def test_hits_compare_by_value_whether_located_lazily_or_given() -> None:
    [hit] = RuleIndex.build([(7, "title:Blinken OR S-400")]).match("Blinken", "S-400 Blinken")
    given_hit = RuleHit(7, (("title", 0, 7), ("text", 0, 5)), ("Blinken", "S-400"))
    assert hit == given_hit and hash(hit) == hash(given_hit)
    assert repr(hit) == repr(given_hit)
    assert hit != RuleHit(7, (), ())


def test_hits_of_one_article_each_show_only_their_own_words() -> None:
    index = RuleIndex.build([(1, "Blinken"), (2, "S-400 -India"), (3, "text:NATO OR Blinken")])
    hits = index.match("NATO and Blinken", "Blinken on the S-400 at NATO")
    assert [h.rule_id for h in hits] == [1, 2, 3]
    last, middle, first = hits[2], hits[1], hits[0]  # read out of order: they share one view
    assert last.terms == ("Blinken", "NATO")
    assert last.spans == (("title", 9, 16), ("text", 0, 7), ("text", 24, 28))
    assert middle.terms == ("S-400",)
    assert first.spans == (("title", 9, 16), ("text", 0, 7))


def test_no_term_runs_from_the_title_into_the_text() -> None:
    rules = [(1, '"Brussels talks"'), (2, '~"Brussels talks"'), (3, "S-400"), (4, "Brussels")]
    index = RuleIndex.build(rules)
    assert [h.rule_id for h in index.match("Blinken in Brussels", "Talks went on")] == [4]
    assert index.match("Deal for the S", "400 troops") == []
    assert [h.rule_id for h in index.match("", "Brussels talks")] == [1, 2, 4]


def test_terms_sharing_an_index_word_each_find_it() -> None:
    # "Blinkin" is both a rule's own word and one of ~Blinken's one-typo forms.
    rules = [(1, "~Blinken"), (2, "Blinkin"), (3, '~"Blinken Turkey"'), (4, "title:Blinkin")]
    index = RuleIndex.build(rules)
    assert [h.rule_id for h in index.match("", "Blinkin said")] == [1, 2]
    assert [h.rule_id for h in index.match("Blinkin", "")] == [1, 2, 4]
    [fuzzy, phrase] = index.match("", "Blinken Turkei talks")
    assert (fuzzy.terms, phrase.terms) == (("Blinken",), ("Blinken Turkei",))
    assert phrase.spans == (("text", 0, 14),)


@pytest.mark.parametrize("char", ["ß", "\ufdfa"])  # folds to 2 and to 18 characters
def test_longest_queries_fold_to_long_patterns_and_still_match(char: str) -> None:
    word = char * 512
    index = RuleIndex.build([(1, word), (2, f"{char * 255} {char * 255}")])
    [hit] = index.match("", f"see {word}.")
    assert hit.rule_id == 1 and hit.spans == (("text", 4, 516),)
    assert [h.rule_id for h in index.match("", f"{char * 255}-{char * 255}")] == [2]


def test_rules_come_back_in_build_order_when_queries_repeat() -> None:
    index = RuleIndex.build([(5, "NATO"), (3, "Blinken"), (9, "NATO"), (1, "title:Blinken")])
    assert [h.rule_id for h in index.match("Blinken", "NATO")] == [5, 3, 9, 1]
    assert [h.rule_id for h in index.match("", "Blinken NATO")] == [5, 3, 9]


def test_excluded_words_are_not_shown() -> None:
    [hit] = RuleIndex.build([(1, "Blinken -(India OR Pakistan)")]).match("", "Blinken and Turkey")
    assert hit.terms == ("Blinken",)


def test_each_rule_gets_only_its_own_hits() -> None:
    rules = [(10, "S-400"), (20, "F-35 -Turkey"), (30, "Blinken"), (40, "title:Blinken")]
    rules += [(1000 + i, f"unrelated{i} topic") for i in range(500)]
    many = RuleIndex.build(rules)
    text = "Blinken urged Turkey to drop the S-400; the F-35 programme stays closed."
    assert [h.rule_id for h in many.match("NATO talks", text)] == [10, 30]
    assert [h.rule_id for h in many.match("Blinken in Brussels", "F-35 news")] == [20, 30, 40]
    alone = RuleIndex.build([(20, "F-35 -Turkey")])
    assert [h.rule_id for h in alone.match("Blinken in Brussels", "F-35 news")] == [20]
    assert len(many) == 504


def test_rules_sharing_a_query_all_match() -> None:
    index = RuleIndex.build([(1, "S-400"), (2, "S-400"), (3, "s400")])
    assert [h.rule_id for h in index.match("", "the S-400")] == [1, 2, 3]


def test_invalid_stored_rules_are_skipped_and_reported() -> None:
    index = RuleIndex.build([(1, "S-400"), (2, "(broken"), (3, "-India")])
    assert len(index) == 1
    assert [rule_id for rule_id, _ in index.build_errors] == [2, 3]
    assert [h.rule_id for h in index.match("", "S-400")] == [1]


def test_empty_index_matches_nothing() -> None:
    assert RuleIndex.build([]).match("S-400", "S-400") == []


def test_validate_query_normalises_or_explains() -> None:
    assert validate_query("S-400  NOT  India") == "S-400 -India"
    with pytest.raises(QueryError, match="Unclosed quote"):
        validate_query('"S-400')


def test_highlight_centres_on_the_first_hit_in_the_text() -> None:
    text = ("Filler words go here. " * 30) + "Then the S-400 deal was signed. " + "More. " * 60
    [hit] = RuleIndex.build([(1, "S-400")]).match("S-400 news", text)
    snippet = highlight("S-400 news", text, hit, width=80)
    assert snippet.text.startswith("…") and snippet.text.endswith("…")
    assert len(snippet.text) <= 82
    assert [snippet.text[s:e] for s, e in snippet.spans] == ["S-400"]


def test_highlight_uses_the_title_when_only_it_matched() -> None:
    [hit] = RuleIndex.build([(1, "Blinken")]).match("Blinken in Brussels", "no mention")
    snippet = highlight("Blinken in Brussels", "no mention", hit)
    assert snippet.text == "Blinken in Brussels"
    assert snippet.spans == ((0, 7),)


def test_highlight_collapses_whitespace_and_keeps_spans_on_words() -> None:
    text = "\n\nBreaking\n\n  Blinken   and   Çavuşoğlu  met\n"
    [hit] = RuleIndex.build([(1, "Blinken OR Cavusoglu")]).match("", text)
    snippet = highlight("", text, hit)
    assert snippet.text == "Breaking Blinken and Çavuşoğlu met"
    assert [snippet.text[s:e] for s, e in snippet.spans] == ["Blinken", "Çavuşoğlu"]


def test_highlight_without_spans_in_the_window() -> None:
    hit = RuleHit(1, (), ())
    assert highlight("Title", "Text", hit).text == "Title"


# Property: matching ignores case, diacritics and hyphen/space/nothing between letters and digits.
RULES = [
    (1, "S-400"),
    (2, "F-35 -India"),
    (3, "Cavusoglu"),
    (4, '"air defense system"'),
    (5, "Blinken OR Antony"),
    (6, "~Anthony"),
]
WORDS = ["S-400", "F-35", "F-350", "Cavusoglu", "air", "defense", "system", "Blinken", "India"]
WORDS += ["Antony", "the", "Turkey", "said", "missiles", "S-300"]
ACCENTED = {"c": "ç", "s": "ş", "g": "ğ", "o": "ö", "u": "ü", "a": "á", "e": "é", "n": "ñ"}


def _variant(data: st.DataObject, text: str) -> str:
    out = []
    for i, char in enumerate(text):
        before, after = text[i - 1 : i], text[i + 1 : i + 2]
        if char == "-" and before.isalpha() and after.isdigit():
            out.append(data.draw(st.sampled_from(["-", " ", "", "‐"])))
            continue
        lower = char.lower()
        choices = [char, char.upper(), lower]
        if lower in ACCENTED:
            choices += [ACCENTED[lower], ACCENTED[lower].upper(), char + "\u0301"]
        if lower == "i":
            choices += ["İ", "ı"]
        out.append(data.draw(st.sampled_from(choices)))
    return "".join(out)


@settings(max_examples=150, deadline=None)
@given(
    words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=12),
    separators=st.lists(st.sampled_from([" ", ", ", " - ", "\n", "“", "”. "]), min_size=12),
    data=st.data(),
)
def test_match_is_invariant_under_case_diacritics_and_hyphens(
    words: list[str], separators: list[str], data: st.DataObject
) -> None:
    index = RuleIndex.build(RULES)
    text = "".join(w + s for w, s in zip(words, separators, strict=False))
    original = [h.rule_id for h in index.match("", text)]
    assert [h.rule_id for h in index.match("", _variant(data, text))] == original


def _seed_articles() -> list[tuple[str, str]]:
    if not SEEDS.is_dir():
        pytest.skip("shared seeds are not available")
    articles = []
    for path in sorted(SEEDS.glob("*.txt")):
        raw = path.read_text(encoding="utf-8").lstrip()
        title, _, text = raw.partition("\n")
        articles.append((title.strip(), text))
    if len(articles) < 2:
        pytest.skip("shared seeds are incomplete")
    return articles


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("S-400", True),
        ("F-35", True),
        ("Cavusoglu", True),
        ("S-400 -India", True),
        ("F-35 -Turkey", False),
        ("~Anthony", True),
    ],
)
def test_seed_articles(query: str, expected: bool) -> None:
    index = RuleIndex.build([(1, query)])
    assert [bool(index.match(t, x)) for t, x in _seed_articles()] == [expected, expected]


INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e"]


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_invisible_characters_neither_split_nor_hide_a_watched_word(char: str) -> None:
    index = RuleIndex.build([(1, "Zorblax"), (2, f"Zor{char}blax"), (3, f'"Zor{char}blax talks"')])
    title, text = "Summit", f"New Zor{char}blax talks."
    assert [h.rule_id for h in index.match(title, text)] == [1, 2, 3]
    [hit, *_] = index.match(title, text)
    assert hit.spans == (("text", 4, 12),) and hit.terms == (f"Zor{char}blax",)
    assert [h.rule_id for h in index.match("", "New Zorblax talks")] == [1, 2, 3]


def test_a_plural_phrase_is_highlighted_as_written() -> None:
    [hit] = RuleIndex.build([(1, '"air defense"')]).match("", "New air defenses were bolstered.")
    assert hit.spans == (("text", 4, 16),) and hit.terms == ("air defenses",)


def test_a_long_phrase_takes_plurals_on_every_word_past_the_indexed_ones() -> None:
    words = "red blue green white black brown pink"  # 2**7 combinations: past the cap
    index = RuleIndex.build([(1, f'"{words}"'), (2, f'~"{words}"')])
    plural = "reds blue greens white blacks brown pinks"
    assert [h.rule_id for h in index.match("", f"the {plural} flags")] == [1, 2]
    assert [h.rule_id for h in index.match("", f"the {words} flags")] == [1, 2]
    assert index.match("", "the reds blue greens white blacks brown pinkish flags") == []
    [hit, _] = index.match("", f"the {plural} flags")
    assert hit.spans == (("text", 4, 4 + len(plural)),)
