"""The embedder interface: one abstract method, batching and normalization done once here."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from seealso.embeddings.spec import ModelSpec


class Embedder(ABC):
    """Maps texts to L2-normalized float32 vectors of a fixed dimension.

    Attributes:
        name: the model's identity, recorded in the index manifest; an index refuses other names.
        dimension: length of every vector.
        max_tokens: the model's input window; longer texts are cut by the model.
        languages: the ISO 639-1 codes of the languages the model was trained on; None for all.
        runtime: what runs the model, for people to read ("torch cpu", "openvino bf16").
        prompts: the prefix the model expects before a text of each role ("query": a search,
            "passage": an article), part of its identity (`seealso.embeddings.spec`).
    """

    name: str
    dimension: int
    max_tokens: int = 256
    languages: frozenset[str] | None = None
    runtime: str = "numpy"
    prompts: Mapping[str, str] = {}  # replaced per instance, never changed
    spec: ModelSpec | None = None  # how to load the model again (None: a test embedder)
    batch_size: int = 32
    # Texts handed to embed_batch at once; large enough for length bucketing, small enough for memory.
    group_size: int = 1024

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed `texts` and return an array of shape (len(texts), dimension)."""

    def embed(self, texts: Sequence[str], role: str = "passage") -> np.ndarray:
        """Embed any number of texts of one role ("passage": articles; "query": searches);
        returns L2-normalized float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prefix = self.prompts.get(role, "")
        if prefix:
            texts = [prefix + text.strip() for text in texts]
        parts = [
            np.asarray(self.embed_batch(texts[i : i + self.group_size]), dtype=np.float32)
            for i in range(0, len(texts), self.group_size)
        ]
        return normalize(np.vstack(parts))


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Scale each row to unit length (rows of zeros stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms
