"""Domain errors raised by the core and translated at the edges (CLI exit codes, HTTP statuses)."""

from __future__ import annotations


class SeealsoError(Exception):
    """A mistake a user can fix; the CLI prints it on one line, the API returns it as JSON."""


class ArticleNotFound(SeealsoError):
    def __init__(self, article_id: str) -> None:
        super().__init__(f"article not found: {article_id!r}")
        self.article_id = article_id


class KeywordNotFound(SeealsoError):
    def __init__(self, keyword: str) -> None:
        super().__init__(f"no article carries the keyword {keyword!r}")
        self.keyword = keyword


class InvalidArticle(SeealsoError):
    """A record that cannot be indexed; `reasons` lists every problem found."""

    def __init__(self, reasons: list[str], article_id: str | None = None) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons
        self.article_id = article_id


class ModelMismatch(SeealsoError):
    def __init__(self, index_model: str, requested_model: str) -> None:
        super().__init__(
            f"the index in this data dir was built with model {index_model!r}, "
            f"but model {requested_model!r} was requested; use the same model "
            f"(--model / SEEALSO_MODEL) or index into a new data dir"
        )
        self.index_model = index_model
        self.requested_model = requested_model


class IndexNotFound(SeealsoError):
    def __init__(self, data_dir: str) -> None:
        super().__init__(
            f"no seealso index in {data_dir!r}; run `seealso index FILE --data-dir {data_dir}` first"
        )
        self.data_dir = data_dir


class InputError(SeealsoError):
    """An input file that cannot be read at all (missing, unknown format, no header)."""


class InvalidOverride(SeealsoError):
    """An editor's override that cannot be stored, with the reason."""


class InvalidKeywordEdit(SeealsoError):
    """An editor's keyword fix that cannot be stored, with the reason."""


class OverrideNotFound(SeealsoError):
    def __init__(self, target: str) -> None:
        super().__init__(f"no override of {target!r} in this list")


class KeywordEditNotFound(SeealsoError):
    def __init__(self, keyword: str) -> None:
        super().__init__(f"no fix of the keyword {keyword!r} for this article")


class AliasNotFound(SeealsoError):
    def __init__(self, keyword: str) -> None:
        super().__init__(f"the keyword {keyword!r} is in no alias group")


class RejectionNotFound(SeealsoError):
    def __init__(self, one: str, other: str) -> None:
        super().__init__(f"{one!r} and {other!r} were not rejected as aliases")


class InvalidAlias(SeealsoError):
    """A pair of keywords that cannot be made aliases, with the reason."""


class RequestTooLarge(SeealsoError):
    """A request that holds more than a setting allows (the API answers 413)."""
