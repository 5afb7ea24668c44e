"""The change feed: after every write, exactly which pages a site shows have changed.

A page is an article's related list (`related`), a keyword page's articles (`keyword`) or its
related keywords (`keyword_related`), as the site shows them: the default list, without filters.
Each is stored as last computed (seealso.indexer.pages) with what it read. A write can change a
page only if it touches what the page read, or if a new or changed vector or word could enter it;
those pages, and only those, are computed again, and the ones whose face (what a reader sees:
which items, in what order, their titles, links, dates, images and translations) differs are
logged, in order, for `/v1/changes`, webhooks and CDN purges.

The pages a write can change (`PageTracker.candidates`), for every page, not only those cached:
- its own article's related page, and the keyword pages of its keywords before and after;
- every page that shows it, or (keyword pages) is computed from it;
- the related pages whose candidates a new or changed vector enters (a reverse-neighbour check:
  the vector against every article's vector and its page's `bar`, the lowest dense score of its
  pool), and those whose wider search for translations it enters (their `floor`) unless it is
  inert there: far from every article of another language, and the articles that search found
  beyond the pool far from them too (`seealso.ranking.translations.inert`), so that it cannot
  join, part or stand between translations; and the keyword pages whose centroid search it reaches;
- the related pages whose lexical candidates were searched with one of its full-text tokens, when
  that search, run again, finds other articles or finds them in another order;
- the related pages of articles declared its translations, on either side;
- the lists whose overrides changed or expired;
- for related keywords: the pages that show a changed keyword (or name it in an override), and
  those where a changed keyword now scores enough to enter (their `bar`: the lowest automatic
  score shown; `Keywords.scores_with`).

Scores also move a little when the scoring statistics are reloaded (document frequencies) and
freshness decays with time; `sweep` computes the pages computed longest ago again, a few at a time,
and logs those that changed, so such drift reaches the feed too.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from seealso.errors import ArticleNotFound
from seealso.indexer.dates import now as utc_now
from seealso.indexer.pages import Page
from seealso.indexer.vectors import SCORE_ERROR
from seealso.ranking.keywords import KeywordNotFound, Keywords, KeywordStats
from seealso.ranking.related import Ranker, RelatedList, article_dict, article_tokens, compact_json, tag
from seealso.ranking.shaping import ListRules
from seealso.ranking.translations import MARGIN, TRANSLATION_SIMILARITY

log = logging.getLogger(__name__)

# The list length a page shows (the API's default k).
PAGE_K = 10
# Feed rows kept: a client further behind than this resyncs (410 from /v1/changes).
RETAIN = 100_000
# Scores compared with a page's bar with this much to spare (float rounding, ties).
SCORE_MARGIN = 1e-5
# Pages computed at once when the stored pages are first built or all recomputed (memory bound).
CHUNK = 500


def page_path(kind: str, key: str) -> str:
    """The API path of a page."""
    if kind == "related":
        return f"/v1/articles/{quote(key, safe='')}/related"
    if kind == "keyword":
        return f"/v1/keywords/{quote(key, safe='')}/articles"
    return f"/v1/keywords/{quote(key, safe='')}/related"


def lexical_digest(vids: tuple[int, ...]) -> str:
    return hashlib.blake2b(np.asarray(vids, dtype=np.int64).tobytes(), digest_size=16).hexdigest()


def _face(payload: Any) -> str:
    return hashlib.blake2b(compact_json(payload), digest_size=16).hexdigest()


def related_face(page: RelatedList) -> str:
    """What a reader sees of a related list: the article's translations, then each item's article
    and translations, in order (scores and reasons left out)."""
    head = page.article
    return _face(
        {
            "article": article_dict(head) if head is not None else None,
            "translations": [article_dict(a) for a in page.translations],
            "items": [
                [article_dict(i.article), [article_dict(a) for a in i.translations]] for i in page.items
            ],
            "id": head.id if head else None,
        }
    )


@dataclass(frozen=True)
class Report:
    """What one update did."""

    seq: int
    candidates: int
    computed: int
    changed: int
    seconds: float


class PageTracker:
    """Keeps the stored pages current with the catalog and logs the changed ones.

    One tracker writes a data dir's pages at a time (the caller sees to that: the service holds a
    lock file, `seealso.service.feed`); reading the feed needs none.
    """

    def __init__(
        self, ranker: Ranker, keywords: Keywords, rules: ListRules | None = None, workers: int = 1
    ) -> None:
        """Args:
        workers: threads that compute pages (a server keeps one: its requests come first)."""
        self.workers = workers
        self.ranker = ranker
        self.keywords = keywords
        self.store = ranker.store
        self.rules = rules or ranker.rules
        self._lock = threading.Lock()

    @property
    def rules_identity(self) -> str:
        """What every page depends on beyond the catalog: the list rules and keyword settings."""
        rules = {"k": PAGE_K, **asdict(self.rules), "keyword_min_similarity": self.keywords.min_similarity}
        return json.dumps(rules, sort_keys=True)

    # -- updates ------------------------------------------------------------------------------------

    def update(self) -> Report | None:
        """Bring the pages up to the catalog's current state; None when they already were."""
        with self._lock:
            catalog = self.store.catalog
            self.store.refresh()
            seq, version = catalog.seq(), catalog.overrides_version()
            done_seq, done_version, rules, checked = catalog.page_state()
            now = utc_now()
            # Overrides that expired since the last look (kept in the catalog: across restarts and
            # from one process to another).
            expiring = catalog.expiring_overrides(checked or now, now)
            if (seq, version, rules) == (done_seq, done_version, self.rules_identity) and not expiring:
                return None
            started = time.perf_counter()
            if done_seq < 0 or rules != self.rules_identity:
                # First build, or other rules: every page again (the first build logs nothing).
                wanted = self._every_page()
                log_changes = done_seq >= 0
            else:
                wanted = self.candidates(done_seq, done_version)
                wanted |= {("related" if s == "article" else s, key) for s, key, _ in expiring if s != "site"}
                wanted |= self._readers([target for s, _, target in expiring if s == "site"])
                log_changes = True
            computed, changed = self._recompute(
                sorted(wanted), log_changes, (seq, version, self.rules_identity, now)
            )
            return Report(seq, len(wanted), computed, changed, time.perf_counter() - started)

    def _readers(self, ids: list[str]) -> set[tuple[str, str]]:
        """The pages that read the articles `ids`."""
        if not ids:
            return set()
        found = self.store.catalog.hashes(ids)
        return self.store.catalog.page_readers("page_reads", [vid for vid, _, _ in found.values()])

    def sweep(self, limit: int) -> int:
        """Compute the `limit` pages computed longest ago again and log those that changed (drift
        from the scoring statistics and from time); returns how many changed."""
        with self._lock:
            pages = self.store.catalog.oldest_pages(limit)
            return self._recompute(pages, True, None)[1]

    def candidates(self, since: int, version: int) -> set[tuple[str, str]]:
        """The pages that the writes after catalog state (`since`, overrides' `version`) can change."""
        catalog, store = self.store.catalog, self.store
        upserts, deletes = catalog.changes_since(since)
        wanted: set[tuple[str, str]] = set()
        by_words: set[tuple[str, str]] = set()
        changed_vids = [*upserts, *deletes]
        entries = catalog.get_by_vids(upserts, bodies=False)
        wanted |= {("related", e.article.id) for e in entries.values()}
        # Pages that read a changed article (deleted ones are found here only: their ids are gone).
        partners = catalog.declared_translations(upserts)
        reads = changed_vids + [v for found in partners.values() for v in found]
        readers = catalog.page_readers("page_reads", reads)
        wanted |= readers
        keys = {key for found in catalog.keys_of(upserts).values() for key in found}
        keys |= {key for kind, key in readers if kind == "keyword"}  # the keywords it had before
        wanted |= {(kind, key) for key in keys for kind in ("keyword", "keyword_related")}
        # Pages a new or changed vector could enter (reverse neighbours), by dense score.
        held, vectors = store.vectors(np.asarray(upserts, dtype=np.int64))
        if len(held):
            margin = SCORE_ERROR[store.index().kind]
            vids, floors, bars = catalog.page_floors()
            if len(vids):
                got, sources = store.vectors(vids)
                row_of = {v: row for row, v in enumerate(vids.tolist())}
                rows = [row_of[v] for v in got.tolist()]
                scores = sources @ vectors.T  # a row a page, a column an upserted vector
                # Above a page's bar a vector may enter its candidates; between its floor and its
                # bar only its search for translations, which an inert vector leaves as it was.
                language = {e.vid: e.article.language for e in entries.values()}
                loose = self._not_inert(got, scores, [language.get(v, "") for v in held.tolist()], vectors)
                reached = (scores >= bars[rows, None] - margin) | (
                    (scores >= floors[rows, None] - margin) & loose[None, :]
                )
                found = catalog.get_by_vids(got[reached.any(axis=1)].tolist(), bodies=False)
                wanted |= {("related", e.article.id) for e in found.values()}
            names, centers, floors = catalog.page_centers("keyword")
            if names:
                best = (centers @ vectors.T).max(axis=1)
                wanted |= {("keyword", names[i]) for i in np.flatnonzero(best >= floors - margin)}
            # ... or by a word its lexical candidates were searched with (looked at last).
            by_words = catalog.phrase_readers(article_tokens(catalog, upserts))
        # Related keywords: the pages that show a changed keyword or name it in an override, and
        # those where a changed keyword now scores enough to enter (their bar).
        if keys:
            showing = {key for _, key in catalog.page_readers("page_keywords", sorted(keys))}
            stats = self.keywords.stats()
            moved = [stats.position[k] for k in keys if k in stats.position]
            scores = self.keywords.scores_with(moved, stats)
            best = scores.max(axis=1) if moved else np.full(len(stats.keys), -np.inf)
            for key, bar in catalog.page_bars("keyword_related").items():
                at = stats.position.get(key)
                if (
                    bar is None
                    or at is None
                    or key in keys
                    or key in showing
                    or best[at] >= bar - SCORE_MARGIN
                ):
                    wanted.add(("keyword_related", key))
        # Overrides: the lists whose overrides changed.
        if catalog.overrides_version() != version:
            for scope in ("article", "keyword", "keyword_related"):
                kind = "related" if scope == "article" else scope
                wanted |= {(kind, source) for source in catalog.override_sources_since(version, scope)}
            # Blocked from every list, or no longer: the pages that read the article (every page
            # computed while it was blocked reads it, as one its lists leave out).
            wanted |= self._readers(catalog.override_targets_since(version, "site"))
        # A page searched with a word of an upserted article, for no other reason: its full-text
        # search again; when it finds what it found, in the same order, the page is as it was (the
        # write did not reach its dense candidates or its translations either, or it would be in).
        wanted |= {page for page in by_words if page[0] != "related"}
        maybe = sorted(key for kind, key in by_words - wanted if kind == "related")
        searches = catalog.page_checks("related", maybe)
        wanted |= {("related", key) for key in maybe if not self._searches_alike(searches.get(key))}
        return wanted

    def _searches_alike(self, stored: str | None) -> bool:
        """Whether a page's stored full-text search finds what it found then."""
        if stored is None:
            return False
        search = json.loads(stored)
        found = self.store.catalog.lexical_search(search["terms"], search["names"], search["limit"])
        return lexical_digest(tuple(vid for vid, _ in found)) == search["found"]

    def _not_inert(
        self, vids: np.ndarray, scores: np.ndarray, languages: list[str], vectors: np.ndarray
    ) -> np.ndarray:
        """For each upserted vector (columns of `scores`, the cosines of the articles `vids` with
        them; their `languages`): whether it comes close enough to an article of another language,
        or to another of them, to be a translation or to stand between two
        (`seealso.ranking.translations.inert`)."""
        catalog = self.store.catalog
        spoken_here = catalog.languages()
        margin = MARGIN + SCORE_ERROR[self.store.index().kind]
        bars = [
            {
                other: self.ranker.scorer.cosine_at(TRANSLATION_SIMILARITY, language, other) - margin
                for other in spoken_here - {language}
            }
            for language in languages
        ]
        # Only the articles that come near some vector need their language (a look-up, not a scan).
        lowest = np.asarray([min(bar.values(), default=np.inf) for bar in bars], dtype=np.float32)
        near_rows = np.flatnonzero((scores >= lowest[None, :]).any(axis=1))
        language_of = catalog.languages_of(vids[near_rows].tolist())
        spoken = np.asarray([language_of.get(vid, "") for vid in vids[near_rows].tolist()])
        among = vectors @ vectors.T
        written = np.asarray(languages)
        out = np.zeros(len(languages), dtype=bool)
        for column, bar in enumerate(bars):
            for other, at in bar.items():
                near = scores[near_rows[spoken == other], column]
                peers = among[written == other, column]
                if (near.size and near.max() >= at) or (peers.size and peers.max() >= at):
                    out[column] = True
        return out

    # -- computing ----------------------------------------------------------------------------------

    def _every_page(self) -> set[tuple[str, str]]:
        catalog = self.store.catalog
        ids = {
            e.article.id
            for e in catalog.get_by_vids(self.store.index().vids().tolist(), bodies=False).values()
        }
        keys = catalog.keyword_keys()
        stored = {("related", key) for key in catalog.page_faces("related")}
        stored |= {(kind, key) for kind in ("keyword", "keyword_related") for key in catalog.page_faces(kind)}
        every = {("related", i) for i in ids} | {
            (kind, key) for key in keys for kind in ("keyword", "keyword_related")
        }
        return every | stored  # stored pages no longer there are gone

    def _recompute(
        self, wanted: Iterable[tuple[str, str]], log_changes: bool, state: tuple[int, int, str, str] | None
    ) -> tuple[int, int]:
        """Compute `wanted` pages, store them, log those whose face changed (or that are new or
        gone); returns (pages computed, pages changed)."""
        catalog = self.store.catalog
        wanted = list(wanted)
        if not wanted:
            if state is not None:
                catalog.save_pages([], [], [], state, RETAIN)
            return 0, 0
        faces = {kind: catalog.page_faces(kind) for kind in ("related", "keyword", "keyword_related")}
        stats = self.keywords.stats() if any(kind != "related" for kind, _ in wanted) else None
        computed = changed_count = 0
        for start in range(0, len(wanted), CHUNK):
            pages: list[Page] = []
            gone: list[tuple[str, str]] = []
            changed: list[tuple[str, str, str | None, bool]] = []
            chunk = wanted[start : start + CHUNK]
            if self.workers > 1:
                with ThreadPoolExecutor(self.workers) as pool:
                    found = list(pool.map(lambda page: self._compute(page[0], page[1], stats), chunk))
            else:
                found = [self._compute(kind, key, stats) for kind, key in chunk]
            for (kind, key), page in zip(chunk, found, strict=True):
                before = faces[kind].get(key)
                if page is None:
                    if before is not None:
                        gone.append((kind, key))
                        changed.append((kind, key, catalog.page_url(kind, key), True))
                    continue
                pages.append(page)
                if page.face != before:
                    changed.append((kind, key, page.url, False))
            computed += len(pages)
            changed_count += len(changed) if log_changes else 0
            last = start + CHUNK >= len(wanted)
            catalog.save_pages(pages, gone, changed if log_changes else [], state if last else None, RETAIN)
        return computed, changed_count

    def _compute(self, kind: str, key: str, stats: KeywordStats | None) -> Page | None:
        """The page as it is now, or None when it no longer exists."""
        catalog = self.store.catalog
        if kind == "related":
            try:
                traced = self.ranker.traced(key, PAGE_K, self.rules)
            except ArticleNotFound:
                return None
            page = traced.value
            shown = {i.article.id for i in page.items}
            shown |= {a.id for i in page.items for a in i.translations}
            shown |= {a.id for a in page.translations}
            # What it read: its pool and the articles its translations were looked for among (a
            # deleted one lets the next one in), its editors' targets, and what it shows.
            found = catalog.hashes(sorted({key, *shown}))
            reads = traced.depends | {vid for vid, _, _ in found.values()}
            tags = [tag("related", key), tag("article", key), *(tag("article", i) for i in sorted(shown))]
            lexical = traced.lexical
            return Page(
                kind, key, related_face(page), traced.floor, frozenset(reads), bar=traced.bar,
                words=frozenset(" ".join(phrase) for phrase in traced.words),
                vid=found[key][0] if key in found else None, tags=tuple(tags),
                checks=None if lexical is None else json.dumps(
                    {"terms": lexical.terms, "names": lexical.names, "limit": lexical.limit,
                     "found": lexical_digest(lexical.found)}
                ),
                url=page.article.url if page.article else None,
            )  # fmt: skip
        assert stats is not None
        if key not in stats.position:
            return None
        if kind == "keyword":
            try:
                traced_page = self.keywords.traced(key, PAGE_K)
            except KeywordNotFound:
                return None
            items = traced_page.page.items
            found = catalog.hashes(sorted({i.article.id for i in items}))
            reads = traced_page.tagged | traced_page.searched | {vid for vid, _, _ in found.values()}
            face = _face([traced_page.page.keyword, [article_dict(i.article) for i in items]])
            tags = [tag("keyword", key), *(tag("article", i.article.id) for i in items)]
            return Page(
                kind, key, face, traced_page.floor, frozenset(reads), center=traced_page.center,
                tags=tuple(tags),
            )  # fmt: skip
        traced_related = self.keywords.traced_related(key, PAGE_K, stats)
        face = _face([self.keywords.display_name(key), [r.keyword for r in traced_related.items]])
        return Page(
            kind, key, face, traced_related.bar, frozenset(), bar=traced_related.bar,
            keywords=traced_related.keys,
            tags=(tag("keyword_related", key), tag("keyword", key)),
        )  # fmt: skip


def feed_entry(kind: str, key: str, url: str | None, gone: bool, seq: int) -> dict[str, Any]:
    """One page of the feed as the API and the CLI give it."""
    entry: dict[str, Any] = {
        "seq": seq, "kind": kind, "id": key, "url": page_path(kind, key), "tag": tag(kind, key),
    }  # fmt: skip
    if url:
        entry["page_url"] = url
    if gone:
        entry["gone"] = True
    return entry


TRACKER_LOCK = "pages.lock"


class TrackerLock:
    """The data dir's page-tracker lock: one process keeps its pages and delivers its webhooks
    (an OS lock, released when the process ends however it ends)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / TRACKER_LOCK
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock if no other process holds it; True when this process holds it."""
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
