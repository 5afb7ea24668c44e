"""Ranking: related articles, search and pair scores, shared by the CLI, the API and the editor page.

Nothing here imports a web framework.
"""

from seealso.ranking.filters import Filters, InvalidFilter
from seealso.ranking.keywords import KeywordNotFound, Keywords
from seealso.ranking.related import LinkCheck, Ranker, RelatedItem, RelatedList

__all__ = [
    "Filters",
    "InvalidFilter",
    "KeywordNotFound",
    "Keywords",
    "LinkCheck",
    "Ranker",
    "RelatedItem",
    "RelatedList",
]
