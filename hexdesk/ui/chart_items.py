"""Fast bar painting for the candle chart: a growable OHLCV store, power-of-two merge levels, and one GraphicsObject.

Why it is built this way (see docs/chart.md for the figures):

* pyqtgraph's own candlestick example records one ``drawLine`` + ``drawRect`` per candle into a ``QPicture`` and
  replays all of them every frame, visible or not: ~100 ms a frame at 100k candles here. We draw only the visible
  range, and never more bars than the plot has pixels: when a bar would be narrower than ``MIN_BAR_PX`` we merge
  ``k`` consecutive bars (``k`` a power of two, groups aligned to multiples of ``k`` so bars do not shimmer while
  panning) into one with the first open, max high, min low, last close and summed volume.
* The merged bars come from the level-of-detail pyramid in :mod:`hexdesk.ui.chart_lod` (max high / min low /
  summed volume per aligned bucket, kept in step lazily), so zooming out to a million candles reads only the
  visible buckets, and a new candle touches only the last bucket of each level in use.
* Geometry is computed with numpy straight in device pixels (so wicks are crisp 1 px lines and bodies are at least
  1 px whatever the zoom) into contiguous float64 arrays that PySide6 hands to ``QPainter::drawLines``/``drawRects``
  as C arrays: one ``drawLines`` and one ``drawRects`` per colour, no per-bar Python objects.
* The prepared arrays are cached until the data, the view transform or the visible range changes, so a repaint
  caused by the forming candle (its own tiny item) costs four draw calls for the history.
"""

from __future__ import annotations

import math
import weakref
from collections import OrderedDict
from typing import Literal

import numpy as np
import shiboken6

from hexdesk.ui.chart_lod import BarLevels, MergedBars, OhlcvBuffer, merge_bars
from hexdesk.ui.qt_compat import QtCore, QtGui, QtWidgets, pg  # pyqtgraph pinned to PySide6

ZoomLevel = pg.graphicsItems.DateAxisItem.ZoomLevel  # (not imported by name: qt_compat must bind pyqtgraph first)

MIN_BAR_PX = 2.0  # below this slot width (in pixels) consecutive bars are merged
BODY_FRACTION = 0.7  # body width as a fraction of the bar's time slot

BarKind = Literal["candle", "volume"]

__all__ = [
    "BarLevels",
    "BarsItem",
    "GridLines",
    "MergedBars",
    "OhlcvBuffer",
    "PriceAxis",
    "UtcDateAxis",
    "merge_bars",
    "volume_ceiling",
]

def _ptr(arr: np.ndarray, klass: type) -> object:
    """Wrap a C-contiguous (n, 4) float64 array as ``klass*`` so QPainter reads it as a C array (no copies)."""
    return shiboken6.wrapInstance(arr.ctypes.data, klass)


def _qcolor(color: str | QtGui.QColor) -> QtGui.QColor:
    return QtGui.QColor(color)


def volume_ceiling(v: float) -> float:
    """``v`` rounded up to the next eighth of its power of two (at most 12.5% headroom).

    The forming candle's volume grows with every trade; fitting it exactly would rescale the volume pane, its axis and
    its grid (and re-prepare the history's volume bars) on every tick. Quantised, the pane rescales only when the
    volume outgrows a step.
    """
    if not v > 0 or not math.isfinite(v):
        return v
    step = 2.0 ** math.floor(math.log2(v)) / 8
    return math.ceil(v / step) * step


