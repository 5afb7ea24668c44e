"""Related articles for an article or a text, and the relevance score of any pair of articles.

The relevance score (`seealso.ranking.scoring`) ranks related lists, is returned by `check-links` and by
the API. A list is built in three steps: candidates from the vector index (filters applied before
the cut), their relevance to the source, then the list rules (`seealso.ranking.shaping`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import numpy as np

from seealso.embeddings import Embedder
from seealso.errors import ArticleNotFound, SeealsoError
from seealso.indexer.analysis import names as text_names
from seealso.indexer.analysis import terms as text_terms
from seealso.indexer.article import Article
from seealso.indexer.catalog import Catalog, Entry
from seealso.indexer.overrides import Override
from seealso.indexer.store import Store
from seealso.indexer.vectors import SCORE_ERROR
from seealso.ranking.cache import Cached, LexicalSearch, ListCache
from seealso.ranking.filters import Filters
from seealso.ranking.overrides import ORIGINS, active_edits, editor_reason, merge
from seealso.ranking.scoring import Profile, Relevance, Scorer, empty_profile
from seealso.ranking.shaping import Candidate, ListRules, shape
from seealso.ranking.translations import Version
from seealso.ranking.translations import groups as translation_groups
from seealso.ranking.translations import inert as translations_inert

NO_FILTERS = Filters()
# How deep check-links looks for a link target in the source's ranking.
RANK_DEPTH = 100
# How many of an article's words and names its list's lexical candidates are searched with: a
# handful of its rarest, most repeated ones (a BM25 query of all of them would match most of the
# catalog and cost as much).
TELLING_TERMS, TELLING_NAMES = 10, 5
# At most this many articles' postings read by that search (the sum of its words' document
# frequencies): rare words are what vectors miss, and common ones cost the most. At 100,000
# articles (scripts/bench_service.py's) a search of every telling word read 26,000 postings and
# took 35 ms; within 400 an uncached list takes 8.6 ms (3.3 without this channel), and the
# demo's lists change as with no bound (32 of 134).
TELLING_POSTINGS = 400
# FTS5's unicode61 tokenizer splits at every character that is not a letter or a digit.
_TOKEN = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class RelatedItem:
    article: Article
    score: float
    reasons: dict[str, Any] = field(default_factory=dict)
    origin: str = "automatic"  # or "pinned", "linked": an editor's (see ranking.overrides)
    translations: tuple[Article, ...] = ()  # the same story in other languages (ranking.translations)

    def to_dict(self) -> dict[str, Any]:
        return {
            **article_dict(self.article),
            "translations": [translation_dict(a) for a in self.translations],
            "score": round(self.score, 4),
            "origin": self.origin,
            "reasons": self.reasons,
        }


@dataclass(frozen=True)
class RelatedList:
    article: Article | None
    items: list[RelatedItem]
    translations: tuple[Article, ...] = ()  # the article's own, in other languages

    def to_dict(self) -> dict[str, Any]:
        head = {}
        if self.article is not None:
            translations = [translation_dict(a) for a in self.translations]
            head = {"article": {**article_dict(self.article), "translations": translations}}
        return {**head, "items": [item.to_dict() for item in self.items]}

    @functools.cached_property
    def json(self) -> bytes:
        """`to_dict()` as compact UTF-8 JSON, made once (a cached list is served many times)."""
        return compact_json(self.to_dict())

    @property
    def rendered(self) -> Rendered:
        """As served: its JSON and the cache tags of its page and of every article it shows."""
        shown = [item.article.id for item in self.items]
        shown += [a.id for item in self.items for a in item.translations]
        if self.article is not None:
            shown = [self.article.id, *(a.id for a in self.translations), *shown]
        head = [tag("related", self.article.id)] if self.article is not None else []
        return Rendered(self.json, " ".join(head + [tag("article", i) for i in dict.fromkeys(shown)]))


@dataclass(slots=True)
class Rendered:
    """A list as served: its JSON, its cache tags (space-separated: Surrogate-Key; a CDN purges
    every response that carries a tag) and its HTML fragment, made by the service on first use."""

    json: bytes
    tags: str
    html: bytes | None = None


def tag(kind: str, key: str) -> str:
    """The cache tag of a page (`related`, `keyword`, `keyword_related`) or of an `article`:
    `kind/key`, the key percent-encoded, so that a tag has no space or comma."""
    return f"{kind}/{quote(key, safe='')}"


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


def compact_json(payload: Any) -> bytes:
    """`payload` as compact UTF-8 JSON: how lists are served."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


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
        "image_url": article.image_url,
        "kicker": article.kicker,
        **({"language_source": article.language_source} if article.language_source != "given" else {}),
    }


