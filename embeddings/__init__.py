"""Turning article text into normalized vectors: the embedder interface and its implementations."""

import logging
from pathlib import Path

from embeddings.base import Embedder
from embeddings.document import DocumentRecipe, embed_articles
from seealso.errors import SeealsoError

log = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "openvino")

__all__ = [
    "DocumentRecipe",
    "Embedder",
    "choose_backend",
    "embed_articles",
    "load_embedder",
    "model_identity",
]


def load_embedder(
    model: str,
    *,
    device: str = "cpu",
    batch_size: int | None = None,
    languages: str | None = None,
    backend: str = "torch",
    cache_dir: Path | None = None,
    precision: str = "auto",
    threads: int = 0,
) -> Embedder:
    """Load the embedder named by `model`: a sentence-transformers name or folder.

    Args:
        languages: the languages the model reads, comma-separated, or "*" for all; None reads
            them from the model card.
        backend: "torch" (sentence-transformers as is), "openvino" (exported once into `cache_dir`,
            then run by OpenVINO on the CPU), or "auto": torch on a GPU, else OpenVINO.
        precision: OpenVINO's arithmetic, "fp32", "bf16" or "auto" (bf16 where the CPU has it).
        batch_size: texts per forward pass; default 32 with torch, 8 with OpenVINO (which sorts
            texts by length first, so smaller batches carry less padding).
        threads: OpenVINO's threads (0: all cores).

    `test/hashing` (optionally `test/hashing-DIM`) gives the deterministic test embedder; it exists for
    fast tests and is never a default.
    """
    chosen: frozenset[str] | str | None = "card"
    if languages is not None:
        chosen = None if languages.strip() == "*" else frozenset(c.strip() for c in languages.split(","))
    if model.startswith("test/hashing"):
        from embeddings.hashing import HashingEmbedder

        embedder: Embedder = HashingEmbedder.from_name(model)
        embedder.languages = None if chosen == "card" else chosen  # type: ignore[assignment]
        return embedder
    from embeddings.sentence import SentenceTransformerEmbedder, pick_device, resolve_model

    def with_torch() -> Embedder:
        size = batch_size or 32
        return SentenceTransformerEmbedder(model, device=device, batch_size=size, languages=chosen)

    if choose_backend(backend, pick_device(device), cache_dir) == "torch":
        return with_torch()
    if cache_dir is None:
        raise SeealsoError("the openvino backend needs a folder to keep the exported model in")
    from embeddings.openvino import OpenVINOEmbedder, export, export_key
    from embeddings.sentence import card_languages

    name, source = resolve_model(model)
    folder = Path(cache_dir) / export_key(name, source)
    if not (folder / "export.json").exists():
        log.info("exporting %s for OpenVINO into %s (once)", name, folder)
        try:
            export(source, folder)
        except Exception as exc:  # the exporter raises many kinds; torch still runs any model
            if backend == "auto":
                log.warning("cannot export %s for OpenVINO (%s); running it with torch", name, exc)
                return with_torch()
            raise SeealsoError(f"cannot export model {model!r} for OpenVINO: {exc}") from exc
    return OpenVINOEmbedder(
        folder,
        name=name,
        languages=card_languages(source) if chosen == "card" else chosen,  # type: ignore[arg-type]
        batch_size=batch_size or 8,
        precision=precision,
        threads=threads,
    )


def choose_backend(backend: str, device: str, cache_dir: Path | None) -> str:
    """What runs the model: torch on a GPU (or with nowhere to keep an export), else OpenVINO."""
    if backend not in BACKENDS:
        raise SeealsoError(f"unknown backend {backend!r}: use {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend
    return "openvino" if cache_dir is not None and device == "cpu" else "torch"


def model_identity(model: str) -> str:
    """The name an index records for `model` (what `load_embedder(model).name` is), without loading it."""
    if model.startswith("test/hashing"):
        from embeddings.hashing import HashingEmbedder

        return HashingEmbedder.from_name(model).name
    from embeddings.sentence import resolve_model

    return resolve_model(model)[0]
