"""Settings from a TOML file (--config / SEEALSO_CONFIG) under the environment and the command line."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from seealso.cli import app
from seealso.config import Settings
from seealso.errors import SeealsoError

RECORDS = [
    {"id": "mali-1", "title": "Soldiers seize power in Bamako", "body": "Mali junta coup soldiers Bamako"},
    {"id": "cocoa-1", "title": "Cocoa prices soar", "body": "cocoa prices farmers harvest chocolate"},
]


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SEEALSO_ variable of the developer's; SEEALSO_CONFIG (which --config sets) is restored."""
    for name in list(os.environ):
        if name.upper().startswith("SEEALSO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SEEALSO_CONFIG", "")
    monkeypatch.delenv("SEEALSO_CONFIG")


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def seealso(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real command in a fresh process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-c", "from seealso.cli import main; main()", *args],
        capture_output=True, text=True, input="", cwd=cwd, env={"PATH": "", **env},
    )  # fmt: skip


def test_the_file_is_under_the_environment_which_is_under_the_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(
        tmp_path / "seealso.toml",
        'data_dir = "/srv/seealso"\nmin_score = 0.5\ndiversity = 0.2\nport = 9000\n'
        'api_tokens = {cms = "tok-cms"}\n\n[editor_users]\nalice = "s3cret"\n',
    )
    monkeypatch.setenv("SEEALSO_CONFIG", str(config))
    monkeypatch.setenv("SEEALSO_DIVERSITY", "0.4")
    monkeypatch.setenv("SEEALSO_PORT", "9001")
    settings = Settings.load(port=9002)
    assert settings.data_dir == Path("/srv/seealso")  # file over default
    assert settings.min_score == 0.5  # file over default
    assert settings.diversity == 0.4  # environment over file
    assert settings.port == 9002  # option over environment
    assert settings.freshness_weight == 0.3  # nowhere: the default
    assert settings.writer_tokens() == {"cms": "tok-cms"}
    assert settings.editor_users["alice"].get_secret_value() == "s3cret"
    monkeypatch.delenv("SEEALSO_CONFIG")
    assert Settings.load().min_score == 0.3  # the file is chosen when settings are built


def test_config_option_before_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    articles = tmp_path / "in.jsonl"
    articles.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    config = write(
        tmp_path / "seealso.toml", f'data_dir = "{tmp_path / "from-file"}"\nmodel = "test/hashing"\n'
    )
    runner = CliRunner()

    indexed = runner.invoke(app, ["--config", str(config), "index", str(articles)])
    assert indexed.exit_code == 0, indexed.output
    stats = runner.invoke(app, ["--config", str(config), "stats", "--json"])
    assert stats.exit_code == 0, stats.output
    info = json.loads(stats.stdout)
    assert (info["data_dir"], info["model"], info["articles"]) == (
        str(tmp_path / "from-file"),
        "test/hashing-64",  # the test embedder, 64 dimensions, as the file named it
        2,
    )

    monkeypatch.setenv("SEEALSO_DATA_DIR", str(tmp_path / "from-env"))
    from_env = runner.invoke(app, ["--config", str(config), "stats"])
    assert from_env.exit_code == 1
    assert "no seealso index in " + repr(str(tmp_path / "from-env")) in from_env.stderr
    from_option = runner.invoke(app, ["--config", str(config), "stats", "--data-dir", str(tmp_path / "opt")])
    assert "no seealso index in " + repr(str(tmp_path / "opt")) in from_option.stderr

    # --config names the file over SEEALSO_CONFIG
    other = write(tmp_path / "other.toml", "min_score = 0.7\n")
    monkeypatch.setenv("SEEALSO_CONFIG", str(other))
    runner.invoke(app, ["--config", str(config), "stats"])
    assert os.environ["SEEALSO_CONFIG"] == str(config)
    assert Settings.load().model == "test/hashing"


