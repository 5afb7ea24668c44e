"""The pages seealso serves, as last computed, and the log of their changes (the change feed).

A page is one list a site shows: the related list of an article (`related`, keyed by its id), the
article list of a keyword page (`keyword`) or its related keywords (`keyword_related`, both keyed
by the keyword's key). For each, `pages` keeps what decides whether a write can change it
(`seealso.ranking.pages` computes these): a hash of what the page shows (`face`); the lowest dense
score it read (`floor`, -1 when any article may enter) and the one a new article must reach to
enter its candidates (`bar`; NULL in pages stored before it); what else a change is checked
against before the page is computed again (`checks`, JSON: a related page's full-text search
and a digest of what it found); the vector it was
searched with (`center`, for keyword pages; a related page is searched with its article's
vector); the full-text tokens its lexical candidates were searched with (`page_words`); and in
`page_reads` and `page_keywords`, what it read: articles by vid, keywords by key.

`page_changes` is the feed: one row a changed page, in order; it keeps the last
`retain` rows. `webhook_cursors` keeps how far each webhook has been delivered.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

KINDS = ("related", "keyword", "keyword_related")
# The tables of what pages read, and their column: articles by vid, keywords by key, tokens.
READS = {"page_reads": "vid", "page_keywords": "key", "page_words": "phrase"}


def create_tables(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE pages ("
        " pid INTEGER PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL, vid INTEGER,"
        " face TEXT NOT NULL, floor REAL NOT NULL, center BLOB, tags TEXT NOT NULL, url TEXT,"
        " computed INTEGER NOT NULL, UNIQUE (kind, key))"
    )
    db.execute("CREATE INDEX pages_computed ON pages (computed)")
    # What each page read, by page id: articles by vid, keywords by key, full-text tokens.
    for table, column in READS.items():
        db.execute(
            f"CREATE TABLE {table} ({column} {'INTEGER' if column == 'vid' else 'TEXT'} NOT NULL,"
            f" pid INTEGER NOT NULL, PRIMARY KEY ({column}, pid)) WITHOUT ROWID"
        )
        db.execute(f"CREATE INDEX {table}_pid ON {table} (pid)")
    # A phrase is found by its last token (a name's most telling part, as a rule).
    db.execute("ALTER TABLE page_words ADD COLUMN last TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE INDEX page_words_last ON page_words (last)")
    db.execute(
        "CREATE TABLE page_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
        " key TEXT NOT NULL, url TEXT, gone INTEGER NOT NULL, at TEXT NOT NULL)"
    )
    db.execute(
        "CREATE TABLE webhook_cursors (url TEXT PRIMARY KEY, seq INTEGER NOT NULL, failures INTEGER NOT NULL,"
        " last_error TEXT, last_attempt TEXT, delivered_at TEXT)"
    )


@dataclass(frozen=True)
class Page:
    """One page as computed (see the module's docstring)."""

    kind: str
    key: str
    face: str
    floor: float
    reads: frozenset[int]  # vids
    bar: float | None = None
    checks: str | None = None  # JSON (see the module's docstring)
    keywords: frozenset[str] = frozenset()  # keys
    words: frozenset[str] = frozenset()  # phrases: a word's or a name's tokens, space-separated
    center: np.ndarray | None = None
    vid: int | None = None
    tags: tuple[str, ...] = ()
    url: str | None = None


@dataclass(frozen=True)
class PageChange:
    seq: int
    kind: str
    key: str
    url: str | None
    gone: bool
    at: str


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def faces(db: sqlite3.Connection, kind: str) -> dict[str, str]:
    return dict(db.execute("SELECT key, face FROM pages WHERE kind = ?", (kind,)).fetchall())


def related_floors(db: sqlite3.Connection) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vids, floors, bars) of every related page (a bar not stored is its floor)."""
    rows = db.execute(
        "SELECT vid, floor, coalesce(bar, floor) FROM pages WHERE kind = 'related' AND vid IS NOT NULL"
    ).fetchall()
    vids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    floors = np.fromiter((r[1] for r in rows), dtype=np.float32, count=len(rows))
    return vids, floors, np.fromiter((r[2] for r in rows), dtype=np.float32, count=len(rows))


def checks(db: sqlite3.Connection, kind: str, keys: Sequence[str]) -> dict[str, str | None]:
    """key → `checks` of the pages of `kind` and `keys`."""
    found: dict[str, str | None] = {}
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        rows = db.execute(
            f"SELECT key, checks FROM pages WHERE kind = ? AND key IN ({_marks(chunk)})", [kind, *chunk]
        )
        found.update(rows.fetchall())
    return found


def bars(db: sqlite3.Connection, kind: str) -> dict[str, float | None]:
    """key → bar of every page of `kind`."""
    return dict(db.execute("SELECT key, bar FROM pages WHERE kind = ?", (kind,)).fetchall())


def centers(db: sqlite3.Connection, kind: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(keys, centers, floors) of the pages of `kind` that have a center."""
    rows = db.execute("SELECT key, center, floor FROM pages WHERE kind = ? AND center IS NOT NULL", (kind,))
    found = rows.fetchall()
    if not found:
        return [], np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=np.float32)
    return (
        [r[0] for r in found],
        np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in found]),
        np.asarray([r[2] for r in found], dtype=np.float32),
    )


