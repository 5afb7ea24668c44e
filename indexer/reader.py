"""Stream article records from JSON Lines or CSV, one at a time, with their line numbers.

A bad line becomes a `Rejected` item with its line number and reason; it never stops the stream:
not valid UTF-8, not JSON, nested too deep, or not a valid article (see `seealso.indexer.article`).
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import itertools
import json
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from seealso.errors import InputError, InvalidArticle
from seealso.indexer.article import Article, parse_article

JSONL_SUFFIXES = {".jsonl", ".ndjson", ".jsonlines"}
CSV_SUFFIXES = {".csv"}
# An article is a flat object; extra fields may nest a little (authors, images). Deeper than
# this is not an article, and Python's JSON parser would run out of stack on it.
MAX_JSON_DEPTH = 64


@dataclass(frozen=True)
class Record:
    line: int
    article: Article


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str
    article_id: str | None = None
    source: str | None = None  # the file's name, when an archive has several

    def __str__(self) -> str:
        where = f"{self.source} line {self.line}" if self.source else f"line {self.line}"
        where += f" (id {self.article_id!r})" if self.article_id else ""
        return f"{where}: {self.reason}"


Item = Record | Rejected


def input_format(path: str) -> str:
    """'jsonl' or 'csv', from the file name; '-' (stdin) is JSON Lines."""
    if path == "-":
        return "jsonl"
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    suffix = suffixes[-1] if suffixes else ""
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise InputError(f"cannot tell the format of {path!r}: name it .jsonl or .csv (optionally .gz)")


def _open_binary(path: str) -> IO[bytes]:
    if path == "-":
        return sys.stdin.buffer
    try:
        if path.lower().endswith(".gz"):
            return gzip.open(path, "rb")  # type: ignore[return-value]
        return open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory, not an article file") from None
    except PermissionError:
        raise InputError(f"cannot read {path}: permission denied") from None


def read_articles(path: str) -> Iterator[Item]:
    """Yield a Record or a Rejected for every record of the file at `path` ('-' for stdin).

    A file that cannot be read to its end (a truncated or corrupt .gz, a read error) ends with a
    Rejected, without an id, for the line where reading stopped; what came before is kept.
    """
    fmt = input_format(path)
    stream = _open_binary(path)
    line = 0
    try:
        for item in read_jsonl(stream) if fmt == "jsonl" else _read_csv(stream):
            line = item.line
            yield item
    except (EOFError, OSError, zlib.error) as exc:
        reason = str(exc) or type(exc).__name__
        yield Rejected(line + 1, f"the file cannot be read from here on (truncated or corrupt?): {reason}")
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def read_archive(path: str) -> Iterator[Item]:
    """`read_articles` of a file, or of every article file of a folder in name order, each
    rejection naming its file."""
    if path == "-" or not Path(path).is_dir():
        yield from read_articles(path)
        return
    from seealso.indexer.shards import archive_files

    for file in archive_files(Path(path)):
        name = str(file.relative_to(path))
        for item in read_articles(str(file)):
            yield dataclasses.replace(item, source=name) if isinstance(item, Rejected) else item


def count_lines(path: str) -> int | None:
    """Number of lines of a plain file or a folder of them (for a progress total), or None when it
    cannot be known cheaply."""
    if path != "-" and Path(path).is_dir():
        from seealso.indexer.shards import archive_files

        counts = [count_lines(str(file)) for file in archive_files(Path(path))]
        return None if None in counts else sum(c or 0 for c in counts)
    if path == "-" or path.lower().endswith(".gz") or input_format(path) != "jsonl":
        return None
    try:
        with open(path, "rb") as stream:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))
    except OSError:
        return None


def validate_record(line: int, data: object) -> Item:
    """A Record of a valid article, or a Rejected saying why (for records from any source)."""
    try:
        return Record(line, parse_article(data))
    except InvalidArticle as exc:
        return Rejected(line, str(exc), exc.article_id)
    except Exception as exc:  # whatever a record does to the validator, the run goes on
        article_id = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
        return Rejected(line, f"cannot be validated: {type(exc).__name__}: {exc}", article_id)


def too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON `text` nests arrays and objects deeper than `limit` (False when it is not JSON
    at all: the parser says why). Linear in the text: unless it holds more than `limit` brackets,
    a count; else one C-speed parse and a walk of what it gave."""
    if text.count("[") + text.count("{") <= limit:
        return False
    try:
        return _deeper(json.loads(text), limit)
    except RecursionError:  # deeper than the parser's own stack
        return True
    except ValueError:
        return False


