"""/docs: Swagger UI from files installed with seealso (the fastapi-offline package ships them), so
the documentation works offline and under a Content-Security-Policy that allows no inline script."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
HERE = Path(__file__).parent
# Swagger UI runs its own scripts and fetches the OpenAPI document; nothing comes from elsewhere.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

router = APIRouter(include_in_schema=False)
assets = StaticFiles(directory=ASSETS)


@router.get("/docs")
def docs() -> HTMLResponse:
    page = (HERE / "docs.html").read_text(encoding="utf-8")
    return HTMLResponse(page, headers={"Content-Security-Policy": POLICY})


@router.get("/docs/init.js")
def init_script() -> FileResponse:
    return FileResponse(HERE / "init.js", media_type="text/javascript")
