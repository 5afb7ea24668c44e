"""How editors' overrides (`seealso.indexer.overrides`) change a list built by the ranking.

Blocked targets never appear. Pinned targets appear at their positions, and manual links appear
where their score puts them (or at their position when they have one); both are marked with their
origin and are shown even when filters on section, language or dates would leave them out: an
editor's choice for a page is part of that page. Overrides whose target no longer exists, or that
have expired, do nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from seealso.errors import ArticleNotFound, InvalidOverride, KeywordNotFound, OverrideNotFound
from seealso.indexer.article import keyword_key
from seealso.indexer.catalog import Catalog, utc_now
from seealso.indexer.overrides import EVERYWHERE, SCOPES, AuditEntry, Override

T = TypeVar("T")

ORIGINS = {"pin": "pinned", "link": "linked"}
EDITOR_FIELDS = ("action", "position", "expires_at", "author", "created_at")
MAX_BULK = 2000  # lists one bulk change reaches, at most (each is a page for the change feed)
__all__ = [
    "EVERYWHERE",
    "SCOPES",
    "InvalidOverride",
    "OverrideNotFound",
    "active_edits",
    "allow_everywhere",
    "block_everywhere",
    "change",
    "described",
    "merge",
    "pin_for_keyword",
    "remove",
    "unpin_for_keyword",
]


@dataclass(frozen=True)
class Edits:
    """The overrides of one list that apply now."""

    blocked: frozenset[str]  # those of the list and, for lists of articles, those of every list
    placed: list[Override]  # pins and links
    everywhere: frozenset[str] = frozenset()  # of `blocked`, those blocked from every list

    @property
    def targets(self) -> set[str]:
        return set(self.blocked) | {o.target for o in self.placed}

    def __bool__(self) -> bool:
        return bool(self.blocked or self.placed)


NO_EDITS = Edits(frozenset(), [])


def active_edits(catalog: Catalog, scope: str, source: str) -> Edits:
    """The overrides of the list `source` of `scope` that apply now; a list of articles (a related
    list or a keyword page) also leaves out what is blocked from every list."""
    now = utc_now()
    found = [o for o in catalog.overrides(scope, source) if o.active(now)]
    everywhere: frozenset[str] = frozenset()
    if scope in ("article", "keyword"):
        everywhere = frozenset(o.target for o in catalog.overrides("site", EVERYWHERE) if o.active(now))
        if scope == "article":
            everywhere -= {source}  # an article's own list is not a list it appears in
    if not found and not everywhere:
        return NO_EDITS
    blocked = frozenset(o.target for o in found if o.action == "block") | everywhere
    return Edits(
        blocked, [o for o in found if o.action != "block" and o.target not in everywhere], everywhere
    )


def editor_reason(override: Override) -> dict[str, Any]:
    """What an editor's item says about its override, in `reasons.editor`."""
    return {k: v for k, v in override.to_dict().items() if k in EDITOR_FIELDS}


def merge(
    automatic: list[T], placed: list[tuple[Override, T]], k: int, score: Callable[[T], float]
) -> list[T]:
    """The list of `k` items: `automatic` (without any placed or blocked target) with the editors'
    items put in; pins at their positions, links without one among the automatic items by score."""
    at_position = sorted(
        ((o.position, item) for o, item in placed if o.position is not None and o.position <= k),
        key=lambda pair: pair[0],
    )
    floating = [item for o, item in placed if o.position is None]
    body = list(automatic[: max(0, k - len(at_position) - len(floating))])
    for item in sorted(floating, key=score, reverse=True):
        place = next((i for i, other in enumerate(body) if score(other) < score(item)), len(body))
        body.insert(place, item)
    for position, item in at_position:  # ascending, so each lands at its position when it can
        body.insert(min(position - 1, len(body)), item)
    return body[:k]


# -- changes (shared by the API, the editor page and tests) -------------------------------------------


def source_key(catalog: Catalog, scope: str, source: str) -> str:
    """The stored source of a list: the article id (which must exist) or the keyword's key."""
    if scope == "site":
        if source != EVERYWHERE:
            raise InvalidOverride(f"scope site: the source is {EVERYWHERE!r}")
        return source
    if scope == "article":
        if catalog.get(source) is None:
            raise ArticleNotFound(source)
        return source
    if catalog.keyword_name(source) is None:
        raise KeywordNotFound(source)
    return catalog.canonical_key(source)  # an alias's list is its group's


