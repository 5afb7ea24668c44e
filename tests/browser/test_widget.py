"""The drop-in widget across origins, in real headless Chromium (Playwright): a real `seealso serve`
process, and a plain HTTP server on another port (another origin) serving a news page that fetches
each `data-seealso` fragment and sets it as the slot's innerHTML, with /v1/widget.css linked.

A third origin, not in SEEALSO_CORS_ORIGINS, gets nothing: its fetch rejects and the slot stays empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from seealso.embeddings.hashing import HashingEmbedder
from seealso.indexer.reader import read_articles
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store
from tests.browser.conftest import without_chromium
from tests.service.test_app import NEUTRAL_RULES, free_port, serving

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = [pytest.mark.browser, without_chromium]
playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect

XSS_KICKER = '<img src=x onerror="window.pwned = 1">Mali'
ARTICLES: list[dict[str, Any]] = [
    {"id": "en-coup", "language": "en", "title": "Soldiers seize power in Bamako", "body": "Mali junta coup soldiers Bamako president arrested", "keywords": ["Mali"], "url": "https://news.example/en/coup", "published_at": "2024-03-01T08:00:00Z", "kicker": "Mali"},
    {"id": "en-elections", "language": "en", "title": "Mali junta promises elections", "body": "Mali junta coup transition Bamako elections president", "keywords": ["Mali", "elections"], "url": "https://news.example/en/elections", "image_url": "https://img.example/elections.png", "kicker": "Sahel", "published_at": "2024-03-05T09:30:00Z"},
    {"id": "fr-elections", "language": "fr", "title": "La junte malienne promet des élections", "body": "Mali junta coup transition Bamako élections président", "keywords": ["Mali", "élections"], "url": "https://news.example/fr/elections", "image_url": "https://img.example/elections.png", "kicker": "Sahel", "published_at": "2024-03-05T10:00:00Z", "translations": ["en-elections"]},
    {"id": "fr-sanctions", "language": "fr", "title": "Sanctions contre la junte au Mali", "body": "Mali junta Bamako coup sanctions CEDEAO président", "keywords": ["Mali", "CEDEAO"], "url": "https://news.example/fr/sanctions", "image_url": "https://img.example/sanctions.png", "kicker": "Afrique", "published_at": "2024-03-12T12:00:00Z"},
    {"id": "en-cocoa", "language": "en", "title": "Cocoa prices soar", "body": "cocoa prices farmers harvest chocolate Abidjan", "keywords": ["cocoa"], "url": "https://news.example/en/cocoa", "published_at": "2024-01-20T07:00:00Z"},
    {"id": "fr-coup", "language": "fr", "title": "Des soldats prennent le pouvoir à Bamako", "body": "Mali junta coup soldats Bamako président", "keywords": ["Mali"], "url": "https://news.example/fr/coup", "published_at": "2024-02-10T08:00:00Z", "kicker": XSS_KICKER},
]  # fmt: skip
BY_ID = {a["id"]: a for a in ARTICLES}
# What a reader sees of each list: (id, its lang, its date in the page's language, its other edition's
# link text and language). The French edition of the elections story is grouped under the English
# one on the English page, and the other way round.
ENGLISH_LIST = [
    ("en-elections", "en", "5 March 2024", ("also in French", "fr", "fr-elections")),
    ("fr-sanctions", "fr", "12 March 2024", None),
    ("fr-coup", "fr", "10 February 2024", None),
    ("en-cocoa", "en", "20 January 2024", None),
]
FRENCH_LIST = [
    ("fr-elections", "fr", "5 mars 2024", ("aussi en anglais", "en", "en-elections")),
    ("fr-sanctions", "fr", "12 mars 2024", None),
    ("en-coup", "en", "1er mars 2024", None),
    ("en-cocoa", "en", "20 janvier 2024", None),
]
# A 1x1 transparent PNG for the pictures (the page never reaches the network).
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)
SCRIPT = """
window.seealso = Promise.all([...document.querySelectorAll("[data-seealso]")].map(async (slot) => {
  const response = await fetch(slot.dataset.seealso);
  if (!response.ok) throw new Error("HTTP " + response.status);
  slot.innerHTML = await response.text();
})).then(() => "loaded", (error) => "failed: " + error);
"""


def site_page(api: str, lang: str, title: str, slots: list[str]) -> bytes:
    divs = "\n".join(f'<div data-seealso="{api}{path}"></div>' for path in slots)
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="{api}/v1/widget.css"></head>
<body><main><article><h1>{title}</h1><p>...</p></article>
{divs}
</main><script>{SCRIPT}</script></body></html>""".encode()


class Site(ThreadingHTTPServer):
    pages: dict[str, bytes]


class Handler(BaseHTTPRequestHandler):
    server: Site

    def do_GET(self) -> None:
        body = self.server.pages.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body or b"not found")

    def log_message(self, *args: object) -> None:
        pass