def readers(db: sqlite3.Connection, table: str, values: Sequence[object]) -> set[tuple[str, str]]:
    """The (kind, key) of the pages that read any of `values`: vids (`page_reads`), keyword keys
    (`page_keywords`) or phrases (`page_words`)."""
    column = READS[table]
    found: set[tuple[str, str]] = set()
    for start in range(0, len(values), 500):
        chunk = list(values[start : start + 500])
        rows = db.execute(
            f"SELECT DISTINCT p.kind, p.key FROM {table} r JOIN pages p ON p.pid = r.pid"
            f" WHERE r.{column} IN ({_marks(chunk)})",
            chunk,
        )
        found.update(rows.fetchall())
    return found


def phrase_readers(db: sqlite3.Connection, tokens: frozenset[str]) -> set[tuple[str, str]]:
    """The (kind, key) of the pages searched with a phrase all of whose tokens are in `tokens`."""
    found: set[tuple[str, str]] = set()
    values = sorted(tokens)
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        rows = db.execute(
            "SELECT r.phrase, p.kind, p.key FROM page_words r JOIN pages p ON p.pid = r.pid"
            f" WHERE r.last IN ({_marks(chunk)})",
            chunk,
        )
        found.update((kind, key) for phrase, kind, key in rows if tokens.issuperset(phrase.split(" ")))
    return found


def page_url(db: sqlite3.Connection, kind: str, key: str) -> str | None:
    row = db.execute("SELECT url FROM pages WHERE kind = ? AND key = ?", (kind, key)).fetchone()
    return None if row is None else row[0]


def oldest(db: sqlite3.Connection, limit: int) -> list[tuple[str, str]]:
    """The (kind, key) of the `limit` pages computed longest ago."""
    return db.execute("SELECT kind, key FROM pages ORDER BY computed LIMIT ?", (limit,)).fetchall()


