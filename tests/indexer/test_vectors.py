"""One routine every kind of vector index must pass (exact, HNSW and IVF over 8-bit vectors)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seealso.indexer.vectors import KINDS, VectorIndex, _new_faiss_index, choose_kind, ivf_lists

# IVF keeps vectors in 8 bits: what comes back is within this of what went in.
TOLERANCE = {"flat": 1e-6, "hnsw": 1e-6, "ivf": 0.05}


def empty(kind: str, dimension: int) -> VectorIndex:
    """An empty index of `kind`; an IVF one trained on random unit vectors."""
    if kind != "ivf":
        return VectorIndex(dimension, kind)
    index = VectorIndex(dimension, kind, index=_new_faiss_index(dimension, kind, 300))
    index.index.train(unit(np.random.default_rng(11).standard_normal((2600, dimension))))
    return index


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return np.arange(100, 400, dtype=np.int64), unit(rng.standard_normal((300, 16)))


def exact(vids: np.ndarray, vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return [int(v) for v in vids[np.argsort(-(vectors @ query), kind="stable")[:k]]]


def nearest(kind: str, found: list[int], vids: np.ndarray, vectors: np.ndarray, query: np.ndarray) -> bool:
    """Whether `found` are the nearest to `query`: exactly, or for IVF's 8-bit vectors, the same first
    one and the rest no further than the exact k-th plus the quantization's error."""
    expected = exact(vids, vectors, query, len(found))
    if kind != "ivf":
        return found == expected
    score = dict(zip(vids.tolist(), (vectors @ query).tolist(), strict=True))
    return found[0] == expected[0] and min(score[v] for v in found) >= score[expected[-1]] - 0.02


@pytest.mark.parametrize("kind", KINDS)
def test_search_finds_the_nearest_by_id(kind: str, data: tuple[np.ndarray, np.ndarray]) -> None:
    vids, vectors = data
    index = empty(kind, 16)
    index.add(vids, vectors)
    assert len(index) == 300
    for row in (0, 57, 299):
        scores, found = index.search(vectors[row], 5)
        assert nearest(kind, found.tolist(), vids, vectors, vectors[row])
        assert scores[0] == pytest.approx(1.0, abs=TOLERANCE[kind] + 1e-5)
        assert list(scores) == sorted(scores, reverse=True)


@pytest.mark.parametrize("kind", KINDS)
def test_replace_and_remove(kind: str, data: tuple[np.ndarray, np.ndarray]) -> None:
    vids, vectors = data
    index = empty(kind, 16)
    index.add(vids, vectors)
    index.add(np.array([100]), vectors[[5]])  # article 100 now reads like article 105
    index.remove(np.array([105, 999]))
    assert len(index) == 299 and index.dead == 2
    _, found = index.search(vectors[5], 3)
    assert found[0] == 100 and 105 not in found.tolist()
    np.testing.assert_allclose(index.vector(100), vectors[5], atol=TOLERANCE[kind])
    assert index.vector(105) is None
    live_vids, live_vectors = index.all()
    assert sorted(live_vids.tolist()) == sorted(set(vids.tolist()) - {105})
    np.testing.assert_allclose(live_vectors[live_vids.tolist().index(100)], vectors[5], atol=TOLERANCE[kind])
    compact = index.compacted()
    assert (len(compact), compact.dead, compact.kind) == (299, 0, kind)
    assert compact.search(vectors[5], 1)[1].tolist() == [100]


@pytest.mark.parametrize("kind", KINDS)
def test_search_among_allowed_ids(kind: str, data: tuple[np.ndarray, np.ndarray]) -> None:
    vids, vectors = data
    index = empty(kind, 16)
    index.add(vids, vectors)
    allowed = vids[::10]
    _, found = index.search(vectors[3], 4, allowed=allowed)
    assert nearest(kind, found.tolist(), allowed, vectors[::10], vectors[3])
    assert index.search(vectors[3], 4, allowed=np.array([], dtype=np.int64))[1].tolist() == []


@pytest.mark.parametrize("kind", KINDS)
def test_save_and_load(kind: str, data: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    vids, vectors = data
    index = empty(kind, 16)
    index.add(vids, vectors)
    index.remove(np.array([101]))
    index.save(tmp_path / "index-1.faiss")
    loaded = VectorIndex.load(tmp_path / "index-1.faiss")
    assert (loaded.kind, len(loaded), loaded.dead) == (kind, 299, 1)
    assert loaded.search(vectors[1], 2)[1].tolist() == index.search(vectors[1], 2)[1].tolist()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index-1.faiss", "index-1.ids.npy"]


def test_the_kind_follows_the_size() -> None:
    sizes = [10, 20_000, 20_001, 100_000, 100_001, 10**6]
    assert [choose_kind(n) for n in sizes] == ["flat", "flat", "hnsw", "hnsw", "ivf", "ivf"]
    assert (choose_kind(10**6, "flat"), choose_kind(5, "hnsw"), choose_kind(5, "ivf")) == (
        "flat",
        "hnsw",
        "ivf",
    )
    assert [ivf_lists(n) for n in (0, 1000, 100_000, 10**6)] == [16, 128, 1024, 4096]
    index = VectorIndex(4, "flat")
    assert index.needs_compaction("hnsw") and not index.needs_compaction("flat")


def test_an_ivf_index_is_trained_on_a_sample_and_described(data: tuple[np.ndarray, np.ndarray]) -> None:
    vids, vectors = data
    calls: list[int] = []

    def chunks() -> list[tuple[np.ndarray, np.ndarray]]:
        calls.append(1)
        return [(vids[:150], vectors[:150]), (vids[150:], vectors[150:])]

    index = VectorIndex.build(16, "ivf", chunks, len(vids))
    assert (len(calls), len(index), index.kind) == (2, 300, "ivf")
    assert (index.index_type, index.params) == ("IVF64,SQ8,IP", {"nlist": 64, "nprobe": 32})
    assert index.search(vectors[7], 1)[1].tolist() == [vids[7]]
    # Too few vectors to train on: an exact index instead.
    small = VectorIndex.build(16, "ivf", lambda: [(vids[:10], vectors[:10])], 10)
    assert (small.kind, len(small)) == ("flat", 10)


@pytest.mark.parametrize("kind", KINDS)
def test_random_changes_match_a_plain_dict(kind: str) -> None:
    rng = np.random.default_rng(3)
    index = empty(kind, 8)
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
        np.testing.assert_allclose(vector, model[int(vid)], atol=TOLERANCE[kind])
    query = next(iter(model.values()))
    held_vids, held_vectors = np.array(list(model)), np.array(list(model.values()))
    assert nearest(kind, index.search(query, 3)[1].tolist(), held_vids, held_vectors, query)
    assert nearest(kind, index.compacted().search(query, 3)[1].tolist(), held_vids, held_vectors, query)
