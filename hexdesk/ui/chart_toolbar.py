"""Above the chart: the symbol and timeframe selectors, and the 1-minute -> timeframe aggregation the chart shows.

The engine works on 1-minute ticks whatever the chart shows: the desk's history is 1-minute candles and each tick
carries its forming 1-minute candle. The chart's candles of a longer timeframe are those minutes aggregated on
Binance's UTC boundaries (a 5m candle opens at a multiple of 5 minutes since the epoch; ``hexdesk.market.candles.
aggregate`` for the history), and the forming candle of the timeframe is the bucket's closed minutes folded with the
minute forming now (:class:`FormingAggregator`), so switching never leaves a hole and the newest candle moves with
every tick.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from hexdesk.market.candles import INTERVAL_MS, CandleSeries, aggregate

__all__ = ["TIMEFRAMES", "Bar", "ChartToolbar", "FormingAggregator", "chart_series"]

TIMEFRAMES = ("1m", "3m", "5m", "15m", "1h", "4h", "1d")
"""The chart's timeframes (Binance's interval names)."""


@dataclass(frozen=True, slots=True)
class Bar:
    """One candle as the chart draws it (open time in ms, floats)."""

    t_ms: int
    o: float
    h: float
    l: float  # noqa: E741
    c: float
    v: float


def _fold(a: Bar | None, b: Bar, t_ms: int) -> Bar:
    """``a`` followed by ``b`` as one candle opening at ``t_ms``: first open, extremes, last close, summed volume."""
    if a is None:
        return Bar(t_ms, b.o, b.h, b.l, b.c, b.v)
    return Bar(t_ms, a.o, max(a.h, b.h), min(a.l, b.l), b.c, a.v + b.v)


def chart_series(minutes: CandleSeries, timeframe: str) -> CandleSeries:
    """The closed 1-minute history as ``timeframe`` candles (the newest may be a bucket still filling)."""
    return aggregate(minutes, timeframe) if timeframe != minutes.interval else minutes


class FormingAggregator:
    """Turns forming 1-minute candles into the forming candle of the chart's timeframe, O(1) a tick.

    :meth:`seed` takes the minutes already closed in the newest bucket (from the history); :meth:`add` takes each
    1-minute candle as ticks update it and returns the bucket's candle so far (None for a minute older than the
    one being built)."""

    def __init__(self, timeframe: str) -> None:
        self.timeframe = timeframe
        self.bucket_ms = INTERVAL_MS[timeframe]
        self._bucket: int | None = None
        self._closed: Bar | None = None  # the bucket's minutes before the current one, folded
        self._minute: Bar | None = None  # the current minute, as last seen

    def seed(self, minutes: CandleSeries) -> None:
        """Start from the newest bucket of ``minutes`` (closed 1-minute candles)."""
        self._bucket = self._closed = self._minute = None
        n = len(minutes)
        if not n:
            return
        t = minutes.open_time_ms
        bucket = int(t[-1]) // self.bucket_ms * self.bucket_ms
        first = minutes.index_at(bucket)
        self._bucket = bucket
        for i in range(first, n):
            self.add(_bar(minutes, i))

    def add(self, minute: Bar) -> Bar | None:
        bucket = minute.t_ms // self.bucket_ms * self.bucket_ms
        if self._bucket is None or bucket > self._bucket:
            self._bucket, self._closed, self._minute = bucket, None, minute
        elif bucket < self._bucket or (self._minute is not None and minute.t_ms < self._minute.t_ms):
            return None  # older than what is being built: the history already holds it
        elif self._minute is None or minute.t_ms == self._minute.t_ms:
            self._minute = minute
        else:  # a newer minute of the same bucket: the previous one is final
            self._closed = _fold(self._closed, self._minute, bucket)
            self._minute = minute
        return _fold(self._closed, self._minute, bucket)


def _bar(s: CandleSeries, i: int) -> Bar:
    return Bar(int(s.open_time_ms[i]), float(s.open[i]), float(s.high[i]), float(s.low[i]), float(s.close[i]),
               float(s.volume[i]))  # fmt: skip


class ChartToolbar(QWidget):
    """Symbol selector and timeframe buttons. Emits ``symbolChosen`` / ``timeframeChosen`` on the user's choice;
    :meth:`show_symbol` / :meth:`show_timeframe` reflect a change made elsewhere without emitting."""

    symbolChosen = Signal(str)
    timeframeChosen = Signal(str)

    def __init__(self, symbols: Sequence[str], timeframe: str = "1m", parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="chartToolbar")
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        row.setSpacing(2)  # the toolbar must not be wider than the chart's 400-pixel minimum (an 800-wide window)
        self.symbolInput = QComboBox(objectName="chartSymbol")
        self.symbolInput.addItems(list(symbols))
        self.symbolInput.setToolTip("Symbol shown on the chart (the order ticket follows)")
        self.symbolInput.currentTextChanged.connect(self._symbol_chosen)
        row.addWidget(self.symbolInput)
        row.addSpacing(6)
        row.addWidget(QLabel("Time", objectName="chartTimeLabel"))
        self.timeframe_buttons: dict[str, QPushButton] = {}
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        for tf in TIMEFRAMES:
            b = QPushButton(tf, objectName=f"timeframe_{tf}", checkable=True)
            b.setFlat(True)
            b.setMinimumWidth(32)
            b.setToolTip(f"{tf} candles on Binance's UTC boundaries")
            b.clicked.connect(lambda _checked=False, tf=tf: self._timeframe_chosen(tf))
            self._group.addButton(b)
            self.timeframe_buttons[tf] = b
            row.addWidget(b)
        row.addStretch(1)
        self._timeframe = timeframe
        self.timeframe_buttons[timeframe].setChecked(True)

    @property
    def symbol(self) -> str:
        return self.symbolInput.currentText()

    @property
    def timeframe(self) -> str:
        return self._timeframe

    def show_symbol(self, symbol: str) -> None:
        if symbol != self.symbol:
            self.symbolInput.blockSignals(True)
            self.symbolInput.setCurrentText(symbol)
            self.symbolInput.blockSignals(False)

    def show_timeframe(self, timeframe: str) -> None:
        self._timeframe = timeframe
        self.timeframe_buttons[timeframe].setChecked(True)

    def choose_timeframe(self, timeframe: str) -> None:
        """As a click on that timeframe's button (tests, shortcuts)."""
        self.timeframe_buttons[timeframe].click()

    def _symbol_chosen(self, symbol: str) -> None:
        if symbol:
            self.symbolChosen.emit(symbol)

    def _timeframe_chosen(self, timeframe: str) -> None:
        if timeframe != self._timeframe:
            self._timeframe = timeframe
            self.timeframeChosen.emit(timeframe)

    def pane_with(self, chart: QWidget) -> QWidget:
        """This toolbar over ``chart``, as one widget for the window's splitter."""
        pane = QWidget(objectName="chartPane")
        col = QVBoxLayout(pane)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        col.addWidget(self)
        col.addWidget(chart, 1)
        return pane
