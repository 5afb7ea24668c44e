#!/usr/bin/env python
"""Query embedding under threads: seealso's OpenVINO embedder against a bare compiled model, same run.

Both run the default model's OpenVINO export (made once into a temporary folder):
  1. bare: the tokenizer and one infer request, as OpenVINO's samples use it; the fastest a single
     query can be, and what seealso did before its embedder was made safe under threads;
  2. seealso: `OpenVINOEmbedder.embed`, which borrows an infer request from a pool per call.
For each, the median milliseconds of one short query, one call at a time; then QUERIES distinct
queries from 1, 2 and 4 threads: queries per second, and how many calls failed or got another
query's vector (cosine to its own sequential vector below 0.9999).

    python scripts/bench_query.py
    python scripts/bench_query.py --calls 2000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from _common import ROOT  # noqa: F401  (puts the project on the path)

from seealso.config import DEFAULT_MODEL
from seealso.embeddings import load_embedder
from seealso.embeddings.openvino import OpenVINOEmbedder

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


def bare(embedder: OpenVINOEmbedder) -> Callable[[str], np.ndarray]:
    """One query through the tokenizer and a single shared infer request."""
    request = embedder.compiled.create_infer_request()

    def embed(text: str) -> np.ndarray:
        ids = embedder.tokenizer.encode(text.strip().lower() if embedder.lowercase else text.strip()).ids
        arrays = {name: np.zeros((1, len(ids)), dtype=np.int64) for name in embedder.inputs}
        arrays["input_ids"][0] = ids
        arrays["attention_mask"][0] = 1
        vector = next(iter(request.infer(arrays).values()))[0]
        return vector / np.linalg.norm(vector)

    return embed


def median_ms(embed: Callable[[str], np.ndarray], queries: list[str], calls: int) -> float:
    times = []
    for i in range(calls):
        started = time.perf_counter()
        embed(queries[i % len(queries)])
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1000)


def under_threads(
    embed: Callable[[str], np.ndarray], queries: list[str], threads: int
) -> tuple[float, int, int]:
    """(queries/s, failed calls, wrong vectors) for `queries` embedded from `threads` threads."""
    alone = {q: embed(q) for q in queries}

    def one(query: str) -> float | None:
        try:
            return float(np.dot(embed(query), alone[query]))
        except Exception:  # what a shared request does under threads is what this measures
            return None

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        cosines = list(pool.map(one, queries))
    rate = len(queries) / (time.perf_counter() - started)
    failed = sum(c is None for c in cosines)
    wrong = sum(c is not None and c < 0.9999 for c in cosines)
    return rate, failed, wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="Single calls timed for the median.")
    parser.add_argument("--queries", type=int, default=400, help="Distinct queries sent from threads.")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    queries = [" ".join(rng.choice(WORDS, 3, replace=False)) + f" {i}" for i in range(args.queries)]
    with tempfile.TemporaryDirectory() as tmp:
        embedder = load_embedder(DEFAULT_MODEL, backend="openvino", cache_dir=Path(tmp))
        assert isinstance(embedder, OpenVINOEmbedder)
        runs = {"bare": bare(embedder), "seealso": lambda text: embedder.embed([text], role="query")[0]}
        for embed in runs.values():
            median_ms(embed, queries, 50)  # warm-up
        print(f"one query, median of {args.calls} calls ({embedder.runtime}):")
        medians = {name: median_ms(embed, queries, args.calls) for name, embed in runs.items()}
        for name, value in medians.items():
            print(f"  {name:8} {value:6.3f} ms  ({value / medians['bare']:.2f}x bare)")
        print(f"{len(queries)} distinct queries from threads: queries/s, failed calls, wrong vectors")
        for threads in (1, 2, 4):
            for name, embed in runs.items():
                rate, failed, wrong = under_threads(embed, queries, threads)
                print(f"  {threads} threads  {name:8} {rate:7.0f}/s  failed {failed:4}  wrong {wrong:4}")


if __name__ == "__main__":
    main()
