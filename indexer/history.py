"""Every write to the catalog and who made it: articles added, updated and deleted (by a batch
run, by the API under its token's name, from the command line), editors' keyword fixes and alias
changes. The editor's audit log shows it beside the overrides' log (`seealso.indexer.overrides`),
filtered by who, what and when, and exports it as CSV.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from typing import Any

# What a write did, as the log names it.
CHANGES = (
    "added", "updated", "deleted", "keyword added", "keyword removed", "keyword rejected",
    "keyword fix taken back", "alias confirmed", "alias rejected", "alias rejection taken back",
    "alias separated",
)  # fmt: skip


def create_tables(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE write_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,"
        " author TEXT NOT NULL, change TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL,"
        " detail TEXT)"
    )
    db.execute("CREATE INDEX write_log_subject ON write_log (subject, id)")
    db.execute("CREATE INDEX write_log_author ON write_log (author, id)")
    db.execute("CREATE INDEX write_log_at ON write_log (at)")


@dataclass(frozen=True)
class WriteEntry:
    id: int
    at: str
    author: str
    change: str  # one of CHANGES
    kind: str  # "article" or "keyword": what `subject` names (an id or a keyword's key)
    subject: str
    detail: str | None  # the keyword of a fix, the other keyword of an alias

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def log(
    db: sqlite3.Connection,
    at: str,
    author: str,
    change: str,
    kind: str,
    subject: str,
    detail: str | None = None,
) -> None:
    """Record one write; the caller holds the write's transaction (a write and its record are one)."""
    db.execute(
        "INSERT INTO write_log (at, author, change, kind, subject, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (at, author, change, kind, subject, detail),
    )


def entries(
    db: sqlite3.Connection,
    limit: int = 100,
    before_id: int | None = None,
    *,
    author: str | None = None,
    change: str | None = None,
    subject: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[WriteEntry]:
    """The latest writes first, narrowed by who (`author`), what (`change`, `subject`) and when
    (`since` ≤ at < `until`, UTC stamps or their prefixes, such as a date)."""
    where: list[str] = ["id < ?"]
    values: list[object] = [before_id if before_id is not None else 2**62]
    for column, value in (("author", author), ("change", change), ("subject", subject)):
        if value:
            where.append(f"{column} = ?")
            values.append(value)
    if since:
        where.append("at >= ?")
        values.append(since)
    if until:
        where.append("at < ?")
        values.append(until)
    rows = db.execute(
        "SELECT id, at, author, change, kind, subject, detail FROM write_log"
        f" WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
        (*values, limit),
    ).fetchall()
    return [WriteEntry(*row) for row in rows]


def authors(db: sqlite3.Connection) -> list[str]:
    return [row[0] for row in db.execute("SELECT DISTINCT author FROM write_log ORDER BY author")]
