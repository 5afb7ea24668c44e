"""A deterministic, dependency-free embedder for fast unit tests (never a default).

Each word maps to a fixed pseudo-random vector seeded by its hash; a text is the sum of its words,
so texts sharing words are close. Good enough to test ranking plumbing without loading a model.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from seealso.embeddings.base import Embedder

_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder(Embedder):
    def __init__(self, dimension: int = 64) -> None:
        self.dimension = dimension
        self.name = f"test/hashing-{dimension}"
        self.max_tokens = 256
        self._cache: dict[str, np.ndarray] = {}

    @classmethod
    def from_name(cls, name: str) -> HashingEmbedder:
        suffix = name.removeprefix("test/hashing").lstrip("-")
        return cls(int(suffix) if suffix else 64)

    def _word_vector(self, word: str) -> np.ndarray:
        vector = self._cache.get(word)
        if vector is None:
            seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            vector = np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
            self._cache[word] = vector
        return vector

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                if len(word) > 2:  # skip most function words
                    out[row] += self._word_vector(word)
        return out
