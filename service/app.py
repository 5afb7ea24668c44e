"""The FastAPI app factory: opens the data dir once, translates domain errors into JSON responses."""

from __future__ import annotations

import gc
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import faiss
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry, Counter, Gauge
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from seealso import __version__
from seealso.config import Settings
from seealso.errors import (
    AliasNotFound,
    ArticleNotFound,
    InvalidAlias,
    InvalidArticle,
    InvalidKeywordEdit,
    InvalidOverride,
    KeywordEditNotFound,
    OverrideNotFound,
    RejectionNotFound,
    RequestTooLarge,
    SeealsoError,
)
from seealso.indexer import dates
from seealso.indexer.store import Store
from seealso.ranking import InvalidFilter, KeywordNotFound
from seealso.service import docs
from seealso.service.deps import HeavyRequests, Writers
from seealso.service.editor import routes as editor
from seealso.service.editor.auth import Editors
from seealso.service.middleware import BodyLimit, Edge, EncodedIds, Metrics
from seealso.service.routes import (
    aliases,
    articles,
    changes,
    health,
    keyword_edits,
    keywords,
    overrides,
    search,
    widget,
)
from seealso.service.serving import Serving, TakeServed

EDITOR_STATIC = Path(__file__).parent / "editor" / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app over `settings.data_dir` (created when missing); the store, the index and the
    model are loaded when the app starts, before it takes requests."""
    settings = settings or Settings.load()
    registry = CollectorRegistry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One FAISS thread per search: requests already use both cores, and an exact scan is
        # memory-bound, so two threads on one query measured slower here.
        faiss.omp_set_num_threads(1)
        serving = Serving(settings, on_webhook_failure=lambda url: webhook_failures.labels(url).inc())
        app.state.serving = serving
        app.state.editors = Editors(settings)
        # What start-up loaded lives as long as the process: keep it out of the cycle collector's
        # walks, whose pauses grow with the number of live objects (and showed in the p99).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            store = serving.close().store
            manifest = store.manifest()
            if manifest is None or manifest.seq != store.catalog.seq():
                store.save_snapshot()  # so the next start loads less from the change log
            app.state.editors.close()
            store.close()

    app = FastAPI(
        title="seealso",
        version=__version__,
        lifespan=lifespan,
        description="Related articles and related keywords for a news site.",
        docs_url=None,  # served by service.docs, offline
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.writers = Writers(settings.writer_tokens())
    app.state.heavy_requests = HeavyRequests(settings.heavy_requests)
    app.state.registry = registry

    def catalog_gauge(read: Callable[[Store], float]) -> Callable[[], float]:
        """A gauge's value from the store of the running app (nothing before it starts)."""
        return lambda: read(app.state.serving.current.store) if hasattr(app.state, "serving") else 0.0

    Gauge("seealso_articles", "Articles in the catalog", registry=registry).set_function(
        catalog_gauge(lambda store: store.catalog.count())
    )
    Gauge(
        "seealso_last_write_timestamp_seconds", "When the catalog last changed", registry=registry
    ).set_function(catalog_gauge(lambda store: dates.seconds(store.catalog.meta("written_at"))))
    webhook_failures = Counter(
        "seealso_webhook_failures", "Webhook deliveries that failed", ["url"], registry=registry
    )
    Gauge("seealso_feed_seq", "The change feed's last sequence number", registry=registry).set_function(
        catalog_gauge(lambda store: store.catalog.page_bounds()[1])
    )
    Gauge(
        "seealso_webhook_lag", "Feed entries not yet delivered to the slowest webhook", registry=registry
    ).set_function(catalog_gauge(webhook_lag))
    routers = (health, articles, search, keywords, keyword_edits, aliases, overrides, changes, widget)
    for router in (module.router for module in routers):
        app.include_router(router)
    app.include_router(articles.batch_router)
    app.include_router(editor.router)
    app.include_router(docs.router)
    app.mount("/editor/static", StaticFiles(directory=EDITOR_STATIC), name="editor-static")
    app.mount("/docs/assets", docs.assets, name="docs-assets")
    add_error_handlers(app)
    batch_limit = max(settings.batch_max_bytes, settings.max_body_bytes)
    app.add_middleware(TakeServed)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, paths={"/v1/articles:batch": batch_limit})
    app.add_middleware(Metrics, registry=registry)
    app.add_middleware(EncodedIds)
    app.add_middleware(Edge)
    if settings.cors_origins:  # outermost: a preflight is answered before anything else runs
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-None-Match"],
            expose_headers=["ETag", "Surrogate-Key", "Cache-Tag"],
            max_age=600,
        )

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/docs")

    return app


