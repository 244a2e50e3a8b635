"""The start-up shell (issue 10.3): the window is painted before the journal is open, and trades nothing until it is.

Opening the journal costs more than everything else at start (importing sqlmodel, SQLAlchemy and Alembic alone is
about half a second), and the session to show is only known once it is open (the last session is resumed from it).
So the app paints first: the window with the chart of the session it will most likely show, guessed from what the
last run remembered (QSettings: its datasets, its replay clock, the ticket's symbol) or from the command line, on a
:class:`ShellDesk`. On the next turn of the event loop the app opens the journal, opens the real session and hands
it to the window (``MainWindow.open_desk``), which rebuilds every panel for it: a wrong guess costs a reload of the
chart, never a wrong picture for longer than the journal takes to open.

Until then nothing can be traded: the window holds orders with a visible reason (``MainWindow.orders_held``, taken
from ``ShellDesk.opening``: the ticket disabled, the reason above it, B / S / Enter and the close / cancel keys and
the chart's right-click saying it) and the shell desk itself refuses every request that would change the account, so
no path (a key, a menu, a table button) can send an order that no journal would record.
"""

from __future__ import annotations

import math
import sys
import time
from decimal import Decimal
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer

from hexdesk.engine import Exchange, Result
from hexdesk.engine.enums import MarginMode
from hexdesk.engine.errors import ErrorCode, Rejection
from hexdesk.engine.orders import OrderRequest
from hexdesk.service.defaults import DEFAULT_BALANCE, DEFAULT_SPEED, HISTORY_MS
from hexdesk.service.desk import TradingDesk
from hexdesk.ui.startup import (
    BLIND_KEY,
    CLOCK_KEY,
    DATASETS_KEY,
    OPENING,
    ShellGuess,
    guess,
    opening_label,
    remember_session,
)

if TYPE_CHECKING:

    from hexdesk.market.candles import CandleSeries
    from hexdesk.ui.chart import CandleChart

__all__ = [  # the guess (ui/startup.py) is re-exported: the shell is where the start-up is told
    "BLIND_KEY", "CLOCK_KEY", "DATASETS_KEY", "OPENING", "FirstPaint", "ShellDesk", "ShellGuess", "guess", "open_shell",
    "remember_session",
]

#: What the first paint must not wait for: the journal's libraries, the live client's, the asyncio bridge, and what
#: the shell does not draw (the round trips and statistics, the bottom tabs' tables, the journal panel).
DEFERRED_MODULES = (
    "sqlmodel", "sqlalchemy", "alembic", "httpx", "websockets", "qasync",
    "hexdesk.storage.trades", "hexdesk.storage.statistics", "hexdesk.ui.tables", "hexdesk.ui.trades_table",
    "hexdesk.ui.journal_panel",
)


class ShellDesk(TradingDesk):
    """The guessed session's candles and instruments, and no trading: every request that would change the account
    is refused with :data:`OPENING` (the window already holds orders; this is the last line, whatever the path).

    Never journaled, never played: it is dropped as soon as the real desk is open."""

    opening = OPENING

    def _refused(self) -> Rejection:
        return Rejection(ErrorCode.NEW_ORDER_REJECTED, self.opening)

    def submit(self, request: OrderRequest) -> Result:
        return Result(False, None, self._refused())

    def cancel(self, symbol: str, order_id: int) -> Result:
        return Result(False, None, self._refused())

    def close_position(self, symbol: str) -> Result:
        return Result(False, None, self._refused())

    def amend(self, symbol: str, order_id: int, price: Decimal) -> Result:
        return Result(False, None, self._refused())

    def transfer_margin(self, symbol: str, amount: Decimal) -> Rejection | None:
        return self._refused()

    def set_leverage(self, symbol: str, leverage: int) -> Rejection | None:
        return self._refused()

    def set_margin_mode(self, symbol: str, mode: MarginMode) -> Rejection | None:
        return self._refused()

    def play(self) -> None:
        """Nothing plays before the session is open."""

    def step(self) -> None:
        """Nothing plays before the session is open."""

    def jump(self, minutes: int) -> None:
        """Nothing plays before the session is open."""

    def set_speed(self, speed: float) -> None:
        """The session's own speed comes with it."""

    def save_trade_note(self, trade_key: str, **fields: object) -> bool:
        return False

    def save_day_note(self, day: str, text: str) -> bool:
        return False

    def add_screenshot(self, trade_key: str, kind: str, png: bytes) -> str | None:
        return None

    @property
    def paused(self) -> bool:
        return True

    @property
    def speed(self) -> float:
        return DEFAULT_SPEED

    @property
    def clock_ms(self) -> int | None:
        return self.exchange.now_ms


