from __future__ import annotations

import pytest

from indexer.article import parse_article
from seealso.errors import InvalidArticle


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