def test_workers_read_the_file_the_command_line_named(tmp_path: Path) -> None:
    """`serve --workers N` starts processes that build their app from the environment alone."""
    config = write(
        tmp_path / "seealso.toml",
        f'data_dir = "{tmp_path / "data"}"\nmodel = "test/hashing"\napi_tokens = {{cms = "tok-cms-1"}}\n',
    )
    result = CliRunner().invoke(app, ["--config", str(config), "stats"])
    assert result.exit_code == 1  # nothing indexed yet; what matters is the environment it leaves
    assert os.environ["SEEALSO_CONFIG"] == str(config)

    from seealso.service.app import create_app

    article = {"title": "Cocoa prices soar", "body": "cocoa prices farmers harvest chocolate"}
    with TestClient(create_app()) as client:  # what a worker runs: seealso.service.app:create_app
        assert client.put("/v1/articles/a1", json=article).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert client.put("/v1/articles/a1", json=article, headers=wrong).status_code == 403
        right = {"Authorization": "Bearer tok-cms-1"}
        assert client.put("/v1/articles/a1", json=article, headers=right).status_code in (200, 201)
    assert (tmp_path / "data" / "catalog.sqlite3").exists()

    # and in a process of its own, with SEEALSO_CONFIG its only setting
    worker = subprocess.run(
        [sys.executable, "-c", "from seealso.config import Settings; s = Settings.load(); "
         "print(s.data_dir, s.model, sorted(s.writer_tokens()))"],
        capture_output=True, text=True, env={"PATH": "", "SEEALSO_CONFIG": str(config)},
    )  # fmt: skip
    assert worker.returncode == 0, worker.stderr
    assert worker.stdout.strip() == f"{tmp_path / 'data'} test/hashing ['cms']"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (None, "bad.toml: no such file"),
        ("min_score = 0.5\nport = \n", "bad.toml: not valid TOML: Invalid value (at line 2, column 8)"),
        ('min_score = 0.5\n[seealso]\ndata_dir = "x"\n', "bad.toml: unknown setting seealso"),
        ("MIN_SCORE = 0.5\n", "bad.toml: unknown setting MIN_SCORE (did you mean min_score?)"),
        ("min_score = 2\n", "bad.toml: min_score: Input should be less than or equal to 1"),
        ('backend = "gpu"\n', "bad.toml: backend: Input should be 'auto', 'torch' or 'openvino'"),
        ('api_tokens = {cms = ""}\n', "bad.toml: api_tokens['cms'] is empty"),
        ('api_tokens = "abc"\n', "bad.toml: api_tokens: Input should be a valid dictionary"),
    ],
)
def test_a_bad_file_is_one_line_naming_it(tmp_path: Path, text: str | None, error: str) -> None:
    if text is not None:
        write(tmp_path / "bad.toml", text)
    result = seealso(tmp_path, "--config", "bad.toml", "stats")
    assert result.returncode == 1
    assert result.stderr.startswith(f"seealso: error: {error}")
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_variable_is_named_as_a_variable_with_a_file_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "seealso.toml", "min_score = 0.5\ndiversity = 0.2\n")
    result = seealso(tmp_path, "stats", SEEALSO_CONFIG="seealso.toml", SEEALSO_MIN_SCORE="high")
    assert result.returncode == 1
    assert result.stderr.startswith("seealso: error: SEEALSO_MIN_SCORE: Input should be a valid number")
    assert len(result.stderr.splitlines()) == 1
    monkeypatch.setenv("SEEALSO_CONFIG", str(tmp_path / "seealso.toml"))
    with pytest.raises(SeealsoError, match=r"^SEEALSO_DIVERSITY: Input should be less than 1$"):
        Settings.load(diversity=1)  # a command-line value is named as before


@pytest.mark.parametrize(
    ("text", "mode", "warned"),
    [
        ('api_tokens = {cms = "tok-cms"}\n', 0o644, True),
        ('api_token = "tok"\n', 0o640, True),
        ('[editor_users]\nalice = "s3cret"\n', 0o604, True),
        ('api_tokens = {cms = "tok-cms"}\n', 0o600, False),
        ("min_score = 0.5\n", 0o644, False),  # nothing secret in it
    ],
)
def test_a_file_of_secrets_others_can_read_is_a_warning(
    tmp_path: Path, text: str, mode: int, warned: bool
) -> None:
    write(tmp_path / "seealso.toml", text, mode)
    assert stat.S_IMODE((tmp_path / "seealso.toml").stat().st_mode) == mode
    result = seealso(tmp_path, "--config", "seealso.toml", "stats", SEEALSO_DATA_DIR=str(tmp_path / "d"))
    lines = result.stderr.splitlines()
    warning = (
        f"seealso: warning: seealso.toml holds tokens or passwords and other users can read it "
        f"(mode {mode:04o}); chmod 600 seealso.toml"
    )
    assert lines[:-1] == ([warning] if warned else [])
    # a warning, not a refusal: the command goes on (to find nothing indexed here)
    assert result.returncode == 1
    assert lines[-1].startswith("seealso: error: no seealso index in ")
