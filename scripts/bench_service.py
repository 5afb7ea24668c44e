#!/usr/bin/env python
"""HTTP latency of `seealso serve` under load, with wrk on loopback, beside /healthz in the same run.

Builds (once, cached in --work-dir) a data dir of the demo corpus and one of --articles articles:
the real embeddings of ../shared/data/bbc-news.jsonl plus synthetic articles whose vectors lie
around them, then starts the real server on each and runs wrk (-c concurrency, -d seconds) against:
/healthz (the framework's ceiling on this machine), /related of random articles, /related with a
language filter, and keyword pages. Each endpoint is warmed up by --warmup seconds of uncounted
load first; with the list cache on (--cache-size > 0) the measured runs then mostly hit it (the
lists of 2,000 articles, in each worker), with --cache-size 0 every request ranks afresh.

    python scripts/bench_service.py --articles 100000 --duration 5 --repeats 3 --connections 16

Needs wrk (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
from _common import ROOT, shared_file

from seealso.config import Settings
from seealso.embeddings.base import normalize
from seealso.indexer.article import parse_article
from seealso.indexer.catalog import Write
from seealso.indexer.reader import read_articles
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store

LUA = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
math.randomseed(%(seed)d)
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%.3f %%.3f %%.3f\\n", summary.requests,
    e.connect + e.read + e.write + e.timeout + e.status, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.mean / 1000))
end
"""


def build_demo(path: Path) -> Path:
    if not (path / "manifest.json").exists():
        store = Store.open(path, create=True)
        index_articles(
            store,
            Settings(data_dir=path).load_embedder(),
            read_articles(str(ROOT / "seealso/demo/articles.jsonl")),
        )
        store.close()
    return path


