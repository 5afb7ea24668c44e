"""Vectors embedded apart from a data dir (`seealso embed`, on Ray): an archive cut into parts,
one Parquet shard of vectors per part, and the manifest that says what computed them.

An archive is a JSONL or CSV file, or a folder of them (`.gz` too). A plain JSONL file is cut into
parts of whole lines, so that parts are read in parallel; a CSV or compressed file is one part
(split a large one into shards to read it in parallel). A part's shard is written under a temporary
name and renamed when complete, so a killed run keeps every finished part and redoes only the rest.

A shard's rows are `id, content_hash, recipe, model, vector`; `seealso index --vectors` takes a
vector where the article's content hash, the recipe and the model match, and embeds the rest.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seealso.errors import InputError, SeealsoError
from seealso.indexer import files
from seealso.indexer.reader import CSV_SUFFIXES, JSONL_SUFFIXES, Item, read_articles, read_jsonl

MANIFEST = "vectors.json"
FORMAT_VERSION = 1
# Lines per part of a plain JSONL file: a few MB to read, a few seconds to embed on one CPU.
PART_LINES = 2000


@dataclass(frozen=True)
class Part:
    """Lines of one archive file: bytes [start, end) of a plain JSONL file (end None: to its end),
    whose first line is line `first_line` of the file."""

    source: str
    start: int = 0
    end: int | None = None
    first_line: int = 1
    lines: int | None = None  # known for the parts of a plain JSONL file

    @property
    def key(self) -> str:
        """Names the part's shard: its file (by path, size and modification time) and byte range,
        so that a changed file is read again."""
        stat = os.stat(self.source)
        text = f"{os.path.abspath(self.source)}|{stat.st_size}|{stat.st_mtime_ns}|{self.start}|{self.end}"
        return hashlib.sha256(text.encode()).hexdigest()[:20]


def archive_files(archive: Path) -> list[Path]:
    """The article files of `archive`: itself, or the .jsonl/.csv(.gz) files of a folder, sorted."""
    if not archive.exists():
        raise InputError(f"no such file or folder: {archive}")
    if archive.is_file():
        return [archive]
    found = sorted(p for p in archive.rglob("*") if p.is_file() and _is_articles(p))
    if not found:
        raise InputError(f"{archive} holds no .jsonl or .csv files (optionally .gz)")
    return found


def _is_articles(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return bool(suffixes) and suffixes[-1] in JSONL_SUFFIXES | CSV_SUFFIXES


def plan_parts(archive: Path, lines_per_part: int = PART_LINES) -> list[Part]:
    """Cut `archive` into parts: plain JSONL files every `lines_per_part` lines, others whole."""
    parts: list[Part] = []
    for path in archive_files(archive):
        if path.suffix.lower() == ".gz" or path.suffix.lower() in CSV_SUFFIXES:
            parts.append(Part(str(path)))
            continue
        start, line, count = 0, 1, 0
        offset = 0
        with open(path, "rb") as stream:
            for raw in stream:
                offset += len(raw)
                count += 1
                if count == lines_per_part:
                    parts.append(Part(str(path), start, offset, line, count))
                    start, line, count = offset, line + count, 0
        if count or not parts or parts[-1].source != str(path):
            parts.append(Part(str(path), start, None, line, count))
    return parts


def read_part(part: Part) -> Iterator[Item]:
    """The records and rejections of `part`, numbered as lines of its file."""
    if part.start == 0 and part.end is None:
        yield from read_articles(part.source)
        return
    with open(part.source, "rb") as stream:
        stream.seek(part.start)
        data = stream.read() if part.end is None else stream.read(part.end - part.start)
    shift = part.first_line - 1
    for item in read_jsonl(io.BytesIO(data)):
        yield dataclasses.replace(item, line=item.line + shift)


@dataclass
class VectorsManifest:
    """What computed a folder of vector shards, and which parts are done."""

    model: str
    dimension: int
    recipe: str
    arithmetic: str
    runtime: str = ""
    model_spec: str | None = None
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @classmethod
    def load(cls, folder: Path) -> VectorsManifest | None:
        path = folder / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except ValueError as exc:
            raise SeealsoError(f"{path} is not a vectors manifest: {exc}") from None
        if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
            raise SeealsoError(f"{path} is not a vectors manifest of this version of seealso")
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})

    def save(self, folder: Path) -> None:
        """Written atomically: a reader sees the old or the new manifest."""
        path = folder / MANIFEST
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        files.create_private(tmp)
        tmp.write_text(json.dumps(asdict(self), indent=1) + "\n", encoding="utf-8")
        files.sync_file(tmp)
        os.replace(tmp, path)

    def same_vectors(self, other: VectorsManifest) -> bool:
        return (self.model, self.dimension, self.recipe, self.arithmetic) == (
            other.model,
            other.dimension,
            other.recipe,
            other.arithmetic,
        )

    def describe(self) -> str:
        return f"model {self.model!r}, recipe {self.recipe!r}, {self.arithmetic} arithmetic"


def _pyarrow() -> tuple[Any, Any]:
    """pyarrow and its Parquet module: an optional dependency (`seealso[ray]`)."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise SeealsoError("vector shards need pyarrow: pip install 'seealso[ray]'") from None
    return pyarrow, pyarrow.parquet


