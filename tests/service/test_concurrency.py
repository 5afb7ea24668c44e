"""Many requests at once on one real server process with the real model: each gets its own answer.

The baseline is the same requests one at a time; then the same from several threads. PUTs made while
others search must store the vectors of their own text.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from seealso.embeddings import Embedder, embed_articles
from seealso.indexer.article import parse_article
from seealso.indexer.store import Store
from tests.service.test_app import free_port, serving

pytestmark = pytest.mark.model

TOKEN = "concurrency-test-token"
WORDS = [
    "gold",
    "mines",
    "Sahel",
    "junta",
    "Bamako",
    "cocoa",
    "farmers",
    "floods",
    "Chad",
    "election",
    "Dakar",
    "spyware",
    "hotel",
    "siege",
]


@pytest.fixture
def demo_server(demo_dir: Path, model_cache: Path, tmp_path: Path) -> tuple[str, Path]:
    data_dir = Path(shutil.copytree(demo_dir, tmp_path / "data"))
    shutil.copytree(model_cache, data_dir / "models")  # the session's export: no second export
    env = {
        **os.environ,
        "SEEALSO_PORT": str(free_port()),
        "SEEALSO_DATA_DIR": str(data_dir),
        "SEEALSO_API_TOKEN": TOKEN,
        "SEEALSO_LIST_CACHE_SIZE": "0",
    }
    with serving(env) as base:
        yield base, data_dir  # type: ignore[misc]


def search(base: str, text: str) -> list[str]:
    url = f"{base}/v1/search?" + urllib.parse.urlencode({"q": text, "k": 5})
    with urllib.request.urlopen(url, timeout=30) as response:
        return [item["id"] for item in json.load(response)["items"]]


def put(base: str, article: dict[str, object]) -> int:
    request = urllib.request.Request(
        f"{base}/v1/articles/{urllib.parse.quote(str(article['id']), safe='')}",
        data=json.dumps(article).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def queries() -> list[str]:
    rng = np.random.default_rng(7)
    return [" ".join(rng.choice(WORDS, 3, replace=False)) for _ in range(40)]


def test_concurrent_searches_get_the_sequential_answers(demo_server: tuple[str, Path]) -> None:
    base, _ = demo_server
    texts = queries()
    alone = {text: search(base, text) for text in texts}
    for threads in (2, 4):
        with ThreadPoolExecutor(threads) as pool:
            together = list(pool.map(lambda text: (text, search(base, text)), texts * 2))
        assert [ids for _, ids in together] == [alone[text] for text, _ in together]


def related(base: str, article_id: str, query: str = "") -> tuple[list[str], list[list[str]], list[str]]:
    """A related list as (item ids, each item's translations, the article's own translations)."""
    url = f"{base}/v1/articles/{urllib.parse.quote(article_id, safe='')}/related?k=5{query}"
    with urllib.request.urlopen(url, timeout=30) as response:
        body = json.load(response)
    items = body["items"]
    own = [t["id"] for t in body["article"]["translations"]]
    return [i["id"] for i in items], [[t["id"] for t in i["translations"]] for i in items], own


def test_concurrent_related_lists_get_the_sequential_answers(demo_server: tuple[str, Path]) -> None:
    base, _ = demo_server  # no list cache: every request ranks, groups translations and calibrates
    asks = [
        (a, q)
        for a in ("sahel-france-05-en", "cocoa-prices-04-fr", "mali-coup-01-en")
        for q in ("", "&language=fr")
    ]
    alone = {ask: related(base, *ask) for ask in asks}
    assert alone[("cocoa-prices-04-fr", "")][2] == ["cocoa-prices-04-en"]  # the answers are real lists
    for threads in (2, 4):
        with ThreadPoolExecutor(threads) as pool:
            together = list(pool.map(lambda ask: (ask, related(base, *ask)), asks * 3))
        assert [answer for _, answer in together] == [alone[ask] for ask, _ in together]


def keyword_page(base: str, path: str) -> list[object]:
    with urllib.request.urlopen(f"{base}/v1/keywords/{path}", timeout=30) as response:
        body = json.load(response)
    return [(i.get("id") or i["keyword"], round(i["score"], 6)) for i in body["items"]]


def test_concurrent_keyword_pages_get_the_sequential_answers(demo_server: tuple[str, Path]) -> None:
    """Keyword pages rank in the server's threads (their statistics built by the first of them)."""
    base, _ = demo_server
    paths = [
        f"{urllib.parse.quote(keyword, safe='')}/{kind}?k=8"
        for keyword in ("Bamako", "cocoa", "football", "Jeux olympiques")
        for kind in ("articles", "related")
    ]
    alone = {path: keyword_page(base, path) for path in paths}
    assert len(alone[paths[0]]) == 8  # the answers are real pages
    for threads in (2, 4):
        with ThreadPoolExecutor(threads) as pool:
            together = list(pool.map(lambda path: (path, keyword_page(base, path)), paths * 3))
        assert [answer for _, answer in together] == [alone[path] for path, _ in together]


def keyword_answer(base: str, path: str) -> list[object]:
    with urllib.request.urlopen(f"{base}{path}", timeout=30) as response:
        body = json.load(response)
    return [(i["keyword"], i.get("articles"), i.get("score")) for i in body["items"]]


def test_concurrent_keyword_searches_and_suggestions_get_the_sequential_answers(
    demo_server: tuple[str, Path],
) -> None:
    """Keyword search and suggested keywords read the vocabulary each server thread shares."""
    base, _ = demo_server
    paths = [f"/v1/keywords?q={q}&k=5" for q in ("ecow", "bamk", "jeux", "cote")]
    paths += ["/v1/keywords?language=fr&k=10"]
    paths += [f"/v1/articles/{i}/keywords/suggested?k=5" for i in ("mali-coup-01-en", "afcon-football-02-en")]
    alone = {path: keyword_answer(base, path) for path in paths}
    assert alone[paths[0]][0][0] == "ECOWAS" and len(alone[paths[-1]]) == 5  # real answers
    for threads in (2, 4):
        with ThreadPoolExecutor(threads) as pool:
            together = list(pool.map(lambda path: (path, keyword_answer(base, path)), paths * 3))
        assert [answer for _, answer in together] == [alone[path] for path, _ in together]


def test_puts_made_while_searching_store_their_own_vectors(
    demo_server: tuple[str, Path], real_embedder: Embedder
) -> None:
    base, data_dir = demo_server
    articles = [
        {
            "id": f"concurrent-{i}",
            "title": f"{WORDS[i % len(WORDS)].title()} report {i}",
            "body": " ".join(WORDS[(i * 3 + j) % len(WORDS)] for j in range(12)) + f" number {i}.",
            "language": "en",
        }
        for i in range(30)
    ]
    texts = queries()
    with ThreadPoolExecutor(3) as pool:
        searches = [pool.submit(lambda: [search(base, text) for text in texts]) for _ in range(2)]
        assert [put(base, article) for article in articles] == [201] * 30
        for done in searches:
            assert len(done.result()) == len(texts)
    store = Store.open(data_dir)
    expected = embed_articles(real_embedder, [parse_article(a) for a in articles])
    for article, vector in zip(articles, expected, strict=True):
        entry = store.catalog.get(str(article["id"]))
        assert entry is not None
        stored = store.catalog.vector(entry.vid)
        assert stored is not None
        assert float(np.dot(stored, vector)) > 0.999, article["id"]
    store.close()
