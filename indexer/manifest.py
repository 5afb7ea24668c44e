"""The manifest beside the index: what built it, from which catalog state, and when."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from seealso.indexer import files

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Manifest:
    """Describes one FAISS snapshot; `seq` is the catalog sequence number it contains."""

    model: str
    dimension: int
    recipe: str
    count: int
    index_type: str
    index_file: str
    seq: int
    built_at: str
    index_params: dict[str, int] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @classmethod
    def load(cls, path: Path) -> Manifest | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})
        except FileNotFoundError:
            return None
        except (ValueError, TypeError):  # unreadable or from another version: rebuilt from the catalog
            return None

    def save(self, path: Path) -> None:
        """Write atomically (temporary file, fsync, rename): readers see the old or the new manifest."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        files.create_private(tmp)
        with open(tmp, "w", encoding="utf-8") as stream:
            json.dump(asdict(self), stream, indent=2)
            stream.write("\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
