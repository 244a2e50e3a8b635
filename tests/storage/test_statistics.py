"""Statistics against a hand-computed journal of six closed trades (and one open), every figure worked below.

The journal (start balance 1,000 USDT; closing times UTC; 2025-03-03 is a Monday):

  #  symbol  side   mode      closes           realized  fees  funding  net   risk  R    setup     tags
  1  BTC     long   ISOLATED  Mon 03-03 09:30   31       1     0        +30   10    3    trend     breakout
  2  BTC     short  ISOLATED  Mon 03-03 14:10  -19       1     0        -20   20   -1    trend     breakout, fomo
  3  ETH     long   CROSS     Tue 03-04 09:05   -9       0.5  -0.5      -10   --   --    --        fomo
  4  BTC     long   ISOLATED  Tue 03-04 22:00  -49       1     0        -50   25   -2    (liquidated)
  5  ETH     short  CROSS     Thu 03-06 09:45   40       2    +2        +40   20    2    reversal  breakout
  6  BTC     long   ISOLATED  Thu 03-06 10:15    0       0     0          0    5    0
  7  BTC     long   ISOLATED  (open)
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

import numpy as np
import pytest

from hexdesk.engine.enums import MarginMode, Side
from hexdesk.storage.statistics import TradeFilter, TradeTable, compute, compute_for
from hexdesk.storage.trades import ExitReason, Trade

D = Decimal
ISO, CROSS = MarginMode.ISOLATED, MarginMode.CROSS


def ms(day: int, hour: int, minute: int) -> int:
    return int(datetime(2025, 3, day, hour, minute, tzinfo=UTC).timestamp() * 1000)


def trade(tid, symbol, side, mode, closed, realized, fees="0", funding="0", risk=None, *, liq=False):
    return Trade(
        trade_key=f"{symbol}:{tid}", symbol=symbol, side=side, first_trade_id=tid,
        opened_ms=(closed or ms(7, 0, 0)) - 600_000, closed_ms=closed, max_size=D(1), entry_qty=D(1),
        entry_avg=D(100), exit_qty=D(1), exit_avg=D(100), fees=D(fees), other_fees=(), funding=D(funding),
        realized_pnl=D(realized),
        exit_reason=ExitReason.LIQUIDATION if liq else ExitReason.OPEN if closed is None else ExitReason.MANUAL,
        entry_order_id=tid, exit_order_id=tid, fill_count=2, leverage=10, margin_mode=mode,
        risk=D(risk) if risk else None,
    )


TRADES = [
    trade(1, "BTCUSDT", Side.BUY, ISO, ms(3, 9, 30), "31", "1", risk="10"),
    trade(2, "BTCUSDT", Side.SELL, ISO, ms(3, 14, 10), "-19", "1", risk="20"),
    trade(3, "ETHUSDT", Side.BUY, CROSS, ms(4, 9, 5), "-9", "0.5", "-0.5"),
    trade(4, "BTCUSDT", Side.BUY, ISO, ms(4, 22, 0), "-49", "1", risk="25", liq=True),
    trade(5, "ETHUSDT", Side.SELL, CROSS, ms(6, 9, 45), "40", "2", "2", risk="20"),
    trade(6, "BTCUSDT", Side.BUY, ISO, ms(6, 10, 15), "0", risk="5"),
    trade(7, "BTCUSDT", Side.BUY, ISO, None, "0"),
]


def note(setup=None, *tags):
    return SimpleNamespace(setup=setup, tags=tuple(tags))


NOTES = {
    "BTCUSDT:1": note("trend", "breakout"),
    "BTCUSDT:2": note("trend", "breakout", "fomo"),
    "ETHUSDT:3": note(None, "fomo"),
    "ETHUSDT:5": note("reversal", "breakout"),
}


@pytest.fixture(scope="module")
def table():
    return TradeTable.build(list(reversed(TRADES)), NOTES, session_id=1)  # any input order


def test_every_figure_of_the_whole_journal(table):
    s = compute(table, None, 1000)
    assert (s.trade_count, s.open_count, s.wins, s.losses, s.breakeven) == (6, 1, 2, 3, 1)
    assert s.win_rate == pytest.approx(2 / 6)
    assert (s.gross_profit, s.gross_loss, s.net_pnl) == pytest.approx((70, -80, -10))  # 30+40 ; -20-10-50
    assert s.average_win == pytest.approx(35)  # 70 / 2
    assert s.average_loss == pytest.approx(-80 / 3)
    assert s.expectancy == pytest.approx(-10 / 6)
    assert s.expectancy_r == pytest.approx(0.4) and s.r_count == 5  # (3 - 1 - 2 + 2 + 0) / 5
    assert s.profit_factor == pytest.approx(0.875)  # 70 / 80
    # equity 1000 -> 1030, 1010, 1000, 950, 990, 990; the peak stays 1030: drawdowns 0, 20, 30, 80, 40, 40
    assert s.equity.tolist() == pytest.approx([1000, 1030, 1010, 1000, 950, 990, 990])
    assert s.drawdown.tolist() == pytest.approx([0, 0, 20, 30, 80, 40, 40])
    assert s.max_drawdown == pytest.approx(80)
    assert s.max_drawdown_pct == pytest.approx(80 / 1030 * 100)  # 7.767 %
    assert s.longest_losing_streak == 3  # trades 2, 3, 4
    assert (s.fees, s.funding) == pytest.approx((5.5, 1.5))  # 1+1+0.5+1+2 ; -0.5+2
    assert (s.liquidations, s.liquidation_cost) == (1, pytest.approx(50))
    # by closing hour: 09h 30-10+40 = 60 (3 trades), 10h 0 (1), 14h -20, 22h -50
    assert s.pnl_by_hour[9] == pytest.approx(60) and s.trades_by_hour[9] == 3
    assert s.trades_by_hour[10] == 1 and s.pnl_by_hour[14] == pytest.approx(-20) and s.pnl_by_hour[22] == -50
    assert sum(s.trades_by_hour) == 6
    # by weekday: Mon 30-20 = 10, Tue -10-50 = -60, Thu 40+0 = 40
    assert s.pnl_by_weekday == pytest.approx((10, -60, 0, 40, 0, 0, 0))
    assert s.trades_by_weekday == (2, 2, 0, 2, 0, 0, 0)
    assert s.daily_pnl == ((date(2025, 3, 3), 10.0), (date(2025, 3, 4), -60.0), (date(2025, 3, 6), 40.0))
    # R 3, -1, -2, 2, 0 in half-R bins from -2 to 3.5
    assert s.r_edges.tolist() == pytest.approx([-2 + 0.5 * i for i in range(12)])
    assert s.r_counts.tolist() == [1, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1]


def test_the_per_tag_and_per_setup_tables(table):
    s = compute(table, None, 1000)
    tags = {g.name: g for g in s.tags}
    b, f = tags["breakout"], tags["fomo"]  # breakout: 1, 2, 5 ; fomo: 2, 3
    assert (b.count, b.net_pnl, b.r_count) == (3, pytest.approx(50), 3)
    assert b.win_rate == pytest.approx(2 / 3) and b.expectancy == pytest.approx(50 / 3)
    assert b.expectancy_r == pytest.approx(4 / 3)  # (3 - 1 + 2) / 3
    assert (f.count, f.win_rate, f.net_pnl, f.expectancy, f.expectancy_r, f.r_count) == (
        2, 0.0, pytest.approx(-30), pytest.approx(-15), pytest.approx(-1), 1)
    setups = {g.name: g for g in s.setups}
    assert (setups["trend"].count, setups["trend"].net_pnl, setups["trend"].expectancy_r) == (
        2, pytest.approx(10), pytest.approx(1))
    assert (setups["reversal"].count, setups["reversal"].win_rate) == (1, 1.0)


def test_filtering_by_tag(table):
    s = compute(table, TradeFilter(tags=frozenset({"fomo"})), 1000)  # trades 2 and 3
    assert (s.trade_count, s.wins, s.losses, s.win_rate) == (2, 0, 2, 0.0)
    assert s.net_pnl == pytest.approx(-30) and s.average_loss == pytest.approx(-15)
    assert s.average_win is None and s.profit_factor == 0.0  # 0 / 30
    assert s.max_drawdown == pytest.approx(30) and s.max_drawdown_pct == pytest.approx(3)  # 1000 -> 980 -> 970
    assert s.longest_losing_streak == 2


@pytest.mark.parametrize(
    ("f", "count", "net"),
    [
        (TradeFilter(side=Side.SELL), 2, 20),  # 2 and 5: -20 + 40
        (TradeFilter(margin_mode=CROSS), 2, 30),  # 3 and 5
        (TradeFilter(symbols=frozenset({"ETHUSDT"})), 2, 30),
        (TradeFilter(start=date(2025, 3, 4), end=date(2025, 3, 4)), 2, -60),  # 3 and 4
        (TradeFilter(start=date(2025, 3, 5)), 2, 40),  # 5 and 6
        (TradeFilter(setups=frozenset({"trend"})), 2, 10),  # 1 and 2
        (TradeFilter(tags=frozenset({"breakout", "fomo"}), side=Side.BUY), 2, 20),  # 1 and 3
        (TradeFilter(tags=frozenset({"nope"})), 0, 0),
    ],
)
def test_filters(table, f, count, net):
    s = compute(table, f, 1000)
    assert (s.trade_count, s.net_pnl) == (count, pytest.approx(net))


def test_an_empty_selection_has_undefined_ratios(table):
    s = compute(table, TradeFilter(tags=frozenset({"nope"})), 1000)
    assert (s.win_rate, s.expectancy, s.expectancy_r, s.profit_factor) == (None, None, None, None)
    assert s.max_drawdown == 0 and s.longest_losing_streak == 0 and s.r_counts.size == 0


def test_across_sessions(table):
    # session 2: one long BTC trade closing Wed 03-05 12:00, +25, tagged breakout
    other = TradeTable.build([trade(1, "BTCUSDT", Side.BUY, ISO, ms(5, 12, 0), "25")],
                             {"BTCUSDT:1": note(None, "breakout")}, session_id=2)
    both = TradeTable.concat([table, other])
    s = compute(both, None, 1000)
    assert s.trade_count == 7 and s.net_pnl == pytest.approx(15)
    # it closes between trades 4 and 5: 950 -> 975 -> 1015 -> 1015
    assert s.equity.tolist()[4:] == pytest.approx([950, 975, 1015, 1015])
    assert {g.name: g.count for g in s.tags} == {"breakout": 4, "fomo": 2}
    assert compute(both, TradeFilter(session_ids=frozenset({2})), 1000).net_pnl == pytest.approx(25)


def test_compute_for_builds_from_trades():
    s = compute_for(TRADES, NOTES, TradeFilter(tags=frozenset({"breakout"})), 1000)
    assert s.trade_count == 3 and np.isclose(s.net_pnl, 50)
