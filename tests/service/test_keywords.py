"""Finding keywords and suggesting them over HTTP, with real ids: /v1/keywords and
/v1/articles/{id}/keywords/suggested."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from seealso.config import Settings
from seealso.service.app import create_app
from tests.service.test_app import indexed_dir

RECORDS = [
    {"id": "mali-1", "title": "Soldiers seize power in Bamako", "body": "Mali junta coup soldiers Bamako ECOWAS",
     "keywords": ["Mali", "ECOWAS", "Bamako"]},
    {"id": "mali-2", "title": "Mali junta promises elections", "body": "Mali junta coup transition Bamako ECOWAS",
     "keywords": ["Mali", "ECOWAS"]},
    {"id": "mali-3", "title": "La junte malienne à Bamako", "body": "Mali junte coup soldats Bamako CEDEAO",
     "keywords": ["Mali", "CEDEAO"], "language": "fr"},
    {"id": "mali-4", "title": "ECOWAS sanctions the Mali junta", "body": "Mali junta coup sanctions Bamako ECOWAS"},
    {"id": "ivory-1", "title": "Élections en Côte d'Ivoire", "body": "Abidjan élections cacao Côte d'Ivoire",
     "keywords": ["Côte d'Ivoire"], "language": "fr"},
    {"id": "cocoa-1", "title": "Cocoa prices soar", "body": "cocoa prices farmers harvest chocolate",
     "keywords": ["cocoa"]},
]  # fmt: skip


TOKEN = "keyword-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def index_records(tmp_path: Path) -> Path:
    return indexed_dir(tmp_path, RECORDS)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    index_records(tmp_path)
    settings = Settings(
        data_dir=tmp_path / "data",
        model="test/hashing",
        min_score=0,
        diversity=0,
        api_token=TOKEN,
        keyword_refresh_seconds=0,  # counts follow every write (by default, at most every 30 s)
    )
    with TestClient(create_app(settings)) as client:
        yield client


def names(client: TestClient, **params: object) -> list[tuple[str, int, str]]:
    response = client.get("/v1/keywords", params=params)
    assert response.status_code == 200, response.text
    return [(i["keyword"], i["articles"], i["match"]) for i in response.json()["items"]]


def test_keywords_are_found_by_prefix_word_and_close_spelling(client: TestClient) -> None:
    assert names(client, k=3) == [("Mali", 3, "all"), ("ECOWAS", 2, "all"), ("Bamako", 1, "all")]
    assert names(client, q="ba") == [("Bamako", 1, "prefix")]
    assert names(client, q="cote") == [("Côte d'Ivoire", 1, "prefix")]
    assert names(client, q="ivoire") == [("Côte d'Ivoire", 1, "word")]
    assert names(client, q="ecowsa") == [("ECOWAS", 2, "fuzzy")]
    assert names(client, q="mali", language="fr") == [("Mali", 1, "exact")]
    mali = client.get("/v1/keywords", params={"q": "MALI"}).json()["items"][0]
    assert mali["languages"] == {"en": 2, "fr": 1}
    assert names(client, q="zzzz") == []


def test_keyword_queries_out_of_bounds_are_4xx_with_a_message(client: TestClient) -> None:
    for params in ({"q": "x" * 201}, {"k": 0}, {"k": 101}, {"language": "x" * 21}):
        response = client.get("/v1/keywords", params=params)
        assert response.status_code == 422 and response.json()["message"], params


def test_an_untagged_article_is_suggested_its_neighbours_keywords(client: TestClient) -> None:
    response = client.get("/v1/articles/mali-4/keywords/suggested", params={"k": 3})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["article"], body["keywords"]) == ("mali-4", [])
    top = body["items"][0]
    assert top["keyword"] in {"Mali", "ECOWAS"} and {i["keyword"] for i in body["items"][:2]} == {
        "Mali",
        "ECOWAS",
    }
    assert top["reasons"]["mentioned_in"] == "title" and top["reasons"]["nearest_carrying"] >= 2
    assert [i["score"] for i in body["items"]] == sorted((i["score"] for i in body["items"]), reverse=True)


def test_carried_keywords_are_not_suggested(client: TestClient) -> None:
    body = client.get("/v1/articles/mali-2/keywords/suggested").json()
    suggested = [i["keyword"] for i in body["items"]]
    assert body["keywords"] == ["Mali", "ECOWAS"] and "Mali" not in suggested and "ECOWAS" not in suggested
    assert suggested[0] == "Bamako"  # in its text, and carried by its nearest neighbour
    # CEDEAO is only used in French: its name in an English text is no evidence of it.
    assert all(i["reasons"]["mentioned_in"] is None for i in body["items"] if i["keyword"] == "CEDEAO")


def test_suggestions_for_an_unknown_article_are_404(client: TestClient) -> None:
    response = client.get("/v1/articles/nope/keywords/suggested")
    assert response.status_code == 404 and "nope" in response.json()["message"]


def test_an_editor_accepts_rejects_and_takes_back_keywords(client: TestClient) -> None:
    suggested = [i["keyword"] for i in client.get("/v1/articles/mali-4/keywords/suggested").json()["items"]]
    assert "Mali" in suggested and "Bamako" in suggested
    accepted = client.post(
        "/v1/articles/mali-4/keyword-edits", json={"keyword": "Mali", "action": "add"}, headers=AUTH
    )
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["keywords"], accepted.json()["given"]) == (["Mali"], [])
    assert accepted.json()["edits"][0]["author"] == "api" and accepted.json()["edits"][0]["action"] == "add"
    page = client.get("/v1/keywords/mali/articles", params={"k": 10}).json()
    shown = {i["id"] for i in page["items"]} | {
        d for i in page["items"] for d in i["reasons"].get("duplicates", [])
    }
    assert page["tagged"] == 4 and "mali-4" in shown  # here collapsed into mali-2, a near-duplicate
    assert names(client, q="mali") == [("Mali", 4, "exact")]
    rejected = client.post(
        "/v1/articles/mali-4/keyword-edits", json={"keyword": "bamako", "action": "reject"}, headers=AUTH
    )
    assert rejected.status_code == 200 and rejected.json()["keywords"] == ["Mali"]
    after = [i["keyword"] for i in client.get("/v1/articles/mali-4/keywords/suggested").json()["items"]]
    assert "Mali" not in after and "Bamako" not in after  # carried now, and rejected
    assert client.delete("/v1/articles/mali-4/keyword-edits/MALI", headers=AUTH).status_code == 204
    assert client.get("/v1/keywords/mali/articles").json()["tagged"] == 3
    again = client.delete("/v1/articles/mali-4/keyword-edits/Mali", headers=AUTH)
    assert again.status_code == 404 and "Mali" in again.json()["message"]
    edits = client.get("/v1/articles/mali-4/keyword-edits", headers=AUTH).json()["edits"]
    assert [(e["keyword"], e["action"]) for e in edits] == [("bamako", "reject")]


def test_keyword_edits_need_a_token_and_valid_input(client: TestClient) -> None:
    body = {"keyword": "Sahel", "action": "add"}
    assert client.post("/v1/articles/mali-1/keyword-edits", json=body).status_code == 401
    assert client.get("/v1/articles/mali-1/keyword-edits").status_code == 401
    wrong = {"Authorization": "Bearer wrong-token-0123456789"}
    assert client.post("/v1/articles/mali-1/keyword-edits", json=body, headers=wrong).status_code == 403
    for bad in (
        {"keyword": "Sahel", "action": "tag"},
        {"keyword": "", "action": "add"},
        {"keyword": "x\u0000", "action": "add"},
    ):
        response = client.post("/v1/articles/mali-1/keyword-edits", json=bad, headers=AUTH)
        assert response.status_code == 422 and response.json()["message"], bad
    missing = client.post("/v1/articles/nope/keyword-edits", json=body, headers=AUTH)
    assert missing.status_code == 404 and "nope" in missing.json()["message"]
    assert client.get("/v1/articles/mali-1/keyword-edits", headers=AUTH).json()["keywords"] == [
        "Mali",
        "ECOWAS",
        "Bamako",
    ]


def test_confirmed_aliases_are_one_keyword_page_named_in_each_language(client: TestClient) -> None:
    assert client.get("/v1/aliases/suggested").status_code == 401
    suggested = client.get("/v1/aliases/suggested", headers=AUTH)
    assert suggested.status_code == 200 and all(len(i["keywords"]) == 2 for i in suggested.json()["items"])
    confirmed = client.post(
        "/v1/aliases", json={"keywords": ["CEDEAO", "ecowas"], "action": "confirm"}, headers=AUTH
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["groups"] == [
        {
            "keyword": "ECOWAS",
            "key": "ecowas",
            "names": {"en": "ECOWAS", "fr": "CEDEAO"},
            "aliases": ["cedeao"],
        }
    ]
    page = client.get("/v1/keywords/CEDEAO/articles").json()
    assert (page["keyword"], page["tagged"]) == ("ECOWAS", 3)
    french = client.get("/v1/keywords/ecowas/articles", params={"language": "fr"}).json()
    assert french["keyword"] == "CEDEAO" and french["items"][0]["id"] == "mali-3"
    found = client.get("/v1/keywords", params={"q": "cedeao"}).json()["items"]
    assert [(i["keyword"], i["articles"], i["match"], i["spellings"]) for i in found] == [
        ("ECOWAS", 3, "exact", ["CEDEAO"])
    ]
    french = client.get("/v1/keywords", params={"q": "ecow", "language": "fr"}).json()["items"]
    assert [(i["keyword"], i["articles"], i["spellings"]) for i in french] == [("CEDEAO", 1, ["ECOWAS"])]
    related = [i["keyword"] for i in client.get("/v1/keywords/Mali/related").json()["items"]]
    assert "ECOWAS" in related and "CEDEAO" not in related
    assert client.delete("/v1/aliases/cedeao", headers=AUTH).status_code == 204
    assert client.get("/v1/keywords/CEDEAO/articles").json()["tagged"] == 1
    again = client.delete("/v1/aliases/cedeao", headers=AUTH)
    assert again.status_code == 404 and again.json()["message"] == "the keyword 'cedeao' is in no alias group"
    assert client.get("/v1/aliases").json() == {"groups": []}


def test_alias_changes_need_a_token_and_two_known_keywords(client: TestClient) -> None:
    body = {"keywords": ["Mali", "Bamako"], "action": "reject"}
    assert client.post("/v1/aliases", json=body).status_code == 401
    assert client.post("/v1/aliases", json=body, headers=AUTH).status_code == 200
    pairs = [set(i["keywords"]) for i in client.get("/v1/aliases/suggested", headers=AUTH).json()["items"]]
    assert {"Mali", "Bamako"} not in pairs
    taken_back = client.delete("/v1/aliases/rejected/Bamako/mali", headers=AUTH)
    assert taken_back.status_code == 204
    again = client.delete("/v1/aliases/rejected/Bamako/mali", headers=AUTH)
    assert (
        again.status_code == 404
        and again.json()["message"] == "'Bamako' and 'mali' were not rejected as aliases"
    )
    for bad, status in [({"keywords": ["Mali"], "action": "confirm"}, 422),
                        ({"keywords": ["Mali", "Atlantis"], "action": "confirm"}, 404),
                        ({"keywords": ["Mali", "MALI"], "action": "confirm"}, 422),
                        ({"keywords": ["Mali", "Bamako"], "action": "merge"}, 422)]:  # fmt: skip
        response = client.post("/v1/aliases", json=bad, headers=AUTH)
        assert response.status_code == status and response.json()["message"], bad


def test_a_keyword_an_editor_removed_is_not_suggested_again(client: TestClient) -> None:
    body = {"keyword": "Bamako", "action": "remove"}
    assert client.post("/v1/articles/mali-1/keyword-edits", json=body, headers=AUTH).status_code == 200
    suggested = [i["keyword"] for i in client.get("/v1/articles/mali-1/keywords/suggested").json()["items"]]
    assert "Bamako" not in suggested and suggested  # in its title and text, but an editor took it off
    again = client.post(
        "/v1/articles/mali-1/keyword-edits", json={"keyword": "Mali", "action": "add"}, headers=AUTH
    )
    assert (
        again.status_code == 422 and again.json()["message"] == "keyword: the article already carries 'Mali'"
    )


def test_a_keyword_of_two_subjects_is_said_to_mix_them(client: TestClient) -> None:
    words = {
        "mali": "Mali junta coup soldiers Bamako sanctions",
        "cocoa": "cocoa prices farmers harvest chocolate",
    }
    batch = "".join(
        json.dumps(
            {
                "id": f"{topic}-x{n}",
                "title": f"{topic} {n}",
                "body": f"{text} note{n}",
                "keywords": ["Africa"],
            }
        )
        + "\n"
        for topic, text in words.items()
        for n in range(10)
    )
    headers = {**AUTH, "Content-Type": "application/x-ndjson"}
    assert client.post("/v1/articles:batch", content=batch, headers=headers).status_code == 200
    found = client.get("/v1/keywords/africa/split").json()
    assert found["keyword"] == "Africa" and found["split"]["suggested"] and found["split"]["articles"] == 20
    groups = found["split"]["groups"]
    assert sorted({e["id"].split("-")[0] for e in g["examples"]} for g in groups) == [{"cocoa"}, {"mali"}]
    assert client.get("/v1/keywords/cocoa/split").json() == {"keyword": "cocoa", "split": None}  # one article
    missing = client.get("/v1/keywords/nothing/split")
    assert missing.status_code == 404 and "nothing" in missing.json()["message"]


def test_the_editor_shows_a_keyword_that_mixes_two_subjects(tmp_path: Path) -> None:
    words = {
        "mali": "Mali junta coup soldiers Bamako sanctions",
        "cocoa": "cocoa prices farmers harvest chocolate",
    }
    records = RECORDS + [
        {
            "id": f"{topic}-x{n}",
            "title": f"{topic} story {n}",
            "body": f"{text} note{n}",
            "keywords": ["Africa"],
        }
        for topic, text in words.items()
        for n in range(10)
    ]
    indexed_dir(tmp_path, records)
    settings = Settings(
        data_dir=tmp_path / "data", model="test/hashing", editor_public_read=True, min_score=0
    )
    with TestClient(create_app(settings)) as client:
        page = client.get("/editor/keyword?name=Africa").text
        assert "It may mix two subjects" in page
        assert page.count("10 articles") == 2 and "cocoa story" in page and "mali story" in page
        desk = client.get("/editor").text.split('id="splits-title"')[1].split("</section>")[0]
        assert "(1)" in desk and ">Africa</a>" in desk
        assert "It may mix" not in client.get("/editor/keyword?name=Mali").text
