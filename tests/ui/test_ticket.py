"""The order ticket builds the request the trader meant, shows the desk's answer, and previews from the desk."""

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton

from hexdesk.engine.enums import MarginMode, OrderType, Side, TimeInForce
from hexdesk.engine.errors import ErrorCode, Rejection
from hexdesk.engine.orders import OrderRequest
from hexdesk.ui import format as fmt
from hexdesk.ui.number_field import NumberField
from hexdesk.ui.ticket import OrderTicket
from tests.ui.fake_desk import FakeDesk

PRICE = Decimal("84950.1")


@pytest.fixture
def desk() -> FakeDesk:
    d = FakeDesk()
    d.push_tick("BTCUSDT", PRICE)
    return d


@pytest.fixture
def ticket(qtbot, desk: FakeDesk) -> OrderTicket:
    t = OrderTicket(desk)
    qtbot.addWidget(t)
    t.show()
    return t


def child(ticket: OrderTicket, cls: type, name: str):
    widget = ticket.findChild(cls, name)
    assert widget is not None, name
    return widget


def type_quantity(qtbot, ticket: OrderTicket, text: str) -> None:
    edit = child(ticket, QLineEdit, "quantityInput")
    edit.clear()
    qtbot.keyClicks(edit, text)


def test_buy_market_sends_the_request_and_shows_the_fill(qtbot, ticket, desk):
    type_quantity(qtbot, ticket, "0.1")
    qtbot.mouseClick(child(ticket, QPushButton, "buyButton"), Qt.MouseButton.LeftButton)

    assert desk.submitted == [OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, quantity=Decimal("0.1"))]
    assert child(ticket, QLabel, "statusLabel").text() == "Filled 0.100 BTCUSDT @ 84,950.1"


def test_sell_limit_with_attached_tp_and_sl(qtbot, ticket, desk):
    child(ticket, QComboBox, "orderTypeInput").setCurrentText("Limit")
    ticket.sizeByRisk.setChecked(False)
    price = child(ticket, QLineEdit, "priceInput")
    assert price.isEnabled() and price.text() == "84950.1"  # pre-filled with the last price
    price.setText("86000")
    ticket.takeProfitInput.setText("82000")
    ticket.stopLossInput.setText("87000")
    type_quantity(qtbot, ticket, "0.050")
    qtbot.mouseClick(child(ticket, QPushButton, "sellButton"), Qt.MouseButton.LeftButton)

    assert desk.submitted[-1] == OrderRequest(
        "BTCUSDT", Side.SELL, OrderType.LIMIT, quantity=Decimal("0.050"), price=Decimal("86000"),
        time_in_force=TimeInForce.GTC, take_profit=Decimal("82000"), stop_loss=Decimal("87000"),
    )
    assert ticket.statusLabel.text() == "Placed Limit Sell 0.050 BTCUSDT @ 86,000.0"


def test_stop_market_uses_the_price_as_trigger(qtbot, ticket, desk):
    child(ticket, QComboBox, "orderTypeInput").setCurrentText("Stop Market")
    ticket.priceInput.setText("86500")
    type_quantity(qtbot, ticket, "0.2")
    ticket.buyButton.click()
    request = desk.submitted[-1]
    assert (request.type, request.stop_price, request.price) == (OrderType.STOP_MARKET, Decimal("86500"), None)
    assert ticket.priceCaption.text() == "Stop price"


def test_rejection_is_shown_as_binance_words_it(qtbot, ticket, desk):
    desk.reject_next = Rejection.of(ErrorCode.MARGIN_NOT_SUFFICIENT)
    type_quantity(qtbot, ticket, "50")
    ticket.buyButton.click()
    assert ticket.statusLabel.text() == "-2019 Margin is insufficient."
    assert ticket.statusLabel.property("tone") == "error"


def test_quantity_finer_than_the_step_is_kept_and_refused(qtbot, ticket, desk):
    type_quantity(qtbot, ticket, "0.12345")
    assert ticket.quantityInput.text() == "0.12345"  # kept as typed, never cut to 0.123
    # BTCUSDT quantityPrecision 3: Binance answers -1111 for a fifth decimal (reference §3.4)
    assert ticket.quantityInput.message_label.text().startswith("-1111 Precision is over the maximum")
    assert not ticket.buyButton.isEnabled()


def test_nothing_is_sent_without_a_valid_quantity(ticket, desk):
    assert not ticket.buyButton.isEnabled() and not ticket.sellButton.isEnabled()
    assert ticket.blockedLabel.text() == "Buy / Sell disabled. Size: Enter a size."
    ticket.buyButton.click()
    ticket.submit(Side.BUY)  # called directly, the ticket still refuses
    assert desk.submitted == []
    assert ticket.statusLabel.text() == "Size: Enter a size."


