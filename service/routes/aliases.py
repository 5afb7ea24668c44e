"""/v1/aliases: keywords that name the same thing, confirmed by editors into one keyword (one keyword
page, one entry in related keywords, each language keeping its name), and the pairs suggested."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from seealso.errors import AliasNotFound, InvalidAlias, KeywordNotFound, RejectionNotFound
from seealso.indexer.article import keyword_key
from seealso.ranking.aliases import suggest_aliases
from seealso.service.deps import Author, KeywordsDep, StoreDep, Writer
from seealso.service.middleware import decoded
from seealso.service.routes.overrides import ERRORS
from seealso.service.schemas import AliasGroupsOut, AliasIn, AliasSuggestionsOut

router = APIRouter(prefix="/v1/aliases", tags=["keywords"])


@router.get("", response_model=AliasGroupsOut)
def alias_groups(store: StoreDep) -> dict[str, Any]:
    """The confirmed alias groups, each under its key, with its name in each language."""
    groups = []
    for key, members in store.catalog.alias_groups().items():
        names = store.catalog.keyword_names(key)
        name = store.catalog.keyword_name(key) or key
        groups.append({"keyword": name, "key": key, "names": names, "aliases": members})
    return {"groups": groups}


@router.get("/suggested", response_model=AliasSuggestionsOut, responses=ERRORS, dependencies=[Writer])
def suggested_aliases(
    keywords: KeywordsDep, limit: Annotated[int, Query(ge=1, le=500, description="At most this many.")] = 50
) -> dict[str, Any]:
    """Pairs of keywords that may name the same thing, likeliest first, each with its evidence:
    names alike or editions of one story tagged one and the other, centroids alike, and seldom
    on one article together."""
    return {"items": [s.to_dict() for s in suggest_aliases(keywords, limit)]}


@router.post("", response_model=AliasGroupsOut, responses=ERRORS)
def change_alias(body: AliasIn, store: StoreDep, author: Author) -> dict[str, Any]:
    """Confirm two keywords as aliases (their groups become one), or reject them as a pair."""
    one, other = body.keywords
    for name in (one, other):
        if store.catalog.keyword_name(name) is None:
            raise KeywordNotFound(name)
    if keyword_key(one) == keyword_key(other):
        raise InvalidAlias(f"keywords: {one!r} and {other!r} are one keyword already")
    if body.action == "confirm":
        store.catalog.confirm_alias(one, other, author)
    else:
        store.catalog.reject_alias(one, other, author)
    store.refresh()
    return alias_groups(store)


@router.delete("/rejected/{one}/{other}", status_code=204, responses=ERRORS)
def take_back_rejection(one: str, other: str, store: StoreDep, author: Author) -> Response:
    """Take back the rejection of two keywords as aliases: they may be suggested again."""
    pair = tuple(sorted((keyword_key(decoded(one)), keyword_key(decoded(other)))))
    if pair not in store.catalog.rejected_aliases():
        raise RejectionNotFound(decoded(one), decoded(other))
    store.catalog.unreject_alias(decoded(one), decoded(other), author)
    return Response(status_code=204)


@router.delete("/{keyword}", status_code=204, responses=ERRORS)
def separate_alias(keyword: str, store: StoreDep, author: Author) -> Response:
    """Take a keyword out of its alias group: its own keyword again."""
    key = keyword_key(decoded(keyword))
    groups = store.catalog.alias_groups()
    if key not in groups and not any(key in members for members in groups.values()):
        raise AliasNotFound(decoded(keyword))
    store.catalog.separate_alias(decoded(keyword), author)
    store.refresh()
    return Response(status_code=204)
