"""The HTTP app over a temporary data dir (TestClient), and once as a real server process."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from seealso.config import Settings
from seealso.embeddings.hashing import HashingEmbedder
from seealso.errors import ModelMismatch
from seealso.indexer.reader import read_articles
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store
from seealso.service.app import create_app

ODD_ID = "dossiers/mali:2021 #1?&x=é"
RECORDS = [
    {"id": "mali-1", "title": "Soldiers seize power in Bamako", "body": "Mali junta coup soldiers Bamako"},
    {"id": "mali-2", "title": "Mali junta promises elections", "body": "Mali junta coup transition Bamako"},
    {"id": ODD_ID, "title": "Sanctions on the Mali junta", "body": "ECOWAS sanctions Mali junta Bamako"},
    {"id": "cocoa-1", "title": "Cocoa prices soar", "body": "cocoa prices farmers harvest chocolate"},
]


def indexed_dir(tmp_path: Path, records: list[dict[str, object]]) -> Path:
    """A data dir of `records`, indexed with the hashing embedder."""
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    store = Store.open(tmp_path / "data", create=True)
    index_articles(store, HashingEmbedder(64), read_articles(str(path)))
    store.close()
    return tmp_path / "data"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return indexed_dir(tmp_path, RECORDS)


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=data_dir, model="test/hashing", min_score=0, diversity=0, freshness_half_life_days=0
    )
    with TestClient(create_app(settings)) as client:
        yield client


def related_url(article_id: str, **params: object) -> str:
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    return f"/v1/articles/{urllib.parse.quote(article_id, safe='')}/related{query}"


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_related(client: TestClient) -> None:
    response = client.get(related_url("mali-1", k=2))
    assert response.status_code == 200
    body = response.json()
    assert body["article"]["id"] == "mali-1"
    assert [i["id"] for i in body["items"]] == ["mali-2", ODD_ID]
    assert set(body["items"][0]) >= {"id", "title", "url", "section", "language", "published_at", "score"}


def test_ids_with_any_character(client: TestClient) -> None:
    body = client.get(related_url(ODD_ID, k=1)).json()
    assert body["article"]["id"] == ODD_ID
    assert body["items"][0]["id"] in {"mali-1", "mali-2"}


@pytest.mark.parametrize(("k", "status"), [(0, 422), (101, 422), ("many", 422), (100, 200)])
def test_k_is_checked(client: TestClient, k: object, status: int) -> None:
    response = client.get(related_url("mali-1", k=k))
    assert response.status_code == status
    if status == 422:
        assert response.json()["error"] == "invalid_request"
        assert "k" in response.json()["message"]


def test_errors_are_json(client: TestClient) -> None:
    missing = client.get(related_url("nope"))
    assert (missing.status_code, missing.json()) == (
        404, {"error": "not_found", "message": "article not found: 'nope'"},
    )  # fmt: skip
    unknown = client.get("/no/such/route")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Plain ranking by relevance (the list rules have their own tests).
NEUTRAL_RULES = {
    "SEEALSO_MIN_SCORE": "0",
    "SEEALSO_DIVERSITY": "0",
    "SEEALSO_FRESHNESS_HALF_LIFE_DAYS": "0",
    "SEEALSO_DUPLICATE_SIMILARITY": "1",
}
SEEALSO = [sys.executable, "-c", "from seealso.cli import main; main()"]


@contextlib.contextmanager
def serving(env: dict[str, str], *args: str, command: str = "serve", within: float = 30) -> Iterator[str]:
    """`seealso serve` (or `command`) as a real process with `env` (SEEALSO_PORT included), until
    it is ready; yields its base URL and stops it afterwards."""
    process = subprocess.Popen([*SEEALSO, command, *args], env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{env['SEEALSO_PORT']}"
    try:
        deadline = time.monotonic() + within
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                    assert json.load(response)["status"] == "ready"
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(params=[1, 2], ids=["1-worker", "2-workers"])
def server(data_dir: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """`seealso serve` as a real process on a free loopback port; yields its base URL."""
    env = {
        **os.environ,
        "SEEALSO_PORT": str(free_port()),
        "SEEALSO_DATA_DIR": str(data_dir),
        "SEEALSO_MODEL": "test/hashing",
        **NEUTRAL_RULES,
    }
    with serving(env, "--workers", str(request.param)) as base:
        yield base


def test_real_server_process(server: str) -> None:
    with urllib.request.urlopen(server + related_url("mali-1", k=1), timeout=5) as response:
        assert [i["id"] for i in json.load(response)["items"]] == ["mali-2"]
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(server + related_url("nope"), timeout=5)
    assert caught.value.code == 404
    assert json.load(caught.value)["error"] == "not_found"


def test_a_batch_index_while_serving_fails_no_request(server: str, data_dir: Path, tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    export.write_text(
        "".join(
            json.dumps({"id": f"new-{i}", "title": f"Cocoa harvest {i}", "body": "cocoa farmers prices"})
            + "\n"
            for i in range(600)
        )
    )
    failures: list[str] = []
    served = 0
    stop = threading.Event()

    def load() -> None:
        nonlocal served
        while not stop.is_set():
            try:
                with urllib.request.urlopen(server + related_url("mali-1", k=5), timeout=10) as response:
                    items = json.load(response)["items"]
                assert len(items) in (3, 5) and items[0]["id"] == "mali-2"  # 3 before the batch, 5 after
                served += 1
            except Exception as exc:  # any failure is what this test looks for
                failures.append(repr(exc))

    thread = threading.Thread(target=load)
    thread.start()
    env = {**os.environ, "SEEALSO_DATA_DIR": str(data_dir), "SEEALSO_MODEL": "test/hashing"}
    batch = subprocess.run(
        [*SEEALSO, "index", str(export), "--quiet"], env=env, capture_output=True, text=True
    )
    stop.set()
    thread.join()
    assert batch.returncode == 0, batch.stderr
    assert "added 600" in batch.stderr
    assert failures == [] and served > 0
    with urllib.request.urlopen(server + related_url("new-7", k=3), timeout=5) as response:
        assert all(item["id"].startswith("new-") for item in json.load(response)["items"])


def test_the_service_refuses_an_index_of_another_model(data_dir: Path) -> None:
    with (
        pytest.raises(ModelMismatch, match="test/hashing-64"),
        TestClient(create_app(Settings(data_dir=data_dir, model="sentence-transformers/all-MiniLM-L6-v2"))),
    ):
        pass


def test_the_service_goes_on_with_the_model_a_data_dir_was_built_with(data_dir: Path) -> None:
    with TestClient(create_app(Settings(data_dir=data_dir))) as client:  # no model named
        assert client.app.state.serving.current.ranker.embedder.name == "test/hashing-64"  # type: ignore[attr-defined]
        assert client.get("/v1/search", params={"q": "Mali"}).status_code == 200


def test_a_server_switches_data_dirs_when_the_current_link_moves_and_drops_no_request(
    tmp_path: Path,
) -> None:
    """Two data dirs of the same articles by two models; `current` points at the first, then the
    second, then back, while a load runs against two server processes."""
    dirs = {}
    for name, dimension in (("old", 64), ("new", 128)):
        store = Store.open(tmp_path / name, create=True)
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
        index_articles(store, HashingEmbedder(dimension), read_articles(str(path)))
        store.close()
        dirs[name] = tmp_path / name
    expected = {}
    neutral = {"min_score": 0, "diversity": 0, "freshness_half_life_days": 0, "duplicate_similarity": 1}
    for name, path in dirs.items():
        with TestClient(create_app(Settings(data_dir=path, **neutral))) as client:  # type: ignore[arg-type]
            expected[name] = client.get(related_url("mali-1", k=3)).json()["items"]
    assert [i["score"] for i in expected["old"]] != [i["score"] for i in expected["new"]]

    current = tmp_path / "current"
    current.symlink_to(dirs["old"])

    def point(name: str) -> None:  # how an operator swaps it: a new link renamed over the old one
        (tmp_path / "next").symlink_to(dirs[name])
        os.replace(tmp_path / "next", current)

    env = {**os.environ, "SEEALSO_PORT": str(free_port()), "SEEALSO_DATA_DIR": str(current), **NEUTRAL_RULES}
    env.pop("SEEALSO_MODEL", None)  # each data dir is served with its own model
    env["SEEALSO_SWITCH_CHECK_SECONDS"] = "0.2"
    failures: list[str] = []
    seen: list[tuple[float, str]] = []  # (when, which data dir's list) for every answer
    stop = threading.Event()

    def load(base: str) -> None:
        while not stop.is_set():
            try:
                with urllib.request.urlopen(base + related_url("mali-1", k=3), timeout=10) as response:
                    items = json.load(response)["items"]
                which = [name for name, same in expected.items() if same == items]
                assert which, items  # every answer is one data dir's whole list, never a mix
                seen.append((time.monotonic(), which[0]))
            except Exception as exc:  # any failure is what this test looks for
                failures.append(repr(exc))

    def settled(base: str, name: str) -> float:
        """When every worker answers from `name`'s data dir (20 answers in a row)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            answers = []
            for _ in range(20):
                with urllib.request.urlopen(base + "/readyz", timeout=10) as response:
                    answers.append(json.load(response)["data_dir"])
            if answers == [name] * 20:
                return time.monotonic()
            time.sleep(0.1)
        raise AssertionError(f"the servers did not all switch to {name}")

    with serving(env, "--workers", "2") as base:
        threads = [threading.Thread(target=load, args=(base,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(1)
            point("new")
            switched = settled(base, "new")
            time.sleep(1)
            moved_back = time.monotonic()
            point("old")
            back = settled(base, "old")
            time.sleep(1)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        with urllib.request.urlopen(base + "/readyz", timeout=5) as response:
            assert json.load(response)["model"] == "test/hashing-64"
    assert failures == []
    assert {name for at, name in seen if switched < at < moved_back} == {"new"}
    assert {name for at, name in seen if at > back} == {"old"}
    assert len(seen) > 50


def test_a_switch_to_a_folder_that_is_no_data_dir_or_of_a_refused_model_keeps_serving(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "old").mkdir()
    old = indexed_dir(tmp_path / "old", RECORDS)
    other = tmp_path / "other"  # a data dir of another model than the one the settings name
    store = Store.open(other, create=True)
    index_articles(store, HashingEmbedder(128), read_articles(str(tmp_path / "old" / "in.jsonl")))
    store.close()
    (tmp_path / "empty").mkdir()
    current = tmp_path / "current"
    current.symlink_to(old)
    settings = Settings(data_dir=current, model="test/hashing", switch_check_seconds=0)
    with TestClient(create_app(settings)) as client:
        serving = client.app.state.serving  # type: ignore[attr-defined]
        for wrong, why in ((tmp_path / "empty", "is not a data dir"), (other, "test/hashing-128")):
            current.unlink()
            current.symlink_to(wrong)
            with caplog.at_level(logging.WARNING, logger="seealso.service"):
                assert serving.switch() is False
            assert why in caplog.text
            assert client.get("/readyz").json()["data_dir"] == "data"
            assert client.get(related_url("mali-1", k=1)).json()["items"][0]["id"] == "mali-2"
            assert serving.switch() is False  # not tried again until the link moves again
        assert not (tmp_path / "empty" / "catalog.sqlite3").exists()
        current.unlink()
        current.symlink_to(old)
        assert serving.switch() is False  # back where it is: nothing to do


def test_a_replaced_data_dir_closes_when_its_last_request_ends_and_not_before(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import sqlite3

    from seealso.service.serving import open_served

    settings = Settings(data_dir=data_dir, model="test/hashing", feed=False)
    busy = open_served(settings, data_dir, lambda url: None)
    busy.enter()  # a request that took it before the switch
    busy.enter()
    with caplog.at_level(logging.WARNING, logger="seealso.service"):
        busy.retire(grace=0.05)
    assert "2 requests still use" in caplog.text
    assert busy.store.catalog.count() == 4  # still open for them
    busy.leave()
    assert busy.store.catalog.count() == 4
    busy.leave()  # the last one closes it
    with pytest.raises(sqlite3.ProgrammingError):
        busy.store.catalog.count()
    idle = open_served(settings, data_dir, lambda url: None)
    idle.retire()  # nobody took it: closed at once
    with pytest.raises(sqlite3.ProgrammingError):
        idle.store.catalog.count()
