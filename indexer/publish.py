"""`seealso publish`: a consistent copy of a data dir, for servers elsewhere to serve read-only.

The copy is made beside the live data dir's writers and readers, which go on: the FAISS snapshot
first (written now, so the copy loads fast), then the catalog through SQLite's backup API, which
is one transaction's view. The catalog may be newer than the snapshot; a server replays the
difference from the catalog's change log when it loads, as it does for its own data dir. The
copy is built under a temporary name and renamed into place, so a half-made copy is never seen.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from seealso.errors import SeealsoError
from seealso.indexer import files
from seealso.indexer.manifest import Manifest
from seealso.indexer.store import CATALOG_FILE, MANIFEST_FILE, Store


def publish(store: Store, into: Path, *, models: bool = True) -> Manifest:
    """Copy `store`'s data dir into the new folder `into`: its catalog, its current FAISS snapshot,
    its manifest and (with `models`) its exported models. Returns the copy's manifest."""
    if into.exists():
        raise SeealsoError(f"{into} exists: publish into a new folder")
    partial = into.with_name(f".{into.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    files.make_dir(partial)
    try:
        manifest = _copy_snapshot(store, partial)
        target = sqlite3.connect(partial / CATALOG_FILE)
        try:
            store.catalog.backup(target)
        finally:
            target.close()
        files.make_private(partial / CATALOG_FILE)
        files.sync_file(partial / CATALOG_FILE)
        if models and (store.data_dir / "models").is_dir():
            shutil.copytree(store.data_dir / "models", partial / "models", symlinks=True)
        os.replace(partial, into)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


def _copy_snapshot(store: Store, folder: Path) -> Manifest:
    """The snapshot saved now, copied with the manifest naming it; tried again when another
    process replaced it between the two (it removes older snapshots once it has saved its own)."""
    for _attempt in range(5):
        manifest = store.save_snapshot()
        index = store.data_dir / manifest.index_file
        try:
            for source in (index, index.with_suffix(".ids.npy")):
                shutil.copyfile(source, folder / source.name)
                files.make_private(folder / source.name)
                files.sync_file(folder / source.name)
        except FileNotFoundError:
            continue
        manifest.save(folder / MANIFEST_FILE)
        return manifest
    raise SeealsoError(f"{store.data_dir}'s index snapshot kept changing while it was copied; try again")
