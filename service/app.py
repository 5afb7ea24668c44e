"""The FastAPI app factory: opens the data dir once, translates domain errors into JSON responses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from embeddings import model_identity
from indexer.store import Store
from ranking import Ranker
from seealso import __version__
from seealso.config import Settings
from seealso.errors import ArticleNotFound, SeealsoError


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app over `settings.data_dir`; the store is opened when the app starts."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store.open(settings.data_dir)
        store.check_model(model_identity(settings.model))
        store.index()  # load the index now, not on the first request
        app.state.store = store
        app.state.ranker = Ranker(store)
        try:
            yield
        finally:
            store.close()

    app = FastAPI(title="seealso", version=__version__, lifespan=lifespan)
    app.state.settings = settings

    @app.exception_handler(ArticleNotFound)
    async def not_found(_: Request, exc: ArticleNotFound) -> JSONResponse:
        return JSONResponse({"error": "not_found", "message": str(exc)}, status_code=404)

    @app.exception_handler(SeealsoError)
    async def domain_error(_: Request, exc: SeealsoError) -> JSONResponse:
        return JSONResponse({"error": "bad_request", "message": str(exc)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return JSONResponse({"error": "invalid_request", "message": message, "details": details}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": "http_error", "message": str(exc.detail)}, status_code=exc.status_code)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/docs")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/articles/{article_id:path}/related")
    def related(
        article_id: str, request: Request, k: Annotated[int, Query(ge=1, le=100)] = 10
    ) -> dict[str, Any]:
        ranker: Ranker = request.app.state.ranker
        return ranker.related(article_id, k).to_dict()

    return app
