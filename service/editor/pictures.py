"""Pictures for the editor's pages, drawn as SVG on the server (no script):

- the map of an article's neighbourhood: the article, its list and the runners-up, placed by the
  two main directions (PCA) of their vectors, the list's titles written beside their points where
  they fit, and each axis named by the articles at its two ends;
- histograms (the related lists' scores and lengths, `service.editor.routes.overview`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIZE = 360
MARGIN = 28
LABEL_CHARS = 26  # a title written on the map is cut to this
CHAR_WIDTH = 5.2  # of the map's 9-px labels, on average (for keeping labels apart)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str  # the item's place in the list, "" for the source and runners-up
    title: str
    kind: str  # source, automatic, pinned, linked, other
    article_id: str
    caption: str = ""  # the title as written beside the point ("" where it would overlap another)
    caption_x: float = 0.0
    caption_y: float = 0.0
    anchor: str = "start"  # text-anchor of the caption


@dataclass(frozen=True)
class Axis:
    share: float  # of the spread of these vectors around their mean, along this axis
    low: str  # the title of the article furthest toward the axis's low end (left, or bottom)
    high: str


@dataclass(frozen=True)
class Map:
    points: list[Point]
    across: Axis | None
    up: Axis | None

    def __bool__(self) -> bool:
        return bool(self.points)


def short(title: str, limit: int = LABEL_CHARS) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def neighbourhood(
    source_id: str,
    source_title: str,
    vectors: dict[str, np.ndarray],
    items: list[tuple[str, str, str]],
    others: list[tuple[str, str]],
) -> Map:
    """The map of the source, the list `items` (id, title, origin) and `others` (id, title).

    `vectors` holds the unit vectors by id; ids without one are left out. Coordinates fit a
    SIZE x SIZE picture with the source in the middle.
    """
    rows = [(source_id, source_title, "", "source")]
    rows += [(i, t, str(n), origin) for n, (i, t, origin) in enumerate(items, 1)]
    rows += [(i, t, "", "other") for i, t in others]
    rows = [r for r in rows if r[0] in vectors]
    if not rows or rows[0][3] != "source":
        return Map([], None, None)
    matrix = np.stack([vectors[r[0]] for r in rows]).astype(np.float64)
    centered = matrix - matrix[0]  # the source at the origin
    shares = [0.0, 0.0]
    if len(rows) > 2:
        spread = centered[1:] - centered[1:].mean(axis=0)
        _, values, axes = np.linalg.svd(spread, full_matrices=False)
        plane = centered @ axes[:2].T
        total = float((values**2).sum()) or 1.0
        shares = [float(v**2) / total for v in values[:2]] + [0.0] * (2 - len(values[:2]))
    else:
        plane = np.zeros((len(rows), 2))
        plane[1:, 0] = np.linalg.norm(centered[1:], axis=1)
    if plane.shape[1] < 2:
        plane = np.hstack([plane, np.zeros((len(rows), 1))])
    reach = float(np.abs(plane).max()) or 1.0
    scale = (SIZE / 2 - MARGIN) / reach
    xs = SIZE / 2 + plane[:, 0] * scale
    ys = SIZE / 2 - plane[:, 1] * scale
    points = [
        Point(float(x), float(y), label, title, kind, article_id)
        for (article_id, title, label, kind), x, y in zip(rows, xs, ys, strict=True)
    ]
    points = _captioned(points)
    axes_named = [
        Axis(shares[d], rows[int(np.argmin(plane[:, d]))][1], rows[int(np.argmax(plane[:, d]))][1])
        if len(rows) > 2
        else None
        for d in (0, 1)
    ]
    return Map(points, axes_named[0], axes_named[1])


def _captioned(points: list[Point]) -> list[Point]:
    """The source's and the list's titles beside their points, right or left of them, where they
    overlap no other caption and no point; in list order, so the first items get theirs first."""
    taken: list[tuple[float, float, float, float]] = []  # boxes of captions placed
    dots = [(p.x, p.y) for p in points]
    out = list(points)
    order = sorted(range(len(points)), key=lambda i: (points[i].kind != "source", int(points[i].label or 0)))
    for i in order:
        point = points[i]
        if point.kind == "other":
            continue
        text = short(point.title)
        width, height = len(text) * CHAR_WIDTH, 10.0
        for anchor, left in (("start", point.x + 9), ("end", point.x - 9 - width)):
            box = (left, point.y - height / 2, left + width, point.y + height / 2)
            inside = box[0] >= 2 and box[2] <= SIZE - 2
            clear = not any(_overlap(box, other) for other in taken) and not any(
                box[0] - 8 <= x <= box[2] + 8 and box[1] - 8 <= y <= box[3] + 8
                for j, (x, y) in enumerate(dots)
                if j != i
            )
            if inside and clear:
                taken.append(box)
                x = point.x + 9 if anchor == "start" else point.x - 9
                out[i] = Point(**{**point.__dict__, "caption": text, "caption_x": x, "caption_y": point.y + 3,
                                  "anchor": anchor})  # fmt: skip
                break
    return out


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# -- histograms -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    low: float
    high: float
    count: int
    x: float
    height: float


def histogram(
    values: list[float], edges: list[float], height: float = 80.0, width: float = 300.0
) -> list[Bar]:
    """Bars of how many `values` fall in each [edges[i], edges[i+1]) (the last one closed),
    scaled to `height` at the tallest, laid side by side over `width`."""
    counts, _ = np.histogram(np.asarray(values, dtype=np.float64), bins=np.asarray(edges, dtype=np.float64))
    tallest = max(int(counts.max()) if len(counts) else 0, 1)
    step = width / max(len(counts), 1)
    return [
        Bar(edges[i], edges[i + 1], int(c), i * step, height * int(c) / tallest) for i, c in enumerate(counts)
    ]
