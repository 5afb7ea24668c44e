"""JSON responses that a CDN may cache: an ETag of the body and Cache-Control; 304 on a match."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Request, Response

from seealso.ranking.related import compact_json

JSON = "application/json"


def cached_json(
    request: Request, payload: dict[str, Any] | bytes, max_age: int, tags: str = "", media: str = JSON
) -> Response:
    """`payload` as JSON (or already encoded bytes of `media`) with a strong ETag (a hash of the
    body: it changes exactly when the list does), `Cache-Control: public, max-age` and its cache
    tags (`Surrogate-Key`, space-separated, for Fastly and Varnish; `Cache-Tag`, comma-separated,
    for Cloudflare and Akamai) so that a CDN can purge it by tag; a matching If-None-Match gets
    304 without a body."""
    body = payload if isinstance(payload, bytes) else compact_json(payload)
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    if tags:
        headers.update({"Surrogate-Key": tags, "Cache-Tag": tags.replace(" ", ",")})
    wanted = request.headers.get("if-none-match", "")
    if wanted.strip() == "*" or etag in {tag.strip().removeprefix("W/") for tag in wanted.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media, headers=headers)
