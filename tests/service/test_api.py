"""The HTTP API through the app (TestClient) over a temporary data dir, with the test embedder."""

from __future__ import annotations

import json
import re
import sqlite3
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from seealso.config import Settings
from seealso.embeddings.hashing import HashingEmbedder
from seealso.errors import SeealsoError
from seealso.indexer.reader import Record, read_articles, validate_record
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store
from seealso.service.app import create_app

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ODD = "dossiers/mali:2021 #1?&x=é%20"

CORPUS = [
    {"id": "mali-1", "title": "Soldiers seize power in Bamako", "body": "Mali junta coup soldiers Bamako president arrested", "keywords": ["Mali", "Bamako", "coup"], "section": "africa", "language": "en", "published_at": "2020-08-18T10:00:00Z"},
    {"id": "mali-2", "title": "Mali junta promises elections", "body": "Mali junta coup transition Bamako elections president", "keywords": ["Mali", "junta"], "section": "africa", "language": "en", "published_at": "2021-05-25T10:00:00Z"},
    {"id": ODD, "title": "Sanctions on the Mali junta", "body": "ECOWAS sanctions Mali junta Bamako coup president", "keywords": ["Mali", "ECOWAS"], "section": "africa", "language": "en", "published_at": "2022-01-05T10:00:00Z"},
    {"id": "mali-fr", "title": "La junte malienne et la CEDEAO", "body": "Mali junta Bamako coup CEDEAO sanctions president", "keywords": ["Mali", "CEDEAO"], "section": "africa", "language": "fr", "published_at": "2022-01-10T10:00:00Z"},
    {"id": "mali-untagged", "title": "Bamako after the coup", "body": "Mali junta Bamako coup soldiers president streets", "section": "world", "language": "en", "published_at": "2023-03-01T10:00:00Z"},
    {"id": "cocoa-1", "title": "Cocoa prices soar", "body": "cocoa prices farmers harvest chocolate Abidjan", "keywords": ["cocoa", "Côte d'Ivoire"], "section": "business", "language": "en", "published_at": "2024-03-26T10:00:00Z"},
    {"id": "cocoa-2", "title": "Chocolate makers pay more for cocoa", "body": "cocoa chocolate makers prices harvest farmers", "keywords": ["cocoa"], "section": "business", "language": "en", "published_at": "2024-04-02T10:00:00Z"},
    {"id": "olympics", "title": "Swimming in the Seine", "body": "Paris olympics swimmers river Seine water quality", "keywords": ["Olympics", "Paris"], "section": "sport", "language": "fr", "published_at": "2024-07-30T10:00:00Z"},
]  # fmt: skip


def path_of(article_id: str) -> str:
    return "/v1/articles/" + urllib.parse.quote(article_id, safe="")


def ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def write_corpus(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    store = Store.open(tmp_path / "data", create=True)
    index_articles(store, HashingEmbedder(64), read_articles(str(write_corpus(tmp_path / "c.jsonl", CORPUS))))
    store.close()
    return tmp_path / "data"


def make_client(data_dir: Path, **settings: object) -> TestClient:
    values: dict[str, object] = {
        "data_dir": data_dir, "model": "test/hashing", "api_token": TOKEN, "keyword_refresh_seconds": 0,
        # plain ranking by relevance: the list rules have their own tests
        "min_score": 0.0, "diversity": 0.0, "freshness_half_life_days": 0.0, "duplicate_similarity": 1.0,
        **settings,
    }  # fmt: skip
    return TestClient(create_app(Settings(**values)))  # type: ignore[arg-type]


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    with make_client(data_dir) as client:
        yield client


# -- reading ---------------------------------------------------------------------------------------


def test_article_metadata(client: TestClient) -> None:
    body = client.get(path_of(ODD)).json()
    assert body["id"] == ODD
    assert body["keywords"] == ["Mali", "ECOWAS"]
    assert body["published_at"] == "2022-01-05T10:00:00Z"
    assert body["indexed_at"].endswith("Z")
    assert "body" not in body


def test_related_never_lists_the_article_itself(client: TestClient) -> None:
    got = ids(client.get(path_of("mali-1") + "/related?k=100"))
    assert "mali-1" not in got
    assert len(got) == len(CORPUS) - 1
    assert set(got[:4]) == {"mali-2", ODD, "mali-fr", "mali-untagged"}


def test_related_item_fields(client: TestClient) -> None:
    body = client.get(path_of("mali-1") + "/related?k=2").json()
    assert body["article"]["id"] == "mali-1"
    first, second = body["items"]
    assert set(first) >= {"id", "title", "url", "section", "language", "published_at", "score", "reasons"}
    assert (first["id"], second["id"]) == ("mali-untagged", ODD)
    assert first["score"] > second["score"]
    assert (first["reasons"]["shared_keywords"], second["reasons"]["shared_keywords"]) == ([], ["Mali"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("section=business", {"cocoa-1", "cocoa-2"}),
        ("section=business,sport", {"cocoa-1", "cocoa-2", "olympics"}),
        # mali-fr, in another language, is scored on meaning and names alone (words do not cross)
        ("section=africa,world", {"mali-untagged", ODD, "mali-fr"}),
        ("language=fr", {"mali-fr", "olympics"}),
        ("language=FR&section=africa", {"mali-fr"}),
        ("since=2024-01-01", {"cocoa-1", "cocoa-2", "olympics"}),
        ("since=2022-01-05&until=2022-01-10", {ODD, "mali-fr"}),  # a date-only until includes its day
        ("until=2022-01-10T00:00:00Z", {"mali-2", ODD}),
        ("exclude=mali-2,cocoa-1&section=africa,business", {ODD, "mali-fr", "cocoa-2"}),
        (f"exclude=mali-2&exclude={urllib.parse.quote(ODD)}&section=africa", {"mali-fr"}),
    ],
)
def test_filters_apply_before_the_cut(client: TestClient, query: str, expected: set[str]) -> None:
    got = ids(client.get(path_of("mali-1") + f"/related?k=3&{query}"))
    assert set(got) == expected


def test_a_filtered_list_still_has_k_items(client: TestClient) -> None:
    # the two business articles are the least related to mali-1, yet k=2 returns both
    assert set(ids(client.get(path_of("mali-1") + "/related?k=2&section=business"))) == {"cocoa-1", "cocoa-2"}


def test_search(client: TestClient) -> None:
    assert ids(client.get("/v1/search?q=cocoa harvest prices&k=2")) == ["cocoa-1", "cocoa-2"]
    assert ids(client.get("/v1/search?q=Mali junta&k=1&language=fr")) == ["mali-fr"]


def test_keyword_page_includes_untagged_articles_about_it(client: TestClient) -> None:
    body = client.get("/v1/keywords/mali/articles?k=10").json()
    assert body["keyword"] == "Mali"
    assert body["tagged"] == 4
    got = [i["id"] for i in body["items"]]
    assert set(got[:5]) == {"mali-1", "mali-2", ODD, "mali-fr", "mali-untagged"}
    untagged = next(i for i in body["items"] if i["id"] == "mali-untagged")
    assert untagged["reasons"]["tagged"] is False
    assert "olympics" not in got  # unrelated articles do not fill the page


def test_keyword_page_puts_fresher_first_among_equals(tmp_path: Path) -> None:
    twins = [
        {"id": f"v{i}", "title": "Cocoa harvest report", "body": f"cocoa harvest farmers prices of 202{i}", "keywords": ["cocoa"], "published_at": f"202{i}-01-01"}
        for i in (1, 3, 2)
    ]  # fmt: skip
    store = Store.open(tmp_path / "d", create=True)
    index_articles(store, HashingEmbedder(64), read_articles(str(write_corpus(tmp_path / "t.jsonl", twins))))
    store.close()
    with make_client(tmp_path / "d") as client:
        assert ids(client.get("/v1/keywords/cocoa/articles")) == ["v3", "v2", "v1"]


def test_keywords_with_any_character(client: TestClient) -> None:
    body = client.get("/v1/keywords/" + urllib.parse.quote("CÔTE D'IVOIRE", safe="") + "/articles").json()
    assert body["keyword"] == "Côte d'Ivoire"
    assert body["items"][0]["id"] == "cocoa-1"


def test_related_keywords(client: TestClient) -> None:
    body = client.get("/v1/keywords/bamako/related?k=3").json()
    assert body["keyword"] == "Bamako"
    # Bamako tags one article, with Mali (on 4 articles) and coup (on 1): coup is the closer one
    assert [i["keyword"] for i in body["items"][:2]] == ["coup", "Mali"]
    assert [i["reasons"]["articles_together"] for i in body["items"][:2]] == [1, 1]
    assert [i["articles"] for i in body["items"][:2]] == [1, 4]
    assert all(0 <= i["score"] <= 1 for i in body["items"])
    scores = [i["score"] for i in body["items"]]
    assert scores == sorted(scores, reverse=True)
    missing = client.get("/v1/keywords/Atlantis/related")
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")


def test_similarity_is_the_related_score(client: TestClient) -> None:
    top = client.get(path_of("mali-1") + "/related?k=1").json()["items"][0]
    pairs = [
        {"source": "mali-1", "target": top["id"]},
        {"source": "mali-1", "target": "cocoa-1"},
        {"source": "mali-1", "target": "nope"},
    ]
    items = client.post("/v1/similarity", json={"pairs": pairs}).json()["items"]
    assert items[0]["score"] == pytest.approx(top["score"], abs=1e-4)
    assert items[0]["rank"] == 1
    assert items[1]["score"] < items[0]["score"]
    assert (items[2]["verdict"], items[2]["score"], items[2]["reasons"]) == (
        "error",
        None,
        "unknown target 'nope'",
    )


# -- writing ---------------------------------------------------------------------------------------

NEW = {"title": "Junta in Bamako delays the vote", "body": "Mali junta Bamako elections delayed coup", "keywords": ["Mali", "Bamako"], "section": "africa", "published_at": "2024-02-01"}  # fmt: skip


def test_writes_need_a_configured_token(data_dir: Path) -> None:
    with make_client(data_dir, api_token=None) as client:
        refused = client.put(path_of("new"), json=NEW, headers=AUTH)
        assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")
        assert "SEEALSO_API_TOKEN" in refused.json()["message"]
        assert client.delete(path_of("mali-1"), headers=AUTH).status_code == 403
        assert client.get(path_of("mali-1")).status_code == 200


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 403), ({"Authorization": f"Basic {TOKEN}"}, 403)],
)
def test_writes_refuse_a_missing_or_wrong_token(
    client: TestClient, headers: dict[str, str], status: int
) -> None:
    response = client.put(path_of("new"), json=NEW, headers=headers)
    assert response.status_code == status
    assert response.json()["message"]
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert client.delete(path_of("mali-1"), headers=headers).status_code == status
    assert client.get(path_of("new")).status_code == 404


