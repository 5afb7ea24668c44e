"""One story in several languages: declared and detected translations."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from seealso.embeddings.hashing import HashingEmbedder
from seealso.errors import InvalidArticle
from seealso.indexer import dates
from seealso.indexer.article import parse_article
from seealso.indexer.reader import read_articles
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store
from seealso.ranking import Ranker
from seealso.ranking.shaping import ListRules
from seealso.ranking.translations import (
    TRANSLATION_DAYS,
    TRANSLATION_SIMILARITY,
    Version,
    detected,
    groups,
    inert,
)

NEUTRAL = ListRules(min_score=0.0, duplicate_similarity=2.0, half_life_days=0.0, diversity=0.0)


def as_is(cosines: np.ndarray, _a: list[str], _b: list[str]) -> np.ndarray:
    return np.clip(cosines, 0, 1)


def version(vid: int, language: str, day: str | None, vector: list[float]) -> Version:
    published = f"2024-01-{day}T10:00:00Z" if day else None
    return Version(vid, language, published, np.asarray(vector, dtype=np.float32) / np.linalg.norm(vector))


def test_a_translation_is_a_close_article_of_another_language_published_with_it() -> None:
    versions = [
        version(1, "en", "10", [1, 0, 0]),
        version(2, "fr", "11", [0.9, 0.1, 0]),  # close, a day later: its translation
        version(3, "fr", "10", [0.5, 0.5, 0.7]),  # published the same day, but not as close
        version(4, "en", "20", [0, 1, 0]),
        version(5, "fr", "01", [0, 1, 0.05]),  # as close as a twin, but three weeks before
        version(6, "de", None, [0, 0, 1]),  # undated: never a detected translation
        version(7, "en", None, [0, 0.05, 1]),
    ]
    assert detected(versions, as_is) == [(1, 2)]
    assert groups(versions, {4: {5}}, as_is) == {1: 1, 2: 1, 3: 3, 4: 4, 5: 4, 6: 6, 7: 7}  # 4-5 declared


def test_an_article_is_not_its_own_translation() -> None:
    with pytest.raises(InvalidArticle, match="not its own translation"):
        parse_article({"id": "a", "title": "t", "translations": ["a"]})
    with pytest.raises(InvalidArticle, match="translations: must be a list of article ids"):
        parse_article({"id": "a", "title": "t", "translations": "b"})
    assert parse_article({"id": "a", "title": "t", "translations": ["b", "b", "c"]}).translations == (
        "b",
        "c",
    )


def test_declared_translations_make_one_story(store: Store, tmp_path: Path) -> None:
    records = [
        {"id": "coup-en", "title": "Coup in Bamako", "body": "Soldiers seize power in Bamako", "language": "en"},
        {"id": "coup-fr", "title": "Coup à Bamako", "body": "Des soldats prennent le pouvoir", "language": "fr",
         "translations": ["coup-en"]},  # declared on one side only
        {"id": "sanctions-en", "title": "Sanctions on Bamako", "body": "Soldiers in Bamako face sanctions",
         "language": "en"},
        {"id": "sanctions-fr", "title": "Sanctions contre Bamako", "body": "Sanctions contre les soldats",
         "language": "fr", "translations": ["sanctions-en", "not-yet-indexed"]},
    ]  # fmt: skip
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    index_articles(store, HashingEmbedder(64), read_articles(str(path)))
    ranker = Ranker(store, rules=NEUTRAL)
    found = ranker.related("coup-en", k=5)
    assert [a.id for a in found.translations] == ["coup-fr"]
    assert [i.article.id for i in found.items] == ["sanctions-en"]  # the story once, in the source's language
    assert [a.id for a in found.items[0].translations] == ["sanctions-fr"]
    assert found.to_dict()["article"]["translations"][0]["id"] == "coup-fr"
    french = ranker.related("coup-fr", k=5)
    assert [a.id for a in french.translations] == ["coup-en"]
    assert [i.article.id for i in french.items] == ["sanctions-fr"]


def reference_pairs(versions: list[Version], calibrate: Callable[..., np.ndarray]) -> set[tuple[int, int]]:
    """`detected`, one pair at a time: what the vectorized one must equal."""
    languages = [v.language for v in versions]
    if len(set(languages)) < 2:
        return set()
    similarity = calibrate(np.stack([v.vector for v in versions]) @ np.stack([v.vector for v in versions]).T)
    times = [dates.seconds(v.published_at) if v.published_at else None for v in versions]

    def closest(row: int, language: str) -> int:
        columns = [c for c, spoken in enumerate(languages) if spoken == language]
        return max(columns, key=lambda c: (similarity[row, c], -c))

    pairs = set()
    for row, a in enumerate(versions):
        for other_row, b in enumerate(versions):
            if other_row <= row or a.language == b.language:
                continue
            mutual = closest(row, b.language) == other_row and closest(other_row, a.language) == row
            dated = times[row] is not None and times[other_row] is not None
            near = dated and abs(times[row] - times[other_row]) <= TRANSLATION_DAYS * 86400  # type: ignore[operator]
            if mutual and near and similarity[row, other_row] >= TRANSLATION_SIMILARITY:
                pairs.add((a.vid, b.vid))
    return pairs


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["en", "fr", "de"]),
            st.one_of(st.none(), st.integers(10, 14).map(str)),
            st.lists(st.integers(-3, 3), min_size=3, max_size=3).filter(any),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_detected_pairs_are_the_mutual_nearest_close_in_time_and_similarity(
    drawn: list[tuple[str, str | None, list[int]]],
) -> None:
    # Whole-number vectors, not normalized: their dot products are exact in float32, so ties are
    # ties in both implementations (rounded ones fall either way with the memory's alignment).
    versions = [
        Version(
            vid, language, f"2024-01-{day}T10:00:00Z" if day else None, np.asarray(vector, dtype=np.float32)
        )
        for vid, (language, day, vector) in enumerate(drawn)
    ]
    scaled = lambda cosines, *_: np.clip(cosines / 27, 0, 1)  # noqa: E731  (27: the largest dot product)
    assert set(detected(versions, scaled)) == reference_pairs(versions, scaled)


def test_inert_articles_are_far_from_every_other_language() -> None:
    versions = [
        version(1, "en", "10", [1, 0, 0]),
        version(2, "fr", "10", [0.9, 0.1, 0]),  # the translation of 1
        version(3, "fr", "12", [0, 1, 0]),  # close to 5, though weeks apart
        version(4, "en", "20", [0, 0.2, 1]),  # far from every French one
        version(5, "en", "20", [0.1, 1, 0.2]),
    ]
    assert inert(versions, [3], as_is)
    assert not inert(versions, [1], as_is)  # a translation
    assert not inert(versions, [2], as_is)  # not one (weeks apart), but it may stand between two
    assert inert(versions, [], as_is)
    assert inert([versions[0], versions[3]], [0, 1], as_is)  # one language: nothing to pair with
