"""Turning article text into normalized vectors: the embedder interface and its implementations."""

import logging
from collections.abc import Mapping
from pathlib import Path

from seealso.embeddings.base import Embedder
from seealso.embeddings.document import DocumentRecipe, embed_articles
from seealso.embeddings.spec import ModelSpec, model_spec
from seealso.errors import SeealsoError

log = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "openvino")
PRECISIONS = ("auto", "exact", "fp32", "bf16", "int8")  # OpenVINO's (`seealso.embeddings.openvino`)

__all__ = [
    "DocumentRecipe",
    "Embedder",
    "ModelSpec",
    "choose_backend",
    "embed_articles",
    "load_embedder",
    "model_identity",
    "model_spec",
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
    prompts: Mapping[str, str] | None = None,
) -> Embedder:
    """Load the embedder named by `model`: a packaged name, a sentence-transformers folder or name.

    Args:
        languages: the languages the model reads, comma-separated, or "*" for all; None reads
            them from the model card.
        backend: "torch" (sentence-transformers as is), "openvino" (exported once into `cache_dir`,
            then run by OpenVINO on the CPU), or "auto": torch on a GPU, else OpenVINO.
        cache_dir: the model cache: OpenVINO exports, and the packaged models that are rebuilt.
        precision: OpenVINO's arithmetic, "fp32", "bf16", "int8" (quantized once into
            `cache_dir`), "auto": bf16 where the CPU has it, else int8 where it is faster than
            fp32 (VNNI or AVX-512: `openvino.multiplies_int8`), else fp32; or "exact": bf16
            where the CPU has it, else fp32.
        batch_size: texts per forward pass; default 32 with torch, 8 with OpenVINO (which sorts
            texts by length first, so smaller batches carry less padding).
        threads: OpenVINO's threads (0: all cores).
        prompts: the query and passage prefixes, replacing the model's own (`seealso.embeddings.spec`).

    `test/hashing` (optionally `test/hashing-DIM`) gives the deterministic test embedder; it exists for
    fast tests and is never a default.
    """
    chosen: frozenset[str] | str | None = "card"
    if languages is not None:
        chosen = None if languages.strip() == "*" else frozenset(c.strip() for c in languages.split(","))
    if precision not in PRECISIONS:
        raise SeealsoError(f"precision must be one of {', '.join(PRECISIONS)}")
    if model.startswith("test/hashing"):
        from seealso.embeddings.hashing import HashingEmbedder

        embedder: Embedder = HashingEmbedder.from_name(model)
        embedder.languages = None if chosen == "card" else chosen  # type: ignore[assignment]
        return embedder
    from seealso.embeddings.sentence import SentenceTransformerEmbedder, card_languages, pick_device

    spec = model_spec(model, prompts=prompts, cache_dir=cache_dir)
    assert spec.source is not None

    def with_torch() -> Embedder:
        size = batch_size or 32
        return SentenceTransformerEmbedder(spec, device=device, batch_size=size, languages=chosen)

    if choose_backend(backend, pick_device(device), cache_dir) == "torch":
        return with_torch()
    if cache_dir is None:
        raise SeealsoError("the openvino backend needs a folder to keep the exported model in")
    from seealso.embeddings import openvino

    folder = Path(cache_dir) / openvino.export_key(spec.name, spec.source)
    if not (folder / "export.json").exists():
        log.info("exporting %s for OpenVINO into %s (once)", spec.name, folder)
        try:
            openvino.export(spec.source, folder)
        except Exception as exc:  # the exporter raises many kinds; torch still runs any model
            if backend == "auto":
                log.warning("cannot export %s for OpenVINO (%s); running it with torch", spec.name, exc)
                return with_torch()
            raise SeealsoError(f"cannot export model {model!r} for OpenVINO: {exc}") from exc
    chosen_precision = precision
    if precision in ("auto", "exact"):  # bf16 keeps fp32's vectors to 4 decimals; int8 is next
        if openvino.supports_bf16():
            chosen_precision = "bf16"
        elif precision == "auto" and openvino.multiplies_int8():
            chosen_precision = "int8"
        else:
            chosen_precision = "fp32"
    if chosen_precision == "int8":
        texts = openvino.calibration_texts(spec.prompts)
        quantized = folder.parent / openvino.quantized_key(folder, texts)
        if not (quantized / "export.json").exists():
            log.info("quantizing %s to int8 into %s (once, about a minute)", spec.name, quantized)
            try:
                openvino.quantize(folder, quantized, texts)
            except Exception as exc:  # NNCF raises many kinds; the fp32 export still runs
                if precision == "auto":
                    log.warning("cannot quantize %s to int8 (%s); running it in fp32", spec.name, exc)
                    chosen_precision = "fp32"
                else:
                    raise SeealsoError(f"cannot quantize model {model!r} to int8: {exc}") from exc
        if chosen_precision == "int8":
            folder = quantized
    embedder = openvino.OpenVINOEmbedder(
        folder,
        name=spec.identity,
        prompts=spec.prompts,
        languages=card_languages(spec.source) if chosen == "card" else chosen,  # type: ignore[arg-type]
        batch_size=batch_size or 8,
        precision=chosen_precision,
        threads=threads,
    )
    embedder.spec = spec
    return embedder


def choose_backend(backend: str, device: str, cache_dir: Path | None) -> str:
    """What runs the model: torch on a GPU (or with nowhere to keep an export), else OpenVINO."""
    if backend not in BACKENDS:
        raise SeealsoError(f"unknown backend {backend!r}: use {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend
    return "openvino" if cache_dir is not None and device == "cpu" else "torch"


def model_identity(model: str, prompts: Mapping[str, str] | None = None) -> str:
    """The identity an index records for `model` (what `load_embedder(model).name` is), without
    loading or building it."""
    if model.startswith("test/hashing"):
        from seealso.embeddings.hashing import HashingEmbedder

        return HashingEmbedder.from_name(model).name
    return model_spec(model, prompts=prompts, build=False).identity