def test_upsert_is_in_every_result_when_it_returns(client: TestClient) -> None:
    created = client.put(path_of("new/1"), json=NEW, headers=AUTH)
    assert (created.status_code, created.json()["status"]) == (201, "added")
    assert created.json()["article"]["id"] == "new/1"
    assert "new/1" in ids(client.get(path_of("mali-1") + "/related?k=5"))
    assert "new/1" in ids(client.get("/v1/search?q=junta delays the vote&k=1"))
    assert "new/1" in ids(client.get("/v1/keywords/Bamako/articles?k=10"))
    again = client.put(path_of("new/1"), json=NEW, headers=AUTH)
    assert (again.status_code, again.json()["status"]) == (200, "unchanged")
    moved = client.put(
        path_of("new/1"),
        json={**NEW, "id": "new/1", "body": "cocoa harvest prices farmers chocolate"},
        headers=AUTH,
    )
    assert moved.json()["status"] == "updated"
    assert "new/1" in ids(client.get(path_of("cocoa-1") + "/related?k=2"))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"title": ""}, "at least one of title, summary or body must be non-empty"),
        ({"title": "t", "published_at": "next tuesday"}, "published_at: not an ISO 8601"),
        ({"title": 12}, "title: Input should be a valid string"),
        ({"title": "t", "keywords": "Mali"}, "keywords: must be a list of strings"),
        ({"title": "t", "id": "other"}, "differs from 'x' in the URL"),
    ],
)
def test_invalid_articles_get_422_with_reasons(
    client: TestClient, body: dict[str, object], reason: str
) -> None:
    response = client.put(path_of("x"), json=body, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_article"
    assert reason in response.json()["message"]
    assert client.get(path_of("x")).status_code == 404


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[1, 2]", b'"just a string"', b""],
)
def test_bodies_that_are_not_an_article(client: TestClient, content: bytes) -> None:
    response = client.put(path_of("x"), content=content, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


def test_huge_bodies_are_refused(data_dir: Path) -> None:
    with make_client(data_dir, max_body_bytes=4096) as client:
        response = client.put(path_of("x"), json={**NEW, "body": "word " * 2000}, headers=AUTH)
        assert (response.status_code, response.json()["error"]) == (413, "too_large")
        chunked = client.post("/v1/similarity", content=iter([b'{"pairs": [', b" " * 5000, b"]}"]))
        assert chunked.status_code == 413


def test_delete_removes_it_from_every_result(client: TestClient) -> None:
    assert client.delete(path_of(ODD), headers=AUTH).status_code == 204
    assert client.get(path_of(ODD)).status_code == 404
    assert ODD not in ids(client.get(path_of("mali-1") + "/related?k=100"))
    assert ODD not in ids(client.get("/v1/search?q=ECOWAS sanctions&k=100"))
    assert ODD not in ids(client.get("/v1/keywords/Mali/articles?k=100"))
    assert client.get(path_of(ODD) + "/related").status_code == 404
    assert client.delete(path_of(ODD), headers=AUTH).status_code == 404


# -- caching ---------------------------------------------------------------------------------------


def test_lists_carry_an_etag_that_follows_the_list(client: TestClient) -> None:
    url = path_of("mali-1") + "/related?k=10"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=60"
    cached = client.get(url, headers={"If-None-Match": etag})
    assert (cached.status_code, cached.content, cached.headers["ETag"]) == (304, b"", etag)
    assert client.get(url).headers["ETag"] == etag
    client.put(path_of("new"), json=NEW, headers=AUTH)
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    for keyword_url in ("/v1/keywords/Mali/articles", "/v1/keywords/Mali/related"):
        tag = client.get(keyword_url).headers["ETag"]
        assert client.get(keyword_url, headers={"If-None-Match": tag}).status_code == 304


# -- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/v1/articles/mali-1/related?k=0", 422),
        ("GET", "/v1/articles/mali-1/related?k=101", 422),
        ("GET", "/v1/articles/mali-1/related?k=ten", 422),
        ("GET", "/v1/articles/mali-1/related?since=yesterday", 422),
        ("GET", "/v1/articles/mali-1/related?until=2021-13-01", 422),
        ("GET", "/v1/articles/nope/related", 404),
        ("GET", "/v1/articles/nope", 404),
        ("GET", "/v1/articles/%00%ff%fe/related", 422),
        ("GET", "/v1/articles/%ff", 422),
        ("PUT", "/v1/articles/%fe", 422),
        ("DELETE", "/v1/articles/mali-1/overrides/%ff", 422),
        ("GET", "/v1/keywords/caf%e9/articles", 422),
        ("GET", "/v1/articles/" + "x" * 3000, 404),
        ("GET", "/v1/search", 422),
        ("GET", "/v1/search?q=", 422),
        ("GET", "/v1/search?q=" + "x" * 2001, 422),
        ("GET", "/v1/keywords/Mali/articles?k=-1", 422),
        ("GET", "/v1/nothing/here", 404),
        ("POST", "/v1/articles/mali-1/related", 405),
    ],
)
def test_bad_requests_get_a_json_error(client: TestClient, method: str, url: str, status: int) -> None:
    response = client.request(method, url)
    assert response.status_code == status
    body = response.json()
    assert body["error"] and body["message"]


