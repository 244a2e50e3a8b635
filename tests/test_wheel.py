"""The wheel carries everything the app needs (issue 10.8): built from a copy of the sources, installed into a fresh
venv, started from outside the source tree, it replays, screenshots and finds its datasets, lessons, exercises and
migrations. Its METADATA declares every third-party module the package imports.

The fresh venv gets the third-party packages from this venv through a ``.pth`` line naming our site-packages (so
the test needs no index): a path line adds the folder to ``sys.path`` without running the ``.pth`` files inside
it, so our editable install's finder, which would import ``hexdesk`` from the source tree, stays off. The test
asserts it anyway. ``make wheel-check`` does the same with the dependencies from the package index.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import zipfile
from email.parser import Parser
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "hexdesk"
RESOURCES = ROOT / "resources"
CHECK = Path(__file__).with_name("wheel_check.py")
BUILD_INPUTS = ("pyproject.toml", "README.md", "hexdesk", "resources")
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _shipped_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built with this venv's setuptools from a copy of the sources (no build/ or egg-info in ROOT)."""
    src = tmp_path_factory.mktemp("src")
    for name in BUILD_INPUTS:
        item = ROOT / name
        if item.is_dir():
            shutil.copytree(item, src / name, ignore=JUNK)
        else:
            shutil.copy2(item, src / name)
    out = tmp_path_factory.mktemp("dist")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir",
         str(out), str(src)],
        capture_output=True, text=True, timeout=120,
    )
    assert build.returncode == 0, build.stderr
    (whl,) = out.glob("hexdesk-*-py3-none-any.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed (--no-deps); our site-packages reachable through a .pth path line."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=60)
    python = root / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        capture_output=True, text=True, timeout=120,
    )
    assert install.returncode == 0, install.stderr
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    (Path(site) / "project-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return root


def _env(tmp: Path) -> dict[str, str]:
    """No PYTHONPATH, no user journal, data library, settings or display: only what the fresh venv holds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "HEXDESK_"))}
    return {
        **env, "QT_QPA_PLATFORM": "offscreen", "QT_API": "pyside6", "PYQTGRAPH_QT_LIB": "PySide6",
        "HEXDESK_DATA_DIR": str(tmp / "data"), "XDG_CONFIG_HOME": str(tmp / "config"),
        "XDG_DATA_HOME": str(tmp / "share"),
    }


def test_the_wheel_holds_every_module_and_every_bundled_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = [p.relative_to(ROOT).as_posix() for p in _shipped_files(PACKAGE)]
    expected += ["hexdesk/resources/" + p.relative_to(RESOURCES).as_posix() for p in _shipped_files(RESOURCES)]
    assert "hexdesk/resources/klines/BTCUSDT-2025-03.npz" in expected  # the walk itself found the data
    assert "hexdesk/storage/migrations/script.py.mako" in expected
    missing = [n for n in expected if n not in names]
    assert not missing, f"not in the wheel (add the package or its files to pyproject.toml): {missing}"


def test_the_metadata_requires_every_third_party_module_the_package_imports(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        (meta,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(z.read(meta).decode("utf-8"))
    required = {
        _canonical(r.name) for r in map(Requirement, metadata.get_all("Requires-Dist") or [])
        if r.marker is None or "extra" not in str(r.marker)
    }
    imported: dict[str, str] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top != "hexdesk" and top not in sys.stdlib_module_names:
                    imported.setdefault(top, path.relative_to(ROOT).as_posix())
    assert {"PySide6", "numpy", "sqlmodel", "alembic"} <= imported.keys()  # the walk sees the real imports
    dists = packages_distributions()
    undeclared = {
        top: (where, dists.get(top)) for top, where in sorted(imported.items())
        if not {_canonical(d) for d in dists.get(top, [])} & required
    }
    assert not undeclared, f"imported but not in [project] dependencies (module: (first importer, dists)): {undeclared}"


def test_the_installed_wheel_starts_replays_and_screenshots_outside_the_source_tree(
    venv: Path, tmp_path: Path
) -> None:
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import hexdesk; print(hexdesk.__file__)"],
        cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=60,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv), where  # what the console script imports, as it runs it
    shot, db = tmp_path / "out.png", tmp_path / "j.sqlite"
    run = subprocess.run(
        [str(venv / "bin" / "hexdesk"), "--offline", "--screenshot", "out.png", "--replay-seconds", "2",
         "--db", str(db)],
        cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "out.png" in run.stdout
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")  # the IHDR chunk
    assert width >= 800 and height >= 500
    with sqlite3.connect(db) as conn:
        sessions = conn.execute("SELECT mode, dataset, replay_ms FROM practice_sessions").fetchall()
        types = {t for (t,) in conn.execute("SELECT type FROM events")}
    (mode, dataset, replay_ms), = sessions
    assert mode == "replay" and "BTCUSDT-2025-03" in dataset and replay_ms is not None
    # the demonstration order was filled at a replayed price: the replay ran and fed the engine
    assert any("Fill" in t for t in types), types


def test_the_installed_wheel_paints_its_first_frame_from_the_installed_data(venv: Path, tmp_path: Path) -> None:
    """A normal start (not a screenshot): the first frame reads the installed month (issue 10.3) before numpy,
    pyqtgraph or the engine load, then the journal opens."""
    env = {**_env(tmp_path), "HEXDESK_EXIT_AFTER_FIRST_PAINT": "1"}
    run = subprocess.run(
        [str(venv / "bin" / "hexdesk"), "--offline", "--db", str(tmp_path / "j.sqlite")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    line = next(x for x in run.stdout.splitlines() if x.startswith("HEXDESK_COLD_START"))
    fields = dict(item.split("=", 1) for item in line.split()[1:])
    assert fields["frame"] == "1" and fields["frame_loaded"] == "none" and fields["candles"] == "1440"
    assert float(fields["first_paint"]) < float(fields["window_paint"]) < float(fields["orders_accepted"])


def test_the_installed_wheel_finds_its_datasets_lessons_exercises_and_migrations(venv: Path, tmp_path: Path) -> None:
    run = subprocess.run(
        [str(venv / "bin" / "python"), "-I", str(CHECK)],
        cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert Path(found["hexdesk"]).is_relative_to(venv)  # the wheel's copy, not the source tree's
    assert not Path(found["hexdesk"]).is_relative_to(ROOT)
    assert found["datasets"] == sorted(p.stem for p in (RESOURCES / "klines").glob("*.npz"))
    assert found["lesson_files"] == sorted(p.name for p in (RESOURCES / "lessons").glob("*.md"))
    assert len(found["exercises"]) == len(list((RESOURCES / "lessons" / "exercises").glob("*.toml")))
    symbols = {p.name.split("-", 1)[0] for p in (RESOURCES / "funding").glob("*.csv")}
    assert set(found["funding_rates"]) == symbols
    assert found["head_revision"] == max(
        p.name.split("_", 1)[0] for p in (PACKAGE / "storage" / "migrations" / "versions").glob("0*.py")
    )
