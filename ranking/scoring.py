"""The relevance score of two articles: dense similarity fused with lexical and name overlap, in [0, 1].

    score = w_dense · dense + w_lexical · sqrt(lexical) + w_names · sqrt(names)

    dense   = how much closer the two article vectors are than two random articles of these
              languages: (cosine - b) / (1 - b), clipped to [0, 1], where b is the median cosine of
              random pairs of the catalog's articles in those languages. An English-only model puts
              any two French texts fairly close (b is 0.34 for French on SemEval dev, 0.07 for
              English); the baseline makes the scores of both languages comparable.
    lexical = cosine of their TF-IDF term vectors (same language only)
    names   = cosine of their TF-IDF name vectors

Terms are stemmed per language (`indexer.analysis`) and weighted by IDF among the catalog's
articles in the same language (so each language's common words weigh little); names by IDF
among all articles.
The square roots put the sparse cosines, which sit near 0 for unrelated articles, on the scale of
the dense one. The weights depend on whether the embedding model reads both articles' languages:
an English-only model's vectors of French text are weak evidence, so words and names weigh more.
Measured on SemEval-2022 Task 8 dev.csv with scripts/eval_similarity.py (see the README).
"""

from __future__ import annotations

import math
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from indexer.store import Store


@dataclass(frozen=True)
class Weights:
    dense: float
    lexical: float
    names: float


# Random pairs sampled per language pair to estimate the dense baseline, and the fewest articles a
# language needs for its own baseline.
BASELINE_PAIRS = 400
MIN_BASELINE_ARTICLES = 20

# The model reads both languages: its similarity carries most of the score.
COVERED = Weights(dense=0.8, lexical=0.1, names=0.1)
# It does not (an English-only model on French text): words and names carry most of it.
UNCOVERED = Weights(dense=0.3, lexical=0.4, names=0.3)


@dataclass(frozen=True)
class Profile:
    """An article's lexical side: L2-normalized TF-IDF weights of its terms and of its names."""

    language: str
    terms: dict[str, float]
    names: dict[str, float]


@dataclass(frozen=True)
class Relevance:
    score: float
    dense: float
    lexical: float
    names: float
    shared_names: list[str]

    def components(self) -> dict[str, float]:
        return {
            "dense": round(self.dense, 4),
            "lexical": round(self.lexical, 4),
            "names": round(self.names, 4),
        }


