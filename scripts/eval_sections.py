#!/usr/bin/env python
"""Related lists on ../shared/data/bbc-news.jsonl: same-section precision@k and duplicate collapse.

Indexes the 2,225 BBC articles (five sections) plus near-duplicates made from 150 of them (an
updated version with a paragraph dropped and a sentence added, and a syndicated copy with a new
headline and a word in twenty changed), then for every original article compares
  - plain dense ranking (the nearest vectors), and
  - seealso's related list (hybrid relevance, minimum score, duplicates collapsed, freshness, diversity)
on how many of the top k share the article's section, and on duplicates: an article's own copies
(the 98 exact duplicate texts of the data set, and the made ones) must not be listed as related,
and two copies of one story must not take two places in a list.

    python scripts/eval_sections.py
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import tempfile
import time
from pathlib import Path

from _common import shared_file

from seealso.config import DEFAULT_MODEL, Settings
from seealso.embeddings import load_embedder
from seealso.indexer.reader import read_articles
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store
from seealso.ranking import Ranker


def near_duplicates(articles: list[dict[str, str]], count: int, seed: int = 7) -> list[dict[str, str]]:
    rng = random.Random(seed)
    made = []
    for base in rng.sample(articles, count):
        paragraphs = [p for p in base["body"].split("\n") if p.strip()]
        update = [*paragraphs, "The company declined to comment further on Tuesday."]
        if len(paragraphs) > 3:
            update.pop(len(paragraphs) // 2)
        words = base["body"].split()
        for i in range(0, len(words), 20):
            words[i] = rng.choice(["also", "now", "reportedly", "still"])
        made.append({**base, "id": base["id"] + "-update", "body": "\n".join(update)})
        made.append(
            {
                **base,
                "id": base["id"] + "-syndicated",
                "title": "Report: " + base["title"],
                "body": " ".join(words),
            }
        )
    return made


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--made", type=int, default=150, help="articles to make near-duplicates of")
    args = parser.parse_args()

    originals = [
        json.loads(line) for line in shared_file("bbc-news.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    made = near_duplicates(originals, args.made)
    story = {a["id"]: a["body"].strip() for a in originals}
    for copy in made:
        story[copy["id"]] = story[copy["id"].rsplit("-", 1)[0]]
    copies = collections.defaultdict(set)
    for article_id, body in story.items():
        copies[body].add(article_id)
    section = {a["id"]: a["section"] for a in originals + made}

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "articles.jsonl"
        path.write_text("".join(json.dumps(a) + "\n" for a in originals + made), encoding="utf-8")
        store = Store.open(Path(tmp) / "data", create=True)
        started = time.perf_counter()
        embedder = load_embedder(
            args.model, device="cpu", backend="auto", cache_dir=Path(tmp) / "data" / "models"
        )
        index_articles(store, embedder, read_articles(str(path)))
        seconds = time.perf_counter() - started
        ranker = Ranker(store, rules=Settings().list_rules())
        results = {"dense": collections.Counter(), "seealso": collections.Counter()}
        for article in originals:
            own = copies[story[article["id"]]] - {article["id"]}
            entry = store.catalog.get(article["id"])
            assert entry is not None
            _, vids = store.search(store.vector(entry.vid), args.k + 1)  # type: ignore[arg-type]
            by_vid = store.catalog.get_by_vids([int(v) for v in vids if int(v) != entry.vid])
            lists = {
                "dense": [by_vid[int(v)].article.id for v in vids if int(v) != entry.vid][: args.k],
                "seealso": [i.article.id for i in ranker.related(article["id"], k=args.k).items],
            }
            for name, ids in lists.items():
                tally = results[name]
                tally["items"] += len(ids)
                tally["same_section"] += sum(section[i] == article["section"] for i in ids)
                tally["lists"] += 1
                if own:
                    tally["with_copies"] += 1
                    tally["copy_listed"] += any(i in own for i in ids)
                stories = [story[i] for i in ids]
                tally["story_twice"] += len(stories) != len(set(stories))
        store.close()

    print(f"{len(originals)} BBC articles + {len(made)} near-duplicates, indexed in {seconds:.0f}s")
    header = ("ranking", f"P@{args.k}", "items/list", "own copy listed", "a story twice")
    print("{:<9} {:>7} {:>10} {:>16} {:>14}".format(*header))
    for name, t in results.items():
        precision = t["same_section"] / max(1, t["items"])
        listed = f"{t['copy_listed']}/{t['with_copies']}"
        per_list = t["items"] / t["lists"]
        print(f"{name:<9} {precision:>7.4f} {per_list:>10.2f} {listed:>16} {t['story_twice']:>14}")


if __name__ == "__main__":
    main()
