"""Editors' overrides through the API: stored by id, obeyed by every list, kept across reindexing."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from seealso.cli import app
from seealso.embeddings.hashing import HashingEmbedder
from seealso.indexer.reader import read_articles
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store
from tests.service.test_api import (
    AUTH,
    CORPUS,
    ODD,
    client,
    data_dir,
    ids,
    make_client,
    path_of,
    write_corpus,
)

__all__ = ["client", "data_dir"]  # fixtures


def override(client: TestClient, source: str, **body: object) -> dict[str, object]:
    response = client.post(path_of(source) + "/overrides", json=body, headers=AUTH)
    assert response.status_code == 201, response.text
    return response.json()


def test_overrides_need_the_token(client: TestClient) -> None:
    body = {"target": "cocoa-1", "action": "pin"}
    assert client.get(path_of("mali-1") + "/overrides").status_code == 401
    assert client.post(path_of("mali-1") + "/overrides", json=body).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert client.post(path_of("mali-1") + "/overrides", json=body, headers=wrong).status_code == 403
    assert client.delete(path_of("mali-1") + "/overrides/cocoa-1").status_code == 401
    assert ids(client.get(path_of("mali-1") + "/related"))[:1] != ["cocoa-1"]  # nothing changed


def test_pin_goes_to_its_position_and_is_marked(client: TestClient) -> None:
    before = ids(client.get(path_of("mali-1") + "/related?k=4"))
    assert "cocoa-1" not in before
    made = override(client, "mali-1", target="cocoa-1", action="pin", position=2)
    assert made["action"] == "pin" and made["position"] == 2 and made["author"] == "api" and made["active"]
    items = client.get(path_of("mali-1") + "/related?k=4").json()["items"]
    assert [i["id"] for i in items] == [before[0], "cocoa-1", *before[1:3]]
    assert items[1]["origin"] == "pinned" and items[1]["reasons"]["editor"]["position"] == 2
    assert {i["origin"] for i in items[::2]} == {"automatic"}


def test_pins_keep_their_place_when_filters_remove_other_items(client: TestClient) -> None:
    override(client, "mali-1", target="olympics", action="pin", position=2)
    business = ids(client.get(path_of("mali-2") + "/related?k=3&section=business"))
    assert sorted(business) == ["cocoa-1", "cocoa-2"]  # the filter leaves two automatic items
    got = ids(client.get(path_of("mali-1") + "/related?k=3&section=business"))
    assert got[1] == "olympics" and sorted(got[::2]) == ["cocoa-1", "cocoa-2"]
    assert ids(client.get(path_of("mali-1") + "/related?k=3&section=none")) == ["olympics"]
    assert ids(client.get(path_of("mali-1") + "/related?k=3&exclude=olympics"))[0] != "olympics"


def test_block_removes_a_pair_and_the_list_stays_full(client: TestClient) -> None:
    before = ids(client.get(path_of("mali-1") + "/related?k=3"))
    override(client, "mali-1", target=before[0], action="block")
    after = ids(client.get(path_of("mali-1") + "/related?k=3"))
    assert before[0] not in after and len(after) == 3 and after[:2] == before[1:]
    assert before[0] in ids(client.get(path_of("mali-2") + "/related?k=7"))  # only that pair


def test_link_is_placed_by_its_score_or_position(client: TestClient) -> None:
    override(client, "mali-1", target="olympics", action="link")
    items = client.get(path_of("mali-1") + "/related?k=7").json()["items"]
    linked = [i for i in items if i["id"] == "olympics"]
    assert linked and linked[0]["origin"] == "linked"
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)
    override(client, "mali-1", target="olympics", action="link", position=1)  # replaces the first one
    assert ids(client.get(path_of("mali-1") + "/related?k=3"))[0] == "olympics"
    listed = client.get(path_of("mali-1") + "/overrides", headers=AUTH).json()["overrides"]
    assert [(o["target"], o["action"], o["position"]) for o in listed] == [("olympics", "link", 1)]


def test_remove_and_expiry(client: TestClient) -> None:
    before = ids(client.get(path_of("mali-1") + "/related?k=3"))
    override(client, "mali-1", target="cocoa-2", action="pin", position=1)
    assert client.delete(path_of("mali-1") + "/overrides/cocoa-2", headers=AUTH).status_code == 204
    assert ids(client.get(path_of("mali-1") + "/related?k=3")) == before
    missing = client.delete(path_of("mali-1") + "/overrides/cocoa-2", headers=AUTH)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    expired = override(client, "mali-1", target="cocoa-2", action="pin", expires_at="2020-01-01")
    assert expired["active"] is False and expired["expires_at"] == "2020-01-02T00:00:00Z"
    assert ids(client.get(path_of("mali-1") + "/related?k=3")) == before


def test_bad_overrides_get_clear_errors(client: TestClient) -> None:
    def post(source: str, body: object) -> tuple[int, str]:
        response = client.post(path_of(source) + "/overrides", json=body, headers=AUTH)
        return response.status_code, response.json()["message"]

    assert post("nope", {"target": "cocoa-1", "action": "pin"})[0] == 404
    assert post("mali-1", {"target": "nope", "action": "pin"}) == (422, "target: no article 'nope'")
    assert post("mali-1", {"target": "mali-1", "action": "pin"})[0] == 422
    assert post("mali-1", {"target": "cocoa-1", "action": "star"})[0] == 422
    assert post("mali-1", {"target": "cocoa-1", "action": "pin", "position": 0})[0] == 422
    status, message = post("mali-1", {"target": "cocoa-1", "action": "pin", "expires_at": "soon"})
    assert status == 422 and "expires_at" in message


def test_odd_ids_as_source_and_target(client: TestClient) -> None:
    override(client, "mali-1", target=ODD, action="block")
    assert ODD not in ids(client.get(path_of("mali-1") + "/related?k=7"))
    target = urllib.parse.quote(ODD, safe="")
    assert client.delete(path_of("mali-1") + f"/overrides/{target}", headers=AUTH).status_code == 204
    assert ODD in ids(client.get(path_of("mali-1") + "/related?k=7"))


def test_keyword_page_overrides(client: TestClient) -> None:
    page = ids(client.get("/v1/keywords/mali/articles?k=3"))
    response = client.post(
        "/v1/keywords/Mali/overrides",
        json={"target": "cocoa-2", "action": "pin", "position": 1},
        headers=AUTH,
    )
    assert response.status_code == 201 and response.json()["source"] == "mali"
    client.post("/v1/keywords/MALI/overrides", json={"target": page[0], "action": "block"}, headers=AUTH)
    after = client.get("/v1/keywords/mali/articles?k=3").json()["items"]
    assert after[0]["id"] == "cocoa-2" and after[0]["origin"] == "pinned"
    assert page[0] not in [i["id"] for i in after]
    related = [r["keyword"] for r in client.get("/v1/keywords/mali/related?k=3").json()["items"]]
    client.post(
        "/v1/keywords/mali/overrides",
        json={"target": related[0], "action": "block", "list": "keywords"},
        headers=AUTH,
    )
    client.post(
        "/v1/keywords/mali/overrides",
        json={"target": "Olympics", "action": "pin", "list": "keywords"},
        headers=AUTH,
    )
    items = client.get("/v1/keywords/mali/related?k=3").json()["items"]
    assert items[0]["keyword"] == "Olympics" and items[0]["origin"] == "pinned"
    assert related[0] not in [i["keyword"] for i in items]
    gone = client.delete("/v1/keywords/mali/overrides/olympics?list=keywords", headers=AUTH)
    assert gone.status_code == 204
    listed = client.get("/v1/keywords/mali/overrides?list=keywords", headers=AUTH).json()["overrides"]
    assert [o["action"] for o in listed] == ["block"]
    unknown = client.post(
        "/v1/keywords/nothing/overrides", json={"target": "cocoa-1", "action": "pin"}, headers=AUTH
    )
    assert unknown.status_code == 404


def test_overrides_survive_a_full_reindex(data_dir: Path, tmp_path: Path) -> None:
    with make_client(data_dir) as client:
        override(client, "mali-1", target="olympics", action="pin", position=1)
        override(client, "mali-1", target="mali-2", action="block")
    # Every article deleted and indexed again: new vector ids, the same article ids.
    store = Store.open(data_dir)
    store.catalog.write(deletes=[str(r["id"]) for r in CORPUS])
    index_articles(
        store, HashingEmbedder(64), read_articles(str(write_corpus(tmp_path / "again.jsonl", CORPUS)))
    )
    store.close()
    with make_client(data_dir) as client:
        got = ids(client.get(path_of("mali-1") + "/related?k=3"))
        assert got[0] == "olympics" and "mali-2" not in got


def test_overrides_carry_to_a_data_dir_of_another_model(data_dir: Path, tmp_path: Path) -> None:
    with make_client(data_dir) as client:
        override(client, "mali-1", target="olympics", action="pin", position=1)
        override(client, "mali-1", target="mali-2", action="block")
        response = client.post(
            "/v1/keywords/mali/overrides", json={"target": "cocoa-1", "action": "link"}, headers=AUTH
        )
        assert response.status_code == 201
        assert client.post("/v1/blocks", json={"target": "cocoa-2"}, headers=AUTH).status_code == 201
        fix = {"keyword": "Sahel", "action": "add"}
        assert client.post(path_of("mali-2") + "/keyword-edits", json=fix, headers=AUTH).status_code == 200
        fix = {"keyword": "junta", "action": "remove"}
        assert client.post(path_of("mali-2") + "/keyword-edits", json=fix, headers=AUTH).status_code == 200
        alias = {"keywords": ["ECOWAS", "CEDEAO"], "action": "confirm"}
        assert client.post("/v1/aliases", json=alias, headers=AUTH).status_code in (200, 201)
        alias = {"keywords": ["Mali", "Paris"], "action": "reject"}
        assert client.post("/v1/aliases", json=alias, headers=AUTH).status_code in (200, 201)
    other = tmp_path / "other-model"
    store = Store.open(other, create=True)
    index_articles(
        store, HashingEmbedder(32), read_articles(str(write_corpus(tmp_path / "c2.jsonl", CORPUS)))
    )
    store.close()
    runner = CliRunner()
    exported = runner.invoke(app, ["overrides", "export", "-d", str(data_dir)])
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert exported.exit_code == 0 and [line["kind"] for line in lines] == [
        "keyword_edit",
        "keyword_edit",
        "alias",
        "alias_rejection",
        *["override"] * 4,
    ]
    bad_line = '{"scope": "article", "source": "mali-1", "target": "x", "action": "star"}\n'
    imported = runner.invoke(
        app, ["overrides", "import", "-", "-d", str(other)], input=exported.stdout + bad_line
    )
    assert imported.exit_code == 3
    assert "line 9: action: must be one of pin, block, link" in imported.stderr
    assert "imported 8, rejected 1" in imported.stderr
    with make_client(other, model="test/hashing-32") as client:
        got = ids(client.get(path_of("mali-1") + "/related?k=3"))
        assert got[0] == "olympics" and "mali-2" not in got
        assert "cocoa-1" in ids(client.get("/v1/keywords/mali/articles?k=10"))
        assert all("cocoa-2" not in ids(client.get(path_of(a["id"]) + "/related?k=10")) for a in CORPUS)
        fixed = client.get(path_of("mali-2")).json()["keywords"]
        assert "Sahel" in fixed and "junta" not in fixed
        edits = client.get(path_of("mali-2") + "/keyword-edits", headers=AUTH).json()
        assert {(e["keyword"], e["action"], e["author"]) for e in edits["edits"]} == {
            ("Sahel", "add", "api"),
            ("junta", "remove", "api"),
        }
        groups = client.get("/v1/aliases", headers=AUTH).json()["groups"]
        assert [(g["key"], g["aliases"]) for g in groups] == [("cedeao", ["ecowas"])]
    # Everything carried, by its authors: the new data dir exports what the old one did.
    again = runner.invoke(app, ["overrides", "export", "-d", str(other)])

    def kept(text: str) -> list[dict[str, object]]:
        # Without when: two fixes made in one second export in the order of their keywords, and
        # the same two made a second apart in the order they were made.
        found = [
            {k: v for k, v in json.loads(line).items() if k not in ("created_at", "at")}
            for line in text.splitlines()
        ]
        return sorted(found, key=lambda line: json.dumps(line, sort_keys=True))

    assert kept(again.stdout) == kept(exported.stdout)


def test_a_deleted_article_leaves_every_list_but_the_log_keeps_it(client: TestClient, data_dir: Path) -> None:
    override(client, "mali-1", target="cocoa-1", action="pin", position=1)
    assert client.delete(path_of("cocoa-1"), headers=AUTH).status_code == 204
    assert "cocoa-1" not in ids(client.get(path_of("mali-1") + "/related?k=7"))
    listed = client.get(path_of("mali-1") + "/overrides", headers=AUTH).json()["overrides"]
    assert listed[0]["target"] == "cocoa-1" and listed[0]["target_exists"] is False
    log = client.app.state.serving.current.store.catalog.audit_log()  # type: ignore[attr-defined]
    assert [(e.change, e.target, e.author) for e in log] == [("set", "cocoa-1", "api")]


def test_an_article_blocked_from_every_list_and_let_back(client: TestClient) -> None:
    showing = [a["id"] for a in CORPUS if "mali-2" in ids(client.get(path_of(a["id"]) + "/related?k=5"))]
    assert len(showing) >= 3 and "mali-2" in ids(client.get("/v1/keywords/mali/articles?k=5"))
    assert client.post("/v1/blocks", json={"target": "mali-2"}).status_code == 401
    made = client.post("/v1/blocks", json={"target": "mali-2", "expires_at": "2999-01-01"}, headers=AUTH)
    assert made.status_code == 201, made.text
    assert (made.json()["scope"], made.json()["source"], made.json()["action"]) == ("site", "*", "block")
    for article in CORPUS:
        assert "mali-2" not in ids(client.get(path_of(article["id"]) + "/related?k=5")), article["id"]
    for keyword in ("mali", "junta"):
        assert "mali-2" not in ids(client.get(f"/v1/keywords/{keyword}/articles?k=5"))
    assert ids(client.get(path_of("mali-2") + "/related?k=5"))  # its own list is unchanged
    listed = client.get("/v1/blocks", headers=AUTH).json()["overrides"]
    assert [(o["target"], o["author"], o["active"]) for o in listed] == [("mali-2", "api", True)]
    assert client.delete("/v1/blocks/mali-2", headers=AUTH).status_code == 204
    back = [a["id"] for a in CORPUS if "mali-2" in ids(client.get(path_of(a["id"]) + "/related?k=5"))]
    assert back == showing
    assert client.delete("/v1/blocks/mali-2", headers=AUTH).status_code == 404
    missing = client.post("/v1/blocks", json={"target": "no-such"}, headers=AUTH)
    assert missing.status_code == 422 and "no article 'no-such'" in missing.json()["message"]
    # A site-wide override goes through /v1/blocks only, and blocks only.
    scoped = client.post(
        path_of("mali-1") + "/overrides",
        json={"target": "x", "action": "block", "list": "site"},
        headers=AUTH,
    )
    assert scoped.status_code == 422


def test_an_article_blocked_everywhere_is_named_as_no_edition(client: TestClient) -> None:
    french = {**next(a for a in CORPUS if a["id"] == "mali-fr"), "translations": ["mali-2"]}
    assert client.put(path_of("mali-fr"), json=french, headers=AUTH).status_code == 200

    def editions() -> dict[str, list[str]]:
        found = {}
        for article in CORPUS:
            body = client.get(path_of(article["id"]) + "/related?k=8").json()
            found[article["id"]] = [t["id"] for i in body["items"] for t in i.get("translations", [])]
            found[article["id"]] += [t["id"] for t in body.get("translations", [])]
        return found

    assert any("mali-fr" in named for named in editions().values())
    assert client.post("/v1/blocks", json={"target": "mali-fr"}, headers=AUTH).status_code == 201
    assert not any("mali-fr" in named for named in editions().values())


def test_an_article_pinned_for_every_article_with_a_keyword(client: TestClient) -> None:
    blocked = {"target": "olympics", "action": "block"}
    assert client.post(path_of("mali-2") + "/overrides", json=blocked, headers=AUTH).status_code == 201
    every = sorted(a["id"] for a in CORPUS if "Mali" in a.get("keywords", []))
    tagged = [i for i in every if i != "mali-2"]  # not where an editor blocked it
    response = client.post("/v1/keywords/MALI/pins", json={"target": "olympics", "position": 2}, headers=AUTH)
    assert response.status_code == 201, response.text
    assert response.json() == {"keyword": "MALI", "target": "olympics", "articles": tagged}
    for source in tagged:
        items = client.get(path_of(source) + "/related?k=3").json()["items"]
        assert (items[1]["id"], items[1]["origin"]) == ("olympics", "pinned"), source
    assert "olympics" not in ids(client.get(path_of("mali-untagged") + "/related?k=3"))  # not tagged
    # The target's own article is left out of the lists it is pinned in.
    own = client.post("/v1/keywords/Mali/pins", json={"target": "mali-1"}, headers=AUTH).json()
    assert own["articles"] == [i for i in every if i != "mali-1"]
    taken = client.delete("/v1/keywords/mali/pins/olympics", headers=AUTH)
    assert taken.status_code == 200 and taken.json()["articles"] == tagged
    assert all("olympics" not in ids(client.get(path_of(s) + "/related?k=3")) for s in tagged)
    assert client.delete("/v1/keywords/mali/pins/olympics", headers=AUTH).status_code == 404
    # The list where an editor blocked it kept its block through both.
    kept = client.get(path_of("mali-2") + "/overrides", headers=AUTH).json()["overrides"]
    assert [(o["target"], o["action"]) for o in kept if o["target"] == "olympics"] == [("olympics", "block")]
    unknown = client.post("/v1/keywords/nothing/pins", json={"target": "olympics"}, headers=AUTH)
    assert unknown.status_code == 404
    assert client.post("/v1/keywords/mali/pins", json={"target": "olympics"}).status_code == 401
    bad = client.post("/v1/keywords/mali/pins", json={"target": "no-such"}, headers=AUTH)
    assert bad.status_code == 422
