"""Where the bundled files are: candles, funding rates, lessons and exercises, for every layer that reads them.

They live in ``resources/`` at the repository root and are installed as the package ``hexdesk.resources``
(pyproject.toml maps it), so ``importlib.resources`` finds them in an installed wheel (``site-packages/hexdesk/
resources``) and in the editable install ``make`` does (the repository's ``resources/``) alike. A plain directory in
both: the wheel is always unpacked by pip, and ``resources/__init__.py`` keeps the package a regular one. Running
the sources without installing them (``PYTHONPATH=. python -m hexdesk``) falls back to the repository's folder.
The engine never reads these (it stays free of I/O); market, storage and the service import them from here.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGE = "hexdesk.resources"


def bundled_root() -> Path:
    """The folder of the bundled files: the installed package ``hexdesk.resources``, else the source tree's."""
    try:
        root = resources.files(PACKAGE)
    except ModuleNotFoundError:  # sources run without being installed
        return Path(__file__).resolve().parents[2] / "resources"
    if not isinstance(root, Path):  # a zip import or a namespace package: nothing here can read those
        raise RuntimeError(f"{PACKAGE} is not a folder ({root!r}): install HexDesk with pip or pipx")
    return root.resolve()


RESOURCES = bundled_root()
KLINES = RESOURCES / "klines"
FUNDING = RESOURCES / "funding"
LESSONS = RESOURCES / "lessons"
EXERCISES = LESSONS / "exercises"
