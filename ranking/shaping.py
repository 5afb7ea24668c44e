"""Rules that turn scored candidates into the list an editor would sign: a minimum relevance,
near-duplicates collapsed, freshness, and diversity. Each item records which rule moved it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from ranking.scoring import Relevance


@dataclass(frozen=True)
class ListRules:
    """How lists are shaped (settings give the defaults; requests may change half_life_days).

    Attributes:
        min_score: an item needs at least this relevance; the list is shorter rather than padded.
        duplicate_similarity: two articles whose vectors are this close are one story (an update,
            a syndicated copy, a translation when the model reads both languages): one item.
        half_life_days: freshness halves every so many days of age; 0 turns freshness off.
        freshness_weight: the most freshness can take off a score (0.3: an old article keeps at
            least 70% of its relevance, so a much more relevant explainer still wins).
        diversity: weight of "unlike the items above" against relevance (maximal marginal
            relevance); 0 ranks by relevance alone.
    """

    min_score: float = 0.3
    duplicate_similarity: float = 0.9
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

    @property
    def score(self) -> float:
        return self.relevance.score


def freshness(published_at: str | None, now: datetime, rules: ListRules) -> float:
    """1 for an article published now, falling towards 1 - freshness_weight with age."""
    if rules.half_life_days <= 0 or rules.freshness_weight <= 0:
        return 1.0
    if published_at is None:
        return 1.0 - rules.freshness_weight / 2  # undated: neither fresh nor stale
    published = datetime.strptime(published_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    age_days = max(0.0, (now - published).total_seconds() / 86400)
    return 1.0 - rules.freshness_weight * (1.0 - math.pow(0.5, age_days / rules.half_life_days))


def shape(
    candidates: list[Candidate], k: int, rules: ListRules, now: datetime | None = None
) -> list[Candidate]:
    """The best `k` candidates under the rules, each annotated with what moved it."""
    now = now or datetime.now(UTC)
    ranked = sorted((c for c in candidates if c.score >= rules.min_score), key=lambda c: -c.score)
    stories = _collapse(ranked, rules.duplicate_similarity)
    by_relevance = {c.vid: i for i, c in enumerate(stories)}
    for c in stories:
        c.freshness = freshness(c.published_at, now, rules)
    fresh = sorted(stories, key=lambda c: -c.score * c.freshness)
    by_freshness = {c.vid: i for i, c in enumerate(fresh)}
    chosen = _diversify(fresh, k, rules.diversity)
    for place, c in enumerate(chosen):
        if by_freshness[c.vid] != by_relevance[c.vid]:
            c.moved.append("freshness")
        if place != by_freshness[c.vid]:
            c.moved.append("diversity")
    return chosen


def _collapse(ranked: list[Candidate], threshold: float) -> list[Candidate]:
    """Merge each candidate into a more relevant one it nearly duplicates; a story is shown by its
    most recent version, at the place of its best one."""
    stories: list[Candidate] = []
    for c in ranked:
        home = next((s for s in stories if float(np.dot(s.vector, c.vector)) >= threshold), None)
        if home is None:
            stories.append(c)
            continue
        home.collapsed.append(c.vid)
        if (c.published_at or "") > (home.published_at or ""):  # show the latest version in its place
            place = stories.index(home)
            c.collapsed = [home.vid, *[v for v in home.collapsed if v != c.vid]]
            stories[place] = c
    return stories


def _diversify(ranked: list[Candidate], k: int, diversity: float) -> list[Candidate]:
    """Maximal marginal relevance: each next item maximizes
    (1 - diversity) · adjusted score - diversity · its highest similarity to the items chosen."""
    if diversity <= 0 or len(ranked) <= 1:
        return ranked[:k]
    left = list(ranked)
    chosen: list[Candidate] = []
    while left and len(chosen) < k:

        def gain(c: Candidate) -> float:
            overlap = max((float(np.dot(c.vector, s.vector)) for s in chosen), default=0.0)
            return (1 - diversity) * c.score * c.freshness - diversity * overlap

        best = max(left, key=gain)
        chosen.append(best)
        left.remove(best)
    return chosen
