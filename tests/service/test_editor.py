"""Editor pages through the app (TestClient): who may read and change, CSRF, redirects, passwords."""

from __future__ import annotations

import contextlib
import json
import re
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from seealso.indexer.article import Article
from seealso.indexer.catalog import Write
from seealso.indexer.store import Store
from seealso.service.editor import auth
from seealso.service.editor.auth import hash_password
from tests.service.test_api import AUTH, CORPUS, client, data_dir, make_client

__all__ = ["client", "data_dir"]  # fixtures
USERS = json.dumps({"alice": "wonderland", "bob": hash_password("builder")})


def editor(data_dir: Path, **settings: object) -> TestClient:
    return make_client(data_dir, editor_users=json.loads(USERS), **settings)


def login(client: TestClient, user: str, password: str, next: str = "/editor", **kw: object) -> Response:
    """Post the sign-in form as a browser does: with the token of the form it was given."""
    form = client.get("/editor/login")
    token = re.search(r'action="/editor/login".*?name="csrf" value="([^"]+)"', form.text, re.S).group(1)  # type: ignore[union-attr]
    data = {"username": user, "password": password, "next": next, "csrf": token}
    return client.post("/editor/login", data=data, **kw)  # type: ignore[arg-type]


def sign_in(client: TestClient, user: str = "alice", password: str = "wonderland") -> str:
    """Signs in; returns the session's CSRF token (read from a page's form)."""
    response = login(client, user, password)
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
        wrong = login(client, "bob", "nope", follow_redirects=False)
        assert "error=wrong+name+or+password" in wrong.headers["location"]
        unknown = login(client, "eve", "x", follow_redirects=False)
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
        response = login(client, "alice", "wonderland", next="https://evil.example/", follow_redirects=False)
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


def test_the_sign_in_form_must_come_from_this_site(data_dir: Path) -> None:
    """Login CSRF: a form posted from another site has no token matching this site's cookie."""
    with editor(data_dir) as client:
        forged = client.post(
            "/editor/login", data={"username": "alice", "password": "wonderland"}, follow_redirects=False
        )
        assert forged.status_code == 403 and "came from elsewhere" in forged.text
        assert "seealso_editor" not in client.cookies
        client.get("/editor/login")  # a cookie token, but the form carries another
        other = client.post(
            "/editor/login",
            data={"username": "alice", "password": "wonderland", "csrf": "not-the-cookie"},
            follow_redirects=False,
        )
        assert other.status_code == 403
        assert sign_in(client)


def test_signing_out_ends_the_session_on_the_server(data_dir: Path) -> None:
    with editor(data_dir) as client:
        csrf = sign_in(client)
        cookie = str(client.cookies.get("seealso_editor"))
        out = client.post("/editor/logout", data={"csrf": csrf}, follow_redirects=False)
        assert out.status_code == 303
        client.cookies.clear()
        client.cookies.set("seealso_editor", cookie, path="/editor")  # the old cookie, replayed
        assert client.get("/editor", follow_redirects=False).status_code == 303  # off to sign in
        assert pin(client, csrf).status_code == 401  # type: ignore[attr-defined]


def test_sessions_are_shared_by_workers_and_kept_out_of_reach(data_dir: Path) -> None:
    with editor(data_dir) as first, editor(data_dir) as second:  # two apps: two worker processes
        sign_in(first)
        second.cookies.set("seealso_editor", str(first.cookies.get("seealso_editor")), path="/editor")
        assert second.get("/editor", follow_redirects=False).status_code == 200
        assert (data_dir / "editor.sqlite3").stat().st_mode & 0o077 == 0
        stored = (data_dir / "editor.sqlite3").read_bytes() + (data_dir / "editor.sqlite3-wal").read_bytes()
        assert str(first.cookies.get("seealso_editor")).encode() not in stored  # only its hash


