"""/editor: server-rendered pages where editors see suggested links, understand them and correct them.

Reading needs a signed-in editor unless `editor_public_read` is set; every change needs one and the
session's CSRF token. Changes go through `seealso.ranking.overrides`, as the API's do, and are logged.
"""

from __future__ import annotations

import contextlib
import csv
import io
import secrets
import threading
import urllib.parse
import weakref
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from pydantic import BaseModel, Field, field_validator

from seealso.config import Settings
from seealso.errors import ArticleNotFound, InvalidOverride, KeywordNotFound, SeealsoError
from seealso.indexer import history
from seealso.indexer.article import is_web_url, keyword_key
from seealso.indexer.reader import link_pairs
from seealso.indexer.store import Store
from seealso.ranking import Ranker, overrides
from seealso.ranking.aliases import suggest_aliases
from seealso.ranking.desk import desk
from seealso.ranking.overview import SHORT, Overview, overview
from seealso.ranking.splits import split
from seealso.ranking.suggestions import KeywordSuggester
from seealso.service import fragment
from seealso.service.deps import HeavyRequests, served
from seealso.service.editor import locale
from seealso.service.editor.auth import (
    COOKIE,
    DEVICE_COOKIE,
    DEVICE_SECONDS,
    LOGIN_COOKIE,
    SESSION_SECONDS,
    Editors,
    Session,
    TooManyAttempts,
    csrf_ok,
)
from seealso.service.editor.pictures import SIZE, histogram, neighbourhood
from seealso.service.middleware import CONTENT_SECURITY_POLICY

router = APIRouter(prefix="/editor", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
MAX_LINKS = 1000  # links checked per request on the page
MAX_CHANGE_ID = 2**63 - 1  # audit log ids are SQLite integers
ChangeId = Annotated[int, Query(ge=1, le=MAX_CHANGE_ID)]
# Pages with the readers' preview show the articles' pictures, which the site serves over https.
PREVIEW_POLICY = CONTENT_SECURITY_POLICY.replace("img-src 'self' data:", "img-src 'self' data: https:")


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


templates.env.filters["q"] = _quote
# Only http(s) URLs become links (a URL stored before they were checked may be anything).
templates.env.tests["web_url"] = is_web_url


def article_url(article_id: str, **more: object) -> str:
    return "/editor/article?" + urllib.parse.urlencode({"id": article_id, **more})


def keyword_url(name: str, **more: object) -> str:
    return "/editor/keyword?" + urllib.parse.urlencode({"name": name, **more})


templates.env.globals.update(article_url=article_url, keyword_url=keyword_url, map_size=SIZE)
templates.env.filters.update(day=locale.day, last_day=locale.last_day, moment=locale.moment)


# -- who is looking -------------------------------------------------------------------------------


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _store(request: Request) -> Store:
    return served(request).store


def _ranker(request: Request) -> Ranker:
    return served(request).ranker


def _editors(request: Request) -> Editors:
    return request.app.state.editors


def _session(request: Request) -> Session | None:
    return _editors(request).session(request.cookies.get(COOKIE))


def _reader(request: Request) -> Session | None:
    """The signed-in editor, or None where reading is public; otherwise off to the sign-in page."""
    session = _session(request)
    if session is None and not request.app.state.settings.editor_public_read:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(
            303,
            "sign in first",
            headers={"Location": "/editor/login?" + urllib.parse.urlencode({"next": target})},
        )
    return session


def _writer(request: Request, csrf: str | None) -> Session:
    session = _session(request)
    if session is None:
        raise HTTPException(401, "sign in to change anything")
    if not csrf_ok(session.csrf, csrf):
        raise HTTPException(403, "the form's CSRF token is missing or wrong; reload the page")
    return session


def _page(request: Request, template: str, session: Session | None, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request, template, {"session": session, "can_edit": session is not None, **context}
    )


def _back(value: str | None, fallback: str = "/editor") -> str:
    """A local page to return to (never another site)."""
    if value and value.startswith("/editor") and not value.startswith("//"):
        return value
    return fallback


def _go(url: str, **params: object) -> RedirectResponse:
    """A redirect to a page of the editor, with `params` set in its query (None removes one)."""
    return RedirectResponse(_with(url, **params), status_code=303)


def _with(url: str, **params: object) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k not in params]
    query += [(k, str(v)) for k, v in params.items() if v is not None]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


