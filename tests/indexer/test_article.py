from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seealso.errors import InvalidArticle
from seealso.indexer.article import parse_article


def test_full_record_is_normalized() -> None:
    article = parse_article(
        {
            "id": "politique/mali:2021 édition #3?",
            "title": "  Coup in Mali ",
            "text": "Soldiers took power in Bamako.",
            "keywords": ["Mali", " mali ", "Bamako", ""],
            "language": "FR",
            "published_at": "2021-05-24T09:30:00+02:00",
            "updated_at": "2021-05-25",
            "section": "africa",
            "url": "https://example-news.org/fr/mali",
            "ignored_field": 42,
        }
    )
    assert article.id == "politique/mali:2021 édition #3?"
    assert article.title == "Coup in Mali"
    assert article.body == "Soldiers took power in Bamako."
    assert article.keywords == ("Mali", "Bamako")
    assert article.language == "fr"
    assert article.published_at == "2021-05-24T07:30:00Z"
    assert article.updated_at == "2021-05-25T00:00:00Z"


def test_defaults() -> None:
    article = parse_article({"id": "a", "summary": "Only a summary"})
    assert (article.language, article.keywords, article.published_at) == ("en", (), None)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"title": "No id"}, "id: is required"),
        ({"id": 17, "title": "Numeric id"}, "id: Input should be a valid string"),
        ({"id": "  ", "title": "Blank id"}, "id: must not be blank"),
        ({"id": "a"}, "at least one of title, summary or body must be non-empty"),
        ({"id": "a", "title": "  ", "body": ""}, "at least one of title, summary or body must be non-empty"),
        ({"id": "a", "title": "t", "keywords": "Mali;Sahel"}, "keywords: must be a list of strings"),
        ({"id": "a", "title": "t", "language": "french"}, "language: must be a two-letter ISO 639-1 code"),
        ({"id": "a", "title": "t", "published_at": "last week"}, "published_at: not an ISO 8601 date"),
        ({"id": "a", "title": 5}, "title: Input should be a valid string"),
    ],
)
def test_invalid_records_say_why(record: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidArticle) as caught:
        parse_article(record)
    assert reason in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidArticle) as caught:
        parse_article({"id": "a", "title": "t", "language": "xyz", "published_at": "soon"})
    assert [r.split(":")[0] for r in caught.value.reasons] == ["language", "published_at"]
    assert caught.value.article_id == "a"


def test_text_hash_covers_only_embedded_text() -> None:
    base = {"id": "a", "title": "Title", "body": "Body"}
    a = parse_article(base)
    retagged = parse_article({**base, "keywords": ["Mali"], "section": "africa"})
    edited = parse_article({**base, "body": "Body, corrected"})
    assert a.text_hash("r1") == retagged.text_hash("r1")
    assert a.record_hash() != retagged.record_hash()
    assert a.text_hash("r1") != edited.text_hash("r1")
    assert a.text_hash("r1") != a.text_hash("r2")  # a new embedding recipe re-embeds everything


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("title", "Coup\ud800 in Mali", "title: contains U+D800, a lone surrogate (at character 5)"),
        ("body", "abc\udcff", "body: contains U+DCFF, a lone surrogate"),
        ("id", "a\x00b", "id: contains a NUL character (at character 2)"),
        ("keywords", ["Mali", "\udc80"], "keywords: contains U+DC80"),
        ("section", "afri\x00ca", "section: contains a NUL character"),
    ],
)
def test_text_that_cannot_be_stored_is_refused(field: str, value: object, reason: str) -> None:
    with pytest.raises(InvalidArticle) as caught:
        parse_article({"id": "a", "title": "t", field: value})
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.cookie)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:x",
        "//example.org/path",
        "/fr/mali",
        "ftp://example.org/a",
        "https://",
        "http://[::1",
        "https://example.org/a b",
        "http://example.org:99999999/",
        "http://evil.example\\@good.example/",
    ],
)
def test_only_absolute_http_urls_are_accepted(url: str) -> None:
    with pytest.raises(InvalidArticle, match="url: must be an absolute http or https URL"):
        parse_article({"id": "a", "title": "t", "url": url})


@pytest.mark.parametrize(
    "url", ["https://example-news.org/fr/mali?x=1#top", "HTTP://EXAMPLE.ORG", "http://[::1]:8000/a"]
)
def test_web_urls_are_kept(url: str) -> None:
    assert parse_article({"id": "a", "title": "t", "url": f" {url} "}).url == url


@pytest.mark.parametrize(
    ("value", "stored"),
    [("0999-06-01", "0999-06-01T00:00:00Z"), ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z")],
)
def test_extreme_dates_are_stored_with_four_digit_years(value: str, stored: str) -> None:
    assert parse_article({"id": "a", "title": "t", "published_at": value}).published_at == stored


def test_a_date_outside_utc_years_is_refused() -> None:
    with pytest.raises(InvalidArticle, match="published_at: out of range"):
        parse_article({"id": "a", "title": "t", "published_at": "0001-01-01T00:00:00+01:00"})


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
FIELDS = ["id", "title", "summary", "body", "text", "url", "keywords", "section", "language", "published_at"]


@given(st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES | st.lists(st.text(), max_size=4), max_size=10))
def test_any_record_is_an_article_or_its_reasons(record: dict[str, object]) -> None:
    """Random unicode (surrogates and NUL included), types and nesting: validation either refuses
    with reasons or gives an article whose every text can be stored and hashed."""
    try:
        article = parse_article(record)
    except InvalidArticle as exc:
        assert exc.reasons and all(isinstance(r, str) and r for r in exc.reasons)
        return
    for value in (article.id, article.title, article.summary, article.body, *article.keywords):
        value.encode("utf-8")
        assert "\x00" not in value
    assert article.url is None or urlsplit(article.url).scheme.lower() in ("http", "https")
    assert article.published_at is None or len(article.published_at) == 20
    assert article.record_hash() and article.text_hash("recipe")
