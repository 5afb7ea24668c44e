"""Request bodies and response shapes of the HTTP API (the shapes document /docs)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

MAX_PAIRS = 1000


class Error(BaseModel):
    error: str = Field(description="A short code: not_found, invalid_request, unauthorized, ...")
    message: str
    details: list[dict[str, Any]] | None = None


class ArticleOut(BaseModel):
    id: str
    title: str
    summary: str
    url: str | None
    section: str | None
    language: str
    keywords: list[str]
    published_at: str | None


class ArticleDetail(ArticleOut):
    updated_at: str | None
    indexed_at: str


class Item(ArticleOut):
    score: float = Field(description="Relevance: higher is more related; the same score as check-links.")
    reasons: dict[str, Any] = Field(description="Why the item is there: similarity, shared keywords...")


class RelatedOut(BaseModel):
    article: ArticleOut
    items: list[Item]


class SearchOut(BaseModel):
    items: list[Item]


class KeywordArticlesOut(BaseModel):
    keyword: str
    tagged: int = Field(description="How many articles carry the keyword.")
    items: list[Item]


class RelatedKeyword(BaseModel):
    keyword: str
    score: float
    articles: int
    reasons: dict[str, Any]


class RelatedKeywordsOut(BaseModel):
    keyword: str
    items: list[RelatedKeyword]


class Pair(BaseModel):
    source: str = Field(min_length=1)
    target: str = Field(min_length=1)


class SimilarityIn(BaseModel):
    pairs: list[Pair] = Field(min_length=1, max_length=MAX_PAIRS)


class PairScore(BaseModel):
    source: str
    target: str
    score: float | None
    rank: int | None
    verdict: str = Field(description="strong, ok, weak, or error (with the reason)")
    reasons: str


class SimilarityOut(BaseModel):
    items: list[PairScore]


class Upserted(BaseModel):
    status: str = Field(description="added, updated or unchanged")
    article: ArticleDetail
