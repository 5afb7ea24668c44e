"""Keywords that may name the same thing, to suggest to editors as aliases (ECOWAS and CEDEAO,
junta and junte, Côte d'Ivoire spelled with and without its accent).

A pair's score is the mean of three kinds of evidence, each in [0, 1]:
  - naming: how alike the two names are, once case, accents and apostrophes are folded (1 for
    one name, or one the other's initials: EU, European Union; rapidfuzz's ratio / 100 from
    0.8 on: junta, junte), or the share of the rarer keyword's articles whose other edition
    (declared by the site, or found: `seealso.ranking.translations.detected`) carries the other
    keyword instead: the way one story is tagged in two languages; whichever is higher;
  - meaning: the calibrated cosine of the two keywords' centroids, at the scale of their main
    languages (0 for two random articles, 1 for one article);
  - apart: 1 less the share of the rarer keyword's articles that carry both: two names of one
    thing seldom tag one article together, two related subjects (Mali, Bamako) often do.
Equal weights, as for suggested keywords. Suggested: pairs with some naming evidence, or whose
centroids are each other's nearest (or, for two keywords each used in one language, among each
other's NEAREST of that language); never pairs more together than apart, pairs editors
rejected, or keywords that are already one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from seealso.ranking.keywords import Keywords, KeywordStats
from seealso.ranking.translations import Version, detected
from seealso.ranking.vocabulary import FUZZY_MIN, words

# Editions of one story are looked for around this many articles of each keyword used in one
# language, among each one's nearest, and around this many articles in all.
EDITIONS_SAMPLE, EDITIONS_NEAREST, EDITIONS_MAX = 50, 5, 5000
NEAREST = 3  # keywords of the other language looked at around a keyword of one language
MIN_APART = 0.5


@dataclass(frozen=True)
class AliasSuggestion:
    keywords: tuple[str, str]  # as written, the more used first
    keys: tuple[str, str]
    articles: tuple[int, int]
    score: float
    naming: float
    translations: float
    meaning: float
    apart: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "keywords": list(self.keywords),
            "articles": list(self.articles),
            "score": round(self.score, 4),
            "reasons": {
                "naming": round(self.naming, 4),
                "translations": round(self.translations, 4),
                "meaning": round(self.meaning, 4),
                "apart": round(self.apart, 4),
            },
        }


def initials(folded: str) -> str:
    return "".join(word[0] for word in words(folded)) if len(words(folded)) > 1 else ""


def suggest_aliases(keywords: Keywords, limit: int = 50) -> list[AliasSuggestion]:
    """The `limit` likeliest alias pairs among the keywords in use, best first."""
    stats = keywords.stats()
    vocabulary = keywords.vocabulary(stats)
    store, scorer = keywords.store, keywords.ranker.scorer
    count = len(stats.keys)
    if count < 2:
        return []
    main = [
        vocabulary.languages[n].most_common(1)[0][0] if vocabulary.languages[n] else "" for n in range(count)
    ]
    folded = vocabulary.folded
    pairs: set[tuple[int, int]] = set()
    # Candidates: keywords whose centroids are each other's nearest, ...
    nearest = np.zeros(count, dtype=np.int64)
    for start in range(0, count, 1000):
        rows = np.arange(start, min(start + 1000, count))
        cosines = stats.centroids[rows] @ stats.centroids.T
        cosines[np.arange(len(rows)), rows] = -np.inf
        nearest[rows] = np.argmax(cosines, axis=1)
    pairs.update(
        (min(a, int(b)), max(a, int(b))) for a, b in enumerate(nearest) if nearest[b] == a and a != b
    )
    # ... keywords of one language each, among each other's NEAREST of the other's language (a
    # translation, ECOWAS and CEDEAO, is near among its language's, not always the nearest), ...
    only = {n: next(iter(spoken)) for n, spoken in enumerate(vocabulary.languages) if len(spoken) == 1}
    by_language: dict[str, list[int]] = {}
    for n, language in only.items():
        by_language.setdefault(language, []).append(n)
    near: dict[tuple[int, str], set[int]] = {}
    for n, language in only.items():
        for their_language, members in by_language.items():
            if their_language != language:
                cosines = stats.centroids[members] @ stats.centroids[n]
                near[(n, their_language)] = {members[j] for j in np.argsort(-cosines)[:NEAREST]}
    for (n, _), close_by in near.items():
        for m in close_by:
            if n in near.get((m, only[n]), set()):
                pairs.add((min(n, m), max(n, m)))
    # ... names alike ...
    spelled: dict[tuple[int, int], float] = {}
    by_form: dict[str, list[int]] = {}
    for n, name in enumerate(folded):
        by_form.setdefault(name, []).append(n)
    for n, name in enumerate(folded):
        for other in by_form.get(initials(name), []) + by_form.get(name, []):
            if other != n:
                spelled[(min(n, other), max(n, other))] = 1.0
    close = process.cdist(folded, folded, scorer=fuzz.ratio, score_cutoff=FUZZY_MIN, dtype=np.uint8)
    for a, b in zip(*np.nonzero(close), strict=True):
        if a < b:
            spelled.setdefault((int(a), int(b)), float(close[a, b]) / 100)
    pairs.update(spelled)
    # ... and the keywords of two editions of one story.
    editions = _editions(keywords, stats, vocabulary.languages)
    across: Counter[tuple[int, int]] = Counter()
    for one, other in editions:
        mine, theirs = set(stats.keys_of_vid.get(one, ())), set(stats.keys_of_vid.get(other, ()))
        for a in mine - theirs:
            for b in theirs - mine:
                across[(min(a, b), max(a, b))] += 1
    pairs.update(across)
    rejected = store.catalog.rejected_aliases()
    # Statistics a little older than the last confirmation still hold both keys: skip them.
    grouped = {key: canonical for canonical, keys in store.catalog.alias_groups().items() for key in keys}
    found = []
    for a, b in pairs:
        if tuple(sorted((stats.keys[a], stats.keys[b]))) in rejected:
            continue
        if grouped.get(stats.keys[a], stats.keys[a]) == grouped.get(stats.keys[b], stats.keys[b]):
            continue
        rarer = float(min(stats.counts[a], stats.counts[b]))
        if rarer <= 0:
            continue
        apart = 1.0 - stats.together(a)[b] / rarer
        if apart < MIN_APART:
            continue
        translations = min(1.0, across[(a, b)] / rarer)
        naming = max(spelled.get((a, b), 0.0), translations)
        cosine = float(stats.centroids[a] @ stats.centroids[b])
        meaning = float(scorer.calibrate(np.asarray([[cosine]]), [main[a]], [main[b]])[0, 0])
        first, second = (
            (a, b) if (stats.counts[a], stats.keys[b]) >= (stats.counts[b], stats.keys[a]) else (b, a)
        )
        found.append(
            AliasSuggestion(
                (stats.names[first], stats.names[second]), (stats.keys[first], stats.keys[second]),
                (int(stats.counts[first]), int(stats.counts[second])),
                (naming + meaning + apart) / 3, naming, translations, meaning, apart,
            )
        )  # fmt: skip
    found.sort(key=lambda s: (-s.score, s.keys))
    return found[:limit]


def _editions(keywords: Keywords, stats: KeywordStats, languages: list[Counter[str]]) -> set[tuple[int, int]]:
    """Pairs of vids that are two editions of one story: declared by the site, or found (the test
    the lists use, `translations.detected`) between an article of a keyword used in one language
    only (the keywords that another language may name otherwise) and its nearest articles."""
    store, scorer = keywords.store, keywords.ranker.scorer
    pairs = set(store.catalog.translation_pairs())
    if len(store.catalog.languages()) < 2:
        return pairs
    looked: set[int] = set()
    for n, spoken in enumerate(languages):
        if len(spoken) == 1:
            looked.update(stats.vids_of_key.get(n, [])[:EDITIONS_SAMPLE])
    wanted = sorted(looked)[:EDITIONS_MAX]
    held, vectors = store.vectors(np.asarray(wanted, dtype=np.int64))
    for vid, vector in zip(held.tolist(), vectors, strict=True):
        _, near = store.search(vector, EDITIONS_NEAREST + 1)
        group = [vid, *(int(v) for v in near if v != vid)]
        facets = store.catalog.facets(group)
        found, group_vectors = store.vectors(np.asarray(group, dtype=np.int64))
        versions = [
            Version(int(v), facets[int(v)][2], facets[int(v)][3], row)
            for v, row in zip(found.tolist(), group_vectors, strict=True)
            if int(v) in facets
        ]
        for one, other in detected(versions, scorer.calibrate):
            if vid in (one, other):
                pairs.add((min(one, other), max(one, other)))
    return pairs
