"""Editors' fixes of an article's keywords: applied at once, kept across reindexing, taken back,
and refused with a reason when they cannot be stored."""

from __future__ import annotations

import pytest

from seealso.embeddings.hashing import HashingEmbedder
from seealso.errors import ArticleNotFound, InvalidKeywordEdit
from seealso.indexer.article import parse_article
from seealso.indexer.runner import upsert_articles
from seealso.indexer.store import Store

RECORD = {"id": "a", "title": "Junta in Bamako", "body": "Mali junta Bamako", "keywords": ["Mali", "coup"]}


def index(store: Store, embedder: HashingEmbedder, record: dict[str, object]) -> str:
    return upsert_articles(store, embedder, [parse_article(record)]).summary()


@pytest.fixture
def indexed(store: Store, embedder: HashingEmbedder) -> Store:
    index(store, embedder, RECORD)
    index(store, embedder, {"id": "b", "title": "Cocoa", "body": "cocoa prices", "keywords": ["cocoa"]})
    return store


def carried(store: Store) -> tuple[str, ...]:
    entry = store.catalog.get("a")
    assert entry is not None
    return entry.article.keywords


def test_fixes_apply_at_once_and_survive_reindexing(indexed: Store, embedder: HashingEmbedder) -> None:
    store, seq = indexed, indexed.catalog.seq()
    store.catalog.edit_keyword("a", "  ECOWAS ", "add", "editor")
    store.catalog.edit_keyword("a", "COUP", "remove", "editor")
    assert carried(store) == ("Mali", "ECOWAS") and store.catalog.seq() == seq + 2
    assert store.catalog.vids_with_keyword("ecowas") == [store.catalog.get("a").vid]  # type: ignore[union-attr]
    assert store.catalog.vids_with_keyword("coup") == []
    assert store.catalog.given_keywords("a") == ("Mali", "coup")
    # The site sends the same record again: nothing to do, the fixes stay.
    assert "unchanged 1" in index(store, embedder, RECORD)
    assert carried(store) == ("Mali", "ECOWAS")
    # The site changes the article's keywords: its new ones, with the fixes applied.
    index(store, embedder, {**RECORD, "keywords": ["Mali", "coup", "Sahel"], "title": "Junta in Mali"})
    assert carried(store) == ("Mali", "Sahel", "ECOWAS")
    # Taken back, the fixes leave what the site sent.
    store.catalog.edit_keyword("a", "ecowas", None, "editor")
    store.catalog.edit_keyword("a", "coup", None, "editor")
    assert carried(store) == ("Mali", "coup", "Sahel") and store.catalog.keyword_edits("a") == []


def test_a_rejection_is_kept_without_changing_the_article(indexed: Store) -> None:
    seq = indexed.catalog.seq()
    indexed.catalog.edit_keyword("a", "Cocoa", "reject", "api:cms")
    assert indexed.catalog.seq() == seq and carried(indexed) == ("Mali", "coup")
    assert indexed.catalog.rejected_keywords("a") == {"cocoa"}
    [edit] = indexed.catalog.keyword_edits("a")
    assert (edit.keyword, edit.action, edit.author) == ("Cocoa", "reject", "api:cms")


def test_a_fix_that_cannot_be_stored_is_refused_and_changes_nothing(indexed: Store) -> None:
    seq = indexed.catalog.seq()
    for keyword, action, message in [
        ("Sahel", "tag", "action"), ("   ", "add", "keyword"), ("x\x00y", "add", "NUL"), ("x" * 201, "add", "200"),
    ]:  # fmt: skip
        with pytest.raises(InvalidKeywordEdit, match=message):
            indexed.catalog.edit_keyword("a", keyword, action, "editor")
    with pytest.raises(InvalidKeywordEdit, match="already carries 'MALI'"):
        indexed.catalog.edit_keyword("a", "MALI", "add", "editor")
    with pytest.raises(InvalidKeywordEdit, match="does not carry 'Sahel'"):
        indexed.catalog.edit_keyword("a", "Sahel", "remove", "editor")
    with pytest.raises(ArticleNotFound):
        indexed.catalog.edit_keyword("nope", "Sahel", "add", "editor")
    assert indexed.catalog.seq() == seq and indexed.catalog.keyword_edits("nope") == []
    assert carried(indexed) == ("Mali", "coup")
