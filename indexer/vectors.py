"""The FAISS vector index: normalized vectors under the catalog's stable ids, searched by inner product.

Exact (`IndexFlatIP`) for small collections, HNSW (`IndexHNSWFlat`) beyond `EXACT_LIMIT` vectors.
FAISS labels are insertion positions; `label_vid` maps them to the catalog's vector ids. A replaced
or deleted vector's label is marked dead and skipped at search time by an `IDSelectorBitmap`
(HNSW cannot remove vectors); `compacted()` rebuilds without the dead ones.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import faiss
import numpy as np

EXACT_LIMIT = 20_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 96
# Rebuild when this share of the labels is dead.
DEAD_SHARE = 0.25


def choose_kind(count: int, forced: str = "auto") -> str:
    """'flat' up to EXACT_LIMIT vectors, else 'hnsw'; `forced` ('flat' or 'hnsw') overrides."""
    if forced in ("flat", "hnsw"):
        return forced
    return "flat" if count <= EXACT_LIMIT else "hnsw"


class VectorIndex:
    """Vectors by catalog vector id; exact or HNSW search; add, replace and remove at any time."""

    def __init__(
        self, dimension: int, kind: str = "flat", index: Any = None, label_vid: np.ndarray | None = None
    ):
        self.dimension = dimension
        self.kind = kind
        self.index: Any = index if index is not None else _new_faiss_index(dimension, kind)
        self.label_vid = np.empty(0, dtype=np.int64) if label_vid is None else label_vid.astype(np.int64)
        self.vid_label = {int(v): i for i, v in enumerate(self.label_vid) if v >= 0}
        self._selector: tuple[Any, np.ndarray] | None = None

    @property
    def index_type(self) -> str:
        if self.kind == "hnsw":
            return f"HNSW{HNSW_M},Flat,IP"
        return "Flat,IP"

    @property
    def params(self) -> dict[str, int]:
        if self.kind == "hnsw":
            return {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH}
        return {}

    @property
    def dead(self) -> int:
        return int(self.index.ntotal) - len(self.vid_label)

    def __len__(self) -> int:
        return len(self.vid_label)

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
        return cls(index.d, kind, index, label_vid)

    def save(self, path: Path) -> None:
        """Write the index and its ids atomically: temporary files, flushed, then renamed."""
        suffix = f".{os.getpid()}.tmp"
        tmp_ids = _ids_path(path).with_name(f".{_ids_path(path).name}{suffix}")
        tmp_index = path.with_name(f".{path.name}{suffix}")
        with open(tmp_ids, "wb") as stream:
            np.save(stream, self.label_vid)
            stream.flush()
            os.fsync(stream.fileno())
        faiss.write_index(self.index, str(tmp_index))
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
        self.remove(vids)
        start = int(self.index.ntotal)
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self.label_vid = np.concatenate([self.label_vid, vids])
        for offset, vid in enumerate(vids.tolist()):
            old = self.vid_label.get(vid)
            if old is not None:
                self.label_vid[old] = -1
            self.vid_label[vid] = start + offset
        self._selector = None

    def remove(self, vids: np.ndarray) -> None:
        for vid in np.asarray(vids, dtype=np.int64).tolist():
            label = self.vid_label.pop(vid, None)
            if label is not None:
                self.label_vid[label] = -1
                self._selector = None

    def compacted(self, kind: str | None = None) -> VectorIndex:
        """A new index of the live vectors only, of `kind` (default: the current one)."""
        fresh = VectorIndex(self.dimension, kind or self.kind)
        vids, vectors = self.all()
        fresh.add(vids, vectors)
        return fresh

    def needs_compaction(self, kind: str) -> bool:
        return kind != self.kind or self.dead > DEAD_SHARE * max(1, int(self.index.ntotal))

    # -- reads --------------------------------------------------------------------------------------

    def vector(self, vid: int) -> np.ndarray | None:
        label = self.vid_label.get(int(vid))
        return None if label is None else np.asarray(self.index.reconstruct(label), dtype=np.float32)

    def vectors(self, vids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the vids among `vids` that are held, their vectors), in one batch."""
        held = np.asarray([v for v in np.asarray(vids).tolist() if v in self.vid_label], dtype=np.int64)
        if len(held) == 0:
            return held, np.zeros((0, self.dimension), dtype=np.float32)
        labels = np.asarray([self.vid_label[v] for v in held.tolist()], dtype=np.int64)
        return held, np.asarray(self.index.reconstruct_batch(labels), dtype=np.float32)

    def all(self) -> tuple[np.ndarray, np.ndarray]:
        """Every live (vids, vectors), in label order."""
        if self.index.ntotal == 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.dimension), dtype=np.float32)
        live = np.flatnonzero(self.label_vid >= 0)
        vectors = self.index.reconstruct_n(0, int(self.index.ntotal))
        return self.label_vid[live], np.asarray(vectors[live], dtype=np.float32)

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
            labels = [self.vid_label[v] for v in np.asarray(allowed).tolist() if v in self.vid_label]
            bits = np.zeros(int(self.index.ntotal), dtype=bool)
            bits[labels] = True
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
        elif selector is not None:
            params = faiss.SearchParameters()
        else:
            return None, None
        if selector is not None:
            params.sel = selector[0]
        return params, selector


def _new_faiss_index(dimension: int, kind: str) -> Any:
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
        return index
    if kind == "flat":
        return faiss.IndexFlatIP(dimension)
    raise ValueError(f"unknown index kind {kind!r}: use flat or hnsw")


def _ids_path(path: Path) -> Path:
    return path.with_suffix(".ids.npy")
