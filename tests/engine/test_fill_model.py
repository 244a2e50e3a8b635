"""The fill model: taker slippage, resting-limit fills and trigger prices (docs/fill-model.md)."""

from __future__ import annotations

import itertools
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hexdesk.engine.enums import OrderType, Side
from hexdesk.engine.events import OrderFilled
from hexdesk.engine.exchange import Exchange
from hexdesk.engine.fill_model import (
    DefaultFillModel,
    FillModel,
    average_price,
    segment_volume,
    trigger_fires_at_or_above,
)
from hexdesk.engine.instruments import default_instruments
from hexdesk.engine.orders import OrderRequest

BTC = default_instruments()["BTCUSDT"]
ETH = default_instruments()["ETHUSDT"]
MODEL = DefaultFillModel()
TICK = BTC.tick_size


def on_grid(price: D, tick: D = TICK) -> bool:
    return price % tick == 0


def test_default_model_satisfies_the_protocol():
    assert isinstance(MODEL, FillModel)


# -- market fills ----------------------------------------------------------------------------------------


def test_liquidity_at_a_candle_open_comes_from_the_closed_candles():
    # Issue 6.3: at the open of BTCUSDT 2025-03-02 04:40 (last 85,625.98) the forming candle has traded nothing.
    # Priced against that 0 the order paid the bounded worst: 85,625.98 × 1.002 + 0.1 = 85,797.33 -> 85,797.4.
    assert MODEL.market_fills(BTC, Side.BUY, D("0.01"), D("85625.98"), D("0")) == [(D("85797.4"), D("0.01"))]
    # Priced against the median of the 15 closed candles before it, 11.57153 BTC a minute:
    # 0.005 × 0.01 / 11.57153 × 85,625.98 = 0.36998 of impact + 0.1 spread = 85,626.44998 -> up to 85,626.5.
    assert MODEL.market_fills(BTC, Side.BUY, D("0.01"), D("85625.98"), D("11.57153")) == [(D("85626.5"), D("0.01"))]


def test_no_volume_pays_only_the_spread():
    assert MODEL.market_fills(BTC, Side.BUY, D("2"), D("60000.0"), None) == [(D("60000.1"), D("2"))]
    assert MODEL.market_fills(BTC, Side.SELL, D("2"), D("60000.0"), None) == [(D("59999.9"), D("2"))]


def test_zero_volume_candle_pays_the_bounded_worst_price():
    # 0.2% of 60,000 = 120, plus the 1-tick half-spread.
    assert MODEL.market_fills(BTC, Side.BUY, D("1"), D("60000"), D("0")) == [(D("60120.1"), D("1"))]
    assert MODEL.market_fills(BTC, Side.SELL, D("1"), D("60000"), D("0")) == [(D("59879.9"), D("1"))]


def test_small_order_formula_by_hand():
    # impact = 0.005 × 1 / 12 = 0.041666..% of 60,000 = 25.0 (+0.1 spread) -> 60,025.1 (already on the grid).
    assert MODEL.market_fills(BTC, Side.BUY, D("1"), D("60000"), D("12")) == [(D("60025.1"), D("1"))]
    # 0.5 BTC: 12.5 + 0.1 -> 60,012.6; the sell side mirrors it.
    assert MODEL.market_fills(BTC, Side.SELL, D("0.5"), D("60000"), D("12")) == [(D("59987.4"), D("0.5"))]


def test_rounding_is_against_the_taker():
    # impact 0.005 × 0.1 / 12 × 60,000 = 2.5 -> buy 60,002.6 exactly; with 0.01 BTC 0.25 -> 0.35 -> up to 0.4.
    assert MODEL.market_fills(BTC, Side.BUY, D("0.01"), D("60000"), D("12")) == [(D("60000.4"), D("0.01"))]
    assert MODEL.market_fills(BTC, Side.SELL, D("0.01"), D("60000"), D("12")) == [(D("59999.6"), D("0.01"))]


def test_large_order_walks_the_book_in_levels():
    fills = MODEL.market_fills(BTC, Side.BUY, D("5"), D("60000"), D("12"))
    # Levels of 10% of the 12 BTC candle = 1.2 BTC, each priced at its cumulative impact; capped at 0.2%.
    assert fills == [
        (D("60030.1"), D("1.2")),
        (D("60060.1"), D("1.2")),
        (D("60090.1"), D("1.2")),
        (D("60120.1"), D("1.4")),
    ]
    assert sum(q for _, q in fills) == D("5")
    prices = [p for p, _ in fills]
    assert prices == sorted(prices)


