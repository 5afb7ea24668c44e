"""seealso.client against a real `seealso serve` process (the test embedder), compared with the raw
HTTP answers; a mock transport only for what a real server cannot be made to send."""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from seealso.client import (
    Article,
    Client,
    InvalidRequest,
    NotFound,
    ResyncNeeded,
    SeealsoAPIError,
    Unauthorized,
)
from seealso.embeddings.hashing import HashingEmbedder
from seealso.indexer.reader import read_articles
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store
from tests.service.test_app import NEUTRAL_RULES, free_port, serving

TOKEN = "client-test-token"
ODD = "dossiers/mali:2021 #1?&x=é"
CORPUS = [
    {"id": "mali-1", "title": "Soldiers seize power in Bamako", "body": "Mali junta coup soldiers Bamako president", "keywords": ["Mali", "Bamako"], "section": "africa", "published_at": "2020-08-18T10:00:00Z"},
    {"id": "mali-2", "title": "Mali junta promises elections", "body": "Mali junta coup transition Bamako elections", "keywords": ["Mali", "junta"], "section": "africa", "published_at": "2021-05-25T10:00:00Z"},
    {"id": ODD, "title": "Sanctions on the Mali junta", "body": "ECOWAS sanctions Mali junta Bamako coup", "keywords": ["Mali", "ECOWAS"], "section": "africa", "published_at": "2022-01-05T10:00:00Z"},
    {"id": "mali-3", "title": "Bamako after the coup", "body": "Mali junta Bamako coup soldiers streets", "keywords": ["Mali"], "section": "world", "published_at": "2023-03-01T10:00:00Z"},
    {"id": "cocoa-1", "title": "Cocoa prices soar", "body": "cocoa prices farmers harvest chocolate Mali", "keywords": ["cocoa"], "section": "business", "published_at": "2024-03-26T10:00:00Z"},
    {"id": "cocoa-2", "title": "Chocolate makers pay more", "body": "cocoa chocolate makers prices harvest farmers", "keywords": ["cocoa"], "section": "business", "published_at": "2024-04-02T10:00:00Z"},
]  # fmt: skip


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server for the module, over a data dir indexed with the test embedder."""
    tmp = tmp_path_factory.mktemp("client")
    source = tmp / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in CORPUS), encoding="utf-8")
    store = Store.open(tmp / "data", create=True)
    index_articles(store, HashingEmbedder(64), read_articles(str(source)))
    store.close()
    env = {
        **os.environ,
        "SEEALSO_PORT": str(free_port()),
        "SEEALSO_DATA_DIR": str(tmp / "data"),
        "SEEALSO_MODEL": "test/hashing",
        "SEEALSO_API_TOKEN": TOKEN,
        "SEEALSO_FEED_INTERVAL": "0.1",
        **NEUTRAL_RULES,
    }
    with serving(env) as url:
        yield url


@pytest.fixture
def api(base: str) -> Iterator[Client]:
    with Client(base, token=TOKEN) as client:
        yield client


def raw(base: str, path: str, **params: Any) -> dict[str, Any]:
    """The JSON of a GET, straight from httpx."""
    response = httpx.get(base + path, params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def ids(items: Iterable[Article]) -> list[str]:
    return [item.id for item in items]


def test_health_and_readiness(api: Client) -> None:
    assert api.health() == {"status": "ok"}
    assert api.ready()["status"] == "ready"


def test_related_is_what_the_raw_json_gives(api: Client, base: str) -> None:
    related = api.related("mali-1", k=4)
    expected = raw(base, "/v1/articles/mali-1/related", k=4)["items"]
    assert ids(related.items) == [i["id"] for i in expected] and len(expected) == 4
    assert [i.score for i in related.items] == [i["score"] for i in expected]
    assert related.article.id == "mali-1" and related.article.keywords == ("Mali", "Bamako")
    assert related.article.published_at is not None and related.article.published_at.year == 2020
    assert related.items[0].reasons == expected[0]["reasons"] and related.items[0].origin == "automatic"
    assert "related/mali-1" in related.tags


def test_filters_are_sent_as_the_api_reads_them(api: Client, base: str) -> None:
    africa = api.related("mali-1", k=10, section=["africa", "world"], exclude=[ODD, "mali-2"])
    expected = raw(base, "/v1/articles/mali-1/related", k=10, section="africa,world", exclude=[ODD, "mali-2"])
    assert ids(africa.items) == [i["id"] for i in expected["items"]] == ["mali-3"]
    recent = api.related("mali-1", since="2023-01-01", until="2024-03-31")
    assert set(ids(recent.items)) == {"mali-3", "cocoa-1"}
    with pytest.raises(InvalidRequest) as caught:
        api.related("mali-1", k=0)
    assert (caught.value.status, caught.value.code) == (422, "invalid_request")
    assert "k" in caught.value.message


def test_an_odd_id_round_trips(api: Client, base: str) -> None:
    assert api.article(ODD).id == ODD
    related = api.related(ODD, k=2)
    assert related.article.id == ODD
    assert ids(related.items) == [
        i["id"] for i in raw(base, f"/v1/articles/{quote(ODD, safe='')}/related", k=2)["items"]
    ]
    assert ODD in ids(api.related("mali-2", k=5).items)
    with pytest.raises(NotFound):
        api.article("dossiers")  # the id's first part is no article


def test_put_get_related(api: Client) -> None:
    article = {
        "id": "coup/é 1",
        "title": "Junta extends the transition",
        "body": "Mali junta coup Bamako soldiers transition",
        "keywords": ["Mali"],
    }
    added = api.upsert(article)
    assert added.status == "added" and added.article.id == "coup/é 1" and added.article.indexed_at is not None
    assert api.article("coup/é 1").title == "Junta extends the transition"
    assert "coup/é 1" in ids(api.related("mali-1", k=10).items)
    assert api.upsert(article).status == "unchanged"
    assert api.upsert({**article, "title": "Junta extends its rule"}).status == "updated"
    api.delete("coup/é 1")
    with pytest.raises(NotFound) as caught:
        api.article("coup/é 1")
    assert (caught.value.status, caught.value.code) == (404, "not_found")
    with pytest.raises(NotFound):
        api.delete("coup/é 1")
    assert "coup/é 1" not in ids(api.related("mali-1", k=10).items)


def test_an_invalid_article(api: Client) -> None:
    with pytest.raises(InvalidRequest) as caught:
        api.upsert({"id": "bad-1", "title": "", "body": "x", "published_at": "yesterday"})
    assert caught.value.code == "invalid_article" and caught.value.payload["reasons"]


def test_batches_give_each_line_its_status(api: Client) -> None:
    articles = [
        {"id": "batch-1", "title": "Cocoa farmers strike", "body": "cocoa farmers harvest strike"},
        {"title": "no id"},
        {"id": "batch-2", "title": "Cocoa harvest late", "body": "cocoa harvest rain farmers"},
        {"id": "batch-1", "title": "Cocoa farmers end strike", "body": "cocoa farmers harvest strike ends"},
        {"id": "batch-3", "title": "Chocolate prices", "body": "chocolate prices cocoa"},
    ]
    result = api.upsert_many(iter(articles), batch_size=2)  # three requests
    assert [(r.line, r.id, r.status) for r in result.results] == [
        (1, "batch-1", "added"), (2, None, "rejected"), (3, "batch-2", "added"),
        (4, "batch-1", "updated"), (5, "batch-3", "added"),
    ]  # fmt: skip
    assert "id" in (result.results[1].error or "")
    assert (result.added, result.updated, result.unchanged, result.rejected) == (3, 1, 0, 1)
    assert result.catalog_seq == api.ready()["seq"]
    assert api.article("batch-1").title == "Cocoa farmers end strike"
    one = api.upsert_many([articles[2], {**articles[2], "title": "Cocoa harvest later"}])
    assert [r.status for r in one.results] == ["replaced", "updated"] and one.replaced == 1
    assert api.upsert_many([]).results == ()
    for article_id in ("batch-1", "batch-2", "batch-3"):
        api.delete(article_id)


def test_search_and_keywords_are_what_the_raw_json_gives(api: Client, base: str) -> None:
    assert ids(api.search("Mali junta", k=3)) == [
        i["id"] for i in raw(base, "/v1/search", q="Mali junta", k=3)["items"]
    ]
    page = api.keyword_articles("Mali", k=3)
    expected = raw(base, "/v1/keywords/Mali/articles", k=3)
    assert (page.keyword, page.tagged, ids(page.items)) == (
        expected["keyword"],
        4,
        [i["id"] for i in expected["items"]],
    )
    assert "keyword/mali" in page.tags
    related = api.related_keywords("Mali", k=3)
    assert [r.keyword for r in related] == [
        r["keyword"] for r in raw(base, "/v1/keywords/Mali/related", k=3)["items"]
    ]
    assert related and all(r.articles >= 1 for r in related)
    with pytest.raises(NotFound):
        api.related_keywords("no such keyword/at all")


def test_the_html_fragment(api: Client) -> None:
    fragment = api.related_html("mali-1", k=2)
    assert fragment.lstrip().startswith("<aside") and fragment.count('class="seealso-item"') == 2
    assert all(html.escape(i.title) in fragment for i in api.related("mali-1", k=2).items)


def test_overrides(api: Client) -> None:
    pinned = api.add_override("mali-1", "cocoa-2", "pin", position=1)
    assert (pinned.target, pinned.action, pinned.position, pinned.author) == ("cocoa-2", "pin", 1, "api")
    first = api.related("mali-1", k=3).items[0]
    assert (first.id, first.origin) == ("cocoa-2", "pinned")
    assert [o.target for o in api.overrides("mali-1")] == ["cocoa-2"]
    api.remove_override("mali-1", "cocoa-2")
    assert "cocoa-2" not in ids(api.related("mali-1", k=3).items)
    with pytest.raises(NotFound):
        api.remove_override("mali-1", "cocoa-2")


def test_blocks_and_pins_across_lists(api: Client) -> None:
    showing = [a for a in ("mali-1", "mali-2") if "mali-3" in ids(api.related(a, k=5).items)]
    assert showing == ["mali-1", "mali-2"]
    blocked = api.block_everywhere("mali-3", expires_at="2999-01-01")
    assert (blocked.scope, blocked.target, blocked.author) == ("site", "mali-3", "api")
    assert all("mali-3" not in ids(api.related(a, k=5).items) for a in showing)
    assert [o.target for o in api.blocks()] == ["mali-3"]
    api.unblock_everywhere("mali-3")
    assert api.blocks() == () and all("mali-3" in ids(api.related(a, k=5).items) for a in showing)
    assert api.pin_for_keyword("cocoa", "mali-3", position=1) == ("cocoa-1", "cocoa-2")
    assert all(api.related(a, k=3).items[0].id == "mali-3" for a in ("cocoa-1", "cocoa-2"))
    assert api.unpin_for_keyword("cocoa", "mali-3") == ("cocoa-1", "cocoa-2")
    with pytest.raises(NotFound):
        api.unpin_for_keyword("cocoa", "mali-3")


def test_keyword_fixes_and_aliases(api: Client, base: str) -> None:
    assert api.find_keywords("mal") == raw(base, "/v1/keywords", q="mal", k=10)["items"]
    expected = raw(base, "/v1/articles/mali-3/keywords/suggested", k=3)["items"]
    assert api.suggested_keywords("mali-3", k=3) == expected
    fixed = api.edit_keyword("mali-3", "Bamako", "add")
    assert fixed["keywords"] == ["Mali", "Bamako"] and [e["keyword"] for e in fixed["edits"]] == ["Bamako"]
    assert api.article("mali-3").keywords == ("Mali", "Bamako")
    api.undo_keyword_edit("mali-3", "Bamako")
    assert api.keyword_edits("mali-3")["keywords"] == ["Mali"]
    groups = api.confirm_alias("ECOWAS", "junta")
    assert [sorted([g["key"], *g["aliases"]]) for g in groups] == [["ecowas", "junta"]]
    assert api.aliases() == groups
    api.separate_alias("junta")
    assert api.aliases() == []
    with pytest.raises(InvalidRequest):
        api.confirm_alias("Mali", "MALI")
    api.reject_alias("cocoa", "Mali")
    assert all({k.lower() for k in s["keywords"]} != {"cocoa", "mali"} for s in api.suggested_aliases(50))
    with pytest.raises(NotFound):
        api.separate_alias("cocoa")
    assert api.keyword_split("Mali") is None  # too few articles to judge
    with pytest.raises(NotFound):
        api.keyword_split("nothing")


def test_changes_after_a_put(api: Client) -> None:
    since = api.changes().seq
    api.upsert({"id": "feed/1", "title": "Bamako junta news", "body": "Mali junta Bamako coup"})
    deadline = time.monotonic() + 5
    seen: list[tuple[str, str]] = []
    while ("related", "feed/1") not in seen:
        assert time.monotonic() < deadline, f"no change of feed/1 after seq {since}: {seen}"
        time.sleep(0.1)
        seen = [(p.kind, p.id) for p in api.iter_changes(since)]
    page = next(p for p in api.iter_changes(since) if p.id == "feed/1")
    assert (page.tag, page.url, page.gone) == ("related/feed%2F1", "/v1/articles/feed%2F1/related", False)
    everything = api.changes(since, limit=10_000).pages
    one_by_one = list(api.iter_changes(since, limit=1))  # follows `next`, a request a page
    assert one_by_one[: len(everything)] == list(everything)
    api.delete("feed/1")


def test_resync_needed_beyond_the_last_seq(api: Client) -> None:
    last = api.changes().seq
    with pytest.raises(ResyncNeeded) as caught:
        list(api.iter_changes(last + 1000))
    assert (caught.value.status, caught.value.code) == (410, "gone")
    assert caught.value.seq >= last


def test_writes_need_the_token(base: str) -> None:
    article = {"id": "anonymous", "title": "t", "body": "b"}
    with Client(base) as anonymous, pytest.raises(Unauthorized) as caught:
        anonymous.upsert(article)
    assert (caught.value.status, caught.value.code) == (401, "unauthorized")
    with Client(base, token="wrong") as wrong, pytest.raises(Unauthorized) as caught:
        wrong.upsert_many([article])
    assert caught.value.status == 403
    with Client(base) as anonymous, pytest.raises(NotFound):
        anonymous.article("anonymous")


def test_fields_a_newer_server_adds_are_ignored() -> None:
    item = {"id": "a", "title": "A", "language": "en", "score": 0.5, "reasons": {}, "new_field": 1}
    body = {"article": {"id": "x", "title": "X", "future": True}, "items": [item], "more": []}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    with Client("http://seealso.test", transport=transport) as api:
        related = api.related("x")
    assert related.article.id == "x" and ids(related.items) == ["a"] and related.items[0].score == 0.5


def test_an_error_that_is_not_json() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(502, text="<html>Bad gateway</html>"))
    with Client("http://seealso.test", transport=transport) as api, pytest.raises(SeealsoAPIError) as caught:
        api.article("x")
    assert (caught.value.status, caught.value.code) == (502, "http_error")
    assert "Bad gateway" in caught.value.message and type(caught.value) is SeealsoAPIError


def test_paths_are_one_segment_each() -> None:
    seen: list[bytes] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path)
        return httpx.Response(204)

    with Client("http://seealso.test/api/", transport=httpx.MockTransport(record)) as api:
        api.delete("a/b?c#d é")
        api.remove_override("x y", "1/2")
    assert seen == [b"/api/v1/articles/a%2Fb%3Fc%23d%20%C3%A9", b"/api/v1/articles/x%20y/overrides/1%2F2"]


def test_the_client_imports_no_part_of_the_server() -> None:
    code = "import sys, seealso.client; print(sorted({m.split('.')[0] for m in sys.modules} & {'fastapi', 'starlette', 'numpy', 'faiss', 'torch'}))"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