@pytest.mark.parametrize(
    "payload",
    [{}, {"pairs": []}, {"pairs": [{"source": "a"}]}, {"pairs": [{"source": 1, "target": 2}]}, {"pairs": "a,b"},
     {"pairs": [{"source": "a", "target": "b"}] * 1001}],
)  # fmt: skip
def test_similarity_bad_bodies(client: TestClient, payload: dict[str, object]) -> None:
    response = client.post("/v1/similarity", json=payload)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


# -- operations ------------------------------------------------------------------------------------


def test_health_readiness_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert (ready["status"], ready["articles"], ready["model"]) == ("ready", len(CORPUS), "test/hashing-64")
    assert (ready["runtime"], ready["index"]) == ("numpy", "Flat,IP")
    client.get(path_of("mali-1") + "/related")
    client.get(path_of("nope") + "/related")
    text = client.get("/metrics").text
    assert (
        'seealso_http_requests_total{method="GET",route="/v1/articles/{article_id}/related",status="200"} 1.0'
        in text
    )
    assert 'route="/v1/articles/{article_id}/related",status="404"} 1.0' in text
    assert f"seealso_articles {float(len(CORPUS))}" in text
    assert "seealso_last_write_timestamp_seconds 1." in text
    assert 'seealso_http_request_seconds_bucket{le="0.02",route="/v1/articles/{article_id}/related"}' in text


