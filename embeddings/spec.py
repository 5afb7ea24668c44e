"""Which model a name means, where its files are, and its conventions: together, its identity.

A model is named by a packaged name (`seealso.embeddings.packaged`), a folder, or a sentence-transformers
hub name. Its conventions are the prefixes it expects before a query and before a passage (e5's
"query: " and "passage: "); an index built with one convention is meaningless searched with
another, so the prefixes are part of the identity recorded in the data dir. They come, first
match wins, from the `prompts` setting, the model's own sentence-transformers config
(`config_sentence_transformers.json`: "query", and "passage" or "document"), or the documented
convention of its family (intfloat's e5 models); a model with none has no prefixes and its
identity is its name alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from seealso.embeddings.packaged import E5_PROMPTS, folder_of, packaged
from seealso.errors import SeealsoError

ROLES = ("query", "passage")
# intfloat's e5 family (e5-small, multilingual-e5-base, e5-large-v2, ...) expects these prefixes;
# the "-instruct" models take an instruction instead and are left to the prompts setting.
_E5_FAMILY = re.compile(r"(^|[/\\_-])(multilingual-)?e5-(small|base|large)(-v2)?$", re.IGNORECASE)


@dataclass(frozen=True)
class ModelSpec:
    """A model as seealso records it.

    Attributes:
        name: the packaged name, the folder's absolute path, or the hub name.
        source: what sentence-transformers loads (a folder or a hub name); None until a packaged
            model that is rebuilt (`seealso.embeddings.packaged`) has been built.
        prompts: the prefix of each role ("query", "passage"), "" for none.
    """

    name: str
    source: str | None
    prompts: Mapping[str, str] = field(default_factory=dict)

    @property
    def identity(self) -> str:
        """What the data dir records: the name, and the prefixes when there are any."""
        if not any(self.prompts.get(role) for role in ROLES):
            return self.name
        shown = ", ".join(f"{role} {self.prompts.get(role, '')!r}" for role in ROLES)
        return f"{self.name} ({shown})"

    def to_json(self) -> str:
        return json.dumps({"model": self.name, "prompts": dict(self.prompts)}, ensure_ascii=False)


def model_spec(
    model: str, *, prompts: Mapping[str, str] | None = None, cache_dir: Path | None = None, build: bool = True
) -> ModelSpec:
    """Resolve `model` (see the module's docstring); `build=False` names it without building a
    packaged model's folder (enough for its identity)."""
    unknown = sorted(set(prompts or {}) - set(ROLES))
    if unknown:
        raise SeealsoError(f"model prompts are for {' and '.join(ROLES)}, not {', '.join(unknown)}")
    shipped = packaged(model)
    if shipped is not None:
        source = str(folder_of(shipped, cache_dir)) if build or shipped.prebuilt else None
        found = E5_PROMPTS if shipped.prompts else {}
        return ModelSpec(shipped.name, source, dict(prompts if prompts is not None else found))
    path = Path(model).expanduser()
    if path.is_dir():
        folder = str(path.resolve())
        found = _config_prompts(path) or _family_prompts(path.resolve().name)
        return ModelSpec(folder, folder, dict(prompts if prompts is not None else found))
    if model.startswith((".", "/", "~")):
        raise SeealsoError(f"model folder not found: {model}")
    return ModelSpec(model, model, dict(prompts if prompts is not None else _family_prompts(model)))


def _config_prompts(folder: Path) -> dict[str, str]:
    try:
        config = json.loads((folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = config.get("prompts") if isinstance(config, dict) else None
    if not isinstance(found, dict):
        return {}
    query = found.get("query")
    passage = found.get("passage", found.get("document"))
    chosen = {"query": query, "passage": passage}
    return {role: text for role, text in chosen.items() if isinstance(text, str) and text}


def _family_prompts(name: str) -> dict[str, str]:
    return dict(E5_PROMPTS) if _E5_FAMILY.search(name.rstrip("/")) else {}
