"""A data dir is private: its folders are made 0700 and its files 0600, since the catalog may hold
articles not yet published and editors' sign-ins. Writers create files through these helpers."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_dir(path: Path) -> None:
    """Create `path` (and its parents, with the usual mode) as a private folder."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


def create_private(path: Path) -> None:
    """Create `path` empty and private unless it exists (so SQLite, which gives its -wal and -shm
    files the database's mode, keeps them private too)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


def make_private(path: Path) -> None:
    """Make a file just written (before it is renamed into place) private."""
    os.chmod(path, FILE_MODE)


def sync_file(path: Path) -> None:
    """Flush a file just written to disk, so that renaming it into place cannot, after a power
    loss, leave an empty or partial file under the final name."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
