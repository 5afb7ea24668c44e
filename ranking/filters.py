"""Filters on related lists and searches: section, language, a date range and excluded ids."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from seealso.errors import SeealsoError
from seealso.indexer import dates
from seealso.indexer.article import Article


class InvalidFilter(SeealsoError):
    pass


@dataclass(frozen=True)
class Filters:
    """Which articles may appear in a list. Empty sets and None mean "no condition".

    Attributes:
        sections, languages: allowed values (an article without a section never matches a section).
        since: published at or after this UTC timestamp.
        until: published strictly before this UTC timestamp (a date-only `until` is inclusive of
            that day, so it is stored as the next midnight).
        exclude: article ids left out.
    """

    sections: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    since: str | None = None
    until: str | None = None
    exclude: frozenset[str] = frozenset()

    @classmethod
    def parse(
        cls,
        *,
        section: str | None = None,
        language: str | None = None,
        since: str | None = None,
        until: str | None = None,
        exclude: Iterable[str] = (),
    ) -> Filters:
        """Build filters from request values: comma-separated lists, ISO 8601 dates or date-times."""
        return cls(
            sections=_split(section),
            languages=frozenset(v.lower() for v in _split(language)),
            since=_since(since),
            until=_until(until),
            exclude=frozenset(exclude),
        )

    @property
    def active(self) -> bool:
        return bool(self.sections or self.languages or self.since or self.until or self.exclude)

    def matches(self, article: Article) -> bool:
        return self.matches_fields(article.id, article.section, article.language, article.published_at)

    def matches_fields(
        self, article_id: str, section: str | None, language: str, published: str | None
    ) -> bool:
        """`matches` on the fields it reads (what `Catalog.facets` returns)."""
        if article_id in self.exclude:
            return False
        if self.sections and section not in self.sections:
            return False
        if self.languages and language not in self.languages:
            return False
        if self.since or self.until:
            if published is None:
                return False
            if self.since and published < self.since:
                return False
            if self.until and published >= self.until:
                return False
        return True


def _split(value: str | None) -> frozenset[str]:
    return frozenset(v.strip() for v in (value or "").split(",") if v.strip())


def _since(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return dates.normalize(value)
    except dates.InvalidDate as exc:
        raise InvalidFilter(f"since: {exc}") from None


def _until(value: str | None) -> str | None:
    """The exclusive bound after `value` (None: `value` is the last representable moment, so it
    bounds nothing)."""
    if value is None or not value.strip():
        return None
    try:
        return dates.end_of(value)
    except dates.InvalidDate as exc:
        raise InvalidFilter(f"until: {exc}") from None
