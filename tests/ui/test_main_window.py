"""The workstation window: built from the desk, fed by DeskChanges, and repainting at most once a frame."""

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt

from hexdesk.engine.enums import Side
from hexdesk.engine.orders import OrderRequest
from hexdesk.ui.main_window import MainWindow
from hexdesk.ui.tables import FillsTable, OpenOrdersTable, PositionsTable
from hexdesk.ui.ticket import OrderTicket
from tests.ui.fake_desk import FakeDesk


@pytest.fixture
def desk() -> FakeDesk:
    return FakeDesk()


@pytest.fixture
def window(qtbot, desk: FakeDesk) -> MainWindow:
    w = MainWindow(desk)
    qtbot.addWidget(w)
    w.show()
    return w


def settled(window: MainWindow) -> bool:
    """Every change seen so far has been painted."""
    return not window._dirty and not window._frame.isActive()


def test_window_is_built_from_the_desk(window, desk):
    assert window.windowTitle() == f"HexDesk — {desk.mode_label}"
    assert (window.width(), window.height()) == (1600, 960)
    for cls in (OrderTicket, PositionsTable, OpenOrdersTable, FillsTable):
        assert window.findChild(cls) is not None
    assert window.chart.candle_count == desk.history_len
    last_close = float(desk.history("BTCUSDT").close[-1])
    assert window.chart.candle_at_index(-1).c == pytest.approx(last_close)
    assert window.play_action.shortcut().toString() == "Space"


def test_ticks_update_the_forming_candle_and_the_ticket_price(qtbot, window, desk):
    before = window.chart.candle_count
    ticks = [desk.next_tick() for _ in range(3)]  # open, first extreme, second extreme of the next candle
    desk.feed(ticks)
    last = ticks[-1]
    qtbot.waitUntil(lambda: window.chart.candle_at_index(-1).c == pytest.approx(float(last.price)))
    forming = window.chart.candle_at_index(-1)
    assert forming.t == last.candle.open_time_ms / 1000
    assert (forming.h, forming.l) == (pytest.approx(float(last.candle.high)), pytest.approx(float(last.candle.low)))
    assert window.chart.candle_count == before + 1  # the old forming candle closed into the history
    assert window.ticket.lastPrice.text() == f"{last.price.quantize(Decimal('0.1')):,}"


def test_a_burst_of_changes_costs_a_bounded_number_of_refreshes(qtbot, window, desk):
    qtbot.waitUntil(lambda: settled(window))
    before = window.refresh_count
    ticks = [desk.next_tick() for _ in range(1000)]  # 250 one-minute candles
    for tick in ticks:
        desk.feed([tick])
    qtbot.waitUntil(lambda: settled(window))
    assert 1 <= window.refresh_count - before <= 2
    # nothing was lost by coalescing: every candle reached the chart, the newest is the last tick's
    assert window.chart.candle_count == desk.history_len + 250
    assert window.chart.candle_at_index(-1).c == pytest.approx(float(ticks[-1].price))


def test_position_and_orders_become_chart_lines(qtbot, window, desk):
    desk.push_tick("BTCUSDT", Decimal("84950.1"))
    desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, Decimal("0.100"), stop_loss=Decimal("84000"),
                                    take_profit=Decimal("86000")))
    qtbot.waitUntil(lambda: window.chart.price_line("liq") is not None)
    liq = desk.position("BTCUSDT").liquidation_price
    price, label = window.chart.price_line("liq")
    assert price == pytest.approx(float(liq))
    assert label == f"Liq {liq.quantize(Decimal('0.1')):,}"
    assert window.chart.price_line("entry")[1].startswith("Long 0.100 @ 84,950.1")
    labels = sorted(window.chart.price_line(k)[1] for k in window.chart.price_line_keys() if k.startswith("order:"))
    assert labels == ["SL 84,000.0", "TP 86,000.0"]
    assert window.tabs.tabText(0) == "Positions (1)"

    desk.close_position("BTCUSDT")
    qtbot.waitUntil(lambda: window.chart.price_line("liq") is None)
    assert window.chart.price_line("entry") is None
    assert window.positions_table.rows_model.rowCount() == 0


