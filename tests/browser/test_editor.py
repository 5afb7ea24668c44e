"""The editor page in real headless Chromium (Playwright) against a real `seealso serve` process.

Each test works on its own articles, so they share one server. The API is read over HTTP after
each change, to check that what the editor did is what readers get.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from seealso.embeddings.hashing import HashingEmbedder
from seealso.indexer.reader import read_articles
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store
from tests.browser.conftest import without_chromium
from tests.service.test_app import NEUTRAL_RULES, free_port, serving

pytestmark = [pytest.mark.browser, without_chromium]
playwright = pytest.importorskip("playwright.sync_api")
Page = playwright.Page
expect = playwright.expect

XSS = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> Bamako'
ARTICLES = [
    {"id": "mali-1", "title": "Soldiers seize power in Bamako", "body": "Mali junta coup soldiers Bamako president arrested", "keywords": ["Mali", "coup"]},
    {"id": "mali-2", "title": "Mali junta promises elections", "body": "Mali junta coup transition Bamako elections president", "keywords": ["Mali", "junta"]},
    {"id": "mali-3", "title": "Sanctions on the Mali junta", "body": "ECOWAS sanctions Mali junta Bamako coup president", "keywords": ["Mali", "ECOWAS"]},
    {"id": "mali-4", "title": "Bamako after the coup", "body": "Mali junta Bamako coup soldiers president streets", "keywords": ["Mali"]},
    {"id": "mali-5", "title": "The junta and the press in Mali", "body": "Mali junta journalists press Bamako coup", "keywords": ["Mali", "press"]},
    {"id": "niger-1", "title": "Coup in Niamey", "body": "Niger junta coup soldiers Niamey president", "keywords": ["Niger", "coup"]},
    {"id": "cocoa-1", "title": "Cocoa prices soar", "body": "cocoa prices farmers harvest chocolate Abidjan", "keywords": ["cocoa"]},
    {"id": "cocoa-2", "title": "Chocolate makers pay more for cocoa", "body": "cocoa chocolate makers prices harvest farmers", "keywords": ["cocoa"]},
    {"id": "seine", "title": "Swimming in the Seine", "body": "Paris olympics swimmers river Seine water quality", "keywords": ["Olympics"]},
    {"id": "xss", "title": XSS, "body": "Mali junta Bamako coup", "keywords": ["Mali"]},
    {"id": "untagged", "title": "Journalists held in Bamako", "body": "Mali junta Bamako press journalists coup"},
    {"id": "cedeao", "title": "La CEDEAO sanctionne la junte", "body": "ECOWAS sanctions Mali junta Bamako coup president", "keywords": ["CEDEAO"], "language": "fr"},
]  # fmt: skip
TOKEN = "browser-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("editor")
    source = root / "articles.jsonl"
    source.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES))
    store = Store.open(root / "data", create=True)
    index_articles(store, HashingEmbedder(64), read_articles(str(source)))
    store.close()
    env = {
        **os.environ, **NEUTRAL_RULES,
        "SEEALSO_PORT": str(free_port()), "SEEALSO_DATA_DIR": str(root / "data"), "SEEALSO_MODEL": "test/hashing",
        "SEEALSO_API_TOKEN": TOKEN, "SEEALSO_EDITOR_USERS": json.dumps({"alice": "wonderland"}),
        # Keyword statistics follow every write: a test reads suggestions right after a change.
        "SEEALSO_KEYWORD_REFRESH_SECONDS": "0",
    }  # fmt: skip
    with serving(env) as base:
        yield base


@pytest.fixture
def page(browser, server: str) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=server)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in(page: Page, next_path: str = "/editor") -> None:
    page.goto("/editor/login?" + urllib.parse.urlencode({"next": next_path}))
    page.get_by_label("Name").fill("alice")
    page.get_by_label("Password").fill("wonderland")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()


def api_items(server: str, path: str) -> list[dict[str, object]]:
    with urllib.request.urlopen(server + path, timeout=10) as response:
        return json.load(response)["items"]


def related(server: str, article_id: str, k: int = 5) -> list[tuple[str, str]]:
    items = api_items(server, f"/v1/articles/{urllib.parse.quote(article_id, safe='')}/related?k={k}")
    return [(str(i["id"]), str(i["origin"])) for i in items]


def listed(page: Page) -> list[str]:
    return page.locator("table.items tr.item").evaluate_all("items => items.map(i => i.dataset.id)")


def test_reading_needs_a_sign_in_and_a_wrong_password_is_refused(page: Page) -> None:
    page.goto("/editor/article?id=mali-1")
    expect(page).to_have_url(re.compile(r"/editor/login\?next="))
    page.get_by_label("Name").fill("alice")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("wrong name or password")
    page.get_by_label("Password").fill("wonderland")
    page.get_by_label("Name").fill("alice")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/editor/article\?id=mali-1$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Soldiers seize power in Bamako")


def test_search_by_words_and_by_id(page: Page) -> None:
    sign_in(page)
    page.get_by_role("searchbox").fill("cocoa chocolate prices")
    page.get_by_role("button", name="Find").click()
    results = page.locator("ol.results a")
    expect(results.first).to_have_text(re.compile("cocoa|Cocoa"))
    page.get_by_role("searchbox").fill("seine")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Swimming in the Seine")


def test_pin_shows_in_the_page_and_the_api_and_undo_restores(page: Page, server: str) -> None:
    sign_in(page, "/editor/article?id=mali-1")
    before = related(server, "mali-1")
    assert listed(page)[:5] == [i for i, _ in before]
    # the article and its list, beside the runners-up
    assert page.locator(".map svg g.point:not(.other) circle").count() == 1 + len(listed(page))
    third = page.locator("tr.item").nth(2)
    target = third.get_attribute("data-id")
    third.get_by_label("Position").fill("1")
    third.get_by_role("button", name=re.compile("^Pin ")).click()
    expect(page.get_by_role("status")).to_contain_text(f"Pinned {target} at position 1")
    assert listed(page)[0] == target
    expect(page.locator("tr.item").first.locator(".badge")).to_have_text("pinned by an editor")
    assert related(server, "mali-1")[0] == (target, "pinned")
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status")).to_contain_text("Undone")
    assert related(server, "mali-1") == before
    assert listed(page)[:5] == [i for i, _ in before]


def test_block_then_remove_the_block(page: Page, server: str) -> None:
    sign_in(page, "/editor/article?id=mali-2")
    first = page.locator("tr.item").first.get_attribute("data-id")
    page.locator("tr.item").first.get_by_role(
        "button", name=re.compile("^Block (?!.* from every list$)")
    ).click()
    expect(page.get_by_role("status")).to_contain_text(f"Blocked {first}")
    assert first not in listed(page)
    assert first not in [i for i, _ in related(server, "mali-2", k=9)]
    row = page.locator("table.overrides tr", has_text=first)
    expect(row).to_contain_text("block")
    row.get_by_role("button", name=re.compile("^Remove")).click()
    expect(page.get_by_role("status")).to_contain_text(f"Removed the override of {first}")
    assert first in [i for i, _ in related(server, "mali-2", k=9)]


def test_link_an_article_found_by_search(page: Page, server: str) -> None:
    sign_in(page, "/editor/article?id=mali-3&k=3")
    assert "seine" not in listed(page)
    page.get_by_label("Find an article to link").fill("Paris olympics swimmers")
    page.get_by_label("Find an article to link").press("Enter")
    found = page.locator("ol.results li", has_text="Swimming in the Seine")
    found.get_by_label("Position").fill("2")
    found.get_by_role("button", name="Link Swimming in the Seine").click()
    expect(page.get_by_role("status")).to_contain_text("Linked seine at position 2")
    assert listed(page)[1] == "seine"
    assert related(server, "mali-3")[1] == ("seine", "linked")


def test_keyword_page_pin_and_related_keyword_block(page: Page, server: str) -> None:
    sign_in(page, "/editor/keyword?name=cocoa")
    page.get_by_label("Find an article to link").fill("Paris olympics swimmers")
    page.get_by_label("Find an article to link").press("Enter")
    page.locator("ol.results li", has_text="Swimming in the Seine").get_by_role(
        "button", name=re.compile("^Link")
    ).click()
    expect(page.get_by_role("status")).to_contain_text("Linked seine")
    articles = api_items(server, "/v1/keywords/cocoa/articles?k=5")
    assert ("seine", "linked") in [(a["id"], a["origin"]) for a in articles]
    keywords = [k["keyword"] for k in api_items(server, "/v1/keywords/cocoa/related?k=5")]
    block = page.get_by_role("button", name=f"Block keyword {keywords[0]}")
    block.click()
    expect(page.get_by_role("status")).to_contain_text("Blocked")
    assert keywords[0] not in [k["keyword"] for k in api_items(server, "/v1/keywords/cocoa/related?k=5")]


def test_article_text_is_shown_not_run(page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, "/editor/article?id=xss")
    expect(page.get_by_role("heading", level=1)).to_have_text(XSS)
    page.goto("/editor/article?id=mali-4&k=10")
    expect(page.locator("tr.item[data-id=xss] .head a")).to_have_text(XSS)
    page.goto("/editor?q=" + urllib.parse.quote("junta Bamako"))
    assert page.evaluate("window.pwned") is None
    assert page.locator("script").count() == 0 and page.locator("img").count() == 0
    assert dialogs == []


def tab_to(page: Page, target, limit: int = 80) -> None:  # type: ignore[no-untyped-def]
    """Press Tab until `target` has the focus (as someone without a mouse would)."""
    for _ in range(limit):
        if target.evaluate("e => e === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


def test_keyboard_only(page: Page, server: str) -> None:
    page.goto("/editor/login?next=%2Feditor")
    tab_to(page, page.get_by_label("Name"))
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type("wonderland")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Signed in as")).to_be_visible()
    tab_to(page, page.get_by_role("searchbox"))
    page.keyboard.type("press journalists")
    page.keyboard.press("Enter")
    tab_to(page, page.locator("ol.results a", has_text="The junta and the press in Mali"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("The junta and the press in Mali")
    second = page.locator("tr.item").nth(1)
    target = second.get_attribute("data-id")
    tab_to(page, second.get_by_label("Position"))
    page.keyboard.press("Control+A")
    page.keyboard.type("1")
    tab_to(page, second.get_by_role("button", name=re.compile("^Pin ")), limit=6)  # past the date's fields
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(f"Pinned {target} at position 1")
    assert related(server, "mali-5")[0] == (target, "pinned")
    tab_to(page, page.get_by_role("button", name="Undo"), limit=1)  # the focus is on it after a change
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Undone")
    assert related(server, "mali-5")[0][1] == "automatic"


def test_check_links_flags_weak_ones(page: Page) -> None:
    sign_in(page, "/editor/check")
    page.get_by_label("Links").fill("source,target\nmali-1,mali-4\nmali-1,cocoa-2\nmali-1,ghost\n")
    page.get_by_role("button", name="Check").click()
    rows = page.locator("table.checks tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_have_class("verdict-weak")
    expect(rows.nth(2)).to_contain_text("unknown target 'ghost'")
    expect(page.locator(".summary")).to_contain_text("3 links")


def test_audit_log_lists_changes_and_undoes_them(page: Page, server: str) -> None:
    sign_in(page, "/editor/article?id=niger-1")
    page.locator("tr.item").first.get_by_role(
        "button", name=re.compile("^Block (?!.* from every list$)")
    ).click()
    expect(page.get_by_role("status")).to_contain_text("Blocked")
    page.get_by_role("link", name="Audit log").click()
    overrides = page.get_by_role("region", name="Overrides")
    row = overrides.locator("table tbody tr").first
    expect(row).to_contain_text("alice")
    expect(row).to_contain_text("niger-1")
    row.get_by_role("button", name=re.compile("^Undo")).click()
    expect(page.get_by_role("region", name="Overrides").locator("table tbody tr").first).to_contain_text(
        "undo"
    )
    # The writes: the site's first index, by the batch run, filtered by who wrote.
    writes = page.get_by_role("region", name="Articles and keywords")
    writes.get_by_label("Who").select_option("batch")
    writes.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"who=batch"))
    first = page.get_by_role("region", name="Articles and keywords").locator("table tbody tr").first
    expect(first).to_contain_text("batch")
    expect(first).to_contain_text("added")
    assert all(origin == "automatic" for _, origin in related(server, "niger-1"))


def policy_violations(page: Page) -> list[str]:
    """What the browser refuses under the pages' Content-Security-Policy, as it reports it."""
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    return refused


