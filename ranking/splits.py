"""Keywords that may mix two subjects: their articles fall into two clear groups.

A keyword's articles (their unit vectors) are split in two by spherical 2-means, and the split is
judged by its prediction strength (Tibshirani and Walther, "Cluster validation by prediction
strength", 2005): the articles are halved at random; each half is split in two; the first half's
two centres then assign the second half's articles, and the strength is the share of pairs that
the second half's own split puts together and the first half's centres put together too (the
smaller of its two groups' shares, averaged over several halvings). Two groups that are really
there come out the same from either half, near 1; a subject with no such seam gives splits that
disagree. The paper reads strengths from 0.8 to 0.9 as support for the groups; a split is
suggested from the upper end (STRONG), since an editor is asked to act on it.

Each group is described by the keywords its articles carry more than the other group's do, and by
the articles nearest its centre. The articles' languages are taken out first
(`without_languages`): one subject in two languages is one subject. `scripts/eval_splits.py`
measures it.
"""

from __future__ import annotations

import threading
import warnings
import weakref
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.cluster.vq import kmeans2

from seealso.errors import KeywordNotFound
from seealso.ranking.keywords import Keywords

STRONG = 0.9  # the prediction strength from which a split is suggested (see the module)
MIN_ARTICLES = 16  # fewer cannot be halved into halves that each split in two groups of 4
SAMPLE = 400  # articles of a keyword looked at, at most (sampled)
ROUNDS = 10  # random halvings averaged
EXAMPLES = 3


@dataclass(frozen=True)
class Group:
    size: int  # articles of the sample in this group
    keywords: list[str]  # the keywords its articles carry more than the other group's
    examples: list[tuple[str, str]]  # (id, title) of the articles nearest its centre


@dataclass(frozen=True)
class Split:
    keyword: str
    articles: int  # tagged with it
    strength: float
    groups: tuple[Group, Group]

    @property
    def suggested(self) -> bool:
        return self.strength >= STRONG

    def to_dict(self) -> dict[str, Any]:
        return {
            "keyword": self.keyword,
            "articles": self.articles,
            "strength": round(self.strength, 4),
            "suggested": self.suggested,
            "groups": [
                {
                    "size": g.size,
                    "keywords": g.keywords,
                    "examples": [{"id": i, "title": t} for i, t in g.examples],
                }
                for g in self.groups
            ],
        }


def two_groups(vectors: np.ndarray, rng: np.random.Generator, tries: int = 4) -> np.ndarray | None:
    """The two centres (unit rows) of spherical 2-means on unit `vectors`, the best of `tries`
    starts by the summed cosine to the nearest centre; None when no start gives two groups."""
    best: tuple[float, np.ndarray] | None = None
    for _ in range(tries):
        with warnings.catch_warnings():  # an empty cluster is one more start, not a warning
            warnings.simplefilter("ignore")
            _, labels = kmeans2(vectors, 2, seed=int(rng.integers(2**31)), minit="++")
        if len(set(labels.tolist())) < 2:
            continue
        centres = np.stack([vectors[labels == g].mean(axis=0) for g in (0, 1)])
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        cosines = vectors @ centres.T
        if len(set(np.argmax(cosines, axis=1).tolist())) < 2:
            continue
        fit = float(cosines.max(axis=1).sum())
        if best is None or fit > best[0]:
            best = (fit, centres)
    return None if best is None else best[1]


