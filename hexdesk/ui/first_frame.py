"""The first frame (issue 10.3): the chart the session opens on, painted with QPainter before anything heavy loads.

numpy, pyqtgraph and the engine take longer to import than the whole start may take (about 0.35 s here, of a 0.5 s
budget). So ``hexdesk`` first shows this window: the candles the start-up shell will show (the last
:data:`VISIBLE_BARS` before its replay clock, read by ``market.candle_tail`` with the standard library), drawn where
the chart will be, in the theme, with the price axis, the volume and the last price, and a line saying the session is
opening. It has no controls and takes no input: right after it is painted the app imports the rest and builds the
real window (the start-up shell, ui/shell.py) at the same place and size, and this frame is closed once that
window has painted. A static picture for a few hundred milliseconds, then the live chart over the same candles.

Like the real chart (ui/chart.py; both take their look from ui/chart_look.py): ``VISIBLE_BARS`` slots ending
``RIGHT_MARGIN_BARS`` after the newest candle, the price pane above a volume pane one fifth of the height, the price
axis on the right, the y range fitted to the visible candles.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import QEvent, QEventLoop, QObject, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from hexdesk.market.candle_tail import CandleTail
from hexdesk.ui import theme
from hexdesk.ui.chart_look import PRICE_AXIS_WIDTH as AXIS_W
from hexdesk.ui.chart_look import RIGHT_MARGIN_BARS, VISIBLE_BARS, ChartTheme

__all__ = ["HEAVY_MODULES", "VISIBLE_BARS", "AfterPaint", "FirstFrame", "FramePaint"]

UP, DOWN = ChartTheme().up, ChartTheme().down  # the candle colours (both themes)
TIME_H = 22  # px: the time axis' height
#: What the first frame is painted without (benchmarks/cold_start.py reports any that was loaded anyway).
HEAVY_MODULES = ("numpy", "pyqtgraph", "hexdesk.engine", "hexdesk.service.desk", "sqlalchemy", "sqlmodel", "alembic")
#: The chart's place in a first run's window (after that, the place remembered at close): below the menu, replay
#: bar, account strip and chart toolbar (px from the top), left of the ticket (px), and this share of the height
#: left below the toolbar (the notices and the tables take the rest). tests/ui/test_first_frame.py checks it
#: against the real window's layout.
DEFAULT_CHART_TOP, DEFAULT_TICKET_WIDTH, DEFAULT_CHART_SHARE = 131, 353, 0.62


@dataclass(frozen=True, slots=True)
class FramePaint:
    """The first frame's paint: when (``time.monotonic()``), this process's CPU time then, and which of
    :data:`HEAVY_MODULES` were imported by then (none, unless something imports them too early)."""

    at: float
    cpu: float
    loaded: tuple[str, ...]


class FirstFrame(QWidget):
    """A window painting ``tail``'s candles where the chart is in the window: ``chart_margins`` (left, top, right,
    bottom: the chart's distance from each edge, as the last run left it; None: a first run's layout), in
    the theme ``theme_name`` (None: the current one), with ``note`` above them. ``closed`` is emitted when the
    trader closes it (the app then ends once the journal is open, as when the shell is closed)."""

    closed = Signal()

    def __init__(
        self,
        tail: CandleTail,
        note: str,
        chart_margins: tuple[int, int, int, int] | None = None,
        theme_name: str | None = None,
        price_decimals: int | None = None,
    ) -> None:
        super().__init__()
        self.tail = tail
        self.price_decimals = tail.price_decimals if price_decimals is None else price_decimals
        self.note = note
        self.chart_margins = chart_margins
        self.theme_name = theme_name if theme_name in theme.PALETTES else theme.current_name()
        self.painted: FramePaint | None = None
        self._pending = False
        self._loop: QEventLoop | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setWindowTitle(f"HexDesk — {note}")  # as the shell's window will be titled

    def set_note(self, note: str) -> None:
        """Say something else above the candles (and in the title): the start has moved on."""
        self.note = note
        self.setWindowTitle(f"HexDesk — {note}")
        self.update()

    def wait_painted(self, timeout_ms: int = 3000) -> FramePaint | None:
        """Process events until the first paint is done (at most ``timeout_ms``: a frame that cannot be painted
        must not stop the start)."""
        if self.painted is None:
            self._loop = QEventLoop()
            QTimer.singleShot(timeout_ms, self._loop.quit)
            self._loop.exec()
            self._loop = None
        return self.painted

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closed.emit()
        super().closeEvent(event)

    def chart_area(self) -> QRect:
        """Where the candles go: the remembered margins kept from this window's edges (the chart is what stretches
        with the window), else the first run's layout; at least half the window either way."""
        width, height = self.width(), self.height()
        if self.chart_margins is not None:
            left, top, right, bottom = self.chart_margins
            area = QRect(left, top, width - left - right, height - top - bottom)
            if area.width() >= width // 2 and area.height() >= height // 4 and self.rect().contains(area):
                return area
        top = min(DEFAULT_CHART_TOP, height // 4)
        return QRect(0, top, max(width - DEFAULT_TICKET_WIDTH, width // 2), round((height - top) * DEFAULT_CHART_SHARE))

    def paintEvent(self, event: QPaintEvent) -> None:
        colours, chart = theme.PALETTES[self.theme_name], theme.CHART[self.theme_name]
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(colours["BG"]))
        area = self.chart_area()
        p.fillRect(area, QColor(chart["background"]))
        p.setPen(QColor(colours["ACCENT"]))  # where and as the shell's replay bar says it
        right = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight
        p.drawText(QRect(12, 22, self.width() - 24, 36), right, self.note)
        if len(self.tail):
            _Candles(self.tail, area, chart, self.price_decimals).paint(p)
        p.end()
        if not self._pending:
            self._pending = True
            QTimer.singleShot(0, self._painted)

    def _painted(self) -> None:
        loaded = tuple(m for m in HEAVY_MODULES if m in sys.modules)
        self.painted = FramePaint(time.monotonic(), time.process_time(), loaded)
        if self._loop is not None:
            self._loop.quit()


class _Candles:
    """The chart's panes drawn once: grid, candles, volume, price and time labels, the last price."""

    def __init__(self, tail: CandleTail, area: QRect, colours: dict[str, str], decimals: int) -> None:
        self.tail, self.colours, self.decimals = tail, colours, decimals
        plot = QRectF(area.left(), area.top(), max(area.width() - AXIS_W, 1), max(area.height() - TIME_H, 1))
        self.price = QRectF(plot.left(), plot.top(), plot.width(), plot.height() * 0.8)
        self.volume = QRectF(plot.left(), self.price.bottom(), plot.width(), plot.height() * 0.2)
        self.slot = plot.width() / VISIBLE_BARS
        self.first_slot = VISIBLE_BARS - RIGHT_MARGIN_BARS - 1 - (len(tail) - 1)  # the newest sits 6 from the right
        lo, hi = min(tail.low), max(tail.high)
        pad = (hi - lo) * 0.05 or abs(hi) * 0.001 or 1.0
        self.lo, self.hi = lo - pad, hi + pad
        self.vmax = max(tail.volume) or 1.0

    def x(self, i: int) -> float:
        return self.price.left() + (self.first_slot + i + 0.5) * self.slot

    def y(self, price: float) -> float:
        return self.price.bottom() - (price - self.lo) / (self.hi - self.lo) * self.price.height()

    def paint(self, p: QPainter) -> None:
        p.setFont(QFont(p.font().family(), 8))
        self._grid_and_axis(p)
        t, body = self.tail, max(self.slot * 0.7, 1.0)
        for i in range(len(t)):
            if self.first_slot + i < 0:
                continue
            o, h, low, c = t.open[i], t.high[i], t.low[i], t.close[i]
            colour = QColor(UP if c >= o else DOWN)
            x = self.x(i)
            p.setPen(QPen(colour, 1))
            p.drawLine(QPointF(x, self.y(h)), QPointF(x, self.y(low)))
            top, bottom = self.y(max(o, c)), self.y(min(o, c))
            p.fillRect(QRectF(x - body / 2, top, body, max(bottom - top, 1.0)), colour)
            v = t.volume[i] / self.vmax * self.volume.height() * 0.9
            faded = QColor(colour)
            faded.setAlpha(128)
            p.fillRect(QRectF(x - body / 2, self.volume.bottom() - v, body, v), faded)
        self._last_price(p)

    def _grid_and_axis(self, p: QPainter) -> None:
        grid, text = QColor(self.colours["grid"]), QColor(self.colours["foreground"])
        step = _nice_step((self.hi - self.lo) / max(self.price.height() / 26, 2))  # a label every ~26 px, as the chart
        level = (self.lo // step + 1) * step
        axis_x = self.price.right() + 6
        decimals = max(0, -int(f"{step:e}".split("e")[1]))
        while level < self.hi:
            y = self.y(level)
            p.setPen(grid)
            p.drawLine(QPointF(self.price.left(), y), QPointF(self.price.right(), y))
            p.setPen(text)
            p.drawText(QPointF(axis_x, y + 4), f"{level:.{decimals}f}")
            level += step
        p.setPen(grid)
        p.drawLine(QPointF(self.volume.left(), self.volume.top()), QPointF(self.volume.right(), self.volume.top()))
        every = next((m for m in (15, 30, 60, 120, 240, 480) if m * self.slot >= 70), 1440)  # labels >= 70 px apart
        for i, ms in enumerate(self.tail.open_time_ms):
            if self.first_slot + i < 0 or (ms // 60_000) % every:
                continue
            x = self.x(i)
            p.setPen(grid)
            p.drawLine(QPointF(x, self.price.top()), QPointF(x, self.volume.bottom()))
            p.setPen(text)
            label = datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M")
            p.drawText(QRectF(x - 30, self.volume.bottom() + 2, 60, TIME_H - 4), Qt.AlignmentFlag.AlignCenter, label)

    def _last_price(self, p: QPainter) -> None:
        close, last_open = self.tail.close[-1], self.tail.open[-1]
        colour = QColor(UP if close >= last_open else DOWN)
        y = self.y(close)
        p.setPen(QPen(colour, 1, Qt.PenStyle.DashLine))
        p.drawLine(QPointF(self.price.left(), y), QPointF(self.price.right(), y))
        text = f"{close:,.{self.decimals}f}"
        width = p.fontMetrics().horizontalAdvance(text) + 8
        tag = QRectF(self.price.right() - width, y - 9, width, 18)  # inside the plot, at its right edge, as the chart
        p.fillRect(tag, colour)
        p.setPen(QColor("#ffffff"))
        p.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``raw``: the price axis' tick spacing."""
    if raw <= 0:
        return 1.0
    power = 10 ** int(f"{raw:e}".split("e")[1])
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


class AfterPaint(QObject):
    """Calls ``then`` once, on the event loop's turn after ``widget``'s first paint (the window that replaces the
    first frame is on screen), or after ``timeout_ms`` if it is never painted (hidden): without blocking."""

    def __init__(self, widget: QWidget, then: Callable[[], None], timeout_ms: int = 3000) -> None:
        super().__init__(widget)
        self._widget, self._then, self._done = widget, then, False
        widget.installEventFilter(self)
        QTimer.singleShot(timeout_ms, self, self._call)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self._widget and event.type() == QEvent.Type.Paint:
            self._widget.removeEventFilter(self)
            QTimer.singleShot(0, self, self._call)
        return False

    def _call(self) -> None:
        if not self._done:
            self._done = True
            self._then()
