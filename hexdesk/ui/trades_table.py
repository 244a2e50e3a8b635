"""The Trades tab: one row per round trip (flat to flat), newest first, with R and net PnL coloured.

Rows are ``storage.trades.Trade`` values from ``desk.trades()`` (the desk caches them and rebuilds only when a fill
or a funding settlement arrives). Selecting a row emits ``trade_selected(trade_key)``: the journal panel listens
to show that trade's notes. The selection survives refreshes (it is kept by trade key, not by row number).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelectionModel, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from hexdesk.storage.trades import ExitReason, Trade
from hexdesk.ui import format as fmt
from hexdesk.ui import theme
from hexdesk.ui.tables import CENTER, LEFT, Column, DeskTable

if TYPE_CHECKING:
    from hexdesk.service import TradingDesk

_REASON_COLOURS = {
    ExitReason.TAKE_PROFIT: theme.GREEN,
    ExitReason.STOP_LOSS: theme.RED,
    ExitReason.LIQUIDATION: theme.ORANGE,
    ExitReason.OPEN: theme.BLUE,
}


def duration(ms: int | None) -> str:
    """``1d 2h``, ``2h 05m``, ``4m 10s``: the two largest units of a trade's length."""
    if ms is None:
        return "open"
    s = ms // 1000
    d, s = divmod(s, 86_400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    if d:
        return f"{d}d {h}h"
    if h:
        return f"{h}h {m:02d}m"
    return f"{m}m {s:02d}s"


def r_text(r: Decimal | None) -> str:
    return fmt.NONE if r is None else f"{r:+.2f}R"


def _fees(t: Trade) -> str:
    text = fmt.usdt(t.fees)
    if t.other_fees:  # never added to the USDT fees: shown beside them, flagged
        text += " + " + ", ".join(f"{amount.normalize():f} {asset}" for asset, amount in t.other_fees) + " ⚑"
    return text


def _mae_mfe(value: Decimal | None, r: Decimal | None) -> str:
    if value is None:
        return fmt.NONE
    return fmt.usdt(value, sign=True) + (f" ({r:+.1f}R)" if r is not None else "")


def _setting(t: Trade) -> str:
    lev = f"{t.leverage}x" if t.leverage else ""
    mode = t.margin_mode.value.title() if t.margin_mode is not None else ""
    return " ".join(p for p in (lev, mode) if p) or fmt.NONE


class TradesTable(DeskTable):
    """This session's round trips: the verdict first (exit reason, net PnL, R), then size, prices, setting, realized
    PnL, fees, funding, MAE/MFE and duration."""

    empty_text = "No trades yet: a round trip appears here once a position is opened"
    trade_selected = Signal(str)  # trade_key

    def __init__(self, desk: TradingDesk, parent: QWidget | None = None) -> None:
        t = self
        columns = (
            Column("Opened (UTC)", lambda r: fmt.utc_time(r.opened_ms), align=LEFT),
            Column("Symbol", lambda r: r.symbol, align=LEFT),
            Column("Side", lambda r: "Long" if r.is_long else "Short",
                   lambda r: theme.GREEN if r.is_long else theme.RED, LEFT),
            Column("Exit reason", lambda r: r.exit_reason.value, lambda r: _REASON_COLOURS.get(r.exit_reason), CENTER,
                   tip="Exit reason, from the closing order's type"),
            Column("Net PnL", lambda r: fmt.usdt(r.net_pnl, sign=True), lambda r: theme.pnl_color(r.net_pnl),
                   tip="Realized PnL − fees + funding: what the trade did to the wallet"),
            Column("R", lambda r: r_text(r.r_multiple), lambda r: theme.pnl_color(r.r_multiple),
                   tip="Net PnL ÷ risk (initial stop distance × size); blank without a stop"),
            Column("Size", lambda r: t.qty(r.symbol, r.max_size), tip="Largest position size during the trade"),
            Column("Entry", lambda r: t.price(r.symbol, r.entry_avg), tip="Average entry price (adds included)"),
            Column("Exit", lambda r: t.price(r.symbol, r.exit_avg), tip="Average exit price (partial closes included)"),
            Column("Lev. / mode", _setting, align=LEFT, tip="Leverage and margin mode when the trade was opened"),
            Column("Realized", lambda r: fmt.usdt(r.realized_pnl, sign=True),
                   lambda r: theme.pnl_color(r.realized_pnl), tip="Realized PnL before fees, as Binance reports it"),
            Column("Fees", _fees, tip="Trading fees in USDT; a fee paid in another coin (BNB) is shown apart, ⚑"),
            Column("Funding", lambda r: fmt.usdt(r.funding, sign=True), lambda r: theme.pnl_color(r.funding),
                   tip="Funding received (+) or paid (−) while the trade was open"),
            Column("MAE", lambda r: _mae_mfe(r.mae, r.mae_r), lambda r: theme.RED if r.mae else None,
                   tip="Maximum adverse excursion: the worst open loss along the price path"),
            Column("MFE", lambda r: _mae_mfe(r.mfe, r.mfe_r), lambda r: theme.GREEN if r.mfe else None,
                   tip="Maximum favourable excursion: the best open profit along the price path"),
            Column("Duration", lambda r: duration(r.duration_ms)),
        )
        super().__init__(desk, columns, parent)
        self.setObjectName("tradesTable")
        self.selected_key: str | None = None
        self.selectionModel().selectionChanged.connect(self._on_selection)

    def refresh(self) -> None:
        rows: list[Any] = list(reversed(self.desk.trades()))
        keep = self.selected_key
        self.rows_model.set_rows(rows)
        if keep is not None:
            self.select_trade(keep, emit=False)

    def select_trade(self, trade_key: str, *, emit: bool = True) -> bool:
        """Select the row of ``trade_key`` (False if it is not listed)."""
        for i, row in enumerate(self.rows_model.rows):
            if row.trade_key == trade_key:
                blocked = self.selectionModel().blockSignals(not emit)
                self.selectionModel().select(
                    self.rows_model.index(i, 0),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
                )
                self.selectionModel().blockSignals(blocked)
                self.selected_key = trade_key
                return True
        return False

    def _on_selection(self, *_: object) -> None:
        rows = self.selectionModel().selectedRows()
        if not rows:
            return
        key = self.rows_model.rows[rows[0].row()].trade_key
        self.selected_key = key
        self.trade_selected.emit(key)


class TradesTab(QWidget):
    """The Trades tab: the table, and a button that opens the Statistics window (``statistics_requested``)."""

    statistics_requested = Signal()

    def __init__(self, desk: TradingDesk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = TradesTable(desk, self)
        self.summary = QLabel("", objectName="muted")
        button = QPushButton("Statistics…", objectName="statisticsButton")
        button.setToolTip("Win rate, expectancy, drawdown, per tag, equity curve, calendar (Ctrl+Shift+S)")
        button.clicked.connect(self.statistics_requested)
        top = QHBoxLayout()
        top.setContentsMargins(8, 4, 8, 0)
        top.addWidget(self.summary, 1)
        top.addWidget(button)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        col.addLayout(top)
        col.addWidget(self.table, 1)

    def set_desk(self, desk: TradingDesk) -> None:
        """Show another session's trades (``MainWindow.switch_session``)."""
        self.table.desk = desk
        self.table._instruments.clear()
        self.table.selected_key = None
        self.refresh()

    def refresh(self) -> None:
        self.table.refresh()
        rows = self.table.rows_model.rows
        closed = [t for t in rows if not t.is_open]
        if not rows:
            self.summary.setText("")
            return
        net = sum((t.net_pnl for t in closed), Decimal(0))
        wins = sum(1 for t in closed if t.net_pnl > 0)
        self.summary.setText(
            f"{len(closed)} closed, {len(rows) - len(closed)} open · {wins} won · net {fmt.usdt(net, sign=True)} USDT"
        )
