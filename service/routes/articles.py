"""/v1/articles: an article, its related list, and writes (upsert, delete)."""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from seealso.errors import ArticleNotFound, InvalidArticle, RequestTooLarge
from seealso.indexer.article import Article, parse_article
from seealso.indexer.catalog import Catalog, Entry
from seealso.indexer.reader import Rejected, read_jsonl
from seealso.indexer.runner import bind_embedder, upsert_articles
from seealso.indexer.store import Store
from seealso.ranking import Ranker
from seealso.ranking.related import article_dict, translation_dict
from seealso.ranking.suggestions import KeywordSuggester
from seealso.service import fragment
from seealso.service.caching import cached_json
from seealso.service.deps import (
    LIST_PARAMETERS,
    Author,
    K,
    KeywordsDep,
    ListQueryDep,
    RankerDep,
    SettingsDep,
    StoreDep,
    Writer,
    served,
)
from seealso.service.middleware import decoded
from seealso.service.schemas import (
    BATCH_STATUSES,
    ArticleDetail,
    BatchOut,
    Error,
    RelatedOut,
    SuggestedKeywordsOut,
    Upserted,
)

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


@router.get("/{article_id}/keywords/suggested", response_model=SuggestedKeywordsOut, responses=ERRORS)
def suggested_keywords(article_id: str, ranker: RankerDep, keywords: KeywordsDep, k: K = 5) -> dict[str, Any]:
    """Keywords of the site's vocabulary that the article does not carry, best first: from its
    nearest articles' keywords, the keywords' centroids and its text, each with that evidence."""
    name = decoded(article_id)
    found = KeywordSuggester(ranker, keywords).suggest(name, k)
    entry = ranker.store.catalog.get(name)
    carried = list(entry.article.keywords) if entry else []
    return {"article": name, "keywords": carried, "items": [s.to_dict() for s in found]}


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
    ranker, article = served(request).ranker, decoded(article_id)
    page = ranker.cached_related_page(article, query.k, query.filters, query.rules)
    if page is None:
        page = await run_in_threadpool(ranker.related_page, article, query.k, query.filters, query.rules)
    return cached_json(request, page.json, request.app.state.settings.cache_max_age, page.tags)


@router.get(
    "/{article_id}/related.html",
    response_class=HTMLResponse,
    responses={**ERRORS, 200: {"content": {"text/html": {}}, "description": "An HTML fragment."}},
    openapi_extra=LIST_PARAMETERS,
)
async def related_html(article_id: str, request: Request, query: ListQueryDep) -> Response:
    """The list as an HTML fragment to put in a page (see /v1/widget.css): links with titles,
    kickers, pictures and dates, `lang` on each item, and the story's other editions. Cached,
    tagged and validated like the JSON."""
    ranker, article = served(request).ranker, decoded(article_id)
    page = ranker.cached_related_page(article, query.k, query.filters, query.rules)
    if page is None:
        page = await run_in_threadpool(ranker.related_page, article, query.k, query.filters, query.rules)
    if page.html is None:  # made once per cached list
        page.html = await run_in_threadpool(fragment.render_json, page.json, "related")
    max_age = request.app.state.settings.cache_max_age
    return cached_json(request, page.html, max_age, page.tags, media=fragment.MEDIA)


@router.put(
    "/{article_id}",
    response_model=Upserted,
    responses={**ERRORS, 201: {"model": Upserted}, 401: {"model": Error}, 403: {"model": Error}},
)
def put_article(
    article_id: str,
    body: Annotated[dict[str, Any], Body(description="An article, as one line of the JSONL input.")],
    response: Response,
    store: StoreDep,
    ranker: RankerDep,
    author: Author,
) -> dict[str, Any]:
    """Add or replace an article; when this returns, it is in the catalog and in every result."""
    article_id = decoded(article_id)
    if "id" in body and body["id"] != article_id:
        raise InvalidArticle([f"id: {body['id']!r} in the body differs from {article_id!r} in the URL"])
    article = parse_article({**body, "id": article_id})
    embedder = ranker.embedder
    recipe = bind_embedder(store, embedder)
    report = upsert_articles(store, embedder, [article], recipe, author=author)
    store.refresh()
    status = "added" if report.added else "updated" if report.updated else "unchanged"
    response.status_code = 201 if report.added else 200
    entry = store.catalog.get(article_id)
    assert entry is not None
    return {"status": status, "article": detail(entry, store.catalog)}