def test_openapi_docs(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {
        "/v1/articles/{article_id}/related",
        "/v1/search",
        "/v1/similarity",
        "/v1/keywords/{keyword}/articles",
    } <= set(spec["paths"])
    assert client.get("/docs").status_code == 200
    # List parameters are read from the query string in one step, and still documented.
    for path in ("/v1/articles/{article_id}/related", "/v1/search", "/v1/keywords/{keyword}/articles"):
        documented = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert {"k", "section", "language", "since", "until", "exclude", "half_life"} <= set(documented)
    k = spec["paths"]["/v1/articles/{article_id}/related"]["get"]["parameters"]
    assert next(p for p in k if p["name"] == "k")["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 10,
    }


def test_a_batch_run_and_http_writes_do_not_lose_each_other(
    client: TestClient, data_dir: Path, tmp_path: Path
) -> None:
    """A batch `index --prune` of an export runs while an article is PUT over HTTP mid-run."""
    export = [r for r in CORPUS if r["id"] != "olympics"] + [
        {"id": f"batch-{i}", "title": f"Cocoa farmers report {i}", "body": f"cocoa harvest prices farmers region{i:02d}"} for i in range(10)
    ]  # fmt: skip

    def items() -> Iterator[Record]:
        for number, record in enumerate(export, start=1):
            if number == 9:  # the first batch of 8 is committed; the site publishes an article now
                assert client.put(path_of("live"), json=NEW, headers=AUTH).status_code == 201
            item = validate_record(number, record)
            assert isinstance(item, Record)
            yield item

    batch = Store.open(data_dir)  # the batch job has its own connection, as a separate process would
    report = index_articles(batch, HashingEmbedder(64), items(), prune=True, batch_size=8)
    assert (report.added, report.deleted) == (10, 1)
    # the service sees the batch's work without a restart, and the live article survived the prune
    assert set(ids(client.get("/v1/search?q=cocoa farmers report&k=20"))) >= {f"batch-{i}" for i in range(10)}
    assert client.get(path_of("olympics")).status_code == 404
    assert client.get(path_of("live")).status_code == 200
    assert "live" in ids(client.get(path_of("mali-1") + "/related?k=5"))


def test_half_life_is_a_request_parameter(client: TestClient) -> None:
    assert client.get(path_of("mali-1") + "/related?half_life=30").status_code == 200
    assert client.get("/v1/search?q=Mali&half_life=0").status_code == 200
    bad = client.get(path_of("mali-1") + "/related?half_life=-1")
    assert (bad.status_code, bad.json()["error"]) == (422, "invalid_request")
    items = client.get(path_of("mali-1") + "/related?half_life=30&k=3").json()["items"]
    assert all(0.7 <= i["reasons"]["freshness"] <= 1 for i in items)


def test_bad_list_parameters_name_the_parameter(client: TestClient) -> None:
    bad = client.get(path_of("mali-1") + "/related?k=0&half_life=x").json()
    assert bad["error"] == "invalid_request"
    assert [d["field"] for d in bad["details"]] == ["query.k", "query.half_life"]
    assert "greater than or equal to 1" in bad["message"]


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer    ", "bearer\t"])
def test_an_empty_bearer_never_writes(client: TestClient, header: str) -> None:
    response = client.put(path_of("new"), json=NEW, headers={"Authorization": header})
    assert response.status_code in (401, 403)
    assert client.delete(path_of("mali-1"), headers={"Authorization": header}).status_code in (401, 403)
    assert client.get(path_of("new")).status_code == 404 and client.get(path_of("mali-1")).status_code == 200


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"api_token": ""}, "SEEALSO_API_TOKEN is empty"),
        ({"api_token": "   "}, "SEEALSO_API_TOKEN is empty"),
        ({"api_token": "two words"}, "printable ASCII without spaces"),
        ({"api_token": "token\n"}, "printable ASCII without spaces"),
        ({"api_tokens": {"cms": ""}}, "SEEALSO_API_TOKENS['cms'] is empty"),
        ({"api_tokens": {"cms": "same", "batch": "same"}}, "have the same token"),
        ({"editor_users": {"alice": ""}}, "the password of 'alice' is empty"),
        ({"editor_users": {"alice": "  "}}, "the password of 'alice' is empty"),
        ({"editor_users": {"alice": "pbkdf2_sha256$0$s$x"}}, "the hash of 'alice' is not one"),
        (
            {"editor_users": {"alice": "pbkdf2_sha256$999999999999$ab$" + "0" * 64}},
            "the hash of 'alice' is not",
        ),
    ],
)
def test_empty_secrets_are_refused_at_start(
    data_dir: Path, settings: dict[str, object], message: str
) -> None:
    with pytest.raises(SeealsoError, match=re.escape(message)):
        Settings.load(data_dir=data_dir, **settings)


