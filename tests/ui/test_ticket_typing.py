"""Typed key by key into the real ticket: each value is either sent exactly as typed or refused with its reason.

The examples are the ones issue 6 reproduced on main ("0,01" filled 1.000 BTC, "-1" a 1 BTC long, "1.5e-2" 1.52 BTC,
"1e30" became "130", 85000.05 was placed at 85000.0, 500x became 50x, a stop at the entry sized 1.139 BTC). BTCUSDT
rules used below (the bundled exchangeInfo snapshot): tick 0.10, pricePrecision 2, step 0.001, quantityPrecision 3,
min qty 0.001, max qty 1000 (LIMIT) / 120 (MARKET_LOT_SIZE), leverage 1..150 (first bracket).
"""

from decimal import Decimal

import pytest
from PySide6.QtCore import QLocale, Qt

from hexdesk.engine.enums import OrderType, Side, TimeInForce
from hexdesk.engine.errors import ErrorCode, Rejection
from hexdesk.engine.orders import OrderRequest
from hexdesk.ui.main_window import MainWindow
from hexdesk.ui.ticket import NO_SIDE_FOR_ENTER, OrderTicket
from tests.ui.fake_desk import FakeDesk

PRICE = Decimal("84950.1")
GERMAN = QLocale(QLocale.Language.German, QLocale.Country.Germany)
ENGLISH = QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)


@pytest.fixture(params=[ENGLISH], ids=["en_US"])
def locale(request):
    """The default locale while the ticket is built and typed into, restored afterwards."""
    before = QLocale()
    QLocale.setDefault(request.param)
    yield request.param
    QLocale.setDefault(before)


@pytest.fixture
def german():
    before = QLocale()
    QLocale.setDefault(GERMAN)
    yield GERMAN
    QLocale.setDefault(before)


@pytest.fixture
def desk() -> FakeDesk:
    d = FakeDesk()
    d.push_tick("BTCUSDT", PRICE)
    return d


def make_ticket(qtbot, desk) -> OrderTicket:
    t = OrderTicket(desk)
    qtbot.addWidget(t)
    t.show()
    t.sizeByRisk.setChecked(False)  # sizes typed by hand unless a test sizes by risk
    return t


@pytest.fixture
def ticket(qtbot, desk, locale) -> OrderTicket:
    return make_ticket(qtbot, desk)


def type_into(qtbot, field, text: str) -> None:
    field.clear()
    qtbot.keyClicks(field, text)


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def assert_refused(qtbot, ticket, desk, field, typed: str, reason: str) -> None:
    """The field keeps the text, says why next to itself, Buy / Sell are disabled, and nothing reaches the desk."""
    assert field.text() == typed
    assert field.message_label.text() == reason
    assert field.message_label.isVisible()
    assert field.property("invalid") is True
    assert not ticket.buyButton.isEnabled() and not ticket.sellButton.isEnabled()
    assert reason in ticket.blockedLabel.text()
    click(qtbot, ticket.buyButton)
    click(qtbot, ticket.sellButton)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert desk.submitted == []
    if field is not ticket.leverageInput:  # Enter there applies the leverage; elsewhere it says why nothing went
        assert reason in ticket.statusLabel.text()


# --- the size ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "reason"), [
    ("0,01", "',' is not accepted: use '.' for decimals, no thousands separators."),  # was 1.000 BTC
    ("1,000", "',' is not accepted: use '.' for decimals, no thousands separators."),  # neither 1 nor 1000
    ("-1", "Negative numbers are not accepted."),  # was a 1 BTC long
    ("1.5e-2", "Exponent form (e) is not accepted: type the number in full."),  # was 1.52 BTC
    ("1e30", "Exponent form (e) is not accepted: type the number in full."),  # was "130"
    ("abc", "'a' is not a digit."),
    ("0", "Size must be above 0."),
    ("0.0001", "-1111 Precision is over the maximum defined for this asset. (3 decimals, step 0.001)"),
    # a market order is held to MARKET_LOT_SIZE: max 120 BTC
    ("121", "-4005 Quantity greater than max quantity. (max 120 for a market order)"),
    ("1000000", "-4005 Quantity greater than max quantity. (max 120 for a market order)"),
])
def test_a_refused_size_is_kept_and_explained_and_nothing_is_sent(qtbot, ticket, desk, typed, reason):
    type_into(qtbot, ticket.quantityInput, typed)
    assert_refused(qtbot, ticket, desk, ticket.quantityInput, typed, reason)


