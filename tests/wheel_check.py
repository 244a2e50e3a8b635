"""Run by an installed wheel's Python (``python -I tests/wheel_check.py``), never by the project's venv: it checks
that the installed package finds everything it reads at run time (bundled datasets, funding rates, lessons,
exercises, migrations) and prints what it found as JSON for tests/test_wheel.py to compare with the source tree.

``-I`` keeps this file's folder and PYTHONPATH off ``sys.path``, so ``hexdesk`` can only come from the venv's
site-packages. ``make wheel-check`` runs it too. Exits non-zero (an AssertionError) when something is missing.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path


def main() -> None:
    import hexdesk
    from hexdesk.market import paths
    from hexdesk.market.library import funding_history, list_datasets, load_dataset
    from hexdesk.service.exercises import load_exercises
    from hexdesk.service.lessons import load_lessons, render
    from hexdesk.storage.journal import Journal
    from hexdesk.storage.migrate import head_revision

    package = Path(hexdesk.__file__).resolve().parent
    assert Path(sys.prefix).resolve() in package.parents, f"hexdesk imported from {package}, not from {sys.prefix}"
    assert package / "resources" == paths.RESOURCES, paths.RESOURCES

    with tempfile.TemporaryDirectory() as tmp:
        datasets = list_datasets(Path(tmp) / "no-library")  # the bundled ones only, whatever the user downloaded
        names = [d.name for d in datasets]
        assert names, "no bundled dataset"
        first = load_dataset(names[0], Path(tmp) / "no-library")
        assert len(first.series) > 1000, f"{names[0]}: {len(first.series)} candles"
        funding = {d.symbol: len(funding_history(d.symbol, Path(tmp) / "no-library")) for d in datasets}
        assert all(funding.values()), f"no bundled funding rates: {funding}"

        lessons = load_lessons()
        rendered = [render(x) for x in lessons]  # the worked examples run the engine on the bundled prices
        assert all("## Related terms" in r.markdown for r in rendered)
        exercises = load_exercises()
        unknown = {x.id: x.dataset for x in exercises.values() if x.dataset not in names}
        assert not unknown, f"exercises on datasets the wheel lacks: {unknown}"

        journal = Journal.open(Path(tmp) / "j.sqlite")  # runs every Alembic migration from the installed files
        journal.close()

    print(json.dumps({
        "hexdesk": str(package),
        "datasets": names,
        "funding_rates": funding,
        "lessons": sorted(x.id for x in lessons),
        "lesson_files": sorted(x.path.name for x in lessons if x.path is not None),
        "exercises": sorted(exercises),
        "head_revision": head_revision(),
    }))


if __name__ == "__main__":
    main()
