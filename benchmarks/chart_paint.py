"""Chart paint benchmark: CandleChart vs pyqtgraph's candlestick-example approach, offscreen, 1600x900.

Run: ``.venv/bin/python benchmarks/chart_paint.py [--sizes 100000 200000] [--repeat 30]``

A "frame" is either a full synchronous render of the whole widget into a QImage (axes, text, both panes: what a
first frame, a zoom or a scroll costs, and an upper bound for any frame), or, for a live tick, the frame the tick
causes: the event loop runs until Qt has painted what the tick made dirty into the window's backing store (the
deferred price labels included). Both are reported for live ticks. Figures are medians, CPU and wall time.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")  # finplot goes through pyqtgraph: bind both to PySide6
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6 import QtCore, QtGui, QtWidgets

from hexdesk.ui import qt_compat  # noqa: F401
from hexdesk.ui.chart import CandleChart

W, H = 1600, 900
T0 = 1_700_000_000.0


def synth(n: int, seed: int = 7) -> tuple[np.ndarray, ...]:
    """A random walk around 85,000 with 1-minute candles."""
    rng = np.random.default_rng(seed)
    t = T0 + 60.0 * np.arange(n)
    c = 85_000 + np.cumsum(rng.normal(0, 20, n))
    o = np.r_[c[0], c[:-1]]
    h = np.maximum(o, c) + rng.exponential(10, n)
    low = np.minimum(o, c) - rng.exponential(10, n)
    v = rng.exponential(5, n)
    return t, o, h, low, c, v


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return float(np.median(samples))  # (benchmarks/statistics.py shadows the stdlib module here)


def render(widget: QtWidgets.QWidget, image: QtGui.QImage) -> None:
    """Full synchronous render of the widget (every item painted), like a first frame or a resize."""
    QtWidgets.QWidget.render(widget, image)  # (pyqtgraph's GraphicsView overrides render() with another signature)


REPEAT = 7  # medians of 7: the machine is shared and noisy, and every figure is compared within one run
COLD = 5  # new charts whose first zoom-out is timed (each is created and given the idle time first)
LIVE_REPEAT = 21  # the live rows are a few ms: more samples steady their medians (both libraries alike)


@dataclass(frozen=True)
class Sample:
    """Wall time (what a user waits) and this process's CPU time (what the work costs; steadier on a shared machine
    where other processes take the cores), both in ms."""

    wall: float = math.nan
    cpu: float = math.nan

    def scaled(self, factor: float) -> Sample:
        return Sample(self.wall * factor, self.cpu * factor)


def median_of(fn: Callable[[], object], repeat: int = REPEAT, setup: Callable[[], object] | None = None) -> Sample:
    """Median wall and CPU time (ms) of ``fn``; ``setup`` runs untimed before each sample."""
    walls, cpus = [], []
    for _ in range(repeat):
        if setup is not None:
            setup()
        t, c = time.perf_counter(), time.process_time()
        fn()
        cpus.append((time.process_time() - c) * 1000)
        walls.append((time.perf_counter() - t) * 1000)
    # (np.median: benchmarks/statistics.py shadows the stdlib module here)
    return Sample(float(np.median(walls)), float(np.median(cpus)))


@dataclass
class Figures:
    """One library's figures at one history length (ms; ``new_alone_us`` in µs)."""

    create: Sample = Sample()  # build the widget, hand it the history, first full frame
    first_zoom_out: Sample = Sample()  # a chart's very first zoom fully out + frame (median over COLD new charts)
    zoom_out: Sample = Sample()  # zoom fully out + frame (median; zoomed back in between, untimed)
    live: Sample = Sample()  # update the forming candle + the frame it causes (event loop: the dirty region)
    live_full: Sample = Sample()  # update the forming candle + a full render of the widget (upper bound)
    first_new_candle: Sample = Sample()  # the first one after loading (+ frame): one-off costs show here
    new_candle: Sample = Sample()  # a new candle (append, follow) + next frame
    new_alone_us: Sample = Sample()  # a new candle without the frame