def test_max_levels_puts_the_rest_in_the_last_level():
    model = DefaultFillModel(max_levels=2, max_impact=D("0.05"))
    fills = model.market_fills(BTC, Side.SELL, D("5"), D("60000"), D("12"))
    assert [q for _, q in fills] == [D("1.2"), D("3.8")]
    # the last level pays impact_k × 5 / 12 = 0.2083..% -> 60,000 − 125 − 0.1
    assert fills[-1][0] == D("59874.9")


def test_slippage_is_monotone_in_size():
    sizes = [D("0.001"), D("0.01"), D("0.1"), D("0.5"), D("1"), D("2"), D("3.3"), D("8"), D("50"), D("120")]
    for side in Side:
        avgs = [average_price(MODEL.market_fills(BTC, side, q, D("60000"), D("12"))) for q in sizes]
        ordered = sorted(avgs) if side is Side.BUY else sorted(avgs, reverse=True)
        assert avgs == ordered, side


def test_slippage_is_bounded_like_the_seed_product():
    fills = MODEL.market_fills(BTC, Side.BUY, D("120"), D("60000"), D("1"))
    assert max(p for p, _ in fills) <= D("60000") * D("1.002") + TICK


def test_market_fills_reject_nonsense():
    with pytest.raises(ValueError):
        MODEL.market_fills(BTC, Side.BUY, D("0"), D("60000"), None)
    with pytest.raises(ValueError):
        MODEL.market_fills(BTC, Side.BUY, D("1"), D("0"), None)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"spread_ticks": -1},
        {"impact_k": D("-0.1")},
        {"max_impact": D("1")},
        {"level_fraction": D("0")},
        {"max_levels": 0},
        {"participation": D("1.5")},
    ],
)
def test_parameters_are_validated(kwargs):
    with pytest.raises(ValueError):
        DefaultFillModel(**kwargs)


prices = st.decimals(min_value=D("1000"), max_value=D("200000"), places=1)
quantities = st.integers(min_value=1, max_value=120_000).map(lambda n: D(n) / 1000)
volumes = st.one_of(st.none(), st.integers(min_value=0, max_value=5_000_000).map(lambda n: D(n) / 1000))


@settings(max_examples=300, deadline=None)
@given(side=st.sampled_from(list(Side)), qty=quantities, price=prices, volume=volumes)
def test_market_fill_properties(side, qty, price, volume):
    fills = MODEL.market_fills(BTC, side, qty, price, volume)
    assert sum(q for _, q in fills) == qty
    assert all(q > 0 for _, q in fills)
    for p, _ in fills:
        assert on_grid(p)
        # never better than the reference for the taker, and never worse than the bound (+ spread, + 1 rounding tick)
        if side is Side.BUY:
            assert price < p <= price * (1 + MODEL.max_impact) + 2 * TICK
        else:
            assert price * (1 - MODEL.max_impact) - 2 * TICK <= p < price
    ps = [p for p, _ in fills]
    assert ps == (sorted(ps) if side is Side.BUY else sorted(ps, reverse=True))
    assert len(set(ps)) == len(ps)


@settings(max_examples=200, deadline=None)
@given(side=st.sampled_from(list(Side)), a=quantities, b=quantities, price=prices,
       volume=st.integers(min_value=1, max_value=500_000).map(lambda n: D(n) / 1000))
def test_bigger_orders_never_get_a_better_average(side, a, b, price, volume):
    small, big = sorted((a, b))
    avg_small = average_price(MODEL.market_fills(BTC, side, small, price, volume))
    avg_big = average_price(MODEL.market_fills(BTC, side, big, price, volume))
    assert (avg_big >= avg_small) if side is Side.BUY else (avg_big <= avg_small)


def test_eth_grid():
    fills = MODEL.market_fills(ETH, Side.SELL, D("3.5"), D("3000.00"), D("1000"))
    assert all(on_grid(p, ETH.tick_size) for p, _ in fills)


