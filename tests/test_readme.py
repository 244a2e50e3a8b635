"""The README's engine script is part of the product: it must run and print what it claims."""

import contextlib
import io
import re
import tomllib
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_engine_script_runs_and_prints_the_liquidation_price():
    block = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert block is not None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block.group(1), "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["60000.10", "600.0", "54217.0"]
    assert lines[1] == "-2019 Margin is insufficient."


def test_readme_quick_start_is_exactly_two_commands():
    text = README.read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("```", 2)[1]
    assert [line for line in quick.splitlines() if line.strip()] == ["make run", "make test"]


def test_readme_opens_with_the_picture_of_the_window_that_make_screenshot_writes():
    text = README.read_text(encoding="utf-8")
    first = text.split("\n\n", 2)[1]  # right under the title
    image = re.fullmatch(r"!\[[^\]]+\]\(([^)]+)\)", first.strip())
    assert image is not None, first
    png = README.parent / image.group(1)
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")  # the IHDR chunk
    assert width >= 800 and height >= 500
    recipe = _make_target("screenshot")
    assert f"--screenshot {image.group(1)}" in recipe and "--db" in recipe  # regenerated, never the user's journal


def test_readme_install_section_gives_the_pipx_lines_for_the_wheel_this_version_builds():
    text = README.read_text(encoding="utf-8")
    section = text.split("## Install on lab machines (Windows, macOS, Linux)", 1)[1].split("\n## ", 1)[0]
    version = tomllib.loads((README.parent / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert f"pipx install hexdesk-{version}-py3-none-any.whl" in section
    assert "`pipx install .`" in section
    for target in ("wheel", "wheel-check"):
        assert f"`make {target}`" in section
        assert _make_target(target), target


def _make_target(name: str) -> str:
    """The recipe of a Makefile target (its tab-indented lines), empty if there is none."""
    makefile = (README.parent / "Makefile").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(name)}:.*\n((?:\t.*\n)+)", makefile, re.M)
    return match.group(1) if match else ""
