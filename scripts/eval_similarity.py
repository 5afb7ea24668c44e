#!/usr/bin/env python
"""Agreement of seealso's relevance score with human judgments (SemEval-2022 Task 8, dev.csv).

Indexes every article of the judged pairs (id = each half of `pair_id`, body = text, language =
lang) with the real indexing pipeline, scores each pair through the same code as `check-links`,
and prints Pearson and Spearman correlations with -Overall (1 = very similar ... 4 = very
dissimilar) for en-en, fr-fr, all monolingual pairs, all cross-lingual pairs and all pairs.

    python scripts/eval_similarity.py                       # default model and recipe
    python scripts/eval_similarity.py --max-chunks 1        # compare a recipe
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import shared_file
from scipy.stats import pearsonr, spearmanr

from seealso.config import DEFAULT_MODEL
from seealso.embeddings import load_embedder
from seealso.embeddings.document import DocumentRecipe
from seealso.indexer.reader import validate_record
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store
from seealso.ranking import Ranker


def article(article_id: str, text: str, language: str) -> dict[str, str]:
    """An article from a dev.csv text, which is the title followed by the body: the title is taken
    as the first sentence (at most 25 words), the body is the whole text."""
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    return {"id": article_id, "title": " ".join(first.split()[:25]), "body": text, "language": language}


def load_pairs(path: Path) -> tuple[list[dict[str, str]], dict[str, dict[str, str]]]:
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf-8", newline="") as stream:
        pairs = list(csv.DictReader(stream))
    articles: dict[str, dict[str, str]] = {}
    for pair in pairs:
        first, second = pair["pair_id"].split("_")
        articles.setdefault(first, article(first, pair["text1"], pair["lang1"]))
        articles.setdefault(second, article(second, pair["text2"], pair["lang2"]))
    return pairs, articles


def correlations(
    pairs: list[dict[str, str]], scores: dict[str, float]
) -> list[tuple[str, int, float, float]]:
    groups = {
        "en-en": lambda p: p["lang1"] == p["lang2"] == "en",
        "fr-fr": lambda p: p["lang1"] == p["lang2"] == "fr",
        "monolingual": lambda p: p["lang1"] == p["lang2"],
        "cross-lingual": lambda p: p["lang1"] != p["lang2"],
        "all": lambda p: True,
    }
    rows = []
    for name, keep in groups.items():
        chosen = [p for p in pairs if keep(p) and p["pair_id"] in scores]
        ours = np.array([scores[p["pair_id"]] for p in chosen])
        human = -np.array([float(p["Overall"]) for p in chosen])
        rows.append((name, len(chosen), float(pearsonr(ours, human)[0]), float(spearmanr(ours, human)[0])))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=None, help="dev.csv (default ../shared/data/...)")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--max-chunks", type=int, default=DocumentRecipe().max_chunks)
    parser.add_argument("--lead-weight", type=float, default=DocumentRecipe().lead_weight)
    parser.add_argument("--token-budget", type=float, default=DocumentRecipe().token_budget)
    parser.add_argument("--title-weight", type=float, default=DocumentRecipe().title_weight)
    parser.add_argument("--components", action="store_true", help="also score each component alone")
    parser.add_argument("--model-languages", default=None, help="languages the model reads, or * (all)")
    parser.add_argument("--backend", default="auto", help="auto (OpenVINO on a CPU), torch or openvino")
    parser.add_argument("--precision", default="auto", help="OpenVINO's arithmetic: auto, fp32, bf16 or int8")
    parser.add_argument("--data-dir", type=Path, default=None, help="keep the index here (default: temp)")
    args = parser.parse_args()

    pairs, articles = load_pairs(args.data or shared_file("semeval2022-task8/dev.csv"))
    recipe = DocumentRecipe(args.max_chunks, args.lead_weight, args.token_budget, args.title_weight)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        store = Store.open(data_dir, create=True)
        embedder = load_embedder(
            args.model,
            device="cpu",
            languages=args.model_languages,
            backend=args.backend,
            cache_dir=data_dir / "models",
            precision=args.precision,
        )
        started = time.perf_counter()
        items = (validate_record(n, a) for n, a in enumerate(articles.values(), start=1))
        report = index_articles(store, embedder, items, recipe=recipe)
        seconds = time.perf_counter() - started
        for rejected in report.rejected:
            print(f"rejected {rejected}", file=sys.stderr)
        ranker = Ranker(store)
        languages = store.model_languages
        links = [tuple(p["pair_id"].split("_")) for p in pairs]
        checks = ranker.check_links(links, weak=0.0, strong=1.0)  # type: ignore[arg-type]
        hybrid = {f"{c.source}_{c.target}": c.score for c in checks if c.score is not None}
        scores = {"hybrid (seealso)": hybrid}
        if args.components:
            parts = {pid: ranker.relevance(*pid.split("_")) for pid in hybrid}
            scores["dense"] = {pid: r.dense for pid, r in parts.items()}
            scores["lexical (sqrt)"] = {pid: r.lexical**0.5 for pid, r in parts.items()}
            scores["names (sqrt)"] = {pid: r.names**0.5 for pid, r in parts.items()}
        store.close()

    reads = ", ".join(sorted(languages)) if languages else "all languages"
    print(f"model {embedder.name} ({embedder.runtime}; reads: {reads})")
    print(
        f"recipe {recipe.identity}; {len(articles)} articles indexed in {seconds:.0f}s ({report.summary()})"
    )
    print(f"{'score':<18} {'pairs':<12} {'n':>5} {'pearson':>8} {'spearman':>8}")
    for method, values in scores.items():
        for name, n, pearson, spearman in correlations(pairs, values):
            print(f"{method:<18} {name:<12} {n:>5} {pearson:>8.3f} {spearman:>8.3f}")


if __name__ == "__main__":
    main()
