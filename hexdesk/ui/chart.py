"""``CandleChart``: a dark, TradingView-like candlestick chart with a volume pane, fast at 200k candles.

Data comes in as numpy float arrays (the caller converts from ``Decimal``); times are candle open times in UNIX
seconds, UTC. The history is one cached :class:`~hexdesk.ui.chart_items.BarsItem`; the forming candle is its own
one-bar item updated in place, so a tick never re-prepares the history. Nothing here forces a synchronous repaint:
items call ``update()`` and Qt coalesces any number of ticks into one paint per frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import numpy as np

from hexdesk.ui.chart_items import BarLevels, BarsItem, GridLines, PriceAxis, UtcDateAxis, merge_bars
from hexdesk.ui.chart_look import PRICE_AXIS_WIDTH, RIGHT_MARGIN_BARS, VISIBLE_BARS, ChartTheme
from hexdesk.ui.chart_tags import CornerText, PriceTag, place_tags
from hexdesk.ui.qt_compat import QtCore, QtGui, QtWidgets, pg  # pyqtgraph pinned to PySide6

__all__ = ["LAST_PRICE_KEY", "Candle", "CandleChart", "ChartTheme", "Marker", "merge_bars"]

LineStyle = Literal["solid", "dash"]
MarkerKind = Literal["buy", "sell", "liquidation"]


@dataclass(frozen=True, slots=True)
class Marker:
    """A point on the price pane: a fill (buy / sell arrow) or a liquidation, at its time (s) and price."""

    t: float
    price: float
    kind: MarkerKind
    tip: str = ""


@dataclass(frozen=True, slots=True)
class _LineSpec:
    """What a price line currently shows, to touch only what changed on the next set_price_line."""

    color: str
    fmt: str
    style: str


@dataclass(frozen=True, slots=True)
class Candle:
    """One candle as floats (display only)."""

    t: float
    o: float
    h: float
    l: float  # noqa: E741
    c: float
    v: float


def _qcolor_rgba(hex_rgba: str) -> QtGui.QColor:
    """``#RRGGBBAA`` (CSS order) to QColor; Qt's own parser reads 8 hex digits as ``#AARRGGBB``."""
    s = hex_rgba.lstrip("#")
    if len(s) == 8:
        return QtGui.QColor(int(s[0:2], 16), int(s[2:4], 16), int(s[4:6], 16), int(s[6:8], 16))
    return QtGui.QColor(hex_rgba)


def _text_color_for(fill: QtGui.QColor) -> QtGui.QColor:
    """Black or white text, whichever reads better on ``fill`` (axis-tag style labels)."""
    lum = 0.299 * fill.red() + 0.587 * fill.green() + 0.114 * fill.blue()
    return QtGui.QColor("#000000" if lum > 150 else "#ffffff")


class PriceLine(pg.InfiniteLine):
    """An InfiniteLine that never asks its ViewBox to re-fit.

    Price lines and the crosshair are added with ``ignoreBounds``, yet pyqtgraph still reports every move of an
    item to its ViewBox, which queues an auto-range and repaints the whole pane: a tick that moved the last-price
    line, or a mouse move that moved the crosshair, repainted every candle. Moving this line repaints only the
    strips it left and entered.
    """

    def informViewBoundsChanged(self) -> None:
        return


class _Pane:
    """A ViewBox and its axes: the part of ``PlotItem``'s interface the chart uses, without building a PlotItem."""

    __slots__ = ("axes", "view")

    def __init__(self, view: pg.ViewBox, axes: dict[str, pg.AxisItem]) -> None:
        self.view = view
        self.axes = axes

    def getViewBox(self) -> pg.ViewBox:
        return self.view

    def getAxis(self, name: str) -> pg.AxisItem:
        return self.axes[name]

    def addItem(self, item: QtWidgets.QGraphicsItem, ignoreBounds: bool = False) -> None:
        self.view.addItem(item, ignoreBounds=ignoreBounds)

    def removeItem(self, item: QtWidgets.QGraphicsItem) -> None:
        self.view.removeItem(item)


