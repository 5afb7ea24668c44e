"""The FAISS vector index: normalized vectors under the catalog's stable ids, searched by inner product.

The kind follows the collection's size (`choose_kind`), or a setting:
  flat  exact search (`IndexFlatIP`), up to EXACT_LIMIT vectors;
  hnsw  a graph over the full vectors (`IndexHNSWFlat`), up to HNSW_LIMIT: about 1.8 KB a vector;
  ivf   inverted lists over 8-bit scalar-quantized vectors (`IndexIVFScalarQuantizer`), beyond:
        about 0.4 KB a vector, so a million articles take about 400 MB. Its scores and vectors
        are the 8-bit ones, within SCORE_ERROR of the exact ones.
scripts/bench_search.py measured (recall@10 against exact search, p50 of one search, build time,
memory; real BBC and demo vectors plus synthetic ones at a cosine of about 0.8 around them):

    100k  HNSW32 efSearch=96   0.999  0.22 ms   10 s   174 MB
    100k  IVF1024,SQ8 nprobe=32 0.987 0.25 ms    3 s    41 MB
    300k  HNSW32 efSearch=96   0.799  0.30 ms   33 s   523 MB
    300k  IVF2048,SQ8 nprobe=32 0.983 0.36 ms   16 s   123 MB
    1M    HNSW32 efSearch=96   0.496  0.29 ms  139 s  1744 MB
    1M    IVF4096,SQ8 nprobe=32 0.980 0.68 ms   60 s   407 MB
    1M    exact                1.000 63.9 ms    5 s  1485 MB

The graph loses its way among many near-equidistant neighbours as the archive grows; the inverted
lists do not, and take a quarter of the memory. Up to 100k HNSW is the most exact.

FAISS labels are insertion positions; `label_vid` maps them to the catalog's vector ids. A replaced
or deleted vector's label is marked dead and skipped at search time by an `IDSelectorBitmap`
(HNSW cannot remove vectors); `compacted()` rebuilds without the dead ones.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from seealso.indexer import files

KINDS = ("flat", "hnsw", "ivf")
EXACT_LIMIT = 20_000
HNSW_LIMIT = 100_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 96
IVF_NPROBE = 32
# Vectors k-means sees per list when an IVF index is trained (FAISS warns below 39).
IVF_TRAIN_PER_LIST = 40
# How far an IVF index's 8-bit scores may be from the exact cosines (a generous bound).
SCORE_ERROR = {"flat": 1e-4, "hnsw": 1e-4, "ivf": 0.02}
# Rebuild when this share of the labels is dead.
DEAD_SHARE = 0.25
CHUNK = 50_000

Chunks = Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]]


def choose_kind(count: int, forced: str = "auto") -> str:
    """'flat' up to EXACT_LIMIT vectors, 'hnsw' up to HNSW_LIMIT, else 'ivf'; `forced` overrides."""
    if forced in KINDS:
        return forced
    return "flat" if count <= EXACT_LIMIT else "hnsw" if count <= HNSW_LIMIT else "ivf"


def ivf_lists(count: int) -> int:
    """Inverted lists for `count` vectors: the power of two nearest 4·√count, at least 16."""
    return max(16, 2 ** round(math.log2(4 * math.sqrt(max(count, 1)))))


class VectorIndex:
    """Vectors by catalog vector id; exact or HNSW search; add, replace and remove at any time."""

    def __init__(
        self, dimension: int, kind: str = "flat", index: Any = None, label_vid: np.ndarray | None = None
    ):
        self.dimension = dimension
        self.kind = kind
        self.index: Any = index if index is not None else _new_faiss_index(dimension, kind)
        self.label_vid = np.empty(0, dtype=np.int64) if label_vid is None else label_vid.astype(np.int64)
        # vid → label, dense (vector ids are small consecutive integers); -1 where absent.
        self._vid_label = np.full(0, -1, dtype=np.int64)
        self._live = 0
        live = np.flatnonzero(self.label_vid >= 0)
        self._set_labels(self.label_vid[live], live)
        self._selector: tuple[Any, np.ndarray] | None = None

    @classmethod
    def build(cls, dimension: int, kind: str, chunks: Chunks, count: int) -> VectorIndex:
        """An index of `kind` over the (vids, vectors) that `chunks()` yields, `count` in all.

        `chunks` is called twice for an IVF index: once for a sample to train it on, once to add.
        """
        fresh = cls(dimension, kind, index=_new_faiss_index(dimension, kind, count))
        if kind == "ivf":
            lists = fresh.index.nlist
            step = max(1, count // (IVF_TRAIN_PER_LIST * lists))
            sample = [vectors[::step] for _, vectors in chunks()]
            train = np.vstack(sample) if sample else np.zeros((0, dimension), dtype=np.float32)
            if len(train) < lists:  # too few to train: an exact index instead
                return cls.build(dimension, "flat", chunks, count)
            fresh.index.train(np.ascontiguousarray(train, dtype=np.float32))
            del sample, train
        for vids, vectors in chunks():
            fresh.add(vids, vectors)
        return fresh

    @property
    def index_type(self) -> str:
        if self.kind == "hnsw":
            return f"HNSW{HNSW_M},Flat,IP"
        if self.kind == "ivf":
            return f"IVF{self.index.nlist},SQ8,IP"
        return "Flat,IP"

    @property
    def params(self) -> dict[str, int]:
        if self.kind == "hnsw":
            return {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH}
        if self.kind == "ivf":
            return {"nlist": int(self.index.nlist), "nprobe": IVF_NPROBE}
        return {}

    @property
    def dead(self) -> int:
        return int(self.index.ntotal) - self._live

    def __len__(self) -> int:
        return self._live

    def labels(self, vids: np.ndarray) -> np.ndarray:
        """The label of each vid, -1 for vids not held."""
        vids = np.asarray(vids, dtype=np.int64)
        inside = (vids >= 0) & (vids < len(self._vid_label))
        out = np.full(len(vids), -1, dtype=np.int64)
        out[inside] = self._vid_label[vids[inside]]
        return out

    def _set_labels(self, vids: np.ndarray, labels: np.ndarray) -> None:
        if len(vids) and vids.max() >= len(self._vid_label):
            grown = np.full(max(int(vids.max()) + 1, 2 * len(self._vid_label)), -1, dtype=np.int64)
            grown[: len(self._vid_label)] = self._vid_label
            self._vid_label = grown
        self._live += int(np.count_nonzero(labels >= 0)) - int(np.count_nonzero(self.labels(vids) >= 0))
        self._vid_label[vids] = labels

    # -- persistence --------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        index = faiss.read_index(str(path))
        label_vid = np.load(_ids_path(path))
        if len(label_vid) != index.ntotal:
            raise RuntimeError(f"{path.name} and its ids disagree")
        kind = "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"
        if kind == "hnsw":
            index.hnsw.efSearch = HNSW_EF_SEARCH  # type: ignore[attr-defined]
        if isinstance(index, faiss.IndexIVF):
            kind = "ivf"
            index.nprobe = IVF_NPROBE
            if index.direct_map.type == faiss.DirectMap.NoMap:  # type: ignore[attr-defined]
                index.make_direct_map()
        return cls(index.d, kind, index, label_vid)

    def save(self, path: Path) -> None:
        """Write the index and its ids atomically: temporary files, flushed, then renamed."""
        suffix = f".{os.getpid()}.tmp"
        tmp_ids = _ids_path(path).with_name(f".{_ids_path(path).name}{suffix}")
        tmp_index = path.with_name(f".{path.name}{suffix}")
        files.create_private(tmp_ids)
        with open(tmp_ids, "wb") as stream:
            np.save(stream, self.label_vid)
            stream.flush()
            os.fsync(stream.fileno())
        faiss.write_index(self.index, str(tmp_index))
        files.make_private(tmp_index)
        with open(tmp_index, "rb") as stream:
            os.fsync(stream.fileno())
        os.replace(tmp_ids, _ids_path(path))
        os.replace(tmp_index, path)

    @staticmethod
    def remove_files(path: Path) -> None:
        for file in (path, _ids_path(path)):
            file.unlink(missing_ok=True)

    # -- changes ------------------------------------------------------------------------------------

    def add(self, vids: np.ndarray, vectors: np.ndarray) -> None:
        """Add or replace the vectors of `vids` (a later duplicate in `vids` wins)."""
        if len(vids) == 0:
            return
        vids = np.asarray(vids, dtype=np.int64)
        _, last = np.unique(vids[::-1], return_index=True)  # a later duplicate wins
        keep = np.sort(len(vids) - 1 - last)
        vids, vectors = vids[keep], np.asarray(vectors)[keep]
        self.remove(vids)
        start = int(self.index.ntotal)
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self.label_vid = np.concatenate([self.label_vid, vids])
        self._set_labels(vids, np.arange(start, start + len(vids), dtype=np.int64))
        self._selector = None

    def remove(self, vids: np.ndarray) -> None:
        vids = np.asarray(vids, dtype=np.int64)
        labels = self.labels(vids)
        held = labels >= 0
        if held.any():
            self.label_vid[labels[held]] = -1
            self._set_labels(vids[held], np.full(int(held.sum()), -1, dtype=np.int64))
            self._selector = None

    def compacted(self, kind: str | None = None) -> VectorIndex:
        """A new index of the live vectors only, of `kind` (default: the current one)."""
        return VectorIndex.build(self.dimension, kind or self.kind, self.chunks, len(self))

    def needs_compaction(self, kind: str) -> bool:
        """Whether the index should be rebuilt: another kind fits, many labels are dead, or an IVF
        index has grown to want four times its lists."""
        grown = self.kind == "ivf" and ivf_lists(len(self)) >= 4 * self.index.nlist
        return kind != self.kind or grown or self.dead > DEAD_SHARE * max(1, int(self.index.ntotal))

    # -- reads --------------------------------------------------------------------------------------

    def _rows(self, labels: np.ndarray) -> np.ndarray:
        """The stored vectors of `labels`: read from FAISS's memory, or decoded (IVF, 8-bit)."""
        if len(labels) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.kind == "ivf":
            return self.index.reconstruct_batch(np.ascontiguousarray(labels, dtype=np.int64))
        flat: Any = faiss.downcast_index(self.index.storage) if self.kind == "hnsw" else self.index
        count = int(flat.ntotal)
        matrix = faiss.rev_swig_ptr(flat.get_xb(), count * self.dimension).reshape(count, self.dimension)
        return matrix[labels]

    def vector(self, vid: int) -> np.ndarray | None:
        label = int(self.labels(np.asarray([vid]))[0])
        return None if label < 0 else self._rows(np.asarray([label]))[0]

    def vectors(self, vids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the vids among `vids` that are held, their vectors), in one batch."""
        vids = np.asarray(vids, dtype=np.int64)
        labels = self.labels(vids)
        held = labels >= 0
        return vids[held], self._rows(labels[held])

    def vids(self) -> np.ndarray:
        """The vids held."""
        return self.label_vid[self.label_vid >= 0]

    def chunks(self, size: int = CHUNK) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every live (vids, vectors), in label order, `size` at a time (bounded memory)."""
        live = np.flatnonzero(self.label_vid >= 0)
        for start in range(0, len(live), size):
            labels = live[start : start + size]
            yield self.label_vid[labels], self._rows(labels)

    def all(self) -> tuple[np.ndarray, np.ndarray]:
        """Every live (vids, vectors), in label order."""
        parts = list(self.chunks())
        if not parts:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.dimension), dtype=np.float32)
        return np.concatenate([v for v, _ in parts]), np.vstack([m for _, m in parts])

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The `k` nearest live vectors to one query: (scores, vids), best first.

        Args:
            allowed: if given, only these vids are considered (a filter pushed into the search).
        """
        k = min(k, len(self) if allowed is None else len(allowed))
        if k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        params, _bitmap = self._search_params(k, allowed)  # the bitmap must outlive the search
        scores, labels = self.index.search(query, k, params=params) if params else self.index.search(query, k)
        labels = labels[0]
        keep = labels >= 0
        vids = self.label_vid[labels[keep]]
        alive = vids >= 0
        return scores[0][keep][alive], vids[alive]

    def _search_params(self, k: int, allowed: np.ndarray | None) -> tuple[Any, Any]:
        selector = None
        if allowed is not None:
            labels = self.labels(allowed)
            bits = np.zeros(int(self.index.ntotal), dtype=bool)
            bits[labels[labels >= 0]] = True
            packed = np.packbits(bits, bitorder="little")
            selector = (faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(packed)), packed)
        elif self.dead:
            if self._selector is None:
                packed = np.packbits(self.label_vid >= 0, bitorder="little")
                self._selector = (faiss.IDSelectorBitmap(len(self.label_vid), faiss.swig_ptr(packed)), packed)
            selector = self._selector
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
            params.efSearch = max(HNSW_EF_SEARCH, k)
        elif self.kind == "ivf":
            params = faiss.SearchParametersIVF()
            params.nprobe = IVF_NPROBE
        elif selector is not None:
            params = faiss.SearchParameters()
        else:
            return None, None
        if selector is not None:
            params.sel = selector[0]
        return params, selector


def _new_faiss_index(dimension: int, kind: str, count: int = 0) -> Any:
    """An empty FAISS index of `kind`; an IVF one gets lists for `count` vectors and needs training."""
    index: Any
    if kind == "ivf":
        quantizer = faiss.IndexFlatIP(dimension)
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, dimension, ivf_lists(count), faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        index.nprobe = IVF_NPROBE
        index.make_direct_map()
        return index
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
        return index
    if kind == "flat":
        return faiss.IndexFlatIP(dimension)
    raise ValueError(f"unknown index kind {kind!r}: use {', '.join(KINDS)}")


def _ids_path(path: Path) -> Path:
    return path.with_suffix(".ids.npy")