def test_the_pages_keep_to_their_content_security_policy(page: Page) -> None:
    refused = policy_violations(page)
    sign_in(page, "/editor/article?id=mali-1")
    for path in ("/editor", "/editor?q=junta", "/editor/article?id=mali-1&find=cocoa", "/editor/keyword?name=Mali",
                 "/editor/check", "/editor/audit", "/editor/aliases", "/editor/article?id=untagged"):  # fmt: skip
        response = page.goto(path)
        assert response is not None and "script-src" not in response.headers["content-security-policy"]
        expect(page.locator("main")).to_be_visible()
    page.goto("/editor/article?id=mali-1")
    expect(page.locator("tr.item").first).to_be_visible()
    assert refused == []
    track, fill = (
        page.locator(".bar .track").first.bounding_box(),
        page.locator(".bar .fill").first.bounding_box(),
    )
    assert track and fill and 0 < fill["width"] <= track["width"]  # the score bar is drawn without a style


def test_the_docs_render_offline(page: Page, server: str) -> None:
    refused = policy_violations(page)
    elsewhere: list[str] = []
    page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith(server) else None)
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("seealso")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    related = re.compile(r"^/v1/articles/\{article_id\}/related$")
    assert page.locator(".opblock-summary-path", has_text=related).count() == 1
    assert elsewhere == [] and refused == []