# -- signing in -----------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/editor", error: str | None = None) -> HTMLResponse:
    return _login_form(request, next, error)


def _login_form(request: Request, next: str, error: str | None, status_code: int = 200) -> HTMLResponse:
    """The sign-in form, with a token that the form and a cookie set here must both carry."""
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = _page(
        request, "login.html", _session(request), next=_back(next), error=error, login_token=token
    )
    response.status_code = status_code
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict", path="/editor/login",
        secure=request.url.scheme == "https",
    )  # fmt: skip
    return response


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/editor",
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    origin = request.headers.get("origin")
    foreign = origin is not None and urllib.parse.urlsplit(origin).netloc != request.headers.get("host")
    if foreign or not csrf_ok(request.cookies.get(LOGIN_COOKIE), csrf):
        message = "the sign-in form has expired or came from elsewhere; sign in again"
        return _login_form(request, next, message, status_code=403)
    address = request.client.host if request.client else "unknown"
    try:
        signed_in = _editors(request).sign_in(username, password, address, request.cookies.get(DEVICE_COOKIE))
    except TooManyAttempts as exc:
        refused = _login_form(request, next, str(exc), status_code=429)
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    if signed_in is None:
        return _go("/editor/login", next=_back(next), error="wrong name or password")
    _, cookie, device = signed_in
    response = RedirectResponse(_back(next), status_code=303)
    secure = request.url.scheme == "https"
    response.set_cookie(
        COOKIE, cookie, max_age=SESSION_SECONDS, httponly=True, samesite="lax", path="/editor", secure=secure
    )
    response.set_cookie(
        DEVICE_COOKIE, device, max_age=DEVICE_SECONDS, httponly=True, samesite="strict", path="/editor/login",
        secure=secure,
    )  # fmt: skip
    response.delete_cookie(LOGIN_COOKIE, path="/editor/login")
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str | None, Form()] = None) -> Response:
    """Sign out: the session ends on the server, so its cookie opens nothing afterwards."""
    _writer(request, csrf)
    _editors(request).sign_out(request.cookies.get(COOKIE))
    response = RedirectResponse("/editor/login", status_code=303)
    response.delete_cookie(COOKIE, path="/editor")
    return response


# -- finding --------------------------------------------------------------------------------------


@router.get("")
def home(request: Request, q: str = "", error: str | None = None) -> Response:
    """The desk: what needs attention; and finding an article (by words of its title or text, its
    id or its URL) or a keyword."""
    session = _reader(request)
    store, ranker = _store(request), _ranker(request)
    q = q.strip()
    results: list[Any] = []
    found_keywords: list[Any] = []
    if q:
        entry = store.catalog.get(q) or store.catalog.get_by_url(q)
        if entry is not None:
            return _go(article_url(entry.article.id))
        found_keywords = served(request).keywords.vocabulary().search(q, k=8)
        results = ranker.search(q, 20).items
        return _page(request, "home.html", session, q=q, results=results, found_keywords=found_keywords,
                     desk=None, error=error)  # fmt: skip
    attention = desk(ranker, served(request).keywords)
    return _page(
        request, "home.html", session, q=q, results=[], found_keywords=[], desk=attention, error=error
    )


# -- an article -----------------------------------------------------------------------------------


KEYWORD_CHOICES = 500


