"""Round trips from fills, each sequence worked by hand in the comments (docs/statistics.md has the formulas)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from hexdesk.engine.enums import MarginMode, OrderType, Side
from hexdesk.storage.trades import (
    ExitReason,
    SymbolSetting,
    TradeFill,
    build_trades,
    fills_from_events,
    fills_from_rows,
    trades_from_events,
)

D = Decimal
SYM = "BTCUSDT"


def fill(tid, oid, side, price, qty, fee="0", *, ts, pnl="0", otype=OrderType.MARKET, asset="USDT",
         liq=False, reduce_only=False, symbol=SYM):
    return TradeFill(tid, oid, symbol, side, D(price), D(qty), D(fee), asset, D(pnl), ts, liq, otype, reduce_only)


def stop(oid, side, price, created, *, parent=None, symbol=SYM, otype=OrderType.STOP_MARKET):
    return SimpleNamespace(order_id=oid, symbol=symbol, side=side, type=otype, stop_price=D(price),
                           created_ms=created, reduce_only=True, close_position=parent is not None,
                           parent_order_id=parent)


def funding(ts, qty, amount, symbol=SYM):
    return SimpleNamespace(symbol=symbol, ts_ms=ts, position_qty=D(qty), amount=D(amount))


def test_open_add_partial_close_close_is_one_long_trade():
    fills = [
        fill(1, 1, Side.BUY, "100", "1", "0.05", ts=0),  # open 1 @ 100
        fill(2, 2, Side.BUY, "110", "1", "0.055", ts=60_000),  # add 1 @ 110: 2 @ 105
        fill(3, 3, Side.SELL, "120", "0.5", "0.03", ts=120_000, pnl="7.5", otype=OrderType.LIMIT,
             reduce_only=True),  # (120 - 105) x 0.5 = 7.5
        fill(4, 4, Side.SELL, "100", "1.5", "0.075", ts=180_000, pnl="-7.5",
             otype=OrderType.STOP_MARKET),  # (100 - 105) x 1.5 = -7.5
    ]
    stops = [stop(4, Side.SELL, "95", 0, parent=1)]  # the stop-loss attached to the entry order
    (t,) = build_trades(fills, orders=stops, price_range=lambda s, a, b: (D("93"), D("125")))
    assert t.trade_key == "BTCUSDT:1"
    assert t.side is Side.BUY and t.max_size == D("2")
    assert t.entry_avg == D("105")  # (100 + 110) / 2
    assert t.exit_avg == D("105")  # (0.5 x 120 + 1.5 x 100) / 2 = 210 / 2
    assert t.fees == D("0.21")  # 0.05 + 0.055 + 0.03 + 0.075
    assert t.realized_pnl == D("0") and t.net_pnl == D("-0.21")
    assert t.stop_price == D("95")
    assert t.risk == D("5")  # |100 - 95| x 1 (the entry order's size)
    assert t.r_multiple == D("-0.042")  # -0.21 / 5
    assert t.mae == D("-24") and t.mfe == D("40")  # (93 - 105) x 2 ; (125 - 105) x 2
    assert t.mae_r == D("-4.8") and t.mfe_r == D("8")
    assert t.exit_reason is ExitReason.STOP_LOSS
    assert t.duration_ms == 180_000 and t.fill_count == 4
    assert not t.is_open


def test_a_reversal_closes_one_trade_and_opens_the_next():
    fills = [
        fill(1, 10, Side.SELL, "50", "2", "0.1", ts=0),  # short 2 @ 50
        fill(2, 11, Side.BUY, "45", "3", "0.3", ts=1000, pnl="10"),  # buys 3: closes 2 ((50-45) x 2 = 10), long 1
        fill(3, 12, Side.SELL, "47", "1", "0.02", ts=2000, pnl="2", otype=OrderType.TAKE_PROFIT_MARKET),
    ]
    a, b = build_trades(fills)
    assert (a.trade_key, b.trade_key) == ("BTCUSDT:1", "BTCUSDT:2")
    assert a.side is Side.SELL and a.exit_avg == D("45") and a.exit_qty == D("2")
    assert a.fees == D("0.3")  # 0.1 + 0.3 x 2/3
    assert a.net_pnl == D("9.7")  # 10 - 0.3
    assert a.exit_reason is ExitReason.MANUAL
    assert b.side is Side.BUY and b.entry_avg == D("45") and b.max_size == D("1")
    assert b.fees == D("0.12")  # 0.3 x 1/3 + 0.02
    assert b.net_pnl == D("1.88")  # 2 - 0.12
    assert b.exit_reason is ExitReason.TAKE_PROFIT
    assert b.risk is None and b.r_multiple is None  # no stop: R is blank


def test_the_open_part_of_a_reversal_is_an_open_trade():
    fills = [fill(1, 10, Side.SELL, "50", "2", ts=0), fill(2, 11, Side.BUY, "45", "3", ts=1000, pnl="10")]
    a, b = build_trades(fills)
    assert a.exit_reason is ExitReason.MANUAL and b.is_open and b.exit_reason is ExitReason.OPEN
    assert b.exit_avg is None and b.duration_ms is None


def test_a_liquidation_is_an_exit():
    fills = [
        fill(1, 1, Side.BUY, "100", "1", "0.05", ts=0),
        # the isolated wallet (9.5) is lost: realized -9.5 at the bankruptcy price, no fee on top
        fill(2, 2, Side.SELL, "90.5", "1", "0", ts=5000, pnl="-9.5", liq=True),
    ]
    (t,) = build_trades(fills)
    assert t.exit_reason is ExitReason.LIQUIDATION and t.is_liquidation
    assert t.net_pnl == D("-9.55")  # -9.5 - 0.05


def test_a_short_with_funding_while_open_and_its_leverage():
    fills = [
        fill(1, 1, Side.SELL, "200", "2", "0.2", ts=1_000),
        fill(2, 2, Side.BUY, "190", "2", "0.19", ts=30_000_000, pnl="20"),  # (200 - 190) x 2
    ]
    pays = [
        funding(0, "0", "0"),  # before it opened, flat
        funding(28_800_000, "-2", "0.04"),  # 08:00: the short receives 0.0001 x 2 x 200
        funding(28_800_000, "1", "-5", symbol="ETHUSDT"),  # another symbol's
        funding(57_600_000, "0", "0"),  # after it closed
    ]
    settings = [SymbolSetting(0, None, 20, MarginMode.ISOLATED), SymbolSetting(500, SYM, leverage=5),
                SymbolSetting(900, SYM, margin_mode=MarginMode.CROSS), SymbolSetting(40_000_000, SYM, leverage=50)]
    (t,) = build_trades(fills, funding=pays, settings=settings)
    assert t.side is Side.SELL
    assert t.funding == D("0.04")
    assert t.net_pnl == D("19.65")  # 20 - (0.2 + 0.19) + 0.04
    assert (t.leverage, t.margin_mode) == (5, MarginMode.CROSS)
    # MAE/MFE without a price path: the fill prices only. Short from 200: best 190 -> (200-190) x 2 = 20
    assert t.mfe == D("20") and t.mae == D("0")


def test_a_bnb_fee_is_kept_apart_and_flagged():
    fills = [
        fill(1, 1, Side.BUY, "100", "1", "0.0001", ts=0, asset="BNB"),
        fill(2, 2, Side.SELL, "101", "1", "0.0505", ts=10, pnl="1"),
    ]
    (t,) = build_trades(fills)
    assert t.fees == D("0.0505")  # USDT only
    assert t.other_fees == (("BNB", D("0.0001")),) and t.has_foreign_fee
    assert t.net_pnl == D("0.9495")  # 1 - 0.0505, the BNB never subtracted from USDT


def test_the_initial_stop_is_the_first_protective_stop_placed_while_open():
    fills = [fill(1, 1, Side.SELL, "100", "2", ts=1000), fill(2, 2, Side.BUY, "104", "2", ts=9000, pnl="-8",
                                                            otype=OrderType.STOP_MARKET)]
    orders = [
        stop(7, Side.BUY, "110", 500),  # placed before the trade: not its stop
        stop(8, Side.BUY, "105", 2000),  # the first while open: risk |100 - 105| x 2 = 10
        stop(9, Side.BUY, "104", 3000),  # moved later: not the initial stop
        stop(10, Side.SELL, "90", 2500),  # the wrong side
    ]
    (t,) = build_trades(fills, orders=orders)
    assert t.stop_price == D("105") and t.risk == D("10")
    assert t.r_multiple == D("-0.8")  # -8 / 10


def test_a_stop_on_the_profit_side_gives_no_risk_but_a_recorded_sizer_risk_does():
    fills = [fill(1, 1, Side.BUY, "100", "1", ts=0), fill(2, 2, Side.SELL, "103", "1", ts=10, pnl="3")]
    (t,) = build_trades(fills, orders=[stop(5, Side.SELL, "101", 5)])
    assert t.risk is None
    (t,) = build_trades(fills, sizer_risk={1: D("1.5")})
    assert t.r_multiple == D("2")  # 3 / 1.5


def test_symbols_are_separate_and_the_list_is_in_opening_order():
    fills = [
        fill(1, 1, Side.BUY, "100", "1", ts=0),
        fill(2, 2, Side.SELL, "10", "1", ts=5, symbol="ETHUSDT"),
        fill(3, 3, Side.SELL, "100", "1", ts=10),
        fill(4, 4, Side.BUY, "10", "1", ts=20, symbol="ETHUSDT"),
    ]
    assert [t.trade_key for t in build_trades(fills)] == ["BTCUSDT:1", "ETHUSDT:2"]


# ---- through the real engine and desk on the bundled replay


@pytest.fixture
def desk():
    from hexdesk.service import open_replay_session
    from hexdesk.storage.journal import Journal

    journal = Journal.in_memory()
    desk = open_replay_session(journal, ("BTCUSDT-2025-03",), paused=True)
    yield desk
    journal.close()


def _feed(desk, n):
    gen = desk.replay.ticks()
    desk.feed([next(gen) for _ in range(n)])


def test_a_round_trip_on_the_real_desk_from_events_and_from_the_journal(desk):
    from hexdesk.engine.orders import OrderRequest

    _feed(desk, 8)
    last = desk.last_price(SYM)
    sl = (last * D("0.98")).quantize(D("0.1"))
    assert desk.submit(OrderRequest.market(SYM, Side.BUY, D("0.010"), stop_loss=sl)).ok
    _feed(desk, 8)
    assert desk.close_position(SYM).ok
    events = list(desk.exchange.events)
    (t,) = trades_from_events(events)
    fills = desk.journal.fills(desk.session_id)
    assert len(fills) == 2 and t.trade_key == f"{SYM}:{fills[0].trade_id}"
    # the figures follow from the two fills as the journal stored them
    buy, sell = fills
    assert t.entry_avg == buy.price and t.exit_avg == sell.price
    assert t.fees == buy.fee + sell.fee and t.realized_pnl == sell.realized_pnl
    assert t.stop_price == sl and t.risk == (buy.price - sl) * D("0.010")
    assert t.exit_reason is ExitReason.MANUAL  # closed by a reduce-only market order
    assert (t.leverage, t.margin_mode) == (desk.leverage(SYM), desk.margin_mode(SYM))
    # the journal's rows give the same trade (a resumed or imported session has only those)
    rows = build_trades(fills_from_rows(fills, desk.journal.orders(desk.session_id)),
                        orders=desk.journal.orders(desk.session_id), funding=desk.journal.funding(desk.session_id))
    assert [r.trade_key for r in rows] == [t.trade_key]
    assert rows[0].net_pnl == t.net_pnl and rows[0].risk == t.risk and rows[0].exit_reason is t.exit_reason
    assert fills_from_events(events)[0].trade_id == buy.trade_id


def test_the_desk_lists_its_trades_and_statistics_and_recomputes_on_new_fills(desk):
    from hexdesk.engine.orders import OrderRequest
    from hexdesk.service import open_replay_session

    _feed(desk, 8)
    assert desk.trades() == [] and desk.statistics().trade_count == 0
    assert desk.submit(OrderRequest.market(SYM, Side.SELL, D("0.010"))).ok
    (open_trade,) = desk.trades()
    assert open_trade.is_open and open_trade.side is Side.SELL
    _feed(desk, 120)  # two minutes of 1-minute candles at 60 ticks each, more or less
    assert desk.close_position(SYM).ok
    (t,) = desk.trades()
    assert t.trade_key == open_trade.trade_key and not t.is_open
    # MAE/MFE from the closed candles while it was open: the short's worst price is the highest high
    hist = desk.history(SYM)
    first = max(0, hist.index_at(t.opened_ms - 59_999))
    stop = hist.index_at(t.closed_ms + 1)
    high = max(max(hist.candle(i).high for i in range(first, stop)), t.entry_avg, t.exit_avg)
    low = min(min(hist.candle(i).low for i in range(first, stop)), t.entry_avg, t.exit_avg)
    assert t.mae == min(D(0), (t.entry_avg - high) * t.max_size)
    assert t.mfe == max(D(0), (t.entry_avg - low) * t.max_size)
    s = desk.statistics()
    assert s.trade_count == 1 and s.start_balance == 10_000
    assert s.net_pnl == pytest.approx(float(t.net_pnl)) and s.fees == pytest.approx(float(t.fees))
    # the same session without a journal: the same trade from the in-memory events
    bare = open_replay_session(None, ("BTCUSDT-2025-03",), paused=True)
    _feed(bare, 8)
    bare.submit(OrderRequest.market(SYM, Side.SELL, D("0.010")))
    _feed(bare, 120)
    bare.close_position(SYM)
    assert [(b.trade_key, b.net_pnl, b.mae, b.mfe) for b in bare.trades()] == [(t.trade_key, t.net_pnl, t.mae, t.mfe)]


# ---- through the engine's Exchange (fills exactly at the trigger, taker fee 0.05 %)


def test_stop_loss_and_take_profit_exits_through_the_exchange():
    from hexdesk.engine.orders import OrderRequest
    from tests.engine._exchange_helpers import exact_exchange

    ex = exact_exchange()
    ex.on_tick(SYM, 1_000, D("60000"))
    assert ex.submit(OrderRequest.market(SYM, Side.BUY, D("0.2"), take_profit=D("63000"), stop_loss=D("58000"))).ok
    ex.on_tick(SYM, 2_000, D("57500"))  # the path passes the stop at 58,000 (liquidation ~57,240 is further)
    assert ex.submit(OrderRequest.market(SYM, Side.SELL, D("0.1"), take_profit=D("56000"))).ok
    ex.on_tick(SYM, 3_000, D("55000"))
    long, short = trades_from_events(list(ex.events))
    # long 0.2 @ 60,000 -> stop 58,000: realized -400, fees 6 + 5.8, risk 2,000 x 0.2 = 400
    assert long.exit_reason is ExitReason.STOP_LOSS and long.exit_avg == D("58000")
    assert long.net_pnl == D("-411.8") and long.risk == D("400")
    assert long.r_multiple == D("-1.0295")  # -411.8 / 400
    assert (long.leverage, long.margin_mode) == (20, MarginMode.ISOLATED)
    # short 0.1 @ 57,500 -> take-profit 56,000: realized +150, fees 2.875 + 2.8; no stop: no R
    assert short.exit_reason is ExitReason.TAKE_PROFIT
    assert short.net_pnl == D("144.325") and short.r_multiple is None
    assert ex.account().wallet_balance - D("10000") == long.net_pnl + short.net_pnl  # what the wallet saw


def test_a_liquidation_through_the_exchange_is_the_trade_s_exit_and_its_whole_loss():
    from hexdesk.engine.orders import OrderRequest
    from tests.engine._exchange_helpers import exact_exchange

    ex = exact_exchange()
    ex.on_tick(SYM, 1_000, D("60000"))
    assert ex.submit(OrderRequest.market(SYM, Side.BUY, D("0.1"))).ok
    ex.on_tick(SYM, 2_000, D("50000"))
    (t,) = trades_from_events(list(ex.events))
    assert t.exit_reason is ExitReason.LIQUIDATION and not t.is_open
    assert ex.account().wallet_balance - D("10000") == t.net_pnl < 0
    # no price path given: the fills are the path, the worst being the liquidation's (bankruptcy) price
    assert t.mae == (t.exit_avg - D("60000")) * D("0.1") and t.mfe == 0


def test_imported_fill_rows_without_orders_make_trades_too():
    """A journal-only session (Binance trade-history import) has fill rows and no orders: trades still form."""
    from hexdesk.engine.enums import LiquidityRole
    from hexdesk.storage.views import FillRow

    rows = [
        FillRow(1, 501, 9001, SYM, Side.BUY, D("90000"), D("0.002"), D("0.00012"), "BNB", LiquidityRole.TAKER,
                D("0"), 1_000, False),
        FillRow(2, 502, 9002, SYM, Side.SELL, D("91000"), D("0.002"), D("0.0728"), "USDT", LiquidityRole.MAKER,
                D("2"), 5_000, False),  # (91,000 - 90,000) x 0.002 = 2
    ]
    (t,) = build_trades(fills_from_rows(rows, []))
    assert t.trade_key == "BTCUSDT:501" and t.exit_reason is ExitReason.MANUAL
    assert t.fees == D("0.0728") and t.other_fees == (("BNB", D("0.00012")),)
    assert t.net_pnl == D("1.9272")  # 2 - 0.0728
    assert (t.leverage, t.margin_mode, t.risk) == (None, None, None)
