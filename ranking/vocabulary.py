"""The site's keywords as a vocabulary: found by what an editor types (a prefix, a word of the
name, a misspelling), with how many articles of each language carry them.

Matching folds case, accents and apostrophes ("cote d'ivoire" finds "Côte d'Ivoire" however it is
written); a query ranks exact names first, then names that start with it, then names with a word
that starts with it, then close spellings (rapidfuzz's weighted ratio, from 3 characters on); more
articles first within each.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from seealso.indexer.article import keyword_key

# How a match was made, best first.
MATCHES = ("exact", "prefix", "word", "fuzzy")
FUZZY_MIN = 80.0  # rapidfuzz's WRatio, 0-100: "ecowsa" → "ECOWAS", "bamko" → "Bamako"
FUZZY_FROM = 3  # characters: shorter queries match by prefix only
_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """A keyword as matching compares it: `keyword_key`, without accents, apostrophes as `'`."""
    decomposed = unicodedata.normalize("NFKD", keyword_key(text).replace("\u2019", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(folded: str) -> list[str]:
    """The words of a folded text: letters and digits, split at anything else."""
    return _WORD.findall(folded)


@dataclass(frozen=True)
class KeywordMatch:
    keyword: str  # as the site usually writes it
    key: str
    articles: int
    languages: dict[str, int]  # articles carrying it, by language
    match: str  # one of MATCHES; "all" when the query was empty

    def to_dict(self) -> dict[str, object]:
        return {
            "keyword": self.keyword,
            "articles": self.articles,
            "languages": dict(self.languages),
            "match": self.match,
        }


class Vocabulary:
    """Every keyword in use, at one state of the keyword statistics."""

    def __init__(self, keys: list[str], names: list[str], languages: list[Counter[str]]) -> None:
        """`keys`, `names` and `languages` (articles by language) line up, one keyword each."""
        self.keys, self.names, self.languages = keys, names, languages
        self.folded = [fold(name) for name in names]
        self._words = [words(name) for name in self.folded]
        self._starting: dict[str, list[int]] = {}  # first word → the keywords it starts
        for n, found in enumerate(self._words):
            if found:
                self._starting.setdefault(found[0], []).append(n)

    def mentions(self, text: str) -> set[int]:
        """The keywords (positions) whose whole name occurs in `text`, word for word."""
        tokens = words(fold(text))
        found: set[int] = set()
        for at, token in enumerate(tokens):
            for n in self._starting.get(token, ()):
                name = self._words[n]
                if tokens[at : at + len(name)] == name:
                    found.add(n)
        return found

    def __len__(self) -> int:
        return len(self.keys)

    def search(self, query: str, language: str | None = None, k: int = 10) -> list[KeywordMatch]:
        """The `k` keywords best matching `query`; every keyword, most used first, when it is
        empty. `language`: only keywords with articles in it (counted in that language)."""
        wanted = fold(query)
        found: dict[int, int] = {}  # keyword → rank of its match
        for n, name in enumerate(self.folded):
            if not wanted or name == wanted:
                found[n] = 0
            elif name.startswith(wanted):
                found[n] = 1
            elif any(word.startswith(wanted) for word in self._words[n]):
                found[n] = 2
        if len(wanted) >= FUZZY_FROM:
            close = process.extract(
                wanted, self.folded, scorer=fuzz.WRatio, score_cutoff=FUZZY_MIN, limit=max(4 * k, 20)
            )
            for _, _, n in close:
                found.setdefault(n, 3)

        def count(n: int) -> int:
            held = self.languages[n]
            return held.get(language, 0) if language else sum(held.values())

        held = [n for n in found if count(n) > 0]
        ranked = sorted(held, key=lambda n: (found[n], -count(n), self.folded[n]))
        return [
            KeywordMatch(
                self.names[n],
                self.keys[n],
                count(n),
                dict(sorted(self.languages[n].items())),
                MATCHES[found[n]] if wanted else "all",
            )
            for n in ranked[:k]
        ]
