"""Shared fixtures: a deterministic embedder for fast tests, the real model loaded once per session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from seealso.embeddings import Embedder
from seealso.embeddings.hashing import HashingEmbedder
from seealso.indexer.reader import read_articles
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store

ROOT = Path(__file__).resolve().parent.parent
DEMO_ARTICLES = ROOT / "seealso" / "demo" / "articles.jsonl"


def thread_of(article_id: str) -> str:
    """Demo ids are `<thread>-<NN>-<lang>[-update]`: the story thread is what comes before NN."""
    parts = article_id.split("-")
    number = next(i for i, part in enumerate(parts) if part.isdigit())
    return "-".join(parts[:number])


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder(64)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "data", create=True)
    yield store
    store.close()


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session's build and OpenVINO export of the default model are kept (made once)."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def real_embedder(model_cache: Path) -> Embedder:
    """The default model as users get it on a CPU: exported once, run by OpenVINO."""
    from seealso.config import DEFAULT_MODEL
    from seealso.embeddings import load_embedder

    return load_embedder(DEFAULT_MODEL, device="cpu", backend="auto", cache_dir=model_cache)


@pytest.fixture(scope="session")
def torch_embedder(model_cache: Path) -> Embedder:
    """The default model run by sentence-transformers and torch."""
    from seealso.config import DEFAULT_MODEL
    from seealso.embeddings.sentence import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(DEFAULT_MODEL, device="cpu", cache_dir=model_cache)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder) -> Path:
    """The demo corpus indexed once with the real model; tests copy it before changing it."""
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    store = Store.open(data_dir, create=True)
    report = index_articles(store, real_embedder, read_articles(str(DEMO_ARTICLES)))
    assert report.rejected == []
    store.close()
    return data_dir