def build_scaled(path: Path, total: int, seed: int = 0) -> Path:
    """BBC articles with real embeddings, then synthetic neighbours of them up to `total`."""
    if (path / "manifest.json").exists():
        return path
    started = time.perf_counter()
    store = Store.open(path, create=True)
    index_articles(
        store, Settings(data_dir=path).load_embedder(), read_articles(str(shared_file("bbc-news.jsonl")))
    )
    print(f"  embedded the BBC articles in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    vids, vectors = store.all_vectors()
    bases = store.catalog.get_by_vids(vids.tolist())
    rng = np.random.default_rng(seed)
    made = len(vids)
    while made < total:
        n = min(5000, total - made)
        picks = rng.integers(0, len(vids), n)
        # A neighbour at cosine about 0.8 of its base: a story on the same subject.
        noisy = normalize(vectors[picks] + 0.75 * normalize(rng.standard_normal((n, vectors.shape[1]))))
        writes = []
        for offset, (pick, vector) in enumerate(zip(picks, noisy, strict=True)):
            base = bases[int(vids[pick])].article
            day = int(rng.integers(0, 365 * 8))
            number = made + offset
            article = parse_article(
                {
                    "id": f"synthetic-{number}",
                    "title": f"{base.title} ({number})",
                    "summary": base.summary,
                    "keywords": [f"topic {pick % 400}", base.section or "news"],
                    "section": base.section,
                    "language": "fr" if number % 4 == 0 else "en",
                    "published_at": time.strftime("%Y-%m-%d", time.gmtime(1_450_000_000 + day * 86400)),
                }
            )
            writes.append(Write(article, "synthetic", article.record_hash(), vector))
        store.catalog.write(writes)
        made += n
    started = time.perf_counter()
    manifest = store.save_snapshot()
    print(
        f"  {manifest.count} articles, {manifest.index_type} built in {time.perf_counter() - started:.0f}s",
        file=sys.stderr,
    )
    store.close()
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wrk(
    base: str, paths: list[str], args: argparse.Namespace, work: Path, seconds: int | None = None
) -> tuple[int, int, float, float, float, float]:
    (work / "paths.txt").write_text("\n".join(paths) + "\n")
    (work / "bench.lua").write_text(LUA % {"paths": work / "paths.txt", "seed": 42})
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{seconds or args.duration}s", "--timeout", "5s"]
    out = subprocess.run(
        [*command, "-s", str(work / "bench.lua"), base], capture_output=True, text=True, check=True
    )
    line = next(line for line in out.stdout.splitlines() if line.startswith("RESULT"))
    requests, errors, micros, p50, p99, mean = line.split()[1:]
    seconds = int(micros) / 1e6
    return int(requests), int(errors), int(requests) / seconds, float(p50), float(p99), float(mean)


def rss_mb(pid: int) -> dict[str, int]:
    """Resident memory of the server process and of each worker it started (Linux /proc)."""

    def rss(p: int) -> int:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
        return 0

    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    workers = [int(c) for c in children]  # uvicorn's worker processes (and any helper it started)
    return {"main": rss(pid), **{f"worker {n}": rss(c) for n, c in enumerate(workers, 1)}}


def bench(name: str, data_dir: Path, args: argparse.Namespace) -> None:
    store = Store.open(data_dir)
    rng = random.Random(1)
    ids = [
        e.article.id
        for e in store.catalog.get_by_vids(
            rng.sample(
                store.index().label_vid[store.index().label_vid >= 0].tolist(), min(2000, len(store.index()))
            )
        ).values()
    ]
    keywords = sorted({k for i in ids[:300] if (e := store.catalog.get(i)) for k in e.article.keywords})
    count = store.catalog.count()
    store.close()
    quote = lambda s: urllib.parse.quote(s, safe="")  # noqa: E731
    port = free_port()
    env = {
        **os.environ,
        "SEEALSO_DATA_DIR": str(data_dir),
        "SEEALSO_PORT": str(port),
        "SEEALSO_WORKERS": str(args.workers),
        "SEEALSO_LIST_CACHE_SIZE": str(args.cache_size),
        # The feed's first build of every page would run beside the load (minutes at 100,000
        # articles); its cost is scripts/eval_feed.py's to measure.
        "SEEALSO_FEED": "false",
    }
    server = subprocess.Popen([sys.executable, "-m", "seealso", "serve"], env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/readyz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.5)
        work = args.work_dir / "wrk"
        work.mkdir(parents=True, exist_ok=True)
        runs = {
            "/healthz": ["/healthz"],
            "/related?k=10": [f"/v1/articles/{quote(i)}/related?k=10" for i in ids],
            "/related?k=10&language=fr": [f"/v1/articles/{quote(i)}/related?k=10&language=fr" for i in ids],
            "/keywords/{k}/articles": [f"/v1/keywords/{quote(k)}/articles?k=10" for k in keywords],
        }
        for paths in runs.values():  # warm up (not counted): pages read from disk, caches, every worker
            wrk(base, paths, args, work, args.warmup)
        load = f"wrk -t1 -c{args.connections} -d{args.duration}s, median of {args.repeats}"
        print(f"\n{name}: {count} articles, {args.workers} workers, list cache {args.cache_size}, {load}")
        print(f"resident memory after warm-up, MB: {rss_mb(server.pid)}")
        header = ("endpoint", "requests", "req/s", "p50 ms", "p99 ms", "errors", "/healthz")
        print("{:<27} {:>8} {:>7} {:>7} {:>7} {:>6} {:>8}".format(*header))
        # Each endpoint runs --repeats times, interleaved, and the run with the median rate is
        # shown: how wrk's keep-alive connections fall on the workers varies from run to run.
        results: dict[str, list[tuple[int, int, float, float, float, float]]] = {label: [] for label in runs}
        for _ in range(args.repeats):
            for label, paths in runs.items():
                if paths:
                    results[label].append(wrk(base, paths, args, work))
        ceiling = None
        for label, measured in results.items():
            if not measured:
                continue
            requests, errors, rate, p50, p99, _mean = sorted(measured, key=lambda m: m[2])[len(measured) // 2]
            ceiling = ceiling or rate
            ratio = rate / ceiling
            print(f"{label:<27} {requests:>8} {rate:>7.0f} {p50:>7.2f} {p99:>7.2f} {errors:>6} {ratio:>8.2f}")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=20, help="seconds of uncounted load per endpoint first")
    parser.add_argument("--repeats", type=int, default=3, help="runs per endpoint; the median is shown")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="server processes (this machine has 2 cores)")
    parser.add_argument(
        "--cache-size", type=int, default=10_000, help="related lists cached (0: rank every request)"
    )
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/seealso-bench"))
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    if not args.skip_demo:
        bench("demo corpus", build_demo(args.work_dir / "demo"), args)
    if args.articles:
        bench(
            "scaled corpus", build_scaled(args.work_dir / f"scaled-v2-{args.articles}", args.articles), args
        )


if __name__ == "__main__":
    main()
