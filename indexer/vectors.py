"""The FAISS vector index: normalized vectors under stable integer ids, searched by inner product."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import faiss
import numpy as np

INDEX_TYPE = "IDMap2,Flat,IP"


class VectorIndex:
    """An exact inner-product index keyed by the catalog's vector ids (`IndexIDMap2` + `IndexFlatIP`)."""

    index_type = INDEX_TYPE

    def __init__(self, dimension: int, index: faiss.Index | None = None) -> None:
        self.dimension = dimension
        self.index: Any = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        index = faiss.read_index(str(path))
        return cls(index.d, index)

    def save(self, path: Path) -> None:
        """Write to `path` atomically: a temporary file, flushed to disk, then renamed over it."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        faiss.write_index(self.index, str(tmp))
        with open(tmp, "rb") as stream:
            os.fsync(stream.fileno())
        os.replace(tmp, path)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, vids: np.ndarray, vectors: np.ndarray) -> None:
        """Add or replace the vectors of `vids`."""
        if len(vids) == 0:
            return
        vids = np.ascontiguousarray(vids, dtype=np.int64)
        self.remove(vids)
        self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), vids)

    def remove(self, vids: np.ndarray) -> None:
        if len(vids):
            self.index.remove_ids(np.ascontiguousarray(vids, dtype=np.int64))

    def vector(self, vid: int) -> np.ndarray | None:
        try:
            return np.asarray(self.index.reconstruct(int(vid)), dtype=np.float32)
        except RuntimeError:  # faiss raises when the id is absent
            return None

    def all(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (vids, vectors) held, in storage order."""
        vids = faiss.vector_to_array(self.index.id_map).astype(np.int64)
        vectors = self.index.index.reconstruct_n(0, len(self)) if len(self) else np.zeros((0, self.dimension))
        return vids, np.asarray(vectors, dtype=np.float32)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The `k` nearest vectors of one query: (scores, vids), best first; missing slots dropped."""
        k = min(k, len(self))
        if k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        scores, vids = self.index.search(np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1), k)
        keep = vids[0] >= 0
        return scores[0][keep], vids[0][keep]
