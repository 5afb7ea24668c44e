"""ASGI middleware: article ids and keywords as one URL-encoded path segment, limits on request
bodies (size, JSON nesting), what every response gets at the edge (security headers, HEAD, a
JSON 500), and Prometheus metrics."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote, unquote

from prometheus_client import CollectorRegistry, Counter, Histogram

from seealso.indexer.reader import MAX_JSON_DEPTH, too_deep

log = logging.getLogger("seealso.service")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Paths whose third segment is an id that may contain any character, "/" included (as %2F); so may
# the segment after "overrides" in them.
ID_PREFIXES = ("/v1/articles/", "/v1/keywords/")


class EncodedIds:
    """Route on the raw path so that an id segment keeps its encoded slashes.

    Servers decode `%2F` before routing, which would split `dossiers%2Fmali` into two segments.
    This rewrites `scope["path"]` so the id segment stays percent-encoded (in one canonical form);
    handlers decode it with `decoded()`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(ID_PREFIXES) and scope.get("raw_path"):
            parts = scope["raw_path"].decode("latin-1").split("?", 1)[0].split("/")
            if len(parts) >= 4:
                try:  # an id is text: bytes that are not UTF-8 name no article (and would become U+FFFD)
                    segment = quote(unquote(parts[3], errors="strict"), safe="")
                    rest = [unquote(p, errors="strict") for p in parts[4:]]
                except UnicodeDecodeError:
                    message = "the path is not valid UTF-8: percent-encode an id's UTF-8 bytes"
                    await _send_json(send, 422, {"error": "invalid_request", "message": message})
                    return
                if len(rest) >= 2 and rest[0] == "overrides":  # .../overrides/{target id}
                    rest[1] = quote(rest[1], safe="")
                scope = dict(scope, path="/".join(["", parts[1], parts[2], segment, *rest]))
        await self.app(scope, receive, send)


def decoded(segment: str) -> str:
    """The id or keyword a path segment rewritten by EncodedIds stands for."""
    return unquote(segment)


async def _send_json(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse request bodies larger than `limit` bytes with a 413, and JSON bodies nested deeper
    than an article can be with a 422 (Python's parser would run out of stack), each with a JSON
    message."""

    def __init__(self, app: ASGIApp, limit: int, paths: dict[str, int] | None = None) -> None:
        """Args:
        paths: other limits, by exact path (a batch of articles is larger than one)."""
        self.app = app
        self.limit = limit
        self.paths = paths or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        limit = self.paths.get(scope["path"], self.limit)
        too_big = {"error": "too_large", "message": f"the request body is larger than {limit} bytes"}
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_json(send, 413, too_big)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _send_json(send, 413, too_big)
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        # Every body, whatever its Content-Type says (FastAPI and this could read a type, or two
        # headers, differently); a form or text that is not JSON is not deep.
        if too_deep(body.decode("utf-8", "replace")):
            deep = f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels"
            await _send_json(send, 422, {"error": "invalid_request", "message": deep})
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


# No page of seealso runs a script (but /docs, which sets its own policy) or loads anything from
# elsewhere; the editor's forms post to itself; nothing may frame a page.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
]


class Edge:
    """What every HTTP response gets, in one layer (each layer costs every request):

    - the security headers, and the Content-Security-Policy unless the response sets its own;
    - HEAD answered wherever GET is: the GET response's status and headers, no body;
    - an exception that escaped every handler logged and answered with a JSON 500, which carries
      the headers too.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        started = False

        async def edged(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers") or [])
                names = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in SECURITY_HEADERS if name not in names]
                message = {**message, "headers": headers}
            elif head and message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        try:
            await self.app({**scope, "method": "GET"} if head else scope, receive, edged)
        except Exception:
            log.exception("unexpected error")
            if started:
                raise
            message = "an unexpected error occurred; it has been logged"
            await _send_json(edged, 500, {"error": "internal_error", "message": message})


class Metrics:
    """Count requests and time them per route template (not per raw path, to keep labels few)."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "seealso_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "seealso_http_request_seconds",
            "HTTP request latency",
            ["route"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.requests.labels(scope["method"], route, str(status)).inc()
            self.latency.labels(route).observe(time.perf_counter() - started)
