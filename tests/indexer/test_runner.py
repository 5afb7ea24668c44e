"""The indexing pipeline with the deterministic test embedder."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from seealso.embeddings.hashing import HashingEmbedder
from seealso.indexer import runner
from seealso.indexer.reader import read_articles
from seealso.indexer.runner import StrictStop, index_articles, validate_all
from seealso.indexer.store import Store


def articles(n: int, *, prefix: str = "a", edit: dict[int, str] | None = None) -> list[dict[str, object]]:
    edit = edit or {}
    return [
        {
            "id": f"{prefix}{i}",
            "title": f"Story {i} about topic{i % 3}",
            "body": edit.get(i, f"body words {i}"),
        }
        for i in range(n)
    ]


def run(store: Store, embedder: HashingEmbedder, path: Path, records: list[object], **kw: object):
    path.write_text("".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in records))
    return index_articles(store, embedder, read_articles(str(path)), batch_size=4, **kw)


class CountingEmbedder(HashingEmbedder):
    def __init__(self, fail_after: int | None = None) -> None:
        super().__init__(64)
        self.texts = 0
        self.fail_after = fail_after

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if self.fail_after is not None and self.texts >= self.fail_after:
            raise RuntimeError("simulated crash")
        self.texts += len(texts)
        return super().embed_batch(texts)


def test_rerun_embeds_nothing_and_changes_embed_only_what_changed(store: Store, tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    first = run(store, embedder, tmp_path / "in.jsonl", articles(10))
    assert (first.added, first.embedded, first.unchanged) == (10, 10, 0)
    embedder.texts = 0
    again = run(store, embedder, tmp_path / "in.jsonl", articles(10))
    assert (again.added, again.updated, again.unchanged, again.embedded) == (0, 0, 10, 0)
    assert embedder.texts == 0
    changed = articles(10, edit={3: "a new body"})
    changed[5]["section"] = "sport"  # metadata only: stored, not re-embedded
    third = run(store, embedder, tmp_path / "in.jsonl", changed)
    assert (third.added, third.updated, third.unchanged, third.embedded) == (0, 2, 8, 1)
    assert store.catalog.get("a5").article.section == "sport"
    assert store.catalog.count() == 10


def test_rejected_lines_are_reported_and_the_rest_indexed(
    store: Store, embedder: HashingEmbedder, tmp_path: Path
) -> None:
    seen: list[int] = []
    report = run(
        store, embedder, tmp_path / "in.jsonl",
        [*articles(2), "{broken\n", {"id": "x"}, *articles(2, prefix="b")],
        on_reject=lambda r: seen.append(r.line),
    )  # fmt: skip
    assert seen == [3, 4]
    assert [(r.line, r.article_id) for r in report.rejected] == [(3, None), (4, "x")]
    assert report.added == 4
    assert store.catalog.count() == 4


def test_strict_validation_stops_at_the_first_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(articles(1)[0]) + "\n" + '{"id": "x"}\n' + "{broken\n")
    with pytest.raises(StrictStop, match="line 2: at least one of title"):
        validate_all(read_articles(str(path)))


def test_duplicate_ids_in_one_export_keep_the_last(
    store: Store, embedder: HashingEmbedder, tmp_path: Path
) -> None:
    records = [{"id": "a", "title": "first"}, {"id": "b", "title": "other"}, {"id": "a", "title": "second"}]
    report = run(store, embedder, tmp_path / "in.jsonl", records)
    assert report.added == 2
    assert store.catalog.get("a").article.title == "second"


def test_prune_deletes_what_a_full_export_no_longer_has(
    store: Store, embedder: HashingEmbedder, tmp_path: Path
) -> None:
    run(store, embedder, tmp_path / "in.jsonl", articles(6))
    report = run(store, embedder, tmp_path / "in.jsonl", articles(4), prune=True)
    assert report.deleted == 2
    assert store.catalog.get("a5") is None and store.catalog.get("a3") is not None
    _, vids = store.search(embedder.embed(["Story 5 about topic2"])[0], 10)
    assert len(vids) == 4


def test_prune_is_skipped_when_the_export_may_be_incomplete(
    store: Store, embedder: HashingEmbedder, tmp_path: Path
) -> None:
    run(store, embedder, tmp_path / "in.jsonl", articles(4))
    report = run(store, embedder, tmp_path / "in.jsonl", [*articles(2), "{broken\n"], prune=True)
    assert report.deleted == 0 and report.prune_skipped
    assert store.catalog.count() == 4
    # a rejected record with a readable id keeps its older good version
    bad_a3 = {"id": "a3", "title": "", "body": ""}
    report = run(store, embedder, tmp_path / "in.jsonl", [*articles(3), bad_a3], prune=True)
    assert report.deleted == 0 and store.catalog.get("a3") is not None


def test_an_interrupted_run_keeps_the_last_good_state_and_resumes(store: Store, tmp_path: Path) -> None:
    run(store, CountingEmbedder(), tmp_path / "in.jsonl", articles(4))
    crashing = CountingEmbedder(fail_after=8)  # a text an article (its lead): dies in the third batch
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(store, crashing, tmp_path / "in.jsonl", articles(16, prefix="n"))
    reopened = Store.open(store.data_dir)
    assert reopened.catalog.count() == 12  # the first 4 plus two committed batches
    _, vids = reopened.search(HashingEmbedder(64).embed(["Story 1 about topic1"])[0], 100)
    assert len(vids) == 12
    resumed = CountingEmbedder()
    report = run(reopened, resumed, tmp_path / "in.jsonl", articles(16, prefix="n"))
    assert (report.unchanged, report.added, resumed.texts) == (8, 8, 8)


def test_a_long_run_writes_snapshots_as_it_goes(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "SNAPSHOT_EVERY", 10)
    written: list[int] = []
    save = store.save_snapshot
    monkeypatch.setattr(store, "save_snapshot", lambda: written.append(store.catalog.count()) or save())
    run(store, HashingEmbedder(64), tmp_path / "in.jsonl", articles(30))
    # After each 12 articles (three batches of 4 hold the 10 asked), and at the end.
    assert written == [12, 24, 30]
    assert store.manifest().count == 30  # type: ignore[union-attr]


class Poisoned(HashingEmbedder):
    """Fails on any text holding "poison", as a model might on a record it cannot take."""

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if any("poison" in text for text in texts):
            raise RuntimeError("the model cannot take this text")
        return super().embed_batch(texts)


def test_a_record_that_fails_to_index_is_a_numbered_rejection(store: Store, tmp_path: Path) -> None:
    records = articles(10)
    records[6]["body"] = "poison pill"
    rejected: list[str] = []
    report = run(
        store, Poisoned(64), tmp_path / "a.jsonl", records, on_reject=lambda r: rejected.append(str(r))
    )
    assert rejected == ["line 7 (id 'a6'): cannot be indexed: RuntimeError: the model cannot take this text"]
    assert (report.added, len(report.rejected)) == (9, 1)  # its batch (a4..a7) is kept but for it
    assert sorted(store.catalog.hashes([f"a{i}" for i in range(10)])) == sorted(
        f"a{i}" for i in range(10) if i != 6
    )


def test_a_failure_of_every_record_stops_the_run_and_keeps_what_was_committed(
    store: Store, tmp_path: Path
) -> None:
    records = articles(8)
    for record in records[4:]:
        record["body"] = "poison"  # the whole second batch fails: not the records' fault
    with pytest.raises(RuntimeError, match="cannot take"):
        run(store, Poisoned(64), tmp_path / "a.jsonl", records)
    assert store.catalog.count() == 4
