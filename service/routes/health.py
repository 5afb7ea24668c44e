"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> Any:
    """The index is loaded and queries can be answered (503 otherwise)."""
    current = getattr(request.state, "served", None)
    if current is None or not current.store.loaded:
        return JSONResponse({"status": "loading"}, status_code=503)
    store, ranker = current.store, current.ranker
    return {
        "status": "ready",
        "data_dir": current.path.name,  # which one a `current` link points at (its name only)
        "articles": store.catalog.count(),
        "model": store.model,
        "runtime": None if ranker.embedder_missing else ranker.embedder.runtime,
        "index": store.index().index_type,
        "seq": store.catalog.seq(),
    }


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)