@router.delete(
    "/{article_id}",
    status_code=204,
    responses={404: {"model": Error}, 401: {"model": Error}, 403: {"model": Error}},
)
def delete_article(article_id: str, store: StoreDep, author: Author) -> Response:
    """Delete an article; when this returns, it is in no result."""
    _seq, deleted = store.catalog.write(deletes=[decoded(article_id)], author=author)
    if not deleted:
        raise ArticleNotFound(decoded(article_id))
    store.refresh()
    return Response(status_code=204)


# `POST /v1/articles:batch`: a sibling of /v1/articles/{id}, not below it.
batch_router = APIRouter(tags=["articles"])
NDJSON = "application/x-ndjson"


@batch_router.post(
    "/v1/articles:batch",
    response_model=BatchOut,
    dependencies=[Writer],
    responses={401: {"model": Error}, 403: {"model": Error}, 413: {"model": Error}, 422: {"model": Error}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                NDJSON: {"schema": {"type": "string", "description": "One article a line (JSON Lines)."}}
            },
        }
    },
)
async def upsert_articles_batch(
    request: Request, store: StoreDep, ranker: RankerDep, settings: SettingsDep, author: Author
) -> Any:
    """Add or replace many articles at once: one article a line, as `seealso index` reads them
    (`Content-Type: application/x-ndjson`), at most `SEEALSO_BATCH_MAX_LINES` articles. Each line
    gets its result with its line number; a bad line is rejected and the others are written, in
    one commit. When this returns, the written ones are in every result."""
    body = await request.body()
    if sum(1 for line in body.split(b"\n") if line.strip()) > settings.batch_max_lines:
        raise RequestTooLarge(
            f"a batch holds at most {settings.batch_max_lines} lines (SEEALSO_BATCH_MAX_LINES)"
        )
    return await run_in_threadpool(_write_batch, body, store, ranker, author)


def _write_batch(body: bytes, store: Store, ranker: Ranker, author: str) -> dict[str, Any]:
    results: dict[int, dict[str, Any]] = {}
    latest: dict[str, tuple[int, Article]] = {}
    for item in read_jsonl(io.BytesIO(body)):
        if isinstance(item, Rejected):
            results[item.line] = {
                "line": item.line,
                "id": item.article_id,
                "status": "rejected",
                "error": item.reason,
            }
            continue
        previous = latest.get(item.article.id)
        if previous is not None:  # the later line wins, as in a file
            reason = f"replaced by line {item.line}"
            results[previous[0]] = {
                "line": previous[0],
                "id": item.article.id,
                "status": "replaced",
                "error": reason,
            }
        latest[item.article.id] = (item.line, item.article)
    articles = [article for _, article in latest.values()]
    if articles:
        embedder = ranker.embedder
        recipe = bind_embedder(store, embedder)
        known = store.catalog.hashes([a.id for a in articles])
        upsert_articles(store, embedder, articles, recipe, author=author)
        store.refresh()
        for line, article in latest.values():
            before = known.get(article.id)
            if before is None:
                status = "added"
            elif (before[1], before[2]) != (article.text_hash(recipe.identity), article.record_hash()):
                status = "updated"
            else:
                status = "unchanged"
            results[line] = {"line": line, "id": article.id, "status": status}
    ordered = [results[line] for line in sorted(results)]
    counts = {status: sum(r["status"] == status for r in ordered) for status in BATCH_STATUSES}
    return {**counts, "catalog_seq": store.catalog.seq(), "results": ordered}