def parse_json(text: str, limit: int = MAX_JSON_DEPTH) -> object:
    """JSON `text` parsed, or ValueError with the reason (bad JSON, or nested beyond `limit`)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        value = None
        deep = True
    else:
        deep = text.count("[") + text.count("{") > limit and _deeper(value, limit)
    if deep:
        raise ValueError(f"JSON nested deeper than {limit} levels")
    return value


def _deeper(value: object, limit: int) -> bool:
    """Whether a parsed JSON value nests deeper than `limit` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def read_jsonl(stream: IO[bytes]) -> Iterator[Item]:
    """A Record or a Rejected for every non-blank line of JSON Lines `stream`, numbered from 1."""
    for number, raw in enumerate(stream, start=1):
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
        except UnicodeDecodeError as exc:
            yield Rejected(number, f"not valid UTF-8 (byte {exc.start})")
            continue
        if not text:
            continue
        try:
            data = parse_json(text)
        except ValueError as exc:
            yield Rejected(number, str(exc))
            continue
        yield validate_record(number, data)


def _read_csv(stream: IO[bytes]) -> Iterator[Item]:
    # Invalid UTF-8 becomes lone surrogates, which validation rejects with the row's line number.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.DictReader(text, strict=True)  # a malformed row is an error, not a mangled row
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise InputError(f"cannot read the CSV header: {exc}") from None
    if not header or "id" not in header:
        raise InputError("the CSV header must name an 'id' column (and title, summary or body)")
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                reason = "a quoted cell opened on this line is never closed: the rest of the file is lost"
            else:
                reason = f"malformed CSV: {exc}"
            yield Rejected(start, reason)
            continue
        if None in row:
            yield Rejected(start, f"more cells than the header has columns ({len(header)})")
            continue
        data: dict[str, object] = {k: v for k, v in row.items() if v is not None}
        if isinstance(data.get("keywords"), str):
            data["keywords"] = [k.strip() for k in str(data["keywords"]).split(";") if k.strip()]
        yield validate_record(start, data)


def link_pairs(stream: IO[str], *, header: bool = True) -> Iterator[tuple[str, str]]:
    """(source, target) ids from CSV text with a header naming `source` and `target` columns, or,
    with `header=False`, plain two-column lines too. Blank lines are skipped; text that cannot be
    read as CSV (an unclosed quote, a huge cell, bytes that are not UTF-8) is an InputError naming
    its line."""
    reader = csv.reader(stream, strict=True)  # an unclosed quote is an error, not merged rows
    try:
        first = next(reader, None)
        if first is None:
            return
        names = [cell.strip().casefold() for cell in first]
        if header or "source" in names or "target" in names:
            if not {"source", "target"} <= set(names):
                raise InputError("the CSV header must name 'source' and 'target' columns")
            columns = names.index("source"), names.index("target")
            rows: Iterator[list[str]] = reader
        else:
            columns = 0, 1
            rows = itertools.chain([first], reader)
        for row in rows:
            if not any(cell.strip() for cell in row):
                continue
            cells = [*row, "", ""]
            yield cells[columns[0]].strip(), cells[columns[1]].strip()
    except csv.Error as exc:
        raise InputError(f"line {reader.line_num}: malformed CSV: {exc}") from None
    except UnicodeDecodeError:
        raise InputError("the file is not valid UTF-8 text (is it compressed?)") from None