def test_suggested_keywords_are_accepted_rejected_and_taken_back(page: Page, server: str) -> None:
    sign_in(page, "/editor/article?id=untagged")
    keywords = page.get_by_role("region", name="Keywords")
    expect(keywords.get_by_text("This article has no keywords.")).to_be_visible()
    # The add form completes from the site's keywords (a datalist: no script).
    expect(keywords.locator("datalist#keyword-choices option[value='Mali']")).to_have_count(1)
    assert keywords.get_by_label("Add a keyword").get_attribute("list") == "keyword-choices"
    rows = keywords.locator("table.suggestions tbody tr")
    first = rows.first.locator("th").inner_text()
    assert first == "Mali"
    expect(rows.first).to_contain_text("of its 20 nearest articles carry it")
    keywords.get_by_role("button", name="Accept the keyword Mali").click()
    expect(keywords.locator("ul.tags li")).to_have_text(["Mali (added by an editor) Remove"])
    with urllib.request.urlopen(server + "/v1/keywords/mali/articles?k=20", timeout=10) as response:
        page_body = json.load(response)
    assert page_body["tagged"] == 1 + sum("Mali" in a.get("keywords", []) for a in ARTICLES)
    second = rows.first.locator("th").inner_text()
    assert second != "Mali"
    keywords.get_by_role("button", name=f"Reject the keyword {second}").click()
    expect(keywords.locator(".fix")).to_contain_text(f"{second} not to be suggested by alice")
    assert second not in rows.locator("th").all_inner_texts()
    keywords.get_by_role("button", name=f"Take back the fix of {second}").click()
    expect(keywords.locator(".fix")).to_have_count(0)
    assert second in rows.locator("th").all_inner_texts()
    keywords.get_by_label("Add a keyword").fill("Press freedom")
    keywords.get_by_role("button", name="Add", exact=True).click()
    expect(keywords.locator("ul.tags a.tag")).to_have_text(["Mali", "Press freedom"])
    keywords.get_by_role("button", name="Remove the keyword Mali").click()
    expect(keywords.locator("ul.tags a.tag")).to_have_text(["Press freedom"])


