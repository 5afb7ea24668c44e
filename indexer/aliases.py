"""Keyword aliases that editors confirmed: keywords naming the same thing (ECOWAS and CEDEAO,
junta and junte) made one keyword, under the key of the one most used (its "canonical" key).

`keyword_aliases` maps each member's key to its group's canonical key (the canonical key itself
has no row); `article_keywords` stores the canonical key beside each keyword as written, so
statistics, keyword pages and related keywords see one keyword, and each language keeps its own
spelling. `alias_rejections` keeps the pairs editors said are not aliases (never suggested
again). All of it is keyed by keyword keys, so reindexing keeps it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from seealso.indexer.article import keyword_key


def create_tables(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE keyword_aliases (key TEXT PRIMARY KEY, canonical TEXT NOT NULL,"
        " author TEXT NOT NULL, at TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX keyword_aliases_canonical ON keyword_aliases (canonical)")
    db.execute(
        "CREATE TABLE alias_rejections (a TEXT NOT NULL, b TEXT NOT NULL, author TEXT NOT NULL,"
        " at TEXT NOT NULL, PRIMARY KEY (a, b))"
    )


def canonical(db: sqlite3.Connection, key: str) -> str:
    """The key a keyword's key stands for: its group's, or its own."""
    row = db.execute("SELECT canonical FROM keyword_aliases WHERE key = ?", (key,)).fetchone()
    return key if row is None else str(row[0])


def canonical_map(db: sqlite3.Connection, keys: Iterable[str]) -> dict[str, str]:
    """key → canonical key, for those of `keys` that are aliases."""
    wanted = sorted(set(keys))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(db.execute(f"SELECT key, canonical FROM keyword_aliases WHERE key IN ({marks})", chunk))
    return found


def groups(db: sqlite3.Connection) -> dict[str, list[str]]:
    """canonical key → the keys of its aliases."""
    found: dict[str, list[str]] = {}
    for key, target in db.execute("SELECT key, canonical FROM keyword_aliases ORDER BY canonical, key"):
        found.setdefault(target, []).append(key)
    return found


def rejected(db: sqlite3.Connection) -> set[tuple[str, str]]:
    return {(a, b) for a, b in db.execute("SELECT a, b FROM alias_rejections")}


def _count(db: sqlite3.Connection, key: str) -> int:
    return int(db.execute("SELECT count(*) FROM article_keywords WHERE key = ?", (key,)).fetchone()[0])


def confirm(db: sqlite3.Connection, one: str, other: str, author: str, at: str) -> list[int]:
    """Make the keywords of keys `one` and `other` (and their groups) one keyword, under the key
    of the one more articles carry; the caller holds a transaction. Returns the vids whose keys
    changed."""
    first, second = canonical(db, one), canonical(db, other)
    if first == second:
        return []
    keep, fold = sorted((first, second), key=lambda k: (-_count(db, k), k))
    members = [
        fold,
        *(key for (key,) in db.execute("SELECT key FROM keyword_aliases WHERE canonical = ?", (fold,))),
    ]
    db.executemany(
        "INSERT INTO keyword_aliases (key, canonical, author, at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET canonical = excluded.canonical, author = excluded.author,"
        " at = excluded.at",
        [(key, keep, author, at) for key in members],
    )
    db.execute("DELETE FROM alias_rejections WHERE (a, b) = (?, ?)", tuple(sorted((one, other))))
    marks = ",".join("?" * len(members))
    vids = [
        row[0]
        for row in db.execute(f"SELECT DISTINCT vid FROM article_keywords WHERE key IN ({marks})", members)
    ]
    # An article that carries both keeps one row (the other spelling is its duplicate now).
    db.execute(f"UPDATE OR IGNORE article_keywords SET key = ? WHERE key IN ({marks})", [keep, *members])
    db.execute(f"DELETE FROM article_keywords WHERE key IN ({marks})", members)
    return vids


def separate(db: sqlite3.Connection, key: str) -> list[int]:
    """Take keyword `key` out of its group (it is its own keyword again); the caller holds a
    transaction. Returns the vids whose keys changed."""
    target = canonical(db, key)
    if target == key:
        members = [k for (k,) in db.execute("SELECT key FROM keyword_aliases WHERE canonical = ?", (key,))]
        if not members:
            return []
        # The group's own key leaves: the most used of the rest leads what is left of it.
        rest = sorted(members, key=lambda k: (-_spelled(db, key, k), k))
        db.execute("UPDATE keyword_aliases SET canonical = ? WHERE canonical = ?", (rest[0], key))
        db.execute("DELETE FROM keyword_aliases WHERE key = ?", (rest[0],))
        moved = [(vid, written) for vid, written in _rows(db, key) if keyword_key(written) != key]
        return _rekey(
            db, key, [(vid, written, canonical(db, keyword_key(written))) for vid, written in moved]
        )
    db.execute("DELETE FROM keyword_aliases WHERE key = ?", (key,))
    moved = [(vid, written) for vid, written in _rows(db, target) if keyword_key(written) == key]
    return _rekey(db, target, [(vid, written, key) for vid, written in moved])


def reject(db: sqlite3.Connection, one: str, other: str, author: str, at: str) -> list[int]:
    """Keep that keys `one` and `other` are not aliases (no article changes: returns [])."""
    a, b = sorted((one, other))
    db.execute(
        "INSERT INTO alias_rejections (a, b, author, at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (a, b) DO UPDATE SET author = excluded.author, at = excluded.at",
        (a, b, author, at),
    )
    return []


def unreject(db: sqlite3.Connection, one: str, other: str) -> list[int]:
    """Take back a rejection: the pair may be suggested again (no article changes: returns [])."""
    db.execute("DELETE FROM alias_rejections WHERE (a, b) = (?, ?)", tuple(sorted((one, other))))
    return []


def _rows(db: sqlite3.Connection, key: str) -> list[tuple[int, str]]:
    return db.execute("SELECT vid, keyword FROM article_keywords WHERE key = ?", (key,)).fetchall()


def _spelled(db: sqlite3.Connection, key: str, member: str) -> int:
    return sum(1 for _, written in _rows(db, key) if keyword_key(written) == member)


def _rekey(db: sqlite3.Connection, key: str, moves: list[tuple[int, str, str]]) -> list[int]:
    db.executemany(
        "UPDATE OR IGNORE article_keywords SET key = ? WHERE vid = ? AND key = ? AND keyword = ?",
        [(new, vid, key, written) for vid, written, new in moves],
    )
    return sorted({vid for vid, _, _ in moves})
