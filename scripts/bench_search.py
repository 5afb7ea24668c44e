#!/usr/bin/env python
"""Vector search at archive scale: recall@10 against exact search, latency, build time and memory.

Vectors: the real embeddings of ../shared/data/bbc-news.jsonl and the demo articles (embedded once
with the default model, cached in --work-dir), then synthetic articles around them up to each
--sizes: a random real vector plus noise, at a cosine of about 0.8 to it (a story on the same
subject). Queries are 1,000 indexed articles, as /related asks: their 10 nearest others.

For each size and each of --kinds it builds the index as seealso does (`VectorIndex.build`), then
measures with one FAISS thread (as the service runs):
  recall@10   share of the exact 10 nearest found, averaged over the queries;
  p50 / p99   latency of one search through seealso's VectorIndex, milliseconds;
  filtered    recall@10 when only one article in four is allowed (a language filter);
  build       seconds to build (an IVF index includes its training);
  memory      the index's own size (the serialized FAISS index plus seealso's id maps).
The IVF rows are repeated for several nprobe values and the HNSW rows for several efSearch values,
which is how the defaults in indexer/vectors.py were chosen.

    python scripts/bench_search.py --sizes 100000,1000000 --kinds flat,hnsw,ivf
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
from _common import ROOT, shared_file

import seealso.indexer.vectors as vectors_module
from seealso.config import Settings
from seealso.embeddings.base import normalize
from seealso.indexer.reader import read_articles
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store
from seealso.indexer.vectors import VectorIndex

QUERIES = 1000
K = 10


def real_vectors(work_dir: Path) -> np.ndarray:
    cached = work_dir / "real-vectors.npy"
    if cached.exists():
        return np.load(cached)
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data")
        store = Store.open(settings.data_dir, create=True)
        embedder = settings.load_embedder()
        for source in (shared_file("bbc-news.jsonl"), ROOT / "seealso" / "demo" / "articles.jsonl"):
            index_articles(store, embedder, read_articles(str(source)))
        _, found = store.all_vectors()
        store.close()
    np.save(cached, found)
    return found


def corpus(real: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((size, real.shape[1]), dtype=np.float32)
    out[: len(real)] = real[:size]
    for start in range(len(real), size, 100_000):
        n = min(100_000, size - start)
        bases = real[rng.integers(0, len(real), n)]
        noise = normalize(rng.standard_normal((n, real.shape[1])).astype(np.float32))
        out[start : start + n] = normalize(bases + 0.75 * noise)
    return out


def exact_neighbours(matrix: np.ndarray, queries: np.ndarray, allowed: np.ndarray | None) -> np.ndarray:
    """The K nearest others of each query row, by brute force in chunks."""
    candidates = np.arange(len(matrix)) if allowed is None else allowed
    best_scores = np.full((len(queries), K + 1), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), K + 1), dtype=np.int64)
    for start in range(0, len(candidates), 200_000):
        ids = candidates[start : start + 200_000]
        scores = matrix[queries] @ matrix[ids].T
        scores[ids[None, :] == queries[:, None]] = -np.inf  # not the article itself
        merged_scores = np.hstack([best_scores, scores])
        merged_ids = np.hstack([best_ids, np.broadcast_to(ids, scores.shape)])
        top = np.argpartition(-merged_scores, K, axis=1)[:, : K + 1]
        best_scores = np.take_along_axis(merged_scores, top, axis=1)
        best_ids = np.take_along_axis(merged_ids, top, axis=1)
    order = np.argsort(-best_scores, axis=1)[:, :K]
    return np.take_along_axis(best_ids, order, axis=1)


def measure(index: VectorIndex, matrix: np.ndarray, queries: np.ndarray, truth: np.ndarray,
            allowed: np.ndarray | None = None) -> tuple[float, float, float]:  # fmt: skip
    """(recall@10, p50 ms, p99 ms) of seealso's search over `queries`."""
    hits, times = 0, []
    for row, query in enumerate(queries):
        started = time.perf_counter()
        _, found = index.search(matrix[query], K + 1, allowed)
        times.append(time.perf_counter() - started)
        others = [v for v in found.tolist() if v != query][:K]
        hits += len(set(others) & set(truth[row].tolist()))
    return hits / (len(queries) * K), *np.percentile(np.asarray(times) * 1000, [50, 99])


def index_bytes(index: VectorIndex) -> int:
    return int(faiss.serialize_index(index.index).nbytes + index.label_vid.nbytes + index._vid_label.nbytes)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--kinds", default="flat,hnsw,ivf")
    parser.add_argument("--nprobe", default="16,32,64,128", help="IVF nprobe values to measure")
    parser.add_argument("--ef-search", default="48,96,192", help="HNSW efSearch values to measure")
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "seealso-bench")
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)

    real = real_vectors(args.work_dir)
    print(f"{len(real)} real vectors (BBC + demo), dimension {real.shape[1]}")
    header = f"{'size':>9} {'index':<22} {'setting':<13} {'recall@10':>9} {'p50 ms':>7} {'p99 ms':>7}"
    print(f"{header} {'filtered':>8} {'build s':>8} {'memory MB':>9}")
    for size in (int(s) for s in args.sizes.split(",")):
        matrix = corpus(real, size)
        rng = np.random.default_rng(1)
        queries = rng.choice(size, QUERIES, replace=False)
        allowed = np.arange(0, size, 4)
        filtered_queries = queries[queries % 4 == 0]
        faiss.omp_set_num_threads(2)
        truth = exact_neighbours(matrix, queries, None)
        truth_filtered = exact_neighbours(matrix, filtered_queries, allowed)
        faiss.omp_set_num_threads(1)
        vids = np.arange(size, dtype=np.int64)

        def chunks(m: np.ndarray = matrix, v: np.ndarray = vids) -> list[tuple[np.ndarray, np.ndarray]]:
            return [(v[s : s + 50_000], m[s : s + 50_000]) for s in range(0, len(m), 50_000)]

        for kind in args.kinds.split(","):
            faiss.omp_set_num_threads(2)  # building uses both cores, as `seealso index` does
            started = time.perf_counter()
            index = VectorIndex.build(real.shape[1], kind, chunks, size)
            built = time.perf_counter() - started
            faiss.omp_set_num_threads(1)
            settings: list[tuple[str, int]] = [("", 0)]
            if kind == "ivf":
                settings = [("nprobe", int(p)) for p in args.nprobe.split(",")]
            elif kind == "hnsw":
                settings = [("efSearch", int(e)) for e in args.ef_search.split(",")]
            for name, value in settings:
                if name == "nprobe":
                    vectors_module.IVF_NPROBE = value
                elif name == "efSearch":
                    vectors_module.HNSW_EF_SEARCH = value
                recall, p50, p99 = measure(index, matrix, queries, truth)
                recall_filtered, _, _ = measure(index, matrix, filtered_queries, truth_filtered, allowed)
                setting = f"{name}={value}" if name else "exact"
                print(
                    f"{size:>9} {index.index_type:<22} {setting:<13} {recall:>9.3f} {p50:>7.2f} {p99:>7.2f} "
                    f"{recall_filtered:>8.3f} {built:>8.1f} {index_bytes(index) / 2**20:>9.0f}",
                    flush=True,
                )
            del index
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:.0f} MB (it holds the float vectors for exact search)")


if __name__ == "__main__":
    main()
