"""Keyword aliases editors confirm: two keywords become one (under the more used one's key), each
article keeps its spelling, reindexing keeps the group, and a keyword can leave it again."""

from __future__ import annotations

import pytest

from seealso.embeddings.hashing import HashingEmbedder
from seealso.indexer.article import parse_article
from seealso.indexer.runner import upsert_articles
from seealso.indexer.store import Store

RECORDS = [
    {"id": "en-1", "title": "ECOWAS summit", "body": "ECOWAS leaders meet", "keywords": ["ECOWAS", "Mali"]},
    {"id": "en-2", "title": "ECOWAS sanctions", "body": "ECOWAS sanctions Niger", "keywords": ["ECOWAS"]},
    {"id": "fr-1", "title": "Sommet de la CEDEAO", "body": "la CEDEAO se réunit", "keywords": ["CEDEAO"], "language": "fr"},
    {"id": "both", "title": "ECOWAS / CEDEAO", "body": "ECOWAS CEDEAO", "keywords": ["ECOWAS", "CEDEAO"]},
    {"id": "cote", "title": "Abidjan", "body": "Abidjan", "keywords": ["Cote d'Ivoire"]},
]  # fmt: skip


@pytest.fixture
def indexed(store: Store, embedder: HashingEmbedder) -> Store:
    upsert_articles(store, embedder, [parse_article(r) for r in RECORDS])
    return store


def vids(store: Store, *ids: str) -> list[int]:
    return sorted(store.catalog.get(i).vid for i in ids)  # type: ignore[union-attr]


def test_a_confirmed_alias_makes_one_keyword_that_reindexing_keeps(
    indexed: Store, embedder: HashingEmbedder
) -> None:
    store, seq = indexed, indexed.catalog.seq()
    store.catalog.confirm_alias("cedeao", "ECOWAS", "editor")
    assert store.catalog.seq() == seq + 1  # the articles whose keys changed are logged
    assert store.catalog.alias_groups() == {"ecowas": ["cedeao"]}  # ECOWAS, the more used, leads
    assert store.catalog.canonical_key("CEDEAO") == "ecowas"
    assert store.catalog.vids_with_keyword("CEDEAO") == vids(store, "en-1", "en-2", "fr-1", "both")
    assert store.catalog.keyword_names("cedeao") == {"en": "ECOWAS", "fr": "CEDEAO"}
    assert store.catalog.keyword_name("ecowas", "fr") == "CEDEAO"
    assert "cedeao" not in store.catalog.keyword_keys()
    # A new article tagged with the alias joins the group; the site's records are kept as sent.
    upsert_articles(store, embedder, [parse_article({"id": "fr-2", "title": "CEDEAO", "body": "CEDEAO Niamey",
                                                     "keywords": ["CEDEAO"], "language": "fr"})])  # fmt: skip
    assert vids(store, "fr-2")[0] in store.catalog.vids_with_keyword("ECOWAS")
    assert store.catalog.get("fr-2").article.keywords == ("CEDEAO",)  # type: ignore[union-attr]


def test_a_keyword_leaves_its_group(indexed: Store) -> None:
    store = indexed
    store.catalog.confirm_alias("ECOWAS", "CEDEAO", "editor")
    store.catalog.confirm_alias("ECOWAS", "cote d'ivoire", "editor")  # a mistake, taken back below
    assert store.catalog.alias_groups() == {"ecowas": ["cedeao", "cote d'ivoire"]}
    store.catalog.separate_alias("Cote d'Ivoire", "editor")
    assert store.catalog.alias_groups() == {"ecowas": ["cedeao"]}
    assert store.catalog.vids_with_keyword("cote d'ivoire") == vids(store, "cote")
    # The group's own keyword leaves: the rest is a keyword of its own again.
    store.catalog.separate_alias("ECOWAS", "editor")
    assert store.catalog.alias_groups() == {}
    assert store.catalog.vids_with_keyword("ECOWAS") == vids(store, "en-1", "en-2", "both")
    # "both" carried the two: once merged it kept one row, so it returns under one of them.
    assert vids(store, "fr-1")[0] in store.catalog.vids_with_keyword("CEDEAO")


def test_a_rejected_pair_is_kept_and_confirming_again_changes_nothing(indexed: Store) -> None:
    store, seq = indexed, indexed.catalog.seq()
    store.catalog.reject_alias("Mali", "ECOWAS", "editor")
    assert store.catalog.rejected_aliases() == {("ecowas", "mali")} and store.catalog.seq() == seq
    store.catalog.confirm_alias("ECOWAS", "CEDEAO", "editor")
    again = store.catalog.seq()
    store.catalog.confirm_alias("CEDEAO", "ECOWAS", "editor")
    assert store.catalog.seq() == again
