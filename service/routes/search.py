"""/v1/search (free text) and /v1/similarity (scores of article pairs)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request

from seealso.service.deps import (
    LIST_PARAMETERS,
    HeavyRequests,
    ListQueryDep,
    RankerDep,
    SettingsDep,
    Writers,
)
from seealso.service.schemas import Error, SearchOut, SimilarityIn, SimilarityOut

router = APIRouter(prefix="/v1", tags=["search"])


@router.get(
    "/search", response_model=SearchOut, responses={422: {"model": Error}}, openapi_extra=LIST_PARAMETERS
)
def search(
    q: Annotated[str, Query(min_length=1, max_length=2000, description="The text to search for.")],
    query: ListQueryDep,
    ranker: RankerDep,
) -> dict[str, Any]:
    """Articles most relevant to a free text, with the same list rules as related lists (but no
    minimum score: a search returns its best matches)."""
    return ranker.search(q, query.k, query.filters, query.rules).to_dict()


@router.post(
    "/similarity", response_model=SimilarityOut, responses={422: {"model": Error}, 503: {"model": Error}}
)
def similarity(
    body: SimilarityIn,
    request: Request,
    ranker: RankerDep,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> dict[str, Any]:
    """The relevance score of each pair (the score of related lists and of `seealso check-links`),
    with its rank in the source's related list and a verdict; an unknown id is an error in its row.

    Without a bearer token, a request scores at most `SEEALSO_SIMILARITY_MAX_PAIRS` pairs (100) and
    only a few run at once (503 with Retry-After beyond); with one, up to 1,000 pairs."""
    writers: Writers = request.app.state.writers
    if writers.name_of(authorization) is not None:
        return _scores(body, ranker, settings)
    if len(body.pairs) > settings.similarity_max_pairs:
        raise HTTPException(
            422,
            f"pairs: at most {settings.similarity_max_pairs} pairs without a bearer token "
            f"(this request has {len(body.pairs)}); with one, up to 1,000",
        )
    heavy: HeavyRequests = request.app.state.heavy_requests
    with heavy.slot() as running:
        if not running:
            raise HTTPException(
                503, "too many similarity requests at once; retry shortly", headers={"Retry-After": "1"}
            )
        return _scores(body, ranker, settings)


def _scores(body: SimilarityIn, ranker: RankerDep, settings: SettingsDep) -> dict[str, Any]:
    checks = ranker.check_links(
        [(p.source, p.target) for p in body.pairs],
        weak=settings.weak_link_score,
        strong=settings.strong_link_score,
    )
    return {
        "items": [
            {
                "source": c.source,
                "target": c.target,
                "score": c.score,
                "rank": c.rank,
                "verdict": c.verdict,
                "reasons": c.reasons,
            }
            for c in checks
        ]
    }
