"""The SQLite catalog: articles, their vectors and a change log, with named, ordered migrations.

SQLite is the source of truth. Every write is one transaction that also bumps a sequence number and
records, per vector id, the last change; the FAISS index is a snapshot of the vectors at some
sequence number that readers bring up to date from that log.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seealso.errors import ArticleNotFound, InvalidKeywordEdit, InvalidOverride
from seealso.indexer import aliases, files, history, lexicon
from seealso.indexer import overrides as editing
from seealso.indexer import pages as paging
from seealso.indexer.article import Article, check_storable, keyword_key
from seealso.indexer.dates import now as utc_now


def _m002_keywords(db: sqlite3.Connection) -> None:
    """A row per (article, keyword) for keyword pages, keyed case-insensitively; back-filled."""
    db.execute(
        "CREATE TABLE article_keywords ("
        " vid INTEGER NOT NULL REFERENCES articles (vid) ON DELETE CASCADE,"
        " key TEXT NOT NULL, keyword TEXT NOT NULL, PRIMARY KEY (vid, key))"
    )
    db.execute("CREATE INDEX article_keywords_key ON article_keywords (key, vid)")
    rows = db.execute("SELECT vid, keywords FROM articles").fetchall()
    for vid, keywords in rows:
        _write_keywords(db, vid, json.loads(keywords), aliased=False)  # aliases come in m015


def _m004_terms(db: sqlite3.Connection) -> None:
    """Analyzed terms and names of each article and the words' document frequencies; back-filled."""
    lexicon.create_tables(db)
    writer, deltas = lexicon.Lexicon(), Counter[int]()
    for row in db.execute(f"SELECT {_FIRST_COLUMNS} FROM articles").fetchall():
        entry = _entry(row)
        writer.write(db, entry.vid, entry.article, deltas, search=False)  # m007 adds that table
    lexicon.apply_df(db, deltas)


def _m007_search(db: sqlite3.Connection) -> None:
    """The full-text index of analyzed words (`lexicon.create_search_table`); back-filled."""
    lexicon.create_search_table(db)
    for row in db.execute(f"SELECT {_FIRST_COLUMNS} FROM articles").fetchall():
        entry = _entry(row)
        db.execute(
            "INSERT INTO article_search (rowid, terms, names) VALUES (?, ?, ?)",
            (entry.vid, *lexicon.search_columns(entry.article)),
        )


def _m008_whole_names(db: sqlite3.Connection) -> None:
    """Names are read whole ("united nations") and without capitalized common words: every
    article's terms, names and full-text row are analyzed again."""
    writer, deltas = lexicon.Lexicon(), Counter[int]()
    for row in db.execute(f"SELECT {_FIRST_COLUMNS} FROM articles").fetchall():
        entry = _entry(row)
        writer.write(db, entry.vid, entry.article, deltas)
    lexicon.apply_df(db, deltas)


def _m006_four_digit_years(db: sqlite3.Connection) -> None:
    """Dates stored with a year below 1000 written in fewer than four digits ("999-06-01T00:00:00Z",
    before `seealso.indexer.dates`) get four, so that they sort and parse like every other."""
    for table, column in (
        ("articles", "published_at"),
        ("articles", "updated_at"),
        ("overrides", "expires_at"),
    ):
        rows = db.execute(
            f"SELECT rowid, {column} FROM {table} "
            f"WHERE {column} IS NOT NULL AND {column} NOT GLOB '[0-9][0-9][0-9][0-9]-*'"
        ).fetchall()
        for rowid, value in rows:
            year, _, rest = str(value).partition("-")
            db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (f"{year.zfill(4)}-{rest}", rowid))