def save(
    db: sqlite3.Connection,
    computed: Iterable[Page],
    gone: Iterable[tuple[str, str]],
    changed: Iterable[tuple[str, str, str | None, bool]],
    now: str,
    retain: int,
) -> None:
    """Store pages as computed, forget `gone` ones and log `changed` ones (kind, key, url, gone);
    the caller holds a transaction. Pages saved together share a number, `computed`, higher than
    any before (what `oldest` orders by)."""
    computed_round = db.execute("SELECT coalesce(MAX(computed), 0) + 1 FROM pages").fetchone()[0]
    for kind, key in gone:
        row = db.execute("SELECT pid FROM pages WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        if row is not None:
            _forget_reads(db, row[0])
            db.execute("DELETE FROM pages WHERE pid = ?", (row[0],))
    for page in computed:
        center = None if page.center is None else np.asarray(page.center, dtype=np.float32).tobytes()
        pid = db.execute(
            "INSERT INTO pages (kind, key, vid, face, floor, bar, checks, center, tags, url, computed)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET"
            " vid = excluded.vid, face = excluded.face, floor = excluded.floor, bar = excluded.bar,"
            " checks = excluded.checks, center = excluded.center, tags = excluded.tags,"
            " url = excluded.url, computed = excluded.computed RETURNING pid",
            (
                page.kind, page.key, page.vid, page.face, float(page.floor),
                None if page.bar is None else float(page.bar), page.checks, center,
                json.dumps(list(page.tags)), page.url, computed_round,
            ),
        ).fetchone()[0]  # fmt: skip
        _replace_reads(db, pid, page)
    db.executemany(
        "INSERT INTO page_changes (kind, key, url, gone, at) VALUES (?, ?, ?, ?, ?)",
        [(kind, key, url, int(is_gone), now) for kind, key, url, is_gone in changed],
    )
    last = db.execute("SELECT MAX(seq) FROM page_changes").fetchone()[0]
    if last is not None and retain > 0:
        # Never what a webhook has yet to deliver: a receiver down for long keeps the log longer.
        behind = db.execute("SELECT MIN(seq) FROM webhook_cursors").fetchone()[0]
        keep_after = int(last) - retain if behind is None else min(int(last) - retain, int(behind))
        db.execute("DELETE FROM page_changes WHERE seq <= ?", (keep_after,))


def _replace_reads(db: sqlite3.Connection, pid: int, page: Page) -> None:
    """Make what page `pid` read `page`'s, by difference: a page read again mostly reads what it
    read before, and rows left in place cost nothing (deleting and inserting them all again was
    most of the time it took to store a page)."""
    for table, values in zip(READS, (page.reads, page.keywords, page.words), strict=True):
        column = READS[table]
        held = {row[0] for row in db.execute(f"SELECT {column} FROM {table} WHERE pid = ?", (pid,))}
        wanted: set[object] = set(values)
        db.executemany(
            f"DELETE FROM {table} WHERE {column} = ? AND pid = ?", [(v, pid) for v in held - wanted]
        )
        added = wanted - held
        if table == "page_words":
            db.executemany(
                "INSERT INTO page_words (phrase, pid, last) VALUES (?, ?, ?)",
                [(phrase, pid, str(phrase).rsplit(" ", 1)[-1]) for phrase in added],
            )
        else:
            db.executemany(f"INSERT INTO {table} ({column}, pid) VALUES (?, ?)", [(v, pid) for v in added])


def _forget_reads(db: sqlite3.Connection, pid: int) -> None:
    for table in READS:
        db.execute(f"DELETE FROM {table} WHERE pid = ?", (pid,))


def changes(db: sqlite3.Connection, since: int, limit: int) -> list[PageChange]:
    rows = db.execute(
        "SELECT seq, kind, key, url, gone, at FROM page_changes WHERE seq > ? ORDER BY seq LIMIT ?",
        (since, limit),
    ).fetchall()
    return [PageChange(r[0], r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows]


def bounds(db: sqlite3.Connection) -> tuple[int, int]:
    """(the lowest seq still in the feed minus one, the last seq): a `since` below the first was
    trimmed; both are the last seq when the feed is empty."""
    first, last = db.execute("SELECT MIN(seq), MAX(seq) FROM page_changes").fetchone()
    if first is None:
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'page_changes'").fetchone()
        done = int(row[0]) if row else 0
        return done, done
    return int(first) - 1, int(last)


def start_after(db: sqlite3.Connection, seq: int) -> bool:
    """Make the feed start after `seq` (another data dir's last, which this one will replace):
    its own entries so far are dropped and its next one is `seq + 2`, so that a `since` from the
    other data dir's feed is older than this one keeps (a 410: resync). Nothing changes when the
    feed is already past `seq`; True when it was moved."""
    if bounds(db)[1] > seq:
        return False
    db.execute("DELETE FROM page_changes")
    db.execute("DELETE FROM sqlite_sequence WHERE name = 'page_changes'")
    db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('page_changes', ?)", (seq + 1,))
    return True


@dataclass(frozen=True)
class WebhookCursor:
    url: str
    seq: int
    failures: int
    last_error: str | None
    last_attempt: str | None
    delivered_at: str | None


def webhook_cursors(db: sqlite3.Connection) -> dict[str, WebhookCursor]:
    rows = db.execute(
        "SELECT url, seq, failures, last_error, last_attempt, delivered_at FROM webhook_cursors"
    ).fetchall()
    return {row[0]: WebhookCursor(*row) for row in rows}


def forget_webhooks(db: sqlite3.Connection, keep: Sequence[str]) -> None:
    """Drop the cursors of webhooks no longer configured (they would keep the log forever)."""
    db.execute(f"DELETE FROM webhook_cursors WHERE url NOT IN ({_marks(keep)})", list(keep))


def set_webhook_cursor(db: sqlite3.Connection, cursor: WebhookCursor) -> None:
    db.execute(
        "INSERT INTO webhook_cursors (url, seq, failures, last_error, last_attempt, delivered_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET seq = excluded.seq,"
        " failures = excluded.failures, last_error = excluded.last_error,"
        " last_attempt = excluded.last_attempt, delivered_at = excluded.delivered_at",
        (
            cursor.url,
            cursor.seq,
            cursor.failures,
            cursor.last_error,
            cursor.last_attempt,
            cursor.delivered_at,
        ),
    )