def test_named_tokens_write_and_the_log_names_them(data_dir: Path) -> None:
    with make_client(data_dir, api_tokens={"cms": "cms-token", "batch": "batch-token"}) as client:
        for name in ("cms", "batch"):
            headers = {"Authorization": f"Bearer {name}-token"}
            assert client.put(path_of(f"from-{name}"), json=NEW, headers=headers).status_code == 201
            target = {"target": f"from-{name}", "action": "pin"}
            assert (
                client.post(path_of("mali-1") + "/overrides", json=target, headers=headers).status_code == 201
            )
        assert client.put(path_of("legacy"), json=NEW, headers=AUTH).status_code == 201  # the single token
        assert client.put(path_of("x"), json=NEW, headers={"Authorization": "Bearer cms"}).status_code == 403
        listed = client.get(path_of("mali-1") + "/overrides", headers=AUTH).json()["overrides"]
        assert {o["target"]: o["author"] for o in listed} == {
            "from-cms": "api:cms",
            "from-batch": "api:batch",
        }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("until=9999-12-31", "all"),
        ("until=9999-12-31T23:59:59Z", "all"),
        ("since=0001-01-01", "all"),
        ("since=0001-01-01T00:00:00Z&until=9999-12-31T23:59:59%2B00:00", "all"),
        ("since=9999-12-31T23:59:59Z", "none"),
        ("until=0001-01-01", "none"),
        ("since=0001-01-01T00:00:00%2B01:00", 422),
        ("until=9999-12-31T23:00:00-05:00", 422),
        ("since=99999-01-01", 422),
    ],
)
def test_extreme_date_filters_are_right_or_422(client: TestClient, query: str, expected: object) -> None:
    everything = set(ids(client.get(path_of("mali-1") + "/related?k=100")))
    for url in (path_of("mali-1") + f"/related?k=100&{query}", f"/v1/search?q=Mali&k=100&{query}"):
        response = client.get(url)
        if expected == 422:
            assert (response.status_code, response.json()["error"]) == (422, "invalid_request")
            assert (
                "out of range" in response.json()["message"]
                or "not an ISO 8601" in response.json()["message"]
            )
        else:
            found = set(ids(response)) - {"mali-1"}
            assert found == (everything if expected == "all" else set()), url


@pytest.mark.parametrize(
    ("published", "stored"),
    [
        ("0999-06-01", "0999-06-01T00:00:00Z"),
        ("9999-12-31", "9999-12-31T00:00:00Z"),
        ("0001-01-01", "0001-01-01T00:00:00Z"),
    ],
)
def test_extreme_publication_dates_are_stored_and_served(
    client: TestClient, published: str, stored: str
) -> None:
    created = client.put(path_of("old"), json={**NEW, "published_at": published}, headers=AUTH)
    assert created.status_code == 201 and created.json()["article"]["published_at"] == stored
    for article_id in [i["id"] for i in CORPUS]:  # every list reads it, none fails
        assert client.get(path_of(article_id) + "/related?k=10").status_code == 200
    assert "old" in ids(client.get("/v1/search?q=Junta in Bamako delays the vote&k=3"))
    assert client.get("/v1/keywords/Bamako/articles?k=10").status_code == 200
    assert client.get(f"/v1/search?q=Mali&since={published}&until={published}").status_code == 200


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"title": "x\\ud800"}', "title: contains U+D800, a lone surrogate"),
        ('{"title": "x", "keywords": ["\\udfff"]}', "keywords: contains U+DFFF"),
        ('{"title": "x\\u0000y"}', "title: contains a NUL character"),
        ('{"title": "x", "url": "javascript:alert(1)"}', "url: must be an absolute http or https URL"),
        ('{"title": "x", "url": "JaVaScRiPt:alert(1)"}', "url: must be an absolute http or https URL"),
        ('{"title": "x", "url": "data:text/html,<b>x</b>"}', "url: must be an absolute http or https URL"),
        ('{"title": "x", "published_at": "0001-01-01T00:00:00+01:00"}', "published_at: out of range"),
    ],
)
def test_articles_that_cannot_be_stored_get_422(client: TestClient, content: str, reason: str) -> None:
    response = client.put(path_of("x"), content=content, headers={**AUTH, "Content-Type": "application/json"})
    assert (response.status_code, response.json()["error"]) == (422, "invalid_article")
    assert reason in response.json()["message"]
    assert client.get(path_of("x")).status_code == 404


