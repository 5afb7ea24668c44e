"""The editor's desk: what needs attention (untagged articles with strong suggestions, weak manual
links, pins and links ending this week, aliases to decide, the newest articles), and finding a
keyword beside articles."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from seealso.config import Settings
from seealso.service.app import create_app
from tests.service.test_keywords import index_records

TOKEN = {"Authorization": "Bearer desk-test-token-0123456789"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=index_records(tmp_path), model="test/hashing", editor_public_read=True,
        api_token="desk-test-token-0123456789", min_score=0, diversity=0,
    )  # fmt: skip
    with TestClient(create_app(settings)) as client:
        yield client


def section(page: str, title: str) -> str:
    """The text of the desk's section whose heading starts with `title`."""
    found = re.search(rf"<h2 id=\"[^\"]+\">{re.escape(title)}.*?</section>", page, re.S)
    assert found, title
    return found.group(0)


def test_the_desk_lists_what_needs_attention(client: TestClient) -> None:
    soon = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    later = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    for target, action, until in (
        ("cocoa-1", "link", None),
        ("mali-2", "pin", soon),
        ("mali-3", "pin", later),
    ):
        body = {"target": target, "action": action, **({"expires_at": until} if until else {})}
        assert client.post("/v1/articles/mali-1/overrides", json=body, headers=TOKEN).status_code == 201
    page = client.get("/editor").text
    assert "<h1>Desk</h1>" in page
    untagged = section(page, "Untagged, with strong suggestions")
    assert "Untagged" in untagged and "mali-4" in untagged and re.search(r"Mali \(0\.\d\d\)", untagged)
    weak = section(page, "Weak manual links")
    assert "mali-1</a> → cocoa-1" in weak  # a link to another subject
    ending = section(page, "Pins and links ending this week")
    # A date ends with its day: the stamp shown is the next midnight, UTC.
    end = (datetime.fromisoformat(soon) + timedelta(days=1)).date().isoformat()
    shown = datetime.fromisoformat(end).strftime("%-d %b %Y")  # the default, British English
    assert (
        "pin of mali-2" in ending
        and f'ends <time datetime="{end}T00:00:00Z" lang="en-GB">{shown}, 00:00 UTC' in ending
    )
    assert "mali-3" not in ending
    newest = section(page, "Newest articles")
    assert newest.count("<li>") == 6 and "related" in newest


def test_finding_shows_keywords_beside_articles(client: TestClient) -> None:
    page = client.get("/editor", params={"q": "ecow"}).text
    keywords = section(page, "Keywords")
    assert "ECOWAS" in keywords and "2 articles" in keywords
    assert "<h1>Find</h1>" in page and "Untagged" not in page
    assert (
        'id="found-keywords"' not in client.get("/editor", params={"q": "zzzzqqq"}).text
    )  # no keyword is close