class BarsItem(pg.GraphicsObject):
    """Candles or volume bars of a :class:`BarLevels`, painted in batches in device pixels.

    The same class draws the history (``merge=True``) and the forming candle (``merge=False``, ``pad_px`` so that
    its bounding rect covers the 1 px minimum sizes and the old/new areas are repainted correctly on updates).
    """

    def __init__(
        self,
        levels: BarLevels,
        kind: BarKind,
        up: str | QtGui.QColor,
        down: str | QtGui.QColor,
        *,
        merge: bool = True,
        pad_px: float = 0.0,
    ) -> None:
        super().__init__()
        self._levels = levels
        self._kind: BarKind = kind
        self._merge = merge
        self._pad_px = pad_px
        self._interval = 60.0
        self._up_pen = QtGui.QPen(_qcolor(up), 1)
        self._up_pen.setCosmetic(True)
        self._down_pen = QtGui.QPen(_qcolor(down), 1)
        self._down_pen.setCosmetic(True)
        self._up_brush = QtGui.QBrush(_qcolor(up))
        self._down_brush = QtGui.QBrush(_qcolor(down))
        self._version = 0
        self._cache_key: tuple | None = None
        self._prepared: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        # the prepared arrays wrapped as QLineF* / QRectF* once per prepare (wrapInstance costs ~30 µs a call)
        self._batches: list[tuple[QtGui.QPen, QtGui.QBrush, object, int, object, int]] = []
        self._y_key: tuple[float, ...] | None = None  # what the y auto-range last saw of this item
        self._one: tuple[QtGui.QPen, QtGui.QBrush, QtCore.QLineF | None, QtCore.QRectF] | None = None  # one bar
        self._bounds = QtCore.QRectF()
        self.prepare_count = 0  # visible-geometry builds (cache misses in paint)
        self.paint_count = 0
        self.last_merge_factor = 1
        self.last_drawn_bars = 0
        self.last_drawn: MergedBars | None = None

    # ---- data ----------------------------------------------------------------------------------------------

    @property
    def interval(self) -> float:
        return self._interval

    def set_interval(self, seconds: float) -> None:
        self._interval = float(seconds)
        self.data_changed()

    def data_changed(self) -> None:
        """Call after the levels changed: drops the paint cache, updates bounds, schedules (never forces) a repaint.

        The view's y auto-range is told only when it could move: pyqtgraph answers every bounds change with a
        repaint of the whole ViewBox (``queueUpdateAutoRange`` calls ``update()`` on it), which turned a tick's
        repaint of one candle into a repaint of the whole pane. A one-bar item (the forming candle) changes the
        range only if its high, low or stepped volume ceiling moved: most trades land inside the candle.
        """
        self._version += 1
        self._cache_key = None
        self._update_bounds()
        key = self._bar_key() if not self._merge else None
        if key is None or key != self._y_key:
            self._y_key = key
            self.informViewBoundsChanged()
        self.update()

    def _bar_key(self) -> tuple[float, ...] | None:
        """What this one-bar item's ``dataBounds`` depends on (None when it is empty)."""
        b = self._levels.base
        if len(b) == 0:
            return None
        if self._kind == "candle":
            return (float(b.t[0]), float(b.t[-1]), float(b.l.min()), float(b.h.max()))
        return (float(b.t[0]), float(b.t[-1]), volume_ceiling(float(b.v.max())))

    def _data_rect(self) -> QtCore.QRectF:
        b = self._levels.base
        if len(b) == 0:
            return QtCore.QRectF()
        x0 = float(b.t[0])
        x1 = float(b.t[-1]) + self._interval
        if self._merge:
            # The history's height is the view's: the ViewBox clips what lies beyond it, so nothing drawn is left
            # out, and loading a million candles needs no min/max over all of them (~3.5 ms) before the first frame.
            view = self.getViewBox()
            if view is not None:
                (_, _), (y0, y1) = view.viewRange()
                if y1 > y0:
                    return QtCore.QRectF(x0, y0, x1 - x0, y1 - y0)
        lo, hi, vmax = self._levels.extent()  # running extremes: O(1) per new candle, no rescan
        y0, y1 = (lo, hi) if self._kind == "candle" else (0.0, vmax)
        return QtCore.QRectF(x0, y0, x1 - x0, y1 - y0)

    def _update_bounds(self) -> None:
        rect = self._data_rect()
        if self._pad_px and not rect.isNull():
            px, py = self.pixelWidth() or 0.0, self.pixelHeight() or 0.0
            pad_x, pad_y = self._pad_px * px, self._pad_px * py
            rect = rect.adjusted(-pad_x, -pad_y, pad_x, pad_y)
        if rect != self._bounds:
            self.prepareGeometryChange()
            self._bounds = rect

    def viewTransformChanged(self) -> None:
        """The pixel padding (one bar) and the height (the history) depend on the view; recompute them (pyqtgraph
        calls this on every view change)."""
        super().viewTransformChanged()  # drops pyqtgraph's cached viewRect()
        if self._pad_px or self._merge:
            self._update_bounds()

    def boundingRect(self) -> QtCore.QRectF:
        return QtCore.QRectF(self._bounds)

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: tuple[float, float] | None = None):
        """pyqtgraph auto-range hook: y follows only the bars in ``orthoRange`` (the visible x range)."""
        b = self._levels.base
        n = len(b)
        if n == 0:
            return None
        if ax == 0:
            return (float(b.t[0]), float(b.t[-1]) + self._interval)
        if orthoRange is None or orthoRange[0] is None:
            i0, i1 = 0, n
        else:
            t = b.t
            i0 = int(np.searchsorted(t, orthoRange[0] - self._interval, "right"))
            i1 = int(np.searchsorted(t, orthoRange[1], "left"))
            if i1 <= i0:
                return None
        if self._kind == "candle":  # merging keeps the extremes, so the base bars give the drawn range
            return self._levels.low_high(i0, i1)
        # merged volume bars are sums, so fit the level that will be drawn at this zoom
        vb = self.getViewBox()
        k = 1
        if orthoRange is not None and orthoRange[0] is not None and vb is not None and vb.width() > 0:
            k = self.merge_factor(vb.width() / max(orthoRange[1] - orthoRange[0], 1e-9))
        vmax = self._levels.max_volume(k, i0 // k, (i1 - 1) // k + 1)
        return None if vmax is None else (0.0, volume_ceiling(vmax))

    # ---- painting ------------------------------------------------------------------------------------------

    def merge_factor(self, px_per_second: float) -> int:
        """Smallest power of two ``k`` such that a merged bar's slot is at least ``MIN_BAR_PX`` wide."""
        if not self._merge:
            return 1
        slot_px = self._interval * px_per_second
        if slot_px >= MIN_BAR_PX or slot_px <= 0:
            return 1
        return 1 << math.ceil(math.log2(MIN_BAR_PX / slot_px))

    def prepare(self, sx: float, dx: float, sy: float, dy: float, x0: float, x1: float) -> None:
        """Compute device-pixel wicks and bodies of the bars overlapping [x0, x1] (item coordinates)."""
        self.prepare_count += 1
        if not self._merge and len(self._levels.base) == 1:
            self._prepare_one(sx, dx, sy, dy)
            return
        iv = self._interval
        k = self.merge_factor(abs(sx))
        levels = self._levels
        t = levels.base.t
        i0 = max(int(np.searchsorted(t, x0 - iv, "left")) - 2 * k, 0)
        i1 = int(np.searchsorted(t, x1, "right")) + 2 * k
        lv = levels.bars(k, i0 // k, (i1 - 1) // k + 1)  # only the visible buckets, ~1 per 2 px
        self.last_merge_factor = k
        self.last_drawn_bars = len(lv)
        self.last_drawn = lv  # the (merged) bars behind the last prepared geometry, for tests
        left = lv.t
        right = lv.tl + iv
        o = lv.o
        c = lv.c
        up = c >= o
        xc = np.floor((left + right) * (0.5 * sx) + dx)  # pixel column of the wick
        bw = np.maximum(np.rint((right - left) * (abs(sx) * BODY_FRACTION)), 1.0)
        bw -= (bw > 1) & (bw % 2 == 0)  # odd widths keep the body centred on the 1 px wick
        m = len(xc)
        rects = np.empty((m, 4), dtype=np.float64)
        rects[:, 0] = xc - (bw - 1) // 2
        rects[:, 2] = bw
        if self._kind == "candle":
            yo = np.rint(o * sy + dy)
            yc = np.rint(c * sy + dy)
            top = np.minimum(yo, yc)
            rects[:, 1] = top
            rects[:, 3] = np.maximum(np.maximum(yo, yc) - top, 1.0)
            lines = np.empty((m, 4), dtype=np.float64)
            lines[:, 0] = xc + 0.5
            lines[:, 2] = xc + 0.5
            lines[:, 1] = lv.h * sy + dy
            lines[:, 3] = lv.l * sy + dy
        else:
            base = round(dy)
            top = np.rint(lv.v * sy + dy)
            rects[:, 1] = top
            rects[:, 3] = base - top
            lines = np.empty((0, 4), dtype=np.float64)
        if self._kind == "candle":
            self._prepared = (
                np.ascontiguousarray(lines[up]),
                np.ascontiguousarray(rects[up]),
                np.ascontiguousarray(lines[~up]),
                np.ascontiguousarray(rects[~up]),
            )
        else:
            empty = lines
            self._prepared = (empty, np.ascontiguousarray(rects[up]), empty, np.ascontiguousarray(rects[~up]))
        up_lines, up_rects, down_lines, down_rects = self._prepared
        self._batches = [
            (pen, brush, _ptr(lines_, QtCore.QLineF) if len(lines_) else None, len(lines_),
             _ptr(rects_, QtCore.QRectF) if len(rects_) else None, len(rects_))
            for lines_, rects_, pen, brush in (
                (up_lines, up_rects, self._up_pen, self._up_brush),
                (down_lines, down_rects, self._down_pen, self._down_brush),
            )
        ]

    def _prepare_one(self, sx: float, dx: float, sy: float, dy: float) -> None:
        """The forming candle: the geometry of ``prepare`` for one bar in plain floats (a tick re-prepares it, and
        numpy's per-call overhead on 1-element arrays plus four pointer wraps cost ~0.2 ms; this ~20 µs)."""
        b = self._levels.base
        t, o, h, lo, c, v = b.row(0)
        iv = self._interval
        self.last_merge_factor = 1
        self.last_drawn_bars = 1
        self.last_drawn = None
        xc = math.floor((2 * t + iv) * (0.5 * sx) + dx)
        bw = max(float(round(iv * abs(sx) * BODY_FRACTION)), 1.0)
        if bw > 1 and bw % 2 == 0:
            bw -= 1
        left = xc - (bw - 1) // 2
        up = c >= o
        pen, brush = (self._up_pen, self._up_brush) if up else (self._down_pen, self._down_brush)
        if self._kind == "candle":
            yo, yc = float(round(o * sy + dy)), float(round(c * sy + dy))
            top = min(yo, yc)
            rect = QtCore.QRectF(left, top, bw, max(max(yo, yc) - top, 1.0))
            wick: QtCore.QLineF | None = QtCore.QLineF(xc + 0.5, h * sy + dy, xc + 0.5, lo * sy + dy)
        else:
            base = float(round(dy))
            top = float(round(v * sy + dy))
            rect = QtCore.QRectF(left, top, bw, base - top)
            wick = None
        self._prepared = None
        self._one = (pen, brush, wick, rect)

    def paint(self, p: QtGui.QPainter, opt: object, widget: object = None) -> None:
        self.paint_count += 1
        if len(self._levels.base) == 0:
            return
        tr = p.transform()
        sx, dx, sy, dy = tr.m11(), tr.dx(), tr.m22(), tr.dy()
        vr = self.viewRect()
        if vr is None:
            x0, x1 = -math.inf, math.inf
        else:
            x0, x1 = vr.left(), vr.right()
        key = (self._version, sx, dx, sy, dy, x0, x1)
        if key != self._cache_key:
            self._one = None
            self.prepare(sx, dx, sy, dy, x0, x1)
            self._cache_key = key
        p.save()
        p.resetTransform()
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
        if self._one is not None:
            pen, brush, wick, rect = self._one
            if wick is not None:
                p.setPen(pen)
                p.drawLine(wick)
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            p.setBrush(brush)
            p.drawRect(rect)
            p.restore()
            return
        for pen, brush, lines, n_lines, rects, n_rects in self._batches:
            if n_lines:
                p.setPen(pen)
                p.drawLines(lines, n_lines)
            if n_rects:
                p.setPen(QtCore.Qt.PenStyle.NoPen)
                p.setBrush(brush)
                p.drawRects(rects, n_rects)
        p.restore()


class _MeasuringPainter:
    """What ``AxisItem.generateDrawSpecs`` asks of its painter, with ``boundingRect`` memoised per text.

    pyqtgraph measures every tick label with ``QPainter.boundingRect`` each time the range changes (~35 labels over
    three axes a zoom); price and time labels repeat, so their sizes are looked up instead."""

    __slots__ = ("_memo", "_p")

    def __init__(self, p: QtGui.QPainter, memo: dict[tuple[str, int, float, float], QtCore.QRectF]) -> None:
        self._p = p
        self._memo = memo

    def boundingRect(self, rect: QtCore.QRectF, flags: object, text: str) -> QtCore.QRectF:
        key = (text, int(flags), rect.width(), rect.height())
        hit = self._memo.get(key)
        if hit is None:
            if len(self._memo) > 4096:
                self._memo.clear()
            hit = self._memo[key] = self._p.boundingRect(QtCore.QRectF(0, 0, rect.width(), rect.height()), flags, text)
        return hit.translated(rect.topLeft())

    def __getattr__(self, name: str) -> object:
        return getattr(self._p, name)


class FastAxisMixin:
    """Cheaper ``AxisItem`` drawing for a zoom or scroll frame: label sizes memoised, tick marks in one ``drawLines``
    per pen instead of one ``drawLine`` each. Geometry and labels are pyqtgraph's own."""

    _specs_bounds: QtCore.QRectF | None = None

    def generateDrawSpecs(self, p: QtGui.QPainter):
        font = self.style.get("tickFont")
        key = None if font is None else font.key()
        if getattr(self, "_text_memo_font", 0) != key:
            self._text_memo: dict = {}
            self._text_memo_font = key
        # pyqtgraph asks boundingRect() (a Python geometry walk) once per label while laying them out; it cannot
        # change during one layout
        self._specs_bounds = super().boundingRect()
        try:
            return super().generateDrawSpecs(_MeasuringPainter(p, self._text_memo))
        finally:
            self._specs_bounds = None

    def boundingRect(self) -> QtCore.QRectF:
        if self._specs_bounds is not None:
            return QtCore.QRectF(self._specs_bounds)
        return super().boundingRect()

    def paint(self, p: QtGui.QPainter, opt: object, widget: object = None) -> None:
        """With an item cache (the chart's axes) Qt calls this only when the cached pixmap is stale, so the specs are
        drawn straight into it; pyqtgraph's own paint records them into a QPicture first and replays that."""
        if self.cacheMode() == QtWidgets.QGraphicsItem.CacheMode.NoCache:
            super().paint(p, opt, widget)
            return
        if self.style["tickFont"] is not None:
            p.setFont(self.style["tickFont"])
        specs = self.generateDrawSpecs(p)
        if specs is not None:
            self.drawPicture(p, *specs)

    def drawPicture(self, p: QtGui.QPainter, axisSpec: tuple, tickSpecs: list, textSpecs: list) -> None:
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing, True)
        pen, p1, p2 = axisSpec
        p.setPen(pen)
        p.drawLine(p1, p2)
        batch: list[QtCore.QLineF] = []
        batch_pen = None
        for pen, p1, p2 in tickSpecs:
            if batch_pen is not None and pen != batch_pen:
                p.setPen(batch_pen)
                p.drawLines(batch)
                batch = []
            batch_pen = pen
            batch.append(QtCore.QLineF(p1, p2))
        if batch:
            p.setPen(batch_pen)
            p.drawLines(batch)
        if self.style["tickFont"] is not None:
            p.setFont(self.style["tickFont"])
        p.setPen(self.textPen())
        p.setClipRect(self.boundingRect().toAlignedRect())
        for rect, flags, text in textSpecs:
            p.drawText(rect, int(flags), text)


class PriceAxis(FastAxisMixin, pg.AxisItem):
    """The panes' right-hand price axis: pyqtgraph's layout rules, laid out without its general-case machinery.

    ``AxisItem.generateDrawSpecs`` serves four orientations, grids, log scales and custom tick levels through
    ``Point`` objects and per-label geometry walks: ~1.5 ms a price axis per zoom or scroll frame here, two of them a
    frame. For the one case the chart uses (right side, no grid, automatic ticks) this computes the same specs
    (tests/ui/test_chart_tags.py compares them with pyqtgraph's) in a fraction of that; any other configuration
    goes to pyqtgraph's."""

    def generateDrawSpecs(self, p: QtGui.QPainter):
        st = self.style
        if (
            self.orientation != "right" or self.grid is not False or self._tickLevels is not None or self.logMode
            or st["stopAxisAtTick"][0] or st["stopAxisAtTick"][1] or not st["showValues"]
        ):
            return super().generateDrawSpecs(p)
        font = st["tickFont"]
        if font is not None:
            p.setFont(font)
        bounds = self.mapRectFromParent(self.geometry())
        left = bounds.left()
        span0 = QtCore.QPointF(left + 1.0, bounds.top() - 1.0)
        span1 = QtCore.QPointF(left + 1.0, bounds.bottom() + 1.0)
        d0, d1 = self.mapToDevice(span0), self.mapToDevice(span1)
        if d0 is None or d1 is None:
            return None
        length = math.hypot(d1.x() - d0.x(), d1.y() - d0.y())
        if length == 0:
            return None
        lo, hi = self.range
        levels = self.tickValues(lo, hi, length)
        dif = hi - lo
        if dif == 0:
            scale, offset = 1.0, 0.0
        else:
            scale = -bounds.height() / dif
            offset = lo * scale - bounds.height()
        y_min, y_max = sorted((lo * scale - offset, hi * scale - offset))
        base_pen = self.tickPen()
        solid = base_pen.brush().style() == QtCore.Qt.BrushStyle.SolidPattern
        tick_specs: list[tuple[QtGui.QPen, QtCore.QPointF, QtCore.QPointF]] = []
        positions: list[list[float | None]] = []
        for i, (_spacing, values) in enumerate(levels):
            tick_length = st["tickLength"] / (i * 0.5 + 1.0)
            pen = base_pen
            if solid:
                pen = QtGui.QPen(base_pen)
                color = QtGui.QColor(pen.color())
                color.setAlpha(int(_tick_alpha(st["tickAlpha"], i)))
                pen.setColor(color)
            level_pos: list[float | None] = []
            for v in values:
                y = v * scale - offset
                if y < y_min or y > y_max:
                    level_pos.append(None)
                    continue
                level_pos.append(y)
                tick_specs.append((pen, QtCore.QPointF(left, y), QtCore.QPointF(left + tick_length, y)))
            positions.append(level_pos)
        axis_spec = (self.pen(), span0, span1)
        memo = self._label_sizes(font)
        text_offset = st["tickTextOffset"][0]
        align = QtCore.Qt.AlignmentFlag
        flags = align.AlignLeft | align.AlignVCenter | QtCore.Qt.TextFlag.TextDontClip
        own = self.boundingRect()
        text_specs: list[tuple[QtCore.QRectF, object, str]] = []
        text_size = 0.0  # summed heights of every label so far (pyqtgraph's textFillLimits rule)
        widest = last_widest = 0.0
        for i in range(min(len(levels), st["maxTextLevel"] + 1)):
            spacing, values = levels[i]
            strings = self.tickStrings(values, self.autoSIPrefixScale * self.scale, spacing)
            if len(strings) == 0:
                continue
            sizes: list[tuple[float, float] | None] = []
            for j, text in enumerate(strings):
                if positions[i][j] is None:
                    sizes.append(None)
                    continue
                size = memo.get(text)
                if size is None:
                    br = p.boundingRect(QtCore.QRectF(0, 0, 100, 100), QtCore.Qt.AlignmentFlag.AlignCenter, text)
                    size = memo[text] = (br.width(), br.height() * 0.8)
                sizes.append(size)
                text_size += size[1]
                widest = max(widest, size[0])
            if i > 0 and any(
                len(text_specs) >= n and text_size / length >= limit for n, limit in st["textFillLimits"]
            ):
                break
            last_widest = widest
            offset_x = max(0, st["tickLength"]) + text_offset
            for j, text in enumerate(strings):
                size = sizes[j]
                if size is None:
                    continue
                w, h = size
                rect = QtCore.QRectF(left + offset_x, positions[i][j] - h / 2, w, h)
                if own.intersected(rect) != rect:
                    continue
                text_specs.append((rect, flags, text))
        self._updateMaxTextSize(last_widest)
        return axis_spec, tick_specs, text_specs

    def _label_sizes(self, font: QtGui.QFont | None) -> dict[str, tuple[float, float]]:
        key = None if font is None else font.key()
        if getattr(self, "_sizes_font", 0) != key:
            self._sizes: dict[str, tuple[float, float]] = {}
            self._sizes_font = key
        if len(self._sizes) > 4096:
            self._sizes.clear()
        return self._sizes


def _tick_alpha(alpha: float | int | None, level: int) -> float:
    """pyqtgraph's tick opacity for tick level ``level`` (style ``tickAlpha``; no grid)."""
    if alpha is None:
        return 255 / (level + 1)
    if isinstance(alpha, float):
        return min(255, max(0, round(alpha * 255)))
    return alpha


class _UtcZoomLevel(ZoomLevel):
    """A DateAxisItem zoom level for UTC ticks: no local-time shifting.

    pyqtgraph moves every candidate tick to local time and back through QDateTime (``applyOffsetToUtc``) even with a
    fixed UTC offset of 0, where the shift is always zero: ~15 ms of the first zoomed-out frame (the first
    ``QDateTime.timeZone()`` loads the zone database). Its hour filter also compares against the machine's local
    hour, which drops every hourly UTC tick on a machine in a half-hour time zone."""

    def extendTimeRangeForSpacing(self, spacing: int, minVal: float, maxVal: float) -> tuple[float, float]:
        return minVal, maxVal

    def moveTicksToLocalTimeCoords(self, ticks: np.ndarray, spacing: int, skipFactor: int) -> np.ndarray:
        return ticks


class UtcDateAxis(FastAxisMixin, pg.DateAxisItem):
    """pyqtgraph's date axis in UTC whose tick placement is memoised per (range, size).

    ``DateAxisItem.tickValues`` walks a QDateTime time-zone round trip per candidate tick (~0.2 ms each): ~10 ms of a
    zoomed-out frame here, asked twice a frame (the axis and the grid) and again on every frame that did not move.
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(orientation="bottom", utcOffset=0, **kwargs)
        # pyqtgraph's zoom levels are module-level objects shared by every DateAxisItem; ours are UTC-only copies
        self.zoomLevels = OrderedDict(
            (k, _UtcZoomLevel(z.tickSpecs, z.exampleText)) for k, z in self.zoomLevels.items()
        )
        for level in self.zoomLevels.values():
            level.utcOffset = 0
        self._tick_memo: dict[tuple[int, float, float, float], list] = {}

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:
        self.setZoomLevelForDensity((maxVal - minVal) / size)  # cheap, and tickStrings relies on its side effect
        key = (id(self.zoomLevel), minVal, maxVal, self.minSpacing)
        hit = self._tick_memo.get(key)
        if hit is None:
            if len(self._tick_memo) > 8:
                self._tick_memo.clear()
            hit = self._tick_memo[key] = self.zoomLevel.tickValues(minVal, maxVal, minSpc=self.minSpacing)
        return hit


_TICK_MEMO: weakref.WeakKeyDictionary[pg.AxisItem, tuple[tuple[float, float, float], list[float]]] = (
    weakref.WeakKeyDictionary()
)


def _tick_positions(axis: pg.AxisItem, lo: float, hi: float, size: float) -> list[float]:
    """Major and first minor tick values of ``axis`` in [lo, hi], memoised per axis: both panes share the date
    axis, and DateAxisItem.tickValues is slow (a QDateTime round trip per candidate tick)."""
    key = (lo, hi, size)
    hit = _TICK_MEMO.get(axis)
    if hit is not None and hit[0] == key:
        return hit[1]
    values: list[float] = []
    for _spacing, vals in axis.tickValues(lo, hi, size)[:2]:
        values.extend(v for v in vals if lo <= v <= hi)
    _TICK_MEMO[axis] = (key, values)
    return values


class GridLines(QtWidgets.QGraphicsObject):
    """Grid at the axes' tick positions, drawn as one batched ``drawLines`` in the ViewBox's pixel coordinates.

    pyqtgraph's ``showGrid`` has each axis replay grid lines from a QPicture spanning the whole view; at 1600x900
    that cost 7-14 ms a frame here (more than everything else in the chart together), this costs well under 1 ms.
    """

    def __init__(self, view: pg.ViewBox, x_axis: pg.AxisItem, y_axis: pg.AxisItem, color: str) -> None:
        super().__init__(view)
        self._view = view
        self._axes = (x_axis, y_axis)
        for axis in self._axes:
            # DateAxisItem.tickValues() needs the font metrics it otherwise only learns in its first paint
            if not hasattr(axis, "fontMetrics"):
                axis.fontMetrics = QtGui.QFontMetrics(axis.style.get("tickFont") or QtGui.QFont())
        self._pen = QtGui.QPen(QtGui.QColor(color), 1)
        self._pen.setCosmetic(True)
        self._key: tuple[float, ...] | None = None
        self._lines = np.empty((0, 4), dtype=np.float64)
        self._lines_ptr: object | None = None
        self.setZValue(-1000)  # above the ViewBox background, below the plotted items
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemIgnoresParentOpacity)
        view.sigRangeChanged.connect(self._range_changed)
        view.sigResized.connect(self._resized)

    def _range_changed(self, *_args: object) -> None:
        self.update()

    def _resized(self, *_args: object) -> None:
        self.prepareGeometryChange()

    def boundingRect(self) -> QtCore.QRectF:
        return self._view.boundingRect()

    def _ticks(self, axis: pg.AxisItem, lo: float, hi: float, size: float) -> list[float]:
        return _tick_positions(axis, lo, hi, size)

    def paint(self, p: QtGui.QPainter, opt: object, widget: object = None) -> None:
        rect = self._view.boundingRect()
        w, h = rect.width(), rect.height()
        if w <= 0 or h <= 0:
            return
        (x0, x1), (y0, y1) = self._view.viewRange()
        if x1 <= x0 or y1 <= y0:
            return
        key = (x0, x1, y0, y1, w, h)
        if key != self._key:  # tick placement costs ~0.3 ms; a tick-only repaint reuses it
            xs = np.asarray(self._ticks(self._axes[0], x0, x1, w), dtype=np.float64)
            ys = np.asarray(self._ticks(self._axes[1], y0, y1, h), dtype=np.float64)
            px = np.floor((xs - x0) * (w / (x1 - x0))) + 0.5
            py = np.floor((y1 - ys) * (h / (y1 - y0))) + 0.5
            lines = np.empty((len(px) + len(py), 4), dtype=np.float64)
            lines[: len(px), 0] = px
            lines[: len(px), 1] = 0
            lines[: len(px), 2] = px
            lines[: len(px), 3] = h
            lines[len(px) :, 0] = 0
            lines[len(px) :, 1] = py
            lines[len(px) :, 2] = w
            lines[len(px) :, 3] = py
            self._key, self._lines = key, lines
            self._lines_ptr = _ptr(lines, QtCore.QLineF) if len(lines) else None
        if self._lines_ptr is not None:
            p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
            p.setPen(self._pen)
            p.drawLines(self._lines_ptr, len(self._lines))
