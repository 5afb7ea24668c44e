"""/v1/widget.css: a stylesheet for the HTML fragments, themed through CSS variables."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from seealso.service.caching import cached_json
from seealso.service.fragment import STYLESHEET

router = APIRouter(prefix="/v1", tags=["widget"])
CSS = STYLESHEET.encode()


@router.get("/widget.css", response_class=Response, responses={200: {"content": {"text/css": {}}}})
def widget_css(request: Request) -> Response:
    """The fragments' stylesheet: set `--seealso-accent`, `--seealso-link`, `--seealso-muted`,
    `--seealso-gap`, `--seealso-image-width`, ... on `.seealso` (or above) to theme them."""
    return cached_json(request, CSS, 86400, media="text/css; charset=utf-8")