# -- resting limit fills -----------------------------------------------------------------------------------


def test_buy_limit_fills_only_when_traded_through():
    fill = MODEL.limit_fill_qty
    assert fill(BTC, Side.BUY, D("60000"), D("1"), D("60100"), D("59999.9"), None) == D("1")
    assert fill(BTC, Side.BUY, D("60000"), D("1"), D("59999.9"), D("60100"), None) == D("1")  # from below
    assert fill(BTC, Side.BUY, D("60000"), D("1"), D("60100"), D("60000"), None) == 0  # touch only
    assert fill(BTC, Side.BUY, D("60000"), D("1"), D("60100"), D("60050"), None) == 0


def test_sell_limit_fills_only_when_traded_through():
    fill = MODEL.limit_fill_qty
    assert fill(BTC, Side.SELL, D("60000"), D("1"), D("59900"), D("60000.1"), None) == D("1")
    assert fill(BTC, Side.SELL, D("60000"), D("1"), D("59900"), D("60000"), None) == 0
    assert fill(BTC, Side.SELL, D("60000"), D("1"), D("60000"), D("59000"), None) == 0


def test_fill_on_touch_option():
    touchy = DefaultFillModel(fill_on_touch=True)
    assert touchy.limit_fill_qty(BTC, Side.BUY, D("60000"), D("1"), D("60100"), D("60000"), None) == D("1")
    assert touchy.limit_fill_qty(BTC, Side.SELL, D("60000"), D("1"), D("59900"), D("60000"), None) == D("1")
    assert touchy.limit_fill_qty(BTC, Side.SELL, D("60000"), D("1"), D("59900"), D("59999.9"), None) == 0


def test_limit_fill_is_capped_by_participation():
    fill = MODEL.limit_fill_qty
    # 10% of a 12.34 BTC segment = 1.234 BTC.
    assert fill(BTC, Side.BUY, D("60000"), D("5"), D("60100"), D("59900"), D("12.34")) == D("1.234")
    assert fill(BTC, Side.BUY, D("60000"), D("0.5"), D("60100"), D("59900"), D("12.34")) == D("0.5")
    # rounded down to the step size; under one step fills nothing; a zero-volume segment fills nothing
    assert fill(BTC, Side.BUY, D("60000"), D("5"), D("60100"), D("59900"), D("0.01239")) == D("0.001")
    assert fill(BTC, Side.BUY, D("60000"), D("5"), D("60100"), D("59900"), D("0.009")) == 0
    assert fill(BTC, Side.BUY, D("60000"), D("5"), D("60100"), D("59900"), D("0")) == 0


def test_partial_fills_accumulate_over_segments():
    remaining = D("2.5")
    path = [D("60100"), D("59900"), D("60100"), D("59800"), D("60200")]
    fills = []
    for a, b in itertools.pairwise(path):
        fills.append(MODEL.limit_fill_qty(BTC, Side.BUY, D("60000"), remaining, a, b, D("10")))
        remaining -= fills[-1]
    # each segment trades through 60,000 and fills at most 1 BTC (10% of 10) until all is filled
    assert fills == [D("1"), D("1"), D("0.5"), D("0")]
    assert remaining == 0


def test_a_segment_gets_its_share_of_a_minutes_liquidity():
    # 12 BTC a minute: a replayed 20-second stretch carries 4, the 1 ms from a close to the next open 0.0002
    assert segment_volume(D("12"), 20_000) == D("4")
    assert segment_volume(D("12"), 1) == D("0.0002")
    assert segment_volume(D("12"), 0) == 0 and segment_volume(D("0"), 20_000) == 0
    assert segment_volume(None, 20_000) is None


def test_a_resting_bid_takes_ten_percent_of_each_stretchs_share_in_the_exchange():
    ex = Exchange(wallet_balance=D("100000"))
    t0 = 1_740_798_000_000
    ex.on_tick("BTCUSDT", t0, D("60100"), bar_volume=D("12"))
    assert ex.submit(OrderRequest.limit("BTCUSDT", Side.BUY, D("1"), D("60000"))).ok
    # 20 s trading through the bid: 12 BTC/min × 20/60 = 4 BTC traded, 10% of it = 0.4 BTC fills (maker)
    events = ex.on_tick("BTCUSDT", t0 + 20_000, D("59900"), bar_volume=D("12"))
    assert [e.fill.quantity for e in events if isinstance(e, OrderFilled)] == [D("0.4")]
    # the next 20 s are still below the bid: another 0.4; then 10 s: 0.2, the rest
    ex.on_tick("BTCUSDT", t0 + 40_000, D("59950"), bar_volume=D("12"))
    assert ex.position("BTCUSDT").quantity == D("0.8")
    ex.on_tick("BTCUSDT", t0 + 50_000, D("59800"), bar_volume=D("12"))
    assert ex.position("BTCUSDT").quantity == D("1")


