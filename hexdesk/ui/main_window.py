"""The trader's workstation: chart in the centre, the order ticket on the right, the account strip and replay
controls on top, positions / open orders / fills below.

The desk publishes a ``DeskChange`` for every batch of ticks and every action. The handler here only records
what became stale (and the latest forming candle per open time); a single-shot ~30 fps timer then repaints the
stale parts once. So 10,000 ticks a second cost one refresh a frame, and a quiet market costs nothing.

Sessions (issue 7): the window can be handed another desk (``switch_session``): it rebuilds every desk-bound
panel for it, moves its subscription, and emits ``session_switched(old, new)`` so the app closes the old desk and
drives the new one. The menu bar (``menus.py``), the session dialog and the trade journal (with chart screenshots
taken at each trade's entry and exit) hang off it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hexdesk.engine.enums import MarginMode, OrderType, Side
from hexdesk.engine.events import Event, OrderFilled, PositionLiquidated
from hexdesk.ui import format as fmt
from hexdesk.ui import theme
from hexdesk.ui.account_panel import AccountPanel
from hexdesk.ui.chart import CandleChart, Marker
from hexdesk.ui.chart_toolbar import Bar, ChartToolbar, FormingAggregator, chart_series
from hexdesk.ui.desktop import Desktop
from hexdesk.ui.liquidation_notice import LiquidationNotice
from hexdesk.ui.menus import build_menus, keys, update_file_menu
from hexdesk.ui.notifications import Notice, NotificationPanel, Toast, describe, end_of_data_notice, hhmm
from hexdesk.ui.replay_bar import ReplayBar
from hexdesk.ui.status import ModeStatus, disable_replay_controls, hold_replay_controls, is_live
from hexdesk.ui.ticket import OrderTicket

if TYPE_CHECKING:
    from types import ModuleType

    from hexdesk.engine.fills import Fill
    from hexdesk.engine.orders import Order
    from hexdesk.market.candles import Candle
    from hexdesk.service import DeskChange, ExportKind, ImportOutcome, SessionManager, TradingDesk
    from hexdesk.ui.journal_panel import JournalPanel
    from hexdesk.ui.learn_window import LearnWindow
    from hexdesk.ui.session_dialog import SessionDialog, WipeOutOffer  # (dialogs load when first opened)
    from hexdesk.ui.statistics_view import StatisticsView
    from hexdesk.ui.tables import FillsTable, OpenOrdersTable, PositionsTable
    from hexdesk.ui.trades_table import TradesTab, TradesTable

FRAME_MS = 33  # ~30 fps: the most often anything is repainted
MAX_PENDING_CANDLES = 2_000  # beyond this many unseen candles a frame reloads the history instead
ALL_PARTS = frozenset(
    {"chart", "marks", "positions", "orders", "fills", "account", "clock", "price", "lines", "notices", "markers",
     "journal"}
)
BOTTOM_TABS = ("Positions", "Open orders", "Fills", "Trades", "Journal")  # their order, as _build_tables adds them
SHELL_TICKET_DELAY_MS = 100  # the start-up shell's ticket is built this long after its first paint (_complete_shell)
WIPE_OUT_SHARE = Decimal("0.05")  # equity below 5% of the starting balance after a liquidation: offer a new session


class MainWindow(QMainWindow):
    """HexDesk's one window. ``refresh_count`` counts coalesced refreshes (tests check it stays bounded)."""

    closed = Signal()  # the window was closed: the application's session ends
    session_switched = Signal(object, object)  # (old desk, new desk): the app closes the old one, runs the new one
    import_requested = Signal()  # File > Import…: connected to hexdesk.ui.import_export (off without a journal)
    export_requested = Signal()  # File > Export…

    # The bottom tabs' contents (_build_tables): absent while ``tables_deferred`` (the start-up shell, see _build).
    positions_table: PositionsTable
    orders_table: OpenOrdersTable
    fills_table: FillsTable
    trades_tab: TradesTab
    trades_table: TradesTable
    journal_panel: JournalPanel

    def __init__(
        self, desk: TradingDesk, parent: QWidget | None = None, *, sessions: SessionManager | None = None
    ) -> None:
        """``sessions``: the app's ``SessionManager`` (``hexdesk.service.sessions``); without it the session items
        of the File menu are disabled."""
        super().__init__(parent)
        self.desk = desk
        self.sessions = sessions
        self.refresh_count = 0
        self._dirty: set[str] = set()
        self._pending: dict[int, Candle] = {}  # chart symbol's forming candles since the last frame, by open time
        self._lines: dict[str, tuple[float, str, str]] = {}  # what the chart shows, to skip unchanged lines
        self._unannounced: list[Event] = []  # engine events not yet told in the notification area
        self.liquidation_notices: list[LiquidationNotice] = []
        self._panels: list[tuple[str, Callable[[Any], QWidget]]] = []  # extra bottom tabs, rebuilt per desk
        self._open_qty: dict[str, Decimal] = {}  # signed position size per symbol, followed fill by fill
        self.open_trades: dict[str, str] = {}  # symbol -> trade_key of the round trip open now
        self._shots: list[tuple[str, str, str]] = []  # (symbol, trade_key, kind) to grab after the next frame
        self.session_dialog: SessionDialog | None = None
        self.wipe_out_offer: WipeOutOffer | None = None
        self._frame = QTimer(self, singleShot=True, interval=FRAME_MS)
        self._frame.timeout.connect(self._refresh_dirty)
        self.timeframe = "1m"  # issue 8.7: the chart's timeframe (the desk and the engine stay on 1m)
        self._forming_agg = FormingAggregator(self.timeframe)
        self.orders_held: str | None = None  # why no order can be sent now: the start-up shell's desk says (_bind)

        self.resize(1600, 960)
        theme.apply(self)
        self._build_actions()
        self._build()
        self.menus = build_menus(self)
        self._connect_transfer()
        self._bind()
        self.desktop = Desktop(self)  # issue 10.4-10.7: shortcuts, chart trading, margin, theme (ui/desktop.py)
        if self.tables_deferred:
            _AfterFirstPaint(self.chart, self._complete_shell)

    def _complete_shell(self) -> None:
        """The start-up shell's first paint is done: its real ticket, disabled with the reason, in the place kept for
        it. Nothing to do when the session's desk came first (in the app it does: the journal is opened before the
        event loop runs again, so the shell never builds a ticket)."""
        placeholder = self.ticket
        if not self.tables_deferred or not isinstance(placeholder, _TicketToCome):
            return
        ticket = OrderTicket(self.desk)
        if placeholder.symbol != ticket.symbol:
            ticket.set_symbol(placeholder.symbol)
        self.ticket = ticket
        self.ticket_scroll.setWidget(ticket)  # (the placeholder is deleted)
        ticket.symbolChanged.connect(self.show_symbol)
        ticket.submitted.connect(lambda _result: self._mark(ALL_PARTS))
        self._refresh_journal_state()

    # --- layout ----------------------------------------------------------------------------------------

    def _build(self) -> None:
        desk = self.desk
        self.replay_bar = ReplayBar(desk)
        self.account_panel = AccountPanel(desk)
        self.chart = CandleChart()
        # 400x216: with the chart toolbar (32 px) above it and the status bar below the window, the window's
        # minimum stays under 760x500, so it fits an 800x600 screen with its frame and a task bar.
        self.chart.setMinimumSize(400, 216)
        # The start-up shell's desk has no trade to list and is replaced as soon as the journal is open: its bottom
        # tabs are empty pages of the same titles (the layout does not move when the real ones come), so the first
        # paint neither imports nor builds the tables, the trades list and the journal panel (issue 10.3).
        self.tables_deferred = bool(desk.opening)
        # Its ticket (disabled anyway) comes on the turn of the event loop after the first paint (_complete_shell).
        self.ticket: OrderTicket | _TicketToCome = _TicketToCome(desk) if self.tables_deferred else OrderTicket(desk)
        self.tabs = QTabWidget(objectName="bottomTabs")
        self.statistics_view: StatisticsView | None = None  # opened by show_statistics()
        self.panels: dict[str, QWidget] = {}
        if self.tables_deferred:
            for title in BOTTOM_TABS:
                self.tabs.addTab(QWidget(), title)
        else:
            self._build_tables(desk)
        self.tabs.setDocumentMode(True)
        self.tabs.tabBar().setDrawBase(False)
        self.message = _CornerLabel("", objectName="tableMessage")
        self.message.setContentsMargins(0, 0, 12, 0)
        self.message.setMaximumWidth(280)  # a long message must not squeeze the tabs; the full text is its tooltip
        self.tabs.setCornerWidget(self.message, Qt.Corner.TopRightCorner)
        self.message.hide()

        # The notification list sits right under the chart, where the eye is, a few lines tall (drag the splitter
        # for more); beside the tabs it squeezed the tables off a 1280-wide window, under the ticket it pushed the
        # Buy / Sell buttons off a 720-high one. Important notices are also shown over the chart (the toast).
        self.notifications = NotificationPanel()
        self.toast = Toast(self.chart)

        # Named: settings.py remembers splitter sizes by name, and a session switch (the shell's desk replaced once
        # the journal is open) builds new ones while the old are still alive (deleted later): numbering them then
        # saved the new sizes under names the next start's window does not have.
        left = QSplitter(Qt.Orientation.Vertical, objectName="chartAndTables")
        self.chart_toolbar = ChartToolbar(desk.symbols)  # issue 8.7: symbol + timeframe above the chart
        left.addWidget(self.chart_toolbar.pane_with(self.chart))
        left.addWidget(self.notifications)
        left.addWidget(self.tabs)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 0)
        left.setStretchFactor(2, 1)
        left.setSizes([640, NotificationPanel.DEFAULT_HEIGHT, 230])
        left.setChildrenCollapsible(False)
        left.setHandleWidth(3)

        self.ticket_scroll = ticket_scroll = QScrollArea(objectName="ticketScroll")
        ticket_scroll.setWidget(self.ticket)
        ticket_scroll.setWidgetResizable(True)
        ticket_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        ticket_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        ticket_scroll.setFixedWidth(350)

        body = QSplitter(Qt.Orientation.Horizontal, objectName="bodyAndTicket")
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
        # While the journal cannot write (disk full, read-only file) the desk pauses and refuses orders; this red
        # line says why, above everything, until a write succeeds again.
        self.journal_banner = QLabel("", objectName="journalProblem", wordWrap=True)
        self.journal_banner.setStyleSheet(f"color: {theme.RED}; padding: 4px 8px;")
        self.journal_banner.hide()
        col.addWidget(self.journal_banner)
        col.addWidget(self.account_panel)
        col.addWidget(body, 1)
        self.setCentralWidget(central)  # a previous central widget (the old session's panels) is deleted
        old_status = getattr(self, "mode_status", None)  # a session switch rebuilds the panels
        if old_status is not None:
            self.statusBar().removeWidget(old_status)
            old_status.deleteLater()
        self.mode_status = ModeStatus(desk)  # issue 8.5: live / replay and the connection state, always visible
        self.statusBar().addWidget(self.mode_status, 1)
        if is_live(desk):
            disable_replay_controls(self.replay_bar)
        opening = desk.opening
        if opening:  # the start-up shell: nothing plays before the journal's session is open (ui/shell.py)
            hold_replay_controls(self.replay_bar, opening)

        self.ticket.symbolChanged.connect(self.show_symbol)
        # (through self: the start-up shell's ticket is replaced) the ticket's symbolChanged moves the chart
        self.chart_toolbar.symbolChosen.connect(lambda symbol: self.ticket.set_symbol(symbol))
        self.chart_toolbar.timeframeChosen.connect(self.set_timeframe)
        self.ticket.submitted.connect(lambda _result: self._mark(ALL_PARTS))

    def _build_tables(self, desk: TradingDesk) -> None:
        """The bottom tabs: positions, open orders, fills, trades, the journal and the panels added to the window."""
        from hexdesk.ui.journal_panel import JournalPanel
        from hexdesk.ui.tables import FillsTable, OpenOrdersTable, PositionsTable
        from hexdesk.ui.trades_table import TradesTab

        self.positions_table = PositionsTable(desk)
        self.orders_table = OpenOrdersTable(desk)
        self.fills_table = FillsTable(desk)
        self.tabs.addTab(self.positions_table, "Positions")
        self.tabs.addTab(self.orders_table, "Open orders")
        self.tabs.addTab(self.fills_table, "Fills")
        self.trades_tab = TradesTab(desk)  # issue 7.3: round trips; trades_table.trade_selected(trade_key)
        self.trades_table = self.trades_tab.table
        self.tabs.addTab(self.trades_tab, "Trades")
        self.trades_tab.statistics_requested.connect(self.show_statistics)
        for table in (self.positions_table, self.orders_table, self.fills_table):
            table.status.connect(self.show_message)
        self.journal_panel = JournalPanel(desk)
        self.tabs.addTab(self.journal_panel, "Journal")
        self.trades_table.trade_selected.connect(self.journal_panel.show_trade)
        for title, factory in self._panels:
            self._add_panel_widget(title, factory(desk))

    def _build_actions(self) -> None:
        """Window actions (built once: they outlive session switches)."""
        self.play_action = QAction("Play / pause", self)
        self.play_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.play_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.play_action.triggered.connect(self.toggle_play)
        self.addAction(self.play_action)
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcuts(keys(QKeySequence.StandardKey.Quit, "Ctrl+Q"))
        self.quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.quit_action.triggered.connect(self.close)
        self.addAction(self.quit_action)
        self.statistics_action = QAction("Statistics…", self)  # for the View menu too
        self.statistics_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.statistics_action.triggered.connect(self.show_statistics)
        self.addAction(self.statistics_action)
        self.learn_action = QAction("Learn…", self)  # issue 9: the concept library (for the Help menu too)
        self.learn_action.setShortcut(QKeySequence("Ctrl+L"))
        self.learn_action.triggered.connect(self.show_learn)
        self.addAction(self.learn_action)

    def _bind(self) -> None:
        """Start showing ``self.desk``: chart history, open trades, subscription, a full repaint."""
        desk = self.desk
        self.orders_held = desk.opening  # the start-up shell's desk holds orders (ui/shell.py)
        self.setWindowTitle(f"HexDesk — {desk.mode_label}")
        self._reports_seen = len(desk.liquidation_reports)
        self._ended = desk.finished
        self._wipe_out_offered = False
        self._wipe_out_check = False
        self._journal_ok = True
        self._follow_fills(desk.fills(), shoot=False)
        self.chart_symbol = self.ticket.symbol
        self._load_chart(self.chart_symbol)
        self._unsubscribe = desk.subscribe(self.on_desk_change)
        if self.open_trades and not self.tables_deferred:  # a resumed session with a trade open: journal it
            self.journal_panel.show_trade(next(iter(self.open_trades.values())))
        self.refresh_now()

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
            fills = [e.fill for e in change.events if isinstance(e, OrderFilled)]
            if fills:
                self._follow_fills(fills, shoot=True)
            for event in change.events:
                if isinstance(event, PositionLiquidated):
                    self.show_message(self.liquidation_text(event), "error")
                    self._wipe_out_check = True
        if not self._ended and self.desk.finished:
            parts.update(("notices", "clock"))
        if self.desk.journal_available is not self._journal_ok:
            parts.add("journal")
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
        tables = not self.tables_deferred
        if tables and dirty & {"marks", "positions"}:
            self.positions_table.refresh()
        if dirty & {"marks", "account"}:
            self.account_panel.refresh()
        if tables and "orders" in dirty:
            self.orders_table.refresh()
        if tables and "fills" in dirty:
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
        if tables and dirty & {"positions", "orders", "fills"}:
            self._refresh_tab_titles()
        if "markers" in dirty:
            self._refresh_markers()
        if "notices" in dirty:
            self._announce()
        if tables and dirty & {"clock"}:
            self.journal_panel.refresh_day()
        if "journal" in dirty:
            self._refresh_journal_state()
        if self._shots:
            self._take_screenshots()  # last: the chart has its new candle, lines and fill markers

    def _apply_pending_candles(self) -> None:
        pending, self._pending = self._pending, {}
        if self._history_reloaded():  # live: a backfill (re)loaded older candles than the chart has (issue 8.5)
            self._load_chart(self.chart_symbol)
        if len(pending) > MAX_PENDING_CANDLES:
            self._load_chart(self.chart_symbol)  # far behind: the desk's history already holds the closed ones
            newest = pending[max(pending)]
            pending = {newest.open_time_ms: newest}
        for open_ms in sorted(pending):
            c = pending[open_ms]
            bar = self._forming_agg.add(Bar(open_ms, float(c.open), float(c.high), float(c.low), float(c.close),
                                            float(c.volume)))  # the chart timeframe's forming candle
            if bar is None:
                continue
            try:
                self.chart.update_forming(bar.t_ms / 1000.0, bar.o, bar.h, bar.l, bar.c, bar.v)
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
        from hexdesk.ui.statistics_view import StatisticsView

        if self.statistics_view is None or self.statistics_view.desk is not self.desk:
            self.statistics_view = StatisticsView(self.desk)
        else:
            self.statistics_view.refresh()
        self.statistics_view.show()
        self.statistics_view.raise_()
        return self.statistics_view

    def show_learn(self) -> LearnWindow:
        """Open (or raise) the Learn window: concept pages and this session's liquidation post-mortems (issue 9)."""
        from hexdesk.ui.learn_window import LearnWindow
        from hexdesk.ui.practice import open_practice

        learn = getattr(self, "learn_window", None)
        if learn is None or learn.desk is not self.desk:
            learn = self.learn_window = LearnWindow(self.desk)
            learn.practiceRequested.connect(lambda exercise: open_practice(exercise, learn))
        else:
            learn.refresh()
        learn.show()
        learn.raise_()
        return learn

    # --- telling the trader ---------------------------------------------------------------------------

    def _announce(self) -> None:
        """Tell what happened since the last frame: the notification list, a toast for what matters most, and a
        notice explaining each new liquidation (the desk has already paused the replay)."""
        events, self._unannounced = self._unannounced, []
        notices = describe(events, self.desk) if events else []
        if not self._ended and self.desk.finished:
            self._ended = True
            notices.append(end_of_data_notice(self.desk.clock_ms or 0))
        for notice in notices:
            self.notify(notice)
        reports = self.desk.liquidation_reports
        for report in reports[self._reports_seen :]:
            notice = LiquidationNotice(report, self.desk, self)
            notice.destroyed.connect(lambda _=None, n=notice: self._forget_notice(n))
            self.liquidation_notices.append(notice)
            notice.show()
            notice.raise_()
        self._reports_seen = len(reports)
        if self._wipe_out_check:
            self._wipe_out_check = False
            self.offer_new_session_if_wiped_out()

    def _refresh_journal_state(self) -> None:
        """The journal's write failure shown while it lasts: the red line, a notice when it starts and ends, and
        the ticket disabled (the desk refuses orders then anyway). While orders are held (the journal is still
        opening) the ticket is disabled with the reason, and the replay bar, the status bar and the title say
        "Opening the journal…"; not the red line: shown for that second it would push the whole window down, then
        up again once the journal is open, under a chart the first frame already drew in place."""
        ok = self.desk.journal_available
        problem = self.desk.journal_problem or "The journal cannot be written."
        why = problem if not ok else self.orders_held
        self.journal_banner.setText(problem if not ok else "")
        self.journal_banner.setVisible(not ok)
        self.ticket.setEnabled(why is None)
        self.ticket.setToolTip(why or "")
        if ok is not self._journal_ok:
            ts = self.desk.clock_ms or 0
            self.notify(Notice(ts, f"{hhmm(ts)} {problem}", "alert", important=True) if not ok else
                        Notice(ts, f"{hhmm(ts)} The journal writes again: nothing was lost.", "good"))
        self._journal_ok = ok

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
        for report in self.desk.liquidation_reports:
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
        self.chart_toolbar.show_symbol(symbol)
        self._pending.clear()
        self._load_chart(symbol)
        self._mark(ALL_PARTS - {"chart"})

    def set_timeframe(self, timeframe: str) -> None:
        """Show the chart in ``timeframe`` candles: the desk's 1-minute history aggregated, no hole (issue 8.7)."""
        self.timeframe = timeframe
        self.chart_toolbar.show_timeframe(timeframe)
        self._pending.clear()
        self._load_chart(self.chart_symbol)
        self._mark(ALL_PARTS - {"chart"})

    def _load_chart(self, symbol: str) -> None:
        minutes = self.desk.history(symbol)
        self._chart_first = minutes.first_open_ms if len(minutes) else None
        self._forming_agg = FormingAggregator(self.timeframe)
        self._forming_agg.seed(minutes)
        series = chart_series(minutes, self.timeframe)
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

    def _history_reloaded(self) -> bool:
        """The desk's history of the chart symbol now starts elsewhere than the chart's (a live backfill arrived,
        or reloaded after a switch): the chart must reload it. Appends of new candles come through the ticks."""
        minutes = self.desk.history(self.chart_symbol)
        return (minutes.first_open_ms if len(minutes) else None) != getattr(self, "_chart_first", None)

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
        if self.desk.finished:
            ts = self.desk.clock_ms or 0
            self.notify(Notice(ts, f"{hhmm(ts)} Nothing left to play: the replay's data has ended. "
                               "Start a new session to replay again.", "info"))
            return
        self.replay_bar.toggle()

    # --- sessions ----------------------------------------------------------------------------------------

    def switch_session(self, desk: TradingDesk) -> None:
        """Show another session: every desk-bound panel is rebuilt for ``desk`` and subscribed to it, the old
        desk is unsubscribed (its typed journal edits written first); ``session_switched(old, new)`` then tells
        the app, which closes the old desk and drives the new one's replay."""
        old = self.desk
        if desk is old:
            return
        if not self.tables_deferred:
            self.journal_panel.flush()
        self._unsubscribe()
        self._frame.stop()
        self._dirty.clear()
        self._pending.clear()
        self._lines.clear()
        self._unannounced.clear()
        self._shots.clear()
        self._open_qty.clear()
        self.open_trades.clear()
        for notice in list(self.liquidation_notices):
            notice.close()
        self.liquidation_notices.clear()
        if self.wipe_out_offer is not None:
            self.wipe_out_offer.close()
            self.wipe_out_offer = None
        if self.statistics_view is not None:  # it shows the old session
            self.statistics_view.close()
            self.statistics_view = None
        self.desk = desk
        self.timeframe = "1m"  # the rebuilt chart toolbar starts on 1m: so does the chart
        self._forming_agg = FormingAggregator(self.timeframe)
        self._build()
        desktop = getattr(self, "desktop", None)  # None while __init__ builds the first session
        if desktop is not None:
            desktop.rebind()
        self.centralWidget().setVisible(self.isVisible())  # at once, not at Qt's next turn of the loop
        for action in self.menus.view_toggles.values():  # hidden panels stay hidden in the new session
            action.toggled.emit(action.isChecked())
        self._bind()
        self.session_switched.emit(old, desk)

    def open_desk(self, desk: TradingDesk, sessions: SessionManager | None = None) -> None:
        """The journal is open (issue 10.3): show its session instead of the start-up shell's and take orders. Every
        panel is rebuilt for ``desk`` (``switch_session``), so a shell that guessed another dataset, clock or symbol
        is simply reloaded; the ticket keeps the shell's symbol when the session has it."""
        symbol = self.ticket.symbol
        if sessions is not None:
            self.sessions = sessions
        self.switch_session(desk)
        update_file_menu(self)
        if symbol in desk.symbols and symbol != self.ticket.symbol:
            self.ticket.set_symbol(symbol)

    def _connect_transfer(self) -> None:
        """File > Import / Export open the dialogs of ``hexdesk.ui.import_export`` (imported when first used: not
        needed for the first paint)."""
        self.export_requested.connect(lambda: _import_export().export_dialog(self, self.desk))
        self.import_requested.connect(lambda: _import_export().import_dialog(
            self, self.desk.journal, on_imported=self.show_imported))
        update_file_menu(self)

    def export_session(self, kind: ExportKind, path: Path | str) -> int | None:
        """Export this session (trades / fills / orders CSV, or a backup) to ``path``: File > Export without the
        file dialog. The row count, or None when it failed (the error is shown)."""
        return _import_export().export_dialog(self, self.desk, kind, path)

    def import_session(self, path: Path | str) -> ImportOutcome | None:
        """Import a backup or a Binance trade history from ``path`` into a new session: File > Import without the
        file dialog; then ``show_imported``."""
        return _import_export().import_dialog(self, self.desk.journal, path, on_imported=self.show_imported)

    def confirm(self, title: str, text: str) -> bool:
        """Ask yes / no (tests replace this)."""
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def show_imported(self, outcome: ImportOutcome) -> None:
        """An import made a new session. A backup is a practice session: offer to open it. Imported real trades
        (a journal-only session, read-only: nothing to replay) are shown in the Statistics window over all the
        journal's sessions, and the Sessions list, with the new session selected, says where they are."""
        if self.sessions is None:
            return
        summary = self.sessions.journal.session(outcome.session_id)
        if not summary.journal_only:
            if self.confirm("Imported", f"{outcome.message}\n\nOpen “{outcome.name}” now?"):
                self.switch_session(self.sessions.open(outcome.session_id))
            return
        from hexdesk.ui.statistics_view import ALL_SESSIONS

        self.show_statistics().scope_box.setCurrentText(ALL_SESSIONS)
        dialog = self.open_sessions("list")
        if dialog is not None:
            dialog.select_session(outcome.session_id)

    def set_session_manager(self, sessions: SessionManager) -> None:
        """The app's ``SessionManager`` (when it was not given to the constructor)."""
        self.sessions = sessions
        update_file_menu(self)

    def open_sessions(self, tab: str = "list") -> SessionDialog | None:
        """File > New session / Open session: the session dialog on its New or Sessions tab (window-modal,
        the replay runs on). A desk it opens becomes this window's (``switch_session``)."""
        if self.sessions is None:
            return None
        if self.session_dialog is not None:
            self.session_dialog.close()
        from hexdesk.ui.session_dialog import SessionDialog

        dialog = SessionDialog(self.sessions, self.desk.session_id, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.tabs.setCurrentIndex(1 if tab == "new" else 0)
        dialog.deskOpened.connect(self.switch_session)
        dialog.destroyed.connect(lambda _=None: setattr(self, "session_dialog", None))
        self.session_dialog = dialog
        dialog.open()
        return dialog

    def start_balance(self) -> Decimal | None:
        """The session's starting balance, from its journal summary (None without a journal)."""
        sid = self.desk.session_id
        for summary in self.desk.sessions() if sid is not None else ():
            if summary.id == sid:
                return Decimal(summary.start_balance)
        return None

    def offer_new_session_if_wiped_out(self) -> bool:
        """After a liquidation: if equity is below 5% of the starting balance, offer a new session (once per
        session, non-blocking). Returns whether the offer is shown."""
        start = self.start_balance()
        if self._wipe_out_offered or not start:
            return False
        equity = self.desk.account().margin_balance
        if equity >= start * WIPE_OUT_SHARE:
            return False
        self._wipe_out_offered = True
        from hexdesk.ui.session_dialog import WipeOutOffer

        offer = WipeOutOffer(equity, start, self)
        offer.newButton.setEnabled(self.sessions is not None)
        if self.sessions is None:
            offer.newButton.setToolTip("Restart HexDesk with --new-session")
        offer.newSessionRequested.connect(lambda: self.open_sessions("new"))
        offer.destroyed.connect(lambda _=None: setattr(self, "wipe_out_offer", None))
        self.wipe_out_offer = offer
        geo = self.geometry()
        offer.adjustSize()  # bottom left, over the tables: clear of the centred liquidation notice and the chart
        offer.move(geo.left() + 24, geo.bottom() - offer.height() - 24)
        offer.show()
        return True

    # --- panels and the journal ------------------------------------------------------------------------

    def add_panel(self, title: str, factory: Callable[[Any], QWidget]) -> QWidget:
        """A bottom tab built by ``factory(desk)`` (again for each session) with a View toggle: the Trades tab.

        A panel with a ``tradeSelected(str)`` signal drives the Journal tab; ``tradeActivated(str)`` also
        brings the Journal tab forward."""
        self._panels.append((title, factory))
        widget = factory(self.desk)
        if not self.tables_deferred:  # (else built with the other tabs once the session is open)
            self._add_panel_widget(title, widget)
        from hexdesk.ui.menus import add_view_toggle

        add_view_toggle(self, self.menus, title, lambda on, t=title: self.set_tab_visible(t, on))
        return widget

    def _add_panel_widget(self, title: str, widget: QWidget) -> None:
        self.panels[title] = widget
        self.tabs.insertTab(self.tabs.indexOf(self.journal_panel), widget, title)
        for name, reveal in (("tradeSelected", False), ("trade_selected", False), ("tradeActivated", True)):
            signal = getattr(widget, name, None)
            if signal is not None:
                signal.connect(lambda key, r=reveal: self.show_trade_journal(key, reveal=r))

    def set_tab_visible(self, title: str, visible: bool) -> None:
        """Show or hide the bottom tab named ``title`` (its text without the "(n)" count)."""
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i).split(" (")[0] == title:
                self.tabs.setTabVisible(i, visible)

    def show_trade_journal(self, trade_key: str | None, *, reveal: bool = False) -> None:
        """Journal ``trade_key`` (the Trades tab's selection); ``reveal`` brings the Journal tab forward."""
        if self.tables_deferred:
            return
        self.journal_panel.show_trade(trade_key)
        if reveal:
            self.tabs.setCurrentWidget(self.journal_panel)

    def _follow_fills(self, fills: Iterable[Fill], *, shoot: bool) -> None:
        """Follow each symbol's position through fills: a fill from flat opens a round trip keyed
        ``SYMBOL:trade_id`` (the contract's trade_key), one back to flat closes it, one through zero does both.
        With ``shoot``, entries and exits queue a chart screenshot for the end of the next frame."""
        for fill in fills:
            before = self._open_qty.get(fill.symbol, Decimal(0))
            after = before + fill.side.sign * fill.quantity
            self._open_qty[fill.symbol] = after
            if before and (not after or (before > 0) != (after > 0)):
                key = self.open_trades.pop(fill.symbol, None)
                if key is not None and shoot:
                    self._shots.append((fill.symbol, key, "exit"))
            if after and (not before or (before > 0) != (after > 0)):
                key = f"{fill.symbol}:{fill.trade_id}"
                self.open_trades[fill.symbol] = key
                if shoot:
                    self._shots.append((fill.symbol, key, "entry"))
        if shoot and self._shots:
            self._mark(("chart", "lines", "markers"))

    def _take_screenshots(self) -> None:
        """Grab the chart as it now stands for each queued entry / exit and store it with the trade. A fill on a
        symbol the chart does not show is not photographed (the picture would show another market)."""
        from hexdesk.ui.journal_panel import DeskJournal

        shots, self._shots = self._shots, []
        store = DeskJournal(self.desk)
        if not store.available:
            return
        png: bytes | None = None
        for symbol, key, kind in shots:
            if symbol != self.chart_symbol:
                continue
            if png is None:
                png = chart_png(self.chart)
            try:
                store.add_screenshot(key, kind, png)
            except Exception as exc:  # a journal that cannot write loses the picture, never the frame
                self.show_message(f"Screenshot not saved: {exc}", "error")
                continue
            if kind == "entry" and not self.journal_panel.isAncestorOf(self.focusWidget() or self):
                self.journal_panel.show_trade(key)  # the trade just opened is the one to journal
            elif key == self.journal_panel.trade_key:
                self.journal_panel.refresh_screenshots()

    def show_message(self, text: str, tone: str) -> None:
        self.message.setText(text)
        self.message.setToolTip(text)
        self.message.setVisible(bool(text))
        self.message.setStyleSheet(f"color: {theme.RED if tone == 'error' else theme.MUTED};")

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.tables_deferred:
            self.journal_panel.flush()  # what was typed in the last 300 ms is written before the session ends
        self._frame.stop()
        self._unsubscribe()
        super().closeEvent(event)
        self.closed.emit()


class _TicketToCome(QWidget):
    """The start-up shell's ticket until its first paint is done (issue 10.3): the ticket's place and background,
    and the symbol it will show (the remembered one, set by ui/settings.py). What the window and its keys ask of a
    ticket it answers as a held ticket would: nothing to send, nothing to clear."""

    symbolChanged = Signal(str)
    submitted = Signal(object)

    def __init__(self, desk: TradingDesk) -> None:
        super().__init__(objectName="orderTicket")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.symbol = desk.symbols[0]  # as OrderTicket's symbol list starts

    def set_symbol(self, symbol: str) -> None:
        if symbol != self.symbol:
            self.symbol = symbol
            self.symbolChanged.emit(symbol)

    def choose_side(self, side: Side) -> None:
        """Orders are held."""

    def submit_from_enter(self) -> None:
        """Orders are held."""

    def clear_order(self) -> None:
        """Nothing typed yet."""

    def sync_settings(self) -> None:
        """The real ticket reads them when it comes."""

    def refresh_price(self) -> None:
        """The real ticket reads it when it comes."""


class _AfterFirstPaint(QObject):
    """Calls ``then`` :data:`SHELL_TICKET_DELAY_MS` after ``chart`` was first painted with candles. The app's
    ``shell.FirstPaint`` returns from the paint's own turn of the event loop and the journal is opened before the
    loop runs again, so in the app the session's desk always comes first (a zero delay would run within that turn)."""

    def __init__(self, chart: CandleChart, then: Callable[[], None]) -> None:
        super().__init__(chart)
        self._then = then
        self._viewport = chart.price_view.scene().views()[0].viewport()
        self._chart = chart
        self._viewport.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self._viewport and event.type() == QEvent.Type.Paint and self._chart.candle_count > 0:
            self._viewport.removeEventFilter(self)
            QTimer.singleShot(SHELL_TICKET_DELAY_MS, self._then)
        return False


def _import_export() -> ModuleType:
    from hexdesk.ui import import_export

    return import_export


def chart_png(widget: QWidget) -> bytes:
    """The widget as it is on screen, as PNG bytes."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    widget.grab().save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


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