def prediction_strength(vectors: np.ndarray, rounds: int = ROUNDS, seed: int = 0) -> float:
    """The prediction strength of two groups in unit `vectors` (see the module)."""
    rng = np.random.default_rng(seed)
    n = len(vectors)
    strengths = []
    for _ in range(rounds):
        order = rng.permutation(n)
        train, test = vectors[order[: n // 2]], vectors[order[n // 2 :]]
        fitted, own = two_groups(train, rng), two_groups(test, rng)
        if fitted is None or own is None:
            strengths.append(0.0)
            continue
        predicted = np.argmax(test @ fitted.T, axis=1)
        labels = np.argmax(test @ own.T, axis=1)
        shares = []
        for group in (0, 1):
            members = predicted[labels == group]
            if len(members) < 2:
                shares.append(0.0)
                continue
            together = np.bincount(members, minlength=2)
            shares.append(float((together * (together - 1)).sum()) / (len(members) * (len(members) - 1)))
        strengths.append(min(shares))
    return float(np.mean(strengths))


def without_languages(vectors: np.ndarray, languages: list[str]) -> np.ndarray:
    """Unit vectors with each language's offset taken out: the articles of each language moved so
    that their mean is the mean of all. A multilingual model keeps the editions of one story in
    two languages apart by a little; a keyword's French and English articles would otherwise make
    two groups of one subject."""
    out = vectors.astype(np.float64)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    mean = out.mean(axis=0)
    spoken = np.asarray(languages)
    if len(set(languages)) > 1:
        for language in set(languages):
            rows = spoken == language
            out[rows] += mean - out[rows].mean(axis=0)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


# The splits made, by Keywords (a weak key: none outlives its Keywords), then by statistics state.
_made: weakref.WeakKeyDictionary[Keywords, OrderedDict[tuple[int, str, int], Split | None]] = (
    weakref.WeakKeyDictionary()
)
_made_lock = threading.Lock()
KEPT = 512


def split(keywords: Keywords, keyword: str, *, seed: int = 0) -> Split | None:
    """The best split of `keyword`'s articles in two, with its strength; None below MIN_ARTICLES.
    Raises KeywordNotFound for a keyword no article carries. Kept as long as the keyword
    statistics are (they refresh at most every SEEALSO_KEYWORD_REFRESH_SECONDS), so that a busy
    site's writes do not make every desk and keyword page compute it again."""
    catalog = keywords.store.catalog
    key = (keywords.stats().seq, catalog.canonical_key(keyword), seed)
    with _made_lock:
        kept = _made.setdefault(keywords, OrderedDict())
        if key in kept:
            kept.move_to_end(key)
            return kept[key]
    made = _split(keywords, keyword, seed)
    with _made_lock:
        kept[key] = made
        while len(kept) > KEPT:
            kept.popitem(last=False)
    return made


def _split(keywords: Keywords, keyword: str, seed: int) -> Split | None:
    store = keywords.store
    catalog = store.catalog
    if catalog.keyword_name(keyword) is None:
        raise KeywordNotFound(keyword)
    name = keywords.display_name(keyword)
    vids = catalog.vids_with_keyword(keyword)
    if len(vids) < MIN_ARTICLES:
        return None
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(np.asarray(vids, dtype=np.int64), size=min(SAMPLE, len(vids)), replace=False))
    held, vectors = store.vectors(sample)
    entries = catalog.get_by_vids(held.tolist(), bodies=False)
    kept = np.asarray([int(v) in entries for v in held], dtype=bool)  # deleted meanwhile: left out
    held, vectors = held[kept], vectors[kept]
    if len(held) < MIN_ARTICLES:
        return None
    vectors = without_languages(vectors, [entries[int(v)].article.language for v in held])
    centres = two_groups(vectors, rng)
    if centres is None:
        return None
    strength = prediction_strength(vectors, seed=seed)
    cosines = vectors @ centres.T
    labels = np.argmax(cosines, axis=1)
    own = catalog.canonical_key(keyword)
    counts = []
    for group in (0, 1):
        found: Counter[str] = Counter()
        for vid in held[labels == group].tolist():
            article = entries[vid].article
            found.update({catalog.canonical_key(k) for k in article.keywords} - {own})
        counts.append(found)
    groups = []
    for group in (0, 1):
        size, other = int((labels == group).sum()), int((labels != group).sum())
        lift = {k: c / size - counts[1 - group][k] / max(other, 1) for k, c in counts[group].items()}
        telling = [k for k in sorted(lift, key=lambda k: (-lift[k], k)) if lift[k] > 0][:3]
        members = np.flatnonzero(labels == group)
        nearest = members[np.argsort(-cosines[members, group], kind="stable")][:EXAMPLES]
        examples = [(entries[int(held[i])].article.id, entries[int(held[i])].article.title) for i in nearest]
        names = [catalog.keyword_name(k) or k for k in telling]
        groups.append(Group(size, names, examples))
    return Split(name, len(vids), strength, (groups[0], groups[1]))


def suggest_splits(keywords: Keywords, limit: int = 10, looked_at: int = 12) -> list[Split]:
    """Splits to suggest among the `looked_at` most used keywords, strongest first."""
    stats = keywords.stats()
    order = np.argsort(-np.asarray(stats.counts), kind="stable")[:looked_at]
    found = []
    for index in order.tolist():
        if stats.counts[index] < MIN_ARTICLES:
            break
        try:
            made = split(keywords, stats.keys[index])
        except KeywordNotFound:  # gone since the statistics were made
            continue
        if made is not None and made.suggested:
            found.append(made)
    return sorted(found, key=lambda s: -s.strength)[:limit]


__all__ = ["STRONG", "Group", "Split", "prediction_strength", "split", "suggest_splits", "without_languages"]
