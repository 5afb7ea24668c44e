"""Editor pages through the app (TestClient): who may read and change, CSRF, redirects, passwords."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from service.editor.auth import hash_password
from tests.service.test_api import AUTH, client, data_dir, make_client

__all__ = ["client", "data_dir"]  # fixtures
USERS = json.dumps({"alice": "wonderland", "bob": hash_password("builder")})


def editor(data_dir: Path, **settings: object) -> TestClient:
    return make_client(data_dir, editor_users=json.loads(USERS), **settings)


def sign_in(client: TestClient, user: str = "alice", password: str = "wonderland") -> str:
    """Signs in; returns the session's CSRF token (read from a page's form)."""
    response = client.post("/editor/login", data={"username": user, "password": password, "next": "/editor"})
    assert response.status_code == 200 and "Signed in as" in response.text, response.text[:300]
    page = client.get("/editor/article?id=mali-1")
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def pin(client: TestClient, csrf: str | None, target: str = "cocoa-1") -> object:
    form = {"scope": "article", "source": "mali-1", "target": target, "action": "pin", "position": "1",
            "back": "/editor/article?id=mali-1"}  # fmt: skip
    if csrf is not None:
        form["csrf"] = csrf
    return client.post("/editor/override", data=form, follow_redirects=False)


def test_pages_need_a_sign_in_unless_reading_is_public(data_dir: Path) -> None:
    with editor(data_dir) as client:
        response = client.get("/editor/article?id=mali-1", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/editor/login?next=%2Feditor%2Farticle%3Fid%3Dmali-1"
    with editor(data_dir, editor_public_read=True) as client:
        page = client.get("/editor/article?id=mali-1")
        assert page.status_code == 200 and "Soldiers seize power in Bamako" in page.text
        assert 'value="pin"' not in page.text  # no change without signing in
        assert pin(client, None).status_code == 401  # type: ignore[attr-defined]


def test_changes_need_the_session_csrf_token(data_dir: Path) -> None:
    with editor(data_dir) as client:
        csrf = sign_in(client)
        assert pin(client, None).status_code == 403  # type: ignore[attr-defined]
        assert pin(client, "forged").status_code == 403  # type: ignore[attr-defined]
        done = pin(client, csrf)
        assert done.status_code == 303  # type: ignore[attr-defined]
        assert re.fullmatch(r"/editor/article\?id=mali-1&done=\d+", done.headers["location"])  # type: ignore[attr-defined]
        first = client.get("/v1/articles/mali-1/related?k=3").json()["items"][0]
        assert (first["id"], first["origin"], first["reasons"]["editor"]["author"]) == (
            "cocoa-1",
            "pinned",
            "alice",
        )


def test_a_hashed_password_works_and_wrong_ones_do_not(data_dir: Path) -> None:
    with editor(data_dir) as client:
        wrong = client.post(
            "/editor/login", data={"username": "bob", "password": "nope"}, follow_redirects=False
        )
        assert "error=wrong+name+or+password" in wrong.headers["location"]
        unknown = client.post(
            "/editor/login", data={"username": "eve", "password": "x"}, follow_redirects=False
        )
        assert "error=" in unknown.headers["location"]
        assert sign_in(client, "bob", "builder")


def test_a_tampered_session_cookie_is_not_a_session(data_dir: Path) -> None:
    with editor(data_dir) as client:
        sign_in(client)
        cookie = str(client.cookies.get("seealso_editor"))
        client.cookies.clear()
        tampered = cookie.replace("alice", "admin") if "alice" in cookie else cookie[:-4] + "AAAA"
        client.cookies.set("seealso_editor", tampered)
        assert client.get("/editor", follow_redirects=False).status_code == 303
        client.cookies.clear()
        client.cookies.set("seealso_editor", cookie)
        assert client.get("/editor", follow_redirects=False).status_code == 200


def test_redirects_stay_on_the_editor(data_dir: Path) -> None:
    with editor(data_dir) as client:
        response = client.post(
            "/editor/login",
            data={"username": "alice", "password": "wonderland", "next": "https://evil.example/"},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/editor"


def test_bad_changes_come_back_as_a_message(data_dir: Path) -> None:
    with editor(data_dir) as client:
        csrf = sign_in(client)
        response = pin(client, csrf, target="ghost")
        assert "error=target%3A+no+article+%27ghost%27" in response.headers["location"]  # type: ignore[attr-defined]
        page = client.get(response.headers["location"])  # type: ignore[attr-defined]
        assert "target: no article &#39;ghost&#39;" in page.text


def test_the_api_and_the_page_share_overrides_and_the_log(data_dir: Path) -> None:
    with editor(data_dir) as client:
        created = client.post(
            "/v1/articles/mali-1/overrides", json={"target": "olympics", "action": "block"}, headers=AUTH
        )
        assert created.status_code == 201
        sign_in(client)
        audit = client.get("/editor/audit").text
        assert "olympics" in audit and "api" in audit
        assert "olympics" in client.get("/editor/article?id=mali-1").text  # in the overrides table
