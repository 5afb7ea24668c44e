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
from dataclasses import dataclass, field

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
    spellings: list[str] = field(default_factory=list)  # its other names (aliases, other languages)

    def to_dict(self) -> dict[str, object]:
        return {
            "keyword": self.keyword,
            "articles": self.articles,
            "languages": dict(self.languages),
            "match": self.match,
            "spellings": list(self.spellings),
        }


class Vocabulary:
    """Every keyword in use, at one state of the keyword statistics."""

    def __init__(
        self,
        keys: list[str],
        names: list[str],
        languages: list[Counter[str]],
        spellings: list[list[str]] | None = None,
        local_names: list[dict[str, str]] | None = None,
    ) -> None:
        """`keys`, `names` and `languages` (articles by language) line up, one keyword each;
        `spellings`: every way each is written (its aliases' names too), matched like its name;
        `local_names`: language → how articles of that language write it."""
        self.keys, self.names, self.languages = keys, names, languages
        self.local_names = local_names or [{} for _ in names]
        self.spellings = spellings or [[name] for name in names]
        self.folded = [fold(name) for name in names]
        # Every written form, folded, with the keyword it belongs to.
        self._forms: list[tuple[str, int]] = sorted(
            {(fold(form), n) for n, forms in enumerate(self.spellings) for form in [names[n], *forms]}
        )
        self._form_words = [words(form) for form, _ in self._forms]
        self._starting: dict[str, list[int]] = {}  # first word → the forms it starts
        for at, found in enumerate(self._form_words):
            if found:
                self._starting.setdefault(found[0], []).append(at)

    def mentions(self, text: str) -> set[int]:
        """The keywords (positions) one of whose names occurs whole in `text`, word for word."""
        tokens = words(fold(text))
        found: set[int] = set()
        for at, token in enumerate(tokens):
            for form in self._starting.get(token, ()):
                name = self._form_words[form]
                if tokens[at : at + len(name)] == name:
                    found.add(self._forms[form][1])
        return found

    def __len__(self) -> int:
        return len(self.keys)

    def search(self, query: str, language: str | None = None, k: int = 10) -> list[KeywordMatch]:
        """The `k` keywords best matching `query`; every keyword, most used first, when it is
        empty. `language`: only keywords with articles in it (counted in that language)."""
        wanted = fold(query)
        found: dict[int, int] = {}  # keyword → rank of its best match
        for (form, n), form_words in zip(self._forms, self._form_words, strict=True):
            if not wanted or form == wanted:
                rank = 0
            elif form.startswith(wanted):
                rank = 1
            elif any(word.startswith(wanted) for word in form_words):
                rank = 2
            else:
                continue
            found[n] = min(rank, found.get(n, rank))
        if len(wanted) >= FUZZY_FROM:
            forms = [form for form, _ in self._forms]
            close = process.extract(
                wanted, forms, scorer=fuzz.WRatio, score_cutoff=FUZZY_MIN, limit=max(4 * k, 20)
            )
            for _, _, at in close:
                found.setdefault(self._forms[at][1], 3)

        def count(n: int) -> int:
            held = self.languages[n]
            return held.get(language, 0) if language else sum(held.values())

        held = [n for n in found if count(n) > 0]
        ranked = sorted(held, key=lambda n: (found[n], -count(n), self.folded[n]))
        out = []
        for n in ranked[:k]:
            # Filtered to a language, a keyword goes by that language's name for it.
            name = self.local_names[n].get(language, self.names[n]) if language else self.names[n]
            others = [form for form in self.spellings[n] if form != name]
            languages = dict(sorted(self.languages[n].items()))
            out.append(
                KeywordMatch(
                    name, self.keys[n], count(n), languages, MATCHES[found[n]] if wanted else "all", others
                )
            )
        return out
