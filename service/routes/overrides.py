"""Editors' overrides as an API: pin, block or link a target in an article's or a keyword's lists;
keep an article out of every list (`/v1/blocks`); pin an article for every article with a keyword.

Every route needs a bearer token; changes are logged with the token's name as the author (`api`
for SEEALSO_API_TOKEN, `api:<name>` for one of SEEALSO_API_TOKENS).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

from seealso.ranking import overrides
from seealso.service.deps import Author, StoreDep, Writer
from seealso.service.middleware import decoded
from seealso.service.schemas import (
    BlockIn,
    Error,
    KeywordPinIn,
    KeywordPinsOut,
    OverrideIn,
    OverrideOut,
    OverridesOut,
)

router = APIRouter(tags=["overrides"], dependencies=[Writer])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Error},
    403: {"model": Error},
    404: {"model": Error},
    422: {"model": Error},
}


def _scope(kind: str, list_name: str) -> str:
    if kind == "article":
        return "article"
    return "keyword_related" if list_name == "keywords" else "keyword"


def _one(store: StoreDep, scope: str, source: str, target: str) -> dict[str, Any]:
    key = overrides.target_key(scope, target)
    return next(o for o in overrides.described(store.catalog, scope, source) if o["target"] == key)


@router.get("/v1/articles/{article_id}/overrides", response_model=OverridesOut, responses=ERRORS)
def article_overrides(article_id: str, store: StoreDep) -> dict[str, Any]:
    """The editors' pins, blocks and links in this article's related list (expired ones included,
    marked `active: false`)."""
    source = decoded(article_id)
    return {"source": source, "overrides": overrides.described(store.catalog, "article", source)}


@router.post(
    "/v1/articles/{article_id}/overrides", status_code=201, response_model=OverrideOut, responses=ERRORS
)
def add_article_override(
    article_id: str, body: OverrideIn, store: StoreDep, author: Author
) -> dict[str, Any]:
    """Pin, block or link `target` in this article's related list (replacing any override of the
    same target). A pin goes at `position` (default 1); a link without a position goes where its
    score puts it."""
    source = decoded(article_id)
    overrides.change(
        store.catalog, "article", source, body.target, body.action,
        position=body.position, expires_at=body.expires_at, author=author,
    )  # fmt: skip
    return _one(store, "article", source, body.target)


@router.delete("/v1/articles/{article_id}/overrides/{target}", status_code=204, responses=ERRORS)
def remove_article_override(article_id: str, target: str, store: StoreDep, author: Author) -> Response:
    """Remove the override of `target` from this article's related list."""
    if (
        overrides.remove(store.catalog, "article", decoded(article_id), decoded(target), author=author)
        is None
    ):
        raise overrides.OverrideNotFound(decoded(target))
    return Response(status_code=204)


LIST = Query("articles", description="articles: the keyword's article list; keywords: its related keywords.")


@router.get("/v1/keywords/{keyword}/overrides", response_model=OverridesOut, responses=ERRORS)
def keyword_overrides(keyword: str, store: StoreDep, list: str = LIST) -> dict[str, Any]:
    """The editors' overrides of a keyword page: its article list (default) or related keywords."""
    source = decoded(keyword)
    scope = _scope("keyword", _list_name(list))
    return {"source": source, "overrides": overrides.described(store.catalog, scope, source)}


@router.post(
    "/v1/keywords/{keyword}/overrides", status_code=201, response_model=OverrideOut, responses=ERRORS
)
def add_keyword_override(keyword: str, body: OverrideIn, store: StoreDep, author: Author) -> dict[str, Any]:
    """Pin, block or link an article (`list: articles`) or a keyword (`list: keywords`) on a
    keyword page."""
    source, scope = decoded(keyword), _scope("keyword", body.list)
    overrides.change(
        store.catalog, scope, source, body.target, body.action,
        position=body.position, expires_at=body.expires_at, author=author,
    )  # fmt: skip
    return _one(store, scope, source, body.target)


@router.delete("/v1/keywords/{keyword}/overrides/{target}", status_code=204, responses=ERRORS)
def remove_keyword_override(
    keyword: str,
    target: str,
    store: StoreDep,
    author: Author,
    list: str = LIST,
) -> Response:
    """Remove the override of `target` from a keyword page's article list or related keywords."""
    scope = _scope("keyword", _list_name(list))
    if overrides.remove(store.catalog, scope, decoded(keyword), decoded(target), author=author) is None:
        raise overrides.OverrideNotFound(decoded(target))
    return Response(status_code=204)


def _list_name(value: str) -> str:
    if value not in ("articles", "keywords"):
        raise overrides.InvalidOverride("list: must be articles or keywords")
    return value


@router.get("/v1/blocks", response_model=OverridesOut, responses=ERRORS)
def blocks(store: StoreDep) -> dict[str, Any]:
    """The articles kept out of every list of articles: related lists and keyword pages."""
    everywhere = overrides.EVERYWHERE
    return {"source": everywhere, "overrides": overrides.described(store.catalog, "site", everywhere)}


@router.post("/v1/blocks", status_code=201, response_model=OverrideOut, responses=ERRORS)
def add_block(body: BlockIn, store: StoreDep, author: Author) -> dict[str, Any]:
    """Keep article `target` out of every related list and keyword page (until `expires_at`, when
    given); its own page and related list are unchanged. Pages that showed it are in the feed."""
    overrides.block_everywhere(store.catalog, body.target, expires_at=body.expires_at, author=author)
    return _one(store, "site", overrides.EVERYWHERE, body.target)


@router.delete("/v1/blocks/{target}", status_code=204, responses=ERRORS)
def remove_block(target: str, store: StoreDep, author: Author) -> Response:
    """Let article `target` into the lists again."""
    if overrides.allow_everywhere(store.catalog, decoded(target), author=author) is None:
        raise overrides.OverrideNotFound(decoded(target))
    return Response(status_code=204)


@router.post("/v1/keywords/{keyword}/pins", status_code=201, response_model=KeywordPinsOut, responses=ERRORS)
def pin_for_keyword(keyword: str, body: KeywordPinIn, store: StoreDep, author: Author) -> dict[str, Any]:
    """Pin article `target` at `position` in the related list of every article tagged with the
    keyword now (one pin a list, logged as such, in one transaction). Articles tagged later are
    not changed."""
    name = decoded(keyword)
    done = overrides.pin_for_keyword(
        store.catalog, name, body.target, position=body.position, expires_at=body.expires_at, author=author
    )
    return {"keyword": name, "target": body.target, "articles": [e.source for e in done]}


@router.delete("/v1/keywords/{keyword}/pins/{target}", responses=ERRORS, response_model=KeywordPinsOut)
def unpin_for_keyword(keyword: str, target: str, store: StoreDep, author: Author) -> dict[str, Any]:
    """Remove the pins of `target` from the related lists of the articles tagged with the keyword."""
    name, article = decoded(keyword), decoded(target)
    done = overrides.unpin_for_keyword(store.catalog, name, article, author=author)
    if not done:
        raise overrides.OverrideNotFound(article)
    return {"keyword": name, "target": article, "articles": [e.source for e in done]}
