"""Cold start to the first painted chart (issue 10.3): HexDesk against finplot, fresh processes, medians of N.

Run: ``.venv/bin/python benchmarks/cold_start.py [--runs 7] [--no-finplot] [--no-breakdown]``

Each figure is the time from just before the parent spawns the process (``time.monotonic()``) to the end of the
first real paint of the chart's viewport with its candles drawn, in offscreen mode, as the child reports it
(``time.monotonic()`` too: CLOCK_MONOTONIC is system-wide on Linux, so both clocks are one). So it includes the
interpreter's own start, every import, the window, the data and the paint.

* HexDesk, fresh journal: ``hexdesk --offline --db NEW`` with an empty settings directory (a first run).
* HexDesk, resume: a journal holding a session the app resumes, and the settings its last run left (the shell
  guesses from them), copied afresh for every run.
* finplot 1.9.7: import, a candlestick + volume plot of the same candles HexDesk's first chart shows, first paint;
  in its own process with QT_API / PYQTGRAPH_QT_LIB unset (it brings PyQt6), window resized to HexDesk's size.

``--baseline-src DIR`` adds an earlier HexDesk for a before / after in the same run: DIR holds its sources (e.g.
``git archive fa13ef8 | tar -x -C DIR``, the commit before issue 10.3), which had no probe, so its MainWindow.show is
hooked to report the first paint the same way.

Children run with bytecode caches, as an installed copy does (the script compiles hexdesk/ first and unsets
PYTHONDONTWRITEBYTECODE for them).

HexDesk's child is ``hexdesk`` with ``HEXDESK_EXIT_AFTER_FIRST_PAINT=1``: it prints when the chart was painted and
when orders were accepted (the journal open, the session handed to the window), then exits. The import breakdown
(medians of fresh ``python -c "import X"`` processes, each including the interpreter's start) says what a start
cannot go below. The machine is shared: compare figures of one run, not across runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/statistics.py would shadow the standard library's module (hexdesk.market.liquidity uses it)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PREFIX = "HEXDESK_COLD_START"
SIZE = (800, 600)  # the offscreen platform's screen: HexDesk's window is fitted to it; finplot's is resized to it

FINPLOT_CHILD = r"""
import sys, time
import numpy as np
import pandas as pd
import finplot as fplt
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtWidgets

z = np.load(sys.argv[1])
df = pd.DataFrame({k: z[k] for k in ("time", "open", "close", "high", "low", "volume")})
ax, axv = fplt.create_plot("cold start", rows=2, init_zoom_periods=150, maximize=False)
fplt.candlestick_ochl(df[["time", "open", "close", "high", "low"]], ax=ax)
fplt.volume_ocv(df[["time", "open", "close", "volume"]], ax=axv)
win = fplt.windows[0]
app = QtWidgets.QApplication.instance()

class FirstPaint(QtCore.QObject):
    pending = False
    def eventFilter(self, obj, event):
        if not self.pending and event.type() == QtCore.QEvent.Type.Paint:
            self.pending = True
            QtCore.QTimer.singleShot(0, self.done)
        return False
    def done(self):
        print(f"PREFIX first_paint={time.monotonic():.6f} cpu_at_paint={time.process_time():.6f} "
              f"binding={pg.Qt.QT_LIB}", flush=True)
        app.quit()

probe = FirstPaint()
win.viewport().installEventFilter(probe)
win.resize(WIDTH, HEIGHT)
fplt.show(qt_exec=False)
app.exec()
""".replace("PREFIX", PREFIX).replace("WIDTH", str(SIZE[0])).replace("HEIGHT", str(SIZE[1]))


BASELINE_CHILD = r"""
import os, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
import hexdesk.ui.main_window as mw

show = mw.MainWindow.show


class FirstPaint(QObject):
    def __init__(self, chart):
        super().__init__()
        self.chart, self.pending = chart, False

    def eventFilter(self, obj, event):
        if not self.pending and event.type() == QEvent.Type.Paint and self.chart.candle_count > 0:
            self.pending = True
            QTimer.singleShot(0, self.done)
        return False

    def done(self):
        print(f"PREFIX first_paint={time.monotonic():.6f} cpu_at_paint={time.process_time():.6f} "
              f"hexdesk={os.path.dirname(mw.__file__)}", flush=True)
        os._exit(0)


