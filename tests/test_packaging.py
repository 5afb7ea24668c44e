"""The wheel, built from the repository and installed into a fresh venv, adds only `seealso`."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_wheel_installs_one_namespace_with_its_files(tmp_path: Path) -> None:
    # Built as pip builds it, with this environment's setuptools (no download).
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*build, "--wheel-dir", str(tmp_path / "wheels"), str(ROOT)], check=True, capture_output=True
    )
    (wheel,) = (tmp_path / "wheels").glob("seealso-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"seealso"}
    for needed in (
        "seealso/indexer/store.py",
        "seealso/service/app.py",
        "seealso/service/editor/templates/base.html",
        "seealso/service/editor/static/editor.css",
        "seealso/service/docs/docs.html",
        "seealso/demo/articles.jsonl",
    ):
        assert needed in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    # The dependencies come from this environment's site-packages, whose .pth files (this
    # repository's editable install among them) are not read from PYTHONPATH.
    probe = (
        "import importlib.util, seealso, seealso.service.app, seealso.cli\n"
        "print(seealso.__file__)\n"
        "print([n for n in ('indexer', 'ranking', 'embeddings', 'service') if importlib.util.find_spec(n)])\n"
    )
    result = subprocess.run(
        [str(python), "-P", "-c", probe],
        env={"PYTHONPATH": sysconfig.get_paths()["purelib"], "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    location, stray = result.stdout.splitlines()
    assert location.startswith(str(venv)), location
    assert stray == "[]"
    help_text = subprocess.run(
        [str(venv / "bin" / "seealso"), "--help"],
        env={"PYTHONPATH": sysconfig.get_paths()["purelib"], "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "demo" in help_text and "index" in help_text
