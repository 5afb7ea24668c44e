"""/v1/changes: the change feed, which pages a write changed, for a site's CDN purges."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from seealso.ranking.pages import feed_entry
from seealso.service.deps import StoreDep
from seealso.service.schemas import ChangesOut, Error

router = APIRouter(prefix="/v1", tags=["changes"])


@router.get("/changes", response_model=ChangesOut, responses={410: {"model": Error}})
def changes(
    store: StoreDep,
    since: Annotated[int, Query(ge=0, le=2**62, description="The last seq already handled; 0 at first.")] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000, description="At most this many pages.")] = 1000,
) -> Any:
    """The pages that changed after `since`, in order: purge them (or their `tag`), then ask again
    with `since=next`. A `since` older than the feed keeps answers 410: fetch what you show again
    (a resync), then follow from the `seq` this error gives."""
    catalog = store.catalog
    first, last = catalog.page_bounds()
    if since < first or since > last:
        problem = "older than the feed keeps" if since < first else "beyond the feed's last seq"
        return JSONResponse(
            {
                "error": "gone",
                "message": f"since={since} is {problem}: resync every page, then follow from seq {last}",
                "seq": last,
            },
            status_code=410,
        )
    found = catalog.page_changes(since, limit)
    pages = [feed_entry(c.kind, c.key, c.url, c.gone, c.seq) for c in found]
    return {"seq": last, "pages": pages, "next": found[-1].seq if found else since}
