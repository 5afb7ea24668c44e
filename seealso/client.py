"""A small typed client of the seealso HTTP API, for the sites that call it (over httpx).

    with Client("http://127.0.0.1:8000", token="...") as api:
        for item in api.related("mali-coup-01-en", k=5).items:
            print(item.score, item.title)

Responses become frozen dataclasses (fields a newer server adds are ignored); errors become
`SeealsoAPIError` and its subclasses. Network failures are httpx's own exceptions.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Generator, Iterable, Mapping
from datetime import date, datetime
from typing import Any, Self, TypedDict, TypeVar, Unpack
from urllib.parse import quote

import httpx

from seealso import __version__

T = TypeVar("T")
NDJSON = "application/x-ndjson"
BATCH_COUNTS = ("added", "updated", "unchanged", "replaced", "rejected")


class SeealsoAPIError(Exception):
    """An error answer: its HTTP status, the API's short code (`not_found`, ...) and message."""

    def __init__(self, status: int, code: str, message: str, payload: Mapping[str, Any] | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.payload: Mapping[str, Any] = payload or {}


class NotFound(SeealsoAPIError):
    """404: no such article, keyword or override."""


class Unauthorized(SeealsoAPIError):
    """401 (no token) or 403 (a wrong token, or a service that takes no writes)."""


class InvalidRequest(SeealsoAPIError):
    """422: a bad parameter or an invalid article (`payload` may hold `details` or `reasons`)."""


class ResyncNeeded(SeealsoAPIError):
    """410 from the change feed: `since` is out of its range. Fetch again every page you show,
    then follow the feed from `seq`."""

    def __init__(self, status: int, code: str, message: str, payload: Mapping[str, Any] | None = None):
        super().__init__(status, code, message, payload)
        self.seq = int(self.payload.get("seq", 0))


ERRORS: dict[int, type[SeealsoAPIError]] = {
    401: Unauthorized, 403: Unauthorized, 404: NotFound, 410: ResyncNeeded, 422: InvalidRequest,
}  # fmt: skip


def _build(cls: type[T], data: Mapping[str, Any], **parsed: Any) -> T:
    """`cls` from the JSON fields it declares (others ignored), `parsed` ones replaced."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{**{k: v for k, v in data.items() if k in names}, **parsed})


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Translation:
    id: str
    language: str
    url: str | None = None
    title: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Article:
    """An article's metadata (`updated_at` and `indexed_at` only from `article()` and `upsert()`)."""

    id: str
    title: str = ""
    summary: str = ""
    url: str | None = None
    section: str | None = None
    language: str = ""
    language_source: str | None = None
    keywords: tuple[str, ...] = ()
    published_at: datetime | None = None
    image_url: str | None = None
    kicker: str | None = None
    translations: tuple[Translation, ...] = ()
    updated_at: datetime | None = None
    indexed_at: datetime | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return _build(
            cls, data,
            keywords=tuple(data.get("keywords", ())),
            translations=tuple(_build(Translation, t) for t in data.get("translations", ())),
            **{k: _when(data.get(k)) for k in ("published_at", "updated_at", "indexed_at")},
        )  # fmt: skip


@dataclasses.dataclass(frozen=True, kw_only=True)
class Item(Article):
    """An article in a list: its `score`, `origin` (automatic, pinned, linked) and `reasons`."""

    score: float = 0.0
    origin: str = "automatic"
    reasons: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def _items(data: Mapping[str, Any]) -> tuple[Item, ...]:
    return tuple(Item.from_json(i) for i in data.get("items", ()))


@dataclasses.dataclass(frozen=True)
class RelatedList:
    """An article's related list; `tags` are its cache tags (Surrogate-Key), to purge it by."""

    article: Article
    items: tuple[Item, ...]
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class KeywordPage:
    """A keyword page's articles; `tagged` counts the articles that carry the keyword."""

    keyword: str
    tagged: int
    items: tuple[Item, ...]
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class RelatedKeyword:
    keyword: str
    score: float
    origin: str = "automatic"
    articles: int = 0
    reasons: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Upserted:
    status: str  # added, updated or unchanged
    article: Article


@dataclasses.dataclass(frozen=True, kw_only=True)
class BatchLine:
    """One line of a batch: `line` counts from 1 over everything `upsert_many` sent."""

    line: int
    id: str | None
    status: str  # added, updated, unchanged, replaced (by a later line) or rejected
    error: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class BatchResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    replaced: int = 0
    rejected: int = 0
    catalog_seq: int = 0  # the catalog's sequence number after the (last) batch, not a feed seq
    results: tuple[BatchLine, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChangedPage:
    """A page whose content changed: purge `tag` (or `url`, the API path) from caches."""

    kind: str  # related, keyword or keyword_related
    id: str
    url: str
    tag: str
    page_url: str | None = None
    gone: bool = False
    seq: int = 0  # its place in the feed: a consumer that stops midway resumes after it


@dataclasses.dataclass(frozen=True)
class Changes:
    seq: int
    pages: tuple[ChangedPage, ...]
    next: int  # pass as `since` next; equal to `seq` once caught up


@dataclasses.dataclass(frozen=True, kw_only=True)
class Override:
    scope: str
    source: str
    target: str
    action: str  # pin, block or link
    position: int | None = None
    expires_at: str | None = None
    author: str = ""
    created_at: str = ""
    active: bool = True
    target_exists: bool = True


class ListFilters(TypedDict, total=False):
    """A list's filters: `section` and `language` (one or several), `since` and `until` (ISO 8601
    strings, dates or datetimes; a date `until` includes its day), ids to `exclude`, and the
    freshness `half_life` in days (0 for none)."""

    section: str | Iterable[str]
    language: str | Iterable[str]
    since: str | date
    until: str | date
    exclude: str | Iterable[str]
    half_life: float


def segment(value: str) -> str:
    """An id or keyword as one path segment ("/", "?", "#", spaces and all percent-encoded)."""
    return quote(value, safe="")


def _jsonable(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_jsonable)


class Client:
    """The API at `base_url`; `token` (SEEALSO_API_TOKEN or one of SEEALSO_API_TOKENS) is sent
    with every request and needed for writes and overrides. Close it, or use it with `with`."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"User-Agent": f"seealso-client/{__version__}", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout, transport=transport)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, **kwargs)
        if response.is_success:
            return response
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            payload = {"message": response.text[:500]}
        error = ERRORS.get(response.status_code, SeealsoAPIError)
        code, message = payload.get("error", "http_error"), payload.get("message", response.reason_phrase)
        raise error(response.status_code, str(code), str(message), payload)

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._send(method, path, **kwargs).json()

    # -- reads --------------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """`/healthz`: the process answers."""
        return dict(self._json("GET", "/healthz"))

    def ready(self) -> dict[str, Any]:
        """`/readyz`: the index is loaded (articles, model, seq); a SeealsoAPIError (503) if not."""
        return dict(self._json("GET", "/readyz"))

    def article(self, article_id: str) -> Article:
        return Article.from_json(self._json("GET", f"/v1/articles/{segment(article_id)}"))

    def related(self, article_id: str, k: int = 10, **filters: Unpack[ListFilters]) -> RelatedList:
        """The `k` articles most related to this one, after `filters` (see ListFilters)."""
        path = f"/v1/articles/{segment(article_id)}/related"
        response = self._send("GET", path, params=_list_params(k, **filters))
        data = response.json()
        return RelatedList(Article.from_json(data["article"]), _items(data), _tags(response))

    def related_html(self, article_id: str, k: int = 10, **filters: Unpack[ListFilters]) -> str:
        """The related list as an HTML fragment (style it with /v1/widget.css)."""
        path = f"/v1/articles/{segment(article_id)}/related.html"
        return self._send("GET", path, params=_list_params(k, **filters)).text

    def search(self, q: str, k: int = 10, **filters: Unpack[ListFilters]) -> tuple[Item, ...]:
        """Articles most relevant to a free text (filters as in `related`)."""
        return _items(self._json("GET", "/v1/search", params=[("q", q), *_list_params(k, **filters)]))

    def keyword_articles(self, keyword: str, k: int = 10, **filters: Unpack[ListFilters]) -> KeywordPage:
        """A keyword page's articles (filters as in `related`)."""
        path = f"/v1/keywords/{segment(keyword)}/articles"
        response = self._send("GET", path, params=_list_params(k, **filters))
        data = response.json()
        return KeywordPage(data["keyword"], data["tagged"], _items(data), _tags(response))

    def related_keywords(self, keyword: str, k: int = 10) -> tuple[RelatedKeyword, ...]:
        data = self._json("GET", f"/v1/keywords/{segment(keyword)}/related", params={"k": k})
        return tuple(_build(RelatedKeyword, i) for i in data["items"])

    # -- writes (a token) ---------------------------------------------------------------------------

    def upsert(self, article: Mapping[str, Any]) -> Upserted:
        """Add or replace one article (a dict as one line of `seealso index` input, with its
        `id`); when this returns, every list reflects it."""
        path = f"/v1/articles/{segment(article['id'])}"
        headers = {"Content-Type": "application/json"}
        data = self._json("PUT", path, content=_dumps(article).encode(), headers=headers)
        return Upserted(data["status"], Article.from_json(data["article"]))

    def upsert_many(self, articles: Iterable[Mapping[str, Any]], batch_size: int = 500) -> BatchResult:
        """Add or replace many articles, `batch_size` a request (POST /v1/articles:batch, each one
        commit); a bad article is rejected in its line's result, the others are written. Results
        are summed over the batches, their `line` numbered over all `articles`."""
        counts = dict.fromkeys(BATCH_COUNTS, 0)
        lines: list[BatchLine] = []
        seq = sent = 0
        remaining = iter(articles)
        while chunk := list(itertools.islice(remaining, batch_size)):
            body = "".join(_dumps(article) + "\n" for article in chunk).encode()
            data = self._json("POST", "/v1/articles:batch", content=body, headers={"Content-Type": NDJSON})
            counts = {name: n + data.get(name, 0) for name, n in counts.items()}
            lines.extend(_build(BatchLine, r, line=sent + r["line"]) for r in data["results"])
            seq, sent = data["catalog_seq"], sent + len(chunk)
        return BatchResult(**counts, catalog_seq=seq, results=tuple(lines))

    def delete(self, article_id: str) -> None:
        """Delete an article (NotFound if there is none)."""
        self._send("DELETE", f"/v1/articles/{segment(article_id)}")

    def overrides(self, article_id: str) -> tuple[Override, ...]:
        """The editors' overrides of an article's related list (expired ones too)."""
        data = self._json("GET", f"/v1/articles/{segment(article_id)}/overrides")
        return tuple(_build(Override, o) for o in data["overrides"])

    def add_override(
        self,
        article_id: str,
        target: str,
        action: str,
        position: int | None = None,
        expires_at: str | date | None = None,
    ) -> Override:
        """Pin, block or link `target` in an article's related list (replacing its override)."""
        body = {"target": target, "action": action, "position": position, "expires_at": expires_at}
        path = f"/v1/articles/{segment(article_id)}/overrides"
        headers = {"Content-Type": "application/json"}
        return _build(Override, self._json("POST", path, content=_dumps(body).encode(), headers=headers))

    def remove_override(self, article_id: str, target: str) -> None:
        self._send("DELETE", f"/v1/articles/{segment(article_id)}/overrides/{segment(target)}")

    def _post(self, path: str, body: Mapping[str, Any]) -> Any:
        headers = {"Content-Type": "application/json"}
        return self._json("POST", path, content=_dumps(body).encode(), headers=headers)

    # -- across lists ----------------------------------------------------------------------------

    def blocks(self) -> tuple[Override, ...]:
        """The articles kept out of every related list and keyword page."""
        return tuple(_build(Override, o) for o in self._json("GET", "/v1/blocks")["overrides"])

    def block_everywhere(self, target: str, expires_at: str | date | None = None) -> Override:
        """Keep article `target` out of every related list and keyword page (until `expires_at`)."""
        return _build(Override, self._post("/v1/blocks", {"target": target, "expires_at": expires_at}))

    def unblock_everywhere(self, target: str) -> None:
        self._send("DELETE", f"/v1/blocks/{segment(target)}")

    def pin_for_keyword(
        self, keyword: str, target: str, position: int = 1, expires_at: str | date | None = None
    ) -> tuple[str, ...]:
        """Pin `target` in the related list of every article tagged `keyword` now; returns the
        articles whose lists changed."""
        body = {"target": target, "position": position, "expires_at": expires_at}
        return tuple(self._post(f"/v1/keywords/{segment(keyword)}/pins", body)["articles"])

    def unpin_for_keyword(self, keyword: str, target: str) -> tuple[str, ...]:
        """Take back `pin_for_keyword`; returns the articles whose lists changed."""
        path = f"/v1/keywords/{segment(keyword)}/pins/{segment(target)}"
        return tuple(self._json("DELETE", path)["articles"])

    # -- keywords --------------------------------------------------------------------------------

    def find_keywords(self, q: str = "", language: str | None = None, k: int = 10) -> list[dict[str, Any]]:
        """Keywords in use matching `q` (prefix, word or close spelling), most used first."""
        params: dict[str, Any] = {"q": q, "k": k, **({"language": language} if language else {})}
        return list(self._json("GET", "/v1/keywords", params=params)["items"])

    def suggested_keywords(self, article_id: str, k: int = 5) -> list[dict[str, Any]]:
        """Keywords the article does not carry, from the site's vocabulary, with their evidence."""
        path = f"/v1/articles/{segment(article_id)}/keywords/suggested"
        return list(self._json("GET", path, params={"k": k})["items"])

    def keyword_edits(self, article_id: str) -> dict[str, Any]:
        """The keywords the site sent (`given`), those the article carries, and editors' fixes."""
        return dict(self._json("GET", f"/v1/articles/{segment(article_id)}/keyword-edits"))

    def edit_keyword(self, article_id: str, keyword: str, action: str) -> dict[str, Any]:
        """Add or remove a keyword of an article, or reject it as a suggestion (kept across
        reindexing); returns what `keyword_edits` does."""
        body = {"keyword": keyword, "action": action}
        return dict(self._post(f"/v1/articles/{segment(article_id)}/keyword-edits", body))

    def undo_keyword_edit(self, article_id: str, keyword: str) -> None:
        self._send("DELETE", f"/v1/articles/{segment(article_id)}/keyword-edits/{segment(keyword)}")

    def keyword_split(self, keyword: str) -> dict[str, Any] | None:
        """Whether the keyword's articles fall into two clear groups (None below 16 articles)."""
        split: dict[str, Any] | None = self._json("GET", f"/v1/keywords/{segment(keyword)}/split")["split"]
        return split

    def aliases(self) -> list[dict[str, Any]]:
        """The confirmed alias groups, with each language's name."""
        return list(self._json("GET", "/v1/aliases")["groups"])

    def suggested_aliases(self, limit: int = 20) -> list[dict[str, Any]]:
        return list(self._json("GET", "/v1/aliases/suggested", params={"limit": limit})["items"])

    def confirm_alias(self, one: str, other: str) -> list[dict[str, Any]]:
        """Make two keywords one; returns the alias groups."""
        return list(self._post("/v1/aliases", {"keywords": [one, other], "action": "confirm"})["groups"])

    def reject_alias(self, one: str, other: str) -> None:
        self._post("/v1/aliases", {"keywords": [one, other], "action": "reject"})

    def separate_alias(self, keyword: str) -> None:
        self._send("DELETE", f"/v1/aliases/{segment(keyword)}")

    # -- the change feed ----------------------------------------------------------------------------

    def changes(self, since: int = 0, limit: int = 1000) -> Changes:
        """The pages changed after `since` (ResyncNeeded when the feed no longer has it)."""
        data = self._json("GET", "/v1/changes", params={"since": since, "limit": limit})
        pages = tuple(_build(ChangedPage, p) for p in data["pages"])
        return Changes(data["seq"], pages, data["next"])

    def iter_changes(self, since: int = 0, limit: int = 1000) -> Generator[ChangedPage, None, int]:
        """Every page changed after `since`, following `next` until caught up. To keep a cursor
        between runs, loop over `changes()` and store each answer's `next` once its pages are done
        (the generator's return value is that cursor too)."""
        while True:
            batch = self.changes(since, limit)
            yield from batch.pages
            since = batch.next
            if not batch.pages or batch.next >= batch.seq:
                return since


def _list_params(k: int, **filters: Unpack[ListFilters]) -> list[tuple[str, str]]:
    """A list's query string; `exclude` is repeated, one id each (an id may hold a comma)."""
    params = [("k", str(k))]
    for name, value in (("section", filters.get("section")), ("language", filters.get("language"))):
        if value is not None:
            params.append((name, value if isinstance(value, str) else ",".join(value)))
    for name, moment in (("since", filters.get("since")), ("until", filters.get("until"))):
        if moment is not None:
            params.append((name, moment if isinstance(moment, str) else moment.isoformat()))
    exclude = filters.get("exclude", ())
    params.extend(("exclude", i) for i in ([exclude] if isinstance(exclude, str) else exclude))
    if (half_life := filters.get("half_life")) is not None:
        params.append(("half_life", str(half_life)))
    return params


def _tags(response: httpx.Response) -> tuple[str, ...]:
    return tuple(response.headers.get("Surrogate-Key", "").split())