# Operation ids for generated clients, by route function; others are the function's name in camelCase.
OPERATION_IDS = {
    "related": "getRelated",
    "related_html": "getRelatedHtml",
    "put_article": "upsertArticle",
    "upsert_articles_batch": "upsertArticles",
    "search": "searchArticles",
    "similarity": "scorePairs",
    "keyword_articles": "getKeywordArticles",
    "keyword_articles_html": "getKeywordArticlesHtml",
    "related_keywords": "getRelatedKeywords",
    "find_keywords": "findKeywords",
    "suggested_keywords": "getSuggestedKeywords",
    "keyword_edits": "getKeywordEdits",
    "changes": "getChanges",
    "healthz": "getHealth",
    "readyz": "getReadiness",
    "widget_css": "getWidgetCss",
    "article_overrides": "getArticleOverrides",
    "keyword_overrides": "getKeywordOverrides",
    "blocks": "getBlocks",
    "add_block": "blockEverywhere",
    "remove_block": "unblockEverywhere",
    "pin_for_keyword": "pinForKeyword",
    "keyword_split": "getKeywordSplit",
    "unpin_for_keyword": "unpinForKeyword",
}


def operation_id(route: APIRoute) -> str:
    if route.name in OPERATION_IDS:
        return OPERATION_IDS[route.name]
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def webhook_lag(store: Store) -> float:
    cursors = store.catalog.webhook_cursors().values()
    last = store.catalog.page_bounds()[1]
    return float(max((last - c.seq for c in cursors), default=0))


def allowed_methods(app: FastAPI, scope: MutableMapping[str, Any]) -> list[str]:
    """The methods some route answers at this request's path (HEAD with GET, OPTIONS always)."""
    methods = {
        method
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in app.router.routes)
    }
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods | {"OPTIONS"})


def _error(status: int, code: str, message: str, **more: object) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **more}, status_code=status)


def add_error_handlers(app: FastAPI) -> None:
    """Every error is JSON `{"error", "message"}`; domain errors get their HTTP status here."""

    @app.exception_handler(ArticleNotFound)
    @app.exception_handler(KeywordNotFound)
    @app.exception_handler(OverrideNotFound)
    @app.exception_handler(KeywordEditNotFound)
    @app.exception_handler(AliasNotFound)
    @app.exception_handler(RejectionNotFound)
    async def not_found(_: Request, exc: SeealsoError) -> JSONResponse:
        return _error(404, "not_found", str(exc))

    @app.exception_handler(RequestTooLarge)
    async def too_large(_: Request, exc: RequestTooLarge) -> JSONResponse:
        return _error(413, "too_large", str(exc))

    @app.exception_handler(InvalidArticle)
    async def invalid_article(_: Request, exc: InvalidArticle) -> JSONResponse:
        return _error(422, "invalid_article", str(exc), reasons=exc.reasons)

    @app.exception_handler(InvalidFilter)
    @app.exception_handler(InvalidOverride)
    @app.exception_handler(InvalidKeywordEdit)
    @app.exception_handler(InvalidAlias)
    async def invalid_request(_: Request, exc: SeealsoError) -> JSONResponse:
        return _error(422, "invalid_request", str(exc))

    @app.exception_handler(SeealsoError)
    async def domain_error(_: Request, exc: SeealsoError) -> JSONResponse:
        return _error(400, "bad_request", str(exc))

    @app.exception_handler(sqlite3.OperationalError)
    async def catalog_busy(_: Request, exc: sqlite3.OperationalError) -> JSONResponse:
        # Another process held the catalog's write lock past the wait (or the disk refused): the
        # request did nothing and may be sent again.
        logging.getLogger("seealso.service").warning("catalog unavailable: %s", exc)
        response = _error(503, "unavailable", "the catalog is busy or unavailable; retry shortly")
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body") or "body", "message": e["msg"]}
            for e in exc.errors()
        ]
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return _error(422, "invalid_request", message, details=details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {
            401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
            422: "invalid_request", 429: "too_many_requests", 503: "unavailable",
        }  # fmt: skip
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method of every route at this path, not the first one's
            headers["Allow"] = ", ".join(allowed_methods(app, request.scope))
            if request.method == "OPTIONS":
                return Response(status_code=204, headers=headers)
        message = str(exc.detail)
        if exc.status_code == 405:
            message = f"{request.method} is not allowed here; use {headers['Allow']}"
        response = _error(exc.status_code, codes.get(exc.status_code, "http_error"), message)
        response.headers.update(headers)
        return response
