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
    if len(set(languages)) < 2:
        return []
    vectors = np.stack([v.vector for v in versions])
    similarity = calibrate(vectors @ vectors.T, languages, languages)
    times = [dates.seconds(v.published_at) if v.published_at else None for v in versions]
    # language → for every row, the row closest to it in that language (the first among equals)
    spoken = np.asarray(languages)
    best: dict[str, list[int]] = {}
    for language in set(languages):
        columns = np.flatnonzero(spoken == language)
        best[language] = columns[np.argmax(similarity[:, columns], axis=1)].tolist()
    pairs = []
    for row, version in enumerate(versions):
        for language in set(languages) - {version.language}:
            other = best[language][row]
            if other < row or best[version.language][other] != row:
                continue  # each mutual pair once
            close_in_time = times[row] is not None and times[other] is not None
            if close_in_time and abs(times[row] - times[other]) > TRANSLATION_DAYS * 86400:  # type: ignore[operator]
                close_in_time = False
            if close_in_time and similarity[row, other] >= TRANSLATION_SIMILARITY:
                pairs.append((version.vid, versions[other].vid))
    return pairs
