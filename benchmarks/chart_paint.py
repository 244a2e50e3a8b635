"""Chart paint benchmark: CandleChart vs pyqtgraph's candlestick-example approach, offscreen, 1600x900.

Run: ``.venv/bin/python benchmarks/chart_paint.py [--sizes 100000 200000] [--repeat 30]``

"Full repaint" renders the whole widget (axes, text, both panes) into a QImage, so it is an upper bound for what a
frame costs; a live tick normally repaints only the dirty region. Figures are medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
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
    return statistics.median(samples)


def render(widget: QtWidgets.QWidget, image: QtGui.QImage) -> None:
    """Full synchronous render of the widget (every item painted), like a first frame or a resize."""
    QtWidgets.QWidget.render(widget, image)  # (pyqtgraph's GraphicsView overrides render() with another signature)


def bench_hexdesk(app: QtWidgets.QApplication, n: int, repeat: int) -> None:
    data = synth(n)
    w = CandleChart()
    w.resize(W, H)
    w.show()
    app.processEvents()
    img = QtGui.QImage(W, H, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    w.set_interval(60)
    t = time.perf_counter()
    w.set_history(*data)
    set_ms = (time.perf_counter() - t) * 1000
    render(w, img)
    hist = w.history_item

    def full() -> None:
        render(w, img)

    recent = median_ms(full, repeat)

    t_first = T0
    t_last = float(data[0][-1])
    w.price_view.setXRange(t_first, t_last + 60, padding=0)
    render(w, img)
    zoomed_k, zoomed_bars = hist.last_merge_factor, hist.last_drawn_bars
    all_cached = median_ms(full, repeat)

    pan_step = [0.0]

    def pan_and_render() -> None:  # cache miss every frame: slice the merge level and rebuild the geometry
        pan_step[0] += 60 * 37
        w.price_view.setXRange(t_first - pan_step[0], t_last + 60 - pan_step[0], padding=0)
        render(w, img)

    all_pan = median_ms(pan_and_render, repeat)

    w.scroll_to_end(150)
    render(w, img)
    before = hist.prepare_count
    last = w.candle_at_index(-1)
    price = [last.c]
    step = [0]

    def tick() -> None:  # trades inside the candle's range: the y scale stays put, as for most real ticks
        step[0] += 1
        price[0] = last.l + (last.h - last.l) * ((step[0] * 7) % 11) / 10
        w.update_forming(last.t, last.o, last.h, last.l, price[0], last.v + step[0])

    tick_ms = median_ms(tick, repeat * 10)

    def tick_and_render() -> None:
        tick()
        render(w, img)

    tick_render = median_ms(tick_and_render, repeat)
    history_prepares_during_ticks = hist.prepare_count - before

    # Real event-loop repaint: 50 ticks queued, then let Qt paint once (only the dirty region).
    def burst_and_event_loop() -> None:
        for _ in range(50):
            tick()
        app.processEvents()

    burst = median_ms(burst_and_event_loop, repeat)

    next_t = [last.t]

    def new_candle_and_render() -> None:
        next_t[0] += 60
        w.update_forming(next_t[0], price[0], price[0] + 3, price[0] - 3, price[0] + 1, 1.0)
        render(w, img)

    append_render = median_ms(new_candle_and_render, repeat)
    print(f"HexDesk CandleChart, {n:,} candles, {W}x{H} offscreen")
    print(f"  set_history                                   {set_ms:8.2f} ms")
    print(f"  full repaint, last 150 candles                {recent:8.2f} ms")
    print(f"  full repaint, all {n:,} visible (k={zoomed_k}, {zoomed_bars} bars) {all_cached:8.2f} ms")
    print(f"  pan + full repaint, all visible (cache miss)  {all_pan:8.2f} ms")
    print(f"  update_forming alone                          {tick_ms * 1000:8.1f} µs")
    print(f"  update_forming + full repaint                 {tick_render:8.2f} ms")
    print(f"  50 x update_forming + one event-loop repaint  {burst:8.2f} ms")
    print(f"  new candle (append, follow) + full repaint    {append_render:8.2f} ms")
    print(f"  history geometry rebuilds during {repeat * 11} ticks: {history_prepares_during_ticks}")
    w.close()
    w.deleteLater()
    app.processEvents()


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
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 200_000])
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--example-size", type=int, default=100_000, help="0 skips the pyqtgraph example comparison")
    args = ap.parse_args()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    for n in args.sizes:
        bench_hexdesk(app, n, args.repeat)
        print()
    if args.example_size:
        bench_example(app, args.example_size, args.repeat)
        print()
    bench_batching(args.repeat)


if __name__ == "__main__":
    main()