# (name, SQL or a function of the connection): applied in order, each once, in one transaction,
# recorded in the `migrations` table.
MIGRATIONS: list[tuple[str, str | Callable[[sqlite3.Connection], None]]] = [
    (
        "m001_create_tables",
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta (key, value) VALUES ('seq', '0');
        CREATE TABLE articles (
            vid INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL,
            summary TEXT NOT NULL,
            body TEXT NOT NULL,
            url TEXT,
            keywords TEXT NOT NULL,
            section TEXT,
            language TEXT NOT NULL,
            published_at TEXT,
            updated_at TEXT,
            text_hash TEXT NOT NULL,
            record_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            indexed_at TEXT NOT NULL
        );
        CREATE TABLE vectors (
            vid INTEGER PRIMARY KEY REFERENCES articles (vid) ON DELETE CASCADE,
            vector BLOB NOT NULL
        );
        CREATE TABLE changes (
            vid INTEGER PRIMARY KEY,
            seq INTEGER NOT NULL,
            op TEXT NOT NULL CHECK (op IN ('upsert', 'delete'))
        );
        CREATE INDEX changes_seq ON changes (seq);
        """,
    ),
    ("m002_keywords", _m002_keywords),
    (
        "m003_filter_indexes",
        """
        CREATE INDEX articles_language_section ON articles (language, section, published_at);
        CREATE INDEX articles_section ON articles (section, published_at);
        CREATE INDEX articles_published ON articles (published_at);
        """,
    ),
    ("m004_terms", _m004_terms),
    ("m005_overrides", editing.create_tables),
    ("m006_four_digit_years", _m006_four_digit_years),
    ("m007_search", _m007_search),
    ("m008_whole_names", _m008_whole_names),
    (
        "m009_translations_and_language_source",
        """
        ALTER TABLE articles ADD COLUMN translations TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE articles ADD COLUMN language_source TEXT NOT NULL DEFAULT 'given';
        CREATE TABLE translations (
            vid INTEGER NOT NULL REFERENCES articles (vid) ON DELETE CASCADE,
            other TEXT NOT NULL,
            PRIMARY KEY (vid, other)
        );
        CREATE INDEX translations_other ON translations (other, vid);
        """,
    ),
    ("m010_pages", paging.create_tables),
    (
        "m011_image_and_kicker",
        "ALTER TABLE articles ADD COLUMN image_url TEXT; ALTER TABLE articles ADD COLUMN kicker TEXT",
    ),
    ("m012_page_bars", "ALTER TABLE pages ADD COLUMN bar REAL; ALTER TABLE pages ADD COLUMN checks TEXT"),
    # The feed reads every related page's floor and bar on each write: from this index alone,
    # not the wide rows.
    ("m013_page_floors", "CREATE INDEX pages_floors ON pages (kind, vid, floor, bar)"),
    # Editors' keyword fixes, kept by article id across reindexing: a keyword added (a suggestion
    # accepted), removed, or a suggestion rejected; `given_keywords` keeps what the site sent
    # (NULL when the fixes leave it as it was) and `keywords` what the article carries.
    (
        "m014_keyword_edits",
        """
        CREATE TABLE keyword_edits (
            article TEXT NOT NULL, key TEXT NOT NULL, keyword TEXT NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('add', 'remove', 'reject')),
            author TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (article, key)
        );
        ALTER TABLE articles ADD COLUMN given_keywords TEXT;
        """,
    ),
    ("m015_keyword_aliases", aliases.create_tables),
    ("m016_write_log", history.create_tables),
]

# The columns of m001, which the migrations that read articles read (later ones add columns).
_FIRST_COLUMNS = (
    "vid, id, title, summary, body, url, keywords, section, language, published_at, updated_at, indexed_at"
)
_ARTICLE_COLUMNS = f"{_FIRST_COLUMNS}, translations, language_source, image_url, kicker"


@dataclass(frozen=True)
class Entry:
    """An article as stored: its stable vector id and when it was last (re)indexed."""

    vid: int
    article: Article
    indexed_at: str


KEYWORD_EDITS = ("add", "remove", "reject")


@dataclass(frozen=True)
class KeywordEdit:
    """An editor's fix of an article's keywords (see `Catalog.edit_keyword`)."""

    keyword: str
    action: str
    author: str
    at: str


# Whether a batch of override changes may change one list, from the override it has (or None).
Changeable = Callable[[editing.Override | None], bool]


@dataclass(frozen=True)
class Write:
    """One article to upsert; `vector` is None when only its metadata changed."""

    article: Article
    text_hash: str
    record_hash: str
    vector: np.ndarray | None


class Catalog:
    """Thread-safe access to one catalog file (a lock serializes use of the single connection)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._lexicon = lexicon.Lexicon()
        files.create_private(path)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute("PRAGMA foreign_keys = ON")
        self._migrate()
        # The two numbers that say whether cached lists are current (`seq`, `overrides_version`)
        # are read on a connection of their own: in WAL mode a reader never waits for a writer,
        # while the main connection's lock may be held by a write waiting for SQLite's (up to its
        # timeout), and a server answers cached lists on its event loop.
        self._state_lock = threading.Lock()
        self._state_db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)

    def close(self) -> None:
        with self._lock:
            # Keeps the query planner's statistics current; another process writing at the same
            # moment makes SQLite refuse it at once (busy), and then it waits for the next close.
            with contextlib.suppress(sqlite3.OperationalError):
                self._db.execute("PRAGMA optimize")
            self._db.close()
        with self._state_lock:
            self._state_db.close()

    # -- schema -------------------------------------------------------------------------------------

    def _migrate(self) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
                )
                done = {row[0] for row in self._db.execute("SELECT name FROM migrations")}
                for name, sql in MIGRATIONS:
                    if name in done:
                        continue
                    if callable(sql):
                        sql(self._db)
                    else:
                        for statement in filter(str.strip, sql.split(";")):
                            self._db.execute(statement)
                    self._db.execute("INSERT INTO migrations VALUES (?, ?)", (name, utc_now()))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def migrations(self) -> list[str]:
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT name FROM migrations ORDER BY rowid")]

    # -- metadata -----------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, values: dict[str, str]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                list(values.items()),
            )

    def seq(self) -> int:
        """The sequence number of the last committed change (never waits for a writer)."""
        with self._state_lock:
            row = self._state_db.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()
        return int(row[0]) if row else 0

    # -- reads --------------------------------------------------------------------------------------

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM articles").fetchone()[0])

    def get(self, article_id: str) -> Entry | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", (article_id,)
            ).fetchone()
        return None if row is None else _entry(row)

    def backup(self, target: sqlite3.Connection) -> None:
        """Copy the whole catalog into `target` as one read transaction sees it (SQLite's backup
        API): writers in other processes go on meanwhile."""
        with self._lock:
            self._db.backup(target)

    def ids(self) -> list[str]:
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT id FROM articles")]

    def articles(self, batch: int = 1000) -> Iterator[Article]:
        """Every article as the site sent it (its keywords before editors' fixes), by vector id;
        read in batches, each under the lock, so writers go on between them."""
        last = -1
        while True:
            with self._lock:
                rows = self._db.execute(
                    f"SELECT {_ARTICLE_COLUMNS}, coalesce(given_keywords, keywords) FROM articles"
                    " WHERE vid > ? ORDER BY vid LIMIT ?",
                    (last, batch),
                ).fetchall()
            for row in rows:
                given = tuple(json.loads(row[-1]))
                yield _entry(row[:-1]).article.model_copy(update={"keywords": given})
            if len(rows) < batch:
                return
            last = rows[-1][0]

    def _rows_in(self, sql: str, values: Sequence[object]) -> list[tuple[Any, ...]]:
        """Rows of `sql`, whose `{marks}` is an IN list, for `values` (in chunks SQLite accepts)."""
        rows: list[tuple[Any, ...]] = []
        with self._lock:
            for start in range(0, len(values), 500):
                chunk = list(values[start : start + 500])
                rows.extend(self._db.execute(sql.format(marks=",".join("?" * len(chunk))), chunk))
        return rows

    def get_by_vids(self, vids: Sequence[int], *, bodies: bool = True) -> dict[int, Entry]:
        """vid → entry; `bodies=False` leaves the bodies empty (lists show no body and read less)."""
        columns = _ARTICLE_COLUMNS if bodies else _ARTICLE_COLUMNS.replace("body", "'' AS body")
        rows = self._rows_in(f"SELECT {columns} FROM articles WHERE vid IN ({{marks}})", _ints(vids))
        return {row[0]: _entry(row) for row in rows}

    def facets(self, vids: Sequence[int]) -> dict[int, tuple[str, str | None, str, str | None]]:
        """vid → (id, section, language, published_at): what filters read, without whole articles."""
        sql = "SELECT vid, id, section, language, published_at FROM articles WHERE vid IN ({marks})"
        return {row[0]: (row[1], row[2], row[3], row[4]) for row in self._rows_in(sql, _ints(vids))}

    def hashes(self, ids: Sequence[str]) -> dict[str, tuple[int, str, str]]:
        """id → (vid, text_hash, record_hash) for the ids that exist."""
        sql = "SELECT id, vid, text_hash, record_hash FROM articles WHERE id IN ({marks})"
        return {row[0]: (row[1], row[2], row[3]) for row in self._rows_in(sql, ids)}

    def vector(self, vid: int) -> np.ndarray | None:
        with self._lock:
            row = self._db.execute("SELECT vector FROM vectors WHERE vid = ?", (vid,)).fetchone()
        return None if row is None else np.frombuffer(row[0], dtype=np.float32)

    def vectors(self, vids: Sequence[int]) -> dict[int, np.ndarray]:
        """vid → vector for the vids that have one."""
        rows = self._rows_in("SELECT vid, vector FROM vectors WHERE vid IN ({marks})", _ints(vids))
        return {vid: np.frombuffer(blob, dtype=np.float32) for vid, blob in rows}

    def iter_vectors(self, batch: int = 10_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """All (vids, vectors) in batches, for building an index from scratch."""
        last = -1
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT vid, vector FROM vectors WHERE vid > ? ORDER BY vid LIMIT ?", (last, batch)
                ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield (
                np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
                np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows]),
            )

    def changes_since(self, seq: int) -> tuple[list[int], list[int]]:
        """(vids upserted, vids deleted) by changes after `seq`."""
        with self._lock:
            rows = self._db.execute("SELECT vid, op FROM changes WHERE seq > ?", (seq,)).fetchall()
        return [v for v, op in rows if op == "upsert"], [v for v, op in rows if op == "delete"]

    def ids_unchanged_since(self, seq: int) -> Iterator[str]:
        """Ids of articles whose last change is at or before `seq`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT a.id FROM articles a JOIN changes c ON c.vid = a.vid WHERE c.seq <= ?", (seq,)
            ).fetchall()
        return (row[0] for row in rows)

    def vids_with_keyword(self, keyword: str) -> list[int]:
        """Vector ids of the articles tagged with `keyword` (case-insensitive)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT vid FROM article_keywords WHERE key = ? ORDER BY vid",
                (aliases.canonical(self._db, keyword_key(keyword)),),
            ).fetchall()
        return [row[0] for row in rows]

    def lexical(self, vids: Sequence[int]) -> dict[int, lexicon.Lexical]:
        """vid → the article's packed terms and names."""
        sql = "SELECT vid, language, terms, names FROM article_terms WHERE vid IN ({marks})"
        return lexicon.read(self._rows_in(sql, _ints(vids)))

    def vocabulary(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        """(word ids, their kinds, their document frequencies) of every word."""
        with self._lock:
            rows = self._db.execute("SELECT id, kind, df FROM vocabulary").fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        return ids, [r[1] for r in rows], np.fromiter((r[2] for r in rows), dtype=np.float64, count=len(rows))

    def word_ids(self, kind: str, words: Sequence[str]) -> np.ndarray:
        """Ids of known words of `kind` (-1 for the others)."""
        with self._lock:
            return self._lexicon.ids(self._db, kind, words, create=False)

    def words(self, ids: Sequence[int]) -> dict[int, str]:
        return dict(self._rows_in("SELECT id, word FROM vocabulary WHERE id IN ({marks})", _ints(ids)))

    def lexical_search(
        self, terms: Iterable[str], names: Iterable[str], limit: int
    ) -> list[tuple[int, float]]:
        """The `limit` articles that best match any of `terms` (stems) or `names` by BM25: (vid,
        score), best first (see `lexicon.search`)."""
        with self._lock:
            return lexicon.search(self._db, terms, names, limit)

    def declared_translations(self, vids: Sequence[int]) -> dict[int, set[int]]:
        """The articles declared translations of each of `vids`, by either side (the site need
        not declare both), among the articles indexed: vid → their vids."""
        found: dict[int, set[int]] = {}
        with self._lock:
            for start in range(0, len(vids), 400):
                chunk = _ints(vids[start : start + 400])
                marks = ",".join("?" * len(chunk))
                pairs = self._db.execute(
                    "SELECT t.vid, a.vid FROM translations t JOIN articles a ON a.id = t.other"
                    f" WHERE t.vid IN ({marks})"
                    " UNION SELECT a.vid, t.vid FROM translations t JOIN articles a ON a.id = t.other"
                    f" WHERE a.vid IN ({marks})",
                    [*chunk, *chunk],
                ).fetchall()
                for one, other in pairs:
                    found.setdefault(int(one), set()).add(int(other))
        return found

    def languages(self) -> set[str]:
        """The languages of the articles indexed."""
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT DISTINCT language FROM articles")}

    def languages_of(self, vids: Sequence[int]) -> dict[int, str]:
        """vid → language, of those of `vids` indexed."""
        rows = self._rows_in("SELECT vid, language FROM articles WHERE vid IN ({marks})", _ints(vids))
        return {int(vid): language for vid, language in rows}

    def newest(self, limit: int) -> list[Entry]:
        """The `limit` articles published last (undated ones last), without bodies."""
        return self._newest_where("1", limit)

    def untagged(self, limit: int) -> list[Entry]:
        """The `limit` newest articles that carry no keyword, without bodies."""
        return self._newest_where("keywords = '[]'", limit)

    def _newest_where(self, condition: str, limit: int) -> list[Entry]:
        columns = _ARTICLE_COLUMNS.replace("body", "'' AS body")
        with self._lock:
            rows = self._db.execute(
                f"SELECT {columns} FROM articles WHERE {condition}"
                " ORDER BY published_at IS NULL, published_at DESC, vid DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [_entry(row) for row in rows]

    def count_untagged(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM articles WHERE keywords = '[]'").fetchone()[0])

    def translation_pairs(self) -> list[tuple[int, int]]:
        """Every pair of indexed articles declared translations of each other (by either side),
        each pair once, the lower vid first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT min(t.vid, a.vid), max(t.vid, a.vid) FROM translations t"
                " JOIN articles a ON a.id = t.other WHERE a.vid != t.vid"
            ).fetchall()
        return [(int(a), int(b)) for a, b in rows]

    def vids_by_language(self) -> dict[str, list[int]]:
        """language → vector ids of its articles."""
        out: dict[str, list[int]] = {}
        with self._lock:
            for vid, language in self._db.execute("SELECT vid, language FROM articles"):
                out.setdefault(language, []).append(vid)
        return out

    def vids_matching(
        self,
        sections: Iterable[str] = (),
        languages: Iterable[str] = (),
        since: str | None = None,
        until: str | None = None,
    ) -> list[int]:
        """Vector ids of the articles in these sections and languages, published in [since, until)."""
        clauses: list[str] = []
        values: list[str] = []
        for column, allowed in (("section", list(sections)), ("language", list(languages))):
            if allowed:
                clauses.append(f"{column} IN ({','.join('?' * len(allowed))})")
                values.extend(allowed)
        if since:
            clauses.append("published_at >= ?")
            values.append(since)
        if until:
            clauses.append("published_at < ?")
            values.append(until)
        where = " AND ".join(clauses) or "1"
        with self._lock:
            return [row[0] for row in self._db.execute(f"SELECT vid FROM articles WHERE {where}", values)]

    def keyword_name(self, keyword: str, language: str | None = None) -> str | None:
        """The most common spelling of a keyword, or of its alias group, in articles of `language`
        when given (None when no article carries it)."""
        key = self.canonical_key(keyword)
        with self._lock:
            if language is None:
                row = self._db.execute(
                    "SELECT keyword FROM article_keywords WHERE key = ? "
                    "GROUP BY keyword ORDER BY count(*) DESC, keyword LIMIT 1",
                    (key,),
                ).fetchone()
            else:
                row = self._db.execute(
                    "SELECT k.keyword FROM article_keywords k JOIN articles a ON a.vid = k.vid"
                    " WHERE k.key = ? AND a.language = ? GROUP BY k.keyword ORDER BY count(*) DESC,"
                    " k.keyword LIMIT 1",
                    (key, language),
                ).fetchone()
        return None if row is None else str(row[0])

    def keyword_names(self, keyword: str) -> dict[str, str]:
        """language → the most common spelling of a keyword (or its alias group) there."""
        key = self.canonical_key(keyword)
        with self._lock:
            rows = self._db.execute(
                "SELECT a.language, k.keyword, count(*) AS n FROM article_keywords k"
                " JOIN articles a ON a.vid = k.vid WHERE k.key = ? GROUP BY 1, 2 ORDER BY 1, n DESC, 2",
                (key,),
            ).fetchall()
        found: dict[str, str] = {}
        for language, name, _ in rows:
            found.setdefault(language, name)
        return found

    def canonical_key(self, keyword: str) -> str:
        """The key lists look a keyword up by: its own, or its alias group's."""
        with self._lock:
            return aliases.canonical(self._db, keyword_key(keyword))

    def alias_groups(self) -> dict[str, list[str]]:
        """canonical key → the keys confirmed as its aliases."""
        with self._lock:
            return aliases.groups(self._db)

    def rejected_aliases(self) -> set[tuple[str, str]]:
        """The pairs of keys editors said are not aliases (each pair sorted)."""
        with self._lock:
            return aliases.rejected(self._db)

    def confirm_alias(self, one: str, other: str, author: str) -> int:
        """Make two keywords (and their groups) one; returns the catalog's sequence number."""
        return self._aliasing(
            lambda db, now: aliases.confirm(db, keyword_key(one), keyword_key(other), author, now),
            ("alias confirmed", author, keyword_key(one), keyword_key(other)),
        )

    def separate_alias(self, keyword: str, author: str) -> int:
        """Take a keyword out of its alias group; returns the catalog's sequence number."""
        return self._aliasing(
            lambda db, now: aliases.separate(db, keyword_key(keyword)),
            ("alias separated", author, keyword_key(keyword), None),
        )

    def reject_alias(self, one: str, other: str, author: str) -> None:
        """Never suggest these two keywords as aliases again."""
        self._aliasing(
            lambda db, now: aliases.reject(db, keyword_key(one), keyword_key(other), author, now),
            ("alias rejected", author, keyword_key(one), keyword_key(other)),
        )

    def unreject_alias(self, one: str, other: str, author: str) -> None:
        """Take back a rejection of two keywords as aliases: they may be suggested again."""
        self._aliasing(
            lambda db, now: aliases.unreject(db, keyword_key(one), keyword_key(other)),
            ("alias rejection taken back", author, keyword_key(one), keyword_key(other)),
        )

    def write_log(
        self, limit: int = 100, before_id: int | None = None, **filters: str | None
    ) -> list[history.WriteEntry]:
        """The latest writes first (see `seealso.indexer.history.entries` for the filters)."""
        with self._lock:
            return history.entries(self._db, limit, before_id, **filters)

    def write_authors(self) -> list[str]:
        with self._lock:
            return history.authors(self._db)

    def _aliasing(
        self, change: Callable[[sqlite3.Connection, str], list[int]], record: tuple[str, str, str, str | None]
    ) -> int:
        """Apply an alias change in one transaction; the articles whose keys it changed are logged
        as changed (lists, keyword pages and the feed follow them)."""
        now = utc_now()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                seq = int(self._db.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0])
                vids = change(self._db, now)
                what, author, subject, detail = record
                history.log(self._db, now, author, what, "keyword", subject, detail)
                if vids:
                    seq += 1
                    for vid in vids:
                        self._log(vid, seq, "upsert")
                    self._db.execute("UPDATE meta SET value = ? WHERE key = 'seq'", (str(seq),))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return seq

    def keyword_rows(self) -> list[tuple[str, str, int]]:
        """Every (key, keyword as written, vid) row, for keyword statistics."""
        with self._lock:
            return self._db.execute("SELECT key, keyword, vid FROM article_keywords").fetchall()

    def counts_by(self, column: str) -> dict[str, int]:
        if column not in {"language", "section"}:
            raise ValueError(column)
        with self._lock:
            rows = self._db.execute(
                f"SELECT coalesce({column}, ''), count(*) FROM articles GROUP BY 1 ORDER BY 2 DESC"
            ).fetchall()
        return {row[0]: row[1] for row in rows}

    def get_by_url(self, url: str) -> Entry | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE url = ? LIMIT 1", (url,)
            ).fetchone()
        return None if row is None else _entry(row)

    # -- editors' overrides (see indexer.overrides) -------------------------------------------------

    def overrides(self, scope: str, source: str) -> list[editing.Override]:
        with self._lock:
            return editing.for_source(self._db, scope, source)

    def all_overrides(self) -> list[editing.Override]:
        with self._lock:
            return editing.every(self._db)

    def overrides_version(self) -> int:
        """Grows with every change of any override (never waits for a writer)."""
        with self._state_lock:
            return editing.version(self._state_db)

    def override_sources_since(self, version: int, scope: str) -> list[str]:
        """The sources of `scope` whose overrides changed after `version` (see overrides_version)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT source FROM audit_log WHERE id > ? AND scope = ?", (version, scope)
            ).fetchall()
        return [row[0] for row in rows]

    def set_override(self, override: editing.Override, author: str) -> editing.AuditEntry:
        """Store `override` (replacing any of the same source and target) and log the change."""
        now = utc_now()
        override = editing.validate(dataclasses.replace(override, author=author, created_at=now))
        key = (override.scope, override.source, override.target)
        entry = self._change(now, override.author, "set", key, override)
        assert entry is not None
        return entry

    def set_overrides(
        self, batch: Sequence[editing.Override], author: str, when: Changeable | None = None
    ) -> list[editing.AuditEntry]:
        """Store the overrides of `batch` in one transaction, each change logged; with `when`,
        only those whose stored override (None if none) it accepts, as read in the transaction."""
        now = utc_now()
        valid = [editing.validate(dataclasses.replace(o, author=author, created_at=now)) for o in batch]
        done = self._changes(
            now, author, "set", [((o.scope, o.source, o.target), o) for o in valid], when=when
        )
        return [entry for entry in done if entry is not None]

    def remove_overrides(
        self, keys: Sequence[tuple[str, str, str]], author: str, when: Changeable | None = None
    ) -> list[editing.AuditEntry]:
        """Remove the overrides of `keys` (scope, source, target) in one transaction; with `when`,
        only those it accepts, as read in the transaction."""
        done = self._changes(utc_now(), author, "remove", [(key, None) for key in keys], when=when)
        return [entry for entry in done if entry is not None]

    def override_targets_since(self, version: int, scope: str) -> list[str]:
        """The targets of `scope` whose overrides changed after `version`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT target FROM audit_log WHERE id > ? AND scope = ?", (version, scope)
            ).fetchall()
        return [row[0] for row in rows]

    def remove_override(self, scope: str, source: str, target: str, author: str) -> editing.AuditEntry | None:
        """Remove the override of `target` in that list; None when there was none."""
        return self._change(utc_now(), author, "remove", (scope, source, target), None)

    def audit_entry(self, entry_id: int | None) -> editing.AuditEntry | None:
        if entry_id is None:
            return None
        with self._lock:
            return editing.audit_entry(self._db, entry_id)

    def undo(self, entry_id: int, author: str) -> editing.AuditEntry:
        """Put the override that change `entry_id` touched back as it was before that change."""
        entry = self.audit_entry(entry_id)
        if entry is None:
            raise InvalidOverride(f"no change {entry_id} in the audit log")
        key = (entry.scope, entry.source, entry.target)
        done = self._change(utc_now(), author, "undo", key, entry.before, force=True)
        assert done is not None
        return done

    def audit_log(
        self, limit: int = 100, before_id: int | None = None, source: str | None = None
    ) -> list[editing.AuditEntry]:
        with self._lock:
            return editing.audit(self._db, limit, before_id, source)

    def _change(
        self,
        now: str,
        author: str,
        change: str,
        key: tuple[str, str, str],
        after: editing.Override | None,
        force: bool = False,
    ) -> editing.AuditEntry | None:
        return self._changes(now, author, change, [(key, after)], force)[0]

    def _changes(
        self,
        now: str,
        author: str,
        change: str,
        batch: Sequence[tuple[tuple[str, str, str], editing.Override | None]],
        force: bool = False,
        when: Changeable | None = None,
    ) -> list[editing.AuditEntry | None]:
        """Make each key's override its `after` in one transaction (where `when` accepts the
        override stored before); None for a change not made."""
        done: list[editing.AuditEntry | None] = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for key, after in batch:
                    before = editing.get(self._db, *key)
                    if (before is None and after is None and not force) or (
                        when is not None and not when(before)
                    ):
                        done.append(None)
                        continue
                    editing.put(self._db, after, *key)
                    done.append(editing.log(self._db, now, author, change, before, after, key))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return done

    # -- pages and their change feed (seealso.indexer.pages) ------------------------------------------

    def keys_of(self, vids: Sequence[int]) -> dict[int, list[str]]:
        """vid → the keys of its keywords."""
        rows = self._rows_in("SELECT vid, key FROM article_keywords WHERE vid IN ({marks})", _ints(vids))
        found: dict[int, list[str]] = {}
        for vid, key in rows:
            found.setdefault(vid, []).append(key)
        return found

    def keyword_keys(self) -> list[str]:
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT DISTINCT key FROM article_keywords")]

    def expiring_overrides(self, after: str, until: str) -> list[tuple[str, str, str]]:
        """(scope, source, target) of the overrides that expire in (after, until]."""
        with self._lock:
            rows = self._db.execute(
                "SELECT scope, source, target FROM overrides WHERE expires_at > ? AND expires_at <= ?",
                (after, until),
            ).fetchall()
        return [(row[0], row[1], row[2]) for row in rows]

    def page_state(self) -> tuple[int, int, str, str]:
        """(catalog seq, overrides' version, rules, the time expiries were looked for up to) the
        stored pages were computed at; seq -1 before the first computation."""
        with self._lock:
            rows = dict(
                self._db.execute(
                    "SELECT key, value FROM meta WHERE key IN "
                    "('pages_seq', 'pages_overrides', 'pages_rules', 'pages_expiry')"
                ).fetchall()
            )
        return (
            int(rows.get("pages_seq", -1)),
            int(rows.get("pages_overrides", -1)),
            rows.get("pages_rules", ""),
            rows.get("pages_expiry", ""),
        )

    def page_faces(self, kind: str) -> dict[str, str]:
        with self._lock:
            return paging.faces(self._db, kind)

    def page_floors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with self._lock:
            return paging.related_floors(self._db)

    def page_checks(self, kind: str, keys: Sequence[str]) -> dict[str, str | None]:
        with self._lock:
            return paging.checks(self._db, kind, keys)

    def page_bars(self, kind: str) -> dict[str, float | None]:
        with self._lock:
            return paging.bars(self._db, kind)

    def page_centers(self, kind: str) -> tuple[list[str], np.ndarray, np.ndarray]:
        with self._lock:
            return paging.centers(self._db, kind)

    def page_readers(self, table: str, values: Sequence[object]) -> set[tuple[str, str]]:
        """The pages that read any of `values` (see seealso.indexer.pages.readers)."""
        with self._lock:
            return paging.readers(self._db, table, values)

    def phrase_readers(self, tokens: frozenset[str]) -> set[tuple[str, str]]:
        with self._lock:
            return paging.phrase_readers(self._db, tokens)

    def page_url(self, kind: str, key: str) -> str | None:
        with self._lock:
            return paging.page_url(self._db, kind, key)

    def oldest_pages(self, limit: int) -> list[tuple[str, str]]:
        with self._lock:
            return paging.oldest(self._db, limit)

    def save_pages(
        self,
        computed: Iterable[paging.Page],
        gone: Iterable[tuple[str, str]],
        changed: Iterable[tuple[str, str, str | None, bool]],
        state: tuple[int, int, str, str] | None,
        retain: int,
    ) -> None:
        """Store computed pages and log the changed ones in one transaction, with the state they
        were computed at (None: a sweep, which leaves it)."""
        now = utc_now()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                paging.save(self._db, computed, gone, changed, now, retain)
                if state is not None:
                    self._db.executemany(
                        "INSERT INTO meta (key, value) VALUES (?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        [
                            ("pages_seq", str(state[0])),
                            ("pages_overrides", str(state[1])),
                            ("pages_rules", state[2]),
                            ("pages_expiry", state[3]),
                        ],
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def page_changes(self, since: int, limit: int) -> list[paging.PageChange]:
        with self._lock:
            return paging.changes(self._db, since, limit)

    def start_page_feed_after(self, seq: int) -> bool:
        """See `seealso.indexer.pages.start_after`."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                moved = paging.start_after(self._db, seq)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return moved

    def page_bounds(self) -> tuple[int, int]:
        with self._lock:
            return paging.bounds(self._db)

    def webhook_cursors(self) -> dict[str, paging.WebhookCursor]:
        with self._lock:
            return paging.webhook_cursors(self._db)

    def forget_webhooks(self, keep: Sequence[str]) -> None:
        with self._lock:
            paging.forget_webhooks(self._db, keep)

    def set_webhook_cursor(self, cursor: paging.WebhookCursor) -> None:
        with self._lock:
            paging.set_webhook_cursor(self._db, cursor)

    # -- writes -------------------------------------------------------------------------------------

    def write(
        self, writes: Iterable[Write] = (), deletes: Iterable[str] = (), author: str = "batch"
    ) -> tuple[int, list[str]]:
        """Upsert and delete articles in one transaction, each recorded in the write log under
        `author` (`seealso.indexer.history`).

        Returns:
            (the new sequence number, the ids among `deletes` that were found and deleted).
        """
        now = utc_now()
        deleted: list[str] = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                seq = int(self._db.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0]) + 1
                deltas: Counter[int] = Counter()  # document frequency changes, by word id
                for write in writes:
                    change = "added" if self._upsert(write, seq, now, deltas) else "updated"
                    history.log(self._db, now, author, change, "article", write.article.id)
                for article_id in deletes:
                    row = self._db.execute("SELECT vid FROM articles WHERE id = ?", (article_id,)).fetchone()
                    if row is None:
                        continue
                    self._lexicon.drop(self._db, row[0], deltas)
                    self._db.execute("DELETE FROM articles WHERE vid = ?", (row[0],))
                    self._log(row[0], seq, "delete")
                    history.log(self._db, now, author, "deleted", "article", article_id)
                    deleted.append(article_id)
                lexicon.apply_df(self._db, deltas)
                self._db.execute("UPDATE meta SET value = ? WHERE key = 'seq'", (str(seq),))
                self._db.execute(
                    "INSERT INTO meta (key, value) VALUES ('written_at', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (now,),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._lexicon.forget()  # word ids created by this transaction are gone
                raise
        return seq, deleted

    def _upsert(self, write: Write, seq: int, now: str, deltas: Counter[int]) -> bool:
        """Write one article; returns whether it is new."""
        a = write.article
        given = a.keywords
        carried = self._with_edits(a.id, given)
        if carried != given:
            a = a.model_copy(update={"keywords": carried})
        values = (
            a.title, a.summary, a.body, a.url, json.dumps(list(a.keywords), ensure_ascii=False), a.section,
            a.language, a.published_at, a.updated_at, write.text_hash, write.record_hash,
            json.dumps(list(a.translations), ensure_ascii=False), a.language_source, a.image_url, a.kicker,
            None if carried == given else json.dumps(list(given), ensure_ascii=False),
        )  # fmt: skip
        row = self._db.execute("SELECT vid FROM articles WHERE id = ?", (a.id,)).fetchone()
        if row is None:
            if write.vector is None:
                raise ValueError(f"new article {a.id!r} needs a vector")
            cursor = self._db.execute(
                "INSERT INTO articles (id, title, summary, body, url, keywords, section, language, "
                "published_at, updated_at, text_hash, record_hash, translations, language_source, "
                "image_url, kicker, given_keywords, created_at, indexed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (a.id, *values, now, now),
            )
            vid = int(cursor.lastrowid or 0)
        else:
            vid = int(row[0])
            self._db.execute(
                "UPDATE articles SET title = ?, summary = ?, body = ?, url = ?, keywords = ?, section = ?, "
                "language = ?, published_at = ?, updated_at = ?, text_hash = ?, record_hash = ?, "
                "translations = ?, language_source = ?, image_url = ?, kicker = ?, given_keywords = ?, "
                "indexed_at = ? "
                "WHERE vid = ?",
                (*values, now, vid),
            )
        if write.vector is not None:
            blob = np.ascontiguousarray(write.vector, dtype=np.float32).tobytes()
            self._db.execute(
                "INSERT INTO vectors (vid, vector) VALUES (?, ?) "
                "ON CONFLICT (vid) DO UPDATE SET vector = excluded.vector",
                (vid, blob),
            )
        _write_keywords(self._db, vid, a.keywords)
        self._db.execute("DELETE FROM translations WHERE vid = ?", (vid,))
        self._db.executemany(
            "INSERT INTO translations (vid, other) VALUES (?, ?)", [(vid, other) for other in a.translations]
        )
        self._lexicon.write(self._db, vid, a, deltas)
        # Metadata-only updates are logged too: readers refresh what they cached about the article.
        self._log(vid, seq, "upsert")
        return row is None

    def _with_edits(self, article_id: str, given: tuple[str, ...]) -> tuple[str, ...]:
        """The keywords an article carries: those the site gave, less the ones editors removed,
        plus the ones they added."""
        edits = self._db.execute(
            "SELECT key, keyword, action FROM keyword_edits WHERE article = ? AND action != 'reject'"
            " ORDER BY at, key",
            (article_id,),
        ).fetchall()
        if not edits:
            return given
        removed = {key for key, _, action in edits if action == "remove"}
        carried = [k for k in given if keyword_key(k) not in removed]
        held = {keyword_key(k) for k in carried}
        carried += [name for key, name, action in edits if action == "add" and key not in held]
        return tuple(carried)

    def edit_keyword(self, article_id: str, keyword: str, action: str | None, author: str) -> int:
        """An editor's fix of an article's keywords: `add` it, `remove` it, `reject` it as a
        suggestion, or None to take back the fix. Kept by article id (a reindex keeps it); the
        article is written again, and logged, when what it carries changes. Returns the catalog's
        sequence number after it."""
        if action not in (None, *KEYWORD_EDITS):
            raise InvalidKeywordEdit(f"action: must be one of {', '.join(KEYWORD_EDITS)}, not {action!r}")
        name, key = " ".join(keyword.split()), keyword_key(keyword)
        try:
            check_storable(name)
            check_storable(author)
        except ValueError as exc:
            raise InvalidKeywordEdit(f"keyword: {exc}") from None
        if not key or len(name) > 200:
            raise InvalidKeywordEdit("keyword: must be 1 to 200 characters, not only spaces")
        now = utc_now()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    f"SELECT {_ARTICLE_COLUMNS}, text_hash, record_hash, given_keywords FROM articles"
                    " WHERE id = ?",
                    (article_id,),
                ).fetchone()
                if row is None:
                    raise ArticleNotFound(article_id)
                entry, (text_hash, record_hash, given) = _entry(row[:-3]), row[-3:]
                carried = {keyword_key(k) for k in entry.article.keywords}
                fixed = self._db.execute(
                    "SELECT 1 FROM keyword_edits WHERE article = ? AND key = ?", (article_id, key)
                ).fetchone()
                if action == "add" and key in carried and not fixed:
                    raise InvalidKeywordEdit(f"keyword: the article already carries {name!r}")
                if action == "remove" and key not in carried and not fixed:
                    raise InvalidKeywordEdit(f"keyword: the article does not carry {name!r}")
                change = {"add": "keyword added", "remove": "keyword removed", "reject": "keyword rejected"}
                history.log(
                    self._db, now, author, change.get(action or "", "keyword fix taken back"), "article",
                    article_id, name,
                )  # fmt: skip
                if action is None:
                    self._db.execute(
                        "DELETE FROM keyword_edits WHERE article = ? AND key = ?", (article_id, key)
                    )
                else:
                    self._db.execute(
                        "INSERT INTO keyword_edits (article, key, keyword, action, author, at)"
                        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (article, key) DO UPDATE SET"
                        " keyword = excluded.keyword, action = excluded.action, author = excluded.author,"
                        " at = excluded.at",
                        (article_id, key, name, action, author, now),
                    )
                seq = int(self._db.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0])
                given_keywords = tuple(json.loads(given)) if given is not None else entry.article.keywords
                if self._with_edits(article_id, given_keywords) != entry.article.keywords:
                    seq += 1
                    deltas: Counter[int] = Counter()
                    article = entry.article.model_copy(update={"keywords": given_keywords})
                    self._upsert(Write(article, text_hash, record_hash, None), seq, now, deltas)
                    lexicon.apply_df(self._db, deltas)
                    self._db.execute("UPDATE meta SET value = ? WHERE key = 'seq'", (str(seq),))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._lexicon.forget()
                raise
        return seq

    def given_keywords(self, article_id: str) -> tuple[str, ...]:
        """The keywords the site sent for the article (before editors' fixes)."""
        with self._lock:
            row = self._db.execute(
                "SELECT coalesce(given_keywords, keywords) FROM articles WHERE id = ?", (article_id,)
            ).fetchone()
        return () if row is None else tuple(json.loads(row[0]))

    def rejected_keywords(self, article_id: str) -> set[str]:
        """The keys of the keywords editors said not to suggest for the article: rejected, or
        removed from it."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key FROM keyword_edits WHERE article = ? AND action IN ('reject', 'remove')",
                (article_id,),
            )
            return {row[0] for row in rows}

    def all_keyword_edits(self) -> list[tuple[str, KeywordEdit]]:
        """Every article's keyword fixes, by article id, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT article, keyword, action, author, at FROM keyword_edits ORDER BY article, at, key"
            ).fetchall()
        return [(row[0], KeywordEdit(*row[1:])) for row in rows]

    def keyword_edits(self, article_id: str) -> list[KeywordEdit]:
        """An article's keyword fixes, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT keyword, action, author, at FROM keyword_edits WHERE article = ? ORDER BY at, key",
                (article_id,),
            ).fetchall()
        return [KeywordEdit(*row) for row in rows]

    def _log(self, vid: int, seq: int, op: str) -> None:
        self._db.execute(
            "INSERT INTO changes (vid, seq, op) VALUES (?, ?, ?) "
            "ON CONFLICT (vid) DO UPDATE SET seq = excluded.seq, op = excluded.op",
            (vid, seq, op),
        )


def _ints(values: Sequence[int]) -> list[int]:
    return [int(v) for v in values]


def _write_keywords(db: sqlite3.Connection, vid: int, keywords: Iterable[str], aliased: bool = True) -> None:
    """An article's keywords, each under its key, or its alias group's (`seealso.indexer.aliases`;
    not `aliased`: a migration from before there were any)."""
    db.execute("DELETE FROM article_keywords WHERE vid = ?", (vid,))
    keyed = [(keyword_key(k), k) for k in keywords]
    groups = aliases.canonical_map(db, [key for key, _ in keyed]) if aliased else {}
    db.executemany(
        "INSERT OR IGNORE INTO article_keywords (vid, key, keyword) VALUES (?, ?, ?)",
        [(vid, groups.get(key, key), k) for key, k in keyed],
    )


def _entry(row: tuple[Any, ...]) -> Entry:
    vid, article_id, title, summary, body, url, keywords, section, language, published, updated, at = row[:12]
    # rows read by early migrations have only the first columns
    translations, source, image_url, kicker = row[12:] if len(row) > 12 else ("[]", "given", None, None)
    article = Article.model_construct(
        id=article_id, title=title, summary=summary, body=body, url=url, keywords=tuple(json.loads(keywords)),
        section=section, language=language, published_at=published, updated_at=updated,
        translations=tuple(json.loads(translations)), language_source=source, image_url=image_url,
        kicker=kicker,
    )  # fmt: skip
    return Entry(vid=vid, article=article, indexed_at=at)
