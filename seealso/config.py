"""Settings shared by the CLI and the service, read from SEEALSO_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from embeddings import Embedder
    from ranking.shaping import ListRules

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """Every knob in one place; command-line options override the environment."""

    model_config = SettingsConfigDict(env_prefix="SEEALSO_", extra="ignore")

    data_dir: Path = Field(Path("seealso-data"), description="Where the catalog and index live.")
    model: str = Field(DEFAULT_MODEL, description="sentence-transformers model name or folder.")
    device: str = Field(
        "auto", description="Torch device for embedding: auto (cuda when present), cpu, cuda."
    )
    backend: Literal["auto", "torch", "openvino"] = Field(
        "auto",
        description="How the model runs: OpenVINO on a CPU (exported once into the data dir), torch "
        "on a GPU (auto), or forced.",
    )
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto", description="OpenVINO's arithmetic: bf16 where the CPU has it (auto), or forced."
    )
    embed_threads: int = Field(0, ge=0, description="OpenVINO's threads per process (0: all cores).")
    model_languages: str | None = Field(
        None,
        description="Languages the model reads, comma-separated, or * for all; default: its model card.",
    )
    index_type: Literal["auto", "flat", "hnsw", "ivf"] = Field(
        "auto",
        description="FAISS index: exact up to 20,000 articles, HNSW up to 100,000, then IVF with 8-bit "
        "vectors (auto), or forced.",
    )
    batch_size: int | None = Field(
        None, ge=1, le=4096, description="Texts per model forward pass (default: 32 torch, 8 OpenVINO)."
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64, description="Server processes; each holds the index in memory.")
    api_token: SecretStr | None = Field(
        None, description="Bearer token that HTTP writes must carry; without one, writes are refused."
    )
    max_body_bytes: int = Field(1_000_000, ge=1024, description="Largest HTTP request body accepted.")
    cache_max_age: int = Field(60, ge=0, description="Cache-Control max-age of related and keyword lists.")
    keyword_min_similarity: float = Field(
        0.45, description="An untagged article joins a keyword page from this similarity on."
    )
    keyword_refresh_seconds: float = Field(
        30.0, ge=0, description="Keyword statistics are rebuilt at most this often after changes."
    )
    min_score: float = Field(0.3, ge=0, le=1, description="Lists leave out items below this relevance.")
    duplicate_similarity: float = Field(
        0.9, gt=0, le=1, description="Articles this similar are one story: one item in a list."
    )
    freshness_half_life_days: float = Field(
        365.0, ge=0, description="Freshness halves every so many days (0: no freshness)."
    )
    freshness_weight: float = Field(0.3, ge=0, le=1, description="The most freshness takes off a score.")
    list_cache_size: int = Field(
        10_000,
        ge=0,
        description="Related lists and keyword pages kept in memory until a write changes them (0: none).",
    )
    diversity: float = Field(0.1, ge=0, lt=1, description="Weight of variety against relevance in lists.")
    weak_link_score: float = Field(0.3, description="check-links flags a link scoring below this as weak.")
    strong_link_score: float = Field(
        0.5, description="check-links calls a link scoring at least this strong."
    )

    editor_users: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='Who may sign in to /editor, as JSON {"name": "password"}; a password may be a '
        "hash from `seealso hash-password`.",
    )
    editor_public_read: bool = Field(False, description="Let anyone read /editor pages without signing in.")
    secret_key: SecretStr | None = Field(
        None, description="Signs editor sessions; default: a random key kept in the data dir."
    )

    def load_embedder(self) -> Embedder:
        """The embedder these settings describe; an OpenVINO export is kept under the data dir."""
        from embeddings import load_embedder

        return load_embedder(
            self.model,
            device=self.device,
            batch_size=self.batch_size,
            languages=self.model_languages,
            backend=self.backend,
            cache_dir=self.data_dir / "models",
            precision=self.precision,
            threads=self.embed_threads,
        )

    def list_rules(self) -> ListRules:
        """The list-shaping rules these settings describe."""
        from ranking.shaping import ListRules

        return ListRules(
            min_score=self.min_score,
            duplicate_similarity=self.duplicate_similarity,
            half_life_days=self.freshness_half_life_days,
            freshness_weight=self.freshness_weight,
            diversity=self.diversity,
        )
