"""Ranking: related articles, search and pair scores, shared by the CLI, the API and the editor page.

Nothing here imports a web framework.
"""

from ranking.related import LinkCheck, Ranker, RelatedItem, RelatedList

__all__ = ["LinkCheck", "Ranker", "RelatedItem", "RelatedList"]
