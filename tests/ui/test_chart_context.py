"""Trading from the chart (issue 10.6) on a real desk: the right-click menu fills the ticket with a limit or stop at
the clicked price (snapped to the 0.1 tick), and dragging an order's line moves the order in the engine."""

import re
from decimal import Decimal

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication

from hexdesk.engine.enums import OrderType, Side
from hexdesk.engine.orders import OrderRequest
from hexdesk.ui.chart_context import choices, snap
from hexdesk.ui.main_window import MainWindow
from tests.ui.real_desk import PRICE, SYMBOL, real_desk


@pytest.fixture
def window(qtbot) -> MainWindow:
    w = MainWindow(real_desk())
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_snap_rounds_to_the_nearest_tick():
    tick = Decimal("0.1")
    assert snap(84950.04, tick) == Decimal("84950.0")
    assert snap(84950.05, tick) == Decimal("84950.1")  # half up
    assert snap(84950.16, tick) == Decimal("84950.2")


def test_limits_rest_on_the_near_side_stops_on_the_far():
    last = Decimal("85000")
    assert choices(Decimal("84000"), last) == [(Side.BUY, OrderType.LIMIT), (Side.SELL, OrderType.STOP_MARKET)]
    assert choices(Decimal("86000"), last) == [(Side.SELL, OrderType.LIMIT), (Side.BUY, OrderType.STOP_MARKET)]


def right_click_at(window: MainWindow, price: float) -> None:
    """A real context-menu event on the chart's viewport at the pixel showing ``price``."""
    chart = window.chart
    (x0, x1), _ = chart.price_view.viewRange()
    scene = chart.price_view.mapViewToScene(QPointF((x0 + x1) / 2, price))
    view = window.desktop.chart_trading.graphics_view
    pos = view.mapFromScene(scene)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, view.viewport().mapToGlobal(pos))
    QApplication.sendEvent(view.viewport(), event)


def test_right_click_below_the_market_offers_buy_limit_and_sell_stop_and_fills_the_ticket(qtbot, window):
    chart = window.chart
    _, (y0, y1) = chart.price_view.viewRange()
    below = y0 + (y1 - y0) * 0.25  # a price in the lower quarter of the view: under the last price
    assert below < float(PRICE)
    right_click_at(window, below)
    menu = window.desktop.chart_trading.menu
    assert menu is not None and menu.isVisible()
    texts = [a.text() for a in menu.actions()]
    match = re.fullmatch(r"Buy limit at ([\d,]+\.\d)", texts[0])
    assert match, texts
    assert texts[1] == f"Sell stop at {match.group(1)}"
    clicked = Decimal(match.group(1).replace(",", ""))
    pixel = (y1 - y0) / chart.price_view.height()  # one pixel in price
    assert abs(float(clicked) - below) <= pixel + 0.1
    menu.actions()[0].trigger()
    ticket = window.ticket
    assert ticket.orderTypeInput.currentText() == "Limit"
    assert ticket.priceInput.value() == clicked
    assert ticket.implied_side() is Side.BUY  # Enter will send a Buy; nothing was sent
    assert window.desk.open_orders() == []


def test_right_click_above_offers_sell_limit_and_buy_stop(qtbot, window):
    _, (y0, y1) = window.chart.price_view.viewRange()
    above = y1 - (y1 - y0) * 0.05  # near the top of the view: over the last price
    assert above > float(PRICE)
    right_click_at(window, above)
    texts = [a.text() for a in window.desktop.chart_trading.menu.actions()]
    assert texts[0].startswith("Sell limit at ") and texts[1].startswith("Buy stop at ")
    window.desktop.chart_trading.menu.actions()[1].trigger()
    assert window.ticket.orderTypeInput.currentText() == "Stop Market"
    assert window.ticket.implied_side() is Side.BUY


def test_right_click_outside_the_price_pane_shows_no_menu(qtbot, window):
    view = window.desktop.chart_trading.graphics_view
    pos = QPoint(5, view.viewport().height() - 3)  # the time axis at the bottom
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, view.viewport().mapToGlobal(pos))
    QApplication.sendEvent(view.viewport(), event)
    assert window.desktop.chart_trading.menu is None
    assert event.type() == QEvent.Type.ContextMenu


def open_long_with_stop(window: MainWindow, stop: str = "84000.0") -> int:
    desk = window.desk
    desk.set_leverage(SYMBOL, 10)
    result = desk.submit(OrderRequest.market(SYMBOL, Side.BUY, Decimal("0.100"), stop_loss=Decimal(stop)))
    assert result.ok, result.rejection
    window.refresh_now()
    (stop,) = [o for o in desk.open_orders() if o.type is OrderType.STOP_MARKET]
    return stop.order_id


