"""The Trades tab: round trips of a real desk appear after a round trip; colours, flags, selection by trade key."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from hexdesk.engine.enums import MarginMode, Side
from hexdesk.engine.orders import OrderRequest
from hexdesk.storage.trades import ExitReason, Trade
from hexdesk.ui import format as fmt
from hexdesk.ui import theme
from hexdesk.ui.trades_table import TradesTab, TradesTable, duration
from tests.ui.fake_desk import FakeDesk

D = Decimal
SYM = "BTCUSDT"


def cells(table: TradesTable, row: int = 0) -> dict[str, str]:
    m = table.rows_model
    return {m.columns[c].title: m.index(row, c).data() for c in range(m.columnCount())}


def colour(table: TradesTable, title: str, row: int = 0) -> str:
    m = table.rows_model
    c = next(i for i, col in enumerate(m.columns) if col.title == title)
    return m.index(row, c).data(Qt.ItemDataRole.ForegroundRole).color().name()


@pytest.fixture
def real_desk():
    from hexdesk.service import open_replay_session
    from hexdesk.storage.journal import Journal

    journal = Journal.in_memory()
    desk = open_replay_session(journal, ("BTCUSDT-2025-03", "ETHUSDT-2025-03"), paused=True)
    yield desk
    journal.close()


def _feed(desk, n):
    gen = desk.replay.ticks()
    desk.feed([next(gen) for _ in range(n)])


def test_a_round_trip_on_a_real_desk_appears_in_the_trades_tab(qtbot, real_desk):
    from hexdesk.ui.main_window import MainWindow

    window = MainWindow(real_desk)
    qtbot.addWidget(window)
    table = window.trades_table
    assert table.rows_model.rowCount() == 0
    _feed(real_desk, 10)
    last = real_desk.last_price(SYM)
    stop = (last * D("0.99")).quantize(D("0.1"))
    assert real_desk.submit(OrderRequest.market(SYM, Side.BUY, D("0.020"), stop_loss=stop)).ok
    qtbot.waitUntil(lambda: table.rows_model.rowCount() == 1, timeout=3000)
    assert cells(table)["Exit reason"] == "open"
    _feed(real_desk, 30)
    assert real_desk.close_position(SYM).ok
    qtbot.waitUntil(lambda: cells(table)["Exit reason"] == "manual", timeout=3000)

    (trade,) = real_desk.trades()
    row = cells(table)
    buy, sell = real_desk.fills()
    assert row["Side"] == "Long" and row["Symbol"] == SYM
    assert row["Entry"] == fmt.price(buy.price, D("0.1")) and row["Exit"] == fmt.price(sell.price, D("0.1"))
    net = sell.realized_pnl - buy.fee - sell.fee  # no funding in 40 seconds
    assert row["Net PnL"] == fmt.usdt(net, sign=True)
    risk = (buy.price - stop) * D("0.020")
    assert row["R"] == f"{net / risk:+.2f}R"
    assert colour(table, "Net PnL") == theme.pnl_color(net)
    assert row["Lev. / mode"] == f"{real_desk.leverage(SYM)}x Isolated"
    assert "1 closed, 0 open" in window.trades_tab.summary.text()

    with qtbot.waitSignal(table.trade_selected, timeout=1000) as signal:
        table.selectRow(0)
    assert signal.args == [trade.trade_key]


def _trade(tid, net_realized, *, fees="1", risk=None, other=(), reason=ExitReason.MANUAL, closed=60_000):
    return Trade(
        trade_key=f"{SYM}:{tid}", symbol=SYM, side=Side.SELL, first_trade_id=tid, opened_ms=0, closed_ms=closed,
        max_size=D("0.010"), entry_qty=D("0.010"), entry_avg=D("80000"), exit_qty=D("0.010"), exit_avg=D("79000"),
        fees=D(fees), other_fees=other, funding=D(0), realized_pnl=D(net_realized), exit_reason=reason,
        entry_order_id=tid, exit_order_id=tid + 100, fill_count=2, leverage=5, margin_mode=MarginMode.CROSS,
        risk=D(risk) if risk else None,
    )


class _Desk(FakeDesk):
    rows: ClassVar[list] = []  # replaced per test

    def trades(self):
        return list(self.rows)


def test_colours_flags_and_the_selection_kept_across_refreshes(qtbot):
    desk = _Desk()
    desk.rows = [
        _trade(1, "10", risk="4", other=(("BNB", D("0.0002")),), reason=ExitReason.TAKE_PROFIT),  # net 9 = +2.25R
        _trade(2, "-3", risk="4", reason=ExitReason.STOP_LOSS),  # net -4 = -1R
    ]
    tab = TradesTab(desk)
    qtbot.addWidget(tab)
    tab.refresh()
    table = tab.table
    newest, oldest = cells(table, 0), cells(table, 1)  # newest first
    assert (newest["R"], oldest["R"]) == ("-1.00R", "+2.25R")
    assert colour(table, "R", 0) == theme.RED and colour(table, "R", 1) == theme.GREEN
    assert colour(table, "Net PnL", 1) == QColor(theme.GREEN).name()
    assert oldest["Fees"] == "1.00 + 0.0002 BNB ⚑" and newest["Fees"] == "1.00"
    assert (oldest["Exit reason"], newest["Exit reason"]) == ("take-profit", "stop-loss")
    assert oldest["Lev. / mode"] == "5x Cross" and oldest["Side"] == "Short"
    assert table.select_trade(f"{SYM}:1")
    desk.rows = [*desk.rows, _trade(3, "1")]  # a new trade arrives: the selected one stays selected
    tab.refresh()
    (selected,) = table.selectionModel().selectedRows()
    assert table.rows_model.rows[selected.row()].trade_key == f"{SYM}:1"


@pytest.mark.parametrize(("ms", "text"), [(None, "open"), (65_000, "1m 05s"), (7_500_000, "2h 05m"),
                                           (90_000_000, "1d 1h")])
def test_duration(ms, text):
    assert duration(ms) == text


def test_another_session_s_desk_replaces_the_rows(qtbot):
    desk = _Desk()
    desk.rows = [_trade(1, "10")]
    tab = TradesTab(desk)
    qtbot.addWidget(tab)
    tab.refresh()
    assert tab.table.rows_model.rowCount() == 1 and "1 closed" in tab.summary.text()
    tab.set_desk(FakeDesk())  # a fresh session: no trades
    assert tab.table.rows_model.rowCount() == 0 and tab.summary.text() == ""
