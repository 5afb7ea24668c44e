"""Keyword pages: the articles about a keyword (tagged or not) and the keywords related to it.

A keyword is represented by the centroid of the vectors of the articles tagged with it. Articles
are ranked by their similarity to that centroid, with a bonus for carrying the tag; related
keywords mix how often two keywords tag the same articles with how close their centroids are.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse

from seealso.embeddings.base import normalize
from seealso.errors import KeywordNotFound
from seealso.indexer.article import Article, keyword_key
from seealso.indexer.overrides import Override
from seealso.indexer.store import Store
from seealso.ranking.filters import Filters
from seealso.ranking.overrides import ORIGINS, active_edits, editor_reason, merge
from seealso.ranking.related import NO_FILTERS, Ranker, RelatedItem, Rendered, compact_json, tag
from seealso.ranking.vocabulary import Vocabulary

# A tagged article's score gets this bonus: the tag is an editor's word that it is on the subject.
TAG_BONUS = 0.15
# Scores within the same band of this width count as equal, and the fresher article goes first.
TIE_BAND = 0.05


@dataclass(frozen=True)
class KeywordArticles:
    keyword: str
    tagged: int
    items: list[RelatedItem]

    def to_dict(self) -> dict[str, Any]:
        return {"keyword": self.keyword, "tagged": self.tagged, "items": [i.to_dict() for i in self.items]}

    @property
    def json(self) -> bytes:
        return compact_json(self.to_dict())

    def rendered(self, key: str) -> Rendered:
        """As served: its JSON and the cache tags of its page (by the keyword's `key`) and of every
        article it shows."""
        shown = dict.fromkeys(i.article.id for i in self.items)
        tags = [tag("keyword", key), *(tag("article", i) for i in shown)]
        return Rendered(self.json, " ".join(tags))


@dataclass(frozen=True)
class RelatedKeyword:
    keyword: str
    score: float
    articles: int
    together: int
    similarity: float
    origin: str = "automatic"

    def to_dict(self) -> dict[str, Any]:
        return {
            "keyword": self.keyword,
            "origin": self.origin,
            "score": round(self.score, 4),
            "articles": self.articles,
            "reasons": {"articles_together": self.together, "similarity": round(self.similarity, 4)},
        }


@dataclass(frozen=True)
class TracedPage:
    """A keyword page with what it read: its centroid, the lowest dense score among the nearest
    articles it considered (-1 when that search was not full), its tagged articles and the vids
    that search found."""

    page: KeywordArticles
    center: np.ndarray
    floor: float
    tagged: frozenset[int]
    searched: frozenset[int]


@dataclass(frozen=True)
class TracedRelated:
    """A keyword's related keywords with what decides whether a change of other keywords can
    alter them (`Keywords.traced_related`).

    Attributes:
        bar: the score another keyword needs to enter: the lowest automatic score shown (-1 when
            every candidate is shown, 2 when no automatic item is).
        keys: its own key, the keys it shows and those its editors named.
    """

    items: list[RelatedKeyword]
    center: np.ndarray
    bar: float
    keys: frozenset[str]


@dataclass
class KeywordStats:
    """Per-keyword counts, centroids and co-occurrences at one catalog state."""

    seq: int
    built: float
    keys: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sums: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # of the vectors, a row a keyword
    centroids: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    spellings: list[list[str]] = field(default_factory=list)  # every way each is written, most used first
    position: dict[str, int] = field(default_factory=dict)
    keys_of_vid: dict[int, list[int]] = field(default_factory=dict)
    vids_of_key: dict[int, list[int]] = field(default_factory=dict)

    def together(self, index: int) -> Counter[int]:
        """keyword position → articles tagged with both it and the keyword at `index`."""
        found: Counter[int] = Counter()
        for vid in self.vids_of_key.get(index, []):
            found.update(self.keys_of_vid.get(vid, []))
        return found

    @classmethod
    def build(cls, store: Store) -> KeywordStats:
        seq = store.catalog.seq()
        rows = store.catalog.keyword_rows()
        held = set(store.index().vids().tolist())
        stats = cls(seq=seq, built=time.monotonic())
        spellings: dict[str, Counter[str]] = {}
        for key, name, vid in rows:
            if vid not in held:
                continue
            if key not in stats.position:
                stats.position[key] = len(stats.keys)
                stats.keys.append(key)
                spellings[key] = Counter()
            spellings[key][name] += 1
            index = stats.position[key]
            stats.keys_of_vid.setdefault(vid, []).append(index)
            stats.vids_of_key.setdefault(index, []).append(vid)
        stats.names = [spellings[key].most_common(1)[0][0] for key in stats.keys]
        stats.spellings = [[name for name, _ in spellings[key].most_common()] for key in stats.keys]
        sums = np.zeros((len(stats.keys), store.dimension or 1), dtype=np.float32)
        counts = np.zeros(len(stats.keys), dtype=np.float32)
        pair_vids = np.asarray(
            [vid for vid, found in stats.keys_of_vid.items() for _ in found], dtype=np.int64
        )
        pair_keys = np.asarray([key for found in stats.keys_of_vid.values() for key in found], dtype=np.int64)
        for vids, vectors in store.vector_chunks():  # bounded memory at any archive size
            if not len(vids) or not len(pair_vids):
                continue
            row_of = np.full(max(int(vids.max()), int(pair_vids.max())) + 1, -1, dtype=np.int64)
            row_of[vids] = np.arange(len(vids))
            at_row = row_of[pair_vids]
            inside = at_row >= 0
            # A sum of the chunk's vectors per keyword, as a sparse product (numpy's add.at, which
            # this replaces, took most of the time the statistics took to build).
            tagged = scipy.sparse.csr_matrix(
                (np.ones(int(inside.sum()), dtype=np.float32), (pair_keys[inside], at_row[inside])),
                shape=(len(stats.keys), len(vids)),
            )
            sums += tagged @ vectors
            counts += np.bincount(pair_keys[inside], minlength=len(stats.keys)).astype(np.float32)
        stats.counts = counts
        stats.sums = sums
        stats.centroids = normalize(sums)
        return stats


class Keywords:
    """Keyword pages over a Ranker's store; statistics are rebuilt when the catalog has changed and
    they are older than `refresh_seconds`."""

    def __init__(
        self,
        ranker: Ranker,
        *,
        min_similarity: float = 0.5,
        refresh_seconds: float = 30.0,
        cache_size: int = 0,
    ) -> None:
        """Args:
        cache_size: keyword pages kept as JSON for `articles_page` (0: none), until any write.
        """
        self.ranker = ranker
        self.cache_size = cache_size
        self._pages: OrderedDict[tuple[object, ...], Rendered] = OrderedDict()
        self._pages_state: tuple[int, int, int] = (-1, -1, -1)
        self._pages_lock = threading.Lock()
        self.store = ranker.store
        self.min_similarity = min_similarity
        self.refresh_seconds = refresh_seconds
        self._stats: KeywordStats | None = None
        self._vocabulary: tuple[KeywordStats, Vocabulary] | None = None
        self._lock = threading.Lock()

    def stats(self) -> KeywordStats:
        with self._lock:
            stale = self._stats is None or (
                self._stats.seq != self.store.catalog.seq()
                and time.monotonic() - self._stats.built >= self.refresh_seconds
            )
            if stale:
                self._stats = KeywordStats.build(self.store)
            assert self._stats is not None
            return self._stats

    def cached_articles_page(
        self, keyword: str, k: int = 10, filters: Filters = NO_FILTERS
    ) -> Rendered | None:
        """The page `articles_page` would serve when it is cached and still valid, else None, at
        the cost of two catalog reads: what a server answers on its event loop, leaving the
        rest (ranking, rebuilding the statistics) to a thread."""
        catalog, stats = self.store.catalog, self._stats
        if not self.cache_size or stats is None:
            return None
        seq = catalog.seq()
        if seq != stats.seq and time.monotonic() - stats.built >= self.refresh_seconds:
            return None  # the statistics are due to be rebuilt
        key = (catalog.canonical_key(keyword), k, filters, int(time.time() // 3600))
        with self._pages_lock:
            if self._pages_state != (seq, catalog.overrides_version(), stats.seq):
                return None
            found = self._pages.get(key)
            if found is not None:
                self._pages.move_to_end(key)
            return found

    def articles_page(self, keyword: str, k: int = 10, filters: Filters = NO_FILTERS) -> Rendered:
        """`articles(...)` as served (JSON and cache tags), kept until the catalog or the overrides
        change at all: a page follows its tagged articles' centroid, which any write may move, so
        no finer rule is exact."""
        catalog = self.store.catalog
        if not self.cache_size:
            return self.articles(keyword, k, filters).rendered(catalog.canonical_key(keyword))
        state = (catalog.seq(), catalog.overrides_version(), self.stats().seq)
        key = (catalog.canonical_key(keyword), k, filters, int(time.time() // 3600))
        with self._pages_lock:
            if state != self._pages_state:
                self._pages.clear()
                self._pages_state = state
            found = self._pages.get(key)
            if found is not None:
                self._pages.move_to_end(key)
                return found
        found = self.articles(keyword, k, filters).rendered(key[0])
        with self._pages_lock:
            if state == self._pages_state:
                self._pages[key] = found
                while len(self._pages) > self.cache_size:
                    self._pages.popitem(last=False)
        return found

    def articles(self, keyword: str, k: int = 10, filters: Filters = NO_FILTERS) -> KeywordArticles:
        """The `k` articles most about `keyword`: tagged ones and untagged ones close to them.

        Ranked by similarity to the keyword's centroid (plus TAG_BONUS when tagged); within a
        TIE_BAND of score, fresher first. An untagged article needs `min_similarity`. A keyword
        nobody tagged falls back to searching its text.
        """
        return self.traced(keyword, k, filters).page

    def traced(self, keyword: str, k: int = 10, filters: Filters = NO_FILTERS) -> TracedPage:
        """`articles(...)` with what it read: what the change feed checks writes against."""
        tagged, vectors = self.store.vectors(np.asarray(self.store.catalog.vids_with_keyword(keyword)))
        if len(tagged):
            center = normalize(vectors.mean(axis=0, keepdims=True))[0]
        elif self.ranker.embedder_missing:
            raise KeywordNotFound(keyword)
        else:
            center = self.ranker.embedder.embed([keyword], role="query")[0]
        # Candidates: the tagged articles nearest the centroid, and the nearest articles of all.
        depth = 3 * k + 10 + (4 * k if filters.active else 0)
        cosines = vectors @ center
        best = np.argpartition(-cosines, depth)[:depth] if len(cosines) > depth else np.arange(len(cosines))
        similarity = {int(tagged[i]): float(cosines[i]) for i in best}
        best_tagged = set(similarity)
        scores, near = self.store.search(center, depth)
        floor = float(scores[-1]) if len(scores) >= depth else -1.0
        for score, vid in zip(scores, near, strict=True):
            similarity.setdefault(int(vid), float(score))
        similarity = self._calibrated(similarity, center)
        tagged_set = set(tagged.tolist())
        candidates = [
            v
            for v, c in similarity.items()
            if v in best_tagged or (v not in tagged_set and c >= self.min_similarity)
        ]
        entries = self.store.catalog.get_by_vids(candidates, bodies=False)
        items = []
        for vid in candidates:
            entry = entries.get(vid)
            if entry is None or not filters.matches(entry.article):
                continue
            items.append(_article_item(entry.article, similarity[vid], vid in tagged_set))
        by_score = {i.article.id: place for place, i in enumerate(sorted(items, key=lambda i: -i.score))}
        items.sort(
            key=lambda i: (-math.floor(i.score / TIE_BAND), _negated(i.article.published_at), i.article.id)
        )
        for place, item in enumerate(items):  # fresher first among equals: say so, and by how much
            if by_score[item.article.id] != place:
                item.reasons["moved_by"] = ["freshness"]
                item.reasons["moves"] = {"freshness": by_score[item.article.id] - place}
        items = self._collapse(items, {e.article.id: vid for vid, e in entries.items()}, 2 * k + 10)
        edits = active_edits(self.store.catalog, "keyword", self.store.catalog.canonical_key(keyword))
        automatic = [i for i in items if i.article.id not in edits.targets]
        placed = [(o, self._editor_item(o, center, tagged)) for o in edits.placed]
        chosen = [(o, item) for o, item in placed if item and item.article.id not in filters.exclude]
        # A page of one language is named as that language names it (CEDEAO, not ECOWAS).
        language = next(iter(filters.languages)) if len(filters.languages) == 1 else None
        page = KeywordArticles(
            self.display_name(keyword, language), len(tagged), merge(automatic, chosen, k, lambda i: i.score)
        )
        if any(item is None for _, item in placed):  # an editor's target yet to be indexed: any may enter
            floor = -1.0
        return TracedPage(page, center, floor, frozenset(tagged.tolist()), frozenset(near.tolist()))

    def _calibrated(self, cosines: dict[int, float], center: np.ndarray) -> dict[int, float]:
        """Cosines to the centroid, calibrated like a search's (`Scorer.query_scales`): a centroid
        is not an article, and is closer to every article than an article is."""
        scales = self.ranker.scorer.query_scales(center)
        facets = self.store.catalog.facets(list(cosines))
        out = {}
        for vid, cosine in cosines.items():
            base, span = scales.get(facets[vid][2], (0.0, 1.0)) if vid in facets else (0.0, 1.0)
            out[vid] = float(np.clip((cosine - base) / max(span, 1e-3), 0.0, 1.0))
        return out

    def _collapse(self, items: list[RelatedItem], vid_of: dict[str, int], depth: int) -> list[RelatedItem]:
        """Near-duplicates among the first `depth` items (an update, a syndicated copy; in the same
        language) take one place, the first one's, which lists the others as `duplicates`."""
        head = items[:depth]
        held, vectors = self.store.vectors(np.asarray([vid_of[i.article.id] for i in head], dtype=np.int64))
        vector_of = dict(zip(held.tolist(), vectors, strict=True))
        threshold = self.ranker.rules.duplicate_similarity
        kept: list[RelatedItem] = []
        compared: list[tuple[RelatedItem, np.ndarray]] = []  # the kept items that have a vector
        for item in head:
            vector = vector_of.get(vid_of[item.article.id])
            if vector is not None and compared:
                # Within a language only: a page lists the subject's coverage in each language.
                cosines = np.stack([v for _, v in compared]) @ vector
                cosines[[i.article.language != item.article.language for i, _ in compared]] = -1.0
                similarity = self.ranker.scorer.calibrate(
                    cosines[None, :], [item.article.language], [i.article.language for i, _ in compared]
                )[0]
                best = int(np.argmax(similarity))
                if similarity[best] >= threshold:
                    compared[best][0].reasons.setdefault("duplicates", []).append(item.article.id)
                    continue
            kept.append(item)
            if vector is not None:
                compared.append((item, vector))
        return kept + items[depth:]

    def _editor_item(self, override: Override, center: np.ndarray, tagged: np.ndarray) -> RelatedItem | None:
        entry = self.store.catalog.get(override.target)
        vector = None if entry is None else self.store.vector(entry.vid)
        if entry is None or vector is None:
            return None
        similarity = self._calibrated({entry.vid: float(vector @ center)}, center)[entry.vid]
        item = _article_item(
            entry.article, similarity, entry.vid in set(tagged.tolist()), ORIGINS[override.action]
        )
        item.reasons["editor"] = editor_reason(override)
        return item

    def related(self, keyword: str, k: int = 10) -> list[RelatedKeyword]:
        """Keywords related to `keyword`, best first.

        score = ½ · co-occurrence (articles tagged with both / √(articles of each)) + ½ · cosine of
        the two keywords' centroids (floored at 0).
        """
        return self.traced_related(keyword, k).items

    def traced_related(self, keyword: str, k: int = 10, stats: KeywordStats | None = None) -> TracedRelated:
        """`related(...)` with what decides whether a change of other keywords can alter it (any
        change of one it shows or its editors named; of another, only when that one's score
        reaches the bar: `scores_with`)."""
        stats = stats or self.stats()
        index = stats.position.get(self.store.catalog.canonical_key(keyword))
        if index is None:
            raise KeywordNotFound(keyword)
        together = stats.together(index)
        similarity = stats.centroids @ stats.centroids[index]
        # Keywords neither tagged with it nor among its nearest score below all of these (½ · cosine).
        nearest = np.argsort(-similarity)[: 4 * k + 1]
        candidates = (set(together) | {int(i) for i in nearest}) - {index}
        mine = float(stats.counts[index])

        def scored(other: int, origin: str = "automatic") -> RelatedKeyword:
            count = int(stats.counts[other])
            cosine = float(similarity[other])
            score = related_score(together[other], mine, count, cosine)
            return RelatedKeyword(stats.names[other], score, count, together[other], cosine, origin)

        out = sorted((scored(other) for other in candidates), key=lambda r: (-r.score, r.keyword))
        edits = active_edits(self.store.catalog, "keyword_related", stats.keys[index])
        automatic = [r for r in out if keyword_key(r.keyword) not in edits.targets]
        placed = [
            (o, scored(stats.position[o.target], ORIGINS[o.action]))
            for o in edits.placed
            if o.target in stats.position
        ]
        shown = merge(automatic, placed, k, lambda r: r.score)
        room = max(0, k - sum(1 for o, _ in placed if o.position is None or o.position <= k))
        bar = 2.0 if room == 0 else -1.0 if len(automatic) <= room else automatic[room - 1].score
        keys = frozenset({stats.keys[index], *edits.targets, *(keyword_key(r.keyword) for r in shown)})
        return TracedRelated(shown, stats.centroids[index], bar, keys)

    def scores_with(self, keys: list[int], stats: KeywordStats) -> np.ndarray:
        """The related-keywords score of every keyword (rows) with each of the keywords at
        positions `keys` (columns), as `traced_related` scores them."""
        if not keys:
            return np.zeros((len(stats.keys), 0), dtype=np.float32)
        cosines = stats.centroids @ stats.centroids[keys].T
        counts = stats.counts.astype(np.float64)
        scores = 0.5 * np.maximum(cosines, 0.0)
        for column, key in enumerate(keys):
            for other, shared in stats.together(key).items():
                cosine = cosines[other, column]
                scores[other, column] = related_score(shared, counts[other], counts[key], cosine)
        return scores

    def vocabulary(self, stats: KeywordStats | None = None) -> Vocabulary:
        """The keywords in use, for finding one (`Vocabulary.search`), as of the statistics (in
        their order)."""
        stats = stats or self.stats()
        with self._lock:
            if self._vocabulary is None or self._vocabulary[0] is not stats:
                language_of = self.store.catalog.languages_of(list(stats.keys_of_vid))
                languages: list[Counter[str]] = [Counter() for _ in stats.keys]
                for vid, found in stats.keys_of_vid.items():
                    for index in found:
                        languages[index][language_of.get(vid, "")] += 1
                # How each language writes each keyword (an alias group: CEDEAO in French).
                written: dict[tuple[int, str], Counter[str]] = {}
                for key, name, vid in self.store.catalog.keyword_rows():
                    if key in stats.position and vid in language_of:
                        written.setdefault((stats.position[key], language_of[vid]), Counter())[name] += 1
                local: list[dict[str, str]] = [{} for _ in stats.keys]
                for (index, language), names in sorted(written.items()):
                    local[index][language] = names.most_common(1)[0][0]
                vocabulary = Vocabulary(stats.keys, stats.names, languages, stats.spellings, local)
                self._vocabulary = (stats, vocabulary)
            return self._vocabulary[1]

    def display_name(self, keyword: str, language: str | None = None) -> str:
        """How the keyword (or its alias group) is usually written: its most common spelling in
        the catalog, or in articles of `language` when given and it is written there."""
        catalog = self.store.catalog
        found = catalog.keyword_name(keyword, language) if language else None
        return found or catalog.keyword_name(keyword) or " ".join(keyword.split())


def related_score(together: int, mine: float, theirs: float, cosine: float) -> float:
    """½ · co-occurrence (articles tagged with both / √(articles of each)) + ½ · cosine of the two
    keywords' centroids, floored at 0."""
    return 0.5 * together / math.sqrt(mine * theirs) + 0.5 * max(0.0, float(cosine))


def _article_item(article: Article, cosine: float, tagged: bool, origin: str = "automatic") -> RelatedItem:
    """An article on a keyword page: its similarity to the keyword, plus TAG_BONUS when tagged."""
    score = min(1.0, cosine + TAG_BONUS) if tagged else cosine
    return RelatedItem(article, score, {"tagged": tagged, "similarity": round(cosine, 4)}, origin)


def _negated(stamp: str | None) -> str:
    """A sort key that puts later timestamps first (and undated articles last)."""
    if stamp is None:
        return "~"
    return "".join(chr(ord("9") - ord(c) + ord("0")) if c.isdigit() else c for c in stamp)
