"""A data dir: the SQLite catalog, the FAISS index kept in step with it, and the manifest.

Writers commit to the catalog, then save a FAISS snapshot under a new name and switch the manifest
to it with a rename, so a crash at any point leaves a usable state. Batch writers (`seealso index`,
`delete`, `overrides import`) take the data dir's writer lock, one at a time; the server's own
writes do not, and go on meanwhile. Readers load the snapshot the
manifest names and apply the catalog's changes since it (`refresh`), so they see every committed
write without a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from seealso.embeddings.packaged import MINILM_NAME
from seealso.errors import IndexNotFound, ModelMismatch, SeealsoError
from seealso.indexer import files
from seealso.indexer.catalog import Catalog, utc_now
from seealso.indexer.manifest import Manifest
from seealso.indexer.vectors import VectorIndex, choose_kind

log = logging.getLogger(__name__)

CATALOG_FILE = "catalog.sqlite3"
MANIFEST_FILE = "manifest.json"
WRITER_LOCK = "writer.lock"


def require_data_dir(path: Path) -> None:
    """Refuse a folder that holds no catalog (a link or a name that points at the wrong place)."""
    if not (path / CATALOG_FILE).exists():
        raise SeealsoError(f"{path} is not a data dir (it has no {CATALOG_FILE})")


class WriterBusy(SeealsoError):
    def __init__(self, data_dir: Path, holder: str) -> None:
        super().__init__(f"{data_dir} is being written by {holder}; try again when it is done")


class RWLock:
    """Many readers or one writer (searches run in parallel; applying changes waits for them)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._readers:
                self._cond.wait()
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class Store:
    """Args:
    data_dir: the folder of the catalog, the snapshots and the manifest.
    catalog: the open catalog.
    index_kind: 'auto' (by size, see `seealso.indexer.vectors.choose_kind`), or 'flat', 'hnsw' or 'ivf'.
    """

    def __init__(self, data_dir: Path, catalog: Catalog, index_kind: str = "auto") -> None:
        self.data_dir = data_dir
        self.catalog = catalog
        self.index_kind = index_kind
        self._lock = RWLock()
        self._index: VectorIndex | None = None
        self._seq = -1  # catalog sequence number the in-memory index reflects

    @classmethod
    def open(cls, data_dir: Path, *, create: bool = False, index_kind: str = "auto") -> Store:
        """Open the data dir; with `create`, make it if needed, else a missing one is an error."""
        data_dir = Path(data_dir)
        if not (data_dir / CATALOG_FILE).exists():
            if not create:
                raise IndexNotFound(str(data_dir))
            files.make_dir(data_dir)
        return cls(data_dir, Catalog(data_dir / CATALOG_FILE), index_kind)

    def close(self) -> None:
        self.catalog.close()

    @contextlib.contextmanager
    def batch_writer(
        self, command: str, *, wait: bool = True, on_wait: Callable[[str], None] | None = None
    ) -> Iterator[None]:
        """Hold the data dir's writer lock while a batch command runs, so that two runs never
        embed or write the same articles at once (an OS lock: a killed run releases it).

        Args:
            command: what holds it, for the message another run shows.
            wait: wait for a run that holds it to finish (calling `on_wait` with who holds it), or
                raise WriterBusy at once.
        """
        fd = os.open(self.data_dir / WRITER_LOCK, os.O_RDWR | os.O_CREAT, files.FILE_MODE)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 500, 0).decode("utf-8", "replace").strip() or "another seealso run"
                if not wait:
                    raise WriterBusy(self.data_dir, holder) from None
                if on_wait:
                    on_wait(holder)
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} ({command}, since {utc_now()})".encode(), 0)
            yield
        finally:
            os.close(fd)  # and with it the lock

    # -- model --------------------------------------------------------------------------------------

    @property
    def model(self) -> str | None:
        """The model whose vectors this data dir holds (None before the first article)."""
        return self.catalog.meta("model")

    @property
    def dimension(self) -> int | None:
        value = self.catalog.meta("dimension")
        return None if value is None else int(value)

    @property
    def model_languages(self) -> frozenset[str] | None:
        """The languages the model reads (None: all of them), as recorded when it was bound."""
        value = self.catalog.meta("model_languages")
        if value is None:  # data dirs bound before languages were recorded
            return frozenset({"en"}) if self.model == MINILM_NAME else None
        return None if value == "*" else frozenset(value.split(","))

    def recorded_model(self) -> tuple[str, dict[str, str]] | None:
        """The model this data dir was built with, as it was named, and its prefixes (None before
        the first article); what `Settings.following` loads again."""
        spec = self.catalog.meta("model_spec")
        if spec is not None:
            value = json.loads(spec)
            return value["model"], value["prompts"]
        # Data dirs bound before the spec was recorded: their identity is the name or folder itself.
        return None if self.model is None else (self.model, {})

    def recorded_arithmetic(self) -> str | None:
        """How this data dir's vectors were computed: "int8" (a quantized model) or "exact" (fp32,
        bf16, torch: the same vectors to 4 decimals); None before the first article. Data dirs
        built before int8 existed are exact."""
        recorded = self.catalog.meta("arithmetic")
        if recorded is None and self.catalog.count():
            return "exact"
        return recorded

    def check_model(self, model: str) -> None:
        """Refuse to mix vectors of another model with this data dir's."""
        if self.model is not None and self.model != model:
            raise ModelMismatch(self.model, model)

    def bind_model(
        self,
        model: str,
        dimension: int,
        recipe: str,
        languages: frozenset[str] | None = None,
        spec: str | None = None,
        arithmetic: str | None = None,
    ) -> None:
        """Record the model's identity (and the languages it reads, None for all; its spec, the
        JSON of `embeddings.ModelSpec`; its `arithmetic`, "int8" or "exact") before the first
        vectors are written; refuse another model later, and warn of other arithmetic."""
        self.check_model(model)
        recorded = self.recorded_arithmetic()
        if arithmetic and recorded and recorded != arithmetic:
            log.warning(
                "this data dir's vectors were computed %s, this run's are %s: they differ by a cosine "
                "of about 0.99; SEEALSO_PRECISION=%s keeps them alike",
                "in int8" if recorded == "int8" else "exactly",
                "in int8" if arithmetic == "int8" else "exact",
                "int8" if recorded == "int8" else "exact",
            )
        values = {
            **({"arithmetic": recorded or arithmetic} if recorded or arithmetic else {}),
            "model": model,
            **({"model_spec": spec} if spec else {}),
            "dimension": str(dimension),
            "recipe": recipe,
            "model_languages": "*" if languages is None else ",".join(sorted(languages)),
        }
        if any(self.catalog.meta(key) != value for key, value in values.items()):
            self.catalog.set_meta(values)

    # -- index --------------------------------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / MANIFEST_FILE

    def manifest(self) -> Manifest | None:
        return Manifest.load(self.manifest_path)

    @property
    def loaded(self) -> bool:
        """Whether the index is in memory (queries then need no disk read of it)."""
        return self._index is not None

    def index(self) -> VectorIndex:
        """The in-memory index, loaded on first use and brought up to date with the catalog."""
        self.refresh()
        assert self._index is not None
        return self._index

    def refresh(self) -> bool:
        """Load the index if needed and apply catalog changes committed since; True if there were."""
        if self._index is not None and self.catalog.seq() == self._seq:
            return False
        with self._lock.write():
            if self._index is None or self._index.dimension != (self.dimension or 0):
                # First use, or the first vectors of a data dir that was empty when it was loaded.
                self._index, self._seq = self._load_snapshot()
            seq = self.catalog.seq()
            if seq == self._seq:
                return False
            upserts, deletes = self.catalog.changes_since(self._seq)
            self._index.remove(np.asarray(deletes, dtype=np.int64))
            for start in range(0, len(upserts), 10_000):
                found = self.catalog.vectors(upserts[start : start + 10_000])
                if found:
                    self._index.add(np.asarray(list(found), dtype=np.int64), np.vstack(list(found.values())))
            self._seq = seq
            return True

    def _load_snapshot(self) -> tuple[VectorIndex, int]:
        """The snapshot the manifest names, or an index built from the catalog's vectors."""
        dimension = self.dimension or 0
        for _attempt in range(3):
            manifest = self.manifest()
            if manifest is None or manifest.model != self.model or manifest.dimension != dimension:
                break
            try:
                return VectorIndex.load(self.data_dir / manifest.index_file), manifest.seq
            except (OSError, RuntimeError, ValueError) as exc:  # replaced meanwhile, or unreadable
                log.warning("cannot read index snapshot %s: %s", manifest.index_file, exc)
        seq = self.catalog.seq()
        count = self.catalog.count()
        index = VectorIndex.build(
            dimension, choose_kind(count, self.index_kind), self.catalog.iter_vectors, count
        )
        return index, seq

    def save_snapshot(self) -> Manifest:
        """Write the up-to-date index under a new file name, then point the manifest at it.

        The index is rebuilt first when its kind no longer fits its size or many of its vectors
        are dead (replaced or deleted).
        """
        self.refresh()
        with self._lock.write():
            assert self._index is not None
            kind = choose_kind(len(self._index), self.index_kind)
            if self._index.needs_compaction(kind):
                self._index = self._index.compacted(kind)
            index, seq = self._index, self._seq
            name = f"index-{seq:012d}.faiss"
            if not (self.data_dir / name).exists():
                index.save(self.data_dir / name)
        manifest = Manifest(
            model=self.model or "",
            dimension=index.dimension,
            recipe=self.catalog.meta("recipe") or "",
            count=len(index),
            index_type=index.index_type,
            index_params=index.params,
            index_file=name,
            seq=seq,
            built_at=utc_now(),
        )
        manifest.save(self.manifest_path)
        for old in self.data_dir.glob("index-*.faiss"):
            if old.name < name:  # names sort by sequence number; newer ones belong to another writer
                VectorIndex.remove_files(old)
        return manifest

    # -- queries ------------------------------------------------------------------------------------

    def vector(self, vid: int) -> np.ndarray | None:
        self.refresh()
        with self._lock.read():
            assert self._index is not None
            vector = self._index.vector(vid)
        return vector if vector is not None else self.catalog.vector(vid)

    def vectors(self, vids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the vids among `vids` that are indexed, their vectors), from memory."""
        self.refresh()
        with self._lock.read():
            assert self._index is not None
            return self._index.vectors(vids)

    def all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(vids, vectors) of every indexed article, from memory."""
        self.refresh()
        with self._lock.read():
            assert self._index is not None
            return self._index.all()

    def vector_chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(vids, vectors) of every indexed article, some tens of thousands at a time."""
        self.refresh()
        with self._lock.read():
            assert self._index is not None
            chunks = self._index.chunks()
        while True:
            with self._lock.read():
                vids, vectors = next(chunks, (None, None))
            if vids is None or vectors is None:
                return
            live = vids >= 0  # deleted since the chunks were listed
            yield vids[live], vectors[live]

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, vids) of the `k` nearest articles to `query`, best first, among `allowed` vids
        when given."""
        self.refresh()
        with self._lock.read():
            assert self._index is not None
            return self._index.search(query, k, allowed)