def test_dragging_the_stop_loss_line_moves_the_stop(qtbot, window):
    stop_id = open_long_with_stop(window)
    line = window.chart.line_item(f"order:{stop_id}")
    assert line is not None and line.movable
    line.moving = True  # as pyqtgraph flags a drag in progress: the label previews the drop
    line.setValue(83500.04)
    label = line.label.toPlainText()
    assert "→ 83,500.0" in label and "USDT" in label, label  # price and the position's result there
    line.moving = False
    line.sigPositionChangeFinished.emit(line)  # the drop
    (stop,) = [o for o in window.desk.open_orders() if o.type is OrderType.STOP_MARKET]
    assert stop.stop_price == Decimal("83500.0")  # snapped to the tick
    assert stop.close_position and stop.side is Side.SELL  # still the position's stop-loss
    assert stop.order_id != stop_id  # Binance has no modify for stops: replaced
    window.refresh_now()
    new_line = window.chart.line_item(f"order:{stop.order_id}")
    assert new_line is not None and new_line.movable
    assert window.chart.price_line(f"order:{stop.order_id}") == (83500.0, "SL 83,500.0")
    assert window.chart.line_item(f"order:{stop_id}") is None


def test_dragging_a_stop_past_the_market_is_refused_and_the_line_goes_back(qtbot, window):
    stop_id = open_long_with_stop(window)
    line = window.chart.line_item(f"order:{stop_id}")
    line.setValue(float(PRICE) + 1000)  # a sell stop above the last price would trigger at once: -2021
    line.sigPositionChangeFinished.emit(line)
    (stop,) = [o for o in window.desk.open_orders() if o.type is OrderType.STOP_MARKET]
    assert (stop.order_id, stop.stop_price) == (stop_id, Decimal("84000.0"))
    assert float(line.value()) == 84000.0
    assert "-2021" in window.message.text()


def test_dragging_a_limit_line_amends_the_order_in_place(qtbot, window):
    desk = window.desk
    result = desk.submit(OrderRequest.limit(SYMBOL, Side.BUY, Decimal("0.010"), Decimal("84000.0")))
    order_id = result.order.order_id
    window.refresh_now()
    line = window.chart.line_item(f"order:{order_id}")
    line.setValue(84100.06)
    line.sigPositionChangeFinished.emit(line)
    (order,) = desk.open_orders()
    assert (order.order_id, order.price) == (order_id, Decimal("84100.1"))
    window.refresh_now()
    assert window.chart.price_line(f"order:{order_id}")[0] == pytest.approx(84100.1)


def test_a_real_mouse_drag_of_the_stop_line(qtbot, window):
    """Press on the SL line, move with the button held, release: pyqtgraph's own drag, as a trader does it."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent

    stop_id = open_long_with_stop(window, "84600.0")  # within the prices on screen (84,382-85,300)
    chart = window.chart
    view = window.desktop.chart_trading.graphics_view
    (x0, x1), _ = chart.price_view.viewRange()
    x = x0 + (x1 - x0) * 0.3

    def at(price: float) -> QPointF:
        return QPointF(view.mapFromScene(chart.price_view.mapViewToScene(QPointF(x, price))))

    start, end = at(84600.0), at(84700.0)
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    mods = Qt.KeyboardModifier.NoModifier
    viewport = view.viewport()

    def send(kind, pos, button, buttons):
        QApplication.sendEvent(viewport, QMouseEvent(kind, pos, viewport.mapToGlobal(pos), button, buttons, mods))

    send(QEvent.Type.MouseMove, start, none, none)
    send(QEvent.Type.MouseButtonPress, start, left, left)
    for k in range(1, 11):
        qtbot.wait(25)  # pyqtgraph's scene drops mouse moves closer together than a frame
        send(QEvent.Type.MouseMove, start + (end - start) * (k / 10), none, left)
    line = chart.line_item(f"order:{stop_id}")
    assert "→" in line.label.toPlainText()  # the label follows the drag before the drop
    send(QEvent.Type.MouseButtonRelease, end, left, none)
    (stop,) = [o for o in window.desk.open_orders() if o.type is OrderType.STOP_MARKET]
    pixel = (chart.price_view.viewRange()[1][1] - chart.price_view.viewRange()[1][0]) / chart.price_view.height()
    assert stop.order_id != stop_id
    assert abs(stop.stop_price - Decimal("84700.0")) <= Decimal(str(pixel)) + Decimal("0.1")
    assert stop.stop_price == stop.stop_price.quantize(Decimal("0.1"))  # on the tick grid
