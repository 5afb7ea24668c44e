"""Dates on the editor's pages as the editor's browser asks for them (`Accept-Language`), formatted
by Babel (CLDR's data) rather than by hand: "2 déc. 2026" for French, "Dec 2, 2026" for American
English. Times are UTC and say so: the server does not know the editor's time zone. Each date keeps
its stored stamp in a `<time datetime>` for tools and for the reader's own software.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_datetime_format
from jinja2 import pass_context
from markupsafe import Markup, escape

from seealso.indexer import dates

DEFAULT = "en_GB"  # day month year, a 24-hour clock: read the same way by most of the newsroom
MAX_CHOICES = 8  # languages of an Accept-Language header looked at, in order of preference


def preferred(header: str | None) -> list[str]:
    """The languages of an `Accept-Language` header, most preferred first ("*" and q=0 left out)."""
    choices: list[tuple[float, int, str]] = []
    for n, part in enumerate((header or "").split(",")[: MAX_CHOICES * 2]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and weight > 0:
            choices.append((-weight, n, tag.strip()))
    return [tag for _, _, tag in sorted(choices)[:MAX_CHOICES]]


@functools.lru_cache(maxsize=256)
def negotiate(header: str | None) -> Locale:
    """The first language of the header that CLDR knows (`fr-CA`, then `fr`), else DEFAULT."""
    for tag in preferred(header):
        try:
            return Locale.parse(tag, sep="-")
        except (UnknownLocaleError, ValueError):
            try:
                return Locale.parse(tag.split("-")[0])
            except (UnknownLocaleError, ValueError):
                continue
    return Locale.parse(DEFAULT)


def _tag(where: Locale) -> str:
    """The BCP 47 tag of a locale, for `lang`."""
    return "-".join(part for part in (where.language, where.territory) if part)


def _locale(context: Any) -> Locale:
    request = context.get("request")
    return negotiate(request.headers.get("accept-language") if request is not None else None)


def day_of(when: datetime, where: Locale) -> str:
    return format_date(when.date(), "medium", locale=where)


def _time(
    context: Any, stamp: str | None, text: Callable[[datetime, Locale], str], before: float = 0
) -> Markup:
    """`stamp` (`before` seconds earlier) as `text` writes it in the editor's language, in a
    `<time>` element; an empty stamp is nothing, one that is not a date is shown as it is."""
    if not stamp:
        return Markup("")
    try:
        when = dates.parse(stamp) - timedelta(seconds=before)
    except (dates.InvalidDate, OverflowError):
        return Markup(escape(stamp))
    where = _locale(context)
    return Markup('<time datetime="{}" lang="{}">{}</time>').format(stamp, _tag(where), text(when, where))


def _with_time(when: datetime, where: Locale) -> str:
    joined = get_datetime_format("medium", locale=where)  # "{1}, {0}": the date, then the time
    time = format_time(when, "short", tzinfo=when.tzinfo, locale=where)
    return str(joined).format(time, day_of(when, where)) + " UTC"


@pass_context
def day(context: Any, stamp: str | None) -> Markup:
    """A stored stamp as a date in the editor's language, in a `<time>` element."""
    return _time(context, stamp, day_of)


@pass_context
def last_day(context: Any, stamp: str | None) -> Markup:
    """An end stamp as the last day it covers: an override "until 2 Dec" ends at the start of
    3 Dec (`indexer.overrides.expiry`), which is shown as 2 Dec."""
    return _time(context, stamp, day_of, before=1)


@pass_context
def moment(context: Any, stamp: str | None) -> Markup:
    """A stored stamp as a date and time (UTC) in the editor's language, in a `<time>` element."""
    return _time(context, stamp, _with_time)
