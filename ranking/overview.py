"""How good the related lists are across the site and per section, from a random sample of
articles: the scores of what the lists show and how long they are (a list is shorter rather than
padded, so its length says how much is relevant enough). The editor's Overview page draws them.

Every list is the one readers get (`Ranker.related`, the site's rules). A site of any size is
sampled: `site` articles at random, then each of the largest sections topped up to `section`
articles, within a time budget; the counts say how many lists each figure comes from.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field

from seealso.ranking.related import Ranker

SHORT = 3  # a list shorter than this needs a look (as the desk says)


@dataclass
class Spread:
    """The lists of one part of the site: `name` is a section, or "" for the whole site."""

    name: str
    articles: int  # in the catalog
    scores: list[float] = field(default_factory=list)  # of every item of the sampled lists
    lengths: list[int] = field(default_factory=list)  # of each sampled list

    @property
    def sampled(self) -> int:
        return len(self.lengths)

    @property
    def median_score(self) -> float | None:
        return statistics.median(self.scores) if self.scores else None

    @property
    def short_share(self) -> float | None:
        return sum(1 for n in self.lengths if n < SHORT) / len(self.lengths) if self.lengths else None


@dataclass
class Overview:
    site: Spread
    sections: list[Spread]
    k: int
    complete: bool  # every part got the sample it asked for within the budget


def overview(
    ranker: Ranker,
    *,
    k: int = 10,
    site: int = 200,
    section: int = 40,
    sections: int = 12,
    budget_seconds: float = 5.0,
    seed: int = 0,
) -> Overview:
    """The spread of scores and lengths of the related lists of sampled articles (see the module)."""
    catalog = ranker.store.catalog
    rng = random.Random(seed)
    counts = catalog.counts_by("section")
    everyone = catalog.vids_matching()
    deadline = time.perf_counter() + budget_seconds
    lists: dict[int, tuple[str, list[float]]] = {}  # vid → (section, scores)
    complete = True

    def look(vids: list[int]) -> bool:
        for vid in vids:
            if vid in lists:
                continue
            if time.perf_counter() > deadline:
                return False
            entry = catalog.get_by_vids([vid], bodies=False).get(vid)
            if entry is None:  # deleted meanwhile
                continue
            found = ranker.related(entry.article.id, k)
            lists[vid] = (entry.article.section or "", [item.score for item in found.items])
        return True

    complete &= look(rng.sample(everyone, min(site, len(everyone))))
    largest = [name for name in counts if name][:sections]
    for name in largest:
        have = sum(1 for s, _ in lists.values() if s == name)
        if have < section:
            pool = [v for v in catalog.vids_matching(sections=[name]) if v not in lists]
            complete &= look(rng.sample(pool, min(section - have, len(pool))))
    site_spread = Spread("", len(everyone))
    parts = {name: Spread(name, counts[name]) for name in largest}
    uniform = min(site, len(everyone))
    for n, (name, scores) in enumerate(lists.values()):
        if n < uniform:  # the site-wide figures keep to the uniform sample, looked at first
            site_spread.scores += scores
            site_spread.lengths.append(len(scores))
        if name in parts:
            parts[name].scores += scores
            parts[name].lengths.append(len(scores))
    return Overview(site_spread, [parts[name] for name in largest], k, complete)
