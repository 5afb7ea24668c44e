from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seealso.errors import InputError
from seealso.indexer.reader import MAX_JSON_DEPTH, Record, Rejected, count_lines, parse_json, read_articles


def summarize(path: Path) -> list[tuple[int, str]]:
    return [
        (item.line, item.article.id if isinstance(item, Record) else f"rejected: {item.reason}")
        for item in read_articles(str(path))
    ]


def test_jsonl_reports_bad_lines_by_number_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        b'{"id": "a", "title": "A"}\n'
        b"\n"
        b'{"id": "b", "title": \n'
        b'{"id": "c"}\n'
        b"[1, 2]\n"
        b"\xff\xfe\n"
        b'{"id": "d", "text": "D"}\n'
    )
    assert summarize(path) == [
        (1, "a"),
        (3, "rejected: invalid JSON: Expecting value (column 21)"),
        (4, "rejected: at least one of title, summary or body must be non-empty"),
        (5, "rejected: a record must be a JSON object"),
        (6, "rejected: not valid UTF-8 (byte 0)"),
        (7, "d"),
    ]
    rejected = [i for i in read_articles(str(path)) if isinstance(i, Rejected)]
    assert str(rejected[1]) == "line 4 (id 'c'): at least one of title, summary or body must be non-empty"
    assert count_lines(str(path)) == 7


def test_csv_with_keywords_multiline_cells_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        "\ufeffid,title,keywords,language\n"
        'a,Coup in Mali,"Mali; Bamako ;",en\n'
        'b,"Two\nlines",,fr\n'
        "c,,,\n"
        "d,Too many,x,en,extra\n"
        "e,Fine,Sahel,\n",
        encoding="utf-8",
    )
    items = list(read_articles(str(path)))
    assert [(i.line, type(i).__name__) for i in items] == [
        (2, "Record"),
        (3, "Record"),
        (5, "Rejected"),
        (6, "Rejected"),
        (7, "Record"),
    ]
    first, second, *_ = items
    assert isinstance(first, Record) and first.article.keywords == ("Mali", "Bamako")
    assert isinstance(second, Record) and second.article.title == "Two\nlines"
    assert second.article.language == "fr"
    last = items[-1]
    assert isinstance(last, Record) and last.article.language == "en"


def test_gzip_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as stream:
        stream.write('{"id": "a", "title": "A"}\n{"id": "b", "title": "B"}\n')
    assert summarize(path) == [(1, "a"), (2, "b")]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.txt", "x", "cannot tell the format"),
        ("missing.jsonl", None, "no such file"),
        ("a.csv", "title,body\nx,y\n", "must name an 'id' column"),
    ],
)
def test_unreadable_inputs(tmp_path: Path, name: str, content: str | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        list(read_articles(str(path)))


def test_lines_that_would_crash_a_parser_are_numbered_rejections(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        b'{"id": "a", "title": "A"}\n'
        + b"[" * 100_000
        + b"\n"
        + b'{"id": "b", "title": "B \\ud800"}\n'
        + b'{"id": "c", "title": "C \\u0000"}\n'
        + b'{"id": "d", "title": "D", "url": "javascript:alert(1)"}\n'
        + b'{"id": "e", "title": "E", "published_at": "0001-01-01T00:00:00+01:00"}\n'
        + b'{"id": "f", "title": "F \\ud83d\\ude00", "extra": {"nested": [[{"x": "[[[["}]]}}\n'
    )
    assert summarize(path) == [
        (1, "a"),
        (2, "rejected: JSON nested deeper than 64 levels"),
        (
            3,
            "rejected: title: contains U+D800, a lone surrogate (at character 3): the text is not valid "
            "UTF-8, or has a broken \\u escape",
        ),
        (4, "rejected: title: contains a NUL character (at character 3)"),
        (5, "rejected: url: must be an absolute http or https URL, not 'javascript:alert(1)'"),
        (
            6,
            "rejected: published_at: out of range: '0001-01-01T00:00:00+01:00' falls outside the years "
            "1 to 9999 in UTC",
        ),
        (7, "f"),
    ]


def test_invalid_utf8_in_a_csv_row_rejects_that_row(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"id,title\na,Fine\nb,Bad \xff byte\nc,Fine too\n")
    assert summarize(path) == [
        (2, "a"),
        (
            3,
            "rejected: title: contains U+DCFF, a lone surrogate (at character 5): the text is not valid "
            "UTF-8, or has a broken \\u escape",
        ),
        (4, "c"),
    ]


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=60) | st.text(max_size=60).map(str.encode), max_size=8))
def test_any_bytes_give_one_item_per_line(tmp_path: Path, lines: list[bytes]) -> None:
    """Random bytes and text: reading never raises, and every line that is not blank is one item
    (a record or a numbered rejection), in order."""
    cleaned = [line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines]
    path = tmp_path / "random.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in cleaned))
    items = list(read_articles(str(path)))

    def blank(number: int, line: bytes) -> bool:
        try:
            return not line.decode("utf-8-sig" if number == 1 else "utf-8").strip()
        except UnicodeDecodeError:
            return False  # a numbered rejection

    assert [item.line for item in items] == [n for n, line in enumerate(cleaned, 1) if not blank(n, line)]
    assert all(isinstance(item, Record) or item.reason for item in items)


@given(st.integers(min_value=1, max_value=3000))
def test_nesting_is_refused_beyond_the_limit_only(depth: int) -> None:
    text = '{"id": "x", "title": "t", "extra": ' + "[" * depth + "]" * depth + "}"
    if depth + 1 > MAX_JSON_DEPTH:
        with pytest.raises(ValueError, match="nested deeper"):
            parse_json(text)
    else:
        assert parse_json(text) == json.loads(text)


def test_an_unclosed_quote_in_a_csv_is_reported_not_swallowed(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text('id,title\nq1,a\nq2,"open\nq3,b\nq4,c\n', encoding="utf-8")
    assert summarize(path) == [
        (2, "q1"),
        (3, "rejected: a quoted cell opened on this line is never closed: the rest of the file is lost"),
    ]


def test_a_truncated_gzip_ends_with_a_numbered_rejection(tmp_path: Path) -> None:
    whole = gzip.compress(b"".join(b'{"id": "a%d", "title": "Story %d"}\n' % (i, i) for i in range(2000)))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    items = list(read_articles(str(path)))
    *records, last = items
    assert records and all(isinstance(r, Record) for r in records)
    assert isinstance(last, Rejected) and last.article_id is None
    assert last.line == len(records) + 1
    assert "cannot be read from here on" in last.reason
