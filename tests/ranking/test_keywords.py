"""Keyword statistics: counts, names and centroids as a plain per-article loop gives them."""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from seealso.embeddings.base import normalize
from seealso.embeddings.hashing import HashingEmbedder
from seealso.indexer.store import Store
from seealso.indexer.vectors import VectorIndex
from seealso.ranking import Keywords, Ranker
from seealso.ranking.keywords import KeywordStats
from seealso.ranking.suggestions import KeywordSuggester
from tests.ranking.test_cache import TOPICS, article, corpus, write

__all__ = ["corpus"]  # a fixture


def test_statistics_equal_a_loop_over_the_articles(
    store: Store, embedder: HashingEmbedder, corpus: list[dict[str, object]], monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(5)
    # Articles with several keywords, one of them spelled two ways; some deleted (their rows gone).
    extra = [article(rng, 100 + n, topic, keywords=[topic, "Lake Chad" if n % 2 else "LAKE CHAD"])
             for n, topic in enumerate(TOPICS)]  # fmt: skip
    write(store, embedder, extra)
    store.catalog.write(deletes=["mali-3", "cocoa-101", "space-7"])
    store.save_snapshot()
    vids, vectors = store.all_vectors()
    chunks = VectorIndex.chunks
    # Many chunks, each with some of a keyword's articles.
    monkeypatch.setattr(VectorIndex, "chunks", lambda index, size=7: chunks(index, size))
    stats = KeywordStats.build(store)

    vector_of = dict(zip(vids.tolist(), vectors, strict=True))
    tagged: dict[str, list[int]] = {}
    spellings: dict[str, Counter[str]] = {}
    for key, name, vid in store.catalog.keyword_rows():
        if vid in vector_of:
            tagged.setdefault(key, []).append(vid)
            spellings.setdefault(key, Counter())[name] += 1
    assert sorted(stats.keys) == sorted(tagged) and "lake chad" in tagged
    for key, members in tagged.items():
        at = stats.position[key]
        assert stats.counts[at] == len(members), key
        assert stats.names[at] == spellings[key].most_common(1)[0][0]
        expected = normalize(np.sum([vector_of[v] for v in members], axis=0, keepdims=True))[0]
        np.testing.assert_allclose(stats.centroids[at], expected, atol=1e-5)
        assert sorted(stats.vids_of_key[at]) == sorted(members)
    assert stats.counts[stats.position["lake chad"]] == len(TOPICS) - 1  # cocoa-101 is gone


def test_threads_building_the_vocabulary_at_once_get_the_sequential_answers(
    store: Store, embedder: HashingEmbedder, corpus: list[dict[str, object]]
) -> None:
    ranker = Ranker(store, embedder)
    alone = Keywords(ranker)
    queries = ["mal", "coc", "foot", "clim", ""]
    expected = [alone.vocabulary().search(q, None, 5) for q in queries]
    suggested = [KeywordSuggester(ranker, alone).suggest(f"{topic}-3", 3) for topic in TOPICS]
    for threads in (2, 4):
        fresh = Keywords(ranker)  # nothing built yet: the threads race to build it
        with ThreadPoolExecutor(threads) as pool:
            found = list(pool.map(lambda q, kw=fresh: kw.vocabulary().search(q, None, 5), queries * 3))
            ideas = list(
                pool.map(
                    lambda t, kw=fresh: KeywordSuggester(ranker, kw).suggest(f"{t}-3", 3), list(TOPICS) * 2
                )
            )
        assert found == expected * 3
        assert ideas == suggested * 2