def test_preview_shows_the_desks_liquidation_price(qtbot, ticket, desk):
    type_quantity(qtbot, ticket, "0.5")
    expected = desk.preview(OrderRequest.market("BTCUSDT", Side.BUY, Decimal("0.5"))).liquidation_price
    text = fmt.price(expected, desk.instrument("BTCUSDT").tick_size)
    liq = child(ticket, QLabel, "previewLiq")
    qtbot.waitUntil(lambda: liq.text() == text)
    short = desk.preview(OrderRequest.market("BTCUSDT", Side.SELL, Decimal("0.5"))).liquidation_price
    assert ticket.findChild(QLabel, "previewLiqShort").text() == fmt.price(short, Decimal("0.10"))
    assert expected < PRICE < short


def test_preview_warns_in_red_when_the_stop_is_beyond_liquidation(qtbot, ticket, desk):
    ticket.sizeByRisk.setChecked(False)
    lev = child(ticket, NumberField, "leverageInput")
    lev.setValue(100)
    lev.committed.emit(lev.value())
    type_quantity(qtbot, ticket, "0.1")
    ticket.stopLossInput.setText("80000")  # ~6% below: 100x liquidates after ~0.5%
    qtbot.waitUntil(lambda: "liquidation price is reached before your stop-loss" in ticket.warnings.text())
    assert ticket.warnings.isVisible()


def test_preview_is_throttled_under_a_burst_of_prices(qtbot, ticket, desk):
    type_quantity(qtbot, ticket, "0.1")
    liq = child(ticket, QLabel, "previewLiq")
    qtbot.waitUntil(lambda: liq.text() != fmt.NONE)
    before = ticket.preview_count
    for i in range(500):
        desk.push_tick("BTCUSDT", PRICE + i)
        ticket.refresh_price()
    qtbot.waitUntil(lambda: ticket.preview_count > before)
    assert ticket.preview_count - before <= 2
    assert ticket.lastPrice.text() == fmt.price(PRICE + 499, Decimal("0.1"))


def test_size_by_risk_fills_the_quantity_from_the_desk(qtbot, ticket, desk):
    ticket.riskInput.setValue(Decimal("0.5"))
    ticket.stopLossInput.setText("84000")
    sizing = desk.size_position("BTCUSDT", PRICE, Decimal("84000"), Decimal("0.5"), 20, None)
    assert sizing.quantity > 0
    assert ticket.quantityInput.text() == fmt.qty(sizing.quantity, Decimal("0.001"))
    assert "Long" in ticket.riskHint.text()
    ticket.buyButton.click()
    assert desk.submitted[-1].stop_loss == Decimal("84000")
    assert desk.submitted[-1].quantity == sizing.quantity


def test_leverage_and_margin_mode_go_to_the_desk_and_refusals_are_shown(qtbot, ticket, desk):
    lev = child(ticket, NumberField, "leverageInput")
    lev.clear()
    qtbot.keyClicks(lev, "10")
    assert desk.leverage("BTCUSDT") == 20  # not applied while typing ("1" on the way is not tried)
    qtbot.keyClick(lev, Qt.Key.Key_Return)
    assert desk.leverage("BTCUSDT") == 10
    mode = child(ticket, QComboBox, "marginModeInput")
    assert mode.currentText() == "Isolated"
    mode.setCurrentText("Cross")
    assert desk.margin_mode("BTCUSDT") is MarginMode.CROSS

    desk.reject_leverage = Rejection.of(ErrorCode.ISOLATED_LEVERAGE_REJECT_WITH_POSITION)
    lev.clear()
    qtbot.keyClicks(lev, "5")
    qtbot.keyClick(lev, Qt.Key.Key_Return)
    assert lev.value() == 10 and lev.text() == "10"  # shows what the desk holds, and says so
    assert ticket.accountStatus.text().startswith("-4161 ")
    assert ticket.accountStatus.text().endswith("(leverage stays 10x)")
    assert not ticket.accountStatus.isHidden()


def test_symbol_switch_reloads_the_symbols_settings(qtbot, ticket, desk):
    desk.set_leverage("ETHUSDT", 7)
    with qtbot.waitSignal(ticket.symbolChanged) as blocker:
        ticket.set_symbol("ETHUSDT")
    assert blocker.args == ["ETHUSDT"]
    assert ticket.leverageInput.value() == 7
    assert ticket.quantityCaption.text() == "Size (ETH)"
