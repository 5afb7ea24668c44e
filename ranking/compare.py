"""What a change of data dir (another model, recipe or precision) does to the lists: for a sample
of the articles and keywords both data dirs hold, the overlap@k of their lists, and the ones that
change most, with both lists, for an editor to read before the servers switch.

overlap@k of two lists is the share of the longer one's items that the other holds too (1 when
both are empty): 1 is the same items, maybe reordered; 0 nothing in common.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from seealso.ranking.keywords import Keywords
from seealso.ranking.related import Ranker


def overlap(one: Sequence[str], other: Sequence[str]) -> float:
    longest = max(len(one), len(other))
    return len(set(one) & set(other)) / longest if longest else 1.0


@dataclass(frozen=True)
class Change:
    """One page's list in both data dirs (ids of articles, or keys of keywords)."""

    key: str
    title: str
    overlap: float
    old: list[str]
    new: list[str]


@dataclass
class Lists:
    """The comparison of one kind of list over its sample."""

    name: str
    compared: int = 0
    overlaps: list[float] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    @property
    def mean_overlap(self) -> float:
        return sum(self.overlaps) / len(self.overlaps) if self.overlaps else 1.0

    @property
    def unchanged(self) -> int:
        """Pages whose list holds the same items (in whatever order)."""
        return sum(1 for value in self.overlaps if value == 1.0)

    def share_below(self, value: float) -> float:
        return sum(1 for o in self.overlaps if o < value) / len(self.overlaps) if self.overlaps else 0.0

    def to_dict(self, show: int) -> dict[str, Any]:
        return {
            "compared": self.compared,
            "mean_overlap": round(self.mean_overlap, 4),
            "unchanged": self.unchanged,
            "below_half": round(self.share_below(0.5), 4),
            "most_changed": [asdict(change) for change in self.most_changed(show)],
        }

    def most_changed(self, show: int) -> list[Change]:
        return sorted(self.changes, key=lambda c: (c.overlap, c.key))[:show]


@dataclass
class Comparison:
    k: int
    old_model: str | None
    new_model: str | None
    articles: Lists
    keywords: Lists
    related_keywords: Lists

    def kinds(self) -> tuple[Lists, ...]:
        return self.articles, self.keywords, self.related_keywords

    def to_dict(self, show: int = 10) -> dict[str, Any]:
        return {
            "k": self.k,
            "old_model": self.old_model,
            "new_model": self.new_model,
            **{lists.name: lists.to_dict(show) for lists in self.kinds()},
        }

    def text(self, show: int = 10) -> str:
        """The summary an editor reads: the figures, then the most changed pages with both lists."""
        lines = [
            f"comparing the lists of {self.old_model} (old) and {self.new_model} (new), overlap@{self.k}"
        ]
        for lists in self.kinds():
            lines.append(
                f"{lists.name}: {lists.compared} compared, mean overlap {lists.mean_overlap:.2f}, "
                f"{lists.unchanged} unchanged, {lists.share_below(0.5):.0%} below half"
            )
        for lists in self.kinds():
            for change in lists.most_changed(show):
                if change.overlap == 1.0:
                    break
                lines += ["", f"{lists.name} {change.key!r} ({change.title}): overlap {change.overlap:.2f}"]
                width = max((len(item) for item in change.old), default=3)
                lines.append(f"      {'old':<{width}}    new (+ where the old list lacks it)")
                for n in range(max(len(change.old), len(change.new))):
                    old = change.old[n] if n < len(change.old) else ""
                    new = change.new[n] if n < len(change.new) else ""
                    mark = "+" if new and new not in change.old else " "
                    lines.append(f"  {n + 1:>2}. {old:<{width}}  {mark} {new}")
        return "\n".join(lines)


def sample(keys: Sequence[str], limit: int) -> list[str]:
    """Up to `limit` of `keys`, the same ones for the same keys on every run (ordered by a hash)."""
    return sorted(keys, key=lambda key: hashlib.sha1(key.encode()).hexdigest())[:limit]


def compare(old: Keywords, new: Keywords, *, k: int = 10, limit: int = 500) -> Comparison:
    """Compare the lists two data dirs give (each as its `Keywords`, over its `Ranker`): related
    articles, a keyword's articles and its related keywords, for up to `limit` of the articles
    (and of the keywords) both hold."""
    old_ranker, new_ranker = old.ranker, new.ranker
    comparison = Comparison(
        k,
        old_ranker.store.model,
        new_ranker.store.model,
        Lists("articles"),
        Lists("keywords"),
        Lists("related_keywords"),
    )
    both = sorted(_article_ids(old_ranker) & _article_ids(new_ranker))
    for article_id in sample(both, limit):
        entry = new_ranker.store.catalog.get(article_id)
        title = entry.article.title if entry else article_id
        _add(
            comparison.articles,
            article_id,
            title,
            *(_related(r, article_id, k) for r in (old_ranker, new_ranker)),
        )
    shared = set(old_ranker.store.catalog.keyword_keys()) & set(new_ranker.store.catalog.keyword_keys())
    for key in sample(sorted(shared), limit):
        title = new.display_name(key)
        pages = [[i.article.id for i in side.articles(key, k).items] for side in (old, new)]
        _add(comparison.keywords, key, title, *pages)
        related = [[r.keyword for r in side.related(key, k)] for side in (old, new)]
        _add(comparison.related_keywords, key, title, *related)
    return comparison


def _article_ids(ranker: Ranker) -> set[str]:
    return set(ranker.store.catalog.ids())


def _related(ranker: Ranker, article_id: str, k: int) -> list[str]:
    return [item.article.id for item in ranker.related(article_id, k=k).items]


def _add(lists: Lists, key: str, title: str, old: list[str], new: list[str]) -> None:
    value = overlap(old, new)
    lists.compared += 1
    lists.overlaps.append(value)
    lists.changes.append(Change(key, title, value, old, new))
