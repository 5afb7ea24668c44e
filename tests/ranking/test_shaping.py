"""The list rules on hand-made candidates: threshold, duplicates, freshness, diversity."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from seealso.ranking.scoring import Relevance
from seealso.ranking.shaping import Candidate, ListRules, freshness, shape

NOW = datetime(2025, 1, 1, tzinfo=UTC)
PLAIN = ListRules(min_score=0.0, duplicate_similarity=0.95, half_life_days=0.0, diversity=0.0)


def cand(
    vid: int, score: float, direction: list[float], published: str | None = "2024-12-31T00:00:00Z"
) -> Candidate:
    vector = np.asarray(direction, dtype=np.float32)
    relevance = Relevance(score, score, 0.0, 0.0, [])
    return Candidate(vid, relevance, vector / np.linalg.norm(vector), published)


def test_below_the_minimum_the_list_is_shorter_not_padded() -> None:
    pool = [cand(1, 0.8, [1, 0, 0]), cand(2, 0.5, [0, 1, 0]), cand(3, 0.2, [0, 0, 1])]
    rules = ListRules(min_score=0.35, half_life_days=0, diversity=0)
    assert [c.vid for c in shape(pool, 10, rules, NOW)] == [1, 2]


def test_near_duplicates_take_one_place_shown_by_their_latest_version() -> None:
    pool = [
        cand(1, 0.9, [1, 0, 0], "2024-01-01T00:00:00Z"),
        cand(2, 0.8, [1, 0.05, 0], "2024-01-02T00:00:00Z"),  # an update of 1
        cand(3, 0.7, [0, 1, 0]),
    ]
    chosen = shape(pool, 10, PLAIN, NOW)
    assert [c.vid for c in chosen] == [2, 3]
    assert chosen[0].collapsed == [1]


def test_freshness_halves_with_age_and_keeps_a_floor() -> None:
    rules = ListRules(half_life_days=30, freshness_weight=0.3)
    assert freshness("2025-01-01T00:00:00Z", NOW, rules) == pytest.approx(1.0)
    assert freshness("2024-12-02T00:00:00Z", NOW, rules) == pytest.approx(1 - 0.3 * 0.5)
    assert freshness("2000-01-01T00:00:00Z", NOW, rules) == pytest.approx(0.7, abs=1e-6)
    assert freshness(None, NOW, rules) == pytest.approx(0.7)  # undated: no boost
    assert freshness("2000-01-01T00:00:00Z", NOW, ListRules(half_life_days=0)) == 1.0


def test_fresher_first_among_equals_but_a_much_more_relevant_evergreen_wins() -> None:
    rules = ListRules(min_score=0, half_life_days=30, freshness_weight=0.3, diversity=0)
    old, new = "2015-01-01T00:00:00Z", "2024-12-30T00:00:00Z"
    equals = shape([cand(1, 0.6, [1, 0, 0], old), cand(2, 0.6, [0, 1, 0], new)], 10, rules, NOW)
    assert [c.vid for c in equals] == [2, 1]
    assert equals[0].moved == ["freshness"]
    evergreen = shape([cand(1, 0.9, [1, 0, 0], old), cand(2, 0.6, [0, 1, 0], new)], 10, rules, NOW)
    assert [c.vid for c in evergreen] == [1, 2]
    assert evergreen[0].moved == []


def test_diversity_keeps_one_sub_event_from_filling_the_list() -> None:
    same_event = [cand(i, 0.8 - i * 0.01, [1, 0.1 * i, 0]) for i in range(1, 5)]
    other = cand(9, 0.74, [0, 0, 1])
    plain = shape(
        [*same_event, other],
        3,
        ListRules(min_score=0, duplicate_similarity=0.999, half_life_days=0, diversity=0),
        NOW,
    )
    assert [c.vid for c in plain] == [1, 2, 3]
    varied = shape(
        [*same_event, other],
        3,
        ListRules(min_score=0, duplicate_similarity=0.999, half_life_days=0, diversity=0.1),
        NOW,
    )
    assert [c.vid for c in varied] == [1, 9, 2]
    assert varied[1].moved == ["diversity"]
