"""Cached related lists are never stale, and a write drops only the lists it can change."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest

from seealso.embeddings.document import DEFAULT_RECIPE
from seealso.embeddings.hashing import HashingEmbedder
from seealso.indexer.article import parse_article
from seealso.indexer.overrides import Override
from seealso.indexer.runner import upsert_articles
from seealso.indexer.store import Store
from seealso.indexer.vectors import SCORE_ERROR
from seealso.ranking import Filters, Keywords, Ranker
from seealso.ranking.related import reached, search_phrases, search_tokens, telling_words
from seealso.ranking.shaping import ListRules

TOPICS = {
    "mali": "mali bamako junta coup soldiers sahel transition ecowas sanctions president",
    "cocoa": "cocoa chocolate farmers harvest prices abidjan exports beans growers market",
    "football": "football final stadium fans goal striker league coach match trophy",
    "climate": "climate emissions carbon warming summit glaciers drought floods targets treaty",
    "banks": "banks interest rates inflation lending central deposits bonds mortgage crisis",
    "space": "rocket launch orbit satellite astronauts moon mission capsule station probe",
}
NOW = datetime(2026, 11, 28, tzinfo=UTC)
RULES = ListRules(min_score=0.0, half_life_days=365.0, diversity=0.1)


def article(rng: random.Random, number: int, topic: str, **fields: object) -> dict[str, object]:
    words = TOPICS[topic].split()
    body = " ".join(rng.choice(words) for _ in range(12)) + f" report{number} note{rng.randrange(50)}"
    return {
        "id": f"{topic}-{number}",
        "title": f"{topic} story {number}",
        "body": body,
        "keywords": [topic, rng.choice(words)],
        "language": "fr" if number % 3 == 0 else "en",
        "section": rng.choice(["africa", "economy", "world"]),
        "published_at": f"20{10 + number % 16}-0{1 + number % 9}-1{number % 10}",
        **fields,
    }


def write(store: Store, embedder: HashingEmbedder, records: list[dict[str, object]]) -> None:
    upsert_articles(store, embedder, [parse_article(r) for r in records])


@pytest.fixture
def corpus(store: Store, embedder: HashingEmbedder) -> list[dict[str, object]]:
    store.bind_model(embedder.name, embedder.dimension, DEFAULT_RECIPE.identity, embedder.languages)
    rng = random.Random(1)
    records = [article(rng, n, topic) for topic in TOPICS for n in range(40)]
    write(store, embedder, records)
    return records


def test_cached_lists_equal_fresh_ones_through_random_writes(
    store: Store, embedder: HashingEmbedder, corpus: list[dict[str, object]]
) -> None:
    cached = Ranker(store, embedder, rules=RULES, cache_size=1000)
    fresh = Ranker(store, embedder, rules=RULES)
    rng = random.Random(7)
    sources = [str(r["id"]) for r in rng.sample(corpus, 12)]
    requests = [(5, Filters()), (10, Filters.parse(language="fr")), (5, Filters.parse(section="africa"))]
    live = {str(r["id"]): r for r in corpus}
    kept_by_cache = 0
    for step in range(60):
        for source in sources:
            if source not in live:
                continue
            for k, filters in requests:
                first = cached.related_page(source, k, filters, now=NOW)
                again = cached.related_page(source, k, filters, now=NOW)
                kept_by_cache += first is again
                assert again.json == fresh.related(source, k, filters, now=NOW).json, (step, source)
        kind = rng.choice(["add", "text", "metadata", "delete"])
        if kind == "add":
            record = article(rng, 1000 + step, rng.choice(list(TOPICS)))
        elif kind == "delete":
            victim = rng.choice([i for i in live if i not in sources[:6]])
            store.catalog.write(deletes=[victim])
            del live[victim]
            continue
        else:
            old = live[rng.choice(list(live))]
            number = int(str(old["id"]).rsplit("-", 1)[1])
            topic = rng.choice(list(TOPICS)) if kind == "text" else str(old["id"]).rsplit("-", 1)[0]
            new = article(rng, number, topic, id=old["id"])
            record = new if kind == "text" else {**old, "section": new["section"], "title": "Renamed"}
        write(store, embedder, [record])
        live[str(record["id"])] = record
    assert kept_by_cache > 0  # the cache did serve lists between writes


def test_a_write_drops_only_the_lists_it_can_change(
    store: Store, embedder: HashingEmbedder, corpus: list[dict[str, object]]
) -> None:
    ranker = Ranker(store, embedder, rules=RULES, cache_size=1000)
    sources = [f"{topic}-{n}" for topic in TOPICS for n in (1, 2)]
    lists = {s: ranker.related_page(s, 5, now=NOW) for s in sources}

    def kept() -> set[str]:
        return {s for s in sources if ranker.related_page(s, 5, now=NOW) is lists[s]}

    def vid(article_id: str) -> int:
        entry = store.catalog.get(article_id)
        assert entry is not None
        return entry.vid

    def telling(article_id: str) -> frozenset[tuple[str, ...]]:
        profile = ranker.scorer.profiles([vid(article_id)])[vid(article_id)]
        terms, names = telling_words(profile, ranker.scorer.document_frequencies)
        return search_phrases(store.catalog.words([*terms, *names]).values())

    def words_of(article_id: str) -> frozenset[str]:
        row = store.catalog.lexical([vid(article_id)])[vid(article_id)]
        ids = [int(i) for i in (*row.term_ids, *row.name_ids)]
        return search_tokens(store.catalog.words(ids).values())

    # A story on a subject no list is about enters no pool; it drops only the lists whose deepest
    # dense read (the search for their items' translations, 60 deep: wider than a subject here)
    # it reaches.
    entries = {key[0]: entry for key, entry in ranker._lists._lists.items()}  # type: ignore[union-attr]
    write(store, embedder, [{"id": "new-1", "title": "Opera", "body": "opera tenor soprano aria libretto"}])
    opera = store.vector(vid("new-1"))
    assert opera is not None
    margin = SCORE_ERROR[store.index().kind]
    below = {s for s in sources if float(entries[s].vector @ opera) < entries[s].floor - margin}
    assert kept() == below and len(below) >= len(sources) - 3
    # A new Mali story (a copy of mali-1's text) enters mali-1's pool, and no list on another subject.
    copy = next(r for r in corpus if r["id"] == "mali-1")
    write(store, embedder, [{**copy, "id": "mali-copy"}])
    # (nor one that searched its lexical candidates with a word of it: every "-1" article has "report1")
    untouched = {
        s for s in sources if not s.startswith("mali") and not reached(telling(s), words_of("mali-copy"))
    }
    assert "mali-1" not in kept() and kept() >= untouched and len(untouched) >= 3
    lists = {s: ranker.related_page(s, 5, now=NOW) for s in sources}
    # A new section for the article first in cocoa-1's list: the lists that hold it in their pool
    # (cocoa-1's, and any other whose candidates it was among) and the lists that searched their
    # lexical candidates with one of its words.
    member = ranker.related("cocoa-1", 5, now=NOW).items[0].article.id
    record = next(r for r in corpus if r["id"] == member)
    holding = {key[0] for key, entry in ranker._lists._lists.items() if vid(member) in entry.depends}  # type: ignore[union-attr]
    assert "cocoa-1" in holding
    write(store, embedder, [{**record, "section": "sport"}])
    untouched = {s for s in sources if s not in holding and not reached(telling(s), words_of(member))}
    assert "cocoa-1" not in kept() and kept() >= untouched and len(untouched) >= 3
    first = ranker.related("cocoa-1", 5, now=NOW).items[0].article
    assert (first.id, first.section) == (member, "sport")
    lists = {s: ranker.related_page(s, 5, now=NOW) for s in sources}
    # An editor's pin changes that article's lists only.
    store.catalog.set_override(Override("article", "space-1", "mali-7", "pin", position=1), "alice")
    assert kept() == set(sources) - {"space-1"}
    assert ranker.related("space-1", 5, now=NOW).items[0].article.id == "mali-7"


def test_keyword_pages_are_kept_until_any_write(
    store: Store, embedder: HashingEmbedder, corpus: list[dict[str, object]]
) -> None:
    keywords = Keywords(Ranker(store, embedder, rules=RULES), cache_size=100)
    fresh = Keywords(Ranker(store, embedder, rules=RULES))
    assert keywords.cached_articles_page("cocoa", 5) is None  # no statistics, no page yet
    page = keywords.articles_page("cocoa", 5)
    assert keywords.articles_page("cocoa", 5) is page
    assert keywords.cached_articles_page("cocoa", 5) is page
    assert keywords.cached_articles_page("cocoa", 4) is None
    assert page.json == fresh.articles("cocoa", 5).json
    assert page.tags.split()[:2] == ["keyword/cocoa", "article/" + json.loads(page.json)["items"][0]["id"]]
    store.catalog.write(deletes=[json.loads(page.json)["items"][0]["id"]])
    assert keywords.cached_articles_page("cocoa", 5) is None
    changed = keywords.articles_page("cocoa", 5)
    assert changed.json != page.json and changed.json == fresh.articles("cocoa", 5).json
    store.catalog.set_override(Override("keyword", "cocoa", "space-3", "pin", position=1), "alice")
    pinned = json.loads(keywords.articles_page("cocoa", 5).json)
    assert pinned["items"][0]["id"] == "space-3"