@pytest.mark.parametrize("depth", [65, 2000, 100_000])
def test_deeply_nested_bodies_get_422(client: TestClient, depth: int) -> None:
    content = '{"title": "x", "extra": ' + "[" * depth + "]" * depth + "}"
    for url, method in (
        (path_of("x"), "PUT"),
        ("/v1/similarity", "POST"),
        (path_of("mali-1") + "/overrides", "POST"),
    ):
        response = client.request(
            method, url, content=content, headers={**AUTH, "Content-Type": "application/json"}
        )
        assert (response.status_code, response.json()["error"]) == (422, "invalid_request"), url
        assert "nested deeper than 64 levels" in response.json()["message"]


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "/v1/articles/mali-1/overrides", '{"target": "mali-2\\ud800", "action": "pin"}'),
        ("POST", "/v1/keywords/Mali/overrides", '{"target": "\\udc00", "action": "block"}'),
        ("POST", "/v1/similarity", '{"pairs": [{"source": "mali-1\\ud800", "target": "mali-2"}]}'),
        (
            "POST",
            "/v1/articles/mali-1/overrides",
            '{"target": "mali-2", "action": "pin", "expires_at": "0001-01-01T00:00:00+01:00"}',
        ),
    ],
)
def test_other_bodies_that_cannot_be_stored_get_422(
    client: TestClient, method: str, url: str, body: str
) -> None:
    response = client.request(method, url, content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert client.get(path_of("mali-1") + "/overrides", headers=AUTH).json()["overrides"] == []


# -- headers and methods ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/v1/articles/mali-1/related",
        "/v1/articles/nope",
        "/healthz",
        "/editor/login",
        "/docs",
        "/openapi.json",
    ],
)
def test_every_response_carries_the_security_headers(client: TestClient, url: str) -> None:
    headers = client.get(url).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    if url != "/docs":
        assert "script-src" not in policy  # no page but the docs runs a script


def test_the_docs_work_offline(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(source.startswith("/docs/") for source in sources)  # nothing from a CDN
    assert "<script>" not in page.text.replace(" ", "")  # no inline script: the policy allows none
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 100, source
    assert "SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").text
    assert client.get("/docs/init.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/redoc").status_code == 404  # it needed a CDN


@pytest.mark.parametrize(
    "url",
    [
        "/v1/articles/mali-1/related?k=2",
        "/v1/articles/mali-1",
        "/healthz",
        "/docs",
        "/editor/static/editor.css",
    ],
)
def test_head_works_wherever_get_does(client: TestClient, url: str) -> None:
    get, head = client.get(url), client.head(url)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers.get("etag") == get.headers.get("etag")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("/v1/articles/mali-1", "DELETE, GET, HEAD, OPTIONS, PUT"),
        ("/v1/articles/mali-1/related", "GET, HEAD, OPTIONS"),
        ("/v1/articles/mali-1/overrides", "GET, HEAD, OPTIONS, POST"),
        ("/v1/similarity", "OPTIONS, POST"),
        ("/healthz", "GET, HEAD, OPTIONS"),
    ],
)
def test_options_and_405_say_what_is_allowed(client: TestClient, url: str, allowed: str) -> None:
    options = client.options(url)
    assert (options.status_code, options.headers["allow"]) == (204, allowed)
    wrong = "PATCH"
    refused = client.request(wrong, url)
    assert (refused.status_code, refused.headers["allow"]) == (405, allowed)
    assert refused.json() == {
        "error": "method_not_allowed",
        "message": f"PATCH is not allowed here; use {allowed}",
    }


# -- bounded cost ----------------------------------------------------------------------------------


def test_anonymous_similarity_is_capped_and_the_token_lifts_the_cap(data_dir: Path) -> None:
    pairs = {"pairs": [{"source": "mali-1", "target": "mali-2"}] * 11}
    with make_client(data_dir, similarity_max_pairs=10) as client:
        capped = client.post("/v1/similarity", json=pairs)
        assert (capped.status_code, capped.json()["error"]) == (422, "invalid_request")
        assert "at most 10 pairs without a bearer token" in capped.json()["message"]
        assert client.post("/v1/similarity", json={"pairs": pairs["pairs"][:10]}).status_code == 200
        lifted = client.post("/v1/similarity", json=pairs, headers=AUTH)
        assert lifted.status_code == 200 and len(lifted.json()["items"]) == 11
        wrong = client.post("/v1/similarity", json=pairs, headers={"Authorization": "Bearer wrong"})
        assert wrong.status_code == 422


def test_concurrent_anonymous_similarity_beyond_the_limit_gets_503(data_dir: Path) -> None:
    with make_client(data_dir, heavy_requests=1) as client:
        slots = client.app.state.heavy_requests  # type: ignore[attr-defined]
        with slots.slot():  # one request is running
            busy = client.post("/v1/similarity", json={"pairs": [{"source": "mali-1", "target": "mali-2"}]})
            assert (busy.status_code, busy.headers["retry-after"], busy.json()["error"]) == (
                503,
                "1",
                "unavailable",
            )
            assert (
                client.post(
                    "/v1/similarity", json={"pairs": [{"source": "mali-1", "target": "mali-2"}]}, headers=AUTH
                ).status_code
                == 200
            )  # the token's requests are not queued behind anonymous ones
        assert (
            client.post(
                "/v1/similarity", json={"pairs": [{"source": "mali-1", "target": "mali-2"}]}
            ).status_code
            == 200
        )


