"""The editors' work as JSON lines, to keep it or to carry it to another data dir (one indexed
with another model, say): pins, blocks and links (`seealso.indexer.overrides`), keyword fixes, and
confirmed and rejected aliases. `seealso overrides export` writes these lines and `seealso
overrides import` reads them.

A line is a JSON object; its `kind` says what it holds (a line without one is an override, as
exports wrote before keyword fixes and aliases were carried):

    {"kind": "keyword_edit", "article": "a", "keyword": "Sahel", "action": "add", "author": "ed"}
    {"kind": "alias", "keyword": "cedeao", "alias_of": "ecowas"}
    {"kind": "alias_rejection", "keywords": ["junta", "junte"]}
    {"kind": "override", "scope": "article", "source": "a", "target": "b", "action": "pin", ...}

In that order: aliases after keyword fixes, so that a group forms over the keywords articles
carry once fixed, and overrides last, their keywords stored under the keys of the groups they
belong to in the new data dir (as the lists look them up). Each line is checked as the catalog
checks the same change; an alias line is logged as the importer's (groups keep no author).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from seealso.indexer.catalog import Catalog
from seealso.indexer.overrides import Override

KINDS = ("override", "keyword_edit", "alias", "alias_rejection")


def export(catalog: Catalog) -> Iterator[dict[str, Any]]:
    """Every piece of the editors' work, in the order `apply` takes it (see the module)."""
    for article, edit in catalog.all_keyword_edits():
        yield {"kind": "keyword_edit", "article": article, "keyword": edit.keyword, "action": edit.action,
               "author": edit.author, "at": edit.at}  # fmt: skip
    for key, members in sorted(catalog.alias_groups().items()):
        for member in sorted(members):
            yield {"kind": "alias", "keyword": member, "alias_of": key}
    for a, b in sorted(catalog.rejected_aliases()):
        yield {"kind": "alias_rejection", "keywords": [a, b]}
    for override in catalog.all_overrides():
        yield {"kind": "override", **override.to_dict()}


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None:
        raise KeyError(name)
    if not isinstance(value, str):
        raise ValueError(f"{name}: must be a string")
    return value


def apply(catalog: Catalog, data: dict[str, Any], author: str) -> str:
    """Make the change one exported line describes (by `data["author"]`, else `author`); returns
    its kind. Raises KeyError for a missing field, and seealso's errors or ValueError otherwise."""
    kind = data.get("kind", "override")
    given = data.get("author")
    if given is not None and not isinstance(given, str):
        raise ValueError("author: must be a string")
    who = given or author
    if kind == "override":
        key = {name: _text(data, name) for name in ("scope", "source", "target", "action")}
        if key["scope"] in ("keyword", "keyword_related"):  # under its alias group's key
            key["source"] = catalog.canonical_key(key["source"])
        if key["scope"] == "keyword_related":
            key["target"] = catalog.canonical_key(key["target"])
        override = Override(**key, position=data.get("position"), expires_at=data.get("expires_at"))
        catalog.set_override(override, who)
    elif kind == "keyword_edit":
        action = _text(data, "action")
        catalog.edit_keyword(_text(data, "article"), _text(data, "keyword"), action, who)
    elif kind == "alias":
        catalog.confirm_alias(_text(data, "alias_of"), _text(data, "keyword"), who)
    elif kind == "alias_rejection":
        pair = data.get("keywords")
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(k, str) for k in pair)):
            raise ValueError("keywords: must be a list of two keywords")
        catalog.reject_alias(pair[0], pair[1], who)
    else:
        raise ValueError(f"kind: must be one of {', '.join(KINDS)}, not {kind!r}")
    return str(kind)
