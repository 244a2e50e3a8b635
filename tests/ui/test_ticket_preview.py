"""The ticket's preview on a real desk: the figures come from the engine's fill model, and an order the exchange
would refuse says so (with Binance's code) before it is sent."""

from decimal import Decimal

import pytest

from hexdesk.engine.enums import Side
from hexdesk.engine.orders import OrderRequest
from hexdesk.service import open_replay_session
from hexdesk.ui.ticket import OrderTicket
from tests.ui.test_ticket_typing import type_into


def _paused_desk():
    """A paused replay desk of BTCUSDT March 2025 that has seen its first 8 ticks (prices to preview against)."""
    desk = open_replay_session(None, ("BTCUSDT-2025-03",), paused=True)
    gen = desk.replay.ticks()
    desk.feed([next(gen) for _ in range(8)])
    return desk


@pytest.fixture
def real_ticket(qtbot):
    desk = _paused_desk()
    ticket = OrderTicket(desk)
    qtbot.addWidget(ticket)
    ticket.show()
    ticket.sizeByRisk.setChecked(False)
    yield desk, ticket
    desk.close()


def test_preview_shows_the_engines_fill_price_and_both_fees(qtbot, real_ticket):
    desk, ticket = real_ticket
    type_into(qtbot, ticket.quantityInput, "0.01")
    type_into(qtbot, ticket.stopLossInput, "80000")
    ticket.refresh_preview()
    p = desk.preview(OrderRequest.market("BTCUSDT", Side.BUY, Decimal("0.01"), stop_loss=Decimal("80000")))
    fill = ticket.preview_labels["previewFill", Side.BUY].text()
    assert fill.startswith(f"{p.fill_price:,.1f}")
    # the fill price is never better than the last price for a buy: at least one tick of spread
    assert p.fill_price > desk.last_price("BTCUSDT")
    fees = ticket.preview_labels["previewFees", Side.BUY].text()
    assert " + " in fees  # entry fee + the stop's exit fee


def test_an_order_the_exchange_would_refuse_is_flagged_with_its_code_before_sending(qtbot, real_ticket):
    _desk, ticket = real_ticket
    # 10,000 USDT at the default 20x carries about 2.3 BTC at ~85,000; 5 BTC needs ~21,000 of margin.
    type_into(qtbot, ticket.quantityInput, "5")
    ticket.refresh_preview()
    assert "would be rejected: -2019 Margin is insufficient." in ticket.warnings.text()
    type_into(qtbot, ticket.quantityInput, "0.01")
    ticket.refresh_preview()
    assert "would be rejected" not in ticket.warnings.text()


def _laptop_window_with_a_size_typed(qtbot):
    """The window at 1366x768 on a paused desk, size-by-risk off and "0.01" typed key by key (no stop-loss)."""
    from hexdesk.ui.main_window import MainWindow

    desk = _paused_desk()
    window = MainWindow(desk)
    qtbot.addWidget(window)
    window.show()
    window.resize(1366, 768)
    window.ticket.sizeByRisk.setChecked(False)
    type_into(qtbot, window.ticket.quantityInput, "0.01")
    window.ticket.refresh_preview()
    return desk, window, window.ticket


def test_preview_keeps_both_columns_in_view_on_a_1366_by_768_laptop(qtbot):
    """With a size typed, the real preview's widest cells must not push the Short column (or the leverage field)
    past the ticket's edge: "85,950.9 (slip 0.001%)" in one cell once did, on a 1366 px wide window."""
    from tests.ui.test_small_screens import shown_rect

    desk, window, ticket = _laptop_window_with_a_size_typed(qtbot)
    qtbot.wait(50)  # the layouts settle
    p = desk.preview(OrderRequest.market("BTCUSDT", Side.BUY, Decimal("0.01")))
    assert p is not None and p.slippage_pct > 0  # the case that widened the cell
    assert ticket.preview_labels["previewSlip", Side.BUY].text() == f"{p.slippage_pct:.3f}%"
    fields = ticket.fieldsScroll
    assert fields.widget().minimumSizeHint().width() <= fields.viewport().width()  # nothing to scroll across
    assert fields.horizontalScrollBar().maximum() == 0
    for (name, side), label in ticket.preview_labels.items():
        assert label.text() != "--" or name in ("previewLossStop", "previewMaxLossStop"), name
        ticket.fieldsScroll.ensureWidgetVisible(label)  # the fields scroll up and down on a short screen, not across
        shown = shown_rect(label, window)
        assert shown.width() == label.width(), (name, side, shown, label.size())  # not clipped
    ticket.fieldsScroll.ensureWidgetVisible(ticket.leverageInput)
    lev = shown_rect(ticket.leverageInput, window)
    assert lev.width() == ticket.leverageInput.width()
    desk.close()


def test_a_risk_warning_is_in_view_without_scrolling_on_a_1366_by_768_laptop(qtbot):
    """On a 768 px tall window the ticket's fields scroll; "No stop-loss: ..." sat below the fold there. The warnings
    are pinned with Buy / Sell, so they are read before the order is sent."""
    from tests.ui.test_small_screens import shown_rect

    desk, window, ticket = _laptop_window_with_a_size_typed(qtbot)  # no stop-loss set
    qtbot.waitUntil(lambda: ticket.warnings.isVisible() and ticket.warnings.height() > 0, timeout=1000)
    qtbot.wait(50)  # the layouts settle
    assert "No stop-loss" in ticket.warnings.text()
    assert ticket.fieldsScroll.verticalScrollBar().value() == 0  # nothing scrolled to bring it into view
    shown = shown_rect(ticket.warnings, window)
    assert shown.size() == ticket.warnings.size(), (shown, ticket.warnings.size())  # whole, not clipped
    assert window.rect().contains(shown)
    desk.close()