def test_an_emptied_size_says_it_is_required(qtbot, ticket, desk):
    type_into(qtbot, ticket.quantityInput, "1")
    qtbot.keyClick(ticket.quantityInput, Qt.Key.Key_Backspace)
    assert_refused(qtbot, ticket, desk, ticket.quantityInput, "", "Enter a size.")


def test_a_typed_size_is_sent_exactly(qtbot, ticket, desk):
    type_into(qtbot, ticket.quantityInput, "0.01")
    assert ticket.quantityInput.message_label.isHidden()
    click(qtbot, ticket.buyButton)
    assert desk.submitted == [OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, quantity=Decimal("0.01"))]


def test_limit_size_uses_the_limit_lot_size(qtbot, ticket, desk):
    """LIMIT orders take LOT_SIZE (max 1000): 500 BTC is a valid typed size there (the desk decides margin)."""
    ticket.orderTypeInput.setCurrentText("Limit")
    type_into(qtbot, ticket.quantityInput, "500")
    assert ticket.quantityInput.is_valid()
    type_into(qtbot, ticket.quantityInput, "1001")
    assert ticket.quantityInput.problem() == "-4005 Quantity greater than max quantity. (max 1000 for a limit order)"


# --- prices -----------------------------------------------------------------------------------------------


def test_an_off_tick_limit_is_refused_with_binances_code(qtbot, ticket, desk):
    ticket.orderTypeInput.setCurrentText("Limit")
    type_into(qtbot, ticket.quantityInput, "0.01")
    type_into(qtbot, ticket.priceInput, "85000.05")  # two decimals: within pricePrecision, off the 0.10 tick
    assert_refused(qtbot, ticket, desk, ticket.priceInput, "85000.05",
                   "-4014 Price not increased by tick size. Tick 0.1: 85000.0 or 85000.1.")
    type_into(qtbot, ticket.priceInput, "85000.051")  # three decimals: beyond pricePrecision 2
    assert ticket.priceInput.problem() == (
        "-1111 Precision is over the maximum defined for this asset. (2 decimals, tick 0.1)"
    )
    type_into(qtbot, ticket.priceInput, "500")  # below minPrice 556.80
    assert ticket.priceInput.problem() == "-4013 Price less than min price. (min 556.8)"


def test_an_on_tick_limit_is_sent_exactly_as_typed(qtbot, ticket, desk):
    ticket.orderTypeInput.setCurrentText("Limit")
    type_into(qtbot, ticket.priceInput, "85000.1")
    type_into(qtbot, ticket.quantityInput, "0.25")
    click(qtbot, ticket.sellButton)
    assert desk.submitted == [OrderRequest("BTCUSDT", Side.SELL, OrderType.LIMIT, quantity=Decimal("0.25"),
                                           price=Decimal("85000.1"), time_in_force=TimeInForce.GTC)]


def test_an_empty_limit_price_is_required(qtbot, ticket, desk):
    ticket.orderTypeInput.setCurrentText("Limit")
    type_into(qtbot, ticket.quantityInput, "0.01")
    type_into(qtbot, ticket.priceInput, "8")
    qtbot.keyClick(ticket.priceInput, Qt.Key.Key_Backspace)
    assert_refused(qtbot, ticket, desk, ticket.priceInput, "", "Enter a limit price.")


@pytest.mark.parametrize(("field", "typed", "reason"), [
    ("stopLossInput", "-84000", "Negative numbers are not accepted."),
    ("stopLossInput", "84000.05", "-4014 Price not increased by tick size. Tick 0.1: 84000.0 or 84000.1."),
    ("takeProfitInput", "9e4", "Exponent form (e) is not accepted: type the number in full."),
    ("takeProfitInput", "0", "Take-profit must be above 0."),
])
def test_take_profit_and_stop_loss_are_checked_like_prices(qtbot, ticket, desk, field, typed, reason):
    type_into(qtbot, ticket.quantityInput, "0.01")
    edit = getattr(ticket, field)
    type_into(qtbot, edit, typed)
    assert_refused(qtbot, ticket, desk, edit, typed, reason)