def test_aliases_are_confirmed_into_one_keyword_page_and_separated(page: Page, server: str) -> None:
    sign_in(page, "/editor/aliases")
    suggested = page.get_by_role("region", name="Suggested")
    suggested.get_by_role(
        "button", name=re.compile("^Confirm (ECOWAS and CEDEAO|CEDEAO and ECOWAS) as")
    ).click()
    confirmed = page.get_by_role("region", name="Confirmed")
    # One article each: the group goes by the first key alphabetically, each language by its name.
    expect(confirmed.locator("li")).to_contain_text("CEDEAO: ECOWAS (en), CEDEAO (fr)")
    expect(confirmed.locator("li [lang=fr]")).to_have_text("CEDEAO")
    with urllib.request.urlopen(server + "/v1/keywords/CEDEAO/articles", timeout=10) as response:
        body = json.load(response)
    assert (body["keyword"], body["tagged"]) == ("CEDEAO", 2)
    pair = re.compile("^Confirm (ECOWAS and CEDEAO|CEDEAO and ECOWAS) as")
    expect(page.get_by_role("region", name="Suggested").get_by_role("button", name=pair)).to_have_count(0)
    confirmed.get_by_role("button", name="Separate ecowas from CEDEAO").click()
    expect(page.get_by_role("region", name="Confirmed")).to_contain_text("None yet.")
    with urllib.request.urlopen(server + "/v1/keywords/CEDEAO/articles", timeout=10) as response:
        assert json.load(response)["tagged"] == 1
    # A rejection, and taking it back.
    suggested = page.get_by_role("region", name="Suggested")
    suggested.get_by_role(
        "button", name=re.compile("^Reject (ECOWAS and CEDEAO|CEDEAO and ECOWAS) as")
    ).click()
    rejected = page.get_by_role("region", name="Rejected")
    expect(rejected.locator("li")).to_contain_text("cedeao · ecowas")
    rejected.get_by_role("button", name="Take back the rejection of cedeao and ecowas").click()
    expect(page.get_by_role("region", name="Rejected")).to_have_count(0)


