"""The trader's workstation: chart in the centre, the order ticket on the right, the account strip and replay
controls on top, positions / open orders / fills below.

The desk publishes a ``DeskChange`` for every batch of ticks and every action. The handler here only records
what became stale (and the latest forming candle per open time); a single-shot ~30 fps timer then repaints the
stale parts once. So 10,000 ticks a second cost one refresh a frame, and a quiet market costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QScrollArea, QSplitter, QTabWidget, QVBoxLayout, QWidget

from hexdesk.engine.enums import MarginMode, OrderType, Side
from hexdesk.engine.events import Event, PositionLiquidated
from hexdesk.ui import format as fmt
from hexdesk.ui import theme
from hexdesk.ui.account_panel import AccountPanel
from hexdesk.ui.chart import CandleChart, Marker
from hexdesk.ui.desktop import Desktop
from hexdesk.ui.liquidation_notice import LiquidationNotice
from hexdesk.ui.notifications import Notice, NotificationPanel, Toast, describe, end_of_data_notice, hhmm
from hexdesk.ui.replay_bar import ReplayBar
from hexdesk.ui.statistics_view import StatisticsView
from hexdesk.ui.tables import FillsTable, OpenOrdersTable, PositionsTable
from hexdesk.ui.ticket import OrderTicket
from hexdesk.ui.trades_table import TradesTab

if TYPE_CHECKING:
    from hexdesk.engine.orders import Order
    from hexdesk.market.candles import Candle
    from hexdesk.service import DeskChange, TradingDesk

FRAME_MS = 33  # ~30 fps: the most often anything is repainted
MAX_PENDING_CANDLES = 2_000  # beyond this many unseen candles a frame reloads the history instead
ALL_PARTS = frozenset(
    {"chart", "marks", "positions", "orders", "fills", "account", "clock", "price", "lines", "notices", "markers"}
)


class MainWindow(QMainWindow):
    """HexDesk's one window. ``refresh_count`` counts coalesced refreshes (tests check it stays bounded)."""

    closed = Signal()  # the window was closed: the application's session ends

    def __init__(self, desk: TradingDesk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.refresh_count = 0
        self._dirty: set[str] = set()
        self._pending: dict[int, Candle] = {}  # chart symbol's forming candles since the last frame, by open time
        self._lines: dict[str, tuple[float, str, str]] = {}  # what the chart shows, to skip unchanged lines
        self._unannounced: list[Event] = []  # engine events not yet told in the notification area
        self._reports_seen = len(getattr(desk, "liquidation_reports", ()))
        self._ended = bool(getattr(desk, "finished", False))
        self.liquidation_notices: list[LiquidationNotice] = []
        self._frame = QTimer(self, singleShot=True, interval=FRAME_MS)
        self._frame.timeout.connect(self._refresh_dirty)

        self.setWindowTitle(f"HexDesk — {desk.mode_label}")
        self.resize(1600, 960)
        theme.apply(self)
        self._build()
        self.chart_symbol = self.ticket.symbol
        self._load_chart(self.chart_symbol)
        self._unsubscribe = desk.subscribe(self.on_desk_change)
        self.refresh_now()
        self.desktop = Desktop(self)  # issue 10.4-10.7: shortcuts, chart trading, margin, theme (ui/desktop.py)

    # --- layout ----------------------------------------------------------------------------------------

    def _build(self) -> None:
        desk = self.desk
        self.replay_bar = ReplayBar(desk)
        self.account_panel = AccountPanel(desk)
        self.chart = CandleChart()
        self.chart.setMinimumSize(400, 260)
        self.ticket = OrderTicket(desk)
        self.positions_table = PositionsTable(desk)
        self.orders_table = OpenOrdersTable(desk)
        self.fills_table = FillsTable(desk)

        self.tabs = QTabWidget(objectName="bottomTabs")
        self.tabs.addTab(self.positions_table, "Positions")
        self.tabs.addTab(self.orders_table, "Open orders")
        self.tabs.addTab(self.fills_table, "Fills")
        self.trades_tab = TradesTab(desk)  # issue 7.3: round trips; trades_table.trade_selected(trade_key)
        self.trades_table = self.trades_tab.table
        self.tabs.addTab(self.trades_tab, "Trades")
        self.trades_tab.statistics_requested.connect(self.show_statistics)
        self.statistics_view: StatisticsView | None = None  # opened by show_statistics()
        self.tabs.setDocumentMode(True)
        self.tabs.tabBar().setDrawBase(False)
        self.message = _CornerLabel("", objectName="tableMessage")
        self.message.setContentsMargins(0, 0, 12, 0)
        self.message.setMaximumWidth(280)  # a long message must not squeeze the tabs; the full text is its tooltip
        self.tabs.setCornerWidget(self.message, Qt.Corner.TopRightCorner)
        self.message.hide()
        for table in (self.positions_table, self.orders_table, self.fills_table):
            table.status.connect(self.show_message)

        # The notification list sits right under the chart, where the eye is, a few lines tall (drag the splitter
        # for more); beside the tabs it squeezed the tables off a 1280-wide window, under the ticket it pushed the
        # Buy / Sell buttons off a 720-high one. Important notices are also shown over the chart (the toast).
        self.notifications = NotificationPanel()
        self.toast = Toast(self.chart)

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.chart)
        left.addWidget(self.notifications)
        left.addWidget(self.tabs)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 0)
        left.setStretchFactor(2, 1)
        left.setSizes([640, NotificationPanel.DEFAULT_HEIGHT, 230])
        left.setChildrenCollapsible(False)
        left.setHandleWidth(3)

        ticket_scroll = QScrollArea(objectName="ticketScroll")
        ticket_scroll.setWidget(self.ticket)
        ticket_scroll.setWidgetResizable(True)
        ticket_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        ticket_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        ticket_scroll.setFixedWidth(350)

        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(left)
        body.addWidget(ticket_scroll)
        body.setStretchFactor(0, 1)
        body.setChildrenCollapsible(False)
        body.setHandleWidth(3)

        central = QWidget()
        col = QVBoxLayout(central)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(1)
        col.addWidget(self.replay_bar)
        col.addWidget(self.account_panel)
        col.addWidget(body, 1)
        self.setCentralWidget(central)

        self.play_action = QAction("Play / pause", self)
        self.play_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.play_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.play_action.triggered.connect(self.toggle_play)
        self.addAction(self.play_action)
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        self.quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.quit_action.triggered.connect(self.close)
        self.addAction(self.quit_action)
        self.statistics_action = QAction("Statistics…", self)  # for the View menu too
        self.statistics_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.statistics_action.triggered.connect(self.show_statistics)
        self.addAction(self.statistics_action)

        self.ticket.symbolChanged.connect(self.show_symbol)
        self.ticket.submitted.connect(lambda _result: self._mark(ALL_PARTS))

    # --- desk changes: only mark what is stale ---------------------------------------------------------

    def on_desk_change(self, change: DeskChange) -> None:
        """Called by the desk for every change, possibly thousands of times a second: cheap bookkeeping only."""
        parts: set[str] = set()
        if change.ticks:
            parts.update(("marks", "clock", "lines"))
            chart_symbol, ticket_symbol = self.chart_symbol, self.ticket.symbol
            pending = self._pending
            for tick in change.ticks:
                if tick.symbol == chart_symbol:
                    pending[tick.candle.open_time_ms] = tick.candle
                    parts.add("chart")
                if tick.symbol == ticket_symbol:
                    parts.add("price")
        if change.events:
            parts.update(("positions", "orders", "fills", "account", "lines", "notices", "markers", "clock"))
            self._unannounced.extend(change.events)
            for event in change.events:
                if isinstance(event, PositionLiquidated):
                    self.show_message(self.liquidation_text(event), "error")
        if not self._ended and getattr(self.desk, "finished", False):
            parts.update(("notices", "clock"))
        self._mark(parts)

    def liquidation_text(self, event: PositionLiquidated) -> str:
        """The lesson of a liquidation in numbers: what was lost, and whether cross margin made it everything."""
        inst = self.desk.instrument(event.symbol)
        side = "long" if event.side is Side.BUY else "short"
        scope = (
            "its isolated margin, nothing else"
            if event.margin_mode is MarginMode.ISOLATED
            else "from the shared cross wallet"
        )
        return (
            f"LIQUIDATED {event.symbol} {side} {fmt.qty(event.quantity, inst.step_size)} at mark "
            f"{fmt.price(event.mark_price, inst.tick_size)}: lost {fmt.usdt(event.margin_lost)} USDT, {scope}"
        )

    def _mark(self, parts: Iterable[str]) -> None:
        self._dirty.update(parts)
        if self._dirty and not self._frame.isActive():
            self._frame.start()

    def refresh_now(self) -> None:
        """Repaint everything at once (after construction, and before a screenshot)."""
        self._dirty |= ALL_PARTS
        self._frame.stop()
        self._refresh_dirty()

    # --- the frame -------------------------------------------------------------------------------------

    def _refresh_dirty(self) -> None:
        dirty, self._dirty = self._dirty, set()
        if not dirty:
            return
        self.refresh_count += 1
        if "chart" in dirty:
            self._apply_pending_candles()
            self.chart.flush_labels()  # once a frame, whatever the event loop's load
        if dirty & {"marks", "positions"}:
            self.positions_table.refresh()
        if dirty & {"marks", "account"}:
            self.account_panel.refresh()
        if "orders" in dirty:
            self.orders_table.refresh()
        if "fills" in dirty:
            self.fills_table.refresh()
            self._refresh_trades()
        if dirty & {"clock", "positions"}:
            self.replay_bar.refresh()
        if dirty & {"positions", "account"}:
            self.ticket.sync_settings()
        if dirty & {"price", "positions", "account"}:
            self.ticket.refresh_price()
        if "lines" in dirty:
            self._refresh_lines()
        if dirty & {"positions", "orders", "fills"}:
            self._refresh_tab_titles()
        if "markers" in dirty:
            self._refresh_markers()
        if "notices" in dirty:
            self._announce()

    def _apply_pending_candles(self) -> None:
        pending, self._pending = self._pending, {}
        if len(pending) > MAX_PENDING_CANDLES:
            self._load_chart(self.chart_symbol)  # far behind: the desk's history already holds the closed ones
            newest = pending[max(pending)]
            pending = {newest.open_time_ms: newest}
        for open_ms in sorted(pending):
            c = pending[open_ms]
            try:
                self.chart.update_forming(open_ms / 1000.0, float(c.open), float(c.high), float(c.low),
                                          float(c.close), float(c.volume))
            except ValueError:  # a candle older than the chart's newest: history was reloaded past it
                continue

    def _refresh_tab_titles(self) -> None:
        for i, (name, table) in enumerate(
            (("Positions", self.positions_table), ("Open orders", self.orders_table), ("Fills", self.fills_table))
        ):
            n = table.rows_model.rowCount()
            self.tabs.setTabText(i, f"{name} ({n})" if n else name)

    # --- trades and statistics (issue 7.3, 7.5) --------------------------------------------------------

    def _refresh_trades(self) -> None:
        self.trades_tab.refresh()  # the desk caches its trades: cheap unless a fill or funding came in
        if self.statistics_view is not None and self.statistics_view.isVisible():
            self.statistics_view.desk_changed()

    def show_statistics(self) -> StatisticsView:
        """Open (or raise) the Statistics window over this desk's trades."""
        if self.statistics_view is None or self.statistics_view.desk is not self.desk:
            self.statistics_view = StatisticsView(self.desk)
        else:
            self.statistics_view.refresh()
        self.statistics_view.show()
        self.statistics_view.raise_()
        return self.statistics_view

    # --- telling the trader ---------------------------------------------------------------------------

    def _announce(self) -> None:
        """Tell what happened since the last frame: the notification list, a toast for what matters most, and a
        notice explaining each new liquidation (the desk has already paused the replay)."""
        events, self._unannounced = self._unannounced, []
        notices = describe(events, self.desk) if events else []
        if not self._ended and getattr(self.desk, "finished", False):
            self._ended = True
            notices.append(end_of_data_notice(self.desk.clock_ms or 0))
        for notice in notices:
            self.notify(notice)
        reports = getattr(self.desk, "liquidation_reports", [])
        for report in reports[self._reports_seen :]:
            notice = LiquidationNotice(report, self.desk, self)
            notice.destroyed.connect(lambda _=None, n=notice: self._forget_notice(n))
            self.liquidation_notices.append(notice)
            notice.show()
            notice.raise_()
        self._reports_seen = len(reports)

    def _forget_notice(self, notice: LiquidationNotice) -> None:
        if notice in self.liquidation_notices:
            self.liquidation_notices.remove(notice)

    def notify(self, notice: Notice) -> None:
        """Add a notice to the list (and, if important, show it over the chart for a few seconds)."""
        self.notifications.add(notice)
        if notice.important:
            self.toast.show_notice(notice)

    def _refresh_markers(self) -> None:
        """The chart symbol's fills as buy / sell arrows and its liquidations as orange crosses."""
        symbol = self.chart_symbol
        inst = self.desk.instrument(symbol)
        markers = [
            Marker(
                f.ts_ms / 1000.0, float(f.price), "buy" if f.side is Side.BUY else "sell",
                f"{f.side.value.title()} {fmt.qty(f.quantity, inst.step_size)} @ {fmt.price(f.price, inst.tick_size)}",
            )
            for f in self.desk.fills()
            if f.symbol == symbol and not f.is_liquidation
        ]
        for report in getattr(self.desk, "liquidation_reports", ()):
            for p in report.positions:
                if p.symbol == symbol:
                    markers.append(Marker(report.ts_ms / 1000.0, float(p.mark_price), "liquidation",
                                          f"Liquidated at mark {fmt.price(p.mark_price, inst.tick_size)}"))
        self.chart.set_markers(markers)

    # --- chart -----------------------------------------------------------------------------------------

    def show_symbol(self, symbol: str) -> None:
        """The ticket switched symbol: the chart follows it."""
        if symbol == self.chart_symbol:
            return
        self.chart_symbol = symbol
        self._pending.clear()
        self._load_chart(symbol)
        self._mark(ALL_PARTS - {"chart"})

    def _load_chart(self, symbol: str) -> None:
        series = self.desk.history(symbol)
        inst = self.desk.instrument(symbol)
        self.chart.set_price_decimals(fmt.decimals_of(inst.tick_size))
        self.chart.set_interval(series.interval_ms / 1000.0)
        self.chart.set_history(
            np.asarray(series.open_time_ms, dtype=np.float64) / 1000.0,
            series.open, series.high, series.low, series.close, series.volume,
        )
        for key in list(self._lines):
            self.chart.set_price_line(key, None, theme.TEXT)
        self._lines.clear()
        self.chart.scroll_to_end()

    def _refresh_lines(self) -> None:
        """Entry and liquidation of the chart symbol's position, and every open order's price, as chart lines."""
        symbol = self.chart_symbol
        inst = self.desk.instrument(symbol)
        tick, step = inst.tick_size, inst.step_size
        wanted: dict[str, tuple[Decimal, str, str]] = {}
        position = self.desk.position(symbol)
        if position.is_open:
            long = position.quantity > 0
            pnl = fmt.usdt(position.unrealized_pnl, sign=True)
            wanted["entry"] = (
                position.entry_price,
                theme.GREEN if long else theme.RED,
                f"{'Long' if long else 'Short'} {fmt.qty(position.size, step)} @ "
                f"{fmt.price(position.entry_price, tick)}  {pnl}",
            )
            if position.liquidation_price is not None:
                wanted["liq"] = (position.liquidation_price, theme.ORANGE,
                                 f"Liq {fmt.price(position.liquidation_price, tick)}")
        for order in self.desk.open_orders():
            if order.symbol == symbol:
                line = _order_line(order, tick, step)
                if line is not None:
                    wanted[f"order:{order.order_id}"] = line
        for key in [k for k in self._lines if k not in wanted]:
            self.chart.set_price_line(key, None, theme.TEXT)
            del self._lines[key]
        for key, (price, colour, label) in wanted.items():
            shown = (float(price), colour, label)
            if self._lines.get(key) != shown:
                self.chart.set_price_line(key, shown[0], colour, label, style="solid" if key == "entry" else "dash")
                self._lines[key] = shown
        if hasattr(self, "desktop"):
            self.desktop.lines_refreshed()  # issue 10.6: order lines become draggable (ui/chart_context.py)

    # --- actions ---------------------------------------------------------------------------------------

    def toggle_play(self) -> None:
        if getattr(self.desk, "finished", False):
            ts = self.desk.clock_ms or 0
            self.notify(Notice(ts, f"{hhmm(ts)} Nothing left to play: the replay's data has ended. "
                               "Start a new session to replay again.", "info"))
            return
        self.replay_bar.toggle()

    def show_message(self, text: str, tone: str) -> None:
        self.message.setText(text)
        self.message.setToolTip(text)
        self.message.setVisible(bool(text))
        self.message.setStyleSheet(f"color: {theme.RED if tone == 'error' else theme.MUTED};")

    def closeEvent(self, event: QCloseEvent) -> None:
        self._frame.stop()
        self._unsubscribe()
        super().closeEvent(event)
        self.closed.emit()


