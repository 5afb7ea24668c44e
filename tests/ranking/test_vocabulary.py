"""Finding a keyword by what an editor types: exact names, then prefixes, then words, then close
spellings; case, accents and apostrophes folded; more articles first among equals."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from seealso.indexer.article import keyword_key
from seealso.ranking.vocabulary import Vocabulary, fold

NAMES = {
    "Mali": {"en": 31, "fr": 9},
    "Malaria": {"en": 4},
    "Bamako": {"en": 16, "fr": 7},
    "ECOWAS": {"en": 27},
    "CEDEAO": {"fr": 11},
    "Côte d\u2019Ivoire": {"en": 9, "fr": 6},
    "Jeux olympiques": {"fr": 3},
    "Somalia": {"en": 2},
}


def vocabulary() -> Vocabulary:
    names = list(NAMES)
    return Vocabulary([keyword_key(n) for n in names], names, [Counter(NAMES[n]) for n in names])


def found(query: str, **options: object) -> list[tuple[str, str]]:
    return [(m.keyword, m.match) for m in vocabulary().search(query, **options)]  # type: ignore[arg-type]


def test_exact_then_prefix_then_word_then_close_spellings() -> None:
    assert found("mali") == [("Mali", "exact"), ("Somalia", "fuzzy")]
    assert found("MAL", k=2) == [("Mali", "prefix"), ("Malaria", "prefix")]  # more articles first
    assert found("MAL")[2] == ("Somalia", "fuzzy")
    assert found("olymp") == [("Jeux olympiques", "word")]
    assert found("bamkao") == [("Bamako", "fuzzy")]
    assert found("ecowsa") == [("ECOWAS", "fuzzy")]
    assert found("zz") == [] and found("ba") == [("Bamako", "prefix")]  # no fuzzy under 3 characters


def test_accents_case_and_apostrophes_are_folded() -> None:
    assert found("cote d'ivoire") == [("Côte d\u2019Ivoire", "exact")]
    assert found("IVOIRE") == [("Côte d\u2019Ivoire", "word")]
    assert fold("  Côte   d\u2019IVOIRE ") == "cote d'ivoire"


def test_a_language_keeps_its_keywords_and_counts_in_it() -> None:
    matches = vocabulary().search("", language="fr", k=3)
    assert [(m.keyword, m.articles) for m in matches] == [("CEDEAO", 11), ("Mali", 9), ("Bamako", 7)]
    assert matches[1].languages == {"en": 31, "fr": 9} and matches[1].match == "all"
    assert found("ecowas", language="fr") == []


def test_an_empty_query_lists_every_keyword_most_used_first() -> None:
    assert [m.keyword for m in vocabulary().search("", k=3)] == ["Mali", "ECOWAS", "Bamako"]
    assert len(vocabulary().search("", k=100)) == len(NAMES)


@given(st.text(max_size=30), st.sampled_from([None, "en", "fr", "de"]), st.integers(1, 20))
def test_any_query_answers_at_most_k_distinct_keywords_with_articles(
    query: str, language: str | None, k: int
) -> None:
    matches = vocabulary().search(query, language, k)
    assert len(matches) <= k and len({m.key for m in matches}) == len(matches)
    assert all(m.articles > 0 for m in matches)
    ranks = [("exact", "prefix", "word", "fuzzy", "all").index(m.match) for m in matches]
    assert ranks == sorted(ranks)