# --- leverage and risk ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "reason"), [
    ("500", "Max 150x for BTCUSDT."),  # was 50x without a word
    ("0", "Leverage is 1x to 150x."),
    ("2.5", "Leverage is a whole number, 1 to 150."),
    ("-5", "Negative numbers are not accepted."),
])
def test_leverage_outside_the_bracket_is_refused_and_not_applied(qtbot, ticket, desk, typed, reason):
    type_into(qtbot, ticket.quantityInput, "0.01")
    type_into(qtbot, ticket.leverageInput, typed)
    qtbot.keyClick(ticket.leverageInput, Qt.Key.Key_Return)
    ticket.quantityInput.setFocus()  # leaving the field does not apply it either
    assert desk.leverage("BTCUSDT") == 20
    assert_refused(qtbot, ticket, desk, ticket.leverageInput, typed, reason)


def test_a_typed_leverage_is_applied_before_the_order_that_shows_it(qtbot, ticket, desk):
    type_into(qtbot, ticket.leverageInput, "9")  # typed, not confirmed with Enter
    type_into(qtbot, ticket.quantityInput, "0.01")
    click(qtbot, ticket.buyButton)  # the leverage on screen goes to the desk first, then the order
    assert desk.leverage("BTCUSDT") == 9
    assert desk.submitted[-1].quantity == Decimal("0.01")


def test_an_order_is_not_sent_when_the_typed_leverage_is_refused(qtbot, ticket, desk):
    desk.reject_leverage = Rejection.of(ErrorCode.ISOLATED_LEVERAGE_REJECT_WITH_POSITION)
    type_into(qtbot, ticket.leverageInput, "9")
    type_into(qtbot, ticket.quantityInput, "0.01")
    click(qtbot, ticket.buyButton)
    assert desk.submitted == []  # 20x is in force, 9x was on screen: nothing is sent at a leverage not shown
    assert ticket.leverageInput.text() == "20"
    assert ticket.accountStatus.text().endswith("(leverage stays 20x)")


@pytest.mark.parametrize(("typed", "reason"), [
    ("150", "Risk is at most 100%."),
    ("0", "Risk must be above 0%."),
    ("0.125", "Risk: at most 2 decimals."),
    ("1,5", "',' is not accepted: use '.' for decimals, no thousands separators."),
])
def test_risk_percent_is_checked(qtbot, ticket, desk, typed, reason):
    ticket.sizeByRisk.setChecked(True)
    type_into(qtbot, ticket.quantityInput, "0.01")
    type_into(qtbot, ticket.riskInput, typed)
    assert_refused(qtbot, ticket, desk, ticket.riskInput, typed, reason)


def test_a_stop_at_the_entry_is_a_sizing_error_not_a_huge_size(qtbot, ticket, desk):
    ticket.sizeByRisk.setChecked(True)
    ticket.orderTypeInput.setCurrentText("Limit")
    type_into(qtbot, ticket.priceInput, "85000.0")
    type_into(qtbot, ticket.stopLossInput, "84000.0")
    sized = ticket.quantityInput.value()
    assert sized is not None and sized > 0  # sized from a real distance first
    type_into(qtbot, ticket.stopLossInput, "85000.0")  # now at the entry: zero risk distance
    reason = "The stop must differ from the entry: with the stop at the entry there is no risk to size."
    assert ticket.riskHint.text() == reason
    assert_refused(qtbot, ticket, desk, ticket.stopLossInput, "85000.0", reason)
    type_into(qtbot, ticket.stopLossInput, "84500.0")  # a real stop again: sized and sendable
    assert ticket.buyButton.isEnabled()
    assert ticket.stopLossInput.message_label.isHidden()


# --- a comma-decimal locale -------------------------------------------------------------------------------


def test_german_locale_reads_comma_and_dot_as_decimals(qtbot, desk, german):
    ticket = make_ticket(qtbot, desk)
    type_into(qtbot, ticket.quantityInput, "0,01")  # the 1.000 BTC
    click(qtbot, ticket.buyButton)
    type_into(qtbot, ticket.quantityInput, "0.01")
    click(qtbot, ticket.buyButton)
    assert [r.quantity for r in desk.submitted] == [Decimal("0.01"), Decimal("0.01")]