def test_the_server_writes_while_a_batch_run_holds_the_data_dir(client: TestClient, data_dir: Path) -> None:
    store = Store.open(data_dir)
    with store.batch_writer("seealso index"):
        assert client.put(path_of("during-batch"), json=NEW, headers=AUTH).status_code == 201
        assert client.delete(path_of("during-batch"), headers=AUTH).status_code == 204
    store.close()


def test_the_data_dir_is_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    with make_client(data_dir, editor_users={"alice": "wonderland"}) as client:
        assert client.put(path_of("a"), json=NEW, headers=AUTH).status_code == 201
    store = Store.open(data_dir)
    with store.batch_writer("test"):
        store.save_snapshot()
    store.close()
    assert data_dir.stat().st_mode & 0o777 == 0o700
    found = {p.name: p.stat().st_mode & 0o777 for p in data_dir.rglob("*")}
    assert {"catalog.sqlite3", "manifest.json", "editor.sqlite3", "writer.lock"} <= set(found)
    assert any(name.endswith(".faiss") for name in found) and any(name.endswith(".ids.npy") for name in found)
    assert {name: mode for name, mode in found.items() if mode & 0o077} == {}


def test_a_server_started_on_an_empty_data_dir_takes_its_first_article(tmp_path: Path) -> None:
    with make_client(tmp_path / "empty") as client:
        assert client.put(path_of("first"), json=NEW, headers=AUTH).status_code == 201
        assert (
            client.put(path_of("second"), json={**NEW, "title": "Mali junta"}, headers=AUTH).status_code
            == 201
        )
        assert ids(client.get(path_of("first") + "/related?k=5")) == ["second"]
        assert set(ids(client.get("/v1/search?q=junta&k=5"))) == {"first", "second"}


@pytest.mark.parametrize("content_type", ["APPLICATION/JSON", "application/merge-patch+json", None])
def test_the_nesting_limit_does_not_depend_on_the_content_type(
    client: TestClient, content_type: str | None
) -> None:
    headers = {**AUTH, **({"Content-Type": content_type} if content_type else {})}
    content = '{"title": "x", "extra": ' + "[" * 950 + "]" * 950 + "}"
    response = client.put(path_of("x"), content=content, headers=headers)
    assert response.status_code == 422 and "nested deeper" in response.json()["message"]
    assert client.get(path_of("x")).status_code == 404


def test_the_nesting_check_is_linear(client: TestClient) -> None:
    """A body built to make a string-skipping regex backtrack (many brackets, then escaped quotes
    without an end) is answered at once."""
    content = "[" * 65 + '"' + '\\"' * 400_000
    started = time.perf_counter()
    response = client.post("/v1/similarity", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert time.perf_counter() - started < 2


def test_an_unexpected_error_is_a_json_500_with_the_security_headers(data_dir: Path) -> None:
    with TestClient(
        create_app(Settings(data_dir=data_dir, model="test/hashing")), raise_server_exceptions=False
    ) as client:

        def broken(*args: object, **kwargs: object) -> bytes:
            raise RuntimeError("a bug")

        client.app.state.serving.current.ranker.related_page = broken  # type: ignore[attr-defined]
        response = client.get(path_of("mali-1") + "/related")
        assert (response.status_code, response.json()["error"]) == (500, "internal_error")
        assert "a bug" not in response.text
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    "headers",
    [
        [("Content-Type", "application/x-www-form-urlencoded+json")],
        [("Content-Type", "application/json"), ("Content-Type", "multipart/form-data; boundary=x")],
    ],
)
def test_the_nesting_limit_cannot_be_dodged_by_the_content_type(
    client: TestClient, headers: list[tuple[str, str]]
) -> None:
    content = '{"title": "x", "extra": ' + "[" * 900 + "]" * 900 + "}"
    response = client.put(path_of("deep"), content=content, headers=[*AUTH.items(), *headers])
    assert response.status_code == 422
    assert client.get(path_of("deep")).status_code == 404


def test_a_catalog_held_by_another_process_is_a_503_to_retry(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = client.app.state.serving.current.store.catalog  # type: ignore[attr-defined]

    def locked(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(catalog, "write", locked)
    response = client.put(path_of("new"), json=NEW, headers=AUTH)
    assert (response.status_code, response.headers["retry-after"], response.json()["error"]) == (
        503,
        "1",
        "unavailable",
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    monkeypatch.undo()
    assert client.put(path_of("new"), json=NEW, headers=AUTH).status_code == 201
