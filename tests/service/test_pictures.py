"""The editor's pictures: the neighbourhood map's captions never overlap, and histograms count."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from seealso.service.editor.pictures import CHAR_WIDTH, SIZE, histogram, neighbourhood


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.integers(0, 15))
def test_captions_stay_inside_and_apart(seed: int, listed: int, others: int) -> None:
    rng = np.random.default_rng(seed)
    ids = ["source", *(f"item-{n}" for n in range(listed)), *(f"other-{n}" for n in range(others))]
    vectors = {i: v / np.linalg.norm(v) for i, v in zip(ids, rng.normal(size=(len(ids), 8)), strict=True)}
    titles = {i: f"A title of some length for {i}"[: rng.integers(5, 40)] for i in ids}
    items = [(i, titles[i], "automatic") for i in ids[1 : 1 + listed]]
    found = neighbourhood(
        "source", titles["source"], vectors, items, [(i, titles[i]) for i in ids[1 + listed :]]
    )
    assert [p.article_id for p in found.points] == ids
    assert found.points[0].kind == "source" and [p.label for p in found.points[1 : 1 + listed]] == [
        str(n) for n in range(1, listed + 1)
    ]
    boxes = []
    for p in found.points:
        assert 0 <= p.x <= SIZE and 0 <= p.y <= SIZE
        if p.caption:
            assert p.kind != "other" and p.title.startswith(p.caption.rstrip("…"))
            width = len(p.caption) * CHAR_WIDTH
            left = p.caption_x if p.anchor == "start" else p.caption_x - width
            assert left >= 0 and left + width <= SIZE
            boxes.append((left, p.caption_y - 8, left + width, p.caption_y + 2))
    for n, a in enumerate(boxes):
        for b in boxes[n + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])
    if len(ids) > 2:
        assert found.across is not None and 0 < found.across.share <= 1
        assert found.across.low in titles.values() and found.across.high in titles.values()


def test_histogram_counts_each_value_once() -> None:
    bars = histogram([0.0, 0.1, 0.1, 0.5, 1.0], [0.0, 0.25, 0.5, 0.75, 1.0], height=40, width=100)
    assert [b.count for b in bars] == [3, 0, 1, 1]  # the last bin holds its upper edge
    assert [b.x for b in bars] == [0, 25, 50, 75] and [b.height for b in bars] == [40, 0, 40 / 3, 40 / 3]
    assert [b.count for b in histogram([], [0.0, 1.0])] == [0]
