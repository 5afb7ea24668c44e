#!/usr/bin/env python
"""Same-section precision@k of related lists on ../shared/data/bbc-news.jsonl.

Indexes the 2,225 BBC articles (five sections) with the real pipeline and, for every article,
counts how many of its k related articles share its section. Also reports how many of the 98
exact duplicate texts have their twin as the first related item.

    python scripts/eval_sections.py --max-chunks 1
"""

from __future__ import annotations

import argparse
import collections
import json
import tempfile
import time
from pathlib import Path

from _common import shared_file

from embeddings import load_embedder
from embeddings.document import DocumentRecipe
from indexer.reader import read_articles
from indexer.runner import index_articles
from indexer.store import Store
from ranking import Ranker
from seealso.config import DEFAULT_MODEL


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--max-chunks", type=int, default=DocumentRecipe().max_chunks)
    parser.add_argument("--lead-weight", type=float, default=DocumentRecipe().lead_weight)
    parser.add_argument("--token-budget", type=float, default=DocumentRecipe().token_budget)
    args = parser.parse_args()

    source = shared_file("bbc-news.jsonl")
    recipe = DocumentRecipe(args.max_chunks, args.lead_weight, args.token_budget)
    articles = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
    by_body = collections.defaultdict(list)
    for article in articles:
        by_body[article["body"].strip()].append(article["id"])
    twins = {i: set(ids) - {i} for ids in by_body.values() if len(ids) > 1 for i in ids}

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "data", create=True)
        started = time.perf_counter()
        index_articles(
            store, load_embedder(args.model, device="cpu"), read_articles(str(source)), recipe=recipe
        )
        seconds = time.perf_counter() - started
        ranker = Ranker(store)
        section = {a["id"]: a["section"] for a in articles}
        hits = total = twin_first = 0
        for article in articles:
            items = ranker.related(article["id"], k=args.k).items
            hits += sum(section[i.article.id] == article["section"] for i in items)
            total += len(items)
            if article["id"] in twins and items and items[0].article.id in twins[article["id"]]:
                twin_first += 1
        store.close()
    print(f"model {args.model}, recipe {recipe.identity}, indexed in {seconds:.0f}s")
    print(f"same-section precision@{args.k}: {hits / total:.4f} over {len(articles)} articles")
    print(f"exact duplicates with their twin first: {twin_first}/{len(twins)}")


if __name__ == "__main__":
    main()
