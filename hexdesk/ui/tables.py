"""The bottom tabs: open positions (with Close), open orders (with Cancel) and this session's fills.

Each table is a QTableView over a small read-only model of engine values; the model formats cells with the
instrument's tick and step and colours sides and PnL. ``refresh()`` re-reads the desk: when the row count is
unchanged only ``dataChanged`` is emitted, so a per-frame refresh of moving marks keeps selection and scroll.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QPersistentModelIndex, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from hexdesk.engine.enums import OrderType, Side
from hexdesk.ui import format as fmt
from hexdesk.ui import theme

if TYPE_CHECKING:
    from hexdesk.engine.fills import Fill
    from hexdesk.engine.instruments import Instrument
    from hexdesk.engine.orders import Order
    from hexdesk.engine.positions import Position
    from hexdesk.service import TradingDesk

_Index = QModelIndex | QPersistentModelIndex
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
CENTER = Qt.AlignmentFlag.AlignCenter
BUTTON_WIDTH = 84


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header, how a row becomes text, and optionally a colour and alignment."""

    title: str
    text: Callable[[Any], str]
    color: Callable[[Any], str | None] | None = None
    align: Qt.AlignmentFlag = RIGHT
    button: bool = False  # drawn as a push button by ButtonDelegate
    tip: str = ""  # the header's tooltip: what the column means


def _side_color(side: Side | None) -> str | None:
    return None if side is None else theme.GREEN if side is Side.BUY else theme.RED


class RowsModel(QAbstractTableModel):
    """Rows of engine values shown through ``Column``s; read-only."""

    def __init__(self, columns: Sequence[Column], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self.rows: list[Any] = []
        self._colors = {name: QBrush(QColor(name)) for name in (theme.GREEN, theme.RED, theme.ORANGE, theme.MUTED)}

    def set_rows(self, rows: Sequence[Any]) -> None:
        rows = list(rows)
        if len(rows) == len(self.rows):
            self.rows = rows
            if rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(self.columns) - 1))
        else:
            self.beginResetModel()
            self.rows = rows
            self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt override)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt override)
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation is Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return self.columns[section].title
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return self.columns[section].align
            if role == Qt.ItemDataRole.ToolTipRole:
                return self.columns[section].tip or None
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column, row = self.columns[index.column()], self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == Qt.ItemDataRole.ForegroundRole and column.color is not None:
            colour = column.color(row)
            return self._colors.get(colour, QBrush(QColor(colour))) if colour else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return column.align
        return None


