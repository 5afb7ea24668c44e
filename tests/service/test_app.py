"""The HTTP app over a temporary data dir (TestClient), and once as a real server process."""

from __future__ import annotations

import contextlib
import json
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
        assert client.app.state.ranker.embedder.name == "test/hashing-64"  # type: ignore[attr-defined]
        assert client.get("/v1/search", params={"q": "Mali"}).status_code == 200
