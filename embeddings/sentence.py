"""A sentence-transformers model run by torch (on a GPU, or where OpenVINO is not wanted)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seealso.embeddings.base import Embedder
from seealso.embeddings.spec import ModelSpec, model_spec
from seealso.errors import SeealsoError

log = logging.getLogger(__name__)


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
        model: str | ModelSpec,
        *,
        device: str = "auto",
        batch_size: int = 32,
        languages: frozenset[str] | str | None = "card",
        cache_dir: Path | None = None,
    ) -> None:
        """Args:
        model: a name or folder (resolved by `seealso.embeddings.spec.model_spec`), or its spec.
        languages: the languages the model reads, None for all, or "card" to read them from the
            model card (README.md) of its folder.
        cache_dir: where a packaged model that is rebuilt is kept.
        """
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        spec = model if isinstance(model, ModelSpec) else model_spec(model, cache_dir=cache_dir)
        assert spec.source is not None
        source = spec.source
        self.name, self.prompts, self.spec = spec.identity, spec.prompts, spec
        try:
            self.model = SentenceTransformer(
                source, device=pick_device(device), model_kwargs=model_kwargs(source)
            )
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
        texts = [text.strip() for text in texts]
        with self._lock:
            return self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )


def model_kwargs(source: str) -> dict[str, Any] | None:
    """BERT folders without pooler weights (sentence-transformers never uses the pooler): load
    without one rather than log a warning that it was initialized at random."""
    try:
        config = json.loads((Path(source) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    bert = isinstance(config, dict) and config.get("model_type") == "bert"
    if bert and config.get("add_pooling_layer") is False:
        return {"add_pooling_layer": False}
    return None