def test_the_desk_and_an_article_fit_a_phone(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=server, viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, "/editor")
    for path in (
        "/editor",
        "/editor/article?id=untagged",
        "/editor/aliases",
        "/editor/audit",
        "/editor/overview",
    ):
        page.goto(path)
        expect(page.locator("main")).to_be_visible()
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, (path, wide)
    context.close()


def test_show_more_lengthens_a_list(page: Page) -> None:
    sign_in(page, "/editor/article?id=mali-1")
    assert len(listed(page)) == 10
    page.get_by_role("link", name="Show 10 more").click()
    expect(page).to_have_url(re.compile(r"k=20"))
    assert len(listed(page)) > 10
    expect(page.get_by_role("link", name=re.compile("^Show .* more$"))).to_have_count(0)  # all shown


def test_block_everywhere_from_a_row_then_let_it_back(page: Page, server: str) -> None:
    sign_in(page, "/editor/article?id=mali-4")
    showing = [a["id"] for a in ARTICLES if "niger-1" in [i for i, _ in related(server, str(a["id"]), 10)]]
    assert len(showing) >= 3
    row = page.locator("table.items tr.item[data-id=niger-1]")
    row.get_by_role("button", name=re.compile("from every list$")).click()
    expect(page.get_by_role("status")).to_contain_text("Blocked niger-1 from every list")
    assert "niger-1" not in listed(page)
    for source in showing:
        assert "niger-1" not in [i for i, _ in related(server, source, 10)], source
    assert "niger-1" not in [a["id"] for a in api_items(server, "/v1/keywords/coup/articles?k=10")]
    page.get_by_role("link", name="Desk").click()
    desk = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile("^Kept out of every list"))
    )
    desk.get_by_role("link", name="niger-1").click()
    expect(page.get_by_text(re.compile("^Kept out of every list by alice"))).to_be_visible()
    page.get_by_role("button", name="Let it back into the lists").click()
    expect(page.get_by_role("status")).to_contain_text("Removed the override of niger-1 in every list")
    assert [
        a["id"] for a in ARTICLES if "niger-1" in [i for i, _ in related(server, str(a["id"]), 10)]
    ] == showing