def telling_words(
    profile: Profile, frequencies: Callable[[np.ndarray], np.ndarray]
) -> tuple[list[int], list[int]]:
    """An article's most telling words and names: the highest TF-IDF weights first, as long as
    the articles that have them (`frequencies`: word ids → document frequencies) stay within
    TELLING_POSTINGS. What its related list's lexical candidates are searched with
    (`Ranker._lexical_pool`): BM25 reads every article that has a query word, so a common one
    would cost the most and tell the least."""
    budget = float(TELLING_POSTINGS)

    def top(ids: np.ndarray, weights: np.ndarray, n: int) -> list[int]:
        nonlocal budget
        order = np.argsort(-weights, kind="stable")
        counts = frequencies(ids[order])
        chosen: list[int] = []
        for index, count in zip(order.tolist(), counts.tolist(), strict=True):
            if len(chosen) == n:
                break
            if count <= budget:
                chosen.append(int(ids[index]))
                budget -= count
        return chosen

    names = top(profile.name_ids, profile.name_weights, TELLING_NAMES)
    return top(profile.term_ids, profile.term_weights, TELLING_TERMS), names


def search_tokens(words: Iterable[str]) -> frozenset[str]:
    """The tokens the full-text index splits `words` into (or finer)."""
    return frozenset(token for word in words for token in _TOKEN.findall(word.casefold()))


def search_phrases(words: Iterable[str]) -> frozenset[tuple[str, ...]]:
    """Each of `words` as the tokens the full-text index splits it into: a query word or name (a
    phrase: "Assimi Goïta") can match an article only if the article has every one of its tokens
    (see `seealso.ranking.cache`)."""
    return frozenset(found for word in words if (found := tuple(_TOKEN.findall(word.casefold()))))


def reached(phrases: frozenset[tuple[str, ...]], tokens: frozenset[str]) -> bool:
    """Whether an article of these `tokens` could match one of `phrases`."""
    return any(tokens.issuperset(phrase) for phrase in phrases)


def article_tokens(catalog: Catalog, vids: Sequence[int]) -> frozenset[str]:
    """The full-text tokens of every word and name of the articles `vids`: what a phrase of a
    list's lexical search must be made of for them to match it (`reached`)."""
    ids = {
        int(i)
        for row in catalog.lexical(vids).values()
        for part in (row.term_ids, row.name_ids)
        for i in part
    }
    return search_tokens(catalog.words(sorted(ids)).values())