def shard_name(key: str) -> str:
    return f"part-{key}.parquet"


def write_shard(
    folder: Path, key: str, rows: dict[str, list[Any]], model: str, recipe: str, dimension: int
) -> Path:
    """Write one part's vectors (`rows`: ids, content hashes, vectors) as a Parquet shard, under a
    temporary name renamed when complete."""
    pa, pq = _pyarrow()
    count = len(rows["id"])
    flat = np.asarray(rows["vector"], dtype=np.float32).reshape(-1)
    table = pa.table(
        {
            "id": pa.array(rows["id"], pa.string()),
            "content_hash": pa.array(rows["content_hash"], pa.string()),
            "recipe": pa.array([recipe] * count, pa.string()).dictionary_encode(),
            "model": pa.array([model] * count, pa.string()).dictionary_encode(),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), dimension),
        }
    )
    path = folder / shard_name(key)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    files.create_private(tmp)
    pq.write_table(table, tmp)
    files.sync_file(tmp)
    os.replace(tmp, path)
    return path


class VectorSource:
    """The vectors of a folder of shards, found by article id, for `seealso index --vectors`.

    Only the ids are read up front (about 100 bytes an article in memory); a shard's vectors are
    read when one of its articles is asked for, and the last few shards read are kept, so that an
    archive indexed in the order it was embedded reads each shard once.
    """

    KEEP = 8

    def __init__(self, folder: Path) -> None:
        _, pq = _pyarrow()
        manifest = VectorsManifest.load(folder)
        if manifest is None:
            raise InputError(f"{folder} holds no {MANIFEST}: make it with seealso embed")
        self.folder = folder
        self.manifest = manifest
        self._shards: list[Path] = []
        self._where: dict[str, tuple[int, int]] = {}
        for entry in manifest.parts.values():
            path = folder / entry["file"]
            if not path.exists():
                continue
            number = len(self._shards)
            self._shards.append(path)
            ids = pq.read_table(path, columns=["id"]).column("id").to_pylist()
            self._where.update((article_id, (number, row)) for row, article_id in enumerate(ids))
        self._loaded: OrderedDict[int, tuple[list[str], np.ndarray]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._where)

    def check(self, model: str, recipe: str, arithmetic: str) -> None:
        """Refuse vectors that another model, recipe or arithmetic computed than the data dir's."""
        wanted = f"model {model!r}, recipe {recipe!r}, {arithmetic} arithmetic"
        if (self.manifest.model, self.manifest.recipe, self.manifest.arithmetic) != (
            model,
            recipe,
            arithmetic,
        ):
            raise SeealsoError(
                f"the vectors in {self.folder} were computed with {self.manifest.describe()}, but this "
                f"data dir's are {wanted}: embed them again with the data dir's model and recipe "
                "(SEEALSO_MODEL, SEEALSO_PRECISION) or index into a new data dir"
            )

    def get(self, article_id: str, content_hash: str) -> np.ndarray | None:
        """The vector of `article_id` if it was computed from this content, else None."""
        found = self._where.get(article_id)
        if found is None:
            return None
        hashes, vectors = self._shard(found[0])
        return vectors[found[1]] if hashes[found[1]] == content_hash else None

    def _shard(self, number: int) -> tuple[list[str], np.ndarray]:
        import pyarrow.parquet as pq

        if number in self._loaded:
            self._loaded.move_to_end(number)
            return self._loaded[number]
        table = pq.read_table(self._shards[number], columns=["content_hash", "vector"])
        column = table.column("vector").combine_chunks()
        vectors = column.values.to_numpy(zero_copy_only=False).reshape(len(table), self.manifest.dimension)
        loaded = table.column("content_hash").to_pylist(), vectors
        self._loaded[number] = loaded
        while len(self._loaded) > self.KEEP:
            self._loaded.popitem(last=False)
        return loaded