def test_pin_for_every_article_with_a_keyword_and_take_it_back(page: Page, server: str) -> None:
    sign_in(page, "/editor/keyword?name=coup")
    options = page.locator("form.bulk select[name=target] option")
    target = options.nth(3).get_attribute("value")
    assert target not in ("mali-1", "niger-1")
    page.locator("form.bulk select[name=target]").select_option(target)
    page.get_by_role("button", name=re.compile("^Pin for all 2 articles tagged coup")).click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Pinned {target} at position 1 in the related lists of 2 articles"
    )
    for source in ("mali-1", "niger-1"):
        assert related(server, source, 3)[0] == (target, "pinned")
    page.locator("form.bulk select[name=target]").select_option(target)
    page.get_by_role("button", name="Take those pins back").click()
    expect(page.get_by_role("status")).to_contain_text("Removed the override of")
    for source in ("mali-1", "niger-1"):
        assert (target, "pinned") not in related(server, source, 3)


def test_a_related_keyword_is_linked_with_the_sites_keywords_offered(page: Page, server: str) -> None:
    sign_in(page, "/editor/keyword?name=press")
    field = page.get_by_label("Link a keyword")
    choices = page.locator("datalist#keyword-choices option").evaluate_all("o => o.map(x => x.value)")
    assert field.get_attribute("list") == "keyword-choices" and {"cocoa", "Mali", "Olympics"} <= set(choices)
    field.fill("Olympics")
    field.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Linked olympics")
    linked = [(k["keyword"], k["origin"]) for k in api_items(server, "/v1/keywords/press/related?k=5")]
    assert ("Olympics", "linked") in linked


@pytest.mark.parametrize(("locale", "babel_locale"), [("fr-FR", "fr_FR"), ("en-US", "en_US")])
def test_dates_are_in_the_editors_language(browser, server: str, locale: str, babel_locale: str) -> None:  # type: ignore[no-untyped-def]
    from babel.dates import format_date

    context = browser.new_context(base_url=server, locale=locale)
    page = context.new_page()
    sign_in(page, "/editor/audit")
    today = format_date(datetime.now(UTC).date(), "medium", locale=babel_locale)
    expect(page.locator("main time").first).to_contain_text(today)
    context.close()


def test_the_readers_preview_shows_the_list_as_the_fragment_does(page: Page, server: str) -> None:
    sign_in(page, "/editor/article?id=cocoa-1")
    page.get_by_text("As readers get it").click()
    titles = page.locator(".preview .seealso-title").all_inner_texts()
    with urllib.request.urlopen(server + "/v1/articles/cocoa-1/related?k=10", timeout=10) as response:
        assert titles == [i["title"] for i in json.load(response)["items"]]
    expect(page.locator(".preview aside.seealso")).to_have_attribute("lang", "en")
