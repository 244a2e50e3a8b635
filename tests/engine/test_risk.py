"""Risk first: position sizing and the order preview (hexdesk.engine.risk)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hexdesk.engine.enums import MarginMode, OrderType, Side
from hexdesk.engine.fill_model import DefaultFillModel
from hexdesk.engine.instruments import default_instruments
from hexdesk.engine.margin import liquidation_price
from hexdesk.engine.orders import OrderRequest
from hexdesk.engine.risk import (
    OrderPreview,
    PreviewContext,
    RiskWarning,
    preview_order,
    size_order,
    size_position,
)

BTC = default_instruments()["BTCUSDT"]
W = RiskWarning
#: No spread and no volume: the margin and fee arithmetic below by hand, without slippage (tested on its own).
NO_SLIP = DefaultFillModel(spread_ticks=0)


def size_flat(*args, **kwargs):
    return size_position(*args, fill_model=NO_SLIP, **kwargs)


def close(a: D | None, b: D | str, tol: str = "0.0001") -> bool:
    assert a is not None
    return abs(a - D(b)) <= D(tol)


def test_every_warning_has_a_message():
    for w in RiskWarning:
        assert isinstance(w.message, str)
        assert len(w.message) > 20


# -- size_position -------------------------------------------------------------------------------------------


def test_worked_sizing_example_long():
    # equity 10,000, 1% -> risk 100 USDT; fees per unit 0.0005 × (60,000 + 59,400) = 59.7;
    # qty = floor_step(100 / (600 + 59.7)) = floor_step(0.15158...) = 0.151
    s = size_flat(BTC, D("10000"), D("60000"), D("59400"), risk_pct=D("1"), leverage=10,
                      take_profit=D("61800"))
    assert s.side is Side.BUY
    assert s.risk_amount == D("100")
    assert s.quantity == D("0.151")
    assert s.notional == D("9060")
    assert s.initial_margin == D("906")
    assert s.leverage_needed == 1  # 9,060 fits in 10,000 at 1x
    assert s.fees == D("9.0147")  # 0.0005 × 0.151 × (60,000 + 59,400)
    assert s.loss_at_stop == D("99.6147")  # 0.151 × 600 + 9.0147
    assert s.loss_at_stop <= s.risk_amount
    # isolated WB = IM = 906: the same ratio as vector V1 (10x) -> 54,216.8675
    assert close(s.liquidation_price, "54216.8675")
    # isolated: the whole margin (clearance fee 1.25% > MMR 0.4% eats the rest) + the entry fee 4.53
    assert close(s.loss_at_liquidation, "910.53")
    # reward at 61,800: 0.151 × 1,800 − 4.53 − 0.0005 × 0.151 × 61,800 = 262.6041; / 99.6147
    assert close(s.r_multiple, D("262.6041") / D("99.6147"), "1e-20")
    assert s.warnings == ()
    assert close(s.risk_used_pct, "99.6147")


def test_worked_sizing_example_short():
    s = size_flat(BTC, D("10000"), D("60000"), D("60600"), leverage=10)
    assert s.side is Side.SELL
    # 100 / (600 + 0.0005 × 120,600) = 100 / 660.3 = 0.15144 -> 0.151
    assert s.quantity == D("0.151")
    assert s.loss_at_stop == D("0.151") * 600 + D("0.0005") * D("0.151") * D("120600")
    # short: (Q·EP + WB) / (Q·(1 + MMR)) = (9,060 + 906) / (0.151 × 1.004)
    assert close(s.liquidation_price, D("9966") / (D("0.151") * D("1.004")), "1e-18")
    assert s.liquidation_price > D("60600")
    assert s.warnings == ()


def test_stop_beyond_liquidation_at_150x_with_a_wide_stop():
    s = size_flat(BTC, D("10000"), D("60000"), D("59000"), leverage=150)
    # isolated WB = notional / 150: LP = 60,000 × (1 − 1/150) / 0.996 = 59,839.36 — above the 59,000 stop
    assert close(s.liquidation_price, "59839.3574")
    assert s.warnings[0] is W.STOP_BEYOND_LIQUIDATION
    assert W.HIGH_LEVERAGE in s.warnings
    assert W.LIQUIDATION_CLOSE in s.warnings
    short = size_flat(BTC, D("10000"), D("60000"), D("61000"), leverage=150)
    assert short.liquidation_price < D("61000")
    assert W.STOP_BEYOND_LIQUIDATION in short.warnings


def test_stop_inside_liquidation_does_not_warn():
    s = size_flat(BTC, D("10000"), D("60000"), D("59700"), leverage=20)
    assert s.liquidation_price < D("59700")
    assert W.STOP_BEYOND_LIQUIDATION not in s.warnings
    assert W.HIGH_LEVERAGE not in s.warnings  # 20x is the threshold, not above it


def test_cross_sizing_uses_the_cross_wallet():
    iso = size_flat(BTC, D("10000"), D("60000"), D("59400"), leverage=10)
    cross = size_flat(BTC, D("10000"), D("60000"), D("59400"), leverage=10, margin_mode=MarginMode.CROSS,
                          cross_wallet_balance=D("5000"))
    assert cross.quantity == iso.quantity
    entry_fee = D("0.0005") * cross.notional
    assert cross.liquidation_price == liquidation_price(BTC, cross.quantity, D("60000"), D("5000") - entry_fee)
    assert cross.loss_at_liquidation > 3 * iso.loss_at_liquidation
    assert W.CROSS_LOSS_EXCEEDS_MARGIN in cross.warnings


def test_cross_sizing_without_liquidation():
    s = size_flat(BTC, D("10000"), D("60000"), D("59400"), leverage=10, margin_mode=MarginMode.CROSS)
    # 9,060 of notional backed by a 10,000 wallet: a long cannot be liquidated
    assert s.liquidation_price is None
    assert s.loss_at_liquidation is None


def test_tight_stop_needs_more_leverage():
    s = size_flat(BTC, D("10000"), D("60000"), D("59940"), leverage=1)
    # 100 / (60 + 59.97) = 0.8335 -> 0.833; notional 49,980 -> 5x needed with 10,000 available
    assert s.quantity == D("0.833")
    assert s.leverage_needed == 5
    assert W.INSUFFICIENT_MARGIN in s.warnings
    assert W.INSUFFICIENT_MARGIN not in size_flat(BTC, D("10000"), D("60000"), D("59940"), leverage=5).warnings
    assert size_flat(BTC, D("10000"), D("60000"), D("59940"), leverage=5,
                         available_balance=D("2000")).leverage_needed == 25
    assert size_flat(BTC, D("10000"), D("60000"), D("59940"), leverage=5,
                         available_balance=D("0")).leverage_needed is None


def test_too_small_to_trade_is_a_warning_not_an_error():
    s = size_flat(BTC, D("50"), D("60000"), D("54000"), leverage=5)
    assert s.quantity == 0
    assert W.BELOW_MIN_QTY in s.warnings
    assert W.BELOW_MIN_NOTIONAL in s.warnings
    assert s.liquidation_price is None
    tiny = size_flat(BTC, D("400"), D("60000"), D("57000"), leverage=5)  # 4 / 3,058.5 = 0.0013
    assert tiny.quantity == D("0.001")  # 60 USDT notional clears 50: fine
    assert tiny.warnings == ()
    small = size_flat(BTC, D("150"), D("60000"), D("57000"), leverage=5)
    assert small.quantity == 0


def test_risk_above_limit_and_low_reward():
    s = size_flat(BTC, D("10000"), D("60000"), D("59400"), risk_pct=D("3"), leverage=10, take_profit=D("60300"))
    assert W.RISK_ABOVE_LIMIT in s.warnings
    assert W.LOW_REWARD_TO_RISK in s.warnings
    assert s.r_multiple < D("0.5")


def test_above_max_position_for_the_leverage():
    s = size_flat(BTC, D("1000000"), D("60000"), D("59400"), leverage=150)
    # 1% of 1M at a 1% stop ≈ 1M notional: above 300k, the 150x cap
    assert W.ABOVE_MAX_POSITION in s.warnings


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"stop": D("60000")}, "stop must differ"),
        ({"equity": D("0")}, "equity"),
        ({"stop": D("-1")}, "positive"),
        ({"risk_pct": D("0")}, "risk_pct"),
        ({"risk_pct": D("101")}, "risk_pct"),
        ({"leverage": 0}, "leverage"),
        ({"leverage": 151}, "leverage"),
        ({"take_profit": D("59000")}, "take-profit must be above"),
    ],
)
def test_sizing_validates_inputs(kwargs, match):
    args = {"equity": D("10000"), "entry": D("60000"), "stop": D("59400"), "leverage": 10} | kwargs
    with pytest.raises(ValueError, match=match):
        size_flat(BTC, args.pop("equity"), args.pop("entry"), args.pop("stop"), **args)


@settings(max_examples=200, deadline=None)
@given(
    equity=st.integers(min_value=10, max_value=10_000_000).map(D),
    entry=st.integers(min_value=10_000, max_value=2_000_000).map(lambda n: D(n) / 10),
    distance_bp=st.integers(min_value=1, max_value=5000),
    below=st.booleans(),
    risk_pct=st.integers(min_value=1, max_value=1000).map(lambda n: D(n) / 100),
    leverage=st.integers(min_value=1, max_value=150),
    mode=st.sampled_from(list(MarginMode)),
    liquidity=st.sampled_from([None, D("0"), D("0.5"), D("12"), D("300")]),
)
def test_sized_loss_never_exceeds_the_risk(equity, entry, distance_bp, below, risk_pct, leverage, mode, liquidity):
    move = BTC.round_price(entry * distance_bp / 10_000) or BTC.tick_size
    stop = entry - move if below else entry + move
    s = size_position(BTC, equity, entry, stop, risk_pct=risk_pct, leverage=leverage, margin_mode=mode,
                      liquidity=liquidity)
    assert s.loss_at_stop <= s.max_loss_at_stop <= s.risk_amount
    assert s.quantity % BTC.step_size == 0
    # the largest such quantity: one step more, previewed with its slippage and fees, can lose more than the risk
    assert s.preview is not None
    req = OrderRequest.market("BTCUSDT", s.side, s.quantity + BTC.step_size, stop_loss=stop)
    c = ctx(last_price=entry, mark_price=entry, leverage=leverage, margin_mode=mode, cross_wallet_balance=equity,
            available_balance=equity, equity=equity, fill_model=DefaultFillModel(), liquidity=liquidity)
    assert preview_order(req, c).max_loss_at_stop > s.risk_amount
    if s.quantity:
        assert (s.loss_at_stop, s.max_loss_at_stop) == (s.preview.loss_at_stop, s.preview.max_loss_at_stop)
    if s.liquidation_price is not None and s.side is Side.BUY:
        assert (W.STOP_BEYOND_LIQUIDATION in s.warnings) == (s.liquidation_price >= stop)


# -- preview_order -----------------------------------------------------------------------------------------


def ctx(**kw) -> PreviewContext:
    base = PreviewContext(
        instrument=BTC, last_price=D("60000"), mark_price=D("60000"), position_qty=D("0"), entry_price=D("0"),
        isolated_wallet=D("0"), leverage=10, margin_mode=MarginMode.ISOLATED, cross_wallet_balance=D("10000"),
        other_maintenance=D("0"), other_upnl=D("0"), available_balance=D("10000"), equity=D("10000"),
        fill_model=NO_SLIP,
    )
    return replace(base, **kw)


def test_preview_market_order_by_hand():
    req = OrderRequest.market("BTCUSDT", Side.BUY, D("0.151"), stop_loss=D("59400"), take_profit=D("61800"))
    p = preview_order(req, ctx())
    assert isinstance(p, OrderPreview)
    assert p.assumed_price == D("60000")
    assert p.notional == D("9060")
    assert p.initial_margin == D("906")
    assert p.open_loss == 0
    assert p.cost == D("906")
    assert p.entry_fee == D("4.53")  # taker
    assert p.exit_fee_at_stop == D("0.0005") * D("0.151") * D("59400")
    assert p.resulting_qty == D("0.151")
    assert p.resulting_entry_price == D("60000")
    assert close(p.liquidation_price, "54216.8675")
    assert close(p.bankruptcy_price, "54000")
    assert p.loss_at_stop == D("99.6147")  # the sizer's number
    assert close(p.loss_at_liquidation, "910.53")
    assert close(p.distance_to_liquidation_pct, "9.6386")
    assert close(p.r_multiple, D("262.6041") / D("99.6147"), "1e-20")
    assert p.warnings == ()


def test_preview_cost_with_open_loss_binance_example():
    # reference §1.5: 1 BTC at 9,253.30, 20x, mark 9,259.84: IM 462.665, a short's open loss 6.54
    c = ctx(last_price=D("9253.30"), mark_price=D("9259.84"), leverage=20)
    short = preview_order(OrderRequest.market("BTCUSDT", Side.SELL, D("1"), stop_loss=D("9300")), c)
    assert short.initial_margin == D("462.665")
    assert short.open_loss == D("6.54")
    assert short.cost == D("469.205")
    long = preview_order(OrderRequest.market("BTCUSDT", Side.BUY, D("1"), stop_loss=D("9200")), c)
    assert long.open_loss == 0


def test_preview_limit_order_uses_its_limit_price():
    req = OrderRequest.limit("BTCUSDT", Side.BUY, D("0.1"), D("58000"), stop_loss=D("57000"))
    p = preview_order(req, ctx())
    assert p.assumed_price == D("58000")
    assert p.resulting_entry_price == D("58000")
    assert p.initial_margin == D("580")
    assert p.entry_fee == D("0.0002") * D("5800")  # resting: maker
    assert p.liquidation_price == liquidation_price(BTC, D("0.1"), D("58000"), D("580"))
    assert close(p.liquidation_price, (D("5800") - D("580")) / (D("0.1") * D("0.996")), "1e-20")
    # a marketable limit (buy above the last price) takes liquidity from the last price, within its limit: taker
    taker = preview_order(OrderRequest.limit("BTCUSDT", Side.BUY, D("0.1"), D("60100")), ctx())
    assert taker.fills == ((D("60000"), D("0.1")),)  # this context has no spread and no volume
    assert taker.entry_fee == D("0.0005") * D("6000")


def test_preview_stop_market_entry_uses_its_stop_price():
    req = OrderRequest.stop_market("BTCUSDT", Side.BUY, D("61000"), D("0.1"), stop_loss=D("60500"))
    p = preview_order(req, ctx())
    assert p.assumed_price == D("61000")
    assert p.liquidation_price == liquidation_price(BTC, D("0.1"), D("61000"), D("610"))


def test_preview_increase_uses_the_averaged_entry():
    c = ctx(position_qty=D("0.1"), entry_price=D("60000"), isolated_wallet=D("600"))
    p = preview_order(OrderRequest.limit("BTCUSDT", Side.BUY, D("0.1"), D("58000"), stop_loss=D("57000")), c)
    assert p.resulting_qty == D("0.2")
    assert p.resulting_entry_price == D("59000")
    assert p.initial_margin == D("580")
    assert p.liquidation_price == liquidation_price(BTC, D("0.2"), D("59000"), D("1180"))
    # the attached stop closes the whole 0.2: (59,000 − 57,000) × 0.2 + maker entry fee + taker exit fee
    assert p.loss_at_stop == D("400") + D("1.16") + D("0.0005") * D("0.2") * D("57000")


def test_preview_reduce_and_flip():
    c = ctx(position_qty=D("0.2"), entry_price=D("60000"), isolated_wallet=D("1200"), last_price=D("61000"))
    reduce = preview_order(OrderRequest.market("BTCUSDT", Side.SELL, D("0.05")), c)
    assert reduce.resulting_qty == D("0.15")
    assert reduce.resulting_entry_price == D("60000")
    assert reduce.initial_margin == 0
    assert reduce.liquidation_price == liquidation_price(BTC, D("0.15"), D("60000"), D("900"))
    assert W.NO_STOP_LOSS not in reduce.warnings  # nothing opens
    flip = preview_order(OrderRequest.market("BTCUSDT", Side.SELL, D("0.3"), stop_loss=D("62000")), c)
    assert flip.resulting_qty == D("-0.1")
    assert flip.resulting_entry_price == D("61000")
    assert flip.initial_margin == D("610")
    assert flip.liquidation_price == liquidation_price(BTC, D("-0.1"), D("61000"), D("610"))
    ro = preview_order(OrderRequest.market("BTCUSDT", Side.SELL, D("0.3"), reduce_only=True), c)
    assert ro.quantity == D("0.2")
    assert ro.resulting_qty == 0
    assert ro.liquidation_price is None
    assert ro.loss_at_liquidation is None
    cp = preview_order(OrderRequest.stop_market("BTCUSDT", Side.SELL, D("59000"), close_position=True), c)
    assert cp.quantity == D("0.2")
    assert cp.resulting_qty == 0
    assert cp.warnings == ()


def test_preview_isolated_vs_cross_loss_at_liquidation():
    req = OrderRequest.market("BTCUSDT", Side.BUY, D("2"))
    iso = preview_order(req, ctx(available_balance=D("50000"), equity=D("50000")))
    cross = preview_order(req, ctx(margin_mode=MarginMode.CROSS, cross_wallet_balance=D("50000"),
                                   available_balance=D("50000"), equity=D("50000")))
    # isolated: the 12,000 margin + the 60 entry fee
    assert close(iso.loss_at_liquidation, "12060")
    # cross: the whole 50,000 wallet is gone by the time mark reaches the LP (and the clearance fee takes the rest)
    assert close(cross.loss_at_liquidation, "50000")
    assert cross.loss_at_liquidation > 4 * iso.loss_at_liquidation
    assert cross.liquidation_price < iso.liquidation_price
    assert W.CROSS_LOSS_EXCEEDS_MARGIN in cross.warnings
    assert W.CROSS_LOSS_EXCEEDS_MARGIN not in iso.warnings
    assert W.NO_STOP_LOSS in iso.warnings


def test_preview_cross_matches_vector_v7():
    # reference §6 V7: wallet 10,000, TMM1 155, UPNL1 −1,000, BTC long 0.5 @ 60,000 -> LP 42,479.9197.
    # The preview pays the 15 USDT taker fee from the wallet first, so start from 10,015.
    c = ctx(margin_mode=MarginMode.CROSS, cross_wallet_balance=D("10015"), other_maintenance=D("155"),
            other_upnl=D("-1000"))
    p = preview_order(OrderRequest.market("BTCUSDT", Side.BUY, D("0.5")), c)
    assert p.entry_fee == D("15")
    assert close(p.liquidation_price, "42479.9197")


def test_preview_stop_beyond_liquidation_and_other_warnings():
    c = ctx(leverage=150)
    p = preview_order(OrderRequest.market("BTCUSDT", Side.BUY, D("0.1"), stop_loss=D("59000")), c)
    assert p.warnings[0] is W.STOP_BEYOND_LIQUIDATION
    assert {W.HIGH_LEVERAGE, W.LIQUIDATION_CLOSE} <= set(p.warnings)
    wrong = preview_order(
        OrderRequest.market("BTCUSDT", Side.SELL, D("0.1"), stop_loss=D("59000"), take_profit=D("61000")), ctx()
    )
    assert {W.STOP_LOSS_WRONG_SIDE, W.TAKE_PROFIT_WRONG_SIDE} <= set(wrong.warnings)
    big = preview_order(OrderRequest.market("BTCUSDT", Side.BUY, D("2"), stop_loss=D("59000")), ctx())
    assert {W.INSUFFICIENT_MARGIN, W.RISK_ABOVE_LIMIT} <= set(big.warnings)
    small = preview_order(OrderRequest.limit("BTCUSDT", Side.BUY, D("0.0005"), D("59000")), ctx())
    assert {W.BELOW_MIN_QTY, W.BELOW_MIN_NOTIONAL} <= set(small.warnings)
    huge = preview_order(OrderRequest.market("BTCUSDT", Side.BUY, D("130")), ctx(leverage=150))
    assert {W.ABOVE_MAX_QTY, W.ABOVE_MAX_POSITION} <= set(huge.warnings)


def test_preview_requires_prices():
    with pytest.raises(ValueError):
        preview_order(OrderRequest("BTCUSDT", Side.BUY, OrderType.LIMIT, quantity=D("1")), ctx())
    with pytest.raises(ValueError):
        preview_order(OrderRequest("BTCUSDT", Side.BUY, OrderType.STOP_MARKET, quantity=D("1")), ctx())
    with pytest.raises(ValueError):
        preview_order(OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET), ctx())


# -- slippage in the preview and the sizer ------------------------------------------------------------------

LIQ = D("12")  # BTC a minute: the liquidity estimate of these examples


def test_the_preview_prices_entry_and_stop_with_the_fill_model():
    c = ctx(fill_model=DefaultFillModel(), liquidity=LIQ)
    p = preview_order(OrderRequest.market("BTCUSDT", Side.BUY, D("0.127"), stop_loss=D("59400")), c)
    # entry: 60,000 + 0.1 spread + 60,000 × 0.005 × 0.127 / 12 = 60,003.275 -> up to the tick: 60,003.3
    assert p.fills == ((D("60003.3"), D("0.127")),)
    assert p.fill_price == p.resulting_entry_price == D("60003.3")
    assert p.slippage == D("0.4191")  # 0.127 × 3.3
    assert close(p.slippage_pct, D("0.4191") / D("7620") * 100, "1e-20")  # of 0.127 × 60,000
    assert p.entry_fee == D("3.81020955")  # 0.127 × 60,003.3 × 0.05%
    assert p.initial_margin == D("762.04191")  # 0.127 × 60,003.3 / 10, as the ledger posts it
    assert p.open_loss == D("0.4191")  # bought 3.3 above the mark
    assert p.cost == D("762.46101") and p.total_cost == D("766.27121955")
    # the stop exits as a market sell from 59,400 with the same liquidity: 59,400 − 0.1 − 3.14325 -> 59,396.7
    assert p.exit_price_at_stop == D("59396.7")
    assert p.exit_slippage_at_stop == D("0.4191")  # 0.127 × 3.3
    assert p.exit_fee_at_stop == D("3.77169045")  # 0.127 × 59,396.7 × 0.05%
    # 0.127 × (60,003.3 − 59,396.7) + 3.81020955 + 3.77169045
    assert p.loss_at_stop == D("84.6201")
    # whatever the liquidity when it triggers, the exit is no worse than 59,400 × (1 − 0.2%) − 0.1 = 59,281.1:
    # 0.127 × (60,003.3 − 59,281.1) + 3.81020955 + 0.127 × 59,281.1 × 0.05% (3.76434985)
    assert p.max_loss_at_stop == D("99.2939594")
    assert p.liquidity == LIQ
    assert p.liquidation_price == liquidation_price(BTC, D("0.127"), D("60003.3"), D("762.04191"))


def test_a_big_market_order_previews_the_walk_of_the_book():
    p = preview_order(OrderRequest.market("BTCUSDT", Side.BUY, D("5")), ctx(fill_model=DefaultFillModel(),
                                                                          liquidity=LIQ, available_balance=D("1e6")))
    # docs/fill-model.md's table
    assert p.fills == ((D("60030.1"), D("1.2")), (D("60060.1"), D("1.2")), (D("60090.1"), D("1.2")),
                       (D("60120.1"), D("1.4")))
    assert p.notional == D("300384.5")  # 72,036.12 + 72,072.12 + 72,108.12 + 84,168.14
    assert p.slippage == D("384.5") and p.fill_price == D("60076.9")


def test_the_sizer_includes_slippage_and_bounds_the_stops_exit():
    # The old sizer: 100 / (600 + 59.7) -> 0.151 BTC. With slippage that position loses 100.7925 at the stop
    # with today's liquidity (0.151 × (60,003.9 − 59,396.1) + 4.53029445 + 4.48440555) and up to 118.15 if the
    # market thins: 1.18% for a "1%" trade.
    old = preview_order(OrderRequest.market("BTCUSDT", Side.BUY, D("0.151"), stop_loss=D("59400")),
                        ctx(fill_model=DefaultFillModel(), liquidity=LIQ))
    assert old.loss_at_stop == D("100.7925")
    assert old.max_loss_at_stop == D("118.1488175")
    s = size_position(BTC, D("10000"), D("60000"), D("59400"), leverage=10, liquidity=LIQ)
    # per BTC about (60,003.3 − 59,281.1) + 0.05% × (60,003.3 + 59,281.1) = 781.8: 0.128 loses 100.0758016 at the
    # bound, 0.127 loses 99.2939594 (see the previous test)
    assert s.quantity == D("0.127")
    assert s.max_loss_at_stop == D("99.2939594") <= s.risk_amount
    assert s.loss_at_stop == D("84.6201")
    assert s.fees == D("3.81020955") + D("3.77169045")
    assert s.preview is not None and s.preview.quantity == s.quantity and s.resulting_qty == D("0.127")
    expected = size_position(BTC, D("10000"), D("60000"), D("59400"), leverage=10, liquidity=LIQ)
    assert expected == s  # deterministic


def test_sizing_on_the_expected_loss_is_a_choice():
    c = ctx(fill_model=DefaultFillModel(), liquidity=LIQ)
    req = OrderRequest.market("BTCUSDT", Side.BUY, None, stop_loss=D("59400"))
    s = size_order(req, c, D("1"), bounded=False)
    # 0.149: 0.149 × (60,003.9 − 59,396.2) + 4.47029055 + 4.4250169 = 99.44260745; 0.150 would lose 100.125
    assert s.quantity == D("0.149")
    assert s.loss_at_stop == D("99.44260745")


def test_adding_to_an_open_position_sizes_the_combined_loss():
    # long 0.1 @ 60,000, mark 61,000 (+100 unrealized): equity 10,100, risk 1% = 101, stop 60,500.
    c = ctx(position_qty=D("0.1"), entry_price=D("60000"), isolated_wallet=D("600"), last_price=D("61000"),
            mark_price=D("61000"), equity=D("10100"))
    req = OrderRequest.market("BTCUSDT", Side.BUY, None, stop_loss=D("60500"))
    s = size_order(req, c, D("1"))
    # the open 0.1 loses 0.1 × 500 = 50 from the mark, the new q 500q; fees 0.05% × (61,000q + 60,500 (0.1 + q)):
    # 53.025 + 560.75 q <= 101 -> q = 0.085 (100.68875); 0.086 would lose 101.2495
    assert s.quantity == D("0.085")
    assert s.resulting_qty == D("0.185")
    assert s.loss_at_stop == s.max_loss_at_stop == D("100.68875")
    # the preview of that order describes the same position and the same loss
    p = preview_order(replace(req, quantity=D("0.085")), c)
    assert (p.resulting_qty, p.loss_at_stop) == (D("0.185"), D("100.68875"))
    assert p.resulting_entry_price == (D("6000") + D("0.085") * D("61000")) / D("0.185")


def test_an_open_position_that_already_exceeds_the_risk_adds_nothing():
    c = ctx(position_qty=D("0.1"), entry_price=D("60000"), isolated_wallet=D("600"), last_price=D("61000"),
            mark_price=D("61000"), equity=D("10100"))
    s = size_order(OrderRequest.market("BTCUSDT", Side.BUY, None, stop_loss=D("59000")), c, D("1"))
    # the open 0.1 alone loses 0.1 × (61,000 − 59,000) = 200 at that stop: more than 101
    assert s.quantity == 0
    assert s.warnings[0] is W.OPEN_POSITION_EXCEEDS_RISK
    assert s.loss_at_stop == D("200") + D("0.0005") * D("0.1") * D("59000")


def test_an_order_against_an_open_position_closes_it_then_sizes_the_rest():
    # short 0.1 @ 60,000, mark 61,000 (−100): equity 9,900, risk 99; a long with its stop at 60,500.
    c = ctx(position_qty=D("-0.1"), entry_price=D("60000"), isolated_wallet=D("600"), last_price=D("61000"),
            mark_price=D("61000"), equity=D("9900"))
    s = size_order(OrderRequest.market("BTCUSDT", Side.BUY, None, stop_loss=D("60500")), c, D("1"))
    # buying 0.1 + r closes the short at the mark (no loss from now) and opens r: 500 r lost at the stop, fees
    # 0.05% × (61,000 (0.1 + r) + 60,500 r) = 3.05 + 60.75 r: 3.05 + 560.75 r <= 99 -> r = 0.171 (98.93825)
    assert s.quantity == D("0.271")
    assert s.resulting_qty == D("0.171")
    assert s.loss_at_stop == D("98.93825")
    p = preview_order(OrderRequest.market("BTCUSDT", Side.BUY, D("0.271"), stop_loss=D("60500")), c)
    assert (p.resulting_qty, p.loss_at_stop) == (s.resulting_qty, s.loss_at_stop)


def test_the_exchange_previews_what_submit_fills_and_the_stop_realises_the_preview():
    from hexdesk.engine.events import OrderFilled
    from hexdesk.engine.exchange import Exchange

    def stopped_out(stop_liquidity: D) -> tuple[OrderPreview, D]:
        """Size 1% with a stop at 59,400, send, run the price through the stop: (the preview, the loss)."""
        ex = Exchange(wallet_balance=D("10000"))
        t0 = 1_740_798_000_000  # 2025-03-01 03:00 UTC: no funding on the way
        ex.on_tick("BTCUSDT", t0, D("60000"), bar_volume=LIQ)
        ex.set_leverage("BTCUSDT", 10)
        s = ex.size_order(OrderRequest.market("BTCUSDT", Side.BUY, None, stop_loss=D("59400")), D("1"))
        req = OrderRequest.market("BTCUSDT", Side.BUY, s.quantity, stop_loss=D("59400"))
        p = ex.preview(req)
        assert p == s.preview
        r = ex.submit(req)
        fills = [e.fill for e in r.events if isinstance(e, OrderFilled)]
        assert [(f.price, f.quantity) for f in fills] == list(p.fills)
        assert sum(f.fee for f in fills) == p.entry_fee
        pos = ex.position("BTCUSDT")
        assert (pos.entry_price, pos.isolated_wallet, pos.liquidation_price) == (
            p.resulting_entry_price, p.initial_margin, p.liquidation_price)
        ex.on_tick("BTCUSDT", t0 + 20_000, D("59300"), bar_volume=stop_liquidity)  # through the stop
        assert not ex.position("BTCUSDT").is_open
        return p, D("10000") - ex.account().wallet_balance

    p, lost = stopped_out(LIQ)  # the same liquidity when the stop triggers: exactly the expected loss
    assert p.quantity == D("0.127") and lost == p.loss_at_stop == D("84.6201")
    p, lost = stopped_out(D("0.5"))  # thinner: the exit walks levels of 0.05 BTC down to 75.6 below the stop
    # sold 0.05 @ 59,370.2 (impact 0.05%), 0.05 @ 59,340.5 (0.1%), 0.027 @ 59,324.4 (0.127%): 7,537.2938 for
    # 7,620.4191 bought, + 3.81020955 entry fee + 1.484255 + 1.4835125 + 0.8008794 exit fees
    assert lost == D("90.70415645") < p.max_loss_at_stop
    p, lost = stopped_out(D("0"))  # no sign of liquidity: the bounded worst exit, exactly the sized maximum
    assert lost == p.max_loss_at_stop == D("99.2939594") <= D("100")


@pytest.mark.parametrize(
    ("stop", "risk", "match"),
    [
        (None, D("1"), "stop-loss"),
        (D("NaN"), D("1"), "finite"),
        (D("Infinity"), D("1"), "finite"),
        (D("59400"), D("sNaN"), "finite"),
        (D("59400"), D("0"), "risk_pct"),
        (D("60100"), D("1"), "below the entry"),
    ],
)
def test_size_order_refuses_nonsense(stop, risk, match):
    with pytest.raises(ValueError, match=match):
        size_order(OrderRequest.market("BTCUSDT", Side.BUY, None, stop_loss=stop), ctx(), risk)
