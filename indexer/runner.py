"""The indexing pipeline: read → validate → skip unchanged → embed → write, in batches.

Each batch is committed on its own, so an interrupted run keeps what it finished and a re-run embeds
only the rest; the FAISS snapshot and manifest are replaced once, at the end. A batch that fails is
written again one article at a time, so one bad record is a numbered rejection and the rest of its
batch is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from seealso.embeddings import DocumentRecipe, Embedder, embed_articles
from seealso.embeddings.document import DEFAULT_RECIPE
from seealso.errors import InvalidArticle
from seealso.indexer.article import Article
from seealso.indexer.catalog import Write
from seealso.indexer.reader import Item, Record, Rejected
from seealso.indexer.store import Store

if TYPE_CHECKING:
    from seealso.indexer.shards import VectorSource


@dataclass
class IndexReport:
    """What a run did, for the one-line summary and for tests."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    embedded: int = 0
    reused: int = 0  # vectors taken from `seealso embed`'s shards instead of embedded
    rejected: list[Rejected] = field(default_factory=list)
    prune_skipped: str | None = None
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=lambda: {"read": 0.0, "embed": 0.0, "write": 0.0})

    def add(self, other: IndexReport) -> None:
        """Count `other`'s articles into this report."""
        for name in ("added", "updated", "unchanged", "deleted", "embedded", "reused"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejected.extend(other.rejected)
        for stage, seconds in other.stages.items():
            self.stages[stage] = self.stages.get(stage, 0.0) + seconds

    def summary(self) -> str:
        text = (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"deleted {self.deleted}, rejected {len(self.rejected)} in {self.seconds:.1f}s "
            f"({self.embedded} embedded" + (f", {self.reused} from --vectors)" if self.reused else ")")
        )
        if self.prune_skipped:
            text += f"; prune skipped: {self.prune_skipped}"
        return text


class StrictStop(InvalidArticle):
    """Raised in strict mode at the first rejected record."""

    def __init__(self, rejected: Rejected) -> None:
        super().__init__([f"line {rejected.line}: {rejected.reason}"], rejected.article_id)
        self.rejected = rejected


def validate_all(items: Iterable[Item]) -> int:
    """Check every record without writing anything; raise StrictStop at the first bad one."""
    count = 0
    for item in items:
        if isinstance(item, Rejected):
            raise StrictStop(item)
        count += 1
    return count


# A long run writes an index snapshot after this many embedded articles (and at its end).
SNAPSHOT_EVERY = 50_000


def recorded_recipe(store: Store) -> DocumentRecipe:
    """The recipe the data dir was built with (the default for a new one, or an unknown format)."""
    return DocumentRecipe.from_identity(store.catalog.meta("recipe") or "") or DEFAULT_RECIPE


def arithmetic_of(embedder: Embedder) -> str:
    """'int8' for a quantized model, else 'exact' (see `Store.recorded_arithmetic`)."""
    return "int8" if embedder.runtime.endswith("int8") else "exact"


def bind_embedder(store: Store, embedder: Embedder, recipe: DocumentRecipe | None = None) -> DocumentRecipe:
    """Record `embedder`'s model in the data dir before its first vectors (refused if another's)
    and return the recipe its articles are embedded with: `recipe`, else the data dir's own (so a
    data dir keeps the recipe it was built with when the default changes), else the default."""
    recipe = recipe or recorded_recipe(store)
    spec = embedder.spec.to_json() if embedder.spec is not None else None
    arithmetic = arithmetic_of(embedder)
    store.bind_model(embedder.name, embedder.dimension, recipe.identity, embedder.languages, spec, arithmetic)
    return recipe


def index_articles(
    store: Store,
    embedder: Embedder,
    items: Iterable[Item],
    *,
    recipe: DocumentRecipe | None = None,
    prune: bool = False,
    batch_size: int = 256,
    on_reject: Callable[[Rejected], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    author: str = "batch",
    vectors: VectorSource | None = None,
) -> IndexReport:
    """Index `items` into `store`.

    Args:
        store: the data dir to write to; its model must be the embedder's.
        embedder: turns article passages into vectors.
        items: records and rejections, as `seealso.indexer.reader.read_articles` yields them.
        recipe: which text of an article is embedded (default: the data dir's; see bind_embedder).
        prune: delete articles absent from `items` (a full export) at the end; skipped when a line
            without a readable id was rejected, since the export is then not known to be complete.
        batch_size: articles per committed batch.
        on_reject: called with each rejected record (to report it at once).
        on_progress: called with the number of input lines consumed by each batch.
        author: who wrote, for the write log (`seealso.indexer.history`).
        vectors: vectors computed before (`seealso embed`), taken where an article's content,
            the recipe and the model match; the rest are embedded here.

    Returns:
        An IndexReport of what was added, updated, unchanged, deleted and rejected.
    """
    started = time.perf_counter()
    if vectors is not None:  # before the data dir records a model: a refusal leaves it as it was
        arithmetic = store.recorded_arithmetic() or arithmetic_of(embedder)
        vectors.check(embedder.name, (recipe or recorded_recipe(store)).identity, arithmetic)
    recipe = bind_embedder(store, embedder, recipe)
    start_seq = store.catalog.seq()
    report = IndexReport()
    seen: set[str] = set()
    unreadable_ids = False
    pending: dict[str, Record] = {}
    consumed = 0
    snapshotted = 0

    tick = time.perf_counter()
    for item in items:
        consumed += 1
        if isinstance(item, Rejected):
            report.rejected.append(item)
            unreadable_ids |= item.article_id is None
            if item.article_id is not None:
                seen.add(item.article_id)  # a bad new version must not delete the good old one
            if on_reject:
                on_reject(item)
            continue
        assert isinstance(item, Record)
        seen.add(item.article.id)
        pending.pop(item.article.id, None)  # a later line with the same id wins
        pending[item.article.id] = item
        if len(pending) >= batch_size:
            report.stages["read"] += time.perf_counter() - tick
            _write_batch(store, embedder, list(pending.values()), recipe, report, on_reject, author, vectors)
            pending.clear()
            if report.embedded - snapshotted >= SNAPSHOT_EVERY:
                # The index changes kind as it grows (see indexer.vectors): an IVF index holds a
                # quarter of the float vectors' memory, so a long run should not wait for its end.
                tick = time.perf_counter()
                store.save_snapshot()
                report.stages["write"] += time.perf_counter() - tick
                snapshotted = report.embedded
            if on_progress:
                on_progress(consumed)
            consumed = 0
            tick = time.perf_counter()
    report.stages["read"] += time.perf_counter() - tick
    _write_batch(store, embedder, list(pending.values()), recipe, report, on_reject, author, vectors)
    if on_progress and consumed:
        on_progress(consumed)

    if prune:
        if unreadable_ids:
            report.prune_skipped = "some rejected lines had no readable id"
        else:
            # Only articles that nobody changed during this run: an article another writer added
            # meanwhile (the API, another job) is not in this export but is not stale either.
            absent = [i for i in store.catalog.ids_unchanged_since(start_seq) if i not in seen]
            for start in range(0, len(absent), 1000):
                _seq, deleted = store.catalog.write(deletes=absent[start : start + 1000], author=author)
                report.deleted += len(deleted)

    tick = time.perf_counter()
    store.save_snapshot()
    report.stages["write"] += time.perf_counter() - tick
    report.seconds = time.perf_counter() - started
    return report


def _write_batch(
    store: Store,
    embedder: Embedder,
    records: list[Record],
    recipe: DocumentRecipe,
    report: IndexReport,
    on_reject: Callable[[Rejected], None] | None,
    author: str = "batch",
    vectors: VectorSource | None = None,
) -> None:
    """Upsert `records` in one transaction; when that fails, one by one, rejecting those that fail
    alone. When every record of a batch fails alone, the cause is not in the records (a full disk,
    say): the error is raised and the run stops, keeping the batches committed before."""
    try:
        articles = [r.article for r in records]
        report.add(upsert_articles(store, embedder, articles, recipe, author=author, vectors=vectors))
        return
    except Exception as exc:
        if len(records) == 1:
            failures: list[tuple[Record, Exception]] = [(records[0], exc)]
        else:
            failures = []
            for record in records:
                try:
                    single = upsert_articles(
                        store, embedder, [record.article], recipe, author=author, vectors=vectors
                    )
                    report.add(single)
                except Exception as alone:
                    failures.append((record, alone))
            if len(failures) == len(records):
                raise exc from None
    for record, error in failures:
        rejected = Rejected(
            record.line, f"cannot be indexed: {type(error).__name__}: {error}", record.article.id
        )
        report.rejected.append(rejected)
        if on_reject:
            on_reject(rejected)


def upsert_articles(
    store: Store,
    embedder: Embedder,
    articles: list[Article],
    recipe: DocumentRecipe | None = None,
    report: IndexReport | None = None,
    author: str = "batch",
    vectors: VectorSource | None = None,
) -> IndexReport:
    """Write one batch of articles in one transaction, embedding only those whose text changed.

    Args:
        recipe: which text of an article is embedded (default: the data dir's; see bind_embedder).
        articles: distinct ids; a later duplicate would be counted twice.
        report: counts are added to it once the batch is committed (a new one when None).
        author: who wrote, for the write log (`seealso.indexer.history`).
        vectors: vectors computed before, taken where they match (see index_articles).
    """
    done = IndexReport(stages={"embed": 0.0, "write": 0.0})
    recipe = recipe or recorded_recipe(store)
    if articles:
        _upsert(store, embedder, articles, recipe, done, author, vectors)
    if report is None:
        return done
    report.add(done)
    return report


def _upsert(
    store: Store,
    embedder: Embedder,
    articles: list[Article],
    recipe: DocumentRecipe,
    report: IndexReport,
    author: str,
    vectors: VectorSource | None = None,
) -> None:
    known = store.catalog.hashes([a.id for a in articles])
    to_embed: list[tuple[Article, str, str]] = []
    writes: list[Write] = []
    for article in articles:
        text_hash, record_hash = article.text_hash(recipe.identity), article.record_hash()
        previous = known.get(article.id)
        if previous is None:
            report.added += 1
            to_embed.append((article, text_hash, record_hash))
        elif previous[1] != text_hash:
            report.updated += 1
            to_embed.append((article, text_hash, record_hash))
        elif previous[2] != record_hash:
            report.updated += 1
            writes.append(Write(article, text_hash, record_hash, vector=None))
        else:
            report.unchanged += 1
    if vectors is not None and to_embed:
        remaining = []
        for article, text_hash, record_hash in to_embed:
            found = vectors.get(article.id, text_hash)
            if found is None:
                remaining.append((article, text_hash, record_hash))
            else:
                writes.append(Write(article, text_hash, record_hash, found))
        report.reused += len(to_embed) - len(remaining)
        to_embed = remaining
    if to_embed:
        tick = time.perf_counter()
        embedded = embed_articles(embedder, [a for a, _, _ in to_embed], recipe)
        report.stages["embed"] += time.perf_counter() - tick
        report.embedded += len(to_embed)
        writes.extend(Write(a, th, rh, v) for (a, th, rh), v in zip(to_embed, embedded, strict=True))
    if writes:
        tick = time.perf_counter()
        store.catalog.write(writes, author=author)
        report.stages["write"] += time.perf_counter() - tick
