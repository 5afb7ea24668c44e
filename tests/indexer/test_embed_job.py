"""`seealso embed` on a real local Ray instance (2 CPUs) with the real model, then
`seealso index --vectors`: the vectors are index's own, the lists are the same, a killed run resumes."""

from __future__ import annotations

import functools
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from seealso.config import DEFAULT_MODEL
from seealso.demo import ARTICLES
from seealso.embeddings import Embedder, load_embedder
from seealso.errors import SeealsoError
from seealso.indexer.reader import read_archive
from seealso.indexer.runner import index_articles
from seealso.indexer.shards import MANIFEST, VectorSource, plan_parts, read_part
from seealso.indexer.store import Store
from seealso.ranking import Ranker

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.model

LINES = ARTICLES.read_text(encoding="utf-8").splitlines()


def archive_of(folder: Path, lines: list[str] = LINES) -> Path:
    """The demo as an archive of two shards, one compressed, with a bad line in the first."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.jsonl").write_text("\n".join([*lines[:70], '{"id": "broken", "title": '][:71]) + "\n")
    with gzip.open(folder / "b.jsonl.gz", "wt", encoding="utf-8") as stream:
        stream.write("\n".join(lines[70:]) + "\n")
    return folder


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def loader(model_cache: Path, real_embedder: Embedder) -> functools.partial[Embedder]:
    """Loads the model as the session's real embedder is loaded (its export is made by then)."""
    return functools.partial(
        load_embedder, DEFAULT_MODEL, device="cpu", backend="auto", cache_dir=model_cache, threads=1
    )


@pytest.fixture(scope="module")
def embedded(
    tmp_path_factory: pytest.TempPathFactory, local_ray: None, loader: functools.partial[Embedder]
) -> tuple[Path, Path, object]:
    from seealso.indexer.embed_job import embed_archive

    root = tmp_path_factory.mktemp("embed")
    archive = archive_of(root / "archive")
    report = embed_archive(
        archive, root / "vectors", loader, workers=2, cpus_per_worker=0.5, lines_per_part=25
    )
    return archive, root / "vectors", report


def test_the_vectors_are_those_index_computes(embedded: tuple[Path, Path, object], demo_dir: Path) -> None:
    _archive, vectors, report = embedded
    assert report.embedded == len(LINES)  # type: ignore[attr-defined]
    assert report.rejected == ["a.jsonl line 71: invalid JSON: Expecting value (column 26)"]  # type: ignore[attr-defined]
    # a.jsonl in 3 parts of 25, 25 and 21 lines; the compressed file whole.
    assert report.parts == 4  # type: ignore[attr-defined]
    source = VectorSource(vectors)
    assert len(source) == len(LINES)
    store = Store.open(demo_dir)
    ids = [json.loads(line)["id"] for line in LINES]
    hashes = store.catalog.hashes(ids)
    theirs = store.catalog.vectors([vid for vid, _, _ in hashes.values()])
    cosines = []
    for article_id, (vid, content_hash, _) in hashes.items():
        ours = source.get(article_id, content_hash)
        assert ours is not None, article_id
        cosines.append(float(ours @ theirs[vid]))
    assert len(cosines) == len(LINES)
    assert min(cosines) > 0.9999
    assert source.get(ids[0], "another content hash") is None
    store.close()


