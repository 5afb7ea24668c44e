"""/v1/keywords: finding a keyword, the article list of a keyword page, related keywords, and
whether a keyword mixes two subjects."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from seealso.indexer.article import keyword_key
from seealso.ranking.related import tag
from seealso.ranking.splits import split
from seealso.service import fragment
from seealso.service.caching import cached_json
from seealso.service.deps import LIST_PARAMETERS, HeavyRequests, K, KeywordsDep, ListQueryDep, SettingsDep
from seealso.service.middleware import decoded
from seealso.service.schemas import (
    Error,
    KeywordArticlesOut,
    KeywordsOut,
    KeywordSplitOut,
    RelatedKeywordsOut,
)

router = APIRouter(prefix="/v1/keywords", tags=["keywords"])


@router.get("", response_model=KeywordsOut)
def find_keywords(
    keywords: KeywordsDep,
    k: K = 10,
    q: Annotated[str, Query(max_length=200, description="What was typed; empty: every keyword.")] = "",
    language: Annotated[
        str | None, Query(max_length=20, description="Only keywords with articles in this language.")
    ] = None,
) -> dict[str, object]:
    """Keywords in use, for autocomplete: matched by their start, the start of a word, or a close
    spelling, ignoring case and accents; most used first among equal matches. Empty `q`: the most
    used keywords."""
    found = keywords.vocabulary().search(q, language or None, k)
    return {"query": q, "items": [match.to_dict() for match in found]}


@router.get(
    "/{keyword}/articles",
    response_model=KeywordArticlesOut,
    responses={404: {"model": Error}},
    openapi_extra=LIST_PARAMETERS,
)
async def keyword_articles(
    keyword: str, request: Request, query: ListQueryDep, keywords: KeywordsDep, settings: SettingsDep
) -> Response:
    """Articles about the keyword, tagged with it or not, most relevant first, fresher first among
    equals. Keywords compare case-insensitively; URL-encode them (`/` as `%2F`)."""
    # As /related: a cached page on the event loop, the rest (statistics, ranking) in a thread.
    name = decoded(keyword)
    page = keywords.cached_articles_page(name, query.k, query.filters)
    if page is None:
        page = await run_in_threadpool(keywords.articles_page, name, query.k, query.filters)
    return cached_json(request, page.json, settings.cache_max_age, page.tags)


@router.get(
    "/{keyword}/articles.html",
    response_class=HTMLResponse,
    responses={
        404: {"model": Error},
        200: {"content": {"text/html": {}}, "description": "An HTML fragment."},
    },
    openapi_extra=LIST_PARAMETERS,
)
async def keyword_articles_html(
    keyword: str, request: Request, query: ListQueryDep, keywords: KeywordsDep, settings: SettingsDep
) -> Response:
    """The keyword page's articles as an HTML fragment (see /v1/articles/{id}/related.html)."""
    name = decoded(keyword)
    page = keywords.cached_articles_page(name, query.k, query.filters)
    if page is None:
        page = await run_in_threadpool(keywords.articles_page, name, query.k, query.filters)
    if page.html is None:
        page.html = await run_in_threadpool(fragment.render_json, page.json, "keyword")
    return cached_json(request, page.html, settings.cache_max_age, page.tags, media=fragment.MEDIA)


@router.get("/{keyword}/related", response_model=RelatedKeywordsOut, responses={404: {"model": Error}})
def related_keywords(
    keyword: str, request: Request, keywords: KeywordsDep, settings: SettingsDep, k: K = 10
) -> Response:
    """Keywords related to this one, from how often they tag the same articles and how close their
    articles are; each with a score in [0, 1]."""
    items = keywords.related(decoded(keyword), k)
    payload = {"keyword": keywords.display_name(decoded(keyword)), "items": [i.to_dict() for i in items]}
    key = keywords.store.catalog.canonical_key(decoded(keyword))
    shown = [tag("keyword", keyword_key(i.keyword)) for i in items]
    tags = " ".join([tag("keyword_related", key), tag("keyword", key), *shown])
    return cached_json(request, payload, settings.cache_max_age, tags)


@router.get(
    "/{keyword}/split",
    response_model=KeywordSplitOut,
    responses={404: {"model": Error}, 503: {"model": Error}},
)
def keyword_split(
    keyword: str,
    keywords: KeywordsDep,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, object]:
    """Whether the keyword's articles fall into two clear groups (two subjects under one name):
    its articles split in two, the split's prediction strength (near 1: the same two groups come
    out of either half of its articles), `suggested` from 0.9, and each group's telling keywords
    and articles nearest its centre. `split` is null for a keyword with fewer than 16 articles."""
    name = decoded(keyword)
    # Made once per keyword and statistics state (a few hundred ms): without a token, as many at
    # once as SEEALSO_HEAVY_REQUESTS allows.
    anonymous = request.app.state.writers.name_of(authorization) is None
    heavy: HeavyRequests = request.app.state.heavy_requests
    with heavy.slot() if anonymous else contextlib.nullcontext(True) as running:
        if not running:
            raise HTTPException(
                503, "too many heavy requests at once; retry shortly", headers={"Retry-After": "1"}
            )
        found = split(keywords, name)
    return {"keyword": keywords.display_name(name), "split": found.to_dict() if found else None}
