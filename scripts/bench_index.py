#!/usr/bin/env python
"""Indexing throughput of `seealso index` against a bare SentenceTransformer.encode, same run.

Reads ../shared/data/bbc-news.jsonl (or its first --limit articles), times
  1. bare: SentenceTransformer.encode (torch, fp32) of the very texts seealso embeds (each
     article's lead passage, with the model's passage prefix), batches of 32,
  2. seealso index with each of --backends (auto: OpenVINO on a CPU, torch on a GPU) and each of
     --precisions (OpenVINO's: auto, fp32, bf16, int8): the full pipeline (validate, hash, cut
     passages, embed, pool, analyse words, SQLite, FAISS snapshot),
  3. an unchanged re-run of the same input,
and prints docs/s and the ratio to bare.

With --scale N it instead indexes N articles made from the BBC ones (new ids, a numbered sentence
added so each text differs) with `seealso index` in a child process, twice, and prints the child's
time and peak memory: the run that embeds them, then the unchanged re-run. `--model test/hashing-384`
gives vectors of the default model's size without its cost, to see what the pipeline itself holds.

    python scripts/bench_index.py --limit 500 --backends auto,torch
    python scripts/bench_index.py --limit 400 --precisions fp32,bf16,int8
    python scripts/bench_index.py --scale 100000 --model test/hashing-384
    python scripts/bench_index.py --device cuda   # on a GPU machine
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, shared_file

from seealso.config import DEFAULT_MODEL, Settings
from seealso.embeddings.document import DEFAULT_RECIPE
from seealso.indexer.reader import read_articles
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store


def bbc_lines(limit: int | None) -> list[str]:
    with open(shared_file("bbc-news.jsonl"), encoding="utf-8") as stream:
        return [line for _, line in zip(range(limit or 10**9), stream, strict=False)]


def query_ms(settings: Settings) -> float:
    """Median milliseconds to embed one short query, as /v1/search does, in a process of its own
    (as the server is: torch's idle threads from the bare run here would compete for the cores)."""
    code = (
        "import sys, time, numpy as np; from seealso.config import Settings;"
        "e = Settings.model_validate_json(sys.argv[1]).load_embedder();"
        "q = ['gold mines in the Sahel', 'interest rates and inflation', 'cup final in Abidjan'];"
        "t = [(time.perf_counter(), e.embed([q[i % 3]], role='query'), time.perf_counter())"
        " for i in range(300)];"
        "print(np.median([b - a for a, _, b in t]) * 1000)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, settings.model_dump_json()],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return float(out.stdout.strip().splitlines()[-1])


def throughput(args: argparse.Namespace) -> None:
    from sentence_transformers import SentenceTransformer

    from seealso.embeddings import model_spec
    from seealso.indexer.article import parse_article

    lines = bbc_lines(args.limit)
    with tempfile.TemporaryDirectory() as tmp:
        spec = model_spec(args.model, cache_dir=Path(tmp) / "models")
        bare_model = SentenceTransformer(str(spec.source), device=args.device)
        prefix = spec.prompts.get("passage", "")
        window = int(bare_model.max_seq_length or 256)
        articles = [parse_article(json.loads(line)) for line in lines]
        texts = [prefix + p for a in articles for p in DEFAULT_RECIPE.passages(a, window)]
        n = len(articles)
        path = Path(tmp) / "articles.jsonl"
        path.write_text("".join(lines), encoding="utf-8")
        bare_model.encode(texts[:8], batch_size=32)  # warm-up
        started = time.perf_counter()
        bare_model.encode(texts, batch_size=32, show_progress_bar=False)
        bare = time.perf_counter() - started
        del bare_model

        print(f"{n} BBC articles ({len(texts)} texts), model {args.model}, recipe {DEFAULT_RECIPE.identity}")
        print(f"{'run':<34} {'seconds':>8} {'docs/s':>8} {'ratio':>6}")
        print(f"{'bare encode, torch ' + args.device:<34} {bare:>8.1f} {n / bare:>8.1f} {1.0:>6.2f}")
        runs = [(b, p) for b in args.backends.split(",") for p in args.precisions.split(",")]
        for backend, precision in runs:
            settings = Settings(
                data_dir=Path(tmp) / f"data-{backend}-{precision}",
                model=args.model,
                device=args.device,
                backend=backend,
                precision=precision,
            )
            embedder = settings.load_embedder()  # an OpenVINO export or quantization happens here, untimed
            embedder.embed(texts[:8])
            store = Store.open(settings.data_dir, create=True)
            report = index_articles(store, embedder, read_articles(str(path)))
            again = index_articles(store, embedder, read_articles(str(path)))
            store.close()
            name, took = f"seealso index, {embedder.runtime}", report.seconds
            print(f"{name:<34} {took:>8.1f} {n / took:>8.1f} {bare / took:>6.2f}")
            print(f"{'  unchanged re-run':<34} {again.seconds:>8.2f} {n / again.seconds:>8.0f}")
            stages = ", ".join(f"{k} {v:.1f}s" for k, v in report.stages.items())
            print(f"  stages: {stages}; {report.summary()}")
            print(f"  one search query embedded: median {query_ms(settings):.2f} ms (own process)")


def scaled(args: argparse.Namespace) -> None:
    source = [json.loads(line) for line in bbc_lines(None)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "articles.jsonl"
        with open(path, "w", encoding="utf-8") as out:
            for i in range(args.scale):
                article = dict(source[i % len(source)])
                article["id"] = f"{article['id']}-{i}"
                article["body"] = f"Report number {i}. {article['body']}"
                out.write(json.dumps(article) + "\n")
        print(f"{args.scale} articles from BBC ones, model {args.model}, {path.stat().st_size >> 20} MiB")
        print(f"{'run':<28} {'seconds':>8} {'articles/s':>10} {'peak RSS MiB':>12}")
        env = {**os.environ, "SEEALSO_MODEL": args.model, "SEEALSO_DATA_DIR": str(Path(tmp) / "data")}
        for run in ("index", "unchanged re-run"):
            command = [sys.executable, "-m", "seealso", "index", str(path), "--quiet"]
            started = time.perf_counter()
            child = subprocess.Popen(command, env=env, cwd=ROOT)
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - started
            if status != 0:
                sys.exit(f"seealso index failed with status {status}")
            peak = usage.ru_maxrss / 1024  # KiB on Linux
            print(f"{run:<28} {seconds:>8.1f} {args.scale / seconds:>10.0f} {peak:>12.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=None, help="first N BBC articles (default: all)")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--backends", default="auto", help="comma-separated: auto, torch, openvino")
    parser.add_argument("--precisions", default="auto", help="comma-separated: auto, fp32, bf16, int8")
    parser.add_argument("--scale", type=int, default=0, help="index N made-up articles in a child process")
    args = parser.parse_args()
    scaled(args) if args.scale else throughput(args)


if __name__ == "__main__":
    main()