def test_an_index_built_from_them_answers_the_same_lists(
    embedded: tuple[Path, Path, object], demo_dir: Path, real_embedder: Embedder, tmp_path: Path
) -> None:
    archive, vectors, _ = embedded
    store = Store.open(tmp_path / "data", create=True)
    report = index_articles(store, real_embedder, read_archive(str(archive)), vectors=VectorSource(vectors))
    assert (report.added, report.reused, report.embedded) == (len(LINES), len(LINES), 0)
    assert [str(r) for r in report.rejected] == ["a.jsonl line 71: invalid JSON: Expecting value (column 26)"]
    ours, theirs = Ranker(store), Ranker(Store.open(demo_dir))
    for article_id in ("mali-coup-01-en", "mali-coup-02-fr", "hotel-siege-01-en-update", "sahel-gold-01-en"):
        # The same ids in the same order; scores as close as the vectors are (batches differ).
        mine = ours.related(article_id, k=10).items
        same = theirs.related(article_id, k=10).items
        assert [i.article.id for i in mine] == [i.article.id for i in same]
        assert [i.score for i in mine] == pytest.approx([i.score for i in same], abs=2e-3)
        assert len(mine) >= 5
    # An article changed since it was embedded is embedded again; the others are not.
    changed = [json.loads(line) for line in LINES]
    changed[3]["body"] += " A new paragraph was added after the vectors were made."
    again = archive_of(tmp_path / "changed", [json.dumps(a) for a in changed])
    report = index_articles(store, real_embedder, read_archive(str(again)), vectors=VectorSource(vectors))
    assert (report.updated, report.embedded, report.reused, report.unchanged) == (1, 1, 0, len(LINES) - 1)
    store.close()


def test_vectors_of_another_model_or_recipe_are_refused(
    embedded: tuple[Path, Path, object], embedder: Embedder, tmp_path: Path
) -> None:
    archive, vectors, _ = embedded
    store = Store.open(tmp_path / "data", create=True)
    with pytest.raises(
        SeealsoError,
        match=r"computed with model .*multilingual-e5-small.*, but this data dir's are model 'test/hashing",
    ):
        index_articles(store, embedder, read_archive(str(archive)), vectors=VectorSource(vectors))
    assert store.catalog.count() == 0
    source = VectorSource(vectors)
    with pytest.raises(SeealsoError, match="recipe"):
        source.check(
            source.manifest.model,
            "passages-v2:chunks=4:lead=3:budget=0.8:title=0",
            source.manifest.arithmetic,
        )
    store.close()


def test_parts_cover_every_line_once(tmp_path: Path) -> None:
    archive = archive_of(tmp_path / "archive")
    parts = plan_parts(archive, lines_per_part=20)
    assert [(Path(p.source).name, p.first_line, p.lines) for p in parts] == [
        ("a.jsonl", 1, 20),
        ("a.jsonl", 21, 20),
        ("a.jsonl", 41, 20),
        ("a.jsonl", 61, 11),
        ("b.jsonl.gz", 1, None),
    ]
    lines = [item.line for part in parts if part.source.endswith("a.jsonl") for item in read_part(part)]
    assert lines == list(range(1, 72))
    whole = [item.line for item in read_archive(str(archive / "a.jsonl"))]
    assert lines == whole


def test_a_killed_run_resumes_without_redoing_finished_parts(
    model_cache: Path, real_embedder: Embedder, tmp_path: Path
) -> None:
    archive = archive_of(tmp_path / "archive")
    out = tmp_path / "vectors"
    out.mkdir()
    (out / "models").symlink_to(model_cache)  # the model export the session made (not the point here)
    command = [
        sys.executable,
        "-m",
        "seealso",
        "embed",
        str(archive),
        "--out",
        str(out),
        "--part-lines",
        "10",
        "--batch-size",
        "4",  # parts finish one by one, not all in one batch: the kill lands between them
        "-q",
    ]
    env = {**os.environ, "SEEALSO_MODEL": DEFAULT_MODEL, "RAY_ADDRESS": ""}
    run = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 240
    while not (out / MANIFEST).exists() and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGKILL)  # the run and the Ray instance it started
    run.communicate()
    # Done: the parts the manifest lists (a shard written but not yet listed is written again).
    listed = json.loads((out / MANIFEST).read_text())["parts"] if (out / MANIFEST).exists() else {}
    finished = {entry["file"]: (out / entry["file"]).stat().st_mtime_ns for entry in listed.values()}
    assert 1 <= len(finished) < 9, "the run was killed once a first part was done, before the last"

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 3, done.stderr  # the broken line
    assert f"{len(finished)} already done" in done.stderr.splitlines()[-1]
    assert {
        p.name: p.stat().st_mtime_ns for p in out.glob("part-*.parquet") if p.name in finished
    } == finished
    assert len(list(out.glob("part-*.parquet"))) == 8 + 1  # a.jsonl in 8 parts, b.jsonl.gz whole
    assert not list(out.glob(".*.tmp"))  # no shard or manifest left half-written
    assert len(VectorSource(out)) == len(LINES)
    assert json.loads((out / MANIFEST).read_text())["model"] == real_embedder.name


