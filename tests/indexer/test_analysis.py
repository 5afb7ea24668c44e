"""Names an editor trusts, and the full-text index that finds one-word and name queries."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from seealso.indexer.analysis import article_names, names, terms
from seealso.indexer.article import parse_article
from seealso.indexer.catalog import Catalog, Write


def test_names_are_whole_and_real() -> None:
    found = names(
        "On Tuesday, the United Nations said Mali's junta met envoys in Côte d'Ivoire and at the Bank "
        "of England. The Banque de France et l'Union européenne ont parlé, said Mr Keita in January."
    )
    assert set(found) == {
        "united nations", "mali", "côte d'ivoire", "bank of england", "banque de france", "union", "keita"
    }  # fmt: skip


def test_a_search_text_s_first_word_may_be_a_name() -> None:
    assert set(names(" Bamako hotel siege")) == {"bamako"}  # a search is not a sentence: see Ranker.search
    assert names("Bamako hotel siege") == {}


def test_punctuation_ends_a_name() -> None:
    assert set(names("Troops left Mali, Burkina Faso and Niger (Niamey) in 2023.")) == {
        "mali", "burkina faso", "niger", "niamey"
    }  # fmt: skip


def test_a_sentence_start_and_a_headline_are_not_names() -> None:
    assert names("Operation ended. Analysis: Soldiers left. « Le président part », dit-il.") == {}
    article = parse_article(
        {"id": "a", "title": "Gold rush in Mali", "summary": "Miners arrive", "body": "x"}
    )
    assert set(article_names(article)) == {"mali"}  # "Miners" starts the standfirst


@given(st.text(alphabet=st.sampled_from(list("ab AB'.-:\u2019«»é")), max_size=60))
def test_names_never_fail_and_are_folded(text: str) -> None:
    for name in names(text):
        assert name == name.casefold() and name.strip() == name and "  " not in name
        assert name.split()[-1] not in {"of", "de", "d'"}


def test_full_text_search_finds_words_and_names_by_bm25(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    records = [
        {"id": "f1", "title": "Football final", "body": "The football final was football all day."},
        {"id": "f2", "title": "A match", "body": "A quiet football match."},
        {"id": "c1", "title": "Le cacao", "body": "Le prix du cacao monte.", "language": "fr"},
        {"id": "u1", "title": "Envoys meet", "body": "Delegates met at the United Nations."},
    ]
    vector = [1.0, 0.0]
    catalog.write([Write(parse_article(r), "t", "r", vector) for r in records])  # type: ignore[arg-type]
    vid = {r["id"]: catalog.get(str(r["id"])).vid for r in records}  # type: ignore[union-attr]
    found = catalog.lexical_search(terms("football", "en"), [], 10)
    assert [v for v, _ in found] == [vid["f1"], vid["f2"]]  # more often, shorter: first
    assert [v for v, _ in catalog.lexical_search(terms("cacao", "fr"), [], 10)] == [vid["c1"]]
    assert [v for v, _ in catalog.lexical_search([], ["united nations"], 10)] == [vid["u1"]]
    assert catalog.lexical_search(['"quoted" OR x'], [], 10) == []  # words are quoted, not syntax
    catalog.write(deletes=["f1"])
    assert [v for v, _ in catalog.lexical_search(terms("football", "en"), [], 10)] == [vid["f2"]]
    catalog.close()
