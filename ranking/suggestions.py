"""Keywords to suggest for an article, from the site's own vocabulary (the keywords in use).

Three kinds of evidence, each a number in [0, 1], and a keyword's score is their mean:
  - neighbours: the share of its NEIGHBOURS nearest articles (any language, weighted by their
    calibrated similarity) that carry the keyword: a nearest-neighbour estimate of how likely
    an article like this one is to carry it;
  - centroid: the calibrated cosine of the article with the keyword's centroid (the mean of its
    articles), which speaks for keywords whose articles are many but not among the nearest;
  - text: 1 when the keyword's whole name is in the title or summary, ½ when only in the body
    (only keywords used in the article's language: "eu" is a French word too).
Equal weights, not fitted: `scripts/eval_suggestions.py` measures them on the demo and on BBC.
The keywords the article carries are not suggested; `hide=True` scores an article as if it
carried none (its own tags left out of the neighbours' votes and of the centroids), which is how
the measure asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from seealso.embeddings.base import normalize
from seealso.errors import ArticleNotFound
from seealso.indexer.article import keyword_key
from seealso.ranking.keywords import Keywords
from seealso.ranking.related import Ranker

NEIGHBOURS = 20
CENTROID_CANDIDATES = 50  # the keywords whose centroids are nearest, beside the neighbours' and the text's


@dataclass(frozen=True)
class SuggestedKeyword:
    keyword: str
    score: float
    neighbours: float  # the evidence, as in the module's docstring
    centroid: float
    text: float
    carried_by: int  # of the NEIGHBOURS nearest articles, how many carry it
    mentioned: str | None  # "title", "summary", "body" or None

    def to_dict(self) -> dict[str, Any]:
        return {
            "keyword": self.keyword,
            "score": round(self.score, 4),
            "reasons": {
                "neighbours": round(self.neighbours, 4),
                "nearest_carrying": self.carried_by,
                "centroid": round(self.centroid, 4),
                "mentioned_in": self.mentioned,
            },
        }


class KeywordSuggester:
    def __init__(self, ranker: Ranker, keywords: Keywords) -> None:
        self.ranker, self.keywords, self.store = ranker, keywords, ranker.store

    def suggest(self, article_id: str, k: int = 5, *, hide: bool = False) -> list[SuggestedKeyword]:
        """The `k` best keywords for the article that it does not carry, best first."""
        entry = self.store.catalog.get(article_id)
        held, vectors = self.store.vectors(np.asarray([entry.vid] if entry else [], dtype=np.int64))
        if entry is None or not len(held):
            raise ArticleNotFound(article_id)
        stats = self.keywords.stats()
        vocabulary = self.keywords.vocabulary(stats)
        article, vector = entry.article, vectors[0]
        own = [
            stats.position[key] for key in {keyword_key(k) for k in article.keywords} if key in stats.position
        ]

        # Neighbours' tags, weighted by calibrated similarity.
        scores, vids = self.store.search(vector, NEIGHBOURS + 1)
        pairs = [(float(s), int(v)) for s, v in zip(scores, vids, strict=True) if v >= 0 and v != entry.vid]
        pairs = pairs[:NEIGHBOURS]
        languages = self.store.catalog.languages_of([v for _, v in pairs])
        weights = self.ranker.scorer.calibrate(
            np.asarray([[s for s, _ in pairs]], dtype=np.float32),
            [article.language],
            [languages.get(v, article.language) for _, v in pairs],
        )[0]
        votes = np.zeros(len(stats.keys), dtype=np.float64)
        carried = np.zeros(len(stats.keys), dtype=np.int64)
        for weight, (_, vid) in zip(weights, pairs, strict=True):
            for at in stats.keys_of_vid.get(vid, ()):
                votes[at] += weight
                carried[at] += 1
        total = float(np.sum(weights))
        neighbours = votes / total if total > 0 else votes

        # Centroids, without the article itself when hidden.
        centroids = stats.centroids
        counts = stats.counts
        if hide and own:
            sums = stats.sums.copy()
            sums[own] -= vector
            centroids = normalize(sums)
            counts = counts.copy()
            counts[own] -= 1
        cosines = centroids @ vector
        # As similar as two articles of the article's language would be (one scale for all).
        same = [article.language] * len(cosines)
        centroid = self.ranker.scorer.calibrate(cosines[None, :], [article.language], same)[0]

        # The text.
        text = np.zeros(len(stats.keys), dtype=np.float64)
        where: dict[int, str] = {}
        places = (
            ("body", article.body, 0.5),
            ("summary", article.summary, 1.0),
            ("title", article.title, 1.0),
        )
        for place, words, value in places:  # the title's word last: it is the one given
            for at in vocabulary.mentions(words):  # the statistics' positions
                if vocabulary.languages[at].get(article.language, 0) > 0:
                    text[at] = value
                    where[at] = place

        candidates = set(np.flatnonzero(votes > 0).tolist()) | set(where)
        candidates |= set(np.argsort(-cosines)[:CENTROID_CANDIDATES].tolist())
        if not hide:
            candidates -= set(own)
            rejected = self.store.catalog.rejected_keywords(article.id)
            candidates -= {stats.position[key] for key in rejected if key in stats.position}
        found = []
        for at in candidates:
            if counts[at] <= 0:
                continue
            score = (neighbours[at] + centroid[at] + text[at]) / 3
            found.append(
                SuggestedKeyword(
                    stats.names[at], float(score), float(neighbours[at]), float(centroid[at]),
                    float(text[at]), int(carried[at]), where.get(at),
                )
            )  # fmt: skip
        found.sort(key=lambda s: (-s.score, s.keyword))
        return found[:k]