@router.get("/article")
def article_page(
    request: Request,
    id: str,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    find: str = "",
    done: ChangeId | None = None,
    error: str | None = None,
) -> Response:
    session = _reader(request)
    store, ranker = _store(request), _ranker(request)
    try:
        entry = ranker.entry(id)
    except ArticleNotFound as exc:
        return _go("/editor", error=str(exc))
    related = ranker.related(id, k)
    wider = ranker.related(id, min(100, k + 15)).items  # the runners-up, for the map
    shown = {item.article.id for item in related.items}
    others = [(i.article.id, i.article.title) for i in wider if i.article.id not in shown][:15]
    ids = [id, *shown, *(i for i, _ in others)]
    points = neighbourhood(
        id, entry.article.title, _vectors(store, ids),
        [(i.article.id, i.article.title, i.origin) for i in related.items], others,
    )  # fmt: skip
    found = ranker.search(find, 10).items if find.strip() else []
    keywords = served(request).keywords
    suggested = KeywordSuggester(ranker, keywords).suggest(id, 5)
    # The site's most used keywords, for the browser to complete what is typed (no script).
    choices = keywords.vocabulary().search("", entry.article.language, KEYWORD_CHOICES)
    preview = fragment.render_json(ranker.related_page(id, k).json, "related")
    return _with_pictures(_page(
        request, "article.html", session, preview=Markup(preview.decode()),
        entry=entry, items=related.items, translations=related.translations, k=k, points=points,
        find=find, found=found, suggested=suggested, keyword_edits=store.catalog.keyword_edits(id),
        keyword_choices=choices,
        given_keywords=store.catalog.given_keywords(id),
        overrides=overrides.described(store.catalog, "article", id),
        everywhere=next((o for o in overrides.described(store.catalog, "site", overrides.EVERYWHERE)
                         if o["target"] == id), None),
        scope="article", source=id, back=article_url(id, k=k),
        done=store.catalog.audit_entry(done), error=error,
    ))  # fmt: skip


def _with_pictures(page: HTMLResponse) -> HTMLResponse:
    """A page with the readers' preview, whose pictures come from the site's own https servers."""
    page.headers["Content-Security-Policy"] = PREVIEW_POLICY
    return page


def _vectors(store: Store, ids: list[str]) -> dict[str, np.ndarray]:
    vids = {vid: article_id for article_id, (vid, _, _) in store.catalog.hashes(ids).items()}
    held, vectors = store.vectors(np.asarray(list(vids), dtype=np.int64))
    return {vids[int(v)]: vector for v, vector in zip(held, vectors, strict=True)}


# -- a keyword ------------------------------------------------------------------------------------


@router.get("/keyword")
def keyword_page(
    request: Request,
    name: str,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    find: str = "",
    done: ChangeId | None = None,
    bulk: Annotated[int | None, Query(ge=1)] = None,
    error: str | None = None,
) -> Response:
    session = _reader(request)
    store, keywords = _store(request), served(request).keywords
    try:
        articles = keywords.articles(name, k)
        related = keywords.related(name, k)
    except KeywordNotFound as exc:
        return _go("/editor", error=str(exc))
    found = _ranker(request).search(find, 10).items if find.strip() else []
    preview = fragment.render_json(keywords.articles_page(name, k).json, "keyword")
    mixed = split(keywords, name)
    return _with_pictures(_page(
        request, "keyword.html", session, preview=Markup(preview.decode()), split=mixed,
        keyword_choices=keywords.vocabulary().search("", None, KEYWORD_CHOICES),
        name=articles.keyword, tagged=articles.tagged, items=articles.items, related=related, k=k,
        find=find, found=found,
        overrides=overrides.described(store.catalog, "keyword", name),
        keyword_overrides=overrides.described(store.catalog, "keyword_related", name),
        source=name, audit_source=keyword_key(name), back=keyword_url(name, k=k),
        done=store.catalog.audit_entry(done), bulk=bulk, error=error,
    ))  # fmt: skip


# -- changes --------------------------------------------------------------------------------------