def test_limit_fill_with_nothing_remaining():
    assert MODEL.limit_fill_qty(BTC, Side.BUY, D("60000"), D("0"), D("61000"), D("59000"), None) == 0


# -- triggers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "order_type", "up"),
    [
        (Side.BUY, OrderType.STOP, True),
        (Side.BUY, OrderType.STOP_MARKET, True),
        (Side.SELL, OrderType.STOP, False),
        (Side.SELL, OrderType.STOP_MARKET, False),
        (Side.BUY, OrderType.TAKE_PROFIT, False),
        (Side.BUY, OrderType.TAKE_PROFIT_MARKET, False),
        (Side.SELL, OrderType.TAKE_PROFIT, True),
        (Side.SELL, OrderType.TAKE_PROFIT_MARKET, True),
    ],
)
def test_trigger_table(side, order_type, up):
    assert trigger_fires_at_or_above(side, order_type) is up
    stop = D("60000")
    trig = MODEL.trigger_price
    if up:
        assert trig(side, order_type, stop, D("59900"), D("60100")) == stop  # crossed upward
        assert trig(side, order_type, stop, D("59900"), D("60000")) == stop  # reached exactly (>=)
        assert trig(side, order_type, stop, D("60250"), D("60300")) == D("60250")  # gapped above: at the gap
        assert trig(side, order_type, stop, D("60000"), D("59000")) == stop  # starts at the stop
        assert trig(side, order_type, stop, D("59900"), D("59999.9")) is None
        assert trig(side, order_type, stop, D("59999.9"), D("59000")) is None
    else:
        assert trig(side, order_type, stop, D("60100"), D("59900")) == stop
        assert trig(side, order_type, stop, D("60100"), D("60000")) == stop
        assert trig(side, order_type, stop, D("59700"), D("59600")) == D("59700")
        assert trig(side, order_type, stop, D("60000"), D("61000")) == stop
        assert trig(side, order_type, stop, D("60100"), D("60000.1")) is None
        assert trig(side, order_type, stop, D("60000.1"), D("61000")) is None


@pytest.mark.parametrize("order_type", [OrderType.MARKET, OrderType.LIMIT])
def test_non_conditional_orders_have_no_trigger(order_type):
    with pytest.raises(ValueError):
        MODEL.trigger_price(Side.BUY, order_type, D("1"), D("1"), D("2"))


def test_stop_on_a_gap_fills_at_the_gap_price():
    # A long's SELL STOP_MARKET at 59,500; the next candle opens at 59,000.
    trigger = MODEL.trigger_price(Side.SELL, OrderType.STOP_MARKET, D("59500"), D("59000"), D("59100"))
    assert trigger == D("59000")
    fills = MODEL.market_fills(BTC, Side.SELL, D("0.5"), trigger, None)
    assert fills == [(D("58999.9"), D("0.5"))]


@settings(max_examples=300, deadline=None)
@given(
    side=st.sampled_from(list(Side)),
    order_type=st.sampled_from([OrderType.STOP, OrderType.STOP_MARKET, OrderType.TAKE_PROFIT,
                                OrderType.TAKE_PROFIT_MARKET]),
    stop=prices, a=prices, b=prices,
)
def test_trigger_is_the_first_point_meeting_the_condition(side, order_type, stop, a, b):
    up = trigger_fires_at_or_above(side, order_type)
    holds = (lambda p: p >= stop) if up else (lambda p: p <= stop)
    got = MODEL.trigger_price(side, order_type, stop, a, b)
    if holds(a):
        assert got == a
    elif holds(b):
        assert got == stop
        assert min(a, b) <= got <= max(a, b)
    else:
        assert got is None
