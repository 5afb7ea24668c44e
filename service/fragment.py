"""Lists as HTML fragments a site drops into its pages (`/v1/articles/{id}/related.html`,
`/v1/keywords/{keyword}/articles.html`): a list of links with titles, kickers, pictures and dates,
`lang` on every item, and links to each story's other editions ("also in French").

The markup has classes and no styles: `/v1/widget.css` styles it through CSS variables
(`--seealso-accent`, ...), and a site may use its own. Only http(s) links and pictures are rendered.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader

from seealso.indexer import dates
from seealso.indexer.article import is_web_url

MEDIA = "text/html; charset=utf-8"
# Headings and "also in ..." in the page's language; other languages read English.
WORDS = {
    "en": {"related": "Related articles", "keyword": "More on {name}", "also": "also in {language}"},
    "fr": {"related": "À lire aussi", "keyword": "Plus sur {name}", "also": "aussi en {language}"},
}
LANGUAGES = {
    "en": {
        "en": "English", "fr": "French", "es": "Spanish", "de": "German", "pt": "Portuguese",
        "ar": "Arabic",
    },
    "fr": {
        "en": "anglais", "fr": "français", "es": "espagnol", "de": "allemand", "pt": "portugais",
        "ar": "arabe",
    },
}  # fmt: skip
MONTHS = {
    "en": [
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December",
    ],
    "fr": [
        "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
        "octobre", "novembre", "décembre",
    ],
}  # fmt: skip


def _day(stamp: str, lang: str) -> str:
    when = dates.parse(stamp)
    months = MONTHS.get(lang, MONTHS["en"])
    day = "1er" if lang == "fr" and when.day == 1 else str(when.day)
    return f"{day} {months[when.month - 1]} {when.year}"


def _also(language: str, lang: str) -> str:
    names = LANGUAGES.get(lang, LANGUAGES["en"])
    return WORDS.get(lang, WORDS["en"])["also"].format(language=names.get(language, language))


_environment = Environment(loader=FileSystemLoader(Path(__file__).with_name("fragments")), autoescape=True)
_environment.filters.update(day=_day, also=_also)
_environment.tests["web_url"] = is_web_url
_template = _environment.get_template("list.html")


def render(page: dict[str, Any], kind: str) -> bytes:
    """The fragment of a related list (`kind` related) or a keyword page (`keyword`), from its JSON."""
    if kind == "related":
        lang = page["article"]["language"]
        heading = WORDS.get(lang, WORDS["en"])["related"]
        key = page["article"]["id"]
    else:
        languages = [i["language"] for i in page["items"]]
        # The most common; on a tie, the first item's (a set's order would differ by process).
        lang = max(languages, key=languages.count) if languages else "en"
        heading = WORDS.get(lang, WORDS["en"])["keyword"].format(name=page["keyword"])
        key = page["keyword"]
    # Unique on a page that shows two lists (two sizes of one list included).
    uid = (
        "seealso-" + hashlib.blake2b(f"{kind}:{key}:{len(page['items'])}".encode(), digest_size=6).hexdigest()
    )
    return _template.render(lang=lang, heading=heading, items=page["items"], uid=uid).encode()


def render_json(body: bytes, kind: str) -> bytes:
    return render(json.loads(body), kind)


STYLESHEET = """\
/* seealso's list fragments; set the variables on .seealso or above it to theme them. */
.seealso { font: var(--seealso-font, inherit); color: var(--seealso-text, inherit); }
.seealso-heading { font-size: var(--seealso-heading-size, 1.1em); margin: 0 0 .5em; }
.seealso-list { list-style: none; margin: 0; padding: 0; display: grid; gap: var(--seealso-gap, .75em); }
.seealso-item { display: grid; gap: .25em; }
.seealso-link { color: var(--seealso-link, inherit); text-decoration: none; display: grid; gap: .25em; }
.seealso-link:hover .seealso-title, .seealso-link:focus .seealso-title { text-decoration: underline; }
.seealso-image { width: 100%; max-width: var(--seealso-image-width, 16em); aspect-ratio: 16 / 9;
  object-fit: cover; border-radius: var(--seealso-radius, 0); }
.seealso-kicker { color: var(--seealso-accent, #b00020); font-size: .8em; font-weight: 600;
  text-transform: uppercase; letter-spacing: .04em; }
.seealso-title { font-weight: var(--seealso-title-weight, 600); }
.seealso-date, .seealso-edition { color: var(--seealso-muted, #555); font-size: .85em; }
"""
