"""Turning article text into normalized vectors: the embedder interface and its implementations."""

from embeddings.base import Embedder
from embeddings.document import DocumentRecipe, embed_articles

__all__ = ["DocumentRecipe", "Embedder", "embed_articles", "load_embedder", "model_identity"]


def load_embedder(
    model: str, *, device: str = "cpu", batch_size: int = 32, languages: str | None = None
) -> Embedder:
    """Load the embedder named by `model`: a sentence-transformers name or folder.

    Args:
        languages: the languages the model reads, comma-separated, or "*" for all; None reads
            them from the model card.

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
    from embeddings.sentence import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(model, device=device, batch_size=batch_size, languages=chosen)


def model_identity(model: str) -> str:
    """The name an index records for `model` (what `load_embedder(model).name` is), without loading it."""
    if model.startswith("test/hashing"):
        from embeddings.hashing import HashingEmbedder

        return HashingEmbedder.from_name(model).name
    from embeddings.sentence import resolve_model

    return resolve_model(model)[0]