def start_site() -> tuple[Site, str]:
    site = Site(("127.0.0.1", 0), Handler)
    site.pages = {}
    threading.Thread(target=site.serve_forever, daemon=True).start()
    return site, f"http://127.0.0.1:{site.server_address[1]}"


@pytest.fixture(scope="module")
def origins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The API, the news site allowed by SEEALSO_CORS_ORIGINS, and another site that is not."""
    root = tmp_path_factory.mktemp("widget")
    source = root / "articles.jsonl"
    source.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES), encoding="utf-8")
    store = Store.open(root / "data", create=True)
    report = index_articles(store, HashingEmbedder(64), read_articles(str(source)))
    assert report.rejected == []
    store.close()
    site, site_origin = start_site()
    elsewhere, elsewhere_origin = start_site()
    env = {
        **os.environ, **NEUTRAL_RULES,
        "SEEALSO_PORT": str(free_port()), "SEEALSO_DATA_DIR": str(root / "data"), "SEEALSO_MODEL": "test/hashing",
        "SEEALSO_CORS_ORIGINS": json.dumps([site_origin]),
    }  # fmt: skip
    try:
        with serving(env) as api:
            pages = {
                "/en.html": site_page(
                    api, "en", BY_ID["en-coup"]["title"], ["/v1/articles/en-coup/related.html?k=5"]
                ),
                "/fr.html": site_page(
                    api,
                    "fr",
                    BY_ID["fr-coup"]["title"],
                    ["/v1/articles/fr-coup/related.html?k=5", "/v1/keywords/Mali/articles.html?k=10"],
                ),
            }
            site.pages = elsewhere.pages = pages
            yield {"api": api, "site": site_origin, "elsewhere": elsewhere_origin}
    finally:
        for server in (site, elsewhere):
            server.shutdown()
            server.server_close()


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    context = browser.new_context()
    # Pictures get a pixel; nothing else leaves the machine.
    context.route("https://img.example/**", lambda route: route.fulfill(body=PIXEL, content_type="image/png"))
    context.route("https://news.example/**", lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def api_ids(api: str, path: str) -> list[str]:
    with urllib.request.urlopen(api + path, timeout=10) as response:
        return [str(i["id"]) for i in json.load(response)["items"]]


def open_site(page: Page, url: str) -> None:
    page.goto(url)
    assert page.evaluate("window.seealso") == "loaded"


def name_of(article: dict[str, Any]) -> str:
    """A link's accessible name: the kicker, then the title (the picture's alt is empty)."""
    return " ".join(filter(None, [article.get("kicker"), article["title"]]))


def check_list(aside: Locator, expected: list[tuple[str, str, str, Any]], page_lang: str) -> None:
    items = aside.get_by_role("list").get_by_role("listitem")
    expect(items).to_have_count(len(expected))
    for item, (article_id, lang, day, edition) in zip(items.all(), expected, strict=True):
        article = BY_ID[article_id]
        expect(item).to_have_attribute("lang", lang)
        link = item.get_by_role("link", name=name_of(article), exact=True)
        expect(link).to_have_attribute("href", article["url"])
        image = item.get_by_role("img")  # alt="" makes it presentational: not in the tree
        expect(image).to_have_count(0)
        pictures = item.locator("img")
        if article.get("image_url"):
            expect(pictures).to_have_attribute("alt", "")
            expect(pictures).to_have_attribute("src", article["image_url"])
            assert str(pictures.get_attribute("src")).startswith("https://")
        else:
            expect(pictures).to_have_count(0)
        date = item.locator("time")
        expect(date).to_have_text(day)
        expect(date).to_have_attribute("datetime", article["published_at"])
        editions = item.locator("a.seealso-edition")
        if edition is None:
            expect(editions).to_have_count(0)
        else:
            text, hreflang, other = edition
            other_link = item.get_by_role("link", name=text, exact=True)
            expect(other_link).to_have_attribute("href", BY_ID[other]["url"])
            expect(other_link).to_have_attribute("hreflang", hreflang)
            expect(other_link).to_have_attribute("lang", page_lang)
            expect(editions).to_have_count(1)


def check_heading(page: Page, aside: Locator, text: str, lang: str) -> None:
    """The fragment's h2 labels its aside (a named complementary region) in the list's language."""
    expect(aside).to_have_attribute("lang", lang)
    heading = aside.get_by_role("heading", level=2, name=text, exact=True)
    expect(heading).to_have_count(1)
    expect(heading).to_have_attribute("id", str(aside.get_attribute("aria-labelledby")))
    assert page.locator(f"#{aside.get_attribute('aria-labelledby')}").count() == 1


def test_an_english_list_on_the_allowed_site(page: Page, origins: dict[str, str]) -> None:
    open_site(page, origins["site"] + "/en.html")
    aside = page.get_by_role("complementary", name="Related articles", exact=True)
    expect(aside).to_have_count(1)
    check_heading(page, aside, "Related articles", "en")
    check_list(aside, ENGLISH_LIST, "en")
    # The fragment is the JSON list, in its order; the French edition is not a second item.
    assert [i for i, *_ in ENGLISH_LIST] == api_ids(origins["api"], "/v1/articles/en-coup/related?k=5")
    expect(page.get_by_role("link", name="also in French")).to_have_count(1)
    # widget.css, from the API's origin, styles the list.
    styles = page.locator(".seealso-list").evaluate(
        "list => { const s = getComputedStyle(list); return [s.display, s.listStyleType]; }"
    )
    assert styles == ["grid", "none"]
    kicker = page.locator(".seealso-kicker").first
    assert kicker.evaluate("k => getComputedStyle(k).color") == "rgb(176, 0, 32)"
    # The pictures loaded, and the kicker that looks like markup stayed text.
    assert page.locator("img.seealso-image").first.evaluate("i => i.complete && i.naturalWidth") == 1
    expect(page.get_by_text(XSS_KICKER)).to_have_count(1)
    assert page.evaluate("window.pwned") is None


def test_a_french_page_with_a_list_and_a_keyword_page(page: Page, origins: dict[str, str]) -> None:
    open_site(page, origins["site"] + "/fr.html")
    related = page.get_by_role("complementary", name="À lire aussi", exact=True)
    check_heading(page, related, "À lire aussi", "fr")
    check_list(related, FRENCH_LIST, "fr")
    assert [i for i, *_ in FRENCH_LIST] == api_ids(origins["api"], "/v1/articles/fr-coup/related?k=5")
    # Keyword pages: three French articles of five, so the heading is French; items keep their lang.
    keyword = page.get_by_role("complementary", name="Plus sur Mali", exact=True)
    check_heading(page, keyword, "Plus sur Mali", "fr")
    ids = api_ids(origins["api"], "/v1/keywords/Mali/articles?k=10")
    assert sorted(ids) == sorted(["en-coup", "en-elections", "fr-elections", "fr-sanctions", "fr-coup"])
    items = keyword.get_by_role("listitem")
    expect(items).to_have_count(len(ids))
    for item, article_id in zip(items.all(), ids, strict=True):
        expect(item).to_have_attribute("lang", BY_ID[article_id]["language"])
        expect(item.get_by_role("link", name=name_of(BY_ID[article_id]), exact=True)).to_have_count(1)
    # Two fragments on one page: two distinct ids.
    assert related.get_attribute("aria-labelledby") != keyword.get_attribute("aria-labelledby")


FETCH = """async (url) => {
  try {
    const first = await fetch(url, {cache: "no-store"});
    const etag = first.headers.get("ETag");
    const again = await fetch(url, {cache: "no-store", headers: {"If-None-Match": etag}});
    return ["ok", first.status, etag, again.status];
  } catch (error) {
    return ["rejected", error.name];
  }
}"""


def test_cors_lets_the_allowed_site_in_and_keeps_others_out(page: Page, origins: dict[str, str]) -> None:
    api = origins["api"]
    url = api + "/v1/articles/en-coup/related.html?k=5"
    with urllib.request.urlopen(url, timeout=10) as response:
        etag = response.headers["ETag"]
    # The allowed site reads the fragment, its exposed ETag, and revalidates (a preflighted header).
    page.goto(origins["site"] + "/en.html")
    assert page.evaluate(FETCH, url) == ["ok", 200, etag, 304]
    # Errors carry the CORS headers too, so the site can tell a missing article from a blocked call.
    missing = "async (url) => { try { return (await fetch(url)).status } catch (e) { return e.name } }"
    assert page.evaluate(missing, api + "/v1/articles/nope/related.html") == 404
    assert page.evaluate(missing, api + "/v1/articles/en-coup/related.html?k=0") == 422

    # Another origin: the same page, the same script, and nothing shows.
    page.goto(origins["elsewhere"] + "/en.html")
    outcome = page.evaluate("window.seealso")
    assert outcome.startswith("failed: TypeError"), outcome
    assert page.locator("[data-seealso]").inner_html() == ""
    expect(page.get_by_role("complementary")).to_have_count(0)
    assert page.evaluate(FETCH, url) == ["rejected", "TypeError"]
    assert page.evaluate(missing, api + "/v1/articles/nope/related.html") == "TypeError"


TIE = """
import re, sys
from seealso.service import fragment
items = [{"language": lang, "title": lang, "url": "https://" + lang + ".example/", "translations": []}
         for lang in ("en", "fr")]
html = fragment.render({"keyword": "Mali", "items": items}, "keyword").decode()
print(re.search("<h2[^>]*>(.*)</h2>", html).group(1))
"""


def test_a_keyword_fragment_is_the_same_in_every_process() -> None:
    """One English and one French item: every worker must render the same heading (and ETag)."""
    headings = set()
    for seed in ("0", "1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", TIE], env=env, capture_output=True, text=True, check=True
        )
        headings.add(done.stdout.strip())
    assert headings == {"More on Mali"}  # a tie goes to the first item's language