ROWS = [
    ("create + first frame", "create", 50.0),
    ("first zoom fully out + frame", "first_zoom_out", 16.0),
    ("zoom fully out + frame", "zoom_out", 16.0),
    ("live update + frame", "live", 2.5),
    ("live update + full render", "live_full", 2.5),
    ("first new candle + frame", "first_new_candle", None),
    ("new candle + frame", "new_candle", None),
]


def idle(app: QtWidgets.QApplication, until: Callable[[], bool] = lambda: True, seconds: float = 1.0) -> float:
    """Let the event loop run as it does while a trader looks at a freshly loaded chart (the chart copies the adopted
    history in ~1 ms slices then, and builds its level-of-detail pyramid one level a pass), at least ``seconds`` and
    until ``until()``; both libraries get this after loading.
    Returns how long it took."""
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or (not until() and time.perf_counter() - start < 10):
        app.processEvents()
        time.sleep(0.002)
    return time.perf_counter() - start


def event_frame(app: QtWidgets.QApplication) -> None:
    """Run the event loop until the frame a change caused is painted: the pending paint, and a second pass for
    what the 0 ms timers (deferred labels) dirtied in the first one."""
    app.processEvents()
    app.processEvents()


def bench_ours(app: QtWidgets.QApplication, data: tuple[np.ndarray, ...]) -> Figures:
    f = Figures()
    img = QtGui.QImage(W, H, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    n = len(data[0])
    charts: list[CandleChart] = []

    def create() -> None:
        w = CandleChart()
        w.resize(W, H)
        w.show()
        w.set_interval(60)
        w.set_history(*data)
        render(w, img)
        charts.append(w)

    def dispose() -> None:
        while charts:
            w = charts.pop()
            w.close()
            w.deleteLater()
        app.processEvents()

    f.create = median_of(create, setup=dispose)
    t_first, t_last = float(data[0][0]), float(data[0][-1])

    def zoom_out() -> None:
        charts[-1].price_view.setXRange(t_first, t_last + 60 * 6, padding=0)
        render(charts[-1], img)

    def fresh_chart() -> None:  # untimed: a new chart, then the idle time a trader gives it before zooming out
        dispose()
        create()
        w = charts[-1]
        idle(app, lambda: w.history_levels.base.owned and w.history_levels.warmed)
        assert w.history_levels.base.owned and w.history_levels.warmed

    f.first_zoom_out = median_of(zoom_out, repeat=COLD, setup=fresh_chart)
    w = charts[-1]

    def zoom_in() -> None:
        w.scroll_to_end(150)
        render(w, img)

    f.zoom_out = median_of(zoom_out, setup=zoom_in)
    zoom_in()

    last = w.candle_at_index(-1)
    step = [0]

    def tick() -> None:  # trades inside the candle's range: the y scale stays put, as for most real ticks
        step[0] += 1
        price = last.l + (last.h - last.l) * ((step[0] * 7) % 11) / 10
        w.update_forming(last.t, last.o, last.h, last.l, price, last.v + step[0])

    def tick_and_frame() -> None:  # as the main window's frame does: candles, then the labels once, then Qt paints
        tick()
        w.flush_labels()
        event_frame(app)

    def tick_and_render() -> None:
        tick()
        w.flush_labels()
        render(w, img)

    painted = w.forming_item.paint_count
    event_frame(app)
    f.live = median_of(tick_and_frame, repeat=LIVE_REPEAT)
    assert w.forming_item.paint_count >= painted + LIVE_REPEAT, "the event loop did not paint the ticks"
    f.live_full = median_of(tick_and_render, repeat=LIVE_REPEAT)
    next_t = [last.t]

    def new_candle() -> None:
        next_t[0] += 60
        w.update_forming(next_t[0], last.c, last.c + 3, last.c - 3, last.c + 1, 1.0)

    def new_candle_and_render() -> None:
        new_candle()
        render(w, img)

    f.first_new_candle = median_of(new_candle_and_render, repeat=1)
    f.new_candle = median_of(new_candle_and_render)
    f.new_alone_us = median_of(new_candle, repeat=101).scaled(1000)
    assert w.candle_count == n + 8 + 101
    dispose()
    return f


def bench_finplot(app: QtWidgets.QApplication, data: tuple[np.ndarray, ...]) -> Figures | None:
    """finplot on the same candles: price pane + volume pane, as its own examples build a live chart."""
    try:
        import finplot as fp
        import pandas as pd
    except ImportError:
        return None
    f = Figures()
    img = QtGui.QImage(W, H, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    t, o, h, low, c, v = data
    df = pd.DataFrame({"time": (t * 1000).astype("int64"), "open": o, "close": c, "high": h, "low": low, "volume": v})
    state: dict[str, object] = {}

    def create() -> None:
        ax, axv = fp.create_plot("bench", rows=2, init_zoom_periods=150, maximize=False)
        candles = fp.candlestick_ochl(df[["time", "open", "close", "high", "low"]], ax=ax)
        volume = fp.volume_ocv(df[["time", "open", "close", "volume"]], ax=axv)
        fp.show(qt_exec=False)
        win = fp.windows[0]
        win.resize(W, H)
        render(win, img)
        state.update(ax=ax, candles=candles, volume=volume, win=win)

    def dispose() -> None:
        fp.close()
        app.processEvents()

    f.create = median_of(create, setup=dispose)
    n = len(df)

    def zoom_out() -> None:
        state["ax"].vb.update_y_zoom(0, n + 5)
        render(state["win"], img)

    def fresh_chart() -> None:  # untimed, as for HexDesk: a new chart and the same idle time
        dispose()
        create()
        idle(app)

    f.first_zoom_out = median_of(zoom_out, repeat=COLD, setup=fresh_chart)
    ax, candles, volume, win = state["ax"], state["candles"], state["volume"], state["win"]

    def zoom_in() -> None:
        ax.vb.update_y_zoom(n - 150, n + 5)
        render(win, img)

    f.zoom_out = median_of(zoom_out, setup=zoom_in)
    zoom_in()
    live = df.copy()
    step = [0]
    lo, hi = float(live["low"].iloc[-1]), float(live["high"].iloc[-1])

    def tick() -> None:  # finplot's realtime examples hand update_data the whole frame
        step[0] += 1
        live.iloc[-1, live.columns.get_loc("close")] = lo + (hi - lo) * ((step[0] * 7) % 11) / 10
        live.iloc[-1, live.columns.get_loc("volume")] += 1
        candles.update_data(live[["time", "open", "close", "high", "low"]])
        volume.update_data(live[["time", "open", "close", "volume"]])

    def tick_and_frame() -> None:
        tick()
        event_frame(app)

    def tick_and_render() -> None:
        tick()
        render(win, img)

    event_frame(app)
    f.live = median_of(tick_and_frame, repeat=LIVE_REPEAT)
    f.live_full = median_of(tick_and_render, repeat=LIVE_REPEAT)
    frames = [live]

    def new_candle() -> None:
        cur = frames[0]
        row = cur.iloc[[-1]].copy()
        row["time"] += 60_000
        cur = pd.concat([cur, row], ignore_index=True)
        frames[0] = cur
        candles.update_data(cur[["time", "open", "close", "high", "low"]])
        volume.update_data(cur[["time", "open", "close", "volume"]])

    def new_candle_and_render() -> None:
        new_candle()
        render(win, img)

    f.first_new_candle = median_of(new_candle_and_render, repeat=1)
    f.new_candle = median_of(new_candle_and_render)
    f.new_alone_us = median_of(new_candle).scaled(1000)
    dispose()
    return f


def report(n: int, ours: Figures, theirs: Figures | None) -> None:
    ver = ""
    if theirs is not None:
        from importlib.metadata import version

        ver = f" {version('finplot')}"
    print(f"{n:,} 1-minute candles, {W}x{H} offscreen, medians of {REPEAT} (first zoom: {COLD} new charts, live"
          f" rows: {LIVE_REPEAT}) (ms); wall time, then CPU time")
    print(f"  {'':30}{'HexDesk':>9}{'finplot' + ver:>15}{'ratio':>8} |{'HexDesk':>9}{'finplot':>10}{'ratio':>8}"
          "  target (CPU)")
    rows = [*ROWS, ("new candle alone (µs)", "new_alone_us", None)]
    for label, attr, target in rows:
        a = getattr(ours, attr)
        b = getattr(theirs, attr) if theirs is not None else Sample()
        cells = []
        for kind, width in (("wall", 15), ("cpu", 10)):
            x, y = getattr(a, kind), getattr(b, kind)
            ratio = f"{y / x:7.1f}x" if theirs is not None and x > 0 else "       -"
            cells.append(f"{x:9.2f}{y:{width}.2f}{ratio:>8}")
        tgt = "" if target is None else f"< {target:g}" + ("  ok" if a.cpu < target else "  missed")
        print(f"  {label:30}{cells[0]} |{cells[1]}  {tgt}")
    print("  (ratio = finplot / HexDesk: above 1 means HexDesk is faster)")


def bench_sizes(app: QtWidgets.QApplication, sizes: list[int], with_finplot: bool) -> None:
    for n in sizes:
        data = synth(n)
        ours = bench_ours(app, data)
        theirs = bench_finplot(app, data) if with_finplot else None
        report(n, ours, theirs)
        print()


class ExampleCandlestickItem(pg.GraphicsObject):
    """pyqtgraph's examples/customGraphicsItem.py approach: a QPicture of per-candle drawLine + drawRect calls."""

    def __init__(self, t: np.ndarray, o: np.ndarray, h: np.ndarray, low: np.ndarray, c: np.ndarray) -> None:
        super().__init__()
        self.picture = QtGui.QPicture()
        p = QtGui.QPainter(self.picture)
        p.setPen(pg.mkPen("w"))
        w = 60 / 3.0
        for ti, oi, hi, li, ci in zip(t.tolist(), o.tolist(), h.tolist(), low.tolist(), c.tolist(), strict=True):
            p.drawLine(QtCore.QPointF(ti, li), QtCore.QPointF(ti, hi))
            p.setBrush(pg.mkBrush("r" if oi > ci else "g"))
            p.drawRect(QtCore.QRectF(ti - w, oi, w * 2, ci - oi))
        p.end()

    def paint(self, p: QtGui.QPainter, *args: object) -> None:
        p.drawPicture(0, 0, self.picture)

    def boundingRect(self) -> QtCore.QRectF:
        return QtCore.QRectF(self.picture.boundingRect())


def bench_example(app: QtWidgets.QApplication, n: int, repeat: int) -> None:
    t, o, h, low, c, _ = synth(n)
    pw = pg.PlotWidget()
    pw.resize(W, H)
    pw.show()
    app.processEvents()
    img = QtGui.QImage(W, H, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    start = time.perf_counter()
    item = ExampleCandlestickItem(t, o, h, low, c)
    pw.addItem(item)
    build = (time.perf_counter() - start) * 1000
    render(pw, img)
    full = median_ms(lambda: render(pw, img), max(3, repeat // 5))
    pw.setXRange(float(t[-150]), float(t[-1]), padding=0)
    render(pw, img)
    recent = median_ms(lambda: render(pw, img), max(3, repeat // 5))
    print(f"pyqtgraph example approach (QPicture, per-candle calls), {n:,} candles")
    print(f"  build                                         {build:8.2f} ms")
    print(f"  full repaint, all visible                     {full:8.2f} ms")
    print(f"  full repaint, last 150 candles                {recent:8.2f} ms")
    print("  (a live update rebuilds the whole QPicture: build + repaint)")
    pw.close()
    pw.deleteLater()
    app.processEvents()


def bench_batching(repeat: int, bars: int = 1600) -> None:
    """How to hand ``bars`` wicks + bodies to QPainter (the most the chart ever draws at 1600 px)."""
    rng = np.random.default_rng(1)
    x = np.arange(bars, dtype=np.float64) + 0.5
    y0 = rng.uniform(100, 400, bars)
    y1 = y0 + rng.uniform(5, 300, bars)
    lines = np.ascontiguousarray(np.column_stack([x, y0, x, y1]))
    rects = np.ascontiguousarray(np.column_stack([x - 0.5, y0 + 2, np.ones(bars), y1 - y0 - 4]))
    img = QtGui.QImage(W, H, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    pen = QtGui.QPen(QtGui.QColor("#26a69a"), 1)
    pen.setCosmetic(True)
    brush = QtGui.QBrush(QtGui.QColor("#26a69a"))

    def draw(fn: Callable[[QtGui.QPainter], None]) -> None:
        p = QtGui.QPainter(img)
        fn(p)
        p.end()

    def ptr_arrays(p: QtGui.QPainter) -> None:
        p.setPen(pen)
        p.drawLines(shiboken6.wrapInstance(lines.ctypes.data, QtCore.QLineF), bars)
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.setBrush(brush)
        p.drawRects(shiboken6.wrapInstance(rects.ctypes.data, QtCore.QRectF), bars)

    def object_lists(p: QtGui.QPainter) -> None:
        p.setPen(pen)
        p.drawLines([QtCore.QLineF(*r) for r in lines.tolist()])
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.setBrush(brush)
        p.drawRects([QtCore.QRectF(*r) for r in rects.tolist()])

    def build_path() -> tuple[QtGui.QPainterPath, QtGui.QPainterPath]:
        wicks, bodies = QtGui.QPainterPath(), QtGui.QPainterPath()
        for a, b, c, d in lines.tolist():
            wicks.moveTo(a, b)
            wicks.lineTo(c, d)
        for a, b, c, d in rects.tolist():
            bodies.addRect(a, b, c, d)
        return wicks, bodies

    wicks, bodies = build_path()

    def cached_path(p: QtGui.QPainter) -> None:
        p.setPen(pen)
        p.drawPath(wicks)
        p.fillPath(bodies, brush)

    picture = QtGui.QPicture()
    pp = QtGui.QPainter(picture)
    ptr_arrays(pp)
    pp.end()

    def cached_picture(p: QtGui.QPainter) -> None:
        p.drawPicture(0, 0, picture)

    print(f"Batching {bars} wicks + {bars} bodies into a {W}x{H} QImage (build = per range change, draw = per frame)")
    print(f"  numpy -> C array pointer (chosen): draw     {median_ms(lambda: draw(ptr_arrays), repeat):8.3f} ms"
          "   (build: numpy only)")
    print(f"  Python QLineF/QRectF lists: build + draw    {median_ms(lambda: draw(object_lists), repeat):8.3f} ms")
    print(f"  QPainterPath: build                         {median_ms(build_path, repeat):8.3f} ms")
    print(f"  QPainterPath cached: draw                   {median_ms(lambda: draw(cached_path), repeat):8.3f} ms")
    print(f"  QPicture cached: draw                       {median_ms(lambda: draw(cached_picture), repeat):8.3f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    ap.add_argument("--no-finplot", action="store_true", help="skip finplot (installed by the `bench` extra)")
    ap.add_argument("--extras", action="store_true", help="also the pyqtgraph-example and batching comparisons")
    args = ap.parse_args()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    bench_sizes(app, args.sizes, not args.no_finplot)
    if args.extras:
        bench_example(app, 100_000, 5)
        print()
        bench_batching(30)


if __name__ == "__main__":
    main()
