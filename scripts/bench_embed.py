#!/usr/bin/env python
"""Embedding throughput of `seealso embed` on Ray against `seealso index`, same run.

Reads ../shared/data/bbc-news.jsonl (or its first --limit articles) and runs, each as the
command a user runs, in a fresh data dir or vectors folder (the model export is made once first,
untimed, and shared):
  1. `seealso index` (the baseline: one process, the embedder on every core),
  2. `seealso embed --workers N --cpus C` for each of --runs (a local Ray instance: start-up,
     readers, N actors each loading the model, Parquet shards),
  3. `seealso index --vectors` from the first embed run's vectors (nothing embedded again),
and prints wall-clock seconds, docs/s and the ratio to the baseline. Run it with --gpus 1 on a
GPU machine (the actors then run the model in torch on the GPU).

    python scripts/bench_embed.py --limit 1000
    python scripts/bench_embed.py --runs 1x1,2x1 --part-lines 250
    python scripts/bench_embed.py --runs 1x4 --gpus 1   # on a GPU machine
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, shared_file

SEEALSO = [sys.executable, "-m", "seealso"]


def run(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    took = time.perf_counter() - started
    if done.returncode not in (0, 3):  # 3: a rejected line, reported
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
    return took, done.stderr.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="the first N BBC articles (default: all)")
    parser.add_argument("--model", default=None, help="model name or folder (default: seealso's)")
    parser.add_argument("--runs", default="1x1,2x1", help="embed runs as WORKERSxCPUS, comma-separated")
    parser.add_argument("--gpus", type=float, default=0, help="GPUs per actor")
    parser.add_argument("--part-lines", type=int, default=250, help="lines per part (shard)")
    args = parser.parse_args()

    with open(shared_file("bbc-news.jsonl"), encoding="utf-8") as stream:
        lines = [line for _, line in zip(range(args.limit or 10**9), stream, strict=False)]
    env = {**os.environ, "RAY_ADDRESS": ""}
    if args.model:
        env["SEEALSO_MODEL"] = args.model
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        archive = folder / "bbc.jsonl"
        archive.write_text("".join(lines), encoding="utf-8")
        models = folder / "models"
        # The model's export, made once here and linked into every run's folder (not timed).
        run([*SEEALSO, "index", str(archive), "--data-dir", str(folder / "warm"), "-q"], env)
        shutil.move(folder / "warm" / "models", models)

        def fresh(name: str) -> Path:
            (folder / name).mkdir()
            (folder / name / "models").symlink_to(models)
            return folder / name

        n = len(lines)
        print(f"{n} BBC articles, {os.cpu_count()} cores, model {args.model or 'seealso default'}")
        print(f"{'run':<40} {'seconds':>8} {'docs/s':>8} {'ratio':>6}")
        base, summary = run([*SEEALSO, "index", str(archive), "--data-dir", str(fresh("index")), "-q"], env)
        print(f"{'seealso index':<40} {base:>8.1f} {n / base:>8.1f} {1.0:>6.2f}")
        print(f"  {summary}")
        first = None
        for spec in args.runs.split(","):
            workers, cpus = spec.split("x")
            out = fresh(f"vectors-{spec}")
            first = first or out
            command = [*SEEALSO, "embed", str(archive), "--out", str(out), "--workers", workers]
            command += ["--cpus", cpus, "--gpus", str(args.gpus), "--part-lines", str(args.part_lines), "-q"]
            took, summary = run(command, env)
            name = f"seealso embed, {workers} actors x {cpus} CPU" + (
                f" x {args.gpus:g} GPU" if args.gpus else ""
            )
            print(f"{name:<40} {took:>8.1f} {n / took:>8.1f} {base / took:>6.2f}")
            print(f"  {summary}")
        if first is not None:
            command = [*SEEALSO, "index", str(archive), "--data-dir", str(fresh("from-vectors"))]
            took, summary = run([*command, "--vectors", str(first), "-q"], env)
            print(f"{'seealso index --vectors':<40} {took:>8.1f} {n / took:>8.1f} {base / took:>6.2f}")
            print(f"  {summary}")


if __name__ == "__main__":
    main()