def test_the_commands_embed_then_index_from_the_vectors_and_refuse_another_model(
    local_ray: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from seealso.cli import app

    monkeypatch.setenv("SEEALSO_MODEL", "test/hashing")
    archive, out = archive_of(tmp_path / "archive"), tmp_path / "vectors"
    runner = CliRunner()
    embedded = runner.invoke(app, ["embed", str(archive), "--out", str(out), "--part-lines", "30", "-q"])
    assert embedded.exit_code == 3, embedded.output  # the broken line, reported by file and line
    assert "seealso: rejected a.jsonl line 71: invalid JSON" in embedded.stderr
    assert "embedded 134 articles" in embedded.stderr and "4 parts written" in embedded.stderr

    data = tmp_path / "data"
    indexed = runner.invoke(
        app, ["index", str(archive), "--data-dir", str(data), "--vectors", str(out), "-q"]
    )
    assert indexed.exit_code == 3, indexed.output
    assert "added 134" in indexed.stderr and "(0 embedded, 134 from --vectors)" in indexed.stderr

    # A rebuild of a data dir of another model into a new one takes the vectors' model and vectors.
    live = tmp_path / "live"
    made = runner.invoke(app, ["index", str(archive), "-d", str(live), "--model", "test/hashing-128", "-q"])
    assert made.exit_code == 3, made.output
    rebuilt = runner.invoke(
        app, ["rebuild", "-d", str(live), "--into", str(tmp_path / "next"), "--vectors", str(out), "-q"]
    )
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "added 134" in rebuilt.stderr and "(0 embedded, 134 from --vectors)" in rebuilt.stderr
    assert Store.open(tmp_path / "next").model == "test/hashing-64"

    other = runner.invoke(
        app, ["index", str(archive), "--data-dir", str(tmp_path / "other"), "--model", "test/hashing-128",
              "--vectors", str(out)],
    )  # fmt: skip
    assert other.exit_code == 1
    assert "were computed with model 'test/hashing-64'" in other.stderr
    assert "this data dir's are model 'test/hashing-128'" in other.stderr
    assert Store.open(tmp_path / "other").model is None  # refused before it recorded a model
    into_data_dir = runner.invoke(app, ["embed", str(archive), "--out", str(data)])
    assert into_data_dir.exit_code == 1 and "is a data dir" in into_data_dir.stderr


def test_embed_joins_a_running_ray_cluster_by_its_address(tmp_path: Path) -> None:
    """`ray start --head` as an operator starts a cluster, then `seealso embed --ray ADDRESS`."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ray_bin = Path(sys.executable).with_name("ray")
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_ADDRESS": "", "SEEALSO_MODEL": "test/hashing"}
    head = subprocess.Popen(
        [str(ray_bin), "start", "--head", "--block", "--port", str(port), "--num-cpus", "2",
         "--include-dashboard", "false", "--disable-usage-stats"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        command = [sys.executable, "-m", "seealso", "embed", str(archive_of(tmp_path / "archive"))]
        command += ["--out", str(tmp_path / "vectors"), "--ray", f"127.0.0.1:{port}", "-q"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and head.poll() is None:  # its GCS listens first
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        while True:  # then the head takes a few seconds more to take drivers
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
            if done.returncode != 1 or time.monotonic() > deadline or head.poll() is not None:
                break
            time.sleep(2)
        assert done.returncode == 3, done.stderr  # the broken line
        assert "embedded 134 articles" in done.stderr.splitlines()[-1]
        assert len(VectorSource(tmp_path / "vectors")) == len(LINES)
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        head.wait(timeout=60)
