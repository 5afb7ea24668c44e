"""/v1/search (free text) and /v1/similarity (scores of article pairs)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.deps import LIST_PARAMETERS, ListQueryDep, RankerDep, SettingsDep
from service.schemas import Error, SearchOut, SimilarityIn, SimilarityOut

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


@router.post("/similarity", response_model=SimilarityOut, responses={422: {"model": Error}})
def similarity(body: SimilarityIn, ranker: RankerDep, settings: SettingsDep) -> dict[str, Any]:
    """The relevance score of each pair (the score of related lists and of `seealso check-links`),
    with its rank in the source's related list and a verdict; an unknown id is an error in its row."""
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
