"""Editors' corrections to lists: pins, blocks and manual links, and the audit log of every change.

An override is keyed by article ids and keyword keys, never by vector ids, so a full reindex, an
incremental run, a prune or a change of model keeps it. A deleted article drops out of every list
when lists are built (its overrides stay, inert, and come back if it is published again); the log
keeps everything.

Scopes:
    article          the related list of article `source`; `target` is an article id
    keyword          the article list of keyword `source` (its key); `target` is an article id
    keyword_related  the related keywords of keyword `source`; `target` is a keyword key
    site             every list of articles (related lists and keyword pages): `source` is
                     EVERYWHERE, `target` an article id, and the one action is block
Actions:
    pin    show `target` at `position` (1 = first)
    block  never show `target` in this list
    link   show `target`, an article or keyword the ranking did not suggest (at `position`, or
           where its score puts it)
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from typing import Any

from seealso.errors import InvalidOverride
from seealso.indexer import dates
from seealso.indexer.article import check_storable, keyword_key

SCOPES = ("article", "keyword", "keyword_related", "site")
EVERYWHERE = "*"  # the source of a site-wide override
ACTIONS = ("pin", "block", "link")
MAX_POSITION = 100


@dataclass(frozen=True)
class Override:
    scope: str
    source: str
    target: str
    action: str
    position: int | None = None
    expires_at: str | None = None
    author: str = ""
    created_at: str = ""

    def active(self, now: str) -> bool:
        """Whether it applies at `now` (a UTC stamp like `utc_now()`)."""
        return self.expires_at is None or self.expires_at > now

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AuditEntry:
    """One change: the override before and after it (None where there was none)."""

    id: int
    at: str
    author: str
    change: str  # set, remove or undo
    scope: str
    source: str
    target: str
    before: Override | None
    after: Override | None

    def to_dict(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in asdict(self).items() if k not in ("before", "after")},
            "before": self.before.to_dict() if self.before else None,
            "after": self.after.to_dict() if self.after else None,
        }


def create_tables(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE overrides ("
        " scope TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL,"
        " action TEXT NOT NULL CHECK (action IN ('pin', 'block', 'link')),"
        " position INTEGER, expires_at TEXT, author TEXT NOT NULL, created_at TEXT NOT NULL,"
        " PRIMARY KEY (scope, source, target))"
    )
    db.execute(
        "CREATE TABLE audit_log ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, author TEXT NOT NULL,"
        " change TEXT NOT NULL, scope TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL,"
        " before TEXT, after TEXT)"
    )
    db.execute("CREATE INDEX audit_log_source ON audit_log (scope, source, id)")
    db.execute("CREATE INDEX articles_url ON articles (url)")


def expiry(value: str | None) -> str | None:
    """An expiry as a UTC stamp: a date means the end of that day; empty means never."""
    if value is None or not value.strip():
        return None
    try:
        if not dates.is_date(value):
            return dates.normalize(value)
        return dates.end_of(value)  # None past 9999-12-31: it never ends
    except dates.InvalidDate as exc:
        raise InvalidOverride(f"expires_at: {exc}") from None


def validate(override: Override) -> Override:
    """The override checked and normalized (a pin without a position goes first, an expiry is a
    stamp). Every way in (the API, the editor page, `overrides import`) comes through here."""
    for name in ("scope", "source", "target", "action", "author"):
        value = getattr(override, name)
        if not isinstance(value, str):
            raise InvalidOverride(f"{name}: must be a string")
        try:
            check_storable(value)
        except ValueError as exc:
            raise InvalidOverride(f"{name}: {exc}") from None
    if override.position is not None and (
        isinstance(override.position, bool) or not isinstance(override.position, int)
    ):
        raise InvalidOverride("position: must be a whole number")
    if override.expires_at is not None and not isinstance(override.expires_at, str):
        raise InvalidOverride("expires_at: must be an ISO 8601 date or date-time")
    if override.scope not in SCOPES:
        raise InvalidOverride(f"scope: must be one of {', '.join(SCOPES)}")
    if override.action not in ACTIONS:
        raise InvalidOverride(f"action: must be one of {', '.join(ACTIONS)}, not {override.action!r}")
    # Keywords are stored by their keys (case and spaces folded), as lists look them up.
    if override.scope == "site" and (override.source != EVERYWHERE or override.action != "block"):
        raise InvalidOverride(f"scope site: the source is {EVERYWHERE!r} and the action is block")
    by_id = override.scope in ("article", "site")
    source = override.source if by_id else keyword_key(override.source)
    target = keyword_key(override.target) if override.scope == "keyword_related" else override.target
    if not source:
        raise InvalidOverride("source: an id or a keyword is needed")
    if not target:
        raise InvalidOverride("target: an id is needed")
    if target == source:
        raise InvalidOverride("target: a list cannot link to its own article or keyword")
    position = override.position
    if override.action == "block":
        position = None
    elif override.action == "pin" and position is None:
        position = 1
    if position is not None and not 1 <= position <= MAX_POSITION:
        raise InvalidOverride(f"position: must be between 1 and {MAX_POSITION}")
    return Override(
        override.scope, source, target, override.action, position,
        expiry(override.expires_at), override.author, override.created_at,
    )  # fmt: skip


_COLUMNS = "scope, source, target, action, position, expires_at, author, created_at"


def for_source(db: sqlite3.Connection, scope: str, source: str) -> list[Override]:
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM overrides WHERE scope = ? AND source = ? ORDER BY action, position, target",
        (scope, source),
    ).fetchall()
    return [Override(*row) for row in rows]


def every(db: sqlite3.Connection) -> list[Override]:
    rows = db.execute(f"SELECT {_COLUMNS} FROM overrides ORDER BY scope, source, target").fetchall()
    return [Override(*row) for row in rows]


def get(db: sqlite3.Connection, scope: str, source: str, target: str) -> Override | None:
    row = db.execute(
        f"SELECT {_COLUMNS} FROM overrides WHERE scope = ? AND source = ? AND target = ?",
        (scope, source, target),
    ).fetchone()
    return None if row is None else Override(*row)


def put(db: sqlite3.Connection, override: Override | None, scope: str, source: str, target: str) -> None:
    """Make the stored override of (scope, source, target) `override` (None removes it)."""
    db.execute("DELETE FROM overrides WHERE scope = ? AND source = ? AND target = ?", (scope, source, target))
    if override is not None:
        db.execute(
            f"INSERT INTO overrides ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                override.scope, override.source, override.target, override.action, override.position,
                override.expires_at, override.author, override.created_at,
            ),
        )  # fmt: skip


def log(
    db: sqlite3.Connection,
    at: str,
    author: str,
    change: str,
    before: Override | None,
    after: Override | None,
    key: tuple[str, str, str],
) -> AuditEntry:
    cursor = db.execute(
        "INSERT INTO audit_log (at, author, change, scope, source, target, before, after)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (at, author, change, *key, _json(before), _json(after)),
    )
    assert cursor.lastrowid is not None
    return AuditEntry(cursor.lastrowid, at, author, change, *key, before, after)


def audit_entry(db: sqlite3.Connection, entry_id: int) -> AuditEntry | None:
    row = db.execute(f"SELECT {_AUDIT_COLUMNS} FROM audit_log WHERE id = ?", (entry_id,)).fetchone()
    return None if row is None else _audit(row)


def audit(
    db: sqlite3.Connection, limit: int = 100, before_id: int | None = None, source: str | None = None
) -> list[AuditEntry]:
    """The latest changes first; `source` narrows them to one article or keyword."""
    where: list[str] = ["id < ?"]
    values: list[object] = [before_id if before_id is not None else 2**62]
    if source is not None:
        where.append("source = ?")
        values.append(source)
    rows = db.execute(
        f"SELECT {_AUDIT_COLUMNS} FROM audit_log WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
        (*values, limit),
    ).fetchall()
    return [_audit(row) for row in rows]


def version(db: sqlite3.Connection) -> int:
    """Grows with every change of any override (for caches of lists)."""
    return int(db.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0])


_AUDIT_COLUMNS = "id, at, author, change, scope, source, target, before, after"


def _audit(row: tuple[Any, ...]) -> AuditEntry:
    entry_id, at, author, change, scope, source, target, before, after = row
    return AuditEntry(entry_id, at, author, change, scope, source, target, _load(before), _load(after))


def _json(override: Override | None) -> str | None:
    return None if override is None else json.dumps(override.to_dict())


def _load(text: str | None) -> Override | None:
    return None if text is None else Override(**json.loads(text))