LAST_PRICE_KEY = "__last__"  # the set_last_price line in price_line()/price_line_keys()


class CandleChart(QtWidgets.QWidget):
    """Price pane (candles, right price axis, price lines) over a linked volume pane, with crosshair and follow mode.

    Follow mode: while the newest candle is inside the visible x range the view scrolls with new candles (keeping
    the visible bar count); once the user pans it out of view, following stops until it is visible again or
    :meth:`scroll_to_end` is called.
    """

    following_changed = QtCore.Signal(bool)

    def __init__(
        self,
        parent: QtWidgets.QWidget | None = None,
        *,
        theme: ChartTheme | None = None,
        price_decimals: int = 2,
        volume_decimals: int = 3,
        visible_bars: int = VISIBLE_BARS,
        right_margin_bars: int = RIGHT_MARGIN_BARS,
    ) -> None:
        super().__init__(parent)
        self.theme = theme or ChartTheme()
        self._price_decimals = price_decimals
        self._volume_decimals = volume_decimals
        self._default_visible_bars = visible_bars
        self._right_margin_bars = right_margin_bars
        self._interval: float | None = None
        self._following = True
        self._shifting = False
        self.show_last_price = True

        th = self.theme
        self._glw = pg.GraphicsLayoutWidget()
        self._glw.setBackground(th.background)
        # pyqtgraph caches the view's background as a pixmap; for a plain colour a fill is cheaper than blitting the
        # cached pixmap into every repainted region (~0.15 ms of a tick's frame here)
        self._glw.setCacheMode(QtWidgets.QGraphicsView.CacheModeFlag.CacheNone)
        self._glw.ci.layout.setContentsMargins(0, 0, 0, 0)
        self._glw.ci.layout.setVerticalSpacing(0)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._glw)

        self._date_axis = UtcDateAxis()
        self._price_plot = self._make_plot(0, None)
        self._volume_plot = self._make_plot(1, self._date_axis)
        self._grids = [
            GridLines(self.price_view, self._date_axis, self._price_plot.getAxis("right"), th.grid),
            GridLines(self.volume_view, self._date_axis, self._volume_plot.getAxis("right"), th.grid),
        ]
        self._glw.ci.layout.setRowStretchFactor(0, 4)
        self._glw.ci.layout.setRowStretchFactor(1, 1)
        self._glw.ci.layout.setRowStretchFactor(2, 0)
        self._glw.ci.layout.setHorizontalSpacing(0)
        self.price_view.setXLink(self._volume_plot.getViewBox())  # volume follows price (x) and vice versa

        self._hist = BarLevels()
        self._form = BarLevels()
        self._candles = BarsItem(self._hist, "candle", th.up, th.down)
        self._forming_candle = BarsItem(self._form, "candle", th.up, th.down, merge=False, pad_px=2)
        self._volume = BarsItem(self._hist, "volume", _qcolor_rgba(th.volume_up), _qcolor_rgba(th.volume_down))
        self._forming_volume = BarsItem(
            self._form, "volume", _qcolor_rgba(th.volume_up), _qcolor_rgba(th.volume_down), merge=False, pad_px=2
        )
        self._price_plot.addItem(self._candles)
        self._price_plot.addItem(self._forming_candle)
        self._volume_plot.addItem(self._volume)
        self._volume_plot.addItem(self._forming_volume)

        self._price_lines: dict[str, pg.InfiniteLine] = {}
        self._line_specs: dict[str, _LineSpec | None] = {}
        # Text labels (last price, corner O H L C V) are refreshed once per event-loop pass, not once per tick:
        # setting QGraphicsTextItem text is the most expensive part of a tick.
        self._labels_timer = QtCore.QTimer(self)
        self._labels_timer.setSingleShot(True)
        self._labels_timer.setInterval(0)
        self._labels_timer.timeout.connect(self._flush_labels)
        # set_history adopts the caller's arrays; the copy into the chart's own growable buffer (tens of ms at a
        # million candles) starts once the first frame is on screen and goes in ~1 ms slices between frames.
        self._own_timer = QtCore.QTimer(self)
        self._own_timer.setSingleShot(True)
        self._own_timer.setInterval(250)
        self._own_timer.timeout.connect(self._own_history)
        self._setup_crosshair()
        self.price_view.sigXRangeChanged.connect(self._on_x_range_changed)
        # A line outside the visible prices (a far liquidation price) is announced at the edge it lies beyond,
        # so a trader always sees where it is without the candles being squashed to fit it.
        self._edge_labels = {edge: pg.TextItem(anchor=(1, 0 if edge == "top" else 1)) for edge in ("top", "bottom")}
        for item in self._edge_labels.values():
            item.setZValue(6)
            item.setVisible(False)
            self._price_plot.addItem(item, ignoreBounds=True)
        self.price_view.sigRangeChanged.connect(self._place_edge_labels)
        self.price_view.sigRangeChanged.connect(self._y_range_changed)
        self.price_view.sigResized.connect(self._place_tags)
        self._markers: list[Marker] = []
        self._marker_items = {
            "buy": pg.ScatterPlotItem(symbol="arrow_up", size=13, pen=pg.mkPen("#0e1117"), brush=pg.mkBrush(th.up)),
            "sell": pg.ScatterPlotItem(
                symbol="arrow_down", size=13, pen=pg.mkPen("#0e1117"), brush=pg.mkBrush(th.down)
            ),
            "liquidation": pg.ScatterPlotItem(
                symbol="x", size=18, pen=pg.mkPen("#0e1117"), brush=pg.mkBrush(th.liquidation)
            ),
        }
        for item in self._marker_items.values():
            item.setZValue(7)
            self._price_plot.addItem(item, ignoreBounds=True)

    # ---- construction helpers ------------------------------------------------------------------------------

    def _make_plot(self, row: int, date_axis: UtcDateAxis | None) -> _Pane:
        """A pane: a ViewBox with the price axis on its right, straight in the widget's grid (column 0 the view,
        column 1 the axis). Only the bottom pane gets the (UTC) date axis, in the row under it; the upper pane's
        vertical grid reuses its ticks, since laying out date ticks is the costliest part of a pan frame.

        No ``PlotItem``: it builds four axes, a title, an auto-range button and a context menu (~6.6 ms each here,
        a quarter of creating the chart) for a pane that shows one axis and no menu."""
        th = self.theme
        axis_pen = pg.mkPen(th.foreground)
        vb = pg.ViewBox(enableMenu=False, defaultPadding=0.05)
        right = PriceAxis(orientation="right")
        axes = [right] if date_axis is None else [right, date_axis]
        grid = self._glw.ci
        grid.addItem(vb, row=row, col=0)
        grid.addItem(right, row=row, col=1)
        if date_axis is not None:
            grid.addItem(date_axis, row=row + 1, col=0)
        for ax in axes:
            ax.linkToView(vb)
            ax.setZValue(0.5)  # as PlotItem: above the pane's items at z 0, under what wants to draw over it
            ax.setPen(axis_pen)
            ax.setTextPen(axis_pen)
            # no axis shows a unit label; the SI-prefix bookkeeping would re-set the (empty) label's HTML on every
            # range change, i.e. on every new candle while following (~0.1 ms each)
            ax.enableAutoSIPrefix(False)
            # A tick's repaint region (the last-price strip, its tag) grazes the axis; replaying its QPicture of
            # tick labels each time costs ~0.15 ms, blitting a cached pixmap next to nothing. The cache follows
            # the axis's own update() calls (range, pen, size changes).
            ax.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        right.setWidth(PRICE_AXIS_WIDTH)
        vb.setMouseEnabled(x=True, y=False)  # wheel/drag move time only; y keeps auto-fitting the visible candles
        vb.enableAutoRange(x=False, y=True)
        vb.setAutoVisible(y=True)
        return _Pane(vb, {"right": right, **({"bottom": date_axis} if date_axis is not None else {})})

    def axes(self) -> list[pg.AxisItem]:
        """Every axis shown (the price axes of both panes, the date axis): what a theme recolours."""
        return [*self._price_plot.axes.values(), *self._volume_plot.axes.values()]

    def _setup_crosshair(self) -> None:
        th = self.theme
        pen = pg.mkPen(th.crosshair, width=1, style=QtCore.Qt.PenStyle.DashLine)
        self._cross_v = PriceLine(angle=90, movable=False, pen=pen)
        self._cross_vv = PriceLine(angle=90, movable=False, pen=pen)
        self._cross_h = PriceLine(
            angle=0,
            movable=False,
            pen=pen,
            label=f"{{value:,.{self._price_decimals}f}}",
            labelOpts={"position": 1.0, "anchors": [(1, 0.5), (1, 0.5)], "color": "#ffffff", "fill": "#363a45"},
        )
        self._price_plot.addItem(self._cross_v, ignoreBounds=True)
        self._price_plot.addItem(self._cross_h, ignoreBounds=True)
        self._volume_plot.addItem(self._cross_vv, ignoreBounds=True)
        self._ohlc_label = CornerText(self.price_view, th.label_text)  # view-local pixels: the top-left corner
        self._ohlc_label.setPos(0, 2)
        self._hide_crosshair()
        self._glw.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._glw.viewport().installEventFilter(self)

    # ---- public API: data ----------------------------------------------------------------------------------

    @property
    def price_view(self) -> pg.ViewBox:
        return self._price_plot.getViewBox()

    @property
    def volume_view(self) -> pg.ViewBox:
        return self._volume_plot.getViewBox()

    @property
    def history_item(self) -> BarsItem:
        """The cached history item (exposed for tests and benchmarks: ``prepare_count``, ``last_drawn_bars``)."""
        return self._candles

    @property
    def forming_item(self) -> BarsItem:
        """The one-candle item a tick updates (``paint_count`` shows ticks coalescing into frames)."""
        return self._forming_candle

    @property
    def history_levels(self) -> BarLevels:
        return self._hist

    @property
    def interval(self) -> float | None:
        return self._interval

    def set_interval(self, seconds: float) -> None:
        """Candle length in seconds; sets each bar's time slot (and therefore widths and merging)."""
        if seconds <= 0:
            raise ValueError(f"interval must be positive, got {seconds}")
        self._interval = float(seconds)
        for item in (self._candles, self._forming_candle, self._volume, self._forming_volume):
            item.set_interval(seconds)

    @property
    def price_decimals(self) -> int:
        return self._price_decimals

    def set_price_decimals(self, decimals: int) -> None:
        """Decimals shown for prices (the symbol's tick size); re-labels the crosshair and price-only lines."""
        self._price_decimals = decimals
        fmt = f"{{value:,.{decimals}f}}"
        self._cross_h.label.setFormat(fmt)
        for key, spec in self._line_specs.items():
            if spec is not None and spec.fmt.startswith("{value:"):
                self._price_lines[key].label.setFormat(fmt)
                self._line_specs[key] = _LineSpec(spec.color, fmt, spec.style)
        self._refresh_corner_label()

    def set_history(
        self, t_s: np.ndarray, o: np.ndarray, h: np.ndarray, l: np.ndarray, c: np.ndarray, v: np.ndarray  # noqa: E741
    ) -> None:
        """Replace all candles. The last one becomes the forming candle (a later ``update_forming`` with its time
        replaces it, a later time appends). The interval is inferred from the times if not set yet.

        Float64 arrays are adopted without a copy (a million candles load in a few ms): do not modify them
        afterwards. The chart copies them into its own growable buffer a moment after the first frame (or on the
        first closed candle, if that comes first)."""
        arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (t_s, o, h, l, c, v)]
        n = len(arrays[0])
        if any(len(a) != n for a in arrays):
            raise ValueError("t_s, o, h, l, c and v must have the same length")
        if n > 1 and not np.all(arrays[0][1:] > arrays[0][:-1]):
            raise ValueError("candle times must be strictly increasing")
        if self._interval is None and n > 1:
            self.set_interval(float(np.median(np.diff(arrays[0][:1001]))))  # a sample is plenty
        elif self._interval is None:
            self.set_interval(60.0)
        if n == 0:
            self._hist.clear()
            self._form.clear()
        else:
            self._hist.set(*(a[:-1] for a in arrays))
            self._form.set(*(a[-1:] for a in arrays))
            self._form.base.own()  # one bar: it is replaced by every tick
            self._own_timer.start(250)
        for item in (self._candles, self._forming_candle, self._volume, self._forming_volume):
            item.data_changed()
        self.scroll_to_end(self._default_visible_bars)
        self._flush_labels()

    def update_forming(self, t_s: float, o: float, h: float, l: float, c: float, v: float) -> None:  # noqa: E741
        """Live tick for the newest candle: same open time replaces it in place, a later one closes it into the
        history (an O(1) append, no history rebuild) and starts a new one. A tick for the candle just closed
        (its final update arriving late) corrects it in place; anything older is rejected."""
        bar = (float(t_s), float(o), float(h), float(l), float(c), float(v))
        if self._interval is None:
            self.set_interval(60.0)
        if len(self._form) == 0:
            if len(self._hist) and bar[0] <= self._hist.base.t[-1]:
                raise ValueError(f"forming candle time {t_s} is not after the history's last candle")
            self._form.append(bar)
            self._forming_changed()
            if len(self._hist) == 0:
                self.scroll_to_end(self._default_visible_bars)
            return
        cur_t = float(self._form.base.t[0])
        if bar[0] == cur_t:
            self._form.replace_last(bar)
            self._forming_changed()
        elif bar[0] > cur_t:
            self._hist.append(self._form.base.row(0))
            self._form.replace_last(bar)
            self._candles.data_changed()
            self._volume.data_changed()
            self._forming_changed()
            if self._following:
                self._shift_x(bar[0] - cur_t)
        elif len(self._hist) and bar[0] == self._hist.base.t[-1]:
            self._hist.replace_last(bar)
            self._candles.data_changed()
            self._volume.data_changed()
        else:
            raise ValueError(f"candle time {t_s} is older than the forming candle ({cur_t})")

    def _own_history(self) -> None:
        """One idle-time slice of the history copy (~1 ms), until it is the chart's own; then one level of the
        level-of-detail pyramid per pass (<= ~3 ms at a million candles), so zooming out finds them built."""
        if not self._hist.base.own(65_536) or not self._hist.warm():
            self._own_timer.start(0)

    def _forming_changed(self) -> None:
        self._forming_candle.data_changed()
        self._forming_volume.data_changed()
        if not self._labels_timer.isActive():
            self._labels_timer.start()

    def flush_labels(self) -> None:
        """Bring the last-price line and the corner label up to the newest tick now (a frame-driven owner calls
        this once a frame; left alone, the chart does it on the next idle turn of the event loop)."""
        self._flush_labels()

    def _flush_labels(self) -> None:
        """Apply the deferred last-price line and corner label for the latest tick (also called by readers)."""
        self._labels_timer.stop()
        self._update_last_price_from_forming()
        if not self._cross_v.isVisible():
            self._refresh_corner_label()

    @property
    def candle_count(self) -> int:
        """History plus the forming candle."""
        return len(self._hist) + len(self._form)

    def candle_at_index(self, i: int) -> Candle:
        """Candle ``i`` (negative counts from the newest, the forming one being ``-1``)."""
        n = self.candle_count
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        src, j = (self._hist.base, i) if i < len(self._hist) else (self._form.base, 0)
        return Candle(*(float(x) for x in (src.t[j], src.o[j], src.h[j], src.l[j], src.c[j], src.v[j])))

    def candle_at_time(self, x: float) -> Candle | None:
        """The candle whose slot ``[t, t + interval)`` contains ``x`` (what the crosshair is over), or None."""
        iv = self._interval or 0.0
        for store in (self._form.base, self._hist.base):
            if len(store) == 0:
                continue
            j = int(np.searchsorted(store.t, x, "right")) - 1
            if j >= 0 and store.t[j] <= x < store.t[j] + iv:
                return Candle(*(float(a[j]) for a in (store.t, store.o, store.h, store.l, store.c, store.v)))
        return None

    # ---- public API: price lines ---------------------------------------------------------------------------

    def format_price(self, price: float) -> str:
        return f"{price:,.{self._price_decimals}f}"

    def set_price_line(
        self, key: str, price: float | None, color: str, label: str = "", style: LineStyle = "dash"
    ) -> None:
        """Add, move or (``price=None``) remove a horizontal line labelled on the right edge, TradingView style.

        ``label`` is shown as given (e.g. "Long 0.100 @ 84,950.0"); empty shows the line's price, kept up to date as
        it moves. Lines never take part in y auto-range, so a far liquidation price does not squash the candles.
        Only what changed is touched: moving a line is a ``setValue``, which matters for the last-price line.
        """
        line = self._price_lines.get(key)
        if price is None:
            if line is not None:
                self._price_plot.removeItem(line)
                tag = line.label
                tag.setParentItem(None)
                if tag.scene() is not None:
                    tag.scene().removeItem(tag)
                del self._price_lines[key]
                del self._line_specs[key]
                self._place_edge_labels()
                self._place_tags()
            return
        fmt = label.replace("{", "{{").replace("}", "}}") if label else f"{{value:,.{self._price_decimals}f}}"
        spec = _LineSpec(color, fmt, style)
        if line is None:
            line = PriceLine(pos=price, angle=0, movable=False)
            line.label = PriceTag(line, self.price_view, fmt, self._place_tags)
            line.setZValue(5)
            self._price_plot.addItem(line, ignoreBounds=True)
            self._price_lines[key] = line
            self._line_specs[key] = None
        elif float(line.value()) != price:
            line.setValue(price)  # the tag follows (and every tag is re-placed)
        old = self._line_specs[key]
        if old is None or old.color != color or old.style != style:
            qcolor = QtGui.QColor(color)
            dash = QtCore.Qt.PenStyle.SolidLine if style == "solid" else QtCore.Qt.PenStyle.DashLine
            line.setPen(pg.mkPen(qcolor, width=1, style=dash))
            line.label.set_fill(pg.mkBrush(qcolor))
            line.label.setColor(_text_color_for(qcolor))
        if old is None or old.fmt != fmt:
            line.label.setFormat(fmt)
        self._line_specs[key] = spec
        if key != LAST_PRICE_KEY:
            self._place_edge_labels()

    def _y_range_changed(self, _vb: object, _range: object, changed: list[bool] | None = None) -> None:
        """Tags sit at their prices: only a y change (or a resize) moves them, not the x scroll of a new candle."""
        if changed is None or changed[1]:
            self._place_tags()

    def _place_tags(self, *_: object) -> None:
        """Put every price line's tag at the right edge on its line, the last price first; a tag that would overlap
        one already placed moves left beside it (``chart_tags.place_tags``). Lines outside the visible prices have
        no tag (the edge labels announce them)."""
        vb = self.price_view
        (_, _), (y0, y1) = vb.viewRange()
        height, width = vb.height(), vb.width()
        keys = sorted(self._price_lines, key=lambda k: k != LAST_PRICE_KEY)  # stable: then in insertion order
        sizes: list[tuple[float, float] | None] = []
        centres: list[float] = []
        for key in keys:
            line = self._price_lines[key]
            value = float(line.value())
            if height <= 0 or y1 <= y0 or not y0 <= value <= y1:
                sizes.append(None)
                centres.append(0.0)
            else:
                sizes.append(line.label.size())
                centres.append((y1 - value) / (y1 - y0) * height)
        for key, rect in zip(keys, place_tags(sizes, centres, width), strict=True):
            self._price_lines[key].label.set_rect(rect)

    def tag_rects(self) -> dict[str, QtCore.QRectF]:
        """Scene rectangles of the price tags shown, by line key (tests check that none overlap)."""
        self._flush_labels()
        return {k: line.label.scene_rect() for k, line in self._price_lines.items() if line.label.isVisible()}

    def offscreen_lines(self) -> dict[str, list[str]]:
        """Keys of the price lines above ("top") and below ("bottom") the visible price range."""
        (_, _), (y0, y1) = self.price_view.viewRange()
        out: dict[str, list[str]] = {"top": [], "bottom": []}
        for key, line in self._price_lines.items():
            value = float(line.value())
            if value > y1:
                out["top"].append(key)
            elif value < y0:
                out["bottom"].append(key)
        return out

    def _place_edge_labels(self, *_: object) -> None:
        (_, x1), (y0, y1) = self.price_view.viewRange()
        for edge, keys in self.offscreen_lines().items():
            item = self._edge_labels[edge]
            keys = [k for k in keys if k != LAST_PRICE_KEY]
            if not keys:
                item.setVisible(False)
                continue
            arrow = "&#9650;" if edge == "top" else "&#9660;"
            parts = []
            for key in keys:
                line = self._price_lines[key]
                spec = self._line_specs[key]
                color = spec.color if spec is not None else self.theme.foreground
                parts.append(f'<span style="color:{color}">{arrow} {line.label.toPlainText()}</span>')
            item.setHtml("&nbsp;&nbsp;".join(parts))
            item.setPos(x1, y1 if edge == "top" else y0)
            item.setVisible(True)

    def price_line(self, key: str) -> tuple[float, str] | None:
        """(price, label text) of a line, or None: lets callers and tests check what is shown."""
        self._flush_labels()
        line = self._price_lines.get(key)
        if line is None:
            return None
        return float(line.value()), line.label.toPlainText()

    def line_item(self, key: str) -> pg.InfiniteLine | None:
        """The line item shown for ``key`` (chart_context.py makes order lines draggable through it)."""
        return self._price_lines.get(key)

    def price_line_keys(self) -> list[str]:
        self._flush_labels()
        return list(self._price_lines)

    def set_last_price(self, price: float | None, up: bool = True) -> None:
        """The last-price line (dashed, up/down colour, price as label). ``update_forming`` calls it with the
        forming close while ``show_last_price`` is true; call it directly to show e.g. the mark price instead."""
        self.set_price_line(LAST_PRICE_KEY, price, self.theme.up if up else self.theme.down, "", "dash")

    def _update_last_price_from_forming(self) -> None:
        if self.show_last_price and len(self._form):
            b = self._form.base
            self.set_last_price(float(b.c[0]), bool(b.c[0] >= b.o[0]))

    # ---- public API: markers -------------------------------------------------------------------------------

    def set_markers(self, markers: list[Marker]) -> None:
        """Show exactly these fill and liquidation markers (buy arrows up, sell arrows down, liquidations as a
        large orange cross); unchanged markers cost nothing."""
        if markers == self._markers:
            return
        self._markers = list(markers)
        for kind, item in self._marker_items.items():
            mine = [m for m in markers if m.kind == kind]
            item.setData(
                x=np.array([m.t for m in mine], dtype=np.float64),
                y=np.array([m.price for m in mine], dtype=np.float64),
                data=[m.tip for m in mine],
            )

    def markers(self) -> list[Marker]:
        """The markers shown (for callers and tests)."""
        return list(self._markers)

    # ---- public API: view ----------------------------------------------------------------------------------

    @property
    def is_following(self) -> bool:
        return self._following

    def _newest_time(self) -> float | None:
        if len(self._form):
            return float(self._form.base.t[0])
        if len(self._hist):
            return float(self._hist.base.t[-1])
        return None

    def visible_bar_count(self) -> float:
        (x0, x1), _ = self.price_view.viewRange()
        return (x1 - x0) / (self._interval or 60.0)

    def scroll_to_end(self, bars: int | None = None) -> None:
        """Show the newest candle at the right (with a small margin), keeping ``bars`` visible (default: the current
        count), and resume following."""
        newest = self._newest_time()
        iv = self._interval or 60.0
        if newest is None:
            return
        count = bars if bars is not None else max(self.visible_bar_count(), 10.0)
        right = newest + iv * (1 + self._right_margin_bars)
        self._shifting = True
        try:
            self.price_view.setXRange(right - count * iv, right, padding=0)
        finally:
            self._shifting = False
        self._set_following(True)

    def _shift_x(self, dt: float) -> None:
        (x0, x1), _ = self.price_view.viewRange()
        self._shifting = True
        try:
            self.price_view.setXRange(x0 + dt, x1 + dt, padding=0)
        finally:
            self._shifting = False

    def _on_x_range_changed(self, _vb: object, rng: tuple[float, float]) -> None:
        # pyqtgraph refits auto-visible y on an x change only when x itself auto-ranges (ours never does), so ask
        # for the (deferred, once per frame) refit here.
        self.price_view.queueUpdateAutoRange()
        self.volume_view.queueUpdateAutoRange()
        if self._shifting:
            return
        newest = self._newest_time()
        if newest is None:
            return
        self._set_following(bool(rng[0] <= newest < rng[1]))

    def _set_following(self, value: bool) -> None:
        if value != self._following:
            self._following = value
            self.following_changed.emit(value)

    # ---- crosshair -----------------------------------------------------------------------------------------

    def _fmt_time(self, t: float) -> str:
        dt = datetime.fromtimestamp(t, UTC)
        if (self._interval or 0) >= 86_400:
            return dt.strftime("%Y-%m-%d")
        return dt.strftime("%Y-%m-%d %H:%M")

    def crosshair_text(self, x: float) -> str:
        """Corner label for the candle under time ``x``: "2025-03-01 12:00  O … H … L … C … V … +0.12%"."""
        cd = self.candle_at_time(x)
        if cd is None:
            return ""
        f = self.format_price
        change = (cd.c - cd.o) / cd.o * 100 if cd.o else 0.0
        return (
            f"{self._fmt_time(cd.t)}  O {f(cd.o)}  H {f(cd.h)}  L {f(cd.l)}  C {f(cd.c)}  "
            f"V {cd.v:,.{self._volume_decimals}f}  {change:+.2f}%"
        )

    def set_crosshair(self, x: float, y: float | None) -> None:
        """Put the crosshair at view coordinates (time ``x``, price ``y``; None when over the volume pane) and show
        that candle's O H L C V in the corner."""
        for line in (self._cross_v, self._cross_vv):
            line.setValue(x)
            line.show()
        if y is None:
            self._cross_h.hide()
        else:
            self._cross_h.show()  # first: a hidden line's label ignores the move and kept showing 0.00
            self._cross_h.setValue(y)
        self._set_corner_text(self.crosshair_text(x))

    def _hide_crosshair(self) -> None:
        for line in (self._cross_v, self._cross_vv, self._cross_h):
            line.hide()
        self._refresh_corner_label()

    def _refresh_corner_label(self) -> None:
        newest = self._newest_time()
        self._set_corner_text("" if newest is None else self.crosshair_text(newest))

    def _set_corner_text(self, text: str) -> None:
        self._ohlc_label.setText(text)

    def corner_text(self) -> str:
        self._flush_labels()
        return self._ohlc_label.toPlainText()

    def _on_mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        pvb, vvb = self.price_view, self.volume_view
        if pvb.sceneBoundingRect().contains(scene_pos):
            p = pvb.mapSceneToView(scene_pos)
            self.set_crosshair(p.x(), p.y())
        elif vvb.sceneBoundingRect().contains(scene_pos):
            self.set_crosshair(vvb.mapSceneToView(scene_pos).x(), None)
        else:
            self._hide_crosshair()

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.Leave:
            self._hide_crosshair()
        return super().eventFilter(obj, event)
