"""The Statistics window: figures of the desk's closed trades, and filtering by a tag changes them.

Two round trips on the fake desk (market orders fill at the last price; taker fee 0.05 %), worked by hand:
  1. long 0.010 BTC 80,000 -> 81,000: realized +10, fees 0.40 + 0.405 -> net +9.195
  2. short 0.010 BTC 81,000 -> 81,500: realized -5, fees 0.405 + 0.4075 -> net -5.8125   (tagged "fomo")
Both: net +3.3825, win rate 50 %, profit factor 9.195 / 5.8125 = 1.58; "fomo" alone: -5.8125, win rate 0 %.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from hexdesk.engine.enums import Side
from hexdesk.engine.orders import OrderRequest
from hexdesk.ui.statistics_view import StatisticsView
from tests.ui.fake_desk import FakeDesk

D = Decimal
SYM = "BTCUSDT"


@pytest.fixture
def desk() -> FakeDesk:
    d = FakeDesk()
    for side, entry, exit_ in ((Side.BUY, "80000", "81000"), (Side.SELL, "81000", "81500")):
        d.push_tick(SYM, D(entry))
        d.submit(OrderRequest.market(SYM, side, D("0.010")))
        d.push_tick(SYM, D(exit_))
        d.close_position(SYM)
    second = d.trades()[1].trade_key
    d.notes = {second: SimpleNamespace(setup="fade", tags=("fomo",))}
    return d


def test_the_figures_and_a_tag_filter(qtbot, desk):
    view = StatisticsView(desk)
    qtbot.addWidget(view)
    f = view.figures
    assert f["trade_count"].text().startswith("2 ")
    assert f["net_pnl"].text() == "+3.38 USDT"  # 9.195 - 5.8125 = 3.3825
    assert f["win_rate"].text() == "50.0 %"
    assert f["profit_factor"].text() == "1.58"  # 9.195 / 5.8125
    assert f["fees"].text() == "1.62 USDT"  # 0.40 + 0.405 + 0.405 + 0.4075 = 1.6175
    assert [view.tag_box.itemText(i) for i in range(view.tag_box.count())] == ["Any", "fomo"]
    assert view.group_table.item(0, 0).text() == "#fomo" and view.group_table.item(0, 1).text() == "1"

    view.tag_box.setCurrentText("fomo")  # the filter applies at once

    assert f["trade_count"].text().startswith("1 ")
    assert f["net_pnl"].text() == "-5.81 USDT"
    assert f["win_rate"].text() == "0.0 %"
    assert f["profit_factor"].text() == "0.00"
    assert view.stats is not None and view.stats.equity.tolist() == pytest.approx([10_000, 10_000 - 5.8125])

    view.clear_filters()
    assert f["trade_count"].text().startswith("2 ")
    view.side_box.setCurrentText("Long")
    assert f["net_pnl"].text() == "+9.20 USDT"  # 9.195


def test_the_window_follows_new_trades(qtbot, desk):
    view = StatisticsView(desk)
    qtbot.addWidget(view)
    desk.push_tick(SYM, D("81500"))
    desk.submit(OrderRequest.market(SYM, Side.BUY, D("0.010")))
    desk.push_tick(SYM, D("81500"))
    desk.close_position(SYM)  # a breakeven trade but for the fees: 2 x 0.4075
    view.refresh()
    assert view.figures["trade_count"].text().startswith("3 ")
    assert view.figures["longest_losing_streak"].text() == "2"


def test_the_main_window_opens_the_statistics(qtbot, desk):
    from hexdesk.ui.main_window import MainWindow

    window = MainWindow(desk)
    qtbot.addWidget(window)
    window.statistics_action.trigger()  # Ctrl+Shift+S, and the View menu's item
    view = window.statistics_view
    assert view is not None and view.isVisible() and view.figures["trade_count"].text().startswith("2 ")
    assert window.show_statistics() is view


def test_all_sessions_of_the_journal(qtbot):
    from hexdesk.service import open_replay_session
    from hexdesk.storage.journal import Journal

    journal = Journal.in_memory()
    desks = []
    for side in (Side.BUY, Side.SELL):  # two sessions, one round trip each
        desk = open_replay_session(journal, ("BTCUSDT-2025-03",), paused=True)
        gen = desk.replay.ticks()
        desk.feed([next(gen) for _ in range(5)])
        assert desk.submit(OrderRequest.market(SYM, side, D("0.010"))).ok
        desk.feed([next(gen) for _ in range(5)])
        assert desk.close_position(SYM).ok
        desks.append(desk)
    view = StatisticsView(desks[1])
    qtbot.addWidget(view)
    assert view.scope_box.isEnabled()
    assert view.figures["trade_count"].text().startswith("1 ")
    view.scope_box.setCurrentText("All sessions")
    assert view.figures["trade_count"].text().startswith("2 ")
    both = sum(float(t.net_pnl) for d in desks for t in d.trades())
    assert view.stats is not None and view.stats.net_pnl == pytest.approx(both)
    view.side_box.setCurrentText("Short")  # the filters apply across sessions too
    assert view.figures["trade_count"].text().startswith("1 ")
    assert view.stats.net_pnl == pytest.approx(float(desks[1].trades()[0].net_pnl))
    journal.close()