@router.post("/override")
def set_override(
    request: Request,
    scope: Annotated[str, Form()],
    source: Annotated[str, Form()],
    target: Annotated[str, Form()],
    action: Annotated[str, Form()],
    position: Annotated[str, Form()] = "",
    expires_at: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/editor",
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    """Pin, block or link `target` in a list; back to the page with the change (and its undo)."""
    session = _writer(request, csrf)
    store = _store(request)
    try:
        if scope not in overrides.SCOPES:
            raise overrides.InvalidOverride(f"scope: must be one of {', '.join(overrides.SCOPES)}")
        if action == "everywhere" and scope in ("article", "keyword"):  # a row's "Block everywhere"
            scope, source, action = "site", overrides.EVERYWHERE, "block"
        place = int(position) if position.strip() else None
        entry = overrides.change(
            store.catalog, scope, source, target.strip(), action,
            position=place, expires_at=expires_at or None, author=session.user,
        )  # fmt: skip
    except ValueError:
        return _go(_back(back), error="position: a whole number")
    except SeealsoError as exc:
        return _go(_back(back), error=str(exc))
    return _go(_back(back), done=entry.id, error=None)


@router.post("/keyword-pins")
def keyword_pins(
    request: Request,
    keyword: Annotated[str, Form()],
    target: Annotated[str, Form()],
    action: Annotated[str, Form()],
    position: Annotated[str, Form()] = "1",
    expires_at: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/editor",
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    """Pin `target` in the related list of every article tagged `keyword`, or take those pins back."""
    session = _writer(request, csrf)
    catalog = _store(request).catalog
    try:
        place = int(position or 1)
    except ValueError:
        return _go(_back(back), error="position: a whole number")
    try:
        if action == "pin":
            done = overrides.pin_for_keyword(
                catalog, keyword, target, position=place, expires_at=expires_at or None, author=session.user
            )
        elif action == "unpin":
            done = overrides.unpin_for_keyword(catalog, keyword, target, author=session.user)
        else:
            raise InvalidOverride(f"action: pin or unpin, not {action!r}")
    except SeealsoError as exc:
        return _go(_back(back), error=str(exc))
    if not done and action == "pin":
        return _go(
            _back(back),
            error=f"no list to pin {target!r} in: each is its own, or an editor blocked or linked it there",
        )
    if not done:
        return _go(_back(back), error=f"no pin of {target!r} to take back in these lists")
    return _go(_back(back), done=done[-1].id, bulk=len(done), error=None)


@router.post("/keyword-edit")
def edit_keyword(
    request: Request,
    article: Annotated[str, Form()],
    keyword: Annotated[str, Form()],
    action: Annotated[str, Form()],
    back: Annotated[str, Form()] = "/editor",
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    """Add, remove or reject a keyword for an article, or take a fix back (`undo`)."""
    session = _writer(request, csrf)
    try:
        edit = None if action == "undo" else action
        _store(request).catalog.edit_keyword(article, keyword, edit, session.user)
    except SeealsoError as exc:
        return _go(_back(back), error=str(exc))
    return _go(_back(back), error=None)


@router.post("/remove")
def remove_override(
    request: Request,
    scope: Annotated[str, Form()],
    source: Annotated[str, Form()],
    target: Annotated[str, Form()],
    back: Annotated[str, Form()] = "/editor",
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    session = _writer(request, csrf)
    try:
        entry = overrides.remove(_store(request).catalog, scope, source, target, author=session.user)
    except SeealsoError as exc:
        return _go(_back(back), error=str(exc))
    return _go(_back(back), done=entry.id if entry else None, error=None)


@router.post("/undo")
def undo(
    request: Request,
    entry: Annotated[int, Form(ge=1, le=MAX_CHANGE_ID)],
    back: Annotated[str, Form()] = "/editor/audit",
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    """Put an override back as it was before change `entry`."""
    session = _writer(request, csrf)
    try:
        done = _store(request).catalog.undo(entry, session.user)
    except SeealsoError as exc:
        return _go(_back(back), error=str(exc))
    return _go(_back(back), done=done.id, error=None)


# -- aliases --------------------------------------------------------------------------------------


@router.get("/aliases")
def aliases_page(request: Request, error: str | None = None) -> Response:
    """Keywords that may name the same thing, to confirm or reject; the confirmed groups."""
    session = _reader(request)
    store = _store(request)
    groups = [
        (store.catalog.keyword_name(key) or key, key, store.catalog.keyword_names(key), members)
        for key, members in store.catalog.alias_groups().items()
    ]
    suggested = suggest_aliases(served(request).keywords, 30)
    rejected = sorted(store.catalog.rejected_aliases())
    return _page(
        request, "aliases.html", session, suggested=suggested, groups=groups, rejected=rejected, error=error
    )


@router.post("/alias")
def change_alias(
    request: Request,
    one: Annotated[str, Form()],
    action: Annotated[str, Form()],
    other: Annotated[str, Form()] = "",
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    """Confirm or reject a pair of keywords as aliases, or take a keyword out of its group."""
    session = _writer(request, csrf)
    catalog = _store(request).catalog
    try:
        if action == "confirm":
            catalog.confirm_alias(one, other, session.user)
        elif action == "reject":
            catalog.reject_alias(one, other, session.user)
        elif action == "separate":
            catalog.separate_alias(one, session.user)
        elif action == "unreject":
            catalog.unreject_alias(one, other, session.user)
        else:
            raise InvalidOverride(f"action: confirm, reject, separate or unreject, not {action!r}")
    except SeealsoError as exc:
        return _go("/editor/aliases", error=str(exc))
    return _go("/editor/aliases", error=None)


# -- the overview ---------------------------------------------------------------------------------

SCORE_EDGES = [round(0.05 * i, 2) for i in range(21)]
# The last overview made for a ranker (a weak key), with the catalog state it was made at.
_overviews: weakref.WeakKeyDictionary[Ranker, tuple[tuple[int, int], Overview]] = weakref.WeakKeyDictionary()
_overviews_lock = threading.Lock()


@router.get("/overview")
def overview_page(request: Request) -> HTMLResponse:
    """The spread of related-list scores and lengths across the site and per section (sampled)."""
    session = _reader(request)
    ranker = _ranker(request)
    catalog = ranker.store.catalog
    state = (catalog.seq(), catalog.overrides_version())
    with _overviews_lock:  # one at a time: each costs up to its time budget
        made = _overviews.get(ranker)
        if made is None or made[0] != state:
            made = (state, overview(ranker))
            _overviews[ranker] = made
    found = made[1]
    k = found.k
    length_edges = [n - 0.5 for n in range(k + 2)]
    charts = [
        (
            spread,
            histogram(spread.scores, SCORE_EDGES),
            histogram([float(n) for n in spread.lengths], length_edges),
        )
        for spread in [found.site, *found.sections]
    ]
    return _page(request, "overview.html", session, overview=found, charts=charts, short=SHORT, error=None)


# -- checking links -------------------------------------------------------------------------------


@router.get("/check")
def check_page(request: Request) -> HTMLResponse:
    return _page(request, "check.html", _reader(request), links="", results=None, error=None)


@router.post("/check")
def check_links(
    request: Request,
    links: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    """Score pasted or uploaded `source,target` links, as `seealso check-links` does: up to
    MAX_LINKS for a signed-in editor; as many as /v1/similarity allows without a token for a
    reader of a public editor, and as few of those at once."""
    session = _reader(request)
    settings, ranker = _settings(request), _ranker(request)
    text = links
    if file is not None and file.filename:
        text = file.file.read(settings.max_body_bytes).decode("utf-8-sig", errors="replace")
    limit = MAX_LINKS if session is not None else settings.similarity_max_pairs
    error, results, status = None, [], 200
    heavy: HeavyRequests = request.app.state.heavy_requests
    with heavy.slot() if session is None else contextlib.nullcontext(True) as running:
        try:
            pairs = list(link_pairs(io.StringIO(text), header=False))
            if not running:
                error, status = "too many link checks at once; try again in a moment", 503
            elif len(pairs) > limit:
                error = f"at most {limit} links at a time" + ("" if session else " without signing in")
            else:
                weak, strong = settings.weak_link_score, settings.strong_link_score
                results = list(ranker.check_links(pairs, weak=weak, strong=strong))
                error = None if results else "no links: paste lines of source,target"
        except (SeealsoError, csv.Error) as exc:
            error = str(exc)
    counts: dict[str, int] = {}
    for result in results:
        counts[result.verdict] = counts.get(result.verdict, 0) + 1
    page = _page(request, "check.html", session, links=text, results=results, counts=counts, error=error)
    page.status_code = status
    if status == 503:
        page.headers["Retry-After"] = "1"
    return page


# -- the audit log --------------------------------------------------------------------------------


class WriteFilters(BaseModel):
    """The write log's filters: who, what (a change, an article id or keyword), and when."""

    who: str = Field("", max_length=200)
    what: str = Field("", max_length=50)
    subject: str = Field("", max_length=500)
    since: str = Field("", pattern=r"^(\d{4}-\d{2}-\d{2})?$")
    until: str = Field("", pattern=r"^(\d{4}-\d{2}-\d{2})?$")

    @field_validator("what")
    @classmethod
    def _a_change(cls, value: str) -> str:
        if value and value not in history.CHANGES:
            raise ValueError(f"must be one of {', '.join(history.CHANGES)}")
        return value

    def query(self) -> dict[str, str | None]:
        """As `Catalog.write_log` takes them: `until` is a day, included."""
        end = (date.fromisoformat(self.until) + timedelta(days=1)).isoformat() if self.until else None
        return {
            "author": self.who or None,
            "change": self.what or None,
            "subject": self.subject.strip() or None,
            "since": self.since or None,
            "until": end,
        }

    def params(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v}


@router.get("/audit")
def audit_page(
    request: Request, filters: Annotated[WriteFilters, Query()], source: str | None = None,
    before: ChangeId | None = None, writes_before: ChangeId | None = None, done: ChangeId | None = None,
    error: str | None = None,
) -> HTMLResponse:  # fmt: skip
    session = _reader(request)
    store = _store(request)
    entries = store.catalog.audit_log(limit=50, before_id=before, source=source or None)
    more = entries[-1].id if len(entries) == 50 else None
    back = "/editor/audit" + (f"?{urllib.parse.urlencode({'source': source})}" if source else "")
    writes = store.catalog.write_log(50, writes_before, **filters.query())
    return _page(
        request, "audit.html", session, entries=entries, source=source, more=more, back=back,
        done=store.catalog.audit_entry(done), error=error, writes=writes, filters=filters,
        authors=store.catalog.write_authors(), changes=history.CHANGES,
        more_writes=writes[-1].id if len(writes) == 50 else None,
    )  # fmt: skip


@router.get("/audit/writes.csv")
def writes_csv(request: Request, filters: Annotated[WriteFilters, Query()]) -> Response:
    """Every write the filters keep, newest first, as CSV."""
    _reader(request)
    out = io.StringIO()
    table = csv.writer(out)
    table.writerow(["at", "author", "change", "kind", "subject", "detail"])
    before = None
    while True:
        rows = _store(request).catalog.write_log(5000, before, **filters.query())
        table.writerows([r.at, r.author, r.change, r.kind, r.subject, r.detail or ""] for r in rows)
        if len(rows) < 5000:
            break
        before = rows[-1].id
    headers = {"Content-Disposition": 'attachment; filename="seealso-writes.csv"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
