"""/v1/articles: an article, its related list, and writes (upsert, delete)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from starlette.concurrency import run_in_threadpool

from seealso.errors import ArticleNotFound, InvalidArticle
from seealso.indexer.article import parse_article
from seealso.indexer.catalog import Catalog, Entry
from seealso.indexer.runner import bind_embedder, upsert_articles
from seealso.ranking.related import article_dict, translation_dict
from seealso.service.caching import cached_json
from seealso.service.deps import LIST_PARAMETERS, ListQueryDep, RankerDep, StoreDep, Writer
from seealso.service.middleware import decoded
from seealso.service.schemas import ArticleDetail, Error, RelatedOut, Upserted

router = APIRouter(prefix="/v1/articles", tags=["articles"])
ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": Error}, 422: {"model": Error}}


def detail(entry: Entry, catalog: Catalog) -> dict[str, Any]:
    """The article's fields, with the translations the site declared (on either side); related
    lists also give those seealso found."""
    declared = catalog.declared_translations([entry.vid]).get(entry.vid, set())
    others = catalog.get_by_vids(sorted(declared), bodies=False)
    return {
        **article_dict(entry.article),
        "translations": [translation_dict(e.article) for e in others.values()],
        "updated_at": entry.article.updated_at,
        "indexed_at": entry.indexed_at,
    }


@router.get("/{article_id}", response_model=ArticleDetail, responses=ERRORS)
def get_article(article_id: str, store: StoreDep) -> dict[str, Any]:
    """The article's metadata (its body is not returned). Ids are URL-encoded, `/` as `%2F`."""
    entry = store.catalog.get(decoded(article_id))
    if entry is None:
        raise ArticleNotFound(decoded(article_id))
    return detail(entry, store.catalog)


@router.get(
    "/{article_id}/related", response_model=RelatedOut, responses=ERRORS, openapi_extra=LIST_PARAMETERS
)
async def related(article_id: str, request: Request, query: ListQueryDep) -> Response:
    """The `k` articles most related to this one; filters apply before the cut. Each item says why
    it is there (`reasons`: score components, shared keywords and names, freshness, duplicates
    collapsed into it, which rule moved it); the list is shorter rather than padded."""
    # The ranker and settings are read from the app directly: on the busiest route, each declared
    # dependency costs more than serving a cached list. A cached list is served on the event loop;
    # anything else (ranking, catching up with writes) runs in a thread, so that one slow list
    # does not hold up the worker's other requests.
    ranker, article = request.app.state.ranker, decoded(article_id)
    body = ranker.cached_related_json(article, query.k, query.filters, query.rules)
    if body is None:
        body = await run_in_threadpool(ranker.related_json, article, query.k, query.filters, query.rules)
    return cached_json(request, body, request.app.state.settings.cache_max_age)


@router.put(
    "/{article_id}",
    response_model=Upserted,
    dependencies=[Writer],
    responses={**ERRORS, 201: {"model": Upserted}, 401: {"model": Error}, 403: {"model": Error}},
)
def put_article(
    article_id: str,
    body: Annotated[dict[str, Any], Body(description="An article, as one line of the JSONL input.")],
    response: Response,
    store: StoreDep,
    ranker: RankerDep,
) -> dict[str, Any]:
    """Add or replace an article; when this returns, it is in the catalog and in every result."""
    article_id = decoded(article_id)
    if "id" in body and body["id"] != article_id:
        raise InvalidArticle([f"id: {body['id']!r} in the body differs from {article_id!r} in the URL"])
    article = parse_article({**body, "id": article_id})
    embedder = ranker.embedder
    recipe = bind_embedder(store, embedder)
    report = upsert_articles(store, embedder, [article], recipe)
    store.refresh()
    status = "added" if report.added else "updated" if report.updated else "unchanged"
    response.status_code = 201 if report.added else 200
    entry = store.catalog.get(article_id)
    assert entry is not None
    return {"status": status, "article": detail(entry, store.catalog)}


@router.delete(
    "/{article_id}",
    status_code=204,
    dependencies=[Writer],
    responses={404: {"model": Error}, 401: {"model": Error}, 403: {"model": Error}},
)
def delete_article(article_id: str, store: StoreDep) -> Response:
    """Delete an article; when this returns, it is in no result."""
    _seq, deleted = store.catalog.write(deletes=[decoded(article_id)])
    if not deleted:
        raise ArticleNotFound(decoded(article_id))
    store.refresh()
    return Response(status_code=204)