def test_german_locale_limit_prefill_and_off_tick(qtbot, desk, german):
    ticket = make_ticket(qtbot, desk)
    ticket.orderTypeInput.setCurrentText("Limit")
    assert ticket.priceInput.text() == "84950,1"  # written the German way, read back the same
    type_into(qtbot, ticket.quantityInput, "0,5")
    type_into(qtbot, ticket.priceInput, "85000,05")
    assert_refused(qtbot, ticket, desk, ticket.priceInput, "85000,05",
                   "-4014 Price not increased by tick size. Tick 0,1: 85000,0 or 85000,1.")
    type_into(qtbot, ticket.priceInput, "1.000,5")  # German grouping: refused, not 1000.5 nor 1.0005
    assert ticket.priceInput.problem() == "More than one decimal separator: thousands separators are not accepted."
    type_into(qtbot, ticket.priceInput, "85000,1")
    click(qtbot, ticket.buyButton)
    assert desk.submitted == [OrderRequest("BTCUSDT", Side.BUY, OrderType.LIMIT, quantity=Decimal("0.5"),
                                           price=Decimal("85000.1"), time_in_force=TimeInForce.GTC)]


def test_german_locale_sizer_writes_what_it_sends(qtbot, desk, german):
    ticket = make_ticket(qtbot, desk)
    ticket.sizeByRisk.setChecked(True)
    type_into(qtbot, ticket.stopLossInput, "84000,0")
    sizing = desk.size_position("BTCUSDT", PRICE, Decimal("84000"), Decimal("1"), 20, None)
    assert "," in ticket.quantityInput.text()
    click(qtbot, ticket.buyButton)
    assert desk.submitted[-1].quantity == sizing.quantity
    assert desk.submitted[-1].stop_loss == Decimal("84000")


# --- Enter ------------------------------------------------------------------------------------------------


def test_enter_sends_the_side_the_stop_implies(qtbot, ticket, desk):
    type_into(qtbot, ticket.quantityInput, "0.01")
    type_into(qtbot, ticket.stopLossInput, "84000")  # below the last price 84,950.1: a long
    assert ticket.buyButton.text().endswith("↵") and not ticket.sellButton.text().endswith("↵")
    qtbot.keyClick(ticket.quantityInput, Qt.Key.Key_Return)
    assert [(r.side, r.quantity, r.stop_loss) for r in desk.submitted] == [
        (Side.BUY, Decimal("0.01"), Decimal("84000"))
    ]
    type_into(qtbot, ticket.stopLossInput, "86000")  # above: a short
    assert ticket.sellButton.text().endswith("↵")
    qtbot.keyClick(ticket.stopLossInput, Qt.Key.Key_Enter)  # the keypad's Enter too
    assert desk.submitted[-1].side is Side.SELL


def test_enter_without_a_stop_sends_nothing_and_says_why(qtbot, ticket, desk):
    type_into(qtbot, ticket.quantityInput, "0.01")
    qtbot.keyClick(ticket.quantityInput, Qt.Key.Key_Return)
    assert desk.submitted == []
    assert ticket.statusLabel.text() == NO_SIDE_FOR_ENTER


def test_enter_in_the_leverage_field_applies_it_and_sends_nothing(qtbot, ticket, desk):
    type_into(qtbot, ticket.quantityInput, "0.01")
    type_into(qtbot, ticket.stopLossInput, "84000")
    type_into(qtbot, ticket.leverageInput, "15")
    qtbot.keyClick(ticket.leverageInput, Qt.Key.Key_Return)
    assert desk.leverage("BTCUSDT") == 15
    assert desk.submitted == []


# --- a ticket error clears once the state it spoke of has changed -------------------------------------------


