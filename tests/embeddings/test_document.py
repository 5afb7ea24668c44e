from __future__ import annotations

import numpy as np
import pytest

from seealso.embeddings.document import DocumentRecipe, embed_articles, estimate_tokens
from seealso.embeddings.hashing import HashingEmbedder
from seealso.indexer.article import parse_article


def long_article(sentences: int) -> object:
    body = " ".join(f"Sentence number {i} tells one more fact about the story." for i in range(sentences))
    return parse_article({"id": "a", "title": "The headline", "summary": "The standfirst.", "body": body})


def test_lead_passage_starts_with_title_and_summary() -> None:
    passages = DocumentRecipe().passages(long_article(3), max_tokens=256)
    assert passages == [
        "The headline. The standfirst. Sentence number 0 tells one more fact about the story. "
        "Sentence number 1 tells one more fact about the story. "
        "Sentence number 2 tells one more fact about the story."
    ]


def test_long_bodies_are_cut_at_sentences_within_the_window() -> None:
    passages = DocumentRecipe(max_chunks=3).passages(long_article(100), max_tokens=128)
    assert len(passages) == 3
    assert all(estimate_tokens(p) <= 128 * 0.8 for p in passages)
    assert all(p.endswith("story.") for p in passages)
    assert passages[1].startswith("Sentence number")


def test_unspaced_scripts_are_cut_too() -> None:
    article = parse_article({"id": "z", "title": "标题", "body": "新闻" * 400})
    passages = DocumentRecipe(max_chunks=8).passages(article, max_tokens=100)
    assert len(passages) == 8
    assert all(estimate_tokens(p) <= 100 for p in passages)


def test_recipe_identity_changes_with_its_settings() -> None:
    assert DocumentRecipe().identity != DocumentRecipe(max_chunks=2).identity
    assert DocumentRecipe().identity != DocumentRecipe(lead_weight=2).identity


def test_article_vectors_are_unit_length_and_deterministic() -> None:
    embedder = HashingEmbedder(32)
    articles = [long_article(40), parse_article({"id": "b", "title": "Other words entirely"})]
    first = embed_articles(embedder, articles)
    again = embed_articles(HashingEmbedder(32), articles)
    assert first.shape == (2, 32)
    assert np.linalg.norm(first, axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)
    np.testing.assert_array_equal(first, again)
