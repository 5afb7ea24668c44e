"""A small map of an article's neighbourhood for the editor page: the article, its list and the
runners-up, placed by the two main directions (PCA) of their vectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIZE = 320
MARGIN = 24


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str  # the item's place in the list, "" for the source and runners-up
    title: str
    kind: str  # source, automatic, pinned, linked, other
    article_id: str


def neighbourhood(
    source_id: str,
    source_title: str,
    vectors: dict[str, np.ndarray],
    items: list[tuple[str, str, str]],
    others: list[tuple[str, str]],
) -> list[Point]:
    """Points for the source, the list `items` (id, title, origin) and `others` (id, title).

    `vectors` holds the unit vectors by id; ids without one are left out. Coordinates fit a
    SIZE x SIZE picture with the source in the middle.
    """
    rows = [(source_id, source_title, "", "source")]
    rows += [(i, t, str(n), origin) for n, (i, t, origin) in enumerate(items, 1)]
    rows += [(i, t, "", "other") for i, t in others]
    rows = [r for r in rows if r[0] in vectors]
    if not rows or rows[0][3] != "source":
        return []
    matrix = np.stack([vectors[r[0]] for r in rows]).astype(np.float64)
    centered = matrix - matrix[0]  # the source at the origin
    if len(rows) > 2:
        _, _, axes = np.linalg.svd(centered[1:] - centered[1:].mean(axis=0), full_matrices=False)
        plane = centered @ axes[:2].T
    else:
        plane = np.zeros((len(rows), 2))
        plane[1:, 0] = np.linalg.norm(centered[1:], axis=1)
    if plane.shape[1] < 2:
        plane = np.hstack([plane, np.zeros((len(rows), 1))])
    reach = float(np.abs(plane).max()) or 1.0
    scale = (SIZE / 2 - MARGIN) / reach
    return [
        Point(SIZE / 2 + float(x) * scale, SIZE / 2 - float(y) * scale, label, title, kind, article_id)
        for (article_id, title, label, kind), (x, y) in zip(rows, plane[:, :2], strict=True)
    ]
