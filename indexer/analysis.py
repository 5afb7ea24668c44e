"""Language-aware text analysis for the lexical side of relevance: terms and names of an article.

Terms: words lower-cased and stemmed with the Snowball stemmer of the article's language (PyStemmer;
no stemming for languages it lacks), Chinese/Japanese/Korean as character bigrams, numbers kept.
Names: runs of capitalized words that do not start a sentence ("United Nations", "Côte d'Ivoire",
"Banque de France" kept whole), without the function words, weekdays, months and titles that
headlines and quotes capitalize (NOT_NAMES), plus the article's keywords; they work across
languages, since names are mostly written alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from itertools import pairwise

import Stemmer

from seealso.indexer.article import Article, keyword_key

STEMMERS = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek",
    "en": "english", "es": "spanish", "eu": "basque", "fa": "persian", "fi": "finnish", "fr": "french",
    "hi": "hindi", "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian",
    "lt": "lithuanian", "nl": "dutch", "no": "norwegian", "pl": "polish", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sr": "serbian", "sv": "swedish", "ta": "tamil", "tr": "turkish",
}  # fmt: skip

_WORD = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\u3040-\u30ff]")
_NAME = re.compile(r"(?<![\w'\u2019])[^\W\d_][\w'\u2019-]*", re.UNICODE)
_POSSESSIVE = re.compile(r"['\u2019]s$")
# Lower-case words inside a name ("Bank of England", "Banque de France", "Côte d'Ivoire").
CONNECTORS = frozenset("of de du des la le al el bin ibn van von der den del da dos do y".split())  # noqa: SIM905
_ELIDED = re.compile(r"[dl]['\u2019](\w+)", re.IGNORECASE)  # d'Ivoire, l'Union
# Capitalized at the start of a headline, a quote or after a colon, but not names (English and
# French): articles, pronouns, prepositions, conjunctions, weekdays, months, titles.
NOT_NAMES = frozenset(
    """the a an this that these those it its he she they we i you his her their our my your
    in on at for but and or nor of to as by with from after before over under about into than
    then there here when while where what which who why how if so yet not no all some every
    mr mrs ms dr sir madam mister
    monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december
    le la les l un une des du de au aux et ou mais donc car ni dans sur sous pour par avec sans
    selon chez entre vers depuis pendant il elle ils elles on nous vous je ce cet cette ces son sa
    ses leur leurs notre nos votre vos qui que quoi dont où quand comme si alors ainsi
    m mme mlle mm
    lundi mardi mercredi jeudi vendredi samedi dimanche
    janvier février mars avril mai juin juillet août septembre octobre novembre décembre""".split()  # noqa: SIM905
)
_SENTENCE = re.compile(r"(?<=[.!?…:»\"”])\s+|\n+")


@lru_cache(maxsize=64)
def _stemmer(language: str) -> Stemmer.Stemmer | None:
    name = STEMMERS.get(language)
    return Stemmer.Stemmer(name) if name else None


def terms(text: str, language: str) -> Counter[str]:
    """Term counts of `text` analyzed for `language` (an ISO 639-1 code)."""
    words: list[str] = []
    for word in _WORD.findall(unicodedata.normalize("NFKC", text).casefold()):
        if _CJK.search(word):
            chars = [c for c in word if _CJK.match(c)]
            words.extend([a + b for a, b in pairwise(chars)] or chars)
        elif len(word) > 1 or word.isdigit():
            words.append(word)
    stemmer = _stemmer(language)
    return Counter(stemmer.stemWords(words) if stemmer else words)


def names(text: str) -> Counter[str]:
    """Counts of the names in `text` (see the module's docstring), case-folded."""
    found: Counter[str] = Counter()
    for sentence in _SENTENCE.split(unicodedata.normalize("NFKC", text)):
        run: list[str] = []  # the words of the name being read, connectors included
        end = 0
        for match in _NAME.finditer(sentence):
            if run and sentence[end : match.start()] != " ":  # "Mali, Burkina Faso": two names
                _count(run, found)
                run = []
            end = match.end()
            word = _POSSESSIVE.sub("", match.group(0))
            folded = word.casefold()
            elided = _ELIDED.fullmatch(word)  # d'Ivoire, l'Union
            if elided and match.start() > 0 and elided.group(1)[0].isupper():
                run.append(folded if run else elided.group(1).casefold())
            elif match.start() > 0 and word[0].isupper() and len(word) > 1 and folded not in NOT_NAMES:
                run.append(folded)
            elif run and folded in CONNECTORS:
                run.append(folded)
                continue
            else:
                _count(run, found)
                run = []
                continue
            if _POSSESSIVE.search(match.group(0)):  # "Mali's junta": the name ends here
                _count(run, found)
                run = []
        _count(run, found)
    return found


def _count(run: list[str], found: Counter[str]) -> None:
    while run and run[-1] in CONNECTORS:  # "Banque de" → "Banque"
        run = run[:-1]
    if run:
        found[" ".join(run)] += 1


def article_terms(article: Article) -> Counter[str]:
    """Terms of the title, summary and body; the title counts twice, as a headline should."""
    counts = terms(article.title, article.language)
    counts.update(counts)  # the headline twice
    counts.update(terms(article.summary, article.language))
    counts.update(terms(article.body, article.language))
    return counts


def article_names(article: Article) -> Counter[str]:
    """Names in the title, summary and body (each starts a sentence), plus each keyword (as one
    name) once."""
    found = names(article.title)
    found.update(names(article.summary))
    found.update(names(article.body))
    found.update(keyword_key(k) for k in article.keywords)
    return found
