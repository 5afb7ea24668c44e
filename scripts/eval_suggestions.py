#!/usr/bin/env python
"""Suggested keywords against the keywords articles carry, with the real model.

For each article that carries keywords, they are hidden (left out of its neighbours' votes and
of the keyword centroids: `KeywordSuggester.suggest(hide=True)`), keywords are suggested from the
rest of the site's vocabulary, and the suggestions are compared with the hidden ones:
  - precision@1 and @3: of the first 1 or 3 suggestions, the share among the hidden keywords;
  - recall@5: of the hidden keywords (those the rest of the site also uses), the share in the
    first 5.
On the demo corpus (editors' keywords, English and French) and on ../shared/data/bbc-news.jsonl
(its five sections as keywords: a single keyword each, so precision@3 is at most 1/3). Beside the
score (the mean of the three kinds of evidence), each evidence alone, to show what each adds.

    python scripts/eval_suggestions.py [--corpora demo,bbc]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import corpus_records as records

from seealso.config import Settings
from seealso.indexer.article import keyword_key
from seealso.indexer.reader import validate_record
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store
from seealso.ranking import Keywords, Ranker
from seealso.ranking.suggestions import KeywordSuggester, SuggestedKeyword

WORK = Path(tempfile.gettempdir()) / "seealso-eval-suggestions"

RANKINGS: dict[str, Callable[[SuggestedKeyword], float]] = {
    "score (mean of the three)": lambda s: s.score,
    "neighbours alone": lambda s: s.neighbours,
    "centroid alone": lambda s: s.centroid,
    "text alone": lambda s: s.text + 1e-3 * s.centroid,  # ties broken by the centroid
}


def data_dir(name: str) -> Path:
    """The corpus indexed once with the default model (kept in WORK for later runs)."""
    path = WORK / name
    if not (path / "manifest.json").exists():
        started = time.perf_counter()
        store = Store.open(path, create=True)
        settings = Settings(data_dir=path)
        items = [validate_record(n, r) for n, r in enumerate(records(name), 1)]
        index_articles(store, settings.load_embedder(), iter(items))
        store.close()
        print(f"{name}: indexed in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    return path


def evaluate(name: str) -> None:
    path = data_dir(name)
    store = Store.open(path)
    settings = Settings(data_dir=path)
    ranker = Ranker(store, rules=settings.list_rules())
    keywords = Keywords(ranker, min_similarity=settings.keyword_min_similarity)
    suggester = KeywordSuggester(ranker, keywords)
    stats = keywords.stats()
    totals = {label: [0.0, 0.0, 0.0] for label in RANKINGS}
    articles = 0
    started = time.perf_counter()
    for entry in store.catalog.get_by_vids(store.index().vids().tolist(), bodies=False).values():
        # The hidden keywords that the rest of the site uses (a keyword only it carries cannot be
        # suggested from the site's vocabulary).
        hidden = {
            key
            for key in {keyword_key(k) for k in entry.article.keywords}
            if key in stats.position and stats.counts[stats.position[key]] > 1
        }
        if not hidden:
            continue
        articles += 1
        found = suggester.suggest(entry.article.id, 1000, hide=True)
        for label, rank in RANKINGS.items():
            ordered = [keyword_key(s.keyword) for s in sorted(found, key=lambda s: (-rank(s), s.keyword))]
            totals[label][0] += ordered[0] in hidden if ordered else 0
            totals[label][1] += len(hidden.intersection(ordered[:3])) / 3
            totals[label][2] += len(hidden.intersection(ordered[:5])) / len(hidden)
    seconds = time.perf_counter() - started
    for label, (p1, p3, r5) in totals.items():
        print(
            json.dumps(
                {
                    "corpus": name,
                    "ranking": label,
                    "articles": articles,
                    "precision@1": round(p1 / articles, 3),
                    "precision@3": round(p3 / articles, 3),
                    "recall@5": round(r5 / articles, 3),
                }
            )
        )
    print(
        f"{name}: {articles} articles in {seconds:.1f}s ({1000 * seconds / articles:.1f} ms each)",
        file=sys.stderr,
    )
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpora", default="demo,bbc")
    args = parser.parse_args()
    for name in filter(None, args.corpora.split(",")):
        evaluate(name)


if __name__ == "__main__":
    main()
