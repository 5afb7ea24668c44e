"""The write log: every write with who made it (a batch run, the API under its token's name, an
editor), filtered by who, what and when on the editor's audit page, and exported as CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from seealso.config import Settings
from seealso.indexer.dates import now as utc_now
from seealso.service.app import create_app
from tests.service.test_keywords import index_records

CMS = {"Authorization": "Bearer cms-token-0123456789abcdef"}
DESK = {"Authorization": "Bearer desk-token-0123456789abcdef"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    data_dir = index_records(tmp_path)  # the small site of test_keywords
    settings = Settings(
        data_dir=data_dir, model="test/hashing", editor_public_read=True,
        api_tokens={"cms": "cms-token-0123456789abcdef", "desk": "desk-token-0123456789abcdef"},
    )  # fmt: skip
    with TestClient(create_app(settings)) as client:
        yield client


def rows(client: TestClient, **params: str) -> list[dict[str, str]]:
    response = client.get("/editor/audit/writes.csv", params=params)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_every_write_is_logged_with_who_made_it(client: TestClient) -> None:
    new = {"title": "Junta extends transition", "body": "Mali junta transition Bamako"}
    assert client.put("/v1/articles/mali-9", json=new, headers=CMS).status_code == 201
    assert (
        client.put("/v1/articles/mali-9", json={**new, "title": "Junta extends it"}, headers=CMS).status_code
        == 200
    )
    batch = "\n".join(
        json.dumps({"id": f"b-{n}", "title": f"Batch {n}", "body": "cocoa prices"}) for n in range(2)
    )
    response = client.post(
        "/v1/articles:batch", content=batch, headers={**DESK, "Content-Type": "application/x-ndjson"}
    )
    assert response.status_code == 200, response.text
    assert client.delete("/v1/articles/b-1", headers=DESK).status_code == 204
    edit = {"keyword": "Sahel", "action": "add"}
    assert client.post("/v1/articles/mali-9/keyword-edits", json=edit, headers=DESK).status_code == 200
    alias = {"keywords": ["ECOWAS", "CEDEAO"], "action": "confirm"}
    assert client.post("/v1/aliases", json=alias, headers=CMS).status_code == 200
    found = [(r["author"], r["change"], r["subject"], r["detail"]) for r in rows(client)]
    assert found[:7] == [
        ("api:cms", "alias confirmed", "ecowas", "cedeao"),
        ("api:desk", "keyword added", "mali-9", "Sahel"),
        ("api:desk", "deleted", "b-1", ""),
        ("api:desk", "added", "b-1", ""),
        ("api:desk", "added", "b-0", ""),
        ("api:cms", "updated", "mali-9", ""),
        ("api:cms", "added", "mali-9", ""),
    ]
    assert {author for author, *_ in found[7:]} == {"batch"}  # the first index of the site
    # Filters: who, what, which article, when.
    assert [r["change"] for r in rows(client, who="api:cms", subject="mali-9")] == ["updated", "added"]
    assert [r["subject"] for r in rows(client, what="deleted")] == ["b-1"]
    today = utc_now()[:10]
    assert len(rows(client, since=today, until=today)) == len(found)
    assert rows(client, until="2000-01-01") == []


def test_the_audit_page_filters_the_writes_and_refuses_bad_filters(client: TestClient) -> None:
    assert (
        client.put("/v1/articles/mali-9", json={"title": "T", "body": "Mali"}, headers=CMS).status_code == 201
    )
    page = client.get("/editor/audit", params={"who": "api:cms"})
    assert page.status_code == 200
    assert "mali-9" in page.text and 'href="/editor/audit/writes.csv?who=api%3Acms"' in page.text
    assert "cocoa-1" not in page.text.split('id="overrides-title"')[0]  # indexed by the batch run
    for bad in ({"what": "exploded"}, {"since": "yesterday"}, {"until": "2024-13-45x"}):
        response = client.get("/editor/audit", params=bad)
        assert response.status_code == 422, bad
