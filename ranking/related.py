"""Related articles for an article or a text, and the relevance score of any pair of articles.

The relevance score is the cosine similarity of the two articles' vectors (see
`embeddings.document` for what an article vector is): the same number ranks related lists, is
returned by `check-links` and by the API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embeddings import Embedder
from indexer.article import Article
from indexer.catalog import Entry
from indexer.store import Store
from ranking.filters import Filters
from seealso.errors import ArticleNotFound, SeealsoError

NO_FILTERS = Filters()

# How deep check-links looks for a link target in the source's ranking.
RANK_DEPTH = 100


@dataclass(frozen=True)
class RelatedItem:
    article: Article
    score: float
    reasons: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**article_dict(self.article), "score": round(self.score, 4), "reasons": self.reasons}


@dataclass(frozen=True)
class RelatedList:
    article: Article | None
    items: list[RelatedItem]

    def to_dict(self) -> dict[str, Any]:
        head = {"article": article_dict(self.article)} if self.article is not None else {}
        return {**head, "items": [item.to_dict() for item in self.items]}


@dataclass(frozen=True)
class LinkCheck:
    """The verdict on one existing link `source → target`."""

    source: str
    target: str
    score: float | None
    rank: int | None = None
    verdict: str = "error"
    reasons: str = ""

    def row(self) -> list[str]:
        score = "" if self.score is None else f"{self.score:.4f}"
        rank = "" if self.rank is None else str(self.rank)
        return [self.source, self.target, score, rank, self.verdict, self.reasons]


LINK_CHECK_COLUMNS = ["source", "target", "score", "rank", "verdict", "reasons"]


def article_dict(article: Article) -> dict[str, Any]:
    """The public fields of an article (its body is left out of lists)."""
    return {
        "id": article.id,
        "title": article.title,
        "summary": article.summary,
        "url": article.url,
        "section": article.section,
        "language": article.language,
        "keywords": list(article.keywords),
        "published_at": article.published_at,
    }


def shared_keywords(a: Article, b: Article) -> list[str]:
    theirs = {k.casefold() for k in b.keywords}
    return [k for k in a.keywords if k.casefold() in theirs]


class Ranker:
    """Answers "what is related" over one Store.

    Args:
        store: the data dir to rank from.
        embedder: a loaded embedder, or a callable that loads one on first use (only free-text
            search needs it; related lists and pair scores use the stored vectors).
    """

    def __init__(self, store: Store, embedder: Embedder | Callable[[], Embedder] | None = None) -> None:
        self.store = store
        self._embedder = embedder
        self._allowed_cache: dict[tuple[object, ...], np.ndarray] = {}

    @property
    def embedder_missing(self) -> bool:
        return self._embedder is None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            raise SeealsoError("free-text search needs an embedding model")
        if not isinstance(self._embedder, Embedder):
            self._embedder = self._embedder()
        self.store.check_model(self._embedder.name)
        return self._embedder

    def entry(self, article_id: str) -> Entry:
        entry = self.store.catalog.get(article_id)
        if entry is None:
            raise ArticleNotFound(article_id)
        return entry

    def related(self, article_id: str, k: int = 10, filters: Filters = NO_FILTERS) -> RelatedList:
        """The `k` articles most related to `article_id`, best first, the article itself left out.

        Filters apply before the list is cut to `k`, so it has `k` items whenever enough articles
        match them.
        """
        entry = self.entry(article_id)
        vector = self._vector(entry)
        items = self._nearest(vector, k, skip={entry.vid}, source=entry.article, filters=filters)
        return RelatedList(entry.article, items)

    def search(self, text: str, k: int = 10, filters: Filters = NO_FILTERS) -> RelatedList:
        """The `k` articles nearest to a free text."""
        if not text.strip():
            raise SeealsoError("the search text is empty")
        vector = self.embedder.embed([text])[0]
        return RelatedList(None, self._nearest(vector, k, skip=set(), source=None, filters=filters))

    def score(self, source_id: str, target_id: str) -> float:
        """The relevance score of a pair of articles."""
        source, target = self.entry(source_id), self.entry(target_id)
        return float(np.dot(self._vector(source), self._vector(target)))

    def check_links(
        self, pairs: Iterable[tuple[str, str]], *, weak: float, strong: float
    ) -> Iterable[LinkCheck]:
        """Score existing links and say which are weak.

        Verdicts: `strong` (score ≥ strong), `weak` (score < weak), `ok` otherwise, `error` for an
        unknown id or a link to itself. `rank` is the target's place in the source's related list.
        """
        rankings: dict[str, np.ndarray] = {}
        for source_id, target_id in pairs:
            source, target = self.store.catalog.get(source_id), self.store.catalog.get(target_id)
            if source is None or target is None:
                unknown = [f"source {source_id!r}"] if source is None else []
                unknown += [f"target {target_id!r}"] if target is None else []
                yield LinkCheck(source_id, target_id, None, reasons="unknown " + " and ".join(unknown))
                continue
            if source_id == target_id:
                yield LinkCheck(source_id, target_id, None, reasons="an article linked to itself")
                continue
            score = float(np.dot(self._vector(source), self._vector(target)))
            if source_id not in rankings:
                _, vids = self.store.search(self._vector(source), RANK_DEPTH + 1)
                rankings[source_id] = vids[vids != source.vid]
            found = np.flatnonzero(rankings[source_id] == target.vid)
            rank = int(found[0]) + 1 if len(found) else None
            if score >= strong:
                verdict = "strong"
            elif score < weak:
                verdict = "weak"
            else:
                verdict = "ok"
            reasons = [f"rank {rank}" if rank else f"not in the top {RANK_DEPTH}"]
            common = shared_keywords(source.article, target.article)
            reasons.append("shared keywords: " + ", ".join(common) if common else "no shared keywords")
            yield LinkCheck(source_id, target_id, score, rank, verdict, "; ".join(reasons))

    # -- internals ----------------------------------------------------------------------------------

    def _vector(self, entry: Entry) -> np.ndarray:
        vector = self.store.vector(entry.vid)
        if vector is None:
            raise SeealsoError(f"article {entry.article.id!r} has no vector; re-run `seealso index`")
        return vector

    def _nearest(
        self, vector: np.ndarray, k: int, *, skip: set[int], source: Article | None, filters: Filters
    ) -> list[RelatedItem]:
        """Search, then filter. When filters leave too few of the nearest articles, search again
        among only the articles that match them (the filter pushed into the index search)."""
        want = k + len(skip) + len(filters.exclude)
        fetch = want if not filters.active else 4 * want + 20
        items = self._items(*self.store.search(vector, fetch), k, skip, source, filters)
        if len(items) >= k or (not filters.active and len(items) + len(skip) >= len(self.store.index())):
            return items
        allowed = self._allowed(filters)
        return self._items(*self.store.search(vector, want, allowed=allowed), k, skip, source, filters)

    def _allowed(self, filters: Filters) -> np.ndarray:
        """The vids that pass `filters` (but `exclude`), cached while the catalog does not change."""
        key = (filters.sections, filters.languages, filters.since, filters.until, self.store.catalog.seq())
        allowed = self._allowed_cache.get(key)
        if allowed is None:
            found = self.store.catalog.vids_matching(
                filters.sections, filters.languages, filters.since, filters.until
            )
            allowed = np.asarray(found, dtype=np.int64)
            if len(self._allowed_cache) >= 64:
                self._allowed_cache.clear()
            self._allowed_cache[key] = allowed
        return allowed

    def _items(
        self,
        scores: np.ndarray,
        vids: np.ndarray,
        k: int,
        skip: set[int],
        source: Article | None,
        filters: Filters,
    ) -> list[RelatedItem]:
        """The first `k` search results that pass the filters, as items with their reasons."""
        ranked = [(float(s), int(v)) for s, v in zip(scores, vids, strict=True) if int(v) not in skip]
        if filters.active:  # decide on the few columns filters need before loading whole articles
            facets = self.store.catalog.facets([v for _, v in ranked])
            ranked = [(s, v) for s, v in ranked if v in facets and filters.matches_fields(*facets[v])]
        ranked = ranked[:k]
        entries = self.store.catalog.get_by_vids([v for _, v in ranked])
        items = []
        for score, vid in ranked:
            entry = entries.get(vid)  # None: deleted between the search and the lookup
            if entry is None:
                continue
            reasons: dict[str, Any] = {"similarity": round(score, 4)}
            if source is not None:
                reasons["shared_keywords"] = shared_keywords(source, entry.article)
            items.append(RelatedItem(entry.article, score, reasons))
        return items
