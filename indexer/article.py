"""The article record: validation of one input record, and the hashes that decide re-embedding."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from seealso.errors import InvalidArticle
from seealso.indexer import dates

_LANGUAGE = re.compile(r"^[a-z]{2}$")
# What no stored text may hold: NUL, and lone surrogates (from invalid UTF-8 read with
# surrogateescape, or a broken "\ud800" escape in JSON), which cannot be written as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# What a URL may not hold anywhere: spaces, control characters, and backslashes (which browsers
# read as slashes: "http://evil.example\\@good.example" opens evil.example).
_URL_BREAKERS = re.compile(r"[\s\x00-\x1f\x7f\\]")
MAX_ID_LENGTH = 512
MAX_URL_LENGTH = 4096
TEXT_FIELDS = (
    "id", "title", "summary", "body", "url", "section", "language", "published_at", "updated_at",
    "image_url", "kicker",
)  # fmt: skip
MAX_KICKER_LENGTH = 200


class Article(BaseModel):
    """One news article as seealso stores it. Unknown input fields are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, strict=True)

    id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    title: str = ""
    summary: str = ""
    body: str = ""
    url: str | None = None
    # The picture a list shows beside the title (http or https), and the label above it.
    image_url: str | None = None
    kicker: str | None = Field(None, max_length=MAX_KICKER_LENGTH)
    keywords: tuple[str, ...] = ()
    section: str | None = None
    language: str = "en"
    published_at: str | None = None
    updated_at: str | None = None
    # Ids of the same story in other languages (declared by the site; seealso finds others too).
    translations: tuple[str, ...] = ()
    # "given" by the record, "detected" from its text (`seealso.indexer.languages`), or the "default"
    # (English) when the record has none and its text is too short to tell.
    language_source: str = "given"

    @model_validator(mode="before")
    @classmethod
    def _aliases_and_blanks(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("a record must be a JSON object")
        data = dict(data)
        if "text" in data and not data.get("body"):
            data["body"] = data.pop("text")
        # Empty optional values mean "absent" (CSV exports write empty cells).
        for key in ("url", "section", "published_at", "updated_at", "language", "image_url", "kicker"):
            if data.get(key) == "":
                data.pop(key)
        for key in ("title", "summary", "body"):
            if data.get(key) is None:
                data.pop(key, None)
        if data.get("keywords") is None:
            data.pop("keywords", None)
        if data.get("translations") is None:
            data.pop("translations", None)
        data.pop("language_source", None)  # seealso's to say
        if "language" not in data and any(isinstance(data.get(k), str) for k in ("title", "summary", "body")):
            from seealso.indexer.languages import detect

            text = " ".join(str(data.get(k) or "") for k in ("title", "summary", "body"))
            found = detect(text) if not _UNSTORABLE.search(text) else None
            data["language"], data["language_source"] = (found, "detected") if found else ("en", "default")
        return data

    @field_validator(*TEXT_FIELDS, mode="before")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        if isinstance(value, str):
            check_storable(value)
        return value

    @field_validator("id")
    @classmethod
    def _id_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("title", "summary", "body")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("kicker")
    @classmethod
    def _kicker(cls, value: str | None) -> str | None:
        return " ".join(value.split()) or None if value is not None else None

    @field_validator("keywords", mode="before")
    @classmethod
    def _keywords_list(cls, value: Any) -> tuple[Any, ...]:
        return _storable_strings(value, "strings")

    @field_validator("translations", mode="before")
    @classmethod
    def _translations_list(cls, value: Any) -> tuple[Any, ...]:
        value = _storable_strings(value, "article ids")
        for item in value:
            if not item.strip() or len(item) > MAX_ID_LENGTH:
                raise ValueError(f"must hold article ids (non-blank, at most {MAX_ID_LENGTH} characters)")
        return tuple(dict.fromkeys(value))

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        seen: dict[str, str] = {}
        for keyword in value:
            cleaned = " ".join(keyword.split())
            if cleaned:
                seen.setdefault(keyword_key(cleaned), cleaned)
        return tuple(seen.values())

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        value = value.strip().lower()
        if not _LANGUAGE.match(value):
            raise ValueError("must be a two-letter ISO 639-1 code such as 'en' or 'fr'")
        return value

    @field_validator("url", "image_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else web_url(value)

    @field_validator("published_at", "updated_at")
    @classmethod
    def _timestamp(cls, value: str | None) -> str | None:
        return None if value is None else dates.normalize(value)

    @model_validator(mode="after")
    def _has_text(self) -> Article:
        if not (self.title or self.summary or self.body):
            raise ValueError("at least one of title, summary or body must be non-empty")
        if self.id in self.translations:
            raise ValueError("translations: an article is not its own translation")
        return self

    def text_hash(self, recipe_identity: str) -> str:
        """Hash of what is embedded: it changes exactly when the article must be re-embedded."""
        return _hash([recipe_identity, self.title, self.summary, self.body])

    def record_hash(self) -> str:
        """Hash of the whole record: it changes when anything stored about the article changes."""
        return _hash([json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)])


def check_storable(text: str) -> None:
    """Refuse a NUL or a lone surrogate, saying which and where."""
    bad = _UNSTORABLE.search(text)
    if bad is None:
        return
    char = bad.group()
    if char == "\x00":
        raise ValueError(f"contains a NUL character (at character {bad.start() + 1})")
    raise ValueError(
        f"contains U+{ord(char):04X}, a lone surrogate (at character {bad.start() + 1}): "
        "the text is not valid UTF-8, or has a broken \\u escape"
    )


def web_url(value: str) -> str:
    """`value` when it is an absolute http or https URL (a page a reader can open), else ValueError."""
    url = value.strip()
    reason = f"must be an absolute http or https URL, not {value[:100]!r}"
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"must be at most {MAX_URL_LENGTH} characters")
    if _URL_BREAKERS.search(url):
        raise ValueError(f"{reason} (it holds spaces, control characters or backslashes)")
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port  # a port out of range is a ValueError
    except ValueError:
        raise ValueError(reason) from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ValueError(reason)
    return url


def is_web_url(value: object) -> bool:
    """Whether `value` is a URL `web_url` accepts (what pages may render as a link)."""
    if not isinstance(value, str):
        return False
    try:
        web_url(value)
    except ValueError:
        return False
    return True


def keyword_key(keyword: str) -> str:
    """How keywords compare: spaces collapsed, case folded ("Côte d'Ivoire" = "côte d'ivoire")."""
    return " ".join(keyword.split()).casefold()


def _hash(parts: list[str]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:32]


def parse_article(data: Any) -> Article:
    """Validate one input record; raises InvalidArticle listing every problem found."""
    try:
        return Article.model_validate(data)
    except ValidationError as exc:
        article_id = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
        raise InvalidArticle([_describe(error) for error in exc.errors()], article_id) from None


def _describe(error: Any) -> str:
    field = ".".join(str(part) for part in error.get("loc", ()))
    message = str(error.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    if error.get("type") == "missing":
        message = "is required"
    return f"{field}: {message}" if field else message


def _storable_strings(value: Any, what: str) -> tuple[str, ...]:
    """`value` as a tuple of strings SQLite can store, or a ValueError naming `what` it must hold."""
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"must be a list of {what}")
    for item in value:
        check_storable(item)
    return tuple(value)