def _columns(pairs: list[tuple[float, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(scores, vids) arrays of (score, vid) pairs, as the vector index returns them."""
    return np.asarray([s for s, _ in pairs], dtype=np.float32), np.asarray(
        [v for _, v in pairs], dtype=np.int64
    )


def translation_dict(article: Article) -> dict[str, Any]:
    """What a page needs to offer another language ("Lire en français")."""
    return {"id": article.id, "language": article.language, "url": article.url, "title": article.title}


def shared_keywords(a: Article, b: Article) -> list[str]:
    theirs = {k.casefold() for k in b.keywords}
    return [k for k in a.keywords if k.casefold() in theirs]


class Ranker:
    """Answers "what is related" over one Store.

    Args:
        store: the data dir to rank from.
        embedder: a loaded embedder, or a callable that loads one on first use (only free-text
            search needs it; related lists and pair scores use the stored vectors).
        rules: how lists are shaped (minimum relevance, duplicates, freshness, diversity).
        cache_size: related lists kept in memory as JSON for `related_page` (0: none); a write
            drops exactly the lists it can change (see ranking.cache), and lists are rebuilt each
            hour (freshness moves slowly).
    """

    def __init__(
        self,
        store: Store,
        embedder: Embedder | Callable[[], Embedder] | None = None,
        rules: ListRules | None = None,
        cache_size: int = 0,
    ) -> None:
        self.store = store
        self._embedder = embedder
        self.rules = rules or ListRules()
        self._lists: ListCache[Rendered] | None = ListCache(cache_size) if cache_size else None
        self._catch_up_lock = threading.Lock()
        self.scorer = Scorer(store, store.model_languages)
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

    # -- lists --------------------------------------------------------------------------------------

    def related(
        self,
        article_id: str,
        k: int = 10,
        filters: Filters = NO_FILTERS,
        rules: ListRules | None = None,
        now: datetime | None = None,
    ) -> RelatedList:
        """The `k` articles most related to `article_id`, the article itself and its own
        near-duplicates left out. Filters apply before the list is cut to `k`."""
        return self._related(article_id, k, filters, rules or self.rules, now).value

    def cached_related_page(
        self, article_id: str, k: int = 10, filters: Filters = NO_FILTERS, rules: ListRules | None = None
    ) -> Rendered | None:
        """The list `related_page` would serve when it is cached and still valid, else None, at the
        cost of two catalog reads: what a server answers on its event loop, leaving the rest
        (catching up with changes, ranking) to a thread."""
        if self._lists is None:
            return None
        catalog = self.store.catalog
        seq = catalog.seq()
        state = (seq, catalog.overrides_version(), self.scorer.settled_epoch(seq))
        if state != self._lists.state:
            return None
        return self._lists.get((article_id, k, filters, rules or self.rules, int(time.time() // 3600)))

    def related_page(
        self,
        article_id: str,
        k: int = 10,
        filters: Filters = NO_FILTERS,
        rules: ListRules | None = None,
        now: datetime | None = None,
    ) -> Rendered:
        """`related(...)` as served (JSON and cache tags), kept in the list cache (when there is
        one) until a change can alter it."""
        rules = rules or self.rules
        if self._lists is None:
            return self._related(article_id, k, filters, rules, now).value.rendered
        generation = self._catch_up()
        key = (article_id, k, filters, rules, now or int(time.time() // 3600))
        found = self._lists.get(key)
        if found is None:
            built = self._related(article_id, k, filters, rules, now)
            found = built.value.rendered
            entry = Cached(
                found, built.source, built.vector, built.depends, built.floor, built.words, built.bar
            )
            self._lists.put(key, entry, generation)
        return found

    def traced(self, article_id: str, k: int = 10, rules: ListRules | None = None) -> Cached[RelatedList]:
        """The unfiltered list of `article_id`, computed afresh, with what it read (ranking.cache):
        what the change feed compares and checks writes against (ranking.pages)."""
        return self._related(article_id, k, NO_FILTERS, rules or self.rules, None)

    def _catch_up(self) -> int:
        """Drop the cached lists that the catalog's and the overrides' changes since the last call
        can alter (see ranking.cache); returns the cache's generation to store new lists under."""
        assert self._lists is not None
        catalog, lists = self.store.catalog, self._lists
        seq, version = catalog.seq(), catalog.overrides_version()
        epoch = self.scorer.epoch(seq)
        if (seq, version, epoch) == lists.state:
            return lists.generation
        with self._catch_up_lock:
            old_seq, old_version, old_epoch = lists.state
            if epoch != old_epoch or old_seq < 0:
                lists.clear()
            else:
                if seq != old_seq:
                    upserts, deletes = catalog.changes_since(old_seq)
                    held, vectors = self.store.vectors(np.asarray(upserts, dtype=np.int64))
                    margin = SCORE_ERROR[self.store.index().kind]
                    # In a catalog of one language, no article can be another's translation.
                    spoken = {e.article.language for e in catalog.get_by_vids(upserts, bodies=False).values()}
                    lists.changed(
                        [*upserts, *deletes], held, vectors, margin, article_tokens(catalog, upserts),
                        inert=len(spoken | set(self.scorer.languages())) <= 1,
                    )  # fmt: skip
                if version != old_version:
                    lists.overridden(catalog.override_sources_since(old_version, "article"))
                    if catalog.override_sources_since(old_version, "site"):
                        lists.clear()  # blocked from every list, or no longer: rare, and everywhere
            return lists.advance((seq, version, epoch))

    def _related(
        self, article_id: str, k: int, filters: Filters, rules: ListRules, now: datetime | None
    ) -> Cached[RelatedList]:
        """The list, with what it read (for the cache: see ranking.cache)."""
        entry = self.entry(article_id)
        vector = self._vector(entry)
        source = self._profile(entry)
        edits = active_edits(self.store.catalog, "article", article_id)
        found = self.store.catalog.hashes(sorted(edits.targets))  # id → (vid, ...); none without edits
        # What this list's editors placed or blocked is not searched for; what is blocked from
        # every list is searched for and left out after, so that only the lists whose candidates
        # held it read it (and change when it is blocked or let back in).
        skip = {entry.vid} | {vid for target, (vid, _, _) in found.items() if target not in edits.everywhere}
        hidden = {vid for target, (vid, _, _) in found.items() if target in edits.everywhere}
        depth = max(3 * k, 30)
        pool = self._candidates(vector, depth, skip, filters)
        # A pool that is not full, or an editor's target yet to be indexed: any new article may enter.
        full = len(pool) >= depth and all(t in found for t in edits.targets - edits.everywhere)
        floor = pool[-1][0] if full else -1.0
        terms, names = telling_words(source, self.scorer.document_frequencies)
        said = self.store.catalog.words([*terms, *names])
        words = [said[i] for i in terms if i in said], [said[i] for i in names if i in said]
        taken = skip | {vid for _, vid in pool}
        extra, lexical_found = self._lexical_pool(vector, *words, depth, taken, filters)
        pool += extra
        lexical = LexicalSearch(tuple(words[0]), tuple(words[1]), depth + len(taken), lexical_found)
        shown = [(score, vid) for score, vid in pool if vid not in hidden] if hidden else pool
        automatic, translations, (deepest, searched, inert) = self._list(
            shown, vector, source, entry, k, rules, now, hidden=edits.everywhere
        )
        placed = [
            (o, self._editor_item(entry, vector, source, o))
            for o in edits.placed
            if o.target in found and o.target not in filters.exclude
        ]
        items = merge(automatic, [(o, item) for o, item in placed if item is not None], k, lambda i: i.score)
        deep = min(floor, deepest)  # -1 when either was not full: any new article may enter
        return Cached(
            RelatedList(entry.article, items, translations),
            source=article_id,
            vector=vector,
            depends=frozenset(skip | {vid for _, vid in pool} | searched),
            floor=deep,
            bar=floor if inert else deep,
            lexical=lexical if not filters.active else None,
            words=search_phrases(words[0] + words[1]),
        )

    def _editor_item(
        self, source: Entry, vector: np.ndarray, profile: Profile, override: Override
    ) -> RelatedItem | None:
        """The item an editor put in `source`'s list, scored and explained like the others."""
        target = self.store.catalog.get(override.target)
        if target is None:
            return None
        dense = float(np.dot(vector, self._vector(target)))
        relevance = self.scorer.relevance(dense, profile, self._profile(target))
        reasons: dict[str, Any] = {
            **relevance.components(),
            "shared_keywords": shared_keywords(source.article, target.article),
            "shared_names": relevance.shared_names,
            "editor": editor_reason(override),
        }
        return RelatedItem(target.article, relevance.score, reasons, ORIGINS[override.action])

    def search(
        self,
        text: str,
        k: int = 10,
        filters: Filters = NO_FILTERS,
        rules: ListRules | None = None,
        now: datetime | None = None,
    ) -> RelatedList:
        """The `k` articles most relevant to a free text. A search returns its best matches however
        weak: the minimum score is for article-to-article lists.

        Candidates come from two channels: the articles nearest the text's vector, and those its
        words or names match best by BM25 (its words stemmed in every language of the catalog,
        since a query has no language of its own), so that a one-word or a name query finds the
        articles that use it. Both are then scored alike, the text analyzed in each candidate's
        language (or in the filter's one language)."""
        if not text.strip():
            raise SeealsoError("the search text is empty")
        vector = self.embedder.embed([text], role="query")[0]
        languages = sorted(filters.languages or self.scorer.languages() or {"en"})
        terms = {lang: text_terms(text, lang) for lang in languages}
        names = text_names(" " + text)
        rules = dataclasses.replace(rules or self.rules, min_score=0.0)
        depth = max(3 * k, 30)
        pool = self._candidates(vector, depth, set(), filters)
        stems = sorted({stem for counts in terms.values() for stem in counts})
        pool += self._lexical_pool(vector, stems, sorted(names), depth, {vid for _, vid in pool}, filters)[0]
        queries = {lang: self.scorer.profile(counts, names, lang) for lang, counts in terms.items()}
        fallback = queries[languages[0]]
        scales = self.scorer.query_scales(vector)
        items, _, _ = self._list(
            pool, vector, lambda lang: queries.get(lang, fallback), None, k, rules, now, scales
        )
        return RelatedList(None, items)

    # -- pairs --------------------------------------------------------------------------------------

    def relevance(self, source_id: str, target_id: str) -> Relevance:
        """The relevance of a pair of articles, with its components."""
        source, target = self.entry(source_id), self.entry(target_id)
        dense = float(np.dot(self._vector(source), self._vector(target)))
        return self.scorer.relevance(dense, self._profile(source), self._profile(target))

    def score(self, source_id: str, target_id: str) -> float:
        """The relevance score of a pair of articles, in [0, 1]."""
        return self.relevance(source_id, target_id).score

    def check_links(
        self, pairs: Iterable[tuple[str, str]], *, weak: float, strong: float
    ) -> Iterable[LinkCheck]:
        """Score existing links and say which are weak.

        Verdicts: `strong` (score ≥ strong), `weak` (score < weak), `ok` otherwise, `error` for an
        unknown id or a link to itself. `rank` is the target's place, by relevance, among the
        source's nearest RANK_DEPTH articles.
        """
        rankings: dict[str, list[int]] = {}
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
            relevance = self.relevance(source_id, target_id)
            if source_id not in rankings:
                rankings[source_id] = self._ranking(source)
            order = rankings[source_id]
            rank = order.index(target.vid) + 1 if target.vid in order else None
            verdict = "strong" if relevance.score >= strong else "weak" if relevance.score < weak else "ok"
            reasons = [f"rank {rank}" if rank else f"not in the top {RANK_DEPTH}"]
            common = shared_keywords(source.article, target.article)
            reasons.append("shared keywords: " + ", ".join(common) if common else "no shared keywords")
            if relevance.shared_names:
                reasons.append("shared names: " + ", ".join(relevance.shared_names[:5]))
            parts = relevance.components()
            reasons.append(f"dense {parts['dense']}, lexical {parts['lexical']}, names {parts['names']}")
            yield LinkCheck(source_id, target_id, relevance.score, rank, verdict, "; ".join(reasons))

    # -- internals ----------------------------------------------------------------------------------

    def _vector(self, entry: Entry) -> np.ndarray:
        vector = self.store.vector(entry.vid)
        if vector is None:
            raise SeealsoError(f"article {entry.article.id!r} has no vector; re-run `seealso index`")
        return vector

    def _profile(self, entry: Entry) -> Profile:
        found = self.scorer.profiles([entry.vid])
        return found.get(entry.vid) or empty_profile(entry.article.language)

    def _ranking(self, source: Entry) -> list[int]:
        """The source's nearest RANK_DEPTH articles by relevance, best first."""
        pool = self._candidates(self._vector(source), RANK_DEPTH, {source.vid}, NO_FILTERS)
        scored = self._score(pool, self._profile(source))
        return [c.vid for c in sorted(scored, key=lambda c: -c.score)]

    def _list(
        self,
        pool: list[tuple[float, int]],
        vector: np.ndarray,
        source: Profile | Callable[[str], Profile],
        source_entry: Entry | None,
        k: int,
        rules: ListRules,
        now: datetime | None,
        scales: dict[str, tuple[float, float]] | None = None,
        hidden: frozenset[str] = frozenset(),
    ) -> tuple[list[RelatedItem], tuple[Article, ...], tuple[float, set[int], bool]]:
        """The list made of a candidate `pool`: scored, one item a story, then shaped by the rules;
        the source article's own translations; and what the search for its translations read
        (`_stories`).
        `source` is the source's profile, or a function of a candidate's language that gives it,
        and `scales` the dense calibration (`Scorer.query_scales`), for a search. Articles of
        `hidden` (blocked from every list) are not named as any item's other editions either."""
        article = source_entry.article if source_entry is not None else None
        candidates = self._score(pool, source, scales)
        candidates, own, searched = self._stories(candidates, source_entry, vector, len(pool))
        if article is not None and candidates:  # the article's own other versions are not related
            cosines = np.stack([c.vector for c in candidates]) @ vector
            languages = [c.profile.language if c.profile else "" for c in candidates]
            close = self.scorer.calibrate(cosines[None, :], [article.language], languages)[0]
            candidates = [
                c for c, near in zip(candidates, close, strict=True) if near < rules.duplicate_similarity
            ]
        chosen = shape(candidates, k, rules, now, self.scorer.calibrate)
        others = self.store.catalog.get_by_vids(
            [*own, *(v for c in chosen for v in c.translations)], bodies=False
        )
        entries = self.store.catalog.get_by_vids([c.vid for c in chosen], bodies=False)
        profiles = [c.profile or empty_profile("") for c in chosen]
        if isinstance(source, Profile):
            names = self.scorer.shared_names(source, profiles)
        else:
            names = [self.scorer.shared_names(source(p.language), [p])[0] for p in profiles]
        collapsed_ids = self.store.catalog.facets([v for c in chosen for v in c.collapsed])
        items = []
        for c, shared_names in zip(chosen, names, strict=True):
            entry = entries.get(c.vid)
            if entry is None:  # deleted meanwhile
                continue
            reasons: dict[str, Any] = {**c.relevance.components(), "freshness": round(c.freshness, 4)}
            if article is not None:
                reasons["shared_keywords"] = shared_keywords(article, entry.article)
            reasons["shared_names"] = shared_names
            if c.collapsed:
                reasons["duplicates"] = [collapsed_ids[v][0] for v in c.collapsed if v in collapsed_ids]
            if c.moved:
                reasons["moved_by"] = c.moved
                reasons["moves"] = c.moves  # places up (or down) by rule: why order and scores differ
            translations = tuple(
                others[v].article
                for v in c.translations
                if v in others and others[v].article.id not in hidden
            )
            items.append(RelatedItem(entry.article, c.score, reasons, translations=translations))
        editions = tuple(others[v].article for v in own if v in others and others[v].article.id not in hidden)
        return items, editions, searched

    def _stories(
        self, candidates: list[Candidate], source: Entry | None, vector: np.ndarray, depth: int
    ) -> tuple[list[Candidate], list[int], tuple[float, set[int], bool]]:
        """One candidate a story (`seealso.ranking.translations`): the others of its group go into its
        `translations`, and the group shows its version in the source's language, else its best.
        A translation is a near-duplicate, so it is looked for among twice `depth` articles
        nearest the source (one more search), not only among the candidates.
        Returns the candidates left, the vids of the source's own translations, and of that
        search: its lowest score (-1 when it found fewer than it asked for: any article may join),
        the vids it read, and whether the articles it found beyond the candidates are inert
        (`translations.inert`, and none declared a translation): then an article that enters the
        search without entering the candidates, inert itself, changes nothing."""
        ranked = sorted(candidates, key=lambda c: -c.score)
        versions = [
            Version(c.vid, c.profile.language if c.profile else "", c.published_at, c.vector) for c in ranked
        ]
        if source is not None:
            article = source.article
            versions.insert(0, Version(source.vid, article.language, article.published_at, vector))
        known = {v.vid for v in versions}
        scores, nearest = self.store.search(vector, 2 * max(depth, 1))
        deepest = float(scores[-1]) if len(scores) >= 2 * max(depth, 1) else -1.0
        extra = [int(v) for v in nearest if int(v) not in known]
        facets = self.store.catalog.facets(extra)
        held, rows = self.store.vectors(np.asarray(extra, dtype=np.int64))
        first_extra = len(versions)
        versions += [
            Version(v, facets[v][2], facets[v][3], row)
            for v, row in zip(held.tolist(), rows, strict=True)
            if v in facets
        ]
        vids = [v.vid for v in versions]
        declared = self.store.catalog.declared_translations(vids)
        group = translation_groups(versions, declared, self.scorer.calibrate)
        extras = range(first_extra, len(versions))
        inert = not any(declared.get(vids[row]) for row in extras) and translations_inert(
            versions, extras, self.scorer.calibrate
        )
        by_vid = {c.vid: c for c in ranked}
        source_vid = source.vid if source is not None else -1
        members: dict[int, list[int]] = {}
        for vid in vids:
            members.setdefault(group[vid], []).append(vid)
        own: list[int] = []
        if source is not None:
            own = [v for v in members.pop(group[source_vid]) if v != source_vid]
            own += sorted(declared.get(source_vid, set()) - set(own) - set(vids))  # beyond the search
        language = source.article.language if source is not None else None
        language_of = {v.vid: v.language for v in versions}
        kept = []
        for group_vids in members.values():
            shown_from = [v for v in group_vids if v in by_vid]  # the nearest others only translate
            if not shown_from:
                continue
            in_language = [v for v in shown_from if language_of[v] == language]
            shown = in_language[0] if in_language else shown_from[0]
            story = by_vid[shown]
            beyond = declared.get(shown, set()) - set(group_vids) - {source_vid}
            story.translations = [v for v in group_vids if v != shown] + sorted(beyond)
            kept.append(story)
        return kept, own, (deepest, set(vids), inert)

    def _score(
        self,
        pool: list[tuple[float, int]],
        source: Profile | Callable[[str], Profile],
        scales: dict[str, tuple[float, float]] | None = None,
    ) -> list[Candidate]:
        vids = [v for _, v in pool]
        facets = self.store.catalog.facets(vids)
        profiles = self.scorer.profiles(vids)
        held, vectors = self.store.vectors(np.asarray(vids, dtype=np.int64))
        vector_of = dict(zip(held.tolist(), vectors, strict=True))
        live = [(d, v) for d, v in pool if v in facets and v in vector_of]  # others were deleted meanwhile
        found = [profiles.get(v) or empty_profile(facets[v][2]) for _, v in live]
        groups: dict[str, list[int]] = {}  # rows of `live` by the profile they are scored against
        for row, profile in enumerate(found):
            groups.setdefault("" if isinstance(source, Profile) else profile.language, []).append(row)
        scored: list[Relevance | None] = [None] * len(live)
        for language, rows in groups.items():
            against = source if isinstance(source, Profile) else source(language)
            dense = np.asarray([live[r][0] for r in rows])
            relevances = self.scorer.relevance_many(dense, against, [found[r] for r in rows], scales)
            for r, relevance in zip(rows, relevances, strict=True):
                scored[r] = relevance
        return [
            Candidate(v, relevance, vector_of[v], facets[v][3], profile=profile)
            for (_, v), relevance, profile in zip(live, scored, found, strict=True)
            if relevance is not None
        ]

    def _candidates(
        self, vector: np.ndarray, depth: int, skip: set[int], filters: Filters
    ) -> list[tuple[float, int]]:
        """Up to `depth` (dense score, vid) nearest to `vector` that pass the filters. When filters
        leave too few, search again among only the matching articles (filter pushdown)."""
        want = depth + len(skip) + len(filters.exclude)
        pool = self._passing(
            *self.store.search(vector, want if not filters.active else 4 * want + 20), skip, filters
        )
        if len(pool) >= depth or (not filters.active and len(pool) + len(skip) >= len(self.store.index())):
            return pool[:depth]
        allowed = self._allowed(filters)
        return self._passing(*self.store.search(vector, want, allowed=allowed), skip, filters)[:depth]

    def _lexical_pool(
        self,
        vector: np.ndarray,
        terms: Sequence[str],
        names: Sequence[str],
        depth: int,
        skip: set[int],
        filters: Filters,
    ) -> tuple[list[tuple[float, int]], tuple[int, ...]]:
        """Up to `depth` (dense score, vid) that match any of `terms` (stems) or `names` best by
        BM25, but `skip`, that pass the filters: the candidates that the nearest vectors miss (a
        name, a rare word), to be scored like the others; and every vid the search found, best
        first (they decide which)."""
        want = depth + len(skip)
        found = self.store.catalog.lexical_search(terms, names, 4 * want if filters.active else want)
        held, vectors = self.store.vectors(np.asarray([v for v, _ in found if v not in skip], dtype=np.int64))
        extra = [(float(np.dot(vector, row)), int(v)) for v, row in zip(held.tolist(), vectors, strict=True)]
        return self._passing(*_columns(extra), skip, filters)[:depth], tuple(v for v, _ in found)

    def _passing(
        self, scores: np.ndarray, vids: np.ndarray, skip: set[int], filters: Filters
    ) -> list[tuple[float, int]]:
        ranked = [(float(s), int(v)) for s, v in zip(scores, vids, strict=True) if int(v) not in skip]
        if filters.active:  # decide on the few columns filters need before loading whole articles
            facets = self.store.catalog.facets([v for _, v in ranked])
            ranked = [(s, v) for s, v in ranked if v in facets and filters.matches_fields(*facets[v])]
        return ranked

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
