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

from collections import Counter
from collections.abc import Iterator
from typing import Any

from seealso.indexer.article import keyword_key
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


def sync(source: Catalog, target: Catalog, author: str) -> Counter[str]:
    """Make the editors' work in `target` what it is in `source`: what `source` holds and
    `target` lacks or holds otherwise is applied (by its own author), what only `target` holds is
    taken back (by `author`). `seealso rebuild` carries the live data dir's work into a new one
    with it, and catches up with what editors did on the live one since, when run again. Keyword
    fixes of articles `target` lacks are left out. Returns the changes made, by kind."""
    changed: Counter[str] = Counter()
    wanted = {(article, keyword_key(e.keyword)): e for article, e in source.all_keyword_edits()}
    held = {(article, keyword_key(e.keyword)): e for article, e in target.all_keyword_edits()}
    for (article, key), edit in held.items():
        if (article, key) not in wanted and target.get(article) is not None:
            target.edit_keyword(article, edit.keyword, None, author)
            changed["keyword_edit"] += 1
    for (article, key), edit in wanted.items():
        here = held.get((article, key))
        if (here is None or here.action != edit.action) and target.get(article) is not None:
            target.edit_keyword(article, edit.keyword, edit.action, edit.author or author)
            changed["keyword_edit"] += 1

    def groups(catalog: Catalog) -> dict[frozenset[str], str]:
        return {frozenset([key, *members]): key for key, members in catalog.alias_groups().items()}

    wanted_groups, held_groups = groups(source), groups(target)
    for group in held_groups.keys() - wanted_groups.keys():
        for member in sorted(group):
            target.separate_alias(member, author)
        changed["alias"] += 1
    for group in wanted_groups.keys() - held_groups.keys():
        key = wanted_groups[group]
        for member in sorted(group - {key}):
            target.confirm_alias(key, member, author)
        changed["alias"] += 1
    wanted_pairs, held_pairs = source.rejected_aliases(), target.rejected_aliases()
    for a, b in held_pairs - wanted_pairs:
        target.unreject_alias(a, b, author)
        changed["alias_rejection"] += 1
    for a, b in wanted_pairs - held_pairs:
        target.reject_alias(a, b, author)
        changed["alias_rejection"] += 1

    def what(override: Override) -> tuple[str, int | None, str | None]:
        return override.action, override.position, override.expires_at

    def place(o: Override) -> tuple[str, str, str]:
        """Where an override of `source` goes in `target`: a keyword under its group's key there
        (the two data dirs may have chosen different members as a group's key)."""
        keyed = o.scope in ("keyword", "keyword_related")
        return (o.scope, target.canonical_key(o.source) if keyed else o.source,
                target.canonical_key(o.target) if o.scope == "keyword_related" else o.target)  # fmt: skip

    wanted_overrides = {place(o): o for o in source.all_overrides()}
    held_overrides = {(o.scope, o.source, o.target): o for o in target.all_overrides()}
    for scope, key, other in held_overrides.keys() - wanted_overrides.keys():
        target.remove_override(scope, key, other, author)
        changed["override"] += 1
    for where, override in wanted_overrides.items():
        held_one = held_overrides.get(where)
        if held_one is None or what(held_one) != what(override):
            apply(target, {"kind": "override", **override.to_dict()}, author)
            changed["override"] += 1
    return changed
