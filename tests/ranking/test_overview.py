"""The overview's figures: which lists they come from, and what they say of them."""

from __future__ import annotations

import random
import statistics

from seealso.embeddings.document import DEFAULT_RECIPE
from seealso.embeddings.hashing import HashingEmbedder
from seealso.indexer.store import Store
from seealso.ranking import Ranker
from seealso.ranking.overview import SHORT, overview
from tests.ranking.test_cache import RULES, article, write


def ranker_of(store: Store, embedder: HashingEmbedder) -> Ranker:
    store.bind_model(embedder.name, embedder.dimension, DEFAULT_RECIPE.identity, embedder.languages)
    rng = random.Random(2)
    sized = {"mali": 30, "cocoa": 12, "space": 4}
    records = [
        {**article(rng, n, topic), "section": topic} for topic, count in sized.items() for n in range(count)
    ]
    records += [{**article(rng, 100 + n, "banks"), "section": ""} for n in range(5)]  # no section
    write(store, embedder, records)
    return Ranker(store, embedder, rules=RULES)


def test_a_small_site_is_looked_at_whole_and_per_section(store: Store, embedder: HashingEmbedder) -> None:
    ranker = ranker_of(store, embedder)
    found = overview(ranker, k=5)
    assert found.complete and found.k == 5
    assert (found.site.articles, found.site.sampled) == (51, 51)
    assert [(s.name, s.articles, s.sampled) for s in found.sections] == [
        ("mali", 30, 30),
        ("cocoa", 12, 12),
        ("space", 4, 4),
    ]
    # The figures are those of the lists readers get.
    lists = {e: ranker.related(e, 5).items for e in (f"mali-{n}" for n in range(30))}
    mali = found.sections[0]
    assert sorted(mali.lengths) == sorted(len(items) for items in lists.values())
    assert sorted(mali.scores) == sorted(i.score for items in lists.values() for i in items)
    assert mali.median_score == statistics.median(mali.scores)
    assert mali.short_share == sum(1 for items in lists.values() if len(items) < SHORT) / 30
    assert max(found.site.lengths) <= 5


def test_a_large_site_is_sampled_and_the_budget_is_kept(store: Store, embedder: HashingEmbedder) -> None:
    ranker = ranker_of(store, embedder)
    found = overview(ranker, k=5, site=10, section=15, sections=2)
    assert found.complete and found.site.sampled == 10
    assert [(s.name, s.sampled) for s in found.sections] == [("mali", 15), ("cocoa", 12)]
    again = overview(ranker, k=5, site=10, section=15, sections=2)
    assert again.site.lengths == found.site.lengths  # the same sample for the same seed
    cut = overview(ranker, k=5, budget_seconds=0.0)
    assert not cut.complete and cut.site.sampled == 0
