#!/usr/bin/env python
"""Suggested keyword aliases against the demo's known ones, with the real model.

The demo corpus tags its French articles with French keywords: the pairs below name one thing in
two languages (or two spellings), written down by hand from the corpus, not from the suggestions.
Reported: precision@10 and @20 of the suggested pairs (the share among the known ones), and
recall@N (N = how many known pairs the corpus holds: the share of them among the first N), and
where each known pair ranks.

    python scripts/eval_aliases.py
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from seealso.config import Settings
from seealso.demo import ARTICLES
from seealso.indexer.article import keyword_key
from seealso.indexer.reader import read_articles
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store
from seealso.ranking import Keywords, Ranker
from seealso.ranking.aliases import suggest_aliases

WORK = Path(tempfile.gettempdir()) / "seealso-eval-aliases"

# One thing, two names: English and French keywords of the demo, and spellings of one name.
KNOWN = [
    ("ECOWAS", "CEDEAO"), ("junta", "junte"), ("economy", "économie"), ("terrorism", "terrorisme"),
    ("elections", "élections"), ("climate", "climat"), ("Olympics", "Jeux olympiques"),
    ("cocoa", "cacao"), ("coup", "coup d'État"), ("floods", "inondations"), ("mining", "mines"),
    ("gold", "or"), ("cinema", "cinéma"), ("artificial intelligence", "intelligence artificielle"),
    ("press freedom", "liberté de la presse"), ("protests", "manifestations"), ("migration", "migrations"),
    ("museums", "musées"), ("hostages", "otages"), ("regulation", "régulation"), ("Cameroon", "Cameroun"),
    ("spyware", "logiciel espion"), ("drought", "sécheresse"), ("Africa Cup of Nations", "CAN"),
]  # fmt: skip


def main() -> None:
    data_dir = WORK / "demo"
    if not (data_dir / "manifest.json").exists():
        shutil.rmtree(data_dir, ignore_errors=True)
        store = Store.open(data_dir, create=True)
        index_articles(store, Settings(data_dir=data_dir).load_embedder(), read_articles(str(ARTICLES)))
        store.close()
    store = Store.open(data_dir)
    settings = Settings(data_dir=data_dir)
    keywords = Keywords(Ranker(store, rules=settings.list_rules()))
    used = set(store.catalog.keyword_keys())
    known = {frozenset((keyword_key(a), keyword_key(b))) for a, b in KNOWN}
    known = {pair for pair in known if pair <= used}
    started = time.perf_counter()
    found = suggest_aliases(keywords, 500)
    seconds = time.perf_counter() - started
    ranked = [frozenset(s.keys) for s in found]
    hits = [pair in known for pair in ranked]
    rank = {pair: n for n, pair in enumerate(ranked, start=1)}
    print(
        json.dumps(
            {
                "corpus": "demo",
                "keywords": len(used),
                "known pairs": len(known),
                "suggested": len(found),
                "precision@10": round(sum(hits[:10]) / 10, 3),
                "precision@20": round(sum(hits[:20]) / 20, 3),
                f"recall@{len(known)}": round(sum(hits[: len(known)]) / len(known), 3),
                "recall (all suggested)": round(sum(hits) / len(known), 3),
                "seconds": round(seconds, 2),
            }
        )
    )
    for pair in sorted(known, key=lambda p: rank.get(p, 10**6)):
        print(f"  {rank.get(pair, '-'):>4}  {' / '.join(sorted(pair))}", file=sys.stderr)
    store.close()


if __name__ == "__main__":
    main()
