"""Editors' fixes of an article's keywords: add one (a suggestion accepted), remove one, reject a
suggestion, or take a fix back. Kept by article id, so a reindex keeps them; every route needs a
bearer token, and the token's name is the fix's author."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from seealso.errors import ArticleNotFound, KeywordEditNotFound
from seealso.indexer.article import keyword_key
from seealso.indexer.store import Store
from seealso.service.deps import Author, StoreDep, Writer
from seealso.service.middleware import decoded
from seealso.service.routes.overrides import ERRORS
from seealso.service.schemas import KeywordEditIn, KeywordEditsOut

router = APIRouter(prefix="/v1/articles", tags=["keywords"], dependencies=[Writer])


def described(store: Store, article_id: str) -> dict[str, Any]:
    store.refresh()
    entry = store.catalog.get(article_id)
    if entry is None:
        raise ArticleNotFound(article_id)
    return {
        "article": article_id,
        "keywords": list(entry.article.keywords),
        "given": list(store.catalog.given_keywords(article_id)),
        "edits": [e.__dict__ for e in store.catalog.keyword_edits(article_id)],
    }


@router.get("/{article_id}/keyword-edits", response_model=KeywordEditsOut, responses=ERRORS)
def keyword_edits(article_id: str, store: StoreDep) -> dict[str, Any]:
    """The article's keywords as the site sent them, as it carries them, and the fixes between."""
    return described(store, decoded(article_id))


@router.post("/{article_id}/keyword-edits", response_model=KeywordEditsOut, responses=ERRORS)
def edit_keyword(article_id: str, body: KeywordEditIn, store: StoreDep, author: Author) -> dict[str, Any]:
    """Add, remove or reject a keyword for this article (replacing any fix of the same keyword).
    The article's lists and keyword pages follow at once, and the change feed logs them."""
    store.catalog.edit_keyword(decoded(article_id), body.keyword, body.action, author)
    return described(store, decoded(article_id))


@router.delete("/{article_id}/keyword-edits/{keyword}", status_code=204, responses=ERRORS)
def remove_keyword_edit(article_id: str, keyword: str, store: StoreDep, author: Author) -> Response:
    """Take back the fix of `keyword`: the article carries what the site sent for it again."""
    name = decoded(article_id)
    if keyword_key(decoded(keyword)) not in {
        keyword_key(e.keyword) for e in store.catalog.keyword_edits(name)
    }:
        raise (
            ArticleNotFound(name)
            if store.catalog.get(name) is None
            else KeywordEditNotFound(decoded(keyword))
        )
    store.catalog.edit_keyword(name, decoded(keyword), None, author)
    return Response(status_code=204)
