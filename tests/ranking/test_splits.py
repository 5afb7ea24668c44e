"""Keywords that mix two subjects: split when they do, left whole when they do not."""

from __future__ import annotations

import random

import numpy as np
import pytest

from seealso.embeddings.document import DEFAULT_RECIPE
from seealso.embeddings.hashing import HashingEmbedder
from seealso.errors import KeywordNotFound
from seealso.indexer.store import Store
from seealso.ranking import Keywords, Ranker
from seealso.ranking.splits import STRONG, prediction_strength, split, suggest_splits, without_languages
from tests.ranking.test_cache import RULES, article, write


@pytest.fixture
def keywords(store: Store, embedder: HashingEmbedder) -> Keywords:
    store.bind_model(embedder.name, embedder.dimension, DEFAULT_RECIPE.identity, embedder.languages)
    rng = random.Random(4)
    records = []
    for n in range(24):
        # "mixed" names two subjects; "mali" and "space" one each; "few" too few articles to split.
        records.append(
            {**article(rng, n, "mali"), "keywords": ["mali", "mixed", *(["few"] if n < 5 else [])]}
        )
        records.append({**article(rng, n, "space"), "keywords": ["space", "mixed"]})
    write(store, embedder, records)
    return Keywords(Ranker(store, embedder, rules=RULES), refresh_seconds=0)


def test_a_keyword_of_two_subjects_is_split_into_them(keywords: Keywords) -> None:
    found = split(keywords, "Mixed")
    assert found is not None and found.suggested and found.strength >= STRONG
    assert (found.keyword, found.articles) == ("mixed", 48)
    sides = [{i.split("-")[0] for i, _ in g.examples} for g in found.groups]
    assert sorted(map(sorted, sides)) == [["mali"], ["space"]]
    assert sorted(g.size for g in found.groups) == [24, 24]
    assert sorted(g.keywords[0] for g in found.groups) == ["mali", "space"]  # what tells them apart
    assert split(keywords, "mixed") is found  # kept until the statistics change
    assert [s.keyword for s in suggest_splits(keywords)] == ["mixed"]


def test_one_subject_stays_whole_and_small_or_unknown_keywords(keywords: Keywords) -> None:
    for name in ("mali", "space"):
        whole = split(keywords, name)
        assert whole is not None and not whole.suggested, (name, whole.strength)
    assert split(keywords, "few") is None
    with pytest.raises(KeywordNotFound):
        split(keywords, "nothing")


def test_the_languages_offset_makes_no_group() -> None:
    rng = np.random.default_rng(0)
    subject = rng.normal(size=(40, 16)) * 0.3 + rng.normal(size=16)
    offset = np.zeros(16)
    offset[0] = 6.0  # the editions in French sit apart from the English ones
    languages = ["en"] * 20 + ["fr"] * 20
    shifted = subject + np.where(np.asarray(languages)[:, None] == "fr", offset, 0)
    unit = shifted / np.linalg.norm(shifted, axis=1, keepdims=True)
    assert prediction_strength(unit) >= STRONG  # two "subjects": the two languages
    assert prediction_strength(without_languages(shifted, languages)) < STRONG
    same = without_languages(shifted, ["en"] * 40)
    assert np.allclose(same, unit)  # one language: only normalized


def test_threads_racing_for_splits_get_what_a_sequential_run_gets(keywords: Keywords) -> None:
    from concurrent.futures import ThreadPoolExecutor

    names = ["mixed", "mali", "space", "few"] * 4
    fresh = Keywords(keywords.ranker, refresh_seconds=0)  # its own cache, empty
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda n: split(fresh, n), names))
    alone = [split(keywords, n) for n in names]
    assert [s and (s.strength, s.groups) for s in together] == [s and (s.strength, s.groups) for s in alone]
