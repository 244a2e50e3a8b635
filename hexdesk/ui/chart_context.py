"""Trading from the chart (issue 10.6): right-click a price for a limit or stop there, drag an order's line to move it.

Right-click on the price pane opens a menu for the price under the cursor, snapped to the tick: below the last
price "Buy limit at …" and "Sell stop at …", above it "Sell limit at …" and "Buy stop at …". Choosing one fills
the ticket (order type, price, the side Enter sends) and puts the focus in the size field: the trader still types
a size and presses Buy / Sell (or Enter). Nothing is sent from the menu.

Every open order's line (limit, stop, take-profit, stop-loss) can be dragged; while it moves its label shows the
new price (and, for a take-profit or stop-loss, what the position would make or lose there); dropping it asks the
desk to move the order (``TradingDesk.amend``). A refused price puts the line back and shows Binance's reason.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QMenu

from hexdesk.engine.enums import OrderType, Side
from hexdesk.ui import format as fmt

if TYPE_CHECKING:
    from hexdesk.engine.orders import Order
    from hexdesk.ui.main_window import MainWindow

TICKET_TYPES = {OrderType.LIMIT: "Limit", OrderType.STOP_MARKET: "Stop Market"}
_WORD = {OrderType.LIMIT: "limit", OrderType.STOP_MARKET: "stop"}


def snap(price: float | Decimal, tick: Decimal) -> Decimal:
    """The tick-grid price nearest ``price`` (what a click on the chart means)."""
    return (Decimal(str(price)) / tick).to_integral_value(ROUND_HALF_UP) * tick


def choices(price: Decimal, last: Decimal | None) -> list[tuple[Side, OrderType]]:
    """The orders that make sense at ``price``: a limit rests on the near side of the market, a stop on the far."""
    if last is None or price == last:
        return [(Side.BUY, OrderType.LIMIT), (Side.SELL, OrderType.LIMIT)]
    if price < last:
        return [(Side.BUY, OrderType.LIMIT), (Side.SELL, OrderType.STOP_MARKET)]
    return [(Side.SELL, OrderType.LIMIT), (Side.BUY, OrderType.STOP_MARKET)]


class ChartTrading(QObject):
    """The chart's context menu and draggable order lines, for one main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.chart = window.chart
        self.menu: QMenu | None = None  # the last menu shown (tests trigger its actions)
        self._wired: dict[str, pg.InfiniteLine] = {}
        self._labels: dict[str, str] = {}
        self.graphics_view = self.chart.price_view.scene().views()[0]
        self.graphics_view.viewport().installEventFilter(self)

    # --- right-click ----------------------------------------------------------------------------------

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ContextMenu and isinstance(event, QContextMenuEvent):
            price = self.price_at(event.pos())
            if price is not None:
                self.show_menu(price, event.globalPos())
                return True
        return False

    def price_at(self, viewport_pos: QPoint) -> Decimal | None:
        """The tick-snapped price under a point of the chart's viewport (None outside the price pane)."""
        scene_pos = self.graphics_view.mapToScene(viewport_pos)
        view = self.chart.price_view
        if not view.sceneBoundingRect().contains(scene_pos):
            return None
        tick = self.window.desk.instrument(self.window.chart_symbol).tick_size
        return snap(view.mapSceneToView(scene_pos).y(), tick)

    def menu_for(self, price: Decimal) -> QMenu:
        """The context menu for ``price``: one entry per sensible order there."""
        symbol = self.window.chart_symbol
        desk = self.window.desk
        tick = desk.instrument(symbol).tick_size
        menu = QMenu(self.window)
        menu.setObjectName("chartContextMenu")
        for side, kind in choices(price, desk.last_price(symbol)):
            text = f"{side.value.title()} {_WORD[kind]} at {fmt.price(price, tick)}"
            action = menu.addAction(text)
            action.setToolTip(f"Fill the ticket with a {text}; you still choose the size and press Buy / Sell")
            action.triggered.connect(lambda _=False, s=side, k=kind, p=price: self.fill_ticket(s, k, p))
        return menu

    def show_menu(self, price: Decimal, global_pos: QPoint) -> QMenu:
        self.menu = self.menu_for(price)
        self.menu.popup(global_pos)  # not exec(): the replay and the tests go on while it is open
        return self.menu

    def fill_ticket(self, side: Side, kind: OrderType, price: Decimal) -> None:
        """Put the order in the ticket: its type, its price, the side Enter sends; the size field gets the focus."""
        ticket = self.window.ticket
        if ticket.symbol != self.window.chart_symbol:
            ticket.set_symbol(self.window.chart_symbol)
        ticket.orderTypeInput.setCurrentText(TICKET_TYPES[kind])
        ticket.priceInput.setValue(price)
        ticket.choose_side(side)

    # --- dragging order lines -------------------------------------------------------------------------

    def sync(self) -> None:
        """Make every open order line of the chart symbol draggable (the main window calls this after it has
        drawn the lines; already wired lines are left alone)."""
        orders = self._orders()
        for key in [k for k, line in self._wired.items() if k not in orders or self.chart.line_item(k) is not line]:
            del self._wired[key]
            self._labels.pop(key, None)
        for key in orders:
            line = self.chart.line_item(key)
            if line is None or self._wired.get(key) is line:
                continue
            line.setMovable(True)
            line.setHoverPen(pg.mkPen(line.pen.color(), width=3))
            line.setToolTip("Drag to move this order; drop to send the change")
            line.sigPositionChanged.connect(lambda item, k=key: self._dragging(k, item))
            line.sigPositionChangeFinished.connect(lambda item, k=key: self.drop(k, item))
            self._wired[key] = line

    def _orders(self) -> dict[str, Order]:
        symbol = self.window.chart_symbol
        return {f"order:{o.order_id}": o for o in self.window.desk.open_orders() if o.symbol == symbol}

    def _dragging(self, key: str, line: pg.InfiniteLine) -> None:
        """The label follows the drag: the new price and, for a TP / SL, the position's result there."""
        if not getattr(line, "moving", False):
            return  # moved by a refresh, not by the trader
        order = self._orders().get(key)
        if order is None:
            return
        base = self._labels.setdefault(key, line.label.format)
        line.label.setFormat(f"{base}  → {self.preview_text(order, float(line.value()))}")

    def preview_text(self, order: Order, value: float) -> str:
        """What a drop at ``value`` would mean: the snapped price, and the position's PnL there for a TP / SL."""
        desk = self.window.desk
        inst = desk.instrument(order.symbol)
        price = snap(value, inst.tick_size)
        text = fmt.price(price, inst.tick_size)
        position = desk.position(order.symbol)
        if (order.reduce_only or order.close_position) and position.is_open:
            pnl = position.quantity * (price - position.entry_price)
            text += f" ({fmt.usdt(pnl, sign=True)} USDT)"
        return text

    def drop(self, key: str, line: pg.InfiniteLine) -> object:
        """The trader let go of an order line: move the order there, or put the line back with the reason."""
        order = self._orders().get(key)
        base = self._labels.pop(key, None)
        if base is not None:
            line.label.setFormat(base)
        if order is None:
            return None
        inst = self.window.desk.instrument(order.symbol)
        price = snap(float(line.value()), inst.tick_size)
        old = order.stop_price if order.type.is_conditional else order.price
        if price == old:
            line.setValue(float(old))
            return None
        result = self.window.desk.amend(order.symbol, order.order_id, price)
        if not result.ok:
            line.setValue(float(old))
            self.window.show_message(f"Order not moved: {result.rejection}", "error")
        else:
            self.window.show_message(f"Moved the order to {fmt.price(price, inst.tick_size)}", "ok")
        self.window.refresh_now()
        return result
