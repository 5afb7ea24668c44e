#!/usr/bin/env python
"""Suggested keyword splits (ranking.splits) against keywords made by merging two, with the real
model.

Positives: for every pair of keywords with no article in common, both with at least half of
ranking.splits.MIN_ARTICLES articles, a keyword made of the two (up to 200 articles from each):
a split should be suggested, and should give back the two keywords (`recovered`: the share of
its articles on the side of their own keyword). Real keywords, as the site tags them: how many get
a split suggested (some do mix two subjects: their groups are printed, to read). On the demo
corpus (editors' keywords) and on ../shared/data/bbc-news.jsonl (its five sections as keywords).

    python scripts/eval_splits.py [--corpora demo,bbc] [--pairs 40]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import time

import numpy as np
from eval_suggestions import data_dir

from seealso.config import Settings
from seealso.indexer.store import Store
from seealso.ranking import Keywords, Ranker
from seealso.ranking.splits import (
    MIN_ARTICLES,
    STRONG,
    prediction_strength,
    split,
    two_groups,
    without_languages,
)


def evaluate(name: str, pairs: int) -> None:
    path = data_dir(name)
    store = Store.open(path)
    settings = Settings(data_dir=path)
    keywords = Keywords(Ranker(store, rules=settings.list_rules()))
    stats = keywords.stats()
    tagged = {key: store.catalog.vids_with_keyword(key) for key in stats.keys}
    started = time.perf_counter()
    real = [split(keywords, key) for key in stats.keys if len(tagged[key]) >= MIN_ARTICLES]
    real = [s for s in real if s is not None]
    for s in sorted(real, key=lambda s: -s.strength):
        if s.suggested:
            print(json.dumps({"corpus": name, "real keyword split": s.to_dict()}, ensure_ascii=False))
    seconds = (time.perf_counter() - started) / max(len(real), 1)
    rng = random.Random(0)
    small = [k for k in stats.keys if len(tagged[k]) >= MIN_ARTICLES // 2]
    candidates = [(a, b) for a, b in itertools.combinations(small, 2) if not set(tagged[a]) & set(tagged[b])]
    rng.shuffle(candidates)
    merged = []
    for a, b in candidates[:pairs]:
        vids = [*tagged[a][:200], *tagged[b][:200]]
        held, vectors = store.vectors(np.asarray(vids, dtype=np.int64))
        entries = store.catalog.get_by_vids(held.tolist(), bodies=False)
        vectors = without_languages(vectors, [entries[int(v)].article.language for v in held])
        truth = np.isin(held, tagged[a][:200])
        strength = prediction_strength(vectors)
        centres = two_groups(vectors, np.random.default_rng(0))
        side = np.argmax(vectors @ centres.T, axis=1) == 0 if centres is not None else truth
        recovered = max(float(np.mean(side == truth)), float(np.mean(side != truth)))
        merged.append((strength, recovered))
    print(
        json.dumps(
            {
                "corpus": name,
                "threshold": STRONG,
                "real keywords": len(real),
                "real split suggested": sum(s.suggested for s in real),
                "real at 0.8": sum(s.strength >= 0.8 for s in real),
                "real median strength": round(statistics.median(s.strength for s in real), 3)
                if real
                else None,
                "merged pairs": len(merged),
                "merged split suggested": sum(s >= STRONG for s, _ in merged),
                "merged at 0.8": sum(s >= 0.8 for s, _ in merged),
                "merged median strength": round(statistics.median(s for s, _ in merged), 3)
                if merged
                else None,
                "recovered (suggested ones)": round(statistics.mean(r for s, r in merged if s >= STRONG), 3)
                if any(s >= STRONG for s, _ in merged)
                else None,
                "ms per keyword": round(1000 * seconds, 1),
            }
        )
    )
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpora", default="demo,bbc")
    parser.add_argument("--pairs", type=int, default=40)
    args = parser.parse_args()
    for name in filter(None, args.corpora.split(",")):
        evaluate(name, args.pairs)
    print("done", file=sys.stderr)


if __name__ == "__main__":
    main()
