"""Request bodies and response shapes of the HTTP API (the shapes document /docs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

MAX_PAIRS = 1000


class Error(BaseModel):
    error: str = Field(description="A short code: not_found, invalid_request, unauthorized, ...")
    message: str
    details: list[dict[str, Any]] | None = None


class Translation(BaseModel):
    id: str
    language: str
    url: str | None
    title: str


class ArticleOut(BaseModel):
    id: str
    title: str
    summary: str
    url: str | None
    section: str | None
    language: str
    language_source: Literal["detected", "default"] | None = Field(
        None,
        description="Only when the record gave no language: detected from its text, or the default "
        "(English) when the text was too short to tell.",
    )
    keywords: list[str]
    published_at: datetime | None = Field(description="When it was published (UTC).")
    image_url: str | None = Field(None, description="Its picture (http or https), when the site gave one.")
    kicker: str | None = Field(None, description="The label shown above its title, when the site gave one.")
    translations: list[Translation] = Field(
        default_factory=list,
        description="The same story in other languages: declared by the site, or found by seealso "
        "(a cross-lingual near-duplicate published within two days).",
    )


class ArticleDetail(ArticleOut):
    updated_at: datetime | None
    indexed_at: datetime


class Item(ArticleOut):
    score: float = Field(description="Relevance: higher is more related; the same score as check-links.")
    origin: str = Field(
        "automatic", description="automatic, or an editor's: pinned (at its position) or linked."
    )
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
    origin: str = "automatic"
    articles: int
    reasons: dict[str, Any]


class RelatedKeywordsOut(BaseModel):
    keyword: str
    items: list[RelatedKeyword]


class KeywordFound(BaseModel):
    keyword: str = Field(description="As the site usually writes it.")
    articles: int = Field(description="Articles that carry it (in `language`, when given).")
    languages: dict[str, int] = Field(description="Articles that carry it, by language.")
    match: Literal["exact", "prefix", "word", "fuzzy", "all"] = Field(
        description="How it matched: the whole name, its start, the start of one of its words, a"
        " close spelling; `all` when `q` was empty."
    )
    spellings: list[str] = Field(description="Its other names: aliases, spellings in other languages.")


class KeywordsOut(BaseModel):
    query: str
    items: list[KeywordFound]


class SuggestionReasons(BaseModel):
    neighbours: float = Field(description="Share of the nearest articles carrying it, by similarity.")
    nearest_carrying: int = Field(description="How many of the 20 nearest articles carry it.")
    centroid: float = Field(description="Calibrated similarity to the mean of its articles.")
    mentioned_in: Literal["title", "summary", "body"] | None = Field(description="Where its name is.")


class SuggestedKeyword(BaseModel):
    keyword: str
    score: float = Field(description="The mean of `neighbours`, `centroid` and the text's evidence.")
    reasons: SuggestionReasons


class SuggestedKeywordsOut(BaseModel):
    article: str
    keywords: list[str] = Field(description="The keywords it carries (never suggested).")
    items: list[SuggestedKeyword]


class KeywordEditIn(BaseModel):
    keyword: str = Field(min_length=1, max_length=200)
    action: Literal["add", "remove", "reject"] = Field(
        description="add: the article carries it (a suggestion accepted); remove: it no longer does;"
        " reject: never suggest it for this article."
    )


class KeywordEditOut(BaseModel):
    keyword: str
    action: Literal["add", "remove", "reject"]
    author: str
    at: str


class KeywordEditsOut(BaseModel):
    article: str
    keywords: list[str] = Field(description="The keywords it carries, editors' fixes applied.")
    given: list[str] = Field(description="The keywords the site sent.")
    edits: list[KeywordEditOut]


class AliasGroup(BaseModel):
    keyword: str = Field(description="The group's name, as most used.")
    key: str
    names: dict[str, str] = Field(description="Its name in each language, as most used there.")
    aliases: list[str] = Field(description="The keys confirmed as its aliases.")


class AliasGroupsOut(BaseModel):
    groups: list[AliasGroup]


class AliasReasons(BaseModel):
    naming: float = Field(description="Names alike, or editions of one story tagged one and the other.")
    translations: float = Field(
        description="Share of the rarer one's articles whose other edition has the other."
    )
    meaning: float = Field(description="Calibrated similarity of their centroids.")
    apart: float = Field(description="1 less the share of the rarer one's articles that carry both.")


class AliasSuggestionOut(BaseModel):
    keywords: list[str]
    articles: list[int]
    score: float
    reasons: AliasReasons


class AliasSuggestionsOut(BaseModel):
    items: list[AliasSuggestionOut]


class AliasIn(BaseModel):
    keywords: list[str] = Field(min_length=2, max_length=2, description="The two keywords.")
    action: Literal["confirm", "reject"] = Field(
        description="confirm: one keyword from now on (under the more used one's key);"
        " reject: never suggest them."
    )


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


class OverrideIn(BaseModel):
    target: str = Field(
        min_length=1, description="The article id (or keyword, in a keyword list) it is about."
    )
    action: Literal["pin", "block", "link"]
    position: int | None = Field(
        None, ge=1, le=100, description="Where a pin or a link goes (1 = first); a pin defaults to 1."
    )
    expires_at: str | None = Field(None, description="ISO 8601 date or date-time; a date means its end.")
    list: Literal["articles", "keywords"] = Field(
        "articles", description="On a keyword: its article list, or its related keywords."
    )


class OverrideOut(BaseModel):
    scope: str
    source: str
    target: str
    action: str
    position: int | None
    expires_at: str | None
    author: str
    created_at: str
    active: bool
    target_exists: bool


class OverridesOut(BaseModel):
    source: str
    overrides: list[OverrideOut]


class SplitExample(BaseModel):
    id: str
    title: str


class SplitGroup(BaseModel):
    size: int = Field(description="Articles of the group (among those looked at: 400 at most).")
    keywords: list[str] = Field(description="Keywords its articles carry more than the other group's.")
    examples: list[SplitExample] = Field(description="The articles nearest the group's centre.")


class KeywordSplit(BaseModel):
    keyword: str
    articles: int
    strength: float = Field(description="Prediction strength of the two groups, 0 to 1.")
    suggested: bool = Field(description="Strong enough (0.9) to suggest splitting the keyword.")
    groups: list[SplitGroup]


class KeywordSplitOut(BaseModel):
    keyword: str
    split: KeywordSplit | None = Field(description="None for a keyword with fewer than 16 articles.")


class BlockIn(BaseModel):
    target: str = Field(min_length=1, description="The article id to keep out of every list.")
    expires_at: str | None = Field(None, description="ISO 8601 date or date-time; a date means its end.")


class KeywordPinIn(BaseModel):
    target: str = Field(min_length=1, description="The article id to pin.")
    position: int = Field(1, ge=1, le=100, description="Where it goes in each list (1 = first).")
    expires_at: str | None = Field(None, description="ISO 8601 date or date-time; a date means its end.")


class KeywordPinsOut(BaseModel):
    keyword: str
    target: str
    articles: list[str] = Field(description="The articles whose related lists changed.")


class ChangedPage(BaseModel):
    seq: int = Field(description="The entry's place in the feed (`since` after it skips it).")
    kind: Literal["related", "keyword", "keyword_related"] = Field(
        description="An article's related list, a keyword page's articles, or its related keywords."
    )
    id: str = Field(description="The article's id, or the keyword's key.")
    url: str = Field(description="The page's API path (its HTML fragment is the same path with .html).")
    tag: str = Field(description="The page's cache tag (Surrogate-Key, Cache-Tag): purge by it.")
    page_url: str | None = Field(None, description="The article's own URL on the site, when known.")
    gone: bool = Field(False, description="The page no longer exists (its article or keyword is gone).")


class ChangesOut(BaseModel):
    seq: int = Field(description="The feed's last sequence number.")
    pages: list[ChangedPage] = Field(description="Changed pages in order, each once per change.")
    next: int = Field(description="What to pass as `since` next; equal to `seq` once caught up.")


BATCH_STATUSES = ("added", "updated", "unchanged", "replaced", "rejected")


class BatchLine(BaseModel):
    line: int = Field(description="The line's number in the request body, from 1.")
    id: str | None = Field(description="The article's id (None when a rejected line has none).")
    status: Literal["added", "updated", "unchanged", "replaced", "rejected"] = Field(
        description="What was done; replaced: a later line of the batch has the same id."
    )
    error: str | None = Field(None, description="Why the line was rejected or replaced.")


class BatchOut(BaseModel):
    added: int
    updated: int
    unchanged: int
    replaced: int
    rejected: int
    catalog_seq: int = Field(
        description="The catalog's sequence number after the batch (not the change feed's seq)."
    )
    results: list[BatchLine]