class _CornerLabel(QLabel):
    """The tabs' corner message: QTabWidget lays its corner out at the size hint, so the hint is kept within the
    maximum width; a long message is clipped (its tooltip has it whole) instead of squeezing the tab bar."""

    def sizeHint(self) -> QSize:
        return super().sizeHint().boundedTo(self.maximumSize())

    def minimumSizeHint(self) -> QSize:
        return super().minimumSizeHint().boundedTo(self.maximumSize())


def _order_line(order: Order, tick: Decimal, step: Decimal) -> tuple[Decimal, str, str] | None:
    """An open order as a chart line: stop-losses red "SL", take-profits green "TP", others blue with side."""
    kind = order.type
    if kind in (OrderType.STOP_MARKET, OrderType.STOP) and (order.reduce_only or order.close_position):
        return order.stop_price, theme.RED, f"SL {fmt.price(order.stop_price, tick)}"
    if kind in (OrderType.TAKE_PROFIT_MARKET, OrderType.TAKE_PROFIT):
        return order.stop_price, theme.GREEN, f"TP {fmt.price(order.stop_price, tick)}"
    price = order.stop_price if kind.is_conditional else order.price
    if not price:
        return None
    side = "Buy" if order.side is Side.BUY else "Sell"
    name = {OrderType.LIMIT: "Limit", OrderType.STOP_MARKET: "Stop", OrderType.STOP: "Stop limit"}.get(kind, kind.value)
    return price, theme.BLUE, f"{name} {side} {fmt.qty(order.remaining_qty, step)} @ {fmt.price(price, tick)}"
