from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from indexer.reader import Record, Rejected, count_lines, read_articles
from seealso.errors import InputError


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