class ButtonDelegate(QStyledItemDelegate):
    """Paints the cell as a small button and reports a click on it: one widget for all rows, nothing to recreate."""

    clicked = Signal(int)  # row

    def __init__(self, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colour = QColor(colour)

    def _button_rect(self, cell: QRect) -> QRect:
        return cell.adjusted(6, 3, -6, -3)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if not text:
            return
        r = self._button_rect(option.rect)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
        painter.setPen(QPen(self.colour, 1))
        painter.setBrush(QColor(self.colour.red(), self.colour.green(), self.colour.blue(), 70 if hover else 28))
        painter.drawRoundedRect(r, 3, 3)
        painter.setPen(self.colour.lighter(120))
        painter.drawText(r, CENTER, text)
        painter.restore()

    def editorEvent(self, event: QEvent, model: Any, option: QStyleOptionViewItem, index: _Index) -> bool:
        if (
            event.type() == QEvent.Type.MouseButtonRelease
            and isinstance(event, QMouseEvent)
            and event.button() == Qt.MouseButton.LeftButton
            and self._button_rect(option.rect).contains(event.position().toPoint())
            and index.data(Qt.ItemDataRole.DisplayRole)
        ):
            self.clicked.emit(index.row())
            return True
        return super().editorEvent(event, model, option, index)


class DeskTable(QTableView):
    """A read-only, row-selecting table of desk values that says so when it is empty."""

    status = Signal(str, str)  # text, tone ("ok" / "error"): the outcome of a Close or Cancel click

    empty_text = ""

    def __init__(self, desk: TradingDesk, columns: Sequence[Column], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self._instruments: dict[str, Instrument] = {}
        self.rows_model = RowsModel(columns, self)
        self.setModel(self.rows_model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setMouseTracking(True)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(26)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # widths come from fit_columns()
        header.setHighlightSections(False)
        self._fit_timer = QTimer(self, singleShot=True, interval=0)
        self._fit_timer.timeout.connect(self.fit_columns)
        self.rows_model.modelReset.connect(self._fit_timer.start)
        self.rows_model.dataChanged.connect(self._fit_timer.start)
        self.fit_columns()

    def fit_columns(self) -> None:
        """Every column at least as wide as its header and its cells (equal stretched widths clipped "Liq. price"
        to "iq. price" in a 1280-wide window); room to spare is shared out, too little room scrolls."""
        header = self.horizontalHeader()
        columns = self.rows_model.columns
        widths = [
            BUTTON_WIDTH if col.button else max(header.sectionSizeHint(i), self.sizeHintForColumn(i)) + 8
            for i, col in enumerate(columns)
        ]
        flexible = [i for i, col in enumerate(columns) if not col.button]
        spare = self.viewport().width() - sum(widths)
        if spare > 0 and flexible:
            share, rest = divmod(spare, len(flexible))
            for k, i in enumerate(flexible):
                widths[i] += share + (1 if k < rest else 0)
        for i, width in enumerate(widths):
            if header.sectionSize(i) != width:
                header.resizeSection(i, width)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_columns()

    def instrument(self, symbol: str) -> Instrument:
        inst = self._instruments.get(symbol)
        if inst is None:
            inst = self._instruments[symbol] = self.desk.instrument(symbol)
        return inst

    def price(self, symbol: str, value: Decimal | None) -> str:
        return fmt.price(value, self.instrument(symbol).tick_size)

    def qty(self, symbol: str, value: Decimal | None) -> str:
        return fmt.qty(value, self.instrument(symbol).step_size)

    def _button_column(self, colour: str, on_click: Callable[[int], None]) -> None:
        delegate = ButtonDelegate(colour, self)
        delegate.clicked.connect(on_click)
        for i, col in enumerate(self.rows_model.columns):
            if col.button:
                self.setItemDelegateForColumn(i, delegate)

    def _report(self, result: Any, done: str) -> None:
        if result.ok:
            self.status.emit(done, "ok")
        else:
            self.status.emit(str(result.rejection), "error")

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.rows_model.rowCount() == 0 and self.empty_text:
            painter = QPainter(self.viewport())
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(self.viewport().rect(), CENTER, self.empty_text)


class PositionsTable(DeskTable):
    """Open positions valued at the mark: size, entry, mark, liquidation, margin, margin ratio, PnL (ROE) and Close."""

    empty_text = "No open positions"

    def __init__(self, desk: TradingDesk, parent: QWidget | None = None) -> None:
        p = self
        columns = (
            Column("Symbol", lambda r: f"{r.symbol}  {r.leverage}x", align=LEFT),
            Column("Side", lambda r: "Long" if r.quantity > 0 else "Short", lambda r: _side_color(r.side), LEFT),
            Column("Size", lambda r: p.qty(r.symbol, r.size)),
            Column("Entry", lambda r: p.price(r.symbol, r.entry_price)),
            Column("Mark", lambda r: p.price(r.symbol, r.mark_price)),
            Column("Liq. price", lambda r: p.price(r.symbol, r.liquidation_price), lambda r: theme.ORANGE),
            Column("Margin", _margin_text),
            Column("Margin ratio", lambda r: fmt.pct(r.margin_ratio), _ratio_color),
            Column("PnL (ROE %)", _pnl_text, lambda r: theme.pnl_color(r.unrealized_pnl)),
            Column("", lambda r: "Close", button=True),
            Column("", lambda r: "± Margin" if r.margin_mode.value == "ISOLATED" else "", button=True,
                   tip="Add or remove an isolated position's margin"),
        )
        super().__init__(desk, columns, parent)
        self.setObjectName("positionsTable")
        self._button_column(theme.TEXT, self.close_row)
        margin = ButtonDelegate(theme.ACCENT, self)  # issue 10.6: hexdesk/ui/margin_dialog.py opens on it
        margin.clicked.connect(lambda row: self.margin_requested.emit(self.rows_model.rows[row].symbol))
        self.setItemDelegateForColumn(len(columns) - 1, margin)

    margin_requested = Signal(str)  # symbol: the "± Margin" button of an isolated position

    def refresh(self) -> None:
        self.rows_model.set_rows(self.desk.positions())

    def close_row(self, row: int) -> None:
        """Close the row's position at market (the desk sends a reduce-only order)."""
        position: Position = self.rows_model.rows[row]
        result = self.desk.close_position(position.symbol)
        self._report(result, f"Closed {position.symbol}")


def _margin_text(p: Position) -> str:
    if p.margin_mode.value == "ISOLATED":
        return f"Isolated {fmt.usdt(p.isolated_wallet)}"
    return f"Cross {fmt.usdt(p.initial_margin)}"


def _ratio_color(p: Position) -> str | None:
    if p.margin_ratio >= Decimal("0.8"):
        return theme.RED
    if p.margin_ratio >= Decimal("0.5"):
        return theme.ORANGE
    return None


def _pnl_text(p: Position) -> str:
    return f"{fmt.usdt(p.unrealized_pnl, sign=True)} ({fmt.pct(p.roe, sign=True)})"


class OpenOrdersTable(DeskTable):
    """Resting and conditional orders (attached stop-loss / take-profit included) with Cancel."""

    empty_text = "No open orders"

    def __init__(self, desk: TradingDesk, parent: QWidget | None = None) -> None:
        t = self
        columns = (
            Column("Time", lambda o: fmt.utc_time(o.created_ms), align=LEFT),
            Column("Symbol", lambda o: o.symbol, align=LEFT),
            Column("Type", _order_kind, align=LEFT),
            Column("Side", lambda o: o.side.value.title(), lambda o: _side_color(o.side), LEFT),
            Column("Price", lambda o: t.price(o.symbol, o.price) if o.type.has_limit_price else "Market"),
            Column("Trigger", lambda o: t.price(o.symbol, o.stop_price) if o.type.is_conditional else fmt.NONE),
            Column("Amount", lambda o: "Close position" if o.close_position else t.qty(o.symbol, o.quantity)),
            Column("Filled", lambda o: t.qty(o.symbol, o.executed_qty)),
            Column("Reduce only", lambda o: "Yes" if o.reduce_only or o.close_position else "No"),
            Column("", lambda o: "Cancel", button=True),
        )
        super().__init__(desk, columns, parent)
        self.setObjectName("openOrdersTable")
        self._button_column(theme.RED, self.cancel_row)

    def refresh(self) -> None:
        self.rows_model.set_rows(sorted(self.desk.open_orders(), key=lambda o: o.created_ms, reverse=True))

    def cancel_row(self, row: int) -> None:
        order: Order = self.rows_model.rows[row]
        result = self.desk.cancel(order.symbol, order.order_id)
        self._report(result, f"Canceled {_order_kind(order)} {order.symbol}")


_KIND_NAMES = {
    OrderType.MARKET: "Market",
    OrderType.LIMIT: "Limit",
    OrderType.STOP: "Stop Limit",
    OrderType.STOP_MARKET: "Stop Market",
    OrderType.TAKE_PROFIT: "Take Profit Limit",
    OrderType.TAKE_PROFIT_MARKET: "Take Profit Market",
}


def _order_kind(o: Order) -> str:
    return _KIND_NAMES.get(o.type, o.type.value)


class FillsTable(DeskTable):
    """This session's executions, newest first: time, symbol, side, price, qty, fee, realized and net PnL, liquidation.

    Net PnL is what the fill did to the wallet: realized PnL (Binance reports it before fees) minus the fee.
    """

    empty_text = "No trades yet this session"

    def __init__(self, desk: TradingDesk, parent: QWidget | None = None) -> None:
        t = self
        columns = (
            Column("Time (UTC)", lambda f: fmt.utc_time(f.ts_ms), align=LEFT),
            Column("Symbol", lambda f: f.symbol, align=LEFT),
            Column("Side", lambda f: f.side.value.title(), lambda f: _side_color(f.side), LEFT),
            Column("Price", lambda f: t.price(f.symbol, f.price)),
            Column("Qty", lambda f: t.qty(f.symbol, f.quantity)),
            Column("Fee", lambda f: f"{fmt.usdt(f.fee)} {f.fee_asset}", tip="Trading fee paid on this fill"),
            Column(
                "Realized PnL", lambda f: fmt.usdt(f.realized_pnl, sign=True), _realized_color,
                tip="Profit or loss of the part of a position this fill closed, before the fee",
            ),
            Column(
                "Net PnL", lambda f: fmt.usdt(_net(f), sign=True), lambda f: theme.pnl_color(_net(f)),
                tip="Realized PnL − fee: what this fill did to your wallet",
            ),
            Column("", lambda f: "LIQUIDATED" if f.is_liquidation else "", lambda f: theme.ORANGE, CENTER),
        )
        super().__init__(desk, columns, parent)
        self.setObjectName("fillsTable")

    def refresh(self) -> None:
        self.rows_model.set_rows(list(reversed(self.desk.fills())))


def _net(f: Fill) -> Decimal:
    return f.realized_pnl - f.fee


def _realized_color(f: Fill) -> str | None:
    return theme.pnl_color(f.realized_pnl)
