"""Rules that turn scored candidates into the list an editor would sign: a minimum relevance,
near-duplicates collapsed, freshness, and diversity. Each item records which rule moved it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from seealso.indexer import dates
from seealso.ranking.scoring import Profile, Relevance


@dataclass(frozen=True)
class ListRules:
    """How lists are shaped (settings give the defaults; requests may change half_life_days).

    Attributes:
        min_score: an item needs at least this relevance; the list is shorter rather than padded.
        duplicate_similarity: two articles whose vectors are this close are one story (an update, a
            syndicated copy): one item. Closeness is calibrated (`Scorer.calibrate`): 0 for two
            random articles, 1 for one article, whatever the model. 0.8 lies between the demo
            corpus's two closest distinct stories (0.75) and its most rewritten update (0.87).
        half_life_days: freshness halves every so many days of age; 0 turns freshness off.
        freshness_weight: the most freshness can take off a score (0.3: an old article keeps at
            least 70% of its relevance, so a much more relevant explainer still wins).
        diversity: weight of "unlike the items above" against relevance (maximal marginal
            relevance); 0 ranks by relevance alone.
    """

    min_score: float = 0.3
    duplicate_similarity: float = 0.8
    half_life_days: float = 365.0
    freshness_weight: float = 0.3
    diversity: float = 0.1


@dataclass
class Candidate:
    vid: int
    relevance: Relevance
    vector: np.ndarray
    published_at: str | None
    freshness: float = 1.0
    collapsed: list[int] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    moves: dict[str, int] = field(default_factory=dict)  # places each rule moved it up (down: < 0)
    translations: list[int] = field(default_factory=list)  # vids of its versions in other languages
    profile: Profile | None = None

    @property
    def score(self) -> float:
        return self.relevance.score


def freshness(published_at: str | None, now: datetime, rules: ListRules) -> float:
    """1 for an article published now, falling towards 1 - freshness_weight with age."""
    if rules.half_life_days <= 0 or rules.freshness_weight <= 0:
        return 1.0
    if published_at is None:
        return 1.0 - rules.freshness_weight  # undated: no boost (it may be of any age)
    published = dates.parse(published_at)
    age_days = max(0.0, (now - published).total_seconds() / 86400)
    return 1.0 - rules.freshness_weight * (1.0 - math.pow(0.5, age_days / rules.half_life_days))


def shape(
    candidates: list[Candidate],
    k: int,
    rules: ListRules,
    now: datetime | None = None,
    calibrate: Callable[[np.ndarray, list[str], list[str]], np.ndarray] | None = None,
) -> list[Candidate]:
    """The best `k` candidates under the rules, each annotated with what moved it.

    Args:
        calibrate: turns the candidates' cosines into calibrated similarities, given their
            languages (`Scorer.calibrate`); None takes cosines as they are.
    """
    now = now or datetime.now(UTC)
    ranked = sorted((c for c in candidates if c.score >= rules.min_score), key=lambda c: -c.score)
    if not ranked:
        return []
    vectors = np.stack([c.vector for c in ranked])
    similarity = vectors @ vectors.T
    if calibrate is not None:
        languages = [c.profile.language if c.profile else "" for c in ranked]
        similarity = calibrate(similarity, languages, languages)
    stories = _collapse(ranked, similarity, rules.duplicate_similarity)
    by_relevance = {ranked[i].vid: place for place, i in enumerate(stories)}
    for i in stories:
        ranked[i].freshness = freshness(ranked[i].published_at, now, rules)
    fresh = sorted(stories, key=lambda i: -ranked[i].score * ranked[i].freshness)
    by_freshness = {ranked[i].vid: place for place, i in enumerate(fresh)}
    chosen = [ranked[i] for i in _diversify(fresh, ranked, similarity, k, rules.diversity)]
    for place, c in enumerate(chosen):
        if by_freshness[c.vid] != by_relevance[c.vid]:
            c.moved.append("freshness")
            c.moves["freshness"] = by_relevance[c.vid] - by_freshness[c.vid]
        if place != by_freshness[c.vid]:
            c.moved.append("diversity")
            c.moves["diversity"] = by_freshness[c.vid] - place
    return chosen


def _collapse(ranked: list[Candidate], similarity: np.ndarray, threshold: float) -> list[int]:
    """Merge each candidate into a more relevant one it nearly duplicates; a story is shown by its
    most recent version, at the place of its best one. Returns the indexes shown, best first."""
    near = (similarity >= threshold).tolist()  # lists are a few dozen long: plain Python is quickest
    versions: dict[int, list[int]] = {}  # a story's best version → all its versions
    for i, row in enumerate(near):
        best = next((j for j in versions if row[j]), i)
        versions.setdefault(best, []).append(i)
    stories: list[int] = []
    for members in versions.values():
        shown = max(members, key=lambda v: (ranked[v].published_at or "", -v))  # the latest version
        ranked[shown].collapsed = [ranked[v].vid for v in members if v != shown]
        stories.append(shown)
    return stories


def _diversify(
    order: list[int], ranked: list[Candidate], similarity: np.ndarray, k: int, diversity: float
) -> list[int]:
    """Maximal marginal relevance: each next item maximizes
    (1 - diversity) · adjusted score - diversity · top · its highest similarity to the items chosen,
    where top is the best adjusted score: similarity is counted on the scale of the list's own
    scores (a search's are lower than an article's), so diversity weighs alike in both."""
    if diversity <= 0 or len(order) <= 1:
        return order[:k]
    indexes = np.asarray(order)
    value = np.asarray([(1 - diversity) * ranked[i].score * ranked[i].freshness for i in order])
    top = float(value.max()) / (1 - diversity) if len(value) else 1.0
    overlap = np.zeros(len(order))
    taken = np.zeros(len(order), dtype=bool)
    chosen: list[int] = []
    for _ in range(min(k, len(order))):
        gain = value - diversity * top * overlap
        gain[taken] = -np.inf
        best = int(np.argmax(gain))
        taken[best] = True
        chosen.append(int(indexes[best]))
        overlap = np.maximum(overlap, similarity[indexes, indexes[best]])
    return chosen
