"""The relevance score of two articles: dense similarity fused with lexical and name overlap, in [0, 1].

    score = w_dense · dense + w_lexical · sqrt(lexical) + w_names · sqrt(names)

    dense   = how much closer the two article vectors are than two random articles of these
              languages: (cosine - b) / (1 - b), clipped to [0, 1], where b is the median cosine of
              random pairs of the catalog's articles in those languages. An English-only model puts
              any two French texts fairly close (b is 0.34 for French on SemEval dev, 0.07 for
              English), multilingual-e5 any two texts (0.80); the baseline makes the scores of all
              languages comparable. For two languages the 1 is the mean of their own baselines'
              (see `Scorer.scale`): the language gap lowers translations as much as random pairs.
    lexical = cosine of their TF-IDF term vectors (same language only: for two languages, its
              weight is shared out between the others in proportion)
    names   = cosine of their TF-IDF name vectors

Terms are stemmed per language (`seealso.indexer.analysis`) and weighted by IDF among the catalog's
articles in the same language (so each language's common words weigh little); names by IDF
among all articles.
The square roots put the sparse cosines, which sit near 0 for unrelated articles, on the scale of
the dense one. The weights depend on whether the embedding model reads both articles' languages:
an English-only model's vectors of French text are weak evidence, so words and names weigh more.
Measured on SemEval-2022 Task 8 dev.csv with scripts/eval_similarity.py (see the README).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from seealso.indexer.lexicon import NAME, term_kind
from seealso.indexer.store import Store


@dataclass(frozen=True)
class Weights:
    dense: float
    lexical: float
    names: float


# Random pairs sampled per language pair to estimate the dense baseline, and the fewest articles a
# language needs for its own baseline.
# The share of the catalog that must change (upserts and deletes) before the statistics are
# loaded again (`Scorer`): document frequencies and calibration move by about that much.
STATS_CHANGE = 0.01
# Articles of a language whose cosines estimate its calibration (`Scorer.baseline`): every pair of
# a stable sample of them (`stable_sample`), so that one write moves no score but by its own pairs.
BASELINE_ARTICLES = 400
MIN_BASELINE_ARTICLES = 20

# The model reads both languages: its similarity carries most of the score.
COVERED = Weights(dense=0.8, lexical=0.1, names=0.1)
# It does not (an English-only model on French text): words and names carry most of it.
UNCOVERED = Weights(dense=0.3, lexical=0.4, names=0.3)


@dataclass(frozen=True)
class Profile:
    """An article's lexical side: L2-normalized TF-IDF weights of its terms and of its names, as
    sorted word ids (of the Scorer's vocabularies) and their weights."""

    language: str
    term_ids: np.ndarray
    term_weights: np.ndarray
    name_ids: np.ndarray
    name_weights: np.ndarray


EMPTY_IDS = np.zeros(0, dtype=np.int64)
EMPTY_WEIGHTS = np.zeros(0, dtype=np.float32)


def empty_profile(language: str) -> Profile:
    return Profile(language, EMPTY_IDS, EMPTY_WEIGHTS, EMPTY_IDS, EMPTY_WEIGHTS)


@dataclass(frozen=True)
class Relevance:
    score: float
    dense: float
    lexical: float
    names: float
    shared_names: list[str]

    def components(self) -> dict[str, float]:
        return {
            "dense": round(self.dense, 4),
            "lexical": round(self.lexical, 4),
            "names": round(self.names, 4),
        }


class Scorer:
    """Computes relevance over one store, with document frequencies reloaded at most every
    `refresh_seconds`, once STATS_CHANGE of the catalog has changed (IDF moves slowly; an
    article's own terms are always current).

    Args:
        model_languages: the languages the embedding model reads; None for all (multilingual).
    """

    def __init__(self, store: Store, model_languages: frozenset[str] | None, refresh_seconds: float = 60.0):
        self.store = store
        self.model_languages = model_languages
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._idf = np.zeros(0, dtype=np.float32)  # by word id
        self._df = np.zeros(0, dtype=np.float32)  # by word id: how many articles have it
        self._unseen_idf = 1.0  # for words added since the statistics were loaded
        self._df_seq = -1
        self._df_time = 0.0
        self._profiles: dict[int, Profile] = {}
        self._profiles_seq = -1
        self._baselines: dict[tuple[str, str], float] = {}
        self._samples: dict[str, np.ndarray] | None = None  # random article vectors, by language
        self._languages: list[str] = []  # the catalog's, as of the statistics

    def weights(self, language_a: str, language_b: str) -> Weights:
        if self.model_languages is None or {language_a, language_b} <= self.model_languages:
            return COVERED
        return UNCOVERED

    def epoch(self, seq: int | None = None) -> int:
        """Changes whenever the statistics are reloaded (so do all scores, a little).

        Args:
            seq: the catalog's sequence number, when the caller has just read it.
        """
        self._refresh(seq)
        return self._df_seq

    # -- profiles -----------------------------------------------------------------------------------

    def settled_epoch(self, seq: int) -> int | None:
        """What `epoch(seq)` returns, without reloading anything: None when a reload is due."""
        loaded, when = self._df_seq, self._df_time
        if loaded < 0 or (seq != loaded and time.monotonic() - when >= self.refresh_seconds):
            return None
        return loaded

    def _refresh(self, seq: int | None = None) -> None:
        seq = self.store.catalog.seq() if seq is None else seq
        with self._lock:
            if seq != self._profiles_seq:
                if self._profiles_seq >= 0:
                    upserts, deletes = self.store.catalog.changes_since(self._profiles_seq)
                    for vid in (*upserts, *deletes):
                        self._profiles.pop(vid, None)
                self._profiles_seq = seq
            stale = seq != self._df_seq and time.monotonic() - self._df_time >= self.refresh_seconds
            if stale and self._df_seq >= 0 and not self._changed_enough():
                self._df_time = time.monotonic()  # look again in refresh_seconds
                stale = False
            if self._df_seq < 0 or stale:
                self._load_idf()
                self._df_seq, self._df_time = seq, time.monotonic()
                self._profiles.clear()
                self._baselines.clear()
                self._samples = None

    def _changed_enough(self) -> bool:
        """Whether enough of the catalog changed since the statistics were loaded to load them
        again (STATS_CHANGE of its articles): each reload moves every score a little, and with
        them the lists near a tie, so a few writes to a large catalog reload nothing."""
        upserts, deletes = self.store.catalog.changes_since(self._df_seq)
        return len(upserts) + len(deletes) >= max(1.0, STATS_CHANGE * self.store.catalog.count())

    def _load_idf(self) -> None:
        """IDF of every word: log((N + 1) / (df + 1)) + 1, with N the articles of the word's
        language for terms, all articles for names."""
        docs = self.store.catalog.counts_by("language")
        self._languages = sorted(docs)
        total = sum(docs.values())
        ids, kinds, df = self.store.catalog.vocabulary()
        articles = {kind: docs.get(kind.removeprefix("term:"), 0) for kind in set(kinds)}
        articles[NAME] = total
        population = np.fromiter((articles[k] for k in kinds), dtype=np.float64, count=len(kinds))
        idf = np.zeros(int(ids.max()) + 1 if len(ids) else 0, dtype=np.float32)
        idf[ids] = np.log((population + 1) / (df + 1)) + 1
        counts = np.zeros(len(idf), dtype=np.float32)
        counts[ids] = df
        self._idf, self._df, self._unseen_idf = idf, counts, float(np.log(total + 1) + 1)

    def document_frequencies(self, ids: np.ndarray) -> np.ndarray:
        """How many articles have each of the words `ids` (0 for words newer than the statistics)."""
        self._refresh()
        counts = self._df
        known = ids < len(counts)
        out = np.zeros(len(ids), dtype=np.float32)
        out[known] = counts[ids[known]]
        return out

    def profiles(self, vids: list[int], languages: Mapping[int, str] | None = None) -> dict[int, Profile]:
        """Profiles of the articles `vids` (cached until they or the document frequencies change)."""
        self._refresh()
        missing = [v for v in vids if v not in self._profiles]
        if missing:
            for vid, row in self.store.catalog.lexical(missing).items():
                self._profiles[vid] = Profile(
                    row.language,
                    *self._weights(row.term_ids, row.term_tf),
                    *self._weights(row.name_ids, row.name_tf),
                )
            if len(self._profiles) > 200_000:
                self._profiles.clear()
        return {v: self._profiles[v] for v in vids if v in self._profiles}

    def _weights(self, ids: np.ndarray, tf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not len(ids):
            return EMPTY_IDS, EMPTY_WEIGHTS
        known = ids < len(self._idf)
        idf = np.full(len(ids), self._unseen_idf, dtype=np.float32)
        idf[known] = self._idf[ids[known]]
        weights = tf * idf
        return ids, (weights / (np.linalg.norm(weights) or 1.0)).astype(np.float32)

    def profile(self, terms: Mapping[str, int], names: Mapping[str, int], language: str) -> Profile:
        """The profile of a text that is not in the catalog (a search query): its known words only."""
        self._refresh()
        parts: list[np.ndarray] = []
        for kind, counts in ((term_kind(language), terms), (NAME, names)):
            words = list(counts)
            ids = self.store.catalog.word_ids(kind, words)
            tf = 1 + np.log(np.asarray([counts[w] for w in words], dtype=np.float32))
            known = ids >= 0
            order = np.argsort(ids[known])
            parts.extend(self._weights(ids[known][order], tf[known][order]))
        return Profile(language, *parts)

    # -- scores -------------------------------------------------------------------------------------

    def baseline(self, language_a: str, language_b: str) -> float:
        """Median cosine of random pairs of articles in these two languages (of all articles when
        either language has fewer than MIN_BASELINE_ARTICLES)."""
        key = (min(language_a, language_b), max(language_a, language_b))
        value = self._baselines.get(key)  # cleared when the statistics are reloaded (see profiles)
        if value is None:
            value = self._baselines[key] = self._estimate_baseline(*key)
        return value

    def _estimate_baseline(self, language_a: str, language_b: str) -> float:
        members = self.store.catalog.vids_by_language()
        side_a, side_b = members.get(language_a, []), members.get(language_b, [])
        if min(len(side_a), len(side_b)) < MIN_BASELINE_ARTICLES:
            side_a = side_b = [v for vids in members.values() for v in vids]
            if len(side_a) < MIN_BASELINE_ARTICLES:
                return 0.0
        _, left = self.store.vectors(stable_sample(side_a, BASELINE_ARTICLES))
        _, right = self.store.vectors(stable_sample(side_b, BASELINE_ARTICLES))
        cosines = left @ right.T
        if side_a is side_b or language_a == language_b:  # an article and itself are not a random pair
            cosines = cosines[~np.eye(len(left), len(right), dtype=bool)]
        return float(np.median(cosines)) if cosines.size else 0.0

    def scale(self, language_a: str, language_b: str) -> tuple[float, float]:
        """(baseline, span) of the dense calibration of two languages: a cosine c becomes
        (c - baseline) / span. The baseline is the median cosine of random pairs of those
        languages; the span is 1 minus the mean of each language's own baseline. Two languages
        apart lower every cosine alike (random pairs and translations), so the gap measured
        between random pairs is taken off the way to 1 too: a translation scores like an update."""
        base = self.baseline(language_a, language_b)
        if language_a == language_b:
            return base, 1.0 - base
        own = (self.baseline(language_a, language_a) + self.baseline(language_b, language_b)) / 2
        return base, 1.0 - max(own, base)

    def cosine_at(self, calibrated: float, language_a: str, language_b: str) -> float:
        """The cosine that `calibrate` takes to `calibrated` between these languages."""
        base, span = self.scale(language_a, language_b)
        return base + calibrated * max(span, 1e-3)

    def calibrate(self, cosines: np.ndarray, languages_a: list[str], languages_b: list[str]) -> np.ndarray:
        """Cosines between articles of `languages_a` (rows) and `languages_b` (columns) as the share
        of the way from two random articles of those languages (0) to one article (1), clipped:
        what "similar" means for any model (a multilingual one puts any two texts at 0.8)."""
        names = sorted(set(languages_a) | set(languages_b))
        if not names:
            return np.zeros(np.shape(cosines), dtype=np.float32)
        code = {language: n for n, language in enumerate(names)}
        table = np.asarray([[self.scale(a, b) for b in names] for a in names], dtype=np.float32)
        rows = np.asarray([code[a] for a in languages_a], dtype=np.int64)[:, None]
        columns = np.asarray([code[b] for b in languages_b], dtype=np.int64)[None, :]
        base, span = table[rows, columns, 0], table[rows, columns, 1]
        shape = np.shape(cosines)
        return np.clip((cosines - base.reshape(shape)) / np.maximum(span.reshape(shape), 1e-3), 0.0, 1.0)

    def relevance(self, dense: float, a: Profile, b: Profile) -> Relevance:
        """Fuse the dense cosine of two articles with the overlap of their profiles."""
        found = self.relevance_many(np.asarray([dense]), a, [b])[0]
        return dataclasses.replace(found, shared_names=self.shared_names(a, [b])[0])

    def languages(self) -> list[str]:
        """The catalog's languages, as of the statistics (reloaded with them)."""
        self._refresh()
        return self._languages

    def query_scales(self, vector: np.ndarray) -> dict[str, tuple[float, float]]:
        """`scale` for a text that is not an article (a search), by candidate language: the
        baseline is the median cosine of `vector` with random articles of that language (a
        query is not a passage: its cosines have their own level), the span 1 minus the highest
        of those baselines (the query's own language, as far as the model can tell)."""
        samples = self._language_samples()
        if not samples:  # too few articles to tell random from related: cosines as they are
            return {}
        base = {language: float(np.median(rows @ vector)) for language, rows in samples.items()}
        top = max(base.values())
        return {language: (b, 1.0 - top) for language, b in base.items()}

    def _language_samples(self) -> dict[str, np.ndarray]:
        """Up to BASELINE_ARTICLES article vectors of each language (a stable sample) (of all articles for a
        language with fewer than MIN_BASELINE_ARTICLES), kept until the statistics are reloaded."""
        self._refresh()
        samples = self._samples
        if samples is None:
            members = self.store.catalog.vids_by_language()
            everyone = [v for vids in members.values() for v in vids]
            samples = {}
            if len(everyone) >= MIN_BASELINE_ARTICLES:
                for language, vids in members.items():
                    pool = vids if len(vids) >= MIN_BASELINE_ARTICLES else everyone
                    samples[language] = self.store.vectors(stable_sample(pool, BASELINE_ARTICLES))[1]
            self._samples = samples
        return samples

    def relevance_many(
        self,
        dense: np.ndarray,
        source: Profile,
        profiles: list[Profile],
        scales: Mapping[str, tuple[float, float]] | None = None,
    ) -> list[Relevance]:
        """`relevance` of `source` with each of `profiles` (their dense cosines in `dense`), in one
        pass; shared names are left empty (see `shared_names`). `scales` replaces the dense
        calibration by language (`query_scales`)."""
        same = [p if p.language == source.language else None for p in profiles]
        lexical = _cosines(
            source.term_ids, source.term_weights, [(p.term_ids, p.term_weights) if p else None for p in same]
        )
        names = _cosines(
            source.name_ids, source.name_weights, [(p.name_ids, p.name_weights) for p in profiles]
        )
        if not profiles:
            return []
        by_language = {  # the weights and dense baseline and span of each language with the source's
            lang: (
                self.weights(source.language, lang),
                *(scales[lang] if scales and lang in scales else self.scale(source.language, lang)),
            )
            for lang in {p.language for p in profiles}
        }
        pairs = [by_language[p.language] for p in profiles]
        w = np.asarray([[weights.dense, weights.lexical, weights.names] for weights, _, _ in pairs])
        # Words are compared within a language only: across languages the lexical weight is
        # shared out between the other two, since missing evidence is not evidence against.
        across = np.asarray([p.language != source.language for p in profiles])
        w[across] = np.column_stack([w[across, 0], np.zeros(across.sum()), w[across, 2]])
        w[across] /= w[across].sum(axis=1, keepdims=True)
        base = np.asarray([baseline for _, baseline, _ in pairs])
        span = np.asarray([span for _, _, span in pairs])
        calibrated = np.where(span > 1e-3, np.clip((dense - base) / np.maximum(span, 1e-3), 0, 1), 0.0)
        lexical, names = np.maximum(lexical, 0.0), np.maximum(names, 0.0)
        score = np.minimum(1.0, w[:, 0] * calibrated + w[:, 1] * np.sqrt(lexical) + w[:, 2] * np.sqrt(names))
        columns = (score.tolist(), calibrated.tolist(), lexical.tolist(), names.tolist())
        return [Relevance(*values, []) for values in zip(*columns, strict=True)]

    def shared_names(self, a: Profile, others: list[Profile], limit: int = 8) -> list[list[str]]:
        """For each of `others`, the names it shares with `a`, the most telling first."""
        weight_in_a = dict(zip(a.name_ids.tolist(), a.name_weights.tolist(), strict=True))
        shared = []
        for b in others:
            common = [
                (-weight_in_a[i] * w, i)
                for i, w in zip(b.name_ids.tolist(), b.name_weights.tolist(), strict=True)
                if i in weight_in_a
            ]
            shared.append([i for _, i in sorted(common)[:limit]])
        words = self.store.catalog.words(sorted({i for ids in shared for i in ids}))
        return [[words[i] for i in ids if i in words] for ids in shared]


def _cosines(
    ids: np.ndarray, weights: np.ndarray, others: list[tuple[np.ndarray, np.ndarray] | None]
) -> np.ndarray:
    """Dot products of one sparse vector with many (None counts as empty)."""
    out = np.zeros(len(others), dtype=np.float64)
    rows = [(i, o) for i, o in enumerate(others) if o is not None and len(o[0])]
    if not len(ids) or not rows:
        return out
    all_ids = np.concatenate([o[0] for _, o in rows])
    all_weights = np.concatenate([o[1] for _, o in rows])
    owner = np.repeat(np.asarray([i for i, _ in rows]), [len(o[0]) for _, o in rows])
    lookup = np.zeros(int(max(all_ids.max(), ids.max())) + 1, dtype=np.float32)
    lookup[ids] = weights
    return np.bincount(owner, weights=lookup[all_ids] * all_weights, minlength=len(others))


def stable_sample(vids: list[int], size: int) -> np.ndarray:
    """Up to `size` of `vids`, chosen by a hash of each: a sample that adding or removing one
    article changes by at most that article and one other (a random draw would change entirely,
    and with it every calibrated score)."""
    ids = np.asarray(vids, dtype=np.int64)
    if len(ids) <= size:
        return ids
    keys = (ids * 2654435761) % 4294967291  # Knuth's multiplicative hash, mod a prime
    return ids[np.argpartition(keys, size)[:size]]


def dense_matrix(vectors: np.ndarray) -> np.ndarray:
    """Pairwise cosines of unit vectors."""
    return np.asarray(vectors @ vectors.T, dtype=np.float32)
