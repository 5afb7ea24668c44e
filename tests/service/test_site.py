"""What a site integrates: the change feed, cache tags, CORS, HTML fragments, pictures and kickers,
bulk writes, and an OpenAPI description that generated clients can use."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from seealso.config import Settings
from seealso.service.app import create_app
from tests.service.test_app import RECORDS, data_dir, related_url  # noqa: F401  (data_dir is a fixture)

TOKEN = "site-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PICTURED = {
    "id": "mali-3",
    "title": "Bamako <junta> & its transition",
    "body": "Mali junta coup transition Bamako soldiers",
    "url": "https://example.org/mali-3",
    "image_url": "https://img.example.org/mali-3.jpg",
    "kicker": "  Analysis  ",
    "language": "en",
    "published_at": "2024-03-05",
}


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:  # noqa: F811
    settings = Settings(
        data_dir=data_dir, model="test/hashing", min_score=0, diversity=0, freshness_half_life_days=0,
        api_token=TOKEN, cors_origins=["https://www.example.org"], feed_interval=0.05, batch_max_lines=5,
    )  # fmt: skip
    with TestClient(create_app(settings)) as client:
        yield client


def feed(client: TestClient, since: int = 0, until: float = 10.0) -> dict[str, object]:
    """/v1/changes once the feed has caught up with the catalog."""
    deadline = time.monotonic() + until
    store = client.app.state.serving.current.store  # type: ignore[attr-defined]
    while store.catalog.page_state()[:2] != (store.catalog.seq(), store.catalog.overrides_version()):
        assert time.monotonic() < deadline, "the feed did not catch up"
        time.sleep(0.05)
    response = client.get(f"/v1/changes?since={since}")
    assert response.status_code == 200, response.text
    return response.json()


def test_pictures_and_kickers_are_kept_and_returned(client: TestClient) -> None:
    assert client.put("/v1/articles/mali-3", json=PICTURED, headers=AUTH).status_code == 201
    item = next(i for i in client.get(related_url("mali-1", k=5)).json()["items"] if i["id"] == "mali-3")
    assert (item["image_url"], item["kicker"]) == ("https://img.example.org/mali-3.jpg", "Analysis")
    bad = client.put("/v1/articles/x", json={"title": "x", "image_url": "javascript:alert(1)"}, headers=AUTH)
    assert bad.status_code == 422 and "image_url" in bad.json()["message"]


def test_the_feed_gives_the_pages_a_write_changed(client: TestClient) -> None:
    start = feed(client)
    assert start == {"seq": 0, "pages": [], "next": 0}  # the first build logs nothing
    client.put("/v1/articles/mali-3", json=PICTURED, headers=AUTH)
    after = feed(client)
    pages = {(p["kind"], p["id"]) for p in after["pages"]}  # type: ignore[union-attr]
    # The new article's own page, and mali-1's, whose list it enters.
    assert {("related", "mali-3"), ("related", "mali-1")} <= pages
    own = next(p for p in after["pages"] if p["id"] == "mali-3")  # type: ignore[union-attr]
    assert own == {
        "seq": own["seq"],
        "kind": "related", "id": "mali-3", "url": "/v1/articles/mali-3/related", "tag": "related/mali-3",
        "page_url": "https://example.org/mali-3", "gone": False,
    }  # fmt: skip
    assert (
        after["next"] == after["seq"]
        and client.get(f"/v1/changes?since={after['seq']}").json()["pages"] == []
    )
    first_page = client.get("/v1/changes?since=0&limit=1").json()
    assert len(first_page["pages"]) == 1 and first_page["next"] == 1
    client.delete("/v1/articles/mali-3", headers=AUTH)
    gone = feed(client, int(after["seq"]))["pages"]  # type: ignore[arg-type]
    assert {"kind": "related", "id": "mali-3", "gone": True}.items() <= next(
        p for p in gone if p["id"] == "mali-3"
    ).items()
    ahead = client.get("/v1/changes?since=999999")
    assert (
        ahead.status_code == 410 and ahead.json()["error"] == "gone" and "resync" in ahead.json()["message"]
    )


def test_an_override_puts_its_list_in_the_feed(client: TestClient) -> None:
    done = feed(client)["seq"]
    body = {"target": "cocoa-1", "action": "pin", "position": 1}
    assert client.post("/v1/articles/mali-1/overrides", json=body, headers=AUTH).status_code in (200, 201)
    assert [(p["kind"], p["id"]) for p in feed(client, int(done))["pages"]] == [("related", "mali-1")]  # type: ignore[index]


def test_lists_carry_cache_tags_of_their_page_and_articles(client: TestClient) -> None:
    response = client.get(related_url("mali-1", k=2))
    tags = response.headers["Surrogate-Key"].split()
    assert tags[0] == "related/mali-1" and "article/mali-1" in tags and "article/mali-2" in tags
    assert response.headers["Cache-Tag"] == ",".join(tags)
    keyword = client.put("/v1/articles/mali-3", json={**PICTURED, "keywords": ["Sahel"]}, headers=AUTH)
    assert keyword.status_code == 201
    page = client.get("/v1/keywords/sahel/articles")
    assert page.headers["Surrogate-Key"].split()[:2] == ["keyword/sahel", "article/mali-3"]


def test_cors_for_configured_origins_only(client: TestClient) -> None:
    preflight = client.options(
        related_url("mali-1"),
        headers={"Origin": "https://www.example.org", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://www.example.org"
    simple = client.get(related_url("mali-1"), headers={"Origin": "https://www.example.org"})
    assert simple.headers["Access-Control-Allow-Origin"] == "https://www.example.org"
    assert "ETag" in simple.headers["Access-Control-Expose-Headers"]
    other = client.get(related_url("mali-1"), headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_cors_origins_must_be_origins() -> None:
    from seealso.errors import SeealsoError

    with pytest.raises(SeealsoError, match=r"SEEALSO_CORS_ORIGINS: 'https://x\.org/page' is not an origin"):
        Settings.load(cors_origins=["https://x.org/page"])


class Outline(HTMLParser):
    """Links with their text and the lang around them, as a screen reader would name them."""

    def __init__(self) -> None:
        super().__init__()
        self.langs: list[str] = []
        self.links: list[tuple[str, str, str]] = []  # (href, text, lang)
        self._open: list[str] = []
        self._link: list[str] | None = None
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self._open.append(found.get("lang") or (self._open[-1] if self._open else ""))
        if found.get("lang"):
            self.langs.append(str(found["lang"]))
        if tag == "a":
            self._link = [str(found["href"]), "", self._open[-1]]
        if tag == "img":
            self.images.append(found)
            self._open.pop()

    def handle_endtag(self, tag: str) -> None:
        self._open.pop()
        if tag == "a" and self._link is not None:
            self.links.append((self._link[0], " ".join(self._link[1].split()), self._link[2]))
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._link[1] += data


def test_the_html_fragment_is_escaped_with_lang_and_cached_like_the_json(client: TestClient) -> None:
    client.put("/v1/articles/mali-3", json=PICTURED, headers=AUTH)
    french = {"id": "mali-3-fr", "title": "La junte de Bamako", "body": "Mali junte transition Bamako",
              "language": "fr", "url": "https://example.org/fr/mali-3", "translations": ["mali-3"]}  # fmt: skip
    client.put("/v1/articles/mali-3-fr", json=french, headers=AUTH)
    response = client.get(related_url("mali-1", k=3).replace("/related?", "/related.html?"))
    assert response.status_code == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["Surrogate-Key"].startswith("related/mali-1 ")
    html = response.text
    assert "<junta>" not in html and "Bamako &lt;junta&gt; &amp; its transition" in html
    outline = Outline()
    outline.feed(html)
    story = next(link for link in outline.links if link[0] == "https://example.org/mali-3")
    assert story[1] == "Analysis Bamako <junta> & its transition" and story[2] == "en"
    assert outline.images[0]["src"] == "https://img.example.org/mali-3.jpg" and outline.images[0]["alt"] == ""
    assert ("https://example.org/fr/mali-3", "also in French", "en") in outline.links
    assert '<time class="seealso-date" datetime="2024-03-05' in html and "5 March 2024" in html
    again = client.get(
        related_url("mali-1", k=3).replace("/related?", "/related.html?"),
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304
    assert client.get("/v1/widget.css").headers["content-type"].startswith("text/css")


def test_a_batch_writes_valid_lines_in_one_commit_and_numbers_the_others(client: TestClient) -> None:
    lines = [
        json.dumps({"id": "b-1", "title": "Cocoa farmers strike", "body": "cocoa farmers strike prices"}),
        "{not json",
        json.dumps(
            {
                "id": "mali-1",
                "title": "Soldiers seize power in Bamako",
                "body": "Mali junta coup soldiers Bamako",
            }
        ),
        "",
        json.dumps({"id": "b-2", "title": ""}),
        json.dumps({"id": "b-1", "title": "Cocoa farmers strike again", "body": "cocoa farmers strike"}),
    ]
    seq = client.app.state.serving.current.store.catalog.seq()  # type: ignore[attr-defined]
    response = client.post(
        "/v1/articles:batch",
        content="\n".join(lines) + "\n",
        headers={**AUTH, "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(r["line"], r["id"], r["status"]) for r in body["results"]] == [
        (1, "b-1", "replaced"), (2, None, "rejected"), (3, "mali-1", "unchanged"),
        (5, "b-2", "rejected"), (6, "b-1", "added"),
    ]  # fmt: skip
    assert "invalid JSON" in body["results"][1]["error"]
    assert (body["added"], body["rejected"], body["catalog_seq"]) == (1, 2, seq + 1)  # one commit
    found = client.get("/v1/search?q=cocoa farmers strike&k=1").json()["items"]
    assert found[0]["id"] == "b-1" and found[0]["title"] == "Cocoa farmers strike again"
    too_many = client.post("/v1/articles:batch", content="{}\n" * 6, headers=AUTH)
    assert too_many.status_code == 413 and "at most 5 lines" in too_many.json()["message"]
    assert client.post("/v1/articles:batch", content=lines[0]).status_code == 401


def test_openapi_names_operations_types_and_the_bearer_scheme(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operations = {
        op["operationId"]: (path, method)
        for path, methods in schema["paths"].items()
        for method, op in methods.items()
    }
    for name in ("getRelated", "getRelatedHtml", "getArticle", "upsertArticle", "deleteArticle",
                 "upsertArticles", "getChanges", "searchArticles", "getKeywordArticles", "getRelatedKeywords"):  # fmt: skip
        assert name in operations, name
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    put = schema["paths"]["/v1/articles/{article_id}"]["put"]
    assert put["security"] == [{"bearer": []}]
    assert "security" not in schema["paths"]["/v1/articles/{article_id}/related"]["get"]
    article = schema["components"]["schemas"]["ArticleOut"]["properties"]
    assert {"type": "string", "format": "date-time"} in article["published_at"]["anyOf"]
    changed = schema["components"]["schemas"]["ChangedPage"]["properties"]["kind"]
    assert changed["enum"] == ["related", "keyword", "keyword_related"]


def test_fragments_and_the_feed_from_many_threads_equal_one_at_a_time(client: TestClient) -> None:
    """Fragments, JSON lists and feed reads, with batches written meanwhile: each answer from
    eight threads equals the sequential one (the fragment is made once per cached list)."""
    from concurrent.futures import ThreadPoolExecutor

    client.put("/v1/articles/mali-3", json=PICTURED, headers=AUTH)
    feed(client)
    ids = ["mali-1", "mali-2", "mali-3", "cocoa-1"]
    paths = [related_url(i, k=3).replace("/related?", "/related.html?") for i in ids]
    paths += [related_url(i, k=3) for i in ids] + ["/v1/keywords/Sahel/articles.html", "/v1/changes?since=0"]
    sequential = {path: client.get(path).text for path in paths}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda path: (path, client.get(path).text), paths * 6))
    assert all(text == sequential[path] for path, text in answers)
    lines = [
        json.dumps({"id": f"t-{n}", "title": f"Cocoa harvest {n}", "body": "cocoa farmers"})
        for n in range(12)
    ]
    batches = ["\n".join(lines[n : n + 3]) for n in range(0, 12, 3)]
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(lambda b: client.post("/v1/articles:batch", content=b, headers=AUTH).json(), batches)
        )
    assert sorted(r["id"] for body in results for r in body["results"]) == sorted(f"t-{n}" for n in range(12))
    assert all(body["added"] == 3 for body in results)
