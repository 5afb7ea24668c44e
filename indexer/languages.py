"""The language of an article that does not say it: detected from its text by lingua.

The detector knows the languages seealso analyzes (its stemmers) and Chinese, Japanese and
Korean. It runs in lingua's low-accuracy mode (trigrams only): 45 MB and 0.2 s to build, once,
against 540 MB and 3.6 s for the full models, and as accurate on a whole article; a text of
fewer than MIN_LETTERS letters is not enough for it, and is taken as English, as an article
without a language always was.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

FALLBACK = "en"
# Enough text to decide; more only costs time.
SAMPLE_CHARACTERS = 2000
MIN_LETTERS = 120  # below, lingua's low-accuracy mode is documented as unreliable
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    from seealso.indexer.analysis import STEMMERS

    codes = [getattr(IsoCode639_1, code.upper(), None) for code in (*STEMMERS, "zh", "ja", "ko")]
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*[c for c in codes if c is not None])
    return builder.with_low_accuracy_mode().build()


def detect(text: str) -> str | None:
    """The ISO 639-1 code of the language of `text`, None when it cannot tell."""
    sample = text[:SAMPLE_CHARACTERS]
    if sum(c.isalpha() for c in sample) < MIN_LETTERS:
        return None
    with _lock:  # the detector is built once
        detector = _detector()
    found = detector.detect_language_of(sample)
    return None if found is None else found.iso_code_639_1.name.lower()
