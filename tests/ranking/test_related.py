"""Related lists, search and link checks over a small corpus with the deterministic embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from seealso.embeddings.hashing import HashingEmbedder
from seealso.errors import ArticleNotFound
from seealso.indexer.article import parse_article
from seealso.indexer.overrides import Override
from seealso.indexer.reader import read_articles
from seealso.indexer.runner import index_articles, upsert_articles
from seealso.indexer.store import Store
from seealso.ranking import Filters, Ranker
from seealso.ranking.related import NO_FILTERS
from seealso.ranking.shaping import ListRules

# Plain ranking by relevance: these tests check the plumbing; the list rules have their own tests.
NEUTRAL = ListRules(min_score=0.0, duplicate_similarity=2.0, half_life_days=0.0, diversity=0.0)

CORPUS = [
    {"id": "mali-1", "title": "Soldiers seize power in Bamako", "body": "Mali junta coup soldiers Bamako president", "keywords": ["Mali", "Bamako", "coup"]},
    {"id": "mali-2", "title": "Mali junta promises elections", "body": "Mali junta coup transition Bamako elections", "keywords": ["Mali", "junta"]},
    {"id": "mali-3", "title": "Sanctions against Mali junta", "body": "ECOWAS sanctions Mali junta Bamako coup", "keywords": ["Mali", "ECOWAS"]},
    {"id": "cocoa-1", "title": "Cocoa prices soar", "body": "cocoa prices farmers Abidjan harvest chocolate", "keywords": ["cocoa"]},
    {"id": "cocoa-2", "title": "Chocolate makers pay more for cocoa", "body": "cocoa chocolate makers prices harvest", "keywords": ["cocoa", "economy"]},
    {"id": "sport/1 final?", "title": "Cup final in Abidjan", "body": "football final stadium fans goal", "keywords": ["football"]},
]  # fmt: skip


def write_one(store: Store, embedder: HashingEmbedder, record: dict[str, object]) -> None:
    upsert_articles(store, embedder, [parse_article(record)])


@pytest.fixture
def ranker(store: Store, embedder: HashingEmbedder, tmp_path: Path) -> Ranker:
    import json

    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in CORPUS))
    index_articles(store, embedder, read_articles(str(path)))
    return Ranker(store, embedder, rules=NEUTRAL)


def test_related_leaves_the_article_out_and_ranks_its_story_first(ranker: Ranker) -> None:
    result = ranker.related("mali-1", k=2)
    assert result.article is not None and result.article.id == "mali-1"
    assert [i.article.id for i in result.items] == ["mali-3", "mali-2"]
    scores = [i.score for i in result.items]
    assert scores == sorted(scores, reverse=True)
    assert result.items[0].reasons["shared_keywords"] == ["Mali"]


def test_k_bounds_the_list(ranker: Ranker) -> None:
    assert len(ranker.related("cocoa-1", k=10).items) == 5
    assert [i.article.id for i in ranker.related("cocoa-1", k=1).items] == ["cocoa-2"]


def test_search_by_text(ranker: Ranker) -> None:
    assert [i.article.id for i in ranker.search("cocoa harvest prices", k=2).items] == ["cocoa-1", "cocoa-2"]


def test_deleted_articles_leave_every_list(ranker: Ranker) -> None:
    ranker.store.catalog.write(deletes=["mali-3"])
    assert "mali-3" not in [i.article.id for i in ranker.related("mali-1", k=10).items]
    assert "mali-3" not in [i.article.id for i in ranker.search("Mali junta sanctions", k=10).items]
    with pytest.raises(ArticleNotFound):
        ranker.related("mali-3")


def test_pair_score_matches_the_related_list(ranker: Ranker) -> None:
    top = ranker.related("mali-1", k=1).items[0]
    assert ranker.score("mali-1", top.article.id) == pytest.approx(top.score, abs=1e-5)
    assert ranker.score("mali-1", "mali-2") > ranker.score("mali-1", "cocoa-1")


def test_check_links_verdicts_and_errors(ranker: Ranker) -> None:
    links = [
        ("mali-1", "mali-3"),
        ("mali-1", "mali-2"),
        ("cocoa-1", "sport/1 final?"),
        ("mali-1", "nope"),
        ("mali-2", "mali-2"),
    ]
    rows = list(ranker.check_links(links, weak=0.2, strong=0.5))
    assert [(r.verdict, r.rank) for r in rows] == [
        ("strong", 1), ("ok", 2), ("weak", 2), ("error", None), ("error", None),
    ]  # fmt: skip
    assert rows[0].score == pytest.approx(ranker.score("mali-1", "mali-3"))
    assert rows[0].score > rows[1].score > rows[2].score  # type: ignore[operator]
    assert rows[1].reasons.startswith("rank 2; shared keywords: Mali; shared names: bamako, mali; dense 0.4")
    assert rows[2].reasons.startswith("rank 2; no shared keywords; shared names: abidjan; dense 0.0")
    assert rows[3].row() == ["mali-1", "nope", "", "", "error", "unknown target 'nope'"]
    assert rows[4].reasons == "an article linked to itself"


def test_a_selective_filter_still_fills_the_list(
    store: Store, embedder: HashingEmbedder, tmp_path: Path
) -> None:
    import json

    records = [
        {
            "id": f"mali-{i}",
            "title": "Mali junta Bamako coup",
            "body": f"junta soldiers Bamako {i}",
            "section": "africa",
        }
        for i in range(200)
    ]
    records += [
        {
            "id": f"cocoa-{i}",
            "title": "Cocoa prices",
            "body": f"cocoa harvest farmers {i}",
            "section": "business",
        }
        for i in range(3)
    ]
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    index_articles(store, embedder, read_articles(str(path)))
    ranker = Ranker(store, embedder, rules=NEUTRAL)
    items = ranker.related("mali-0", k=5, filters=Filters.parse(section="business")).items
    assert sorted(i.article.id for i in items) == ["cocoa-0", "cocoa-1", "cocoa-2"]
    africa = ranker.related("mali-0", k=2, filters=Filters.parse(section="africa", exclude=["mali-1"])).items
    assert len(africa) == 2 and {i.article.section for i in africa} == {"africa"}
    assert "mali-1" not in [i.article.id for i in africa]


def test_cached_lists_never_outlive_a_write(store: Store, embedder: HashingEmbedder, tmp_path: Path) -> None:
    import json

    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in CORPUS))
    index_articles(store, embedder, read_articles(str(path)))
    ranker = Ranker(store, embedder, rules=NEUTRAL, cache_size=10)
    first = ranker.related_page("mali-1", k=3)
    assert ranker.related_page("mali-1", k=3) is first
    assert ranker.related_page("mali-1", k=2) is not first
    store.catalog.write(deletes=["mali-3"])
    fresh = ranker.related_page("mali-1", k=3)
    assert b'"id":"mali-3"' in first.json and "article/mali-3" in first.tags.split()
    assert b'"id":"mali-3"' not in fresh.json


def test_the_event_loop_gets_a_cached_list_or_nothing(
    store: Store, embedder: HashingEmbedder, tmp_path: Path
) -> None:
    """What the server answers without a thread: a list already built and still valid, never a
    list a write may have changed (the thread then catches up and ranks)."""
    import json

    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in CORPUS))
    index_articles(store, embedder, read_articles(str(path)))
    ranker = Ranker(store, embedder, rules=NEUTRAL, cache_size=10)
    assert ranker.cached_related_page("mali-1", k=3) is None  # not built yet
    first = ranker.related_page("mali-1", k=3)
    assert ranker.cached_related_page("mali-1", k=3) is first
    assert ranker.cached_related_page("mali-1", k=2) is None
    assert ranker.cached_related_page("nobody", k=3) is None
    store.catalog.write(deletes=["mali-3"])
    assert ranker.cached_related_page("mali-1", k=3) is None  # a write since: the thread decides
    fresh = ranker.related_page("mali-1", k=3)
    assert b'"id":"mali-3"' not in fresh.json and ranker.cached_related_page("mali-1", k=3) is fresh
    assert Ranker(store, embedder, rules=NEUTRAL).cached_related_page("mali-1", k=3) is None  # no cache
    # An editor's change of any list: the thread decides again.
    store.catalog.set_override(Override("article", "cocoa-1", "mali-2", "pin", position=1), "alice")
    assert ranker.cached_related_page("mali-1", k=3) is None
    again = ranker.related_page("mali-1", k=3)
    assert again is fresh and ranker.cached_related_page("mali-1", k=3) is again  # not its list: kept
    # Statistics due to reload (a write, and their refresh interval past): the thread reloads them.
    ranker.scorer.refresh_seconds = 0.0
    write_one(store, embedder, {"id": "opera", "title": "Opera", "body": "tenor soprano aria"})
    assert ranker.scorer.settled_epoch(store.catalog.seq()) is None
    assert ranker.cached_related_page("mali-1", k=3) is None
    ranker.related_page("mali-1", k=3)
    assert ranker.scorer.settled_epoch(store.catalog.seq()) == store.catalog.seq()


def test_an_article_that_shares_a_rare_name_is_a_candidate_however_far_its_vector(
    store: Store, embedder: HashingEmbedder, tmp_path: Path
) -> None:
    """Lexical candidates (BM25 on the source's most telling words and names) join the nearest
    vectors: the one other story naming Colonel Goïta is scored though 40 stories on the same
    words are nearer; a new one naming him drops the cached list, however far its vector."""
    import json

    common = "junta transition elections soldiers capital"
    source = {"id": "source", "title": "Transition", "body": f"{common} says Colonel Assimi Goïta today"}
    fillers = [{"id": f"filler-{n}", "title": "Transition", "body": f"{common} report{n}"} for n in range(40)]
    target = {"id": "target", "title": "Gold", "body": "gold mines exports says Colonel Assimi Goïta"}
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in [source, *fillers, target]))
    index_articles(store, embedder, read_articles(str(path)))
    ranker = Ranker(store, embedder, rules=NEUTRAL, cache_size=10)
    vid = {e.article.id: e.vid for e in store.catalog.get_by_vids(list(range(1, 100))).values()}
    nearest = [
        v
        for _, v in ranker._candidates(
            ranker._vector(store.catalog.get("source")), 30, {vid["source"]}, NO_FILTERS
        )
    ]  # type: ignore[arg-type]
    assert vid["target"] not in nearest  # 30 fillers are nearer by vector
    built = ranker._related("source", 1, NO_FILTERS, NEUTRAL, None)
    assert vid["target"] in built.depends
    assert ("colonel", "assimi", "goïta") in built.words  # the name's tokens, as the full-text index has them
    assert ranker.related("target", k=1).items[0].article.id == "source"  # and it is found back
    # The cache: a far article that names him could enter the list's lexical part.
    first = ranker.related_page("source", k=1)
    assert ranker.related_page("source", k=1) is first
    write_one(store, embedder, {"id": "opera", "title": "Opera", "body": "tenor soprano aria libretto"})
    assert ranker.related_page("source", k=1) is first  # no word of the list's: kept
    write_one(
        store, embedder, {"id": "far", "title": "Opera", "body": "tenor aria sung for Colonel Assimi Goïta"}
    )
    assert ranker.related_page("source", k=1) is not first


def test_a_word_in_another_language_drops_the_cached_list_it_could_enter(
    store: Store, embedder: HashingEmbedder, tmp_path: Path
) -> None:
    """The full-text index matches strings in any language: an English article with a French
    list's rare word (the same stem in both) could enter that list's lexical candidates."""
    import json

    common = "la junte promet une transition et des élections dans la capitale"
    source = {
        "id": "source",
        "title": "Transition",
        "body": f"{common} zorbaxine zorbaxine",
        "language": "fr",
    }
    fillers = [
        {"id": f"filler-{n}", "title": "Transition", "body": f"{common} rapport{n}", "language": "fr"}
        for n in range(40)
    ]
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in [source, *fillers]))
    index_articles(store, embedder, read_articles(str(path)))
    ranker = Ranker(store, embedder, rules=NEUTRAL, cache_size=10)
    first = ranker.related_page("source", k=3)
    far = {"id": "far", "title": "Opera", "body": "tenor soprano aria zorbaxine zorbaxine", "language": "en"}
    write_one(store, embedder, far)
    again = ranker.related_page("source", k=3)
    assert again is not first
    assert again.json == Ranker(store, embedder, rules=NEUTRAL).related_page("source", k=3).json
    entry = store.catalog.get("far")
    assert entry is not None
    assert entry.vid in ranker._related("source", 3, NO_FILTERS, NEUTRAL, None).depends  # it is a candidate
