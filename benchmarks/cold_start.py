"""Cold start to the first painted chart: ``.venv/bin/python benchmarks/cold_start.py [--repeat 7]``.

Each run is a fresh interpreter (offscreen Qt, a throwaway journal): ``hexdesk`` with ``HEXDESK_EXIT_AFTER_PAINT``
prints when its chart first painted and when the journal was open, in seconds since the interpreter started, and
exits. finplot (the ``bench`` extra: ``pip install -e .[bench]``) is run the same way in the same session: import,
one candlestick plot of the same month, show, first paint. Medians of ``--repeat``; then the slowest imports before
HexDesk's first paint (``python -X importtime``), so a regression names its culprit.

HexDesk paints before it imports SQLAlchemy: the journal opens right after the first paint (the ticket shows
"Opening the journal…" and the desk refuses orders until then).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAINT = re.compile(r"first paint ([\d.]+) s, journal open ([\d.]+) s")

# finplot's cold start, timed like HexDesk's: since the interpreter started, to the first paint of its plot.
FINPLOT = r"""
import os, sys, time
def since_start():
    with open("/proc/self/stat") as f:
        start = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as f:
        return float(f.read().split()[0]) - start / os.sysconf("SC_CLK_TCK")
import numpy as np, pandas as pd
import finplot as fplt
from pyqtgraph.Qt import QtCore, QtWidgets  # the binding finplot runs on (PyQt6)
data = np.load(sys.argv[1])
ps = 10.0 ** -int(data["price_decimals"]) if "price_decimals" in data else 1.0
df = pd.DataFrame({"t": pd.to_datetime(data["open_time_ms"], unit="ms")})
for k in ("open", "close", "high", "low"):
    df[k] = data[k] * ps
fplt.candlestick_ochl(df[["t", "open", "close", "high", "low"]])
class Watch(QtCore.QObject):
    def eventFilter(self, obj, ev):
        if ev.type() == QtCore.QEvent.Type.Paint:
            print(f"first paint {since_start():.3f} s", flush=True)
            os._exit(0)
        return False
watch = Watch()
QtWidgets.QApplication.instance().installEventFilter(watch)
fplt.show()
"""


# An older revision (``--before REV``: before the journal moved after the paint) timed the same way: an event filter
# on its QApplication prints the first paint of the main window's chart and exits.
BEFORE = r"""
import os, sys
def since_start():
    with open("/proc/self/stat") as f:
        start = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as f:
        return float(f.read().split()[0]) - start / os.sysconf("SC_CLK_TCK")
import hexdesk.app as a
run_gui = a._run_gui
def timed_run_gui(app, *rest):
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QWidget
    import hexdesk.ui.main_window as mw
    class Watch(QObject):
        def eventFilter(self, obj, ev):
            if ev.type() == QEvent.Type.Paint and isinstance(obj, QWidget):
                for w in app.topLevelWidgets():
                    if isinstance(w, mw.MainWindow) and (obj is w.chart or w.chart.isAncestorOf(obj)):
                        print(f"first paint {since_start():.3f} s", flush=True)
                        os._exit(0)
            return False
    watch = Watch()
    app.installEventFilter(watch)
    return run_gui(app, *rest)
a._run_gui = timed_run_gui
sys.exit(a.main(sys.argv[1:]))
"""


def before_once(env: dict[str, str], tree: Path) -> float | None:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-c", BEFORE, "--db", str(Path(tmp) / "j.db")],
            env={**env, "PYTHONPATH": str(tree)},
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp,
        )
    m = re.search(r"first paint ([\d.]+) s", out.stdout)
    return float(m.group(1)) if m else None


def _median(values: list[float]) -> float:
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def hexdesk_once(env: dict[str, str]) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-m", "hexdesk", "--db", str(Path(tmp) / "j.db")],
            env={**env, "HEXDESK_EXIT_AFTER_PAINT": "1"},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            cwd=ROOT,
        )
    m = PAINT.search(out.stdout)
    if m is None:
        raise RuntimeError(f"hexdesk printed no paint time:\n{out.stdout}\n{out.stderr}")
    return float(m.group(1)), float(m.group(2))


def finplot_once(env: dict[str, str], npz: Path) -> float | None:
    out = subprocess.run(
        [sys.executable, "-c", FINPLOT, str(npz)],
        env={**env, "QT_API": "pyqt6", "PYQTGRAPH_QT_LIB": "PyQt6"},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    m = re.search(r"first paint ([\d.]+) s", out.stdout)
    return float(m.group(1)) if m else None


def slowest_imports(env: dict[str, str], top: int = 12) -> list[tuple[float, str]]:
    """(cumulative seconds, module) of the slowest top-level imports in one HexDesk start (to the exit)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "hexdesk", "--db", str(Path(tmp) / "j.db")],
            env={**env, "HEXDESK_EXIT_AFTER_PAINT": "1"},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            cwd=ROOT,
        )
    rows = []
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2]
            depth = (len(name) - len(name.lstrip())) // 2
            if depth <= 1:
                rows.append((int(parts[1]) / 1e6, name.strip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="runs of each, the median is printed (default 7)")
    parser.add_argument("--before", metavar="REV", help="also time this git revision of the app (e.g. 7d57f1c)")
    args = parser.parse_args()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_API": "pyside6", "PYQTGRAPH_QT_LIB": "PySide6"}
    env["PYTHONPATH"] = str(ROOT)
    runs = [hexdesk_once(env) for _ in range(args.repeat)]
    paint, journal = _median([r[0] for r in runs]), _median([r[1] for r in runs])
    print(f"HexDesk  first painted chart {paint * 1000:7.0f} ms (target < 500), journal open {journal * 1000:7.0f} ms")
    if args.before:
        with tempfile.TemporaryDirectory() as tree:
            archive = subprocess.run(
                ["git", "archive", args.before, "hexdesk", "resources"], cwd=ROOT, capture_output=True, check=True
            )
            subprocess.run(["tar", "-x", "-C", tree], input=archive.stdout, check=True)
            old = [before_once(env, Path(tree)) for _ in range(args.repeat)]
        if None in old:
            print(f"{args.before}: no first paint measured")
        else:
            old_paint = _median([o for o in old if o is not None])
            print(f"{args.before:8} first painted chart {old_paint * 1000:7.0f} ms (journal opened before the window)")
    npz = ROOT / "resources" / "klines" / "BTCUSDT-2025-03.npz"
    fp = [finplot_once(env, npz) for _ in range(args.repeat)]
    if None in fp:
        print("finplot  not installed or failed (pip install -e '.[bench]')")
    else:
        fp_paint = _median([f for f in fp if f is not None])
        print(f"finplot  first painted chart {fp_paint * 1000:7.0f} ms (import + candlestick plot + show)")
        print(f"HexDesk / finplot: {paint / fp_paint:.2f} (medians of {args.repeat})")
    print("slowest imports of one HexDesk start (cumulative, to the exit after the journal opened):")
    for seconds, name in slowest_imports(env):
        print(f"  {seconds * 1000:7.0f} ms  {name}")


if __name__ == "__main__":
    main()
