"""One story in several languages: which articles of a list are translations of each other.

Two articles are translations when the site says so (an article's `translations`, declared on
either side), or when seealso finds them to be a cross-lingual near-duplicate: in different
languages, published within TRANSLATION_DAYS of each other, each the other's closest article in
its language among those compared, and at least TRANSLATION_SIMILARITY apart on the calibrated
scale (`Scorer.calibrate`: 0 for two random articles, 1 for one article). On the demo corpus the
site's eight translations score 0.58 to 0.81 on that scale, and the closest pair of other stories
published within two days 0.45. Translations form groups (a story in three languages is one group).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from seealso.indexer import dates

TRANSLATION_DAYS = 2.0
TRANSLATION_SIMILARITY = 0.5
# Calibrated similarities are compared with this much to spare where a decision is skipped on them.
MARGIN = 1e-4


@dataclass(frozen=True)
class Version:
    """What grouping needs of an article."""

    vid: int
    language: str
    published_at: str | None
    vector: np.ndarray


def groups(
    versions: Sequence[Version],
    declared: Mapping[int, set[int]],
    calibrate: Callable[[np.ndarray, list[str], list[str]], np.ndarray],
) -> dict[int, int]:
    """Group `versions` into stories: vid → the vid of its group's first member (in the order
    given). Articles not in `versions` that `declared` names are left out."""
    parent = {v.vid: v.vid for v in versions}

    def root(vid: int) -> int:
        while parent[vid] != vid:
            parent[vid] = parent[parent[vid]]
            vid = parent[vid]
        return vid

    def join(a: int, b: int) -> None:
        first, second = sorted((root(a), root(b)), key=order.__getitem__)
        parent[second] = first

    order = {v.vid: place for place, v in enumerate(versions)}
    for vid in parent:
        for other in declared.get(vid, ()):
            if other in parent:
                join(vid, other)
    for a, b in detected(versions, calibrate):
        join(a, b)
    return {vid: root(vid) for vid in parent}


def detected(
    versions: Sequence[Version], calibrate: Callable[[np.ndarray, list[str], list[str]], np.ndarray]
) -> list[tuple[int, int]]:
    """The cross-lingual near-duplicates among `versions` (see the module's docstring)."""
    languages = [v.language for v in versions]
    names = sorted(set(languages))
    if len(names) < 2:
        return []
    vectors = np.stack([v.vector for v in versions])
    similarity = calibrate(vectors @ vectors.T, languages, languages)
    spoken = np.asarray([names.index(language) for language in languages])
    rows = np.arange(len(versions))
    # best[l, row]: the row closest to `row` among those in language l (the first among equals)
    best = np.empty((len(names), len(versions)), dtype=np.int64)
    for code in range(len(names)):
        columns = np.flatnonzero(spoken == code)
        best[code] = columns[np.argmax(similarity[:, columns], axis=1)]
    times = np.asarray(
        [dates.seconds(v.published_at) if v.published_at else np.nan for v in versions], dtype=np.float64
    )
    pairs = []
    for code in range(len(names)):
        other = best[code]
        mutual = (spoken != code) & (other > rows) & (best[spoken, other] == rows)  # each pair once
        close = np.abs(times - times[other]) <= TRANSLATION_DAYS * 86400  # False when either is undated
        found = mutual & close & (similarity[rows, other] >= TRANSLATION_SIMILARITY)
        pairs += [
            (versions[row].vid, versions[int(other[row])].vid) for row in np.flatnonzero(found).tolist()
        ]
    return pairs


def inert(
    versions: Sequence[Version],
    rows: Sequence[int],
    calibrate: Callable[[np.ndarray, list[str], list[str]], np.ndarray],
) -> bool:
    """Whether the versions at `rows` are too far from every version in another language to be
    one's translation or to stand between two (`detected` pairs only mutual nearest ones at
    TRANSLATION_SIMILARITY or more): taking them out of `versions` or adding others like them
    changes no group but theirs. (Declared translations are the caller's to check.)"""
    if not rows:
        return True
    languages = [v.language for v in versions]
    chosen = [languages[row] for row in rows]
    if len(set(languages)) < 2:
        return True
    vectors = np.stack([v.vector for v in versions])
    similarity = calibrate(vectors[list(rows)] @ vectors.T, chosen, languages)
    other = np.asarray(chosen)[:, None] != np.asarray(languages)[None, :]
    return not bool((similarity[other] >= TRANSLATION_SIMILARITY - MARGIN).any())
