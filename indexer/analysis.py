"""Language-aware text analysis for the lexical side of relevance: terms and names of an article.

Terms: words lower-cased and stemmed with the Snowball stemmer of the article's language (PyStemmer;
no stemming for languages it lacks), Chinese/Japanese/Korean as character bigrams, numbers kept.
Names: the capitalized words that do not start a sentence, plus the article's keywords; they work
across languages, since names are mostly written alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from itertools import pairwise

import Stemmer

from indexer.article import Article, keyword_key

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
    """Counts of the capitalized words of `text` that do not open a sentence, case-folded."""
    found: Counter[str] = Counter()
    for sentence in _SENTENCE.split(unicodedata.normalize("NFKC", text)):
        for match in _NAME.finditer(sentence):
            word = match.group(0)
            if match.start() > 0 and word[0].isupper() and len(word) > 1:
                found[_POSSESSIVE.sub("", word).casefold()] += 1
    return found


def article_terms(article: Article) -> Counter[str]:
    """Terms of the title, summary and body; the title counts twice, as a headline should."""
    counts = terms(article.title, article.language)
    counts.update(counts)  # the headline twice
    counts.update(terms(article.summary, article.language))
    counts.update(terms(article.body, article.language))
    return counts


def article_names(article: Article) -> Counter[str]:
    """Names in the title, summary and body, plus each keyword (as one name) once."""
    found = names(" ".join((article.title, article.summary, article.body)))
    found.update(keyword_key(k) for k in article.keywords)
    return found
