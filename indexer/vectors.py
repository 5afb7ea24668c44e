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
        # vid → label, dense (vector ids are small consecutive integers); -1 where absent.
        self._vid_label = np.full(0, -1, dtype=np.int64)
        self._live = 0
        live = np.flatnonzero(self.label_vid >= 0)
        self._set_labels(self.label_vid[live], live)
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
        fresh = VectorIndex(self.dimension, kind or self.kind)
        vids, vectors = self.all()
        fresh.add(vids, vectors)
        return fresh

    def needs_compaction(self, kind: str) -> bool:
        return kind != self.kind or self.dead > DEAD_SHARE * max(1, int(self.index.ntotal))

    # -- reads --------------------------------------------------------------------------------------

    def _matrix(self) -> np.ndarray:
        """All stored vectors by label, as a view of FAISS's own memory (valid until the next add)."""
        flat: Any = faiss.downcast_index(self.index.storage) if self.kind == "hnsw" else self.index
        count = int(flat.ntotal)
        if count == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return faiss.rev_swig_ptr(flat.get_xb(), count * self.dimension).reshape(count, self.dimension)

    def vector(self, vid: int) -> np.ndarray | None:
        label = int(self.labels(np.asarray([vid]))[0])
        return None if label < 0 else self._matrix()[label].copy()

    def vectors(self, vids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the vids among `vids` that are held, their vectors), in one batch."""
        vids = np.asarray(vids, dtype=np.int64)
        labels = self.labels(vids)
        held = labels >= 0
        return vids[held], self._matrix()[labels[held]]

    def all(self) -> tuple[np.ndarray, np.ndarray]:
        """Every live (vids, vectors), in label order."""
        live = np.flatnonzero(self.label_vid >= 0)
        return self.label_vid[live], self._matrix()[live]

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
