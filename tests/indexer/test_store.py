"""The catalog, the FAISS snapshot and the manifest kept consistent, also across processes and crashes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from seealso.embeddings.hashing import HashingEmbedder
from seealso.errors import IndexNotFound, ModelMismatch
from seealso.indexer.article import parse_article
from seealso.indexer.catalog import Write
from seealso.indexer.store import Store


def write(store: Store, article_id: str, vector: list[float]) -> None:
    article = parse_article({"id": article_id, "title": article_id})
    store.catalog.write([Write(article, "t", "r", np.asarray(vector, dtype=np.float32))])


def vids_of(store: Store, query: list[float], k: int = 10) -> list[str]:
    _, vids = store.search(np.asarray(query, dtype=np.float32), k)
    entries = store.catalog.get_by_vids([int(v) for v in vids])
    return [entries[int(v)].article.id for v in vids]


@pytest.fixture
def bound(store: Store) -> Store:
    store.bind_model("unit/model", 3, "recipe")
    return store


def test_migrations_are_named_and_applied_once(tmp_path: Path) -> None:
    first = Store.open(tmp_path / "d", create=True)
    first.close()
    again = Store.open(tmp_path / "d")
    assert again.catalog.migrations() == [
        "m001_create_tables",
        "m002_keywords",
        "m003_filter_indexes",
        "m004_terms",
        "m005_overrides",
        "m006_four_digit_years",
        "m007_search",
        "m008_whole_names",
        "m009_translations_and_language_source",
        "m010_pages",
        "m011_image_and_kicker",
        "m012_page_bars",
        "m013_page_floors",
        "m014_keyword_edits",
        "m015_keyword_aliases",
        "m016_write_log",
    ]
    again.close()


def test_a_new_migration_upgrades_an_existing_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seealso.indexer import catalog

    monkeypatch.setattr(catalog, "MIGRATIONS", catalog.MIGRATIONS[:1])
    old = Store.open(tmp_path / "d", create=True)
    old.close()
    with sqlite3.connect(tmp_path / "d" / "catalog.sqlite3") as db:  # a row as the old version wrote it
        db.execute(
            "INSERT INTO articles (id, title, summary, body, keywords, language, text_hash, record_hash,"
            " created_at, indexed_at) VALUES ('a', 't', '', '', ?, 'en', 'h', 'r', 'now', 'now')",
            (json.dumps(["Côte d'Ivoire", "Mali"]),),
        )
    monkeypatch.undo()
    upgraded = Store.open(tmp_path / "d")
    assert upgraded.catalog.migrations() == [
        "m001_create_tables",
        "m002_keywords",
        "m003_filter_indexes",
        "m004_terms",
        "m005_overrides",
        "m006_four_digit_years",
        "m007_search",
        "m008_whole_names",
        "m009_translations_and_language_source",
        "m010_pages",
        "m011_image_and_kicker",
        "m012_page_bars",
        "m013_page_floors",
        "m014_keyword_edits",
        "m015_keyword_aliases",
        "m016_write_log",
    ]
    assert upgraded.catalog.vids_with_keyword("CÔTE D'IVOIRE") == [upgraded.catalog.get("a").vid]
    old_row = upgraded.catalog.get("a").article  # type: ignore[union-attr]
    assert (old_row.translations, old_row.language_source) == ((), "given")
    # the full-text index is back-filled, with the names read whole
    assert [v for v, _ in upgraded.catalog.lexical_search([], ["côte d'ivoire"], 5)] == [old_row and 1]
    upgraded.close()


def test_missing_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound, match="seealso index"):
        Store.open(tmp_path / "nowhere")


def test_vector_ids_are_stable_across_updates_and_never_reused(bound: Store) -> None:
    write(bound, "a", [1, 0, 0])
    write(bound, "b", [0, 1, 0])
    vid_a = bound.catalog.get("a").vid
    write(bound, "a", [0, 0, 1])
    assert bound.catalog.get("a").vid == vid_a
    bound.catalog.write(deletes=["b"])
    write(bound, "c", [1, 1, 0])
    assert bound.catalog.get("c").vid not in (vid_a, vid_a + 1)


def test_search_sees_writes_and_deletes_without_reloading(bound: Store) -> None:
    write(bound, "x", [1, 0, 0])
    write(bound, "y", [0.8, 0.6, 0])
    assert vids_of(bound, [1, 0, 0]) == ["x", "y"]
    write(bound, "z", [1, 0, 0.01])
    bound.catalog.write(deletes=["x"])
    assert vids_of(bound, [1, 0, 0]) == ["z", "y"]


def test_another_process_sees_committed_writes(bound: Store) -> None:
    write(bound, "a", [1, 0, 0])
    bound.save_snapshot()
    reader = Store.open(bound.data_dir)
    assert vids_of(reader, [1, 0, 0]) == ["a"]
    write(bound, "b", [0.9, 0.1, 0])  # committed by the writer after the reader loaded
    bound.catalog.write(deletes=["a"])
    assert vids_of(reader, [1, 0, 0]) == ["b"]
    reader.close()


def test_snapshot_and_manifest(bound: Store) -> None:
    write(bound, "a", [1, 0, 0])
    write(bound, "b", [0, 1, 0])
    manifest = bound.save_snapshot()
    on_disk = json.loads((bound.data_dir / "manifest.json").read_text())
    assert on_disk["model"] == "unit/model"
    assert (on_disk["dimension"], on_disk["count"], on_disk["seq"]) == (3, 2, 2)
    assert (on_disk["index_type"], on_disk["index_params"]) == ("Flat,IP", {})
    assert on_disk["built_at"].endswith("Z")
    write(bound, "c", [0, 0, 1])
    newer = bound.save_snapshot()
    files = sorted(p.name for p in bound.data_dir.glob("index-*.faiss"))
    assert files == [newer.index_file] != [manifest.index_file]


def test_a_lost_or_broken_snapshot_is_rebuilt_from_the_catalog(bound: Store) -> None:
    write(bound, "a", [1, 0, 0])
    write(bound, "b", [0, 1, 0])
    manifest = bound.save_snapshot()
    (bound.data_dir / manifest.index_file).write_bytes(b"half a file")
    reader = Store.open(bound.data_dir)
    assert vids_of(reader, [0, 1, 0]) == ["b", "a"]
    (bound.data_dir / manifest.index_file).unlink()
    other = Store.open(bound.data_dir)
    assert vids_of(other, [1, 0, 0]) == ["a", "b"]


def test_a_crash_between_commit_and_snapshot_loses_nothing(bound: Store) -> None:
    write(bound, "a", [1, 0, 0])
    bound.save_snapshot()
    write(bound, "b", [0.9, 0.1, 0])  # committed, but the process dies before saving a snapshot
    (bound.data_dir / ".index-000000000009.faiss.123.tmp").write_bytes(b"partial")
    restarted = Store.open(bound.data_dir)
    assert vids_of(restarted, [1, 0, 0]) == ["a", "b"]


def test_another_model_is_refused(bound: Store) -> None:
    with pytest.raises(ModelMismatch) as caught:
        bound.check_model(HashingEmbedder(3).name)
    assert "unit/model" in str(caught.value) and "test/hashing-3" in str(caught.value)


def test_snapshots_compact_and_follow_the_forced_kind(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "h", create=True, index_kind="hnsw")
    store.bind_model("unit/model", 3, "recipe")
    for i in range(8):
        write(store, f"a{i}", [1, i, 0])
    assert len(store.index()) == 8
    for i in range(4):
        write(store, f"a{i}", [0, 1, i])  # replaced: their first vectors are dead in the index
    assert store.index().dead == 4
    manifest = store.save_snapshot()
    assert (manifest.index_type, manifest.count) == ("HNSW32,Flat,IP", 8)
    assert manifest.index_params["efSearch"] >= 64
    assert store.index().dead == 0
    reopened = Store.open(tmp_path / "h")
    assert reopened.index().kind == "hnsw"
    assert vids_of(reopened, [0, 1, 3], k=1) == ["a3"]


def test_a_large_kind_is_trained_when_the_snapshot_is_written(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "ivf", create=True, index_kind="ivf")
    store.bind_model("unit/model", 8, "recipe")
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((400, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert store.index().kind == "flat"  # nothing to train on yet
    writes = [Write(parse_article({"id": f"a{i}", "title": "t"}), "t", "r", v) for i, v in enumerate(vectors)]
    store.catalog.write(writes)
    assert (store.index().kind, len(store.index())) == ("flat", 400)
    manifest = store.save_snapshot()
    assert (manifest.index_type, manifest.index_params) == ("IVF64,SQ8,IP", {"nlist": 64, "nprobe": 32})
    assert vids_of(store, vectors[17].tolist(), k=1) == ["a17"]
    # Reopened from the snapshot, and rebuilt from the catalog when the snapshot is gone.
    assert Store.open(tmp_path / "ivf", index_kind="ivf").index().kind == "ivf"
    (tmp_path / "ivf" / manifest.index_file).unlink()
    rebuilt = Store.open(tmp_path / "ivf", index_kind="ivf")
    assert (rebuilt.index().kind, len(rebuilt.index())) == ("ivf", 400)
    assert vids_of(rebuilt, vectors[17].tolist(), k=1) == ["a17"]


def test_dates_stored_with_short_years_get_four_digits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before every date had a four-digit year, 0999-06-01 was stored as 999-06-01T00:00:00Z, which
    sorts after 2020 and does not parse: m006 rewrites such dates."""
    from seealso.indexer import catalog

    monkeypatch.setattr(catalog, "MIGRATIONS", catalog.MIGRATIONS[:5])
    old = Store.open(tmp_path / "d", create=True)
    old.close()
    with sqlite3.connect(tmp_path / "d" / "catalog.sqlite3") as db:
        db.execute(
            "INSERT INTO articles (id, title, summary, body, keywords, language, published_at, updated_at,"
            " text_hash, record_hash, created_at, indexed_at) VALUES"
            " ('a', 't', '', '', '[]', 'en', '999-06-01T00:00:00Z', '2021-01-01T00:00:00Z', 'h', 'r', 'now', 'now'),"
            " ('b', 't', '', '', '[]', 'en', '45-01-02T03:04:05Z', NULL, 'h', 'r', 'now', 'now')"
        )
    monkeypatch.undo()
    upgraded = Store.open(tmp_path / "d")
    assert "m006_four_digit_years" in upgraded.catalog.migrations()
    a, b = upgraded.catalog.get("a"), upgraded.catalog.get("b")
    assert a is not None and b is not None
    assert (a.article.published_at, a.article.updated_at) == ("0999-06-01T00:00:00Z", "2021-01-01T00:00:00Z")
    assert (b.article.published_at, b.article.updated_at) == ("0045-01-02T03:04:05Z", None)
    assert sorted(upgraded.catalog.vids_matching(until="1000-01-01T00:00:00Z")) == sorted([a.vid, b.vid])
    upgraded.close()


def test_the_cache_state_never_waits_for_a_writer(bound: Store) -> None:
    """What a server reads on its event loop before serving a cached list (`seq`, the overrides'
    version) is answered while a write of this process waits for another process's lock."""
    import threading
    import time

    from seealso.indexer.overrides import Override

    catalog = bound.catalog
    before = (catalog.seq(), catalog.overrides_version())
    other = sqlite3.connect(catalog.path, isolation_level=None)  # a batch run, mid-write
    other.execute("BEGIN IMMEDIATE")
    writer = threading.Thread(
        target=catalog.set_override, args=(Override("article", "a", "b", "block"), "alice")
    )
    writer.start()
    time.sleep(0.3)  # the override write now holds the catalog's lock, waiting for SQLite's
    started = time.monotonic()
    assert (catalog.seq(), catalog.overrides_version()) == before
    assert time.monotonic() - started < 0.2
    other.execute("COMMIT")
    writer.join(10)
    assert not writer.is_alive() and catalog.overrides_version() > before[1]