def test_failed_sign_ins_are_limited_per_name_and_per_address(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "MAX_FAILURES_PER_NAME_AND_ADDRESS", 3)
    monkeypatch.setattr(auth, "MAX_FAILURES_PER_ADDRESS", 5)
    with editor(data_dir) as client:
        for _ in range(3):
            assert "error=wrong" in login(client, "bob", "guess", follow_redirects=False).headers["location"]
        limited = login(client, "bob", "builder", follow_redirects=False)  # even the right password
        assert limited.status_code == 429
        assert 0 < int(limited.headers["retry-after"]) <= auth.FAILURE_WINDOW + 1
        assert "too many failed sign-ins" in limited.text
        assert sign_in(client, "alice", "wonderland")  # another name from the same address
        device = client.cookies.get(auth.DEVICE_COOKIE)
        for name in ("carol", "dave"):
            login(client, name, "guess")
        client.cookies.clear()  # a new browser at the same address: the address is locked out
        assert login(client, "alice", "wonderland", follow_redirects=False).status_code == 429
        client.cookies.set(auth.DEVICE_COOKIE, str(device), path="/editor/login")  # alice's own browser
        assert login(client, "alice", "wonderland", follow_redirects=False).status_code == 303


def test_from_a_browser_an_editor_signed_in_with_guessers_elsewhere_do_not_count(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "MAX_FAILURES_PER_NAME", 3)
    with editor(data_dir) as client:
        editors = client.app.state.editors  # type: ignore[attr-defined]
        _session, _cookie, device = editors.sign_in("bob", "builder", "198.51.100.2")
        for n in range(5):  # guessers from many addresses, past the name's limit
            with contextlib.suppress(auth.TooManyAttempts):
                editors.sign_in("bob", "guess", f"192.0.2.{n}")
        with pytest.raises(auth.TooManyAttempts):
            editors.sign_in("bob", "builder", "198.51.100.9")  # a new browser
        assert editors.sign_in("bob", "builder", "198.51.100.9", device) is not None  # his browser
        assert editors.sign_in("alice", "wonderland", "198.51.100.9", device) is not None  # not alice's
        with pytest.raises(auth.TooManyAttempts):
            editors.sign_in("bob", "builder", "198.51.100.9", "forged-device")


def test_long_names_cost_no_space(data_dir: Path) -> None:
    with editor(data_dir) as client:
        editors = client.app.state.editors  # type: ignore[attr-defined]
        before = (data_dir / "editor.sqlite3").stat().st_size
        for _ in range(5):
            assert editors.sign_in("x" * 900_000, "guess", "203.0.113.1") is None
        sizes = [(data_dir / name).stat().st_size for name in ("editor.sqlite3", "editor.sqlite3-wal")]
        assert sum(sizes) - before < 200_000


def test_a_guesser_does_not_lock_the_editor_out(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "MAX_FAILURES_PER_NAME_AND_ADDRESS", 3)
    monkeypatch.setattr(auth, "MAX_FAILURES_PER_NAME", 6)
    with editor(data_dir) as client:
        editors = client.app.state.editors  # type: ignore[attr-defined]
        for _ in range(3):
            assert editors.sign_in("bob", "guess", "203.0.113.7") is None
        with pytest.raises(auth.TooManyAttempts):
            editors.sign_in("bob", "builder", "203.0.113.7")  # the guesser's address is locked out
        assert editors.sign_in("bob", "builder", "198.51.100.2") is not None  # bob, from his desk, is not
        for n in range(3):  # guessers from many addresses: the name's own limit
            editors.sign_in("bob", "guess", f"192.0.2.{n}")
        with pytest.raises(auth.TooManyAttempts):
            editors.sign_in("bob", "builder", "198.51.100.2")


def test_parallel_guesses_do_not_slip_past_the_limit(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "MAX_FAILURES_PER_NAME", 10)
    with editor(data_dir) as client:
        editors = client.app.state.editors  # type: ignore[attr-defined]
        checked: list[str] = []
        real = auth.verify
        monkeypatch.setattr(
            auth, "verify", lambda password, stored: checked.append(password) or real(password, stored)
        )

        def guess(n: int) -> str:
            try:
                return "wrong" if editors.sign_in("bob", f"guess{n}", f"127.0.1.{n}") is None else "in"
            except auth.TooManyAttempts:
                return "429"

        with ThreadPoolExecutor(12) as pool:
            outcomes = list(pool.map(guess, range(60)))
        assert (outcomes.count("wrong"), outcomes.count("429"), len(checked)) == (10, 50, 10)


