#!/usr/bin/env python
"""Indexing throughput of `seealso index` against a bare SentenceTransformer.encode, same run.

Reads ../shared/data/bbc-news.jsonl (or its first --limit articles), times
  1. bare: SentenceTransformer.encode of "title. body" for each article (the model cuts at its window),
  2. seealso: the full pipeline (validate, hash, cut passages, embed, pool, SQLite, FAISS snapshot),
  3. an unchanged re-run of the same input,
and prints docs/s and the ratio seealso / bare.

    python scripts/bench_index.py --limit 500
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _common import shared_file

from embeddings.document import DEFAULT_RECIPE
from embeddings.sentence import SentenceTransformerEmbedder
from indexer.reader import read_articles
from indexer.runner import index_articles
from indexer.store import Store
from seealso.config import DEFAULT_MODEL


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=None, help="first N articles (default: all)")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    source = shared_file("bbc-news.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "articles.jsonl"
        with open(source, encoding="utf-8") as stream, open(path, "w", encoding="utf-8") as out:
            lines = [line for _, line in zip(range(args.limit or 10**9), stream, strict=False)]
            out.writelines(lines)
        texts = [f"{a['title']}. {a['body']}" for a in map(json.loads, lines)]
        n = len(texts)

        embedder = SentenceTransformerEmbedder(args.model, device="cpu", batch_size=args.batch_size)
        embedder.model.encode(texts[:8], batch_size=args.batch_size)  # warm-up
        started = time.perf_counter()
        embedder.model.encode(texts, batch_size=args.batch_size, show_progress_bar=False)
        bare = time.perf_counter() - started

        store = Store.open(Path(tmp) / "data", create=True)
        report = index_articles(store, embedder, read_articles(str(path)))
        again = index_articles(store, embedder, read_articles(str(path)))
        store.close()

    print(f"{n} BBC articles, model {embedder.name}, batch size {args.batch_size}")
    print(f"recipe {DEFAULT_RECIPE.identity}")
    print(f"{'run':<26} {'seconds':>8} {'docs/s':>8} {'ratio':>6}")
    print(f"{'bare encode':<26} {bare:>8.1f} {n / bare:>8.1f} {1.0:>6.2f}")
    ours = report.seconds
    print(f"{'seealso index':<26} {ours:>8.1f} {n / ours:>8.1f} {bare / ours:>6.2f}")
    print(f"{'seealso index, unchanged':<26} {again.seconds:>8.2f} {n / again.seconds:>8.0f}")
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in report.stages.items())
    print(f"stages: {stages}; {report.summary()}")
    print(f"unchanged re-run: {again.summary()}")


if __name__ == "__main__":
    main()
