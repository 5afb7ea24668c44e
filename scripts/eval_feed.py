#!/usr/bin/env python
"""The change feed against a full recomputation of every page, and its cost at scale.

Quality, on the demo corpus and on ../shared/data/bbc-news.jsonl (its sections as keywords), with
the real model: a tenth of the articles is held back, the pages of the rest are built, then
random writes are made one at a time (a held-back article added, an article rewritten with
another's text, retitled, deleted, an editor's pin or block), and after each the feed's pages are
compared with every page computed afresh:
  - recall: of the pages whose face changed, the share the feed logged (target 1.0);
  - precision: of the pages the feed logged, the share whose face changed;
  - how many pages the feed computed again, against every page.
Twice: with the scoring statistics held still (what the feed's candidates answer for), and
with them reloaded after every write (drift from document frequencies, which the feed's sweep
catches later: how many pages it leaves to the sweep).

Speed, at scale (`--scaled N`: the 100,000-article data dir of scripts/bench_service.py, BBC
articles plus synthetic neighbours): the time to build every page once, then, for new articles
added one at a time, the time to find and compute the pages each one changes (p50, p99).

    python scripts/eval_feed.py [--writes 40] [--scaled 100000] [--new 50]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from _common import corpus_records as records

from seealso.config import Settings
from seealso.embeddings.base import normalize
from seealso.indexer.article import parse_article
from seealso.indexer.catalog import Write
from seealso.indexer.overrides import Override
from seealso.indexer.reader import validate_record
from seealso.indexer.runner import bind_embedder, index_articles, upsert_articles
from seealso.indexer.store import Store
from seealso.ranking import Keywords, Ranker
from seealso.ranking.pages import PageTracker

WORK = Path(tempfile.gettempdir()) / "seealso-eval-feed"


def every_face(tracker: PageTracker) -> dict[tuple[str, str], str]:
    """Every page computed afresh (on two threads)."""
    stats = tracker.keywords.stats()
    wanted = sorted(tracker._every_page())
    with ThreadPoolExecutor(2) as pool:
        pages = list(pool.map(lambda p: tracker._compute(p[0], p[1], stats), wanted))
    return {p: page.face for p, page in zip(wanted, pages, strict=True) if page is not None}


def quality(name: str, writes: int, reload: bool, seed: int = 5) -> None:
    rng = random.Random(seed)
    corpus = records(name)
    rng.shuffle(corpus)
    held, kept = corpus[: len(corpus) // 10], corpus[len(corpus) // 10 :]
    data_dir = WORK / f"{name}-{'reload' if reload else 'still'}"
    shutil.rmtree(data_dir, ignore_errors=True)
    store = Store.open(data_dir, create=True)
    settings = Settings(data_dir=data_dir)
    embedder = settings.load_embedder()
    items = [validate_record(n, r) for n, r in enumerate(kept, 1)]
    index_articles(store, embedder, iter(items))
    recipe = bind_embedder(store, embedder)
    ranker = Ranker(store, embedder, rules=settings.list_rules())
    ranker.scorer.refresh_seconds = 0.0 if reload else 1e9
    tracker = PageTracker(ranker, Keywords(ranker, refresh_seconds=0), workers=2)
    started = time.perf_counter()
    tracker.update()
    print(
        f"{name}: {len(kept)} articles; every page built in {time.perf_counter() - started:.1f}s",
        file=sys.stderr,
    )
    before = every_face(tracker)
    live = [str(r["id"]) for r in kept]
    changed_total = logged_total = hit = computed = pages = 0
    seconds: list[float] = []
    cursor = 0
    for step in range(writes):
        kind = ["add", "rewrite", "retitle", "delete", "pin", "block"][step % 6]
        if kind == "add" and held:
            record = held.pop()
            upsert_articles(store, embedder, [parse_article(record)], recipe)
            live.append(str(record["id"]))
        elif kind == "rewrite":
            target, donor = rng.sample(kept, 2)
            new = {**target, "title": donor["title"], "body": donor["body"]}
            upsert_articles(store, embedder, [parse_article(new)], recipe)
        elif kind == "retitle":
            target = rng.choice(kept)
            upsert_articles(
                store, embedder, [parse_article({**target, "title": f"{target['title']} (updated)"})], recipe
            )
        elif kind == "delete":
            victim = rng.choice(live)
            store.catalog.write(deletes=[victim])
            live.remove(victim)
        else:
            source, target = rng.sample(live, 2)
            store.catalog.set_override(
                Override("article", source, target, kind, 1 if kind == "pin" else None), "eval"
            )
        store.refresh()
        tick = time.perf_counter()
        report = tracker.update()
        seconds.append(time.perf_counter() - tick)
        after = every_face(tracker)
        changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
        found = store.catalog.page_changes(cursor, 1_000_000)
        cursor = found[-1].seq if found else cursor
        logged = {(c.kind, c.key) for c in found}
        changed_total += len(changed)
        logged_total += len(logged)
        hit += len(changed & logged)
        computed += report.computed if report else 0
        pages += len(after)
        before = after
    print(
        json.dumps(
            {
                "corpus": name,
                "statistics": "reloaded after each write" if reload else "held still",
                "writes": writes,
                "pages changed": changed_total,
                "pages logged": logged_total,
                "recall": round(hit / changed_total, 4) if changed_total else None,
                "precision": round(hit / logged_total, 4) if logged_total else None,
                "pages computed per write": round(computed / writes, 1),
                "pages": round(pages / writes),
                "update seconds p50": round(statistics.median(seconds), 3),
            }
        )
    )
    store.close()


def scaled(total: int, new: int, seed: int = 3) -> None:
    source = WORK.parent / "seealso-bench" / f"scaled-v2-{total}"
    if not (source / "manifest.json").exists():
        sys.exit(f"{source} is missing: run scripts/bench_service.py --articles {total} first")
    data_dir = WORK / f"scaled-{total}"
    if not (data_dir / "manifest.json").exists():
        shutil.copytree(source, data_dir)
    store = Store.open(data_dir)
    settings = Settings(data_dir=data_dir)
    ranker = Ranker(store, rules=settings.list_rules())
    tracker = PageTracker(ranker, Keywords(ranker, refresh_seconds=0), workers=2)
    if store.catalog.page_state()[0] < 0:
        started = time.perf_counter()
        report = tracker.update()
        assert report is not None
        print(
            f"every page of {total} articles built in {time.perf_counter() - started:.0f}s"
            f" ({report.computed} pages)",
            file=sys.stderr,
        )
    tracker.workers = 1  # as a server computes them
    vids, vectors = store.all_vectors()
    rng = np.random.default_rng(seed)
    seconds, candidates, changed = [], [], []
    for number in range(new):
        pick = int(rng.integers(0, len(vids)))
        base = store.catalog.get_by_vids([int(vids[pick])])[int(vids[pick])].article
        vector = normalize(
            vectors[pick : pick + 1] + 0.75 * normalize(rng.standard_normal((1, vectors.shape[1])))
        )[0]
        article = parse_article(
            {"id": f"feed-new-{seed}-{number}", "title": f"{base.title} (new)", "summary": base.summary,
             "keywords": list(base.keywords), "section": base.section, "language": base.language,
             "published_at": "2026-11-30"}
        )  # fmt: skip
        store.catalog.write([Write(article, "synthetic", article.record_hash(), vector)])
        store.refresh()
        tick = time.perf_counter()
        report = tracker.update()
        seconds.append(time.perf_counter() - tick)
        assert report is not None
        candidates.append(report.candidates)
        changed.append(report.changed)
    print(
        json.dumps(
            {
                "articles": total,
                "new articles": new,
                "seconds p50": round(float(np.percentile(seconds, 50)), 3),
                "seconds p99": round(float(np.percentile(seconds, 99)), 3),
                "pages computed p50": int(np.percentile(candidates, 50)),
                "pages computed p99": int(np.percentile(candidates, 99)),
                "pages changed p50": int(np.percentile(changed, 50)),
            }
        )
    )
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--writes", type=int, default=36)
    parser.add_argument("--corpora", default="demo,bbc")
    parser.add_argument("--scaled", type=int, default=0, help="also time the feed at this many articles")
    parser.add_argument("--new", type=int, default=50)
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    for name in filter(None, args.corpora.split(",")):
        for reload in (False, True):
            quality(name, args.writes, reload)
    if args.scaled:
        scaled(args.scaled, args.new)


if __name__ == "__main__":
    main()