def test_every_sign_in_costs_the_same_work(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether a name is unknown, has a plain password or a hash, a sign-in is one PBKDF2 of the same
    iterations, so timing does not tell which names exist."""
    calls: list[int] = []
    real = auth.hashlib.pbkdf2_hmac

    def counting(name: str, password: bytes, salt: bytes, iterations: int) -> bytes:
        calls.append(iterations)
        return real(name, password, salt, iterations)

    with editor(data_dir) as client:
        monkeypatch.setattr(auth.hashlib, "pbkdf2_hmac", counting)
        for user in ("alice", "bob", "nobody"):  # plain, hashed, unknown
            calls.clear()
            login(client, user, "wrong", follow_redirects=False)
            assert calls == [auth.HASH_ITERATIONS], user


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", " javascript:x"]
)
def test_only_web_urls_become_links(data_dir: Path, url: str) -> None:
    """A URL stored before URLs were checked is shown as text, never as a link."""
    store = Store.open(data_dir)
    old = store.catalog.get("mali-1")
    assert old is not None
    article = Article.model_construct(**{**dict(old.article), "url": url})
    store.catalog.write([Write(article, "h", "r", None)])
    store.close()
    with editor(data_dir, editor_public_read=True) as client:
        page = client.get("/editor/article?id=mali-1").text
        assert "Soldiers seize power in Bamako" in page
        assert 'href="' + url not in page and 'href="' + url.strip() not in page
        assert not re.search(r'href="\s*(javascript|data):', page, re.I)
    with editor(data_dir, editor_public_read=True) as client:
        client.app.state.serving.current.store.catalog.write(  # type: ignore[attr-defined]
            [
                Write(
                    Article.model_construct(**{**dict(old.article), "url": "https://example.org/mali"}),
                    "h",
                    "s",
                    None,
                )
            ]
        )
        assert 'href="https://example.org/mali"' in client.get("/editor/article?id=mali-1").text


@pytest.mark.parametrize(
    "url", ["/editor/audit?done=9223372036854775808", "/editor/audit?before=99999999999999999999",
            "/editor/article?id=mali-1&done=9223372036854775808", "/editor/keyword?name=Mali&done=-1"],
)  # fmt: skip
def test_change_ids_out_of_range_are_a_4xx(data_dir: Path, url: str) -> None:
    with editor(data_dir, editor_public_read=True) as client:
        assert client.get(url).status_code == 422
        csrf = sign_in(client)
        undo = client.post("/editor/undo", data={"csrf": csrf, "entry": "99999999999999999999999"})
        assert undo.status_code == 422


def test_a_sign_in_posted_from_another_origin_is_refused(data_dir: Path) -> None:
    """Even with a token pair planted as a cookie (from a sibling subdomain, say), a browser's
    cross-site post says where it comes from."""
    with editor(data_dir) as client:
        client.cookies.set(auth.LOGIN_COOKIE, "planted", path="/editor/login")
        form = {"username": "alice", "password": "wonderland", "csrf": "planted"}
        foreign = client.post(
            "/editor/login", data=form, headers={"Origin": "https://evil.example"}, follow_redirects=False
        )
        assert foreign.status_code == 403
        same = client.post(
            "/editor/login", data=form, headers={"Origin": "http://testserver"}, follow_redirects=False
        )
        assert same.status_code == 303 and "seealso_editor" in client.cookies


def test_a_public_readers_link_check_is_bounded(data_dir: Path) -> None:
    with editor(data_dir, editor_public_read=True, similarity_max_pairs=2, heavy_requests=1) as client:
        links = {"links": "mali-1,mali-2\nmali-1,cocoa-1\nmali-1,cocoa-2\n"}
        capped = client.post("/editor/check", data=links)
        assert capped.status_code == 200 and "at most 2 links at a time without signing in" in capped.text
        with client.app.state.heavy_requests.slot():  # type: ignore[attr-defined]
            busy = client.post("/editor/check", data={"links": "mali-1,mali-2\n"})
            assert (busy.status_code, busy.headers["retry-after"]) == (503, "1")
        assert (
            "2 links:" in client.post("/editor/check", data={"links": "mali-1,mali-2\nmali-1,cocoa-1\n"}).text
        )
        sign_in(client)
        assert "3 links:" in client.post("/editor/check", data=links).text  # an editor's are not capped so
        unclosed = client.post("/editor/check", data={"links": 'mali-1,"mali-2\nx,y\n'})
        assert "malformed CSV: unexpected end of data" in unclosed.text


def test_the_readers_preview_may_show_the_sites_pictures_and_no_other_page_does(data_dir: Path) -> None:
    images = [
        {**a, "image_url": f"https://img.example/{a['id']}.jpg", "kicker": "Sahel"} for a in CORPUS
    ]  # the stored corpus rewritten with pictures
    with editor(data_dir) as client:
        sign_in(client)
        assert client.put("/v1/articles/mali-2", json=images[1], headers=AUTH).status_code in (200, 201)
        page = client.get("/editor/article?id=mali-1")
        policy = page.headers["content-security-policy"]
        assert "img-src 'self' data: https:;" in policy and "script-src" not in policy
        preview = page.text.split('class="preview"')[1]
        assert '<img class="seealso-image" src="https://img.example/mali-2.jpg"' in preview
        assert '<span class="seealso-kicker">Sahel</span>' in preview
        keyword = client.get("/editor/keyword?name=mali")
        assert keyword.headers["content-security-policy"] == policy
        for other in ("/editor", "/editor/audit", "/editor/aliases"):
            assert "img-src 'self' data:;" in client.get(other).headers["content-security-policy"], other


def test_the_overview_draws_the_lists_scores_and_lengths_with_their_numbers(data_dir: Path) -> None:
    with editor(data_dir) as client:
        sign_in(client)
        page = client.get("/editor/overview").text
        site = page.split('<section class="spread"')[1]
        assert f"({len(CORPUS)} lists, every article; median score" in site
        # Each chart is an image with its summary, and its numbers are in a table.
        assert site.count('role="img" aria-label="Scores of the items shown: ') == 1
        counts = [
            int(c)
            for c in re.findall(
                r"<td>(\d+)</td>", site.split('<th scope="row">Lists</th>')[1].split("</tr>")[0]
            )
        ]
        assert sum(counts) == len(CORPUS)
        lengths = [
            len(client.get(f"/v1/articles/{urllib.parse.quote(a['id'], safe='')}/related").json()["items"])
            for a in CORPUS
        ]
        assert counts == [lengths.count(n) for n in range(11)]
        assert [m for m in re.findall(r"<h2 id=\"spread-\d+\">Section (\w+)", page)] == [
            "africa",
            "business",
            "world",
            "sport",
        ]


def test_the_map_names_its_points_and_axes_and_every_point_is_a_link(data_dir: Path) -> None:
    with editor(data_dir) as client:
        sign_in(client)
        page = client.get("/editor/article?id=mali-1").text
        svg = page.split('<aside aria-labelledby="map-title"')[1].split("</svg>")[0]
        assert 'role="group"' in svg and 'role="img"' not in svg  # the links inside are not hidden
        labels = re.findall(r'<a href="/editor/article\?id=[^"]+" aria-label="([^"]+)"', svg)
        assert "Soldiers seize power in Bamako (this article)" in labels
        assert any(re.match(r"1\. .+ \(automatic\)$", label) for label in labels)
        assert 'class="caption' in svg  # titles written beside the points
        axes = page.split('id="map-axes"')[1].split("</div>")[0]
        assert re.search(
            r"<strong>Across</strong> \(\d+% of the differences\): from “.+” on the left to “.+” on the right",
            axes,
        )