class Scorer:
    """Computes relevance over one store, with document frequencies reloaded at most every
    `refresh_seconds` after the catalog changes (IDF moves slowly; an article's own terms are
    always current).

    Args:
        model_languages: the languages the embedding model reads; None for all (multilingual).
    """

    def __init__(self, store: Store, model_languages: frozenset[str] | None, refresh_seconds: float = 60.0):
        self.store = store
        self.model_languages = model_languages
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._df: dict[str, dict[str, int]] = {"name": {}}
        self._docs: dict[str, int] = {}
        self._df_seq = -1
        self._df_time = 0.0
        self._profiles: dict[int, Profile] = {}
        self._profiles_seq = -1
        self._baselines: dict[tuple[str, str], float] = {}

    def weights(self, language_a: str, language_b: str) -> Weights:
        if self.model_languages is None or {language_a, language_b} <= self.model_languages:
            return COVERED
        return UNCOVERED

    # -- profiles -----------------------------------------------------------------------------------

    def _refresh(self) -> None:
        seq = self.store.catalog.seq()
        with self._lock:
            if seq != self._profiles_seq:
                if self._profiles_seq >= 0:
                    upserts, deletes = self.store.catalog.changes_since(self._profiles_seq)
                    for vid in (*upserts, *deletes):
                        self._profiles.pop(vid, None)
                self._profiles_seq = seq
            stale = seq != self._df_seq and time.monotonic() - self._df_time >= self.refresh_seconds
            if self._df_seq < 0 or stale:
                self._df = self.store.catalog.document_frequencies()
                self._docs = self.store.catalog.counts_by("language")
                self._docs["*"] = sum(self._docs.values())
                self._df_seq, self._df_time = seq, time.monotonic()
                self._profiles.clear()
                self._baselines.clear()

    def profiles(self, vids: list[int], languages: Mapping[int, str]) -> dict[int, Profile]:
        """Profiles of the articles `vids` (cached until they or the document frequencies change)."""
        self._refresh()
        missing = [v for v in vids if v not in self._profiles]
        if missing:
            for vid, (terms, names) in self.store.catalog.lexical(missing).items():
                self._profiles[vid] = self.profile(terms, names, languages.get(vid, "en"))
            if len(self._profiles) > 200_000:
                self._profiles.clear()
        return {v: self._profiles[v] for v in vids if v in self._profiles}

    def profile(self, terms: Mapping[str, int], names: Mapping[str, int], language: str) -> Profile:
        """TF-IDF weights of an article's terms (IDF among the articles in its language) and names
        (IDF among all articles)."""
        return Profile(
            language,
            self._tfidf(terms, self._df.get(f"term:{language}", {}), self._docs.get(language, 0)),
            self._tfidf(names, self._df["name"], self._docs.get("*", 0)),
        )

    @staticmethod
    def _tfidf(counts: Mapping[str, int], df: Mapping[str, int], docs: int) -> dict[str, float]:
        weights = {
            t: (1 + math.log(n)) * (math.log((docs + 1) / (df.get(t, 0) + 1)) + 1) for t, n in counts.items()
        }
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {t: w / norm for t, w in weights.items()}

    # -- scores -------------------------------------------------------------------------------------

    def baseline(self, language_a: str, language_b: str) -> float:
        """Median cosine of random pairs of articles in these two languages (of all articles when
        either language has fewer than MIN_BASELINE_ARTICLES)."""
        key = (min(language_a, language_b), max(language_a, language_b))
        self._refresh()
        value = self._baselines.get(key)
        if value is None:
            value = self._baselines[key] = self._estimate_baseline(*key)
        return value

    def _estimate_baseline(self, language_a: str, language_b: str) -> float:
        members = self.store.catalog.vids_by_language()
        side_a, side_b = members.get(language_a, []), members.get(language_b, [])
        if min(len(side_a), len(side_b)) < MIN_BASELINE_ARTICLES:
            side_a = side_b = [v for vids in members.values() for v in vids]
            if len(side_a) < MIN_BASELINE_ARTICLES:
                return 0.0
        rng = np.random.default_rng(zlib.crc32(f"{language_a}|{language_b}".encode()))
        first = rng.choice(np.asarray(side_a), BASELINE_PAIRS)
        second = rng.choice(np.asarray(side_b), BASELINE_PAIRS)
        keep = first != second
        held, vectors = self.store.vectors(np.unique(np.concatenate([first[keep], second[keep]])))
        row = {int(v): i for i, v in enumerate(held)}
        pairs = [(row[a], row[b]) for a, b in zip(first[keep].tolist(), second[keep].tolist(), strict=True)
                 if a in row and b in row]  # fmt: skip
        if not pairs:
            return 0.0
        left, right = (list(side) for side in zip(*pairs, strict=True))
        return float(np.median(np.einsum("ij,ij->i", vectors[left], vectors[right])))

    def relevance(self, dense: float, a: Profile, b: Profile) -> Relevance:
        """Fuse the dense cosine of two articles with the overlap of their profiles."""
        lexical = _cosine(a.terms, b.terms) if a.language == b.language else 0.0
        names = _cosine(a.names, b.names)
        w = self.weights(a.language, b.language)
        base = self.baseline(a.language, b.language)
        dense = max(0.0, min(1.0, (dense - base) / (1.0 - base))) if base < 0.999 else 0.0
        score = w.dense * dense + w.lexical * math.sqrt(lexical) + w.names * math.sqrt(names)
        shared = sorted(set(a.names) & set(b.names), key=lambda n: -(a.names[n] * b.names[n]))[:8]
        return Relevance(min(1.0, score), dense, lexical, names, shared)


def _cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return float(sum(w * b.get(t, 0.0) for t, w in a.items()))


def dense_matrix(vectors: np.ndarray) -> np.ndarray:
    """Pairwise cosines of unit vectors."""
    return np.asarray(vectors @ vectors.T, dtype=np.float32)
