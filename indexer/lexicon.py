"""The lexical side of the catalog: each article's analyzed terms and names, stored as word ids
with their log term frequencies, and the document frequency of every word.

Words get integer ids in the `vocabulary` table, per kind: `term:<language>` (stemmed words of one
language, so each language has its own document frequencies) or `name` (across languages). An
article's row packs its ids (int32) and their weights, 1 + log(count) (float32), so a reader turns
it into a TF-IDF vector with a few array operations.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from seealso.indexer.analysis import article_names, article_terms
from seealso.indexer.article import Article

NAME = "name"


def term_kind(language: str) -> str:
    return f"term:{language}"


@dataclass(frozen=True)
class Lexical:
    """One article's packed terms and names: sorted word ids and their 1 + log(count)."""

    language: str
    term_ids: np.ndarray
    term_tf: np.ndarray
    name_ids: np.ndarray
    name_tf: np.ndarray


def create_search_table(db: sqlite3.Connection) -> None:
    """The full-text index of the analyzed words (FTS5, ranked by BM25): `terms` holds an article's
    stems, each as often as it occurs (so BM25 sees their frequencies), `names` its names."""
    db.execute(
        "CREATE VIRTUAL TABLE article_search"
        " USING fts5(terms, names, tokenize = 'unicode61 remove_diacritics 0')"
    )


def create_tables(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE vocabulary (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, word TEXT NOT NULL,"
        " df INTEGER NOT NULL DEFAULT 0, UNIQUE (kind, word))"
    )
    db.execute(
        "CREATE TABLE article_terms ("
        " vid INTEGER PRIMARY KEY REFERENCES articles (vid) ON DELETE CASCADE,"
        " language TEXT NOT NULL, terms BLOB NOT NULL, names BLOB NOT NULL)"
    )


class Lexicon:
    """Writes and reads the lexical tables on one connection; caches word ids (words are never
    deleted), and forgets them if a transaction is rolled back."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], int] = {}

    def forget(self) -> None:
        self._ids.clear()

    def ids(self, db: sqlite3.Connection, kind: str, words: Sequence[str], *, create: bool) -> np.ndarray:
        """Ids of `words` of `kind` (-1 for unknown words when not `create`)."""
        missing = [w for w in words if (kind, w) not in self._ids]
        if missing and create:
            db.executemany(
                "INSERT OR IGNORE INTO vocabulary (kind, word) VALUES (?, ?)", [(kind, w) for w in missing]
            )
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for word_id, word in db.execute(
                f"SELECT id, word FROM vocabulary WHERE kind = ? AND word IN ({marks})", [kind, *chunk]
            ):
                self._ids[(kind, word)] = word_id
        return np.asarray([self._ids.get((kind, w), -1) for w in words], dtype=np.int64)

    def write(
        self, db: sqlite3.Connection, vid: int, article: Article, deltas: Counter[int], *, search: bool = True
    ) -> None:
        """Store the article's terms and names, counting the document-frequency changes (and in
        the full-text index unless not `search`: migrations before it existed)."""
        self.drop(db, vid, deltas, search=search)
        terms, names = article_terms(article), article_names(article)
        packed = []
        for kind, counts in ((term_kind(article.language), terms), (NAME, names)):
            words = list(counts)
            ids = self.ids(db, kind, words, create=True)
            tf = 1 + np.log(np.asarray([counts[w] for w in words], dtype=np.float32))
            order = np.argsort(ids)
            deltas.update(ids.tolist())
            packed.append(_pack(ids[order], tf[order]))
        db.execute(
            "INSERT INTO article_terms (vid, language, terms, names) VALUES (?, ?, ?, ?)",
            (vid, article.language, *packed),
        )
        if search:
            db.execute(
                "INSERT INTO article_search (rowid, terms, names) VALUES (?, ?, ?)",
                (vid, _repeated(terms), _repeated(names)),
            )

    @staticmethod
    def drop(db: sqlite3.Connection, vid: int, deltas: Counter[int], *, search: bool = True) -> None:
        row = db.execute("SELECT terms, names FROM article_terms WHERE vid = ?", (vid,)).fetchone()
        if row is not None:
            for blob in row:
                deltas.subtract(_unpack(blob)[0].tolist())
            db.execute("DELETE FROM article_terms WHERE vid = ?", (vid,))
        if search:
            db.execute("DELETE FROM article_search WHERE rowid = ?", (vid,))


def search_columns(article: Article) -> tuple[str, str]:
    """The `article_search` columns of an article: its terms and its names, each word repeated as
    often as it occurs."""
    return _repeated(article_terms(article)), _repeated(article_names(article))


def _repeated(counts: Counter[str]) -> str:
    return " ".join(" ".join([word] * count) for word, count in counts.items())


def search(
    db: sqlite3.Connection, terms: Iterable[str], names: Iterable[str], limit: int
) -> list[tuple[int, float]]:
    """The `limit` best (vid, BM25 score) for any of `terms` (stems) or `names`, best first; the
    score is FTS5's bm25 negated, so higher is better."""
    groups = []
    for column, words in (("terms", terms), ("names", names)):
        quoted = sorted({'"' + w.replace('"', '""') + '"' for w in words if w.strip()})
        if quoted:
            groups.append(f"{column} : ({' OR '.join(quoted)})")
    if not groups:
        return []
    rows = db.execute(
        "SELECT rowid, bm25(article_search) FROM article_search WHERE article_search MATCH ? "
        "ORDER BY bm25(article_search) LIMIT ?",
        (" OR ".join(groups), limit),
    )
    return [(int(vid), -float(score)) for vid, score in rows]


def apply_df(db: sqlite3.Connection, deltas: Counter[int]) -> None:
    db.executemany("UPDATE vocabulary SET df = df + ? WHERE id = ?", [(d, i) for i, d in deltas.items() if d])


def read(rows: Iterable[tuple[int, str, bytes, bytes]]) -> dict[int, Lexical]:
    out = {}
    for vid, language, terms, names in rows:
        term_ids, term_tf = _unpack(terms)
        name_ids, name_tf = _unpack(names)
        out[vid] = Lexical(language, term_ids, term_tf, name_ids, name_tf)
    return out


def _pack(ids: np.ndarray, tf: np.ndarray) -> bytes:
    return ids.astype("<i4").tobytes() + tf.astype("<f4").tobytes()


def _unpack(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    n = len(blob) // 8
    return (
        np.frombuffer(blob, dtype="<i4", count=n).astype(np.int64),
        np.frombuffer(blob, dtype="<f4", count=n, offset=4 * n),
    )