def open_shell(shown: ShellGuess) -> ShellDesk | None:
    """The shell desk of ``shown``: each dataset's candles closed before the clock. None when a dataset cannot be
    loaded (the app then opens the journal first, as it would without a shell, and reports what is wrong)."""
    try:
        series = [_load(name) for name in shown.datasets]
    except Exception:  # a missing or damaged file: a guess must never stop the start (the session will say why)
        return None
    if not series:
        return None
    first = min(s.first_open_ms for s in series)
    clock = shown.clock_ms if shown.clock_ms is not None else first + HISTORY_MS
    exchange = Exchange(wallet_balance=DEFAULT_BALANCE, start_ms=clock)
    if any(s.symbol not in exchange.instruments for s in series):
        return None
    shown_series = [s.slice(0, s.index_at(clock)) for s in series]
    if not all(len(s) for s in shown_series):  # a symbol with nothing to chart yet: no guess worth showing
        return None
    return ShellDesk(exchange, None, None, None, shown_series, mode_label=opening_label(shown))


class FirstPaint(QObject):
    """When ``chart`` was first painted with candles: a real paint event of its view's viewport, done (the time is
    taken on the event loop's next turn, once the paint has finished). ``at`` is ``time.monotonic()`` then: the
    clock the benchmark's parent shares (CLOCK_MONOTONIC is system-wide on Linux); ``loaded`` the modules of
    :data:`DEFERRED_MODULES` already imported then (none, unless something imports them too early)."""

    def __init__(self, chart: CandleChart) -> None:
        super().__init__(chart)
        self.chart = chart
        self.at: float | None = None
        self.cpu: float | None = None  # this process's CPU time (s) then: steadier than wall time on a busy machine
        self.loaded: tuple[str, ...] = ()
        self.candles = 0  # how many candles the chart held when it was painted
        self._pending = False
        self._loop: QEventLoop | None = None
        self.viewport = chart.price_view.scene().views()[0].viewport()
        self.viewport.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if (
            not self._pending
            and obj is self.viewport
            and event.type() == QEvent.Type.Paint
            and self.chart.candle_count > 0
        ):
            self._pending = True
            QTimer.singleShot(0, self._painted)
        return False

    def _painted(self) -> None:
        self.at = time.monotonic()
        self.cpu = time.process_time()
        self.candles = self.chart.candle_count
        self.loaded = tuple(m for m in DEFERRED_MODULES if m in sys.modules)
        self.viewport.removeEventFilter(self)
        if self._loop is not None:
            self._loop.quit()

    def wait(self, timeout_ms: int = 3000) -> float:
        """Process events until the first paint is done (at most ``timeout_ms``: a window that cannot be painted,
        e.g. hidden, must not stop the start); its time, or nan if it did not happen."""
        if self.at is None:
            self._loop = QEventLoop()
            QTimer.singleShot(timeout_ms, self._loop.quit)
            self._loop.exec()
            self._loop = None
        return self.at if self.at is not None else math.nan


def _load(name: str) -> CandleSeries:
    """A bundled month straight from its file (the library's listing reads every funding file: too slow here)."""
    from hexdesk.market.candles import load_bundled

    try:
        return load_bundled(name)
    except ValueError:
        from hexdesk.market.library import load_dataset

        return load_dataset(name).series
