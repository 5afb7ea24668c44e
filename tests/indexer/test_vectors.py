"""One routine every kind of vector index must pass (exact and HNSW)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer.vectors import VectorIndex, choose_kind

KINDS = ["flat", "hnsw"]


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return np.arange(100, 400, dtype=np.int64), unit(rng.standard_normal((300, 16)))


def exact(vids: np.ndarray, vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return [int(v) for v in vids[np.argsort(-(vectors @ query), kind="stable")[:k]]]


@pytest.mark.parametrize("kind", KINDS)
def test_search_finds_the_nearest_by_id(kind: str, data: tuple[np.ndarray, np.ndarray]) -> None:
    vids, vectors = data
    index = VectorIndex(16, kind)
    index.add(vids, vectors)
    assert len(index) == 300
    for row in (0, 57, 299):
        scores, found = index.search(vectors[row], 5)
        assert found.tolist() == exact(vids, vectors, vectors[row], 5)
        assert scores[0] == pytest.approx(1.0, abs=1e-5)
        assert list(scores) == sorted(scores, reverse=True)


@pytest.mark.parametrize("kind", KINDS)
def test_replace_and_remove(kind: str, data: tuple[np.ndarray, np.ndarray]) -> None:
    vids, vectors = data
    index = VectorIndex(16, kind)
    index.add(vids, vectors)
    index.add(np.array([100]), vectors[[5]])  # article 100 now reads like article 105
    index.remove(np.array([105, 999]))
    assert len(index) == 299 and index.dead == 2
    _, found = index.search(vectors[5], 3)
    assert found[0] == 100 and 105 not in found.tolist()
    np.testing.assert_allclose(index.vector(100), vectors[5], atol=1e-6)
    assert index.vector(105) is None
    live_vids, live_vectors = index.all()
    assert sorted(live_vids.tolist()) == sorted(set(vids.tolist()) - {105})
    np.testing.assert_allclose(live_vectors[live_vids.tolist().index(100)], vectors[5], atol=1e-6)
    compact = index.compacted()
    assert (len(compact), compact.dead, compact.kind) == (299, 0, kind)
    assert compact.search(vectors[5], 1)[1].tolist() == [100]


@pytest.mark.parametrize("kind", KINDS)
def test_search_among_allowed_ids(kind: str, data: tuple[np.ndarray, np.ndarray]) -> None:
    vids, vectors = data
    index = VectorIndex(16, kind)
    index.add(vids, vectors)
    allowed = vids[::10]
    _, found = index.search(vectors[3], 4, allowed=allowed)
    assert found.tolist() == exact(allowed, vectors[::10], vectors[3], 4)
    assert index.search(vectors[3], 4, allowed=np.array([], dtype=np.int64))[1].tolist() == []


@pytest.mark.parametrize("kind", KINDS)
def test_save_and_load(kind: str, data: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    vids, vectors = data
    index = VectorIndex(16, kind)
    index.add(vids, vectors)
    index.remove(np.array([101]))
    index.save(tmp_path / "index-1.faiss")
    loaded = VectorIndex.load(tmp_path / "index-1.faiss")
    assert (loaded.kind, len(loaded), loaded.dead) == (kind, 299, 1)
    assert loaded.search(vectors[1], 2)[1].tolist() == index.search(vectors[1], 2)[1].tolist()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index-1.faiss", "index-1.ids.npy"]


def test_the_kind_follows_the_size() -> None:
    assert (choose_kind(10), choose_kind(10**6), choose_kind(10**6, "flat"), choose_kind(5, "hnsw")) == (
        "flat", "hnsw", "flat", "hnsw",
    )  # fmt: skip
    index = VectorIndex(4, "flat")
    assert index.needs_compaction("hnsw") and not index.needs_compaction("flat")


@pytest.mark.parametrize("kind", KINDS)
def test_random_changes_match_a_plain_dict(kind: str) -> None:
    rng = np.random.default_rng(3)
    index = VectorIndex(8, kind)
    model: dict[int, np.ndarray] = {}
    for _ in range(60):
        vids = rng.integers(0, 50, rng.integers(1, 6))
        if rng.random() < 0.7:
            vectors = unit(rng.standard_normal((len(vids), 8)))
            index.add(vids, vectors)
            model.update({int(v): vec for v, vec in zip(vids, vectors, strict=True)})  # later duplicates win
        else:
            index.remove(vids)
            for v in vids:
                model.pop(int(v), None)
        assert len(index) == len(model)
    held, vectors = index.all()
    assert sorted(held.tolist()) == sorted(model)
    for vid, vector in zip(held, vectors, strict=True):
        np.testing.assert_allclose(vector, model[int(vid)], atol=1e-6)
    query = next(iter(model.values()))
    expected = exact(np.array(list(model)), np.array(list(model.values())), query, 3)
    assert index.search(query, 3)[1].tolist() == expected
    assert index.compacted().search(query, 3)[1].tolist() == expected