def probed_show(self):
    self.probe = FirstPaint(self.chart)
    self.chart.price_view.scene().views()[0].viewport().installEventFilter(self.probe)
    show(self)


mw.MainWindow.show = probed_show
from hexdesk.app import main

sys.exit(main(["--offline", "--db", sys.argv[1]]))
""".replace("PREFIX", PREFIX)


@dataclass
class Start:
    first_paint: float  # s after the spawn
    cpu: float  # the child's CPU time (s) at its first paint: what the work costs, steadier on a shared machine
    orders: float = math.nan  # s after the spawn: the journal open, orders accepted (HexDesk only)
    window: float = math.nan  # s after the spawn: the window's own (interactive) chart painted (HexDesk only)
    note: str = ""


def _env(**extra: str) -> dict[str, str]:
    """The children start as an installed app does: with bytecode caches (PYTHONDONTWRITEBYTECODE would make every
    start compile HexDesk's ~200 modules from source, ~0.3 s that no installed copy pays)."""
    drop = ("HEXDESK_DB", "QT_QPA_PLATFORM", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(QT_QPA_PLATFORM="offscreen", **extra)
    return env


def _spawn(cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> tuple[float, dict[str, str]]:
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, cwd=cwd)
    line = next((x for x in proc.stdout.splitlines() if x.startswith(PREFIX)), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"{cmd[:3]}... failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-2000:]}")
    fields = dict(item.split("=", 1) for item in line.split()[1:])
    return t0, fields


def hexdesk_start(db: Path, config: Path, silent_binance: int | None = None) -> Start:
    """``hexdesk --offline``; or, given the port of a server that never answers, ``hexdesk`` asking Binance first
    (what ``make run`` does) on a network that swallows the request."""
    extra = {} if silent_binance is None else {"HEXDESK_REST_URL": f"http://127.0.0.1:{silent_binance}",
                                               "HEXDESK_WS_URL": f"ws://127.0.0.1:{silent_binance}/market"}
    env = _env(HEXDESK_EXIT_AFTER_FIRST_PAINT="1", XDG_CONFIG_HOME=str(config),
               QT_API="pyside6", PYQTGRAPH_QT_LIB="PySide6", **extra)
    mode = ["--offline"] if silent_binance is None else []
    t0, f = _spawn([PYTHON, "-m", "hexdesk", *mode, "--db", str(db)], env)
    if f["frame"] == "1" and f["frame_loaded"] != "none":
        raise RuntimeError(f"the first frame was painted after importing {f['frame_loaded']}")
    first = "first frame, then the shell" if f["frame"] == "1" else "shell first" if f["shell"] == "1" else "no shell"
    note = f"{f['candles']} candles, {first}"
    return Start(float(f["first_paint"]) - t0, float(f["cpu_at_paint"]), float(f["orders_accepted"]) - t0,
                 window=float(f["window_paint"]) - t0, note=note)


def finplot_start(candles: Path) -> Start:
    env = {k: v for k, v in _env().items() if k not in ("QT_API", "PYQTGRAPH_QT_LIB")}
    t0, f = _spawn([PYTHON, "-c", FINPLOT_CHILD, str(candles)], env)
    return Start(float(f["first_paint"]) - t0, float(f["cpu_at_paint"]), note=f"binding {f['binding']}")


def baseline_start(src: Path, db: Path, config: Path) -> Start:
    env = _env(PYTHONPATH=str(src), XDG_CONFIG_HOME=str(config), QT_API="pyside6", PYQTGRAPH_QT_LIB="PySide6")
    t0, f = _spawn([PYTHON, "-c", BASELINE_CHILD, str(db)], env, cwd=src)  # (-c puts the cwd first on sys.path)
    if not f.get("hexdesk", "").startswith(str(src)):
        raise RuntimeError(f"the baseline ran {f.get('hexdesk')}, not the sources in {src}")
    return Start(float(f["first_paint"]) - t0, float(f["cpu_at_paint"]), note=f"sources from {src}")


def first_chart_candles(path: Path) -> int:
    """The candles a fresh HexDesk shows first (BTCUSDT-2025-03's first day, shown as history), for finplot."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from hexdesk.market.candles import load_bundled
    from hexdesk.service.defaults import DEFAULT_DATASETS, HISTORY_MS

    s = load_bundled(DEFAULT_DATASETS[0])
    s = s.slice(0, s.index_at(s.first_open_ms + HISTORY_MS))
    f = {name: np.asarray(getattr(s, name), dtype=np.float64) for name in ("open", "high", "low", "close", "volume")}
    np.savez(path, time=np.asarray(s.open_time_ms, dtype=np.int64), **f)
    return len(s)


def median(starts: list[Start], field: str) -> float:
    return statistics.median(getattr(s, field) for s in starts)


def import_breakdown(runs: int) -> None:
    """Fresh processes importing one thing each (interpreter start included), PySide6 bound for pyqtgraph."""
    env = _env(QT_API="pyside6", PYQTGRAPH_QT_LIB="PySide6")
    print("\nImports alone (fresh process each, interpreter start included; median of", runs, "):")
    for what in ("pass", "import numpy", "import PySide6.QtWidgets", "import hexdesk.ui.first_frame, hexdesk.app",
                 "import PySide6.QtWidgets, numpy",
                 "import pyqtgraph", "import hexdesk.ui.qt_compat", "import hexdesk.ui.main_window, hexdesk.ui.shell",
                 "import sqlmodel", "import hexdesk.storage.journal"):
        samples = []
        for _ in range(runs):
            t0 = time.monotonic()
            subprocess.run([PYTHON, "-c", what], env=env, check=True, cwd=ROOT)
            samples.append(time.monotonic() - t0)
        print(f"  {what:<52} {statistics.median(samples) * 1000:7.0f} ms")
    print("  (hexdesk.ui.first_frame: what the first frame needs; hexdesk.ui.qt_compat: pyqtgraph as HexDesk\n"
          "   imports it, without touching every PySide6 class; the live chart needs everything down to\n"
          "   hexdesk.ui.main_window; sqlmodel and the journal come after it)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7, help="processes per figure (median); default 7")
    ap.add_argument("--no-finplot", action="store_true", help="skip finplot (installed by the `bench` extra)")
    ap.add_argument("--no-breakdown", action="store_true", help="skip the import breakdown")
    ap.add_argument("--baseline-src", type=Path, metavar="DIR", help="an earlier HexDesk's sources, for before / after")
    args = ap.parse_args()
    import importlib.util

    if not args.no_finplot and importlib.util.find_spec("finplot") is None:
        print("finplot is not installed (pip install 'finplot==1.9.7' pandas): HexDesk alone")
        args.no_finplot = True
    tmp = Path(tempfile.mkdtemp(prefix="hexdesk-cold-"))
    for src in (ROOT, args.baseline_src) if args.baseline_src else (ROOT,):  # bytecode caches, as installed
        subprocess.run([PYTHON, "-m", "compileall", "-q", str(src / "hexdesk")], check=True, env=_env())
    try:
        # A journal holding a session to resume, and the settings its run left (as a user's second start).
        seed_db, seed_cfg = tmp / "seed.db", tmp / "seed-config"
        subprocess.run([PYTHON, "-m", "hexdesk", "--offline", "--db", str(seed_db), "--close-after", "1"],
                       env=_env(XDG_CONFIG_HOME=str(seed_cfg)), check=True, capture_output=True, cwd=ROOT)
        candles = tmp / "candles.npz"
        n = first_chart_candles(candles)
        fresh: list[Start] = []
        resume: list[Start] = []
        silent: list[Start] = []
        import socket

        swallow = socket.create_server(("127.0.0.1", 0))  # accepts, never answers: a firewall that drops
        theirs: list[Start] = []
        before: list[Start] = []
        for i in range(args.runs):  # interleaved: a load spike on the shared machine hits every contender alike
            fresh.append(hexdesk_start(tmp / f"fresh{i}.db", tmp / f"fresh-config{i}"))
            db, cfg = tmp / f"resume{i}.db", tmp / f"resume-config{i}"
            shutil.copy(seed_db, db)
            shutil.copytree(seed_cfg, cfg)
            resume.append(hexdesk_start(db, cfg))
            if i < 3:  # each waits the probe's whole timeout (3 s) before its journal opens: three are enough
                silent.append(hexdesk_start(tmp / f"silent{i}.db", tmp / f"silent-config{i}",
                                            swallow.getsockname()[1]))
            if not args.no_finplot:
                theirs.append(finplot_start(candles))
            if args.baseline_src:
                before.append(baseline_start(args.baseline_src.resolve(), tmp / f"base{i}.db", tmp / f"base-config{i}"))
        print(f"Cold start to the first painted chart, median of {args.runs} fresh processes, offscreen "
              f"{SIZE[0]}x{SIZE[1]} (finplot: the same {n} candles)")
        print(f"  {'':34}{'first paint':>12}{'(CPU)':>10}{'live chart':>13}{'orders accepted':>17}")
        rows = [("HexDesk, fresh journal", fresh), ("HexDesk, resuming a session", resume)]
        for name, starts in rows:
            print(f"  {name:<34}{median(starts, 'first_paint') * 1000:9.0f} ms{median(starts, 'cpu') * 1000:7.0f} ms"
                  f"{median(starts, 'window') * 1000:10.0f} ms{median(starts, 'orders') * 1000:14.0f} ms"
                  f"   ({starts[0].note})")
        name = "HexDesk, no mode asked, Binance silent"
        print(f"  {name:<34}{median(silent, 'first_paint') * 1000:9.0f} ms{median(silent, 'cpu') * 1000:7.0f} ms"
              f"{median(silent, 'window') * 1000:10.0f} ms{median(silent, 'orders') * 1000:14.0f} ms"
              f"   (median of {len(silent)}: `make run` on a network that swallows the probe; it gives up after 3 s)")
        swallow.close()
        print("  (first paint: the first frame, the candles drawn before numpy / pyqtgraph / the engine load; live\n"
              "   chart: the window's pyqtgraph chart, which zooms and scrolls; orders: the journal open)")
        for name, starts in rows:
            after = statistics.median(s.orders - s.first_paint for s in starts)
            print(f"  {name}: orders accepted {after * 1000:.0f} ms after the first paint")
        if theirs:
            ver = ""
            try:
                from importlib.metadata import version

                ver = " " + version("finplot")
            except Exception:  # only the label
                pass
            f_ms, f_cpu = median(theirs, "first_paint") * 1000, median(theirs, "cpu") * 1000
            print(f"  {'finplot' + ver:<34}{f_ms:9.0f} ms{f_cpu:7.0f} ms{'':17}({theirs[0].note})")
            for name, starts in rows:
                print(f"  ratio finplot / {name}: wall {f_ms / (median(starts, 'first_paint') * 1000):.2f}, "
                      f"CPU {f_cpu / (median(starts, 'cpu') * 1000):.2f} (above 1: HexDesk paints first)")
        if before:
            b_ms, b_cpu = median(before, "first_paint") * 1000, median(before, "cpu") * 1000
            print(f"  {'HexDesk before (baseline), fresh':<34}{b_ms:9.0f} ms{b_cpu:7.0f} ms{'':17}({before[0].note})")
            ms, cpu = median(fresh, "first_paint") * 1000, median(fresh, "cpu") * 1000
            print(f"  before / now, fresh journal: wall {b_ms / ms:.2f}x, CPU {b_cpu / cpu:.2f}x")
        target = 500
        for name, starts in rows:
            ms = median(starts, "first_paint") * 1000
            print(f"  target under {target} ms, {name}: {'met' if ms < target else 'NOT met'} ({ms:.0f} ms)")
        if not args.no_breakdown:
            import_breakdown(max(3, args.runs // 2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
