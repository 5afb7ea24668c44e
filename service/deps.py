"""Dependencies that routes declare, so a route reads like prose."""

from __future__ import annotations

import dataclasses
import secrets
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request

from indexer.store import Store
from ranking import Filters, Keywords, Ranker
from ranking.shaping import ListRules
from seealso.config import Settings


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_ranker(request: Request) -> Ranker:
    return request.app.state.ranker


async def get_keywords(request: Request) -> Keywords:
    return request.app.state.keywords


async def get_filters(
    section: Annotated[str | None, Query(description="Section(s), comma-separated.")] = None,
    language: Annotated[str | None, Query(description="Language code(s), comma-separated.")] = None,
    since: Annotated[str | None, Query(description="Published at or after (ISO 8601).")] = None,
    until: Annotated[
        str | None, Query(description="Published up to (ISO 8601; a date includes its day).")
    ] = None,
    exclude: Annotated[
        list[str] | None,
        Query(description="Ids to leave out: repeat the parameter, or separate with commas."),
    ] = None,
    store: Store = Depends(get_store),
) -> Filters:
    ids: set[str] = set()
    for value in exclude or []:
        # An id may itself contain a comma: a value naming an existing article is taken whole.
        ids.update([value] if store.catalog.get(value) else [v for v in value.split(",") if v])
    return Filters.parse(section=section, language=language, since=since, until=until, exclude=ids)


async def get_rules(
    settings: Annotated[Settings, Depends(get_settings)],
    half_life: Annotated[
        float | None,
        Query(ge=0, le=36500, description="Freshness half-life in days, 0 for none (default: settings)."),
    ] = None,
) -> ListRules:
    rules = settings.list_rules()
    return rules if half_life is None else dataclasses.replace(rules, half_life_days=half_life)


async def require_writer(
    settings: Annotated[Settings, Depends(get_settings)],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> None:
    """Writes need `Authorization: Bearer <SEEALSO_API_TOKEN>`; with no token configured, none pass."""
    if settings.api_token is None:
        raise HTTPException(403, "writes are disabled: the service has no SEEALSO_API_TOKEN")
    if not authorization:
        raise HTTPException(401, "this needs a bearer token", headers={"WWW-Authenticate": "Bearer"})
    scheme, _, token = authorization.partition(" ")
    expected = settings.api_token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip().encode(), expected):
        raise HTTPException(403, "wrong bearer token")


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
RankerDep = Annotated[Ranker, Depends(get_ranker)]
KeywordsDep = Annotated[Keywords, Depends(get_keywords)]
FiltersDep = Annotated[Filters, Depends(get_filters)]
RulesDep = Annotated[ListRules, Depends(get_rules)]
Writer = Depends(require_writer)
K = Annotated[int, Query(ge=1, le=100, description="How many items, 1 to 100.")]
