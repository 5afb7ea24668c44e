"""Helpers shared by the evaluation and benchmark scripts (not part of the installed package)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


def shared_file(relative: str) -> Path:
    """A file of ../shared/data, or exit with a clear message when it is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        sys.exit(f"{path} is missing: these scripts read the research data sets from ../shared/data")
    return path


def corpus_records(name: str) -> list[dict[str, object]]:
    """The records of the demo corpus (`demo`) or of ../shared/data/bbc-news.jsonl (`bbc`, its
    section as each article's one keyword)."""
    import json

    from seealso.demo import ARTICLES

    path = ARTICLES if name == "demo" else shared_file("bbc-news.jsonl")
    found = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if name == "bbc":
        for record in found:
            record["keywords"] = [record["section"]]
    return found