def test_symbol_switch_in_the_ticket_switches_the_chart(qtbot, window, desk):
    window.ticket.set_symbol("ETHUSDT")
    assert window.chart_symbol == "ETHUSDT"
    eth_close = float(desk.history("ETHUSDT").close[-1])
    assert window.chart.candle_at_index(-1).c == pytest.approx(eth_close)
    btc_before = window.chart.candle_count
    desk.push_tick("BTCUSDT")  # another symbol's tick leaves the chart alone
    qtbot.waitUntil(lambda: settled(window))
    assert window.chart.candle_count == btc_before


def test_leverage_changed_elsewhere_shows_in_the_ticket(qtbot, window, desk):
    desk.set_leverage("BTCUSDT", 75)
    qtbot.waitUntil(lambda: window.ticket.leverageInput.value() == 75)
    assert desk.leverage("BTCUSDT") == 75  # showing it did not call the desk back with another value


def test_space_action_toggles_the_replay(qtbot, window, desk):
    window.play_action.trigger()
    assert desk.replay_calls == ["play"] and not desk.paused
    assert window.replay_bar.playButton.text() == "❚❚ Pause"
    qtbot.mouseClick(window.replay_bar.playButton, Qt.MouseButton.LeftButton)
    assert desk.replay_calls == ["play", "pause"]
    window.replay_bar.speedInput.setCurrentText("3600x")
    assert desk.speed == 3600.0


def test_closing_the_window_unsubscribes(qtbot, desk):
    w = MainWindow(desk)
    qtbot.addWidget(w)
    assert desk.subscriber_count == 1
    w.close()
    assert desk.subscriber_count == 0


def test_window_on_a_real_trading_desk(qtbot):
    """The same window over the real service (engine + replay, no journal): a market buy shows its liquidation."""
    service = pytest.importorskip("hexdesk.service")
    real = service.open_replay_session(None, ("BTCUSDT-2025-03",), paused=True)
    w = MainWindow(real)
    qtbot.addWidget(w)
    gen = real.replay.ticks()
    real.feed([next(gen) for _ in range(8)])
    w.ticket.leverageInput.setValue(10)
    w.ticket.quantityInput.setText("0.100")
    w.ticket.buyButton.click()
    assert w.ticket.statusLabel.text().startswith("Filled 0.100 BTCUSDT @ ")
    qtbot.waitUntil(lambda: w.chart.price_line("liq") is not None)
    assert w.positions_table.rows_model.rowCount() == 1
    assert w.chart.price_line("liq")[1].startswith("Liq ")


def test_jump_buttons_ask_the_desk_to_jump(qtbot, window, desk):
    qtbot.mouseClick(window.replay_bar.jumpHourButton, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.replay_bar.jumpDayButton, Qt.MouseButton.LeftButton)
    assert desk.replay_calls[-2:] == ["jump 60", "jump 1440"]


def test_a_journal_that_cannot_write_is_a_red_line_and_a_blocked_ticket(qtbot, window, desk):
    from hexdesk.service import DeskChange

    assert not window.journal_banner.isVisible() and window.ticket.isEnabled()
    desk.journal_available = False
    desk.journal_problem = "The journal cannot be written: disk full. The replay is paused and trading is blocked."
    desk.publish(DeskChange())  # what the desk publishes when a write fails
    qtbot.waitUntil(lambda: window.journal_banner.isVisible())
    assert "disk full" in window.journal_banner.text() and not window.ticket.isEnabled()
    assert "disk full" in window.notifications.texts()[0]
    desk.journal_available, desk.journal_problem = True, None
    desk.publish(DeskChange())  # ... and when a retry succeeds
    qtbot.waitUntil(lambda: not window.journal_banner.isVisible())
    assert window.ticket.isEnabled()
    assert "writes again" in window.notifications.texts()[0]  # newest first
