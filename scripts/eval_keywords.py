#!/usr/bin/env python
"""Keyword pages on ../shared/data/bbc-news.jsonl: which untagged articles join, against the threshold.

A keyword page lists the articles tagged with the keyword, then untagged ones "clearly about the
subject": calibrated similarity to the tagged articles' centroid at least
SEEALSO_KEYWORD_MIN_SIMILARITY (0 is a random article, 1 a tagged one's twin). This script tags
a random half of the 2,225 BBC articles with their section (business, entertainment, politics,
sport, tech) and leaves the other half untagged, then for each section and threshold reports
  - precision: the share of the untagged articles that join the page that are of its section,
  - recall: the share of the section's untagged articles that join,
and the strays (another section's articles) in each page as served (`Keywords.articles`, top
--page-k; tagged articles come first, so a thinly tagged run, --tagged 0.05, shows untagged ones).
A site's tags are finer than BBC's five sections, so precision matters more than recall here: a
page should be shorter rather than padded.

Then the same on the demo corpus's own keywords, for each threshold: the untagged articles on the
pages (top 20) that are on the subject (of the story thread of one of the page's tagged articles)
and the strays.

    python scripts/eval_keywords.py [--model M] [--tagged 0.5]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

import numpy as np
from _common import shared_file

from seealso.config import DEFAULT_MODEL, Settings
from seealso.demo import ARTICLES
from seealso.embeddings import Embedder, load_embedder
from seealso.embeddings.base import normalize
from seealso.indexer.reader import read_articles, validate_record
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store
from seealso.ranking import Keywords, Ranker

THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument(
        "--tagged", type=float, default=0.5, help="share of articles tagged with their section"
    )
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--page-k", type=int, default=60, help="page length to count strays in")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    records = [
        json.loads(line) for line in shared_file("bbc-news.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    section = {r["id"]: r["section"] for r in records}
    tagged = {r["id"] for r in records if rng.random() < args.tagged}
    for record in records:
        record["keywords"] = [record["section"]] if record["id"] in tagged else []
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "data", create=True)
        embedder = load_embedder(args.model, device="cpu", backend="auto", cache_dir=Path(tmp) / "models")
        index_articles(store, embedder, (validate_record(n, r) for n, r in enumerate(records, start=1)))
        keywords = Keywords(
            Ranker(store, embedder, rules=settings.list_rules()),
            min_similarity=settings.keyword_min_similarity,
        )
        entries = store.catalog.get_by_vids(list(range(1, 3 * len(records))), bodies=False)
        vid_of = {e.article.id: vid for vid, e in entries.items()}
        untagged = [vid_of[i] for i in section if i not in tagged and i in vid_of]
        held, vectors = store.vectors(np.asarray(untagged, dtype=np.int64))
        sections = sorted(set(section.values()))
        print(f"model {embedder.name}; {len(records)} BBC articles, {len(tagged)} tagged with their section")
        print("untagged articles joining a page, all sections:")
        print(f"{'threshold':>9} {'precision':>9} {'recall':>7} {'joined':>7}")
        joined: dict[float, list[tuple[bool, int]]] = {t: [] for t in THRESHOLDS}
        for name in sections:
            members = np.asarray(store.catalog.vids_with_keyword(name), dtype=np.int64)
            _, tagged_vectors = store.vectors(members)
            center = normalize(tagged_vectors.mean(axis=0, keepdims=True))[0]
            cosines = dict(zip(held.tolist(), (vectors @ center).tolist(), strict=True))
            similarity = keywords._calibrated(cosines, center)
            for threshold in THRESHOLDS:
                for vid, value in similarity.items():
                    if value >= threshold:
                        joined[threshold].append((section[entries[vid].article.id] == name, vid))
        total = {
            name: sum(1 for v in held.tolist() if section[entries[v].article.id] == name) for name in sections
        }
        for threshold in THRESHOLDS:
            right = sum(ok for ok, _ in joined[threshold])
            count = len(joined[threshold])
            precision = right / count if count else 1.0
            print(f"{threshold:>9.2f} {precision:>9.3f} {right / sum(total.values()):>7.3f} {count:>7}")
        print(f"\nBBC pages as served (threshold {keywords.min_similarity}): strays in the top {args.page_k}")
        for name in sections:
            page = keywords.articles(name, k=args.page_k)
            strays = [i.article.id for i in page.items if section[i.article.id] != name]
            untagged_shown = sum(1 for i in page.items if i.article.id not in tagged)
            shown = f"{untagged_shown} untagged of {len(page.items)}"
            print(f"  {name:<14} {len(strays)} strays, {shown} {strays[:3]}")
        store.close()
        demo(embedder, settings, Path(tmp) / "demo")


def demo(embedder: Embedder, settings: Settings, data_dir: Path) -> None:
    """The demo corpus's own keywords: an untagged article on a page is on its subject when it
    belongs to the story thread of one of the page's tagged articles (ids are THREAD-NN-LANG)."""
    store = Store.open(data_dir, create=True)
    index_articles(store, embedder, read_articles(str(ARTICLES)))
    entries = store.catalog.get_by_vids(list(range(1, 1000)), bodies=False)
    names = sorted({k for e in entries.values() for k in e.article.keywords})
    print(f"\ndemo corpus, {len(names)} keywords: untagged articles on their pages (top 20)")
    print(f"{'threshold':>9} {'on subject':>10} {'strays':>7} {'pages with a stray':>19}")
    for threshold in THRESHOLDS:
        keywords = Keywords(Ranker(store, embedder, rules=settings.list_rules()), min_similarity=threshold)
        on, off, pages = 0, 0, 0
        for name in names:
            page = keywords.articles(name, k=20)
            untagged = [i for i in page.items if not i.reasons["tagged"]]
            threads = {thread(i.article.id) for i in page.items if i.reasons["tagged"]}
            strays = [i for i in untagged if thread(i.article.id) not in threads]
            on += len(untagged) - len(strays)
            off += len(strays)
            pages += bool(strays)
        print(f"{threshold:>9.2f} {on:>10} {off:>7} {pages:>19}")
    store.close()


def thread(article_id: str) -> str:
    parts = article_id.split("-")
    return "-".join(parts[: next((i for i, p in enumerate(parts) if p.isdigit()), len(parts))])


if __name__ == "__main__":
    main()
