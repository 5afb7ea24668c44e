"""/v1/keywords: the article list of a keyword page, and related keywords."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from seealso.service.caching import cached_json
from seealso.service.deps import LIST_PARAMETERS, K, KeywordsDep, ListQueryDep, SettingsDep
from seealso.service.middleware import decoded
from seealso.service.schemas import Error, KeywordArticlesOut, RelatedKeywordsOut

router = APIRouter(prefix="/v1/keywords", tags=["keywords"])


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
    body = keywords.cached_articles_json(name, query.k, query.filters)
    if body is None:
        body = await run_in_threadpool(keywords.articles_json, name, query.k, query.filters)
    return cached_json(request, body, settings.cache_max_age)


@router.get("/{keyword}/related", response_model=RelatedKeywordsOut, responses={404: {"model": Error}})
def related_keywords(
    keyword: str, request: Request, keywords: KeywordsDep, settings: SettingsDep, k: K = 10
) -> Response:
    """Keywords related to this one, from how often they tag the same articles and how close their
    articles are; each with a score in [0, 1]."""
    items = keywords.related(decoded(keyword), k)
    payload = {"keyword": keywords.display_name(decoded(keyword)), "items": [i.to_dict() for i in items]}
    return cached_json(request, payload, settings.cache_max_age)
