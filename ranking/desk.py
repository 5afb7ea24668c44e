"""What needs an editor's attention, for the editor's home (the desk): untagged articles with
strong keyword suggestions, manual links that score weakly, pins and links that expire soon,
alias pairs waiting for a decision, keywords that may mix two subjects, the articles kept out of
every list, and the newest articles with how long their related list is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from seealso.indexer.catalog import Entry
from seealso.indexer.overrides import Override
from seealso.ranking.aliases import AliasSuggestion, suggest_aliases
from seealso.ranking.keywords import Keywords
from seealso.ranking.related import LinkCheck, Ranker
from seealso.ranking.splits import Split, suggest_splits
from seealso.ranking.suggestions import KeywordSuggester, SuggestedKeyword

STRONG_SUGGESTION = 0.5  # a suggested keyword's score from which an untagged article is listed
STRONG_ALIAS = 0.7
SHORT_LIST = 3  # a related list shorter than this needs a look
WEAK_LINK, STRONG_LINK = 0.3, 0.6  # as `seealso check-links` says weak and strong by default
LOOKED_AT = 50  # newest articles (and untagged ones) looked at


@dataclass
class Desk:
    untagged: list[tuple[Entry, list[SuggestedKeyword]]] = field(default_factory=list)
    untagged_count: int = 0
    short_lists: list[tuple[Entry, int]] = field(default_factory=list)  # among the newest
    weak_links: list[LinkCheck] = field(default_factory=list)
    expiring: list[Override] = field(default_factory=list)
    aliases: list[AliasSuggestion] = field(default_factory=list)
    newest: list[tuple[Entry, int]] = field(default_factory=list)  # with their list's length
    everywhere: list[Override] = field(default_factory=list)  # blocked from every list
    splits: list[Split] = field(default_factory=list)  # keywords that may mix two subjects


def desk(ranker: Ranker, keywords: Keywords, *, now: datetime | None = None, shown: int = 10) -> Desk:
    catalog = ranker.store.catalog
    now = now or datetime.now(UTC)
    found = Desk()
    untagged = catalog.untagged(LOOKED_AT)
    found.untagged_count = catalog.count_untagged()
    suggester = KeywordSuggester(ranker, keywords)
    for entry in untagged:
        strong = [s for s in suggester.suggest(entry.article.id, 3) if s.score >= STRONG_SUGGESTION]
        if strong:
            found.untagged.append((entry, strong))
    found.untagged = found.untagged[:shown]
    for entry in catalog.newest(LOOKED_AT):
        length = len(ranker.related(entry.article.id, 10).items)
        found.newest.append((entry, length))
        if length < SHORT_LIST:
            found.short_lists.append((entry, length))
    found.newest = found.newest[:shown]
    links = [
        (o.source, o.target) for o in catalog.all_overrides() if o.scope == "article" and o.action == "link"
    ]
    checks = ranker.check_links(links, weak=WEAK_LINK, strong=STRONG_LINK)
    found.weak_links = sorted(
        (c for c in checks if c.verdict in ("weak", "error")), key=lambda c: c.score or 0
    )
    week = (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    found.expiring = sorted(
        (o for o in catalog.all_overrides() if o.expires_at and stamp < o.expires_at <= week),
        key=lambda o: o.expires_at or "",
    )
    found.everywhere = [o for o in catalog.all_overrides() if o.scope == "site" and o.active(stamp)]
    found.splits = suggest_splits(keywords, shown)
    found.aliases = [s for s in suggest_aliases(keywords, 50) if s.score >= STRONG_ALIAS][:shown]
    return found