def test_a_rejection_stays_until_an_input_changes(qtbot, ticket, desk):
    desk.reject_next = Rejection.of(ErrorCode.MARGIN_NOT_SUFFICIENT)
    type_into(qtbot, ticket.quantityInput, "50")
    click(qtbot, ticket.buyButton)
    assert ticket.statusLabel.text() == "-2019 Margin is insufficient."
    for _ in range(5):
        desk.push_tick("BTCUSDT", PRICE + 1)
        ticket.refresh_price()
    ticket.sync_settings()
    assert ticket.statusLabel.text() == "-2019 Margin is insufficient."  # prices moving change nothing it said
    qtbot.keyClick(ticket.quantityInput, Qt.Key.Key_Backspace)
    assert ticket.statusLabel.text() == ""


def test_a_rejection_clears_on_symbol_and_margin_mode_change(qtbot, ticket, desk):
    desk.reject_next = Rejection.of(ErrorCode.MARGIN_NOT_SUFFICIENT)
    type_into(qtbot, ticket.quantityInput, "50")
    click(qtbot, ticket.buyButton)
    ticket.marginModeInput.setCurrentText("Cross")
    assert ticket.statusLabel.text() == ""
    desk.reject_next = Rejection.of(ErrorCode.MARGIN_NOT_SUFFICIENT)
    type_into(qtbot, ticket.quantityInput, "50")
    click(qtbot, ticket.buyButton)
    ticket.set_symbol("ETHUSDT")
    assert ticket.statusLabel.text() == ""


def test_a_rejection_clears_when_the_account_changes_in_the_window(qtbot, desk, locale):
    """In the real window: a cancel (an account change) clears the -2019; price ticks alone do not."""
    window = MainWindow(desk)
    qtbot.addWidget(window)
    ticket = window.ticket
    resting = desk.submit(OrderRequest("BTCUSDT", Side.BUY, OrderType.LIMIT, quantity=Decimal("0.01"),
                                       price=Decimal("80000"), time_in_force=TimeInForce.GTC)).order
    qtbot.wait(60)
    desk.reject_next = Rejection.of(ErrorCode.MARGIN_NOT_SUFFICIENT)
    type_into(qtbot, ticket.quantityInput, "50")
    click(qtbot, ticket.buyButton)
    assert ticket.statusLabel.text() == "-2019 Margin is insufficient."
    desk.push_tick("BTCUSDT", PRICE + 5)
    qtbot.wait(100)  # a few frames: the price moved, the refusal is still about the same account
    assert ticket.statusLabel.text() == "-2019 Margin is insufficient."
    desk.cancel("BTCUSDT", resting.order_id)
    qtbot.waitUntil(lambda: ticket.statusLabel.text() == "")


def test_a_leverage_refusal_clears_when_an_input_changes(qtbot, ticket, desk):
    desk.reject_leverage = Rejection.of(ErrorCode.ISOLATED_LEVERAGE_REJECT_WITH_POSITION)
    type_into(qtbot, ticket.leverageInput, "5")
    qtbot.keyClick(ticket.leverageInput, Qt.Key.Key_Return)
    assert ticket.accountStatus.text() == (
        "-4161 Leverage reduction is not supported in Isolated Margin Mode with open positions (leverage stays 20x)"
    )
    type_into(qtbot, ticket.quantityInput, "0.01")
    assert ticket.accountStatus.isHidden()


# --- on the real desk -------------------------------------------------------------------------------------


def test_typed_values_reach_the_real_engine_unchanged(qtbot, german):
    """A German-typed size and limit price on a real TradingDesk over the bundled replay: the engine's order holds
    exactly 0.002 BTC at 80000.1."""
    service = pytest.importorskip("hexdesk.service")
    real = service.open_replay_session(None, ("BTCUSDT-2025-03",), paused=True)
    gen = real.replay.ticks()
    real.feed([next(gen) for _ in range(4)])
    ticket = make_ticket(qtbot, real)
    ticket.orderTypeInput.setCurrentText("Limit")
    type_into(qtbot, ticket.priceInput, "80000,1")
    type_into(qtbot, ticket.quantityInput, "0,002")
    click(qtbot, ticket.buyButton)
    orders = real.open_orders()
    assert [(o.price, o.quantity) for o in orders] == [(Decimal("80000.1"), Decimal("0.002"))]
    assert ticket.statusLabel.text() == "Placed Limit Buy 0.002 BTCUSDT @ 80,000.1"