def target_key(scope: str, target: str) -> str:
    return keyword_key(target) if scope == "keyword_related" else target


def change(
    catalog: Catalog,
    scope: str,
    source: str,
    target: str,
    action: str,
    *,
    position: int | None = None,
    expires_at: str | None = None,
    author: str,
) -> AuditEntry:
    """Pin, block or link `target` in the list of `source`; the target must exist."""
    key = source_key(catalog, scope, source)
    if scope == "keyword_related":
        if catalog.keyword_name(target) is None:
            raise InvalidOverride(f"target: no article carries the keyword {target!r}")
    elif catalog.get(target) is None:
        raise InvalidOverride(f"target: no article {target!r}")
    # The stored form (keyword keys, the expiry as a stamp) is made by indexer.overrides.validate.
    return catalog.set_override(Override(scope, key, target, action, position, expires_at), author)


def remove(catalog: Catalog, scope: str, source: str, target: str, *, author: str) -> AuditEntry | None:
    """Remove the override of `target` in the list of `source` (None when there is none)."""
    return catalog.remove_override(
        scope, source_key(catalog, scope, source), target_key(scope, target), author
    )


def block_everywhere(
    catalog: Catalog, target: str, *, expires_at: str | None = None, author: str
) -> AuditEntry:
    """Keep article `target` out of every list of articles (related lists and keyword pages)."""
    return change(catalog, "site", EVERYWHERE, target, "block", expires_at=expires_at, author=author)


def allow_everywhere(catalog: Catalog, target: str, *, author: str) -> AuditEntry | None:
    """Take back `block_everywhere` (None when the target was not blocked)."""
    return catalog.remove_override("site", EVERYWHERE, target, author)


def pin_for_keyword(
    catalog: Catalog,
    keyword: str,
    target: str,
    *,
    position: int = 1,
    expires_at: str | None = None,
    author: str,
) -> list[AuditEntry]:
    """Pin article `target` at `position` in the related list of every article tagged `keyword`
    now, in one transaction: one pin, and one log entry, a list. Left as they are: the target's
    own list, and lists where an editor blocked or linked the target (a pin there is replaced).
    Articles tagged later are not changed. At most MAX_BULK lists."""
    sources = _tagged(catalog, keyword)
    if catalog.get(target) is None:
        raise InvalidOverride(f"target: no article {target!r}")
    batch = [Override("article", s, target, "pin", position, expires_at) for s in sources if s != target]
    return catalog.set_overrides(batch, author, when=lambda before: before is None or before.action == "pin")


def unpin_for_keyword(catalog: Catalog, keyword: str, target: str, *, author: str) -> list[AuditEntry]:
    """Remove the pins of `target` from the related lists of the articles tagged `keyword`."""
    keys = [("article", s, target) for s in _tagged(catalog, keyword)]
    return catalog.remove_overrides(
        keys, author, when=lambda before: before is not None and before.action == "pin"
    )


def _tagged(catalog: Catalog, keyword: str) -> list[str]:
    """The ids of the articles tagged `keyword` (or an alias of it), sorted; at most MAX_BULK."""
    if catalog.keyword_name(keyword) is None:
        raise KeywordNotFound(keyword)
    vids = catalog.vids_with_keyword(keyword)
    if len(vids) > MAX_BULK:
        raise InvalidOverride(
            f"keyword: {len(vids)} articles carry it; a bulk change reaches at most {MAX_BULK} lists"
        )
    entries = catalog.get_by_vids(vids, bodies=False)
    return sorted(e.article.id for e in entries.values())


def described(catalog: Catalog, scope: str, source: str) -> list[dict[str, Any]]:
    """The overrides of a list, each with whether it applies now and whether its target exists."""
    now = utc_now()
    out = []
    for o in catalog.overrides(scope, source_key(catalog, scope, source)):
        exists = (
            catalog.keyword_name(o.target) is not None
            if scope == "keyword_related"
            else catalog.get(o.target) is not None
        )
        out.append({**o.to_dict(), "active": o.active(now), "target_exists": exists})
    return out
