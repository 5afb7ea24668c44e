"""Dependencies that routes declare, so a route reads like prose."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import threading
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from seealso.config import Settings
from seealso.indexer.store import Store
from seealso.ranking import Filters, Keywords, Ranker
from seealso.ranking.shaping import ListRules
from seealso.service.serving import Served


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def served(request: Request) -> Served:
    """The data dir this request is answered from, taken once when it came in (see `serving`)."""
    return request.state.served


async def get_store(request: Request) -> Store:
    return served(request).store


async def get_ranker(request: Request) -> Ranker:
    return served(request).ranker


async def get_keywords(request: Request) -> Keywords:
    return served(request).keywords


class ListParams(BaseModel):
    """The query string of a list: how many items, filters, freshness."""

    model_config = ConfigDict(extra="ignore")

    k: int = Field(10, ge=1, le=100, description="How many items, 1 to 100.")
    section: str | None = Field(None, description="Section(s), comma-separated.")
    language: str | None = Field(None, description="Language code(s), comma-separated.")
    since: str | None = Field(None, description="Published at or after (ISO 8601).")
    until: str | None = Field(None, description="Published up to (ISO 8601; a date includes its day).")
    exclude: list[str] = Field(
        default_factory=list, description="Ids to leave out: repeat the parameter, or separate with commas."
    )
    half_life: float | None = Field(
        None, ge=0, le=36500, description="Freshness half-life in days, 0 for none (default: settings)."
    )


@dataclasses.dataclass(frozen=True)
class ListQuery:
    k: int
    filters: Filters
    rules: ListRules


def _documented(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI parameters for the fields of `model`, read from the query string by hand."""
    schema = model.model_json_schema()["properties"]
    return {
        "parameters": [
            {"name": name, "in": "query", "required": False, "description": field.get("description", ""),
             "schema": {k: v for k, v in field.items() if k not in ("description", "title")}}
            for name, field in schema.items()
        ]
    }  # fmt: skip


LIST_PARAMETERS = _documented(ListParams)


async def list_query(request: Request) -> ListQuery:
    """Parse a list's query string (see ListParams) in one step: lists are the hottest requests, and
    FastAPI's per-parameter resolution cost more than serving a cached list. Bad values get the
    same 422 as any other parameter."""
    query = request.query_params
    raw: dict[str, Any] = {name: query[name] for name in ListParams.model_fields if name in query}
    if "exclude" in query:
        raw["exclude"] = query.getlist("exclude")
    try:
        params = ListParams.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]) from None
    store = served(request).store
    ids: set[str] = set()
    for value in params.exclude:
        # An id may itself contain a comma: a value naming an existing article is taken whole.
        ids.update([value] if store.catalog.get(value) else [v for v in value.split(",") if v])
    filters = Filters.parse(
        section=params.section, language=params.language, since=params.since, until=params.until, exclude=ids
    )
    settings: Settings = request.app.state.settings
    rules = settings.list_rules()
    if params.half_life is not None:
        rules = dataclasses.replace(rules, half_life_days=params.half_life)
    return ListQuery(params.k, filters, rules)


class Writers:
    """The bearer tokens that may write, by name (settings' `writer_tokens`). A presented token is
    compared with every one, in constant time, through their SHA-256 digests."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self._digests = [(name, hashlib.sha256(token.encode()).digest()) for name, token in tokens.items()]

    def __bool__(self) -> bool:
        return bool(self._digests)

    def name_of(self, authorization: str | None) -> str | None:
        """The name of the token an `Authorization: Bearer <token>` header carries, if it is one."""
        token = bearer_token(authorization)
        if token is None:
            return None
        presented = hashlib.sha256(token.encode()).digest()
        found = None
        for name, digest in self._digests:
            if hmac.compare_digest(presented, digest):
                found = name
        return found


class HeavyRequests:
    """How many anonymous heavy requests (pair scores: /v1/similarity, the editor's link check) run
    at once in this process."""

    def __init__(self, limit: int) -> None:
        self._slots = threading.BoundedSemaphore(limit)

    @contextlib.contextmanager
    def slot(self) -> Iterator[bool]:
        """Whether a slot was free (and is held until the block ends); never waits."""
        running = self._slots.acquire(blocking=False)
        try:
            yield running
        finally:
            if running:
                self._slots.release()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (None without one)."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


# Declares the scheme in the OpenAPI description (and on every operation that writes), so that
# generated clients send the token; require_writer reads the header itself.
BEARER = HTTPBearer(
    auto_error=False, scheme_name="bearer", description="A token of SEEALSO_API_TOKEN or SEEALSO_API_TOKENS."
)


async def require_writer(
    request: Request,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str:
    """Writes need `Authorization: Bearer <token>` with one of the configured tokens; with none
    configured, none pass. Returns who wrote, for the audit log: `api`, or `api:<name>`."""
    writers: Writers = request.app.state.writers
    if not writers:
        raise HTTPException(403, "writes are disabled: the service has no SEEALSO_API_TOKEN(S)")
    if not authorization:
        raise HTTPException(401, "this needs a bearer token", headers={"WWW-Authenticate": "Bearer"})
    name = writers.name_of(authorization)
    if name is None:
        raise HTTPException(403, "wrong bearer token")
    return name if name == "api" else f"api:{name}"


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
RankerDep = Annotated[Ranker, Depends(get_ranker)]
KeywordsDep = Annotated[Keywords, Depends(get_keywords)]
ListQueryDep = Annotated[ListQuery, Depends(list_query)]
Writer = Depends(require_writer)
Author = Annotated[str, Depends(require_writer)]
K = Annotated[int, Query(ge=1, le=100, description="How many items, 1 to 100.")]
