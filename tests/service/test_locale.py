"""Dates on the editor's pages in the language the browser asks for."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment

from seealso.service.editor import locale


def test_the_header_is_read_in_order_of_preference() -> None:
    assert locale.preferred("de;q=0.5, fr-CA, fr;q=0.9, *;q=0.1, en;q=0") == ["fr-CA", "fr", "de"]
    assert locale.preferred("") == [] and locale.preferred(None) == []
    assert str(locale.negotiate("fr-CA,fr;q=0.9")) == "fr_CA"
    assert str(locale.negotiate("xx-YY, de;q=0.8")) == "de"  # an unknown language is passed over
    assert str(locale.negotiate("zz")) == locale.DEFAULT
    assert str(locale.negotiate("en;q=abc, pt-BR")) == "pt_BR"  # a broken weight drops its language


class Request:
    def __init__(self, header: str | None) -> None:
        self.headers = {"accept-language": header} if header is not None else {}


def rendered(source: str, header: str | None, stamp: str | None) -> str:
    env = Environment(autoescape=True)
    env.filters.update(day=locale.day, last_day=locale.last_day, moment=locale.moment)
    return env.from_string(source).render(request=Request(header), stamp=stamp)


def test_dates_and_times_in_each_language() -> None:
    stamp = "2026-12-02T15:04:05Z"
    assert (
        rendered("{{ stamp | day }}", "fr", stamp)
        == '<time datetime="2026-12-02T15:04:05Z" lang="fr">2 déc. 2026</time>'
    )
    assert rendered("{{ stamp | day }}", "fr-CA", stamp).startswith(
        '<time datetime="2026-12-02T15:04:05Z" lang="fr-CA">'
    )
    # An end stamp (the midnight after the last day) shows its last day.
    assert rendered("{{ stamp | last_day }}", "en", "2026-12-03T00:00:00Z").endswith(">Dec 2, 2026</time>")
    assert rendered("{{ stamp | last_day }}", "en", "0001-01-01T00:00:00Z") == "0001-01-01T00:00:00Z"
    assert rendered("{{ stamp | day }}", "en-US", stamp).endswith(">Dec 2, 2026</time>")
    assert rendered("{{ stamp | day }}", None, stamp).endswith(">2 Dec 2026</time>")
    assert rendered("{{ stamp | moment }}", "en-US", stamp).endswith(">Dec 2, 2026, 3:04\u202fPM UTC</time>")
    assert rendered("{{ stamp | moment }}", "de", stamp).endswith(">02.12.2026, 15:04 UTC</time>")
    assert rendered("{{ stamp | day }}", "fr", None) == ""
    assert rendered("{{ stamp | day }}", "fr", "<b>not a date</b>") == "&lt;b&gt;not a date&lt;/b&gt;"


@given(st.text(max_size=200))
def test_any_header_gives_a_locale(header: str) -> None:
    assert rendered("{{ stamp | day }}", header, "2026-01-31").startswith(
        '<time datetime="2026-01-31" lang="'
    )
