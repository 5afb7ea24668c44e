"""Related lists kept in memory, dropped exactly when a change can alter them.

A list of article S is a function of: S itself; its candidate pool (the articles nearest to S that
were scored); the editors' overrides of S's list and the articles they name; the scoring
statistics (document frequencies and baselines, reloaded at most once a minute: `Scorer.epoch`);
and the hour (freshness and override expiry). Its key holds the request, the epoch and the hour,
so those invalidate by themselves. For the rest, each list records what it read:

- `depends`: the vids it read (S, the pool, the editors' targets). An upsert or delete of one of
  them drops the list.
- `floor`: the lowest dense score it read: in its pool's nearest part, and in the wider search its
  items' translations were looked for in (-1 when either was not full). An upserted article whose
  vector scores at least this against S's vector could enter the pool or join an item's story,
  so it drops the list too.
- `bar` (the change feed only, `seealso.ranking.pages`): the lowest dense score at which a new
  vector enters the pool itself; between the floor and the bar it only joins the translation
  search, which a vector far from every article of another language cannot change when the
  articles that search found beyond the pool are themselves that far.
- `words`: the words and names of S that its pool's lexical part was searched with, each as its
  tokens (BM25 over the catalog's full-text index, which matches strings, in any language, and a
  name as a phrase). An upserted article that has every token of one of them could enter that
  part, so it drops the list too; one below the floor without any cannot enter the pool at all.
  (BM25's own statistics move with every write, which may reorder the lexical part's last
  places among the articles already there: the epoch, reloaded with the statistics, bounds how
  long such a list is kept.)
- `source`: S's id; a change to the overrides of S's list drops its lists.

The changes come from the catalog's change log, so each server process catches up on its own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class LexicalSearch:
    """The full-text search a list took lexical candidates from (its query and limit), and the
    articles it found, best first: the change feed runs it again after a write that has one of its
    words, and a page whose search finds the same, in the same order, did not change through it."""

    terms: tuple[str, ...]
    names: tuple[str, ...]
    limit: int
    found: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Cached(Generic[T]):
    value: T
    source: str
    vector: np.ndarray
    depends: frozenset[int]
    floor: float
    words: frozenset[tuple[str, ...]]
    # The lowest dense score at which a new vector may enter the candidates (a related list's
    # pool); between `floor` and `bar` it only joins the search for translations, where it
    # changes nothing when it is inert (`seealso.ranking.translations.inert`). Same as the floor
    # when the search could be changed by what it lets go.
    bar: float = -1.0
    lexical: LexicalSearch | None = None


class ListCache(Generic[T]):
    """At most `size` lists, least recently used dropped first; thread-safe.

    Each entry is a handful of objects (keep the values compact, e.g. JSON bytes): Python's cycle
    collector walks every live container, and a cache of object trees made its pauses long enough
    to show in the service's p99. Changes are matched by scanning the entries (a few milliseconds
    for 10,000, once per write), not through a reverse index of sets.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._lists: OrderedDict[Hashable, Cached[T]] = OrderedDict()
        self._lock = threading.Lock()
        # What the lists are valid at: (catalog sequence number, overrides' version, scoring epoch).
        self.state: tuple[int, int, int] = (-1, -1, -1)
        # Bumped with every new state: a list built before it may have missed a change, and is not kept.
        self.generation = 0
        self.dropped = 0  # lists dropped by changes, for tests and metrics

    def __len__(self) -> int:
        return len(self._lists)

    def get(self, key: Hashable) -> T | None:
        with self._lock:
            found = self._lists.get(key)
            if found is None:
                return None
            self._lists.move_to_end(key)
            return found.value

    def advance(self, state: tuple[int, int, int]) -> int:
        """Record that the lists are now valid at `state`; returns the new generation."""
        with self._lock:
            self.state = state
            self.generation += 1
            return self.generation

    def put(self, key: Hashable, cached: Cached[T], generation: int) -> None:
        """Keep `cached`, built at `generation`, unless the state has moved on since."""
        with self._lock:
            if generation != self.generation:
                return
            self._lists[key] = cached
            self._lists.move_to_end(key)
            while len(self._lists) > self.size:
                self._lists.popitem(last=False)

    def changed(
        self,
        vids: Iterable[int],
        upserted: np.ndarray,
        vectors: np.ndarray,
        margin: float,
        words: frozenset[str] = frozenset(),
        inert: bool = False,
    ) -> None:
        """Drop the lists that read one of `vids`, or whose pool an upserted article could enter:
        by its vector (`vectors`, of the vids `upserted`) or by its words (`words`: the full-text
        tokens of the upserted articles' words and names, `seealso.ranking.related.search_tokens`).

        Args:
            margin: how far the index's scores may be from these exact dot products.
            inert: every upserted vector is inert (`seealso.ranking.translations.inert`; the
                caller knows it when the catalog is in one language): one that reaches a list's
                floor but not its bar leaves it as it was.
        """
        changed = frozenset(vids)
        with self._lock:
            keys = list(self._lists)
            doomed = {
                key
                for key in keys
                if not self._lists[key].depends.isdisjoint(changed)
                or any(words.issuperset(phrase) for phrase in self._lists[key].words)
            }
            if len(upserted) and keys:
                sources = np.vstack([self._lists[key].vector for key in keys])
                lists = [self._lists[key] for key in keys]
                floors = np.asarray([c.bar if inert else c.floor for c in lists], dtype=np.float32)
                best = (sources @ np.asarray(vectors, dtype=np.float32).T).max(axis=1)
                doomed.update(keys[i] for i in np.flatnonzero(best >= floors - margin))
            self._drop(doomed)

    def overridden(self, sources: Iterable[str]) -> None:
        """Drop the lists of these source articles (their overrides changed)."""
        wanted = set(sources)
        with self._lock:
            self._drop({key for key, cached in self._lists.items() if cached.source in wanted})

    def clear(self) -> None:
        with self._lock:
            self._drop(set(self._lists))

    def _drop(self, keys: set[Hashable]) -> None:
        for key in keys:
            del self._lists[key]
        self.dropped += len(keys)
