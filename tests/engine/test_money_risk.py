"""The risk preview and the sizer at their money edges (reference §1.2 LP, §1.5 cost to open, §2 fees). Numbers by
hand in the comments; the main worked examples are in test_risk.py.

The preview and the sizer price with the exchange's fill model (docs/fill-model.md): with no liquidity estimate
(``liquidity=None``, the contexts here) a market order pays the 1-tick spread only, so a BUY at last 60,000 fills at
60,000.1 and a SELL at 59,999.9; the bounded worst exit is then the spread as well. ``cost`` counts that slippage
as open loss (§1.5: a BUY above the mark), ``total_cost`` = cost + entry fee. Where a test guards a boundary that
slippage has nothing to do with, it uses a zero-spread model (``EXACT``) so the reference's numbers stay round."""

from __future__ import annotations

import dataclasses

import pytest

from hexdesk.engine import DefaultFillModel, MarginMode, OrderRequest, Side, TimeInForce, default_instruments
from hexdesk.engine.account import money
from hexdesk.engine.risk import (
    PreviewContext,
    RiskWarning,
    loss_at_liquidation,
    preview_order,
    size_order,
    size_position,
)
from tests.engine._exchange_helpers import BTC, D, exact_exchange

INST = default_instruments()[BTC]
W = RiskWarning
TINY = D("1e-20")  # Decimal's 28 digits: an LP like 54,216.8675... is not exact
EXACT = DefaultFillModel(spread_ticks=0)  # fills at the last price: no spread, no impact


def _ctx(**kw: object) -> PreviewContext:
    base = PreviewContext(
        instrument=INST, last_price=D("60000"), mark_price=D("60000"), position_qty=D(0), entry_price=D(0),
        isolated_wallet=D(0), leverage=20, margin_mode=MarginMode.ISOLATED, cross_wallet_balance=D("10000"),
        other_maintenance=D(0), other_upnl=D(0), available_balance=D("10000"), equity=D("10000"),
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def test_sizer_with_a_quantity_too_small_to_trade_has_no_reward_to_risk() -> None:
    # Equity 100, 0.01% risk: 0.01 USDT / (1,000 + 0.0005 × 119,000 = 1,059.5) = 0.0000094 → 0 at step 0.001:
    # nothing to trade, so no loss, no r-multiple (not a division by zero).
    s = size_position(INST, D("100"), D("60000"), D("59000"), risk_pct=D("0.01"), leverage=10, take_profit=D("62000"))
    assert (s.quantity, s.loss_at_stop, s.r_multiple) == (0, 0, None)
    assert W.BELOW_MIN_QTY in s.warnings
    assert s.leverage_needed == 1  # nothing to post: the lowest leverage fits


def test_sizer_cross_loss_at_liquidation_is_the_whole_cross_wallet() -> None:
    # Equity 10,000, 1%, entry 60,000, stop 59,000, 10x, cross with a cross wallet of 1,000. Entry fill 60,000.1
    # (spread), stop exit 58,999.9: per unit 1,000.2 + 0.0005 × (60,000.1 + 58,999.9) = 1,059.7 → 100 / 1,059.7
    # = 0.0943... → qty 0.094; notional 0.094 × 60,000.1 = 5,640.0094, entry fee × 0.0005 = 2.8200047; wallet
    # backing it 1,000 − 2.8200047 = 997.1799953;
    # LP = (5,640.0094 − 997.1799953) / (0.094 × 0.996) = 4,642.8294047 / 0.093624 = 49,590.16... (no tier change);
    # loss at LP = 0.094 × (60,000.1 − LP) + min(1.25%, MM 0.4%) × 0.094 × LP + 2.8200047
    # = 5,640.0094 − 0.093624 × LP + 2.8200047 = 5,640.0094 − 4,642.8294047 + 2.8200047 = 1,000: the whole cross
    # wallet (> margin 564.00094 + fee: warned).
    s = size_position(INST, D("10000"), D("60000"), D("59000"), leverage=10, margin_mode=MarginMode.CROSS,
                      cross_wallet_balance=D("1000"))
    assert s.quantity == D("0.094")
    assert s.liquidation_price == D("4642.8294047") / D("0.093624")
    assert s.loss_at_liquidation is not None and abs(s.loss_at_liquidation - 1000) < TINY
    assert W.CROSS_LOSS_EXCEEDS_MARGIN in s.warnings
    # Isolated, the same trade loses its margin money(5,640.0094 / 10) = 564.00094 plus the entry fee 2.8200047
    # = 566.8209447 at its LP.
    iso = size_position(INST, D("10000"), D("60000"), D("59000"), leverage=10)
    assert iso.loss_at_liquidation is not None and abs(iso.loss_at_liquidation - D("566.8209447")) < TINY
    assert iso.warnings == ()


def test_preview_insufficient_margin_only_above_the_available_balance() -> None:
    # Market BUY 1 at last = mark 60,000, 20x: fills at 60,000.1 (spread). IM 60,000.1 / 20 = 3,000.005, open loss
    # 1 × (60,000.1 − 60,000) = 0.1 → cost 3,000.105; total cost + fee 30.00005 = 3,030.10505. Available 3,000.105:
    # fits (Binance rejects only cost > available); 3,000.10499999: INSUFFICIENT_MARGIN.
    req = OrderRequest.market(BTC, Side.BUY, D("1"), stop_loss=D("59000"))
    p = preview_order(req, _ctx(available_balance=D("3000.105")))
    assert (p.initial_margin, p.open_loss, p.cost, p.total_cost) == (
        D("3000.005"), D("0.1"), D("3000.105"), D("3030.10505"))
    assert W.INSUFFICIENT_MARGIN not in p.warnings
    assert W.INSUFFICIENT_MARGIN in preview_order(req, _ctx(available_balance=D("3000.10499999"))).warnings


def test_sizer_insufficient_margin_only_above_the_available_balance() -> None:
    # 1% of 10,000 with the stop 1,000 below 60,000 at 10x: 0.094 BTC filled at 60,000.1 (above): margin
    # money(0.094 × 60,000.1 / 10) = 564.00094 + open loss 0.094 × 0.1 = 0.0094 → cost 564.01034.
    # Available exactly 564.01034: fits; one unit of the 8th decimal less: warned.
    assert W.INSUFFICIENT_MARGIN not in size_position(
        INST, D("10000"), D("60000"), D("59000"), leverage=10, available_balance=D("564.01034")
    ).warnings
    assert W.INSUFFICIENT_MARGIN in size_position(
        INST, D("10000"), D("60000"), D("59000"), leverage=10, available_balance=D("564.01033999")
    ).warnings


def test_preview_of_a_very_low_limit_price_is_still_a_price() -> None:
    # A bid at 0.5 (prices are positive, not ≥ 1): notional 1 × 0.5, IM 0.5 / 20 = 0.025, maker fee 0.0001.
    p = preview_order(OrderRequest.limit(BTC, Side.BUY, D("1"), D("0.5")), _ctx())
    assert (p.assumed_price, p.notional, p.initial_margin, p.entry_fee) == (D("0.5"), D("0.5"), D("0.025"), D("0.0001"))


def test_preview_short_cost_includes_its_open_loss() -> None:
    # A resting limit SELL 1 @ 59,500 while last is 59,000 and the mark 60,000 (above the last: it rests, maker):
    # IM 59,500 / 20 = 2,975, open loss 1 × |min(0, −1 × (60,000 − 59,500))| = 500 → cost 3,475; fee
    # 59,500 × 0.0002 = 11.9.
    p = preview_order(OrderRequest.limit(BTC, Side.SELL, D("1"), D("59500")), _ctx(last_price=D("59000")))
    assert (p.initial_margin, p.open_loss, p.cost, p.entry_fee) == (D("2975"), D("500"), D("3475"), D("11.9"))
    # A marketable limit SELL 1 @ 59,000 with last = mark 60,000 takes the fill model's bid, 59,999.9 (taker):
    # IM 59,999.9 / 20 = 2,999.995, open loss 1 × (60,000 − 59,999.9) = 0.1 (the spread) → cost 3,000.095; fee
    # 59,999.9 × 0.0005 = 29.99995.
    p = preview_order(OrderRequest.limit(BTC, Side.SELL, D("1"), D("59000")), _ctx())
    assert (p.initial_margin, p.open_loss, p.cost, p.entry_fee) == (
        D("2999.995"), D("0.1"), D("3000.095"), D("29.99995"))


def test_exchange_preview_of_a_cross_order_uses_the_other_positions() -> None:
    # Cross account, fees off, wallet 10,000; ETH short 10 @ 3,000 (MM 0.004 × 30,000 = 120, UPNL 0).
    # Preview a BTC market buy 0.5 @ 60,000: wallet backing it 10,000 (no fee), TMM1 120, UPNL1 0:
    # LP = (0.5 × 60,000 − (10,000 − 120)) / (0.5 × 0.996) = 20,120 / 0.498; bankruptcy 60,000 − 10,000 / 0.5 = 40,000.
    ex = exact_exchange("10000", fees=False, mode=MarginMode.CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    ex.on_tick("ETHUSDT", 1, D("3000"))
    assert ex.submit(OrderRequest.market("ETHUSDT", Side.SELL, D("10"))).ok
    p = ex.preview(OrderRequest.market(BTC, Side.BUY, D("0.5")))
    assert p.liquidation_price == D("20120") / D("0.498")
    assert p.bankruptcy_price == D("40000")
    assert p.initial_margin == D("1500")


def test_loss_at_liquidation_of_one_btc_is_its_margin() -> None:
    # V1: isolated long 1 @ 60,000, wallet 6,000, LP 54,000 / 0.996. Loss = 60,000 − LP + min(1.25%, MMR 0.4%) × LP
    # = 60,000 − 0.996 × LP = 6,000 (+ the entry fee 30 if given). No LP or no position: None.
    lp = D(54000) / D("0.996")
    loss = loss_at_liquidation(INST, D(1), D(60000), lp)
    assert loss is not None and abs(loss - 6000) < TINY
    loss = loss_at_liquidation(INST, D(-1), D(60000), D(66000) / D("1.004"), entry_fee=D(30))
    assert loss is not None and abs(loss - 6030) < TINY  # V2-like short with wallet 6,000
    assert loss_at_liquidation(INST, D(1), D(60000), None) is None
    assert loss_at_liquidation(INST, D(0), D(60000), lp) is None


def test_sizer_accepts_prices_below_one() -> None:
    # Prices only have to be positive: entry 0.8, stop 0.7 on a (hypothetical) cheap contract is a long.
    s = size_position(INST, D("10000"), D("0.8"), D("0.7"), leverage=10)
    assert s.side is Side.BUY and s.quantity > 0


def test_preview_warns_of_a_stop_at_the_entry_price() -> None:
    # A long's stop must be below the entry: at the entry itself it would trigger at once (§3.1 -2021).
    p = preview_order(OrderRequest.market(BTC, Side.BUY, D("0.1"), stop_loss=D("60000")), _ctx())
    assert W.STOP_LOSS_WRONG_SIDE in p.warnings
    ok = preview_order(OrderRequest.market(BTC, Side.BUY, D("0.1"), stop_loss=D("59999.9")), _ctx())
    assert W.STOP_LOSS_WRONG_SIDE not in ok.warnings


def test_cross_preview_of_a_flip_counts_the_realized_profit_in_the_wallet() -> None:
    # Cross long 0.5 @ 60,000, cross wallet 10,000; market SELL 1 at last 62,000 fills at 61,999.9 (spread):
    # closes 0.5 realizing 0.5 × 1,999.9 = +999.95, pays 1 × 61,999.9 × 0.0005 = 30.99995, opens a short
    # 0.5 @ 61,999.9 backed by 10,000 + 999.95 − 30.99995 = 10,968.95005:
    # LP = (0.5 × 61,999.9 + 10,968.95005) / (0.5 × 1.004) = 41,968.90005 / 0.502;
    # bankruptcy 61,999.9 + 10,968.95005 / 0.5 = 83,937.8001.
    c = _ctx(margin_mode=MarginMode.CROSS, position_qty=D("0.5"), entry_price=D("60000"), last_price=D("62000"),
             mark_price=D("62000"))
    p = preview_order(OrderRequest.market(BTC, Side.SELL, D("1")), c)
    assert (p.resulting_qty, p.resulting_entry_price, p.entry_fee) == (D("-0.5"), D("61999.9"), D("30.99995"))
    assert p.liquidation_price == D("41968.90005") / D("0.502")
    assert p.bankruptcy_price == D("83937.8001")


NO_FEES = dataclasses.replace(INST, maker_fee=D(0), taker_fee=D(0))


def test_sizer_reward_to_risk_of_a_small_trade() -> None:
    # Equity 20, 1% = 0.2; entry 60,000 fills at 60,000.1, stop 59,900 exits at 59,899.9: per unit
    # 100.2 + 0.0005 × (60,000.1 + 59,899.9) = 160.15 → 0.2 / 160.15 = 0.0012... → 0.001 BTC.
    # Loss 0.1002 + fees 0.03000005 + 0.02994995 = 0.16015 (below 1 USDT, still a loss); reward at 60,300 (exit
    # 60,299.9): 0.001 × 299.8 = 0.2998 − 0.03000005 − 0.03014995 = 0.23965 → r = 0.23965 / 0.16015.
    s = size_position(INST, D("20"), D("60000"), D("59900"), leverage=10, take_profit=D("60300"))
    assert (s.quantity, s.loss_at_stop) == (D("0.001"), D("0.16015"))
    assert s.r_multiple == D("0.23965") / D("0.16015")


def test_preview_reward_to_risk_of_exactly_one_is_not_low() -> None:
    # No fees: long 0.1 filled at 60,000.1 (spread), stop 59,000 exits at 58,999.9: loss 0.1 × 1,000.2 = 100.02;
    # take-profit 61,000.4 exits at 61,000.3: reward 0.1 × 1,000.2 = 100.02 → r = 1, not below 1R.
    # Take-profit 60,500.3 (exit 60,500.2): reward 50.01 → r = 0.5, warned.
    c = _ctx(instrument=NO_FEES)
    req = OrderRequest.market(BTC, Side.BUY, D("0.1"), stop_loss=D("59000"), take_profit=D("61000.4"))
    one = preview_order(req, c)
    assert one.loss_at_stop == D("100.02") and one.profit_at_take_profit == D("100.02")
    assert one.r_multiple == 1 and W.LOW_REWARD_TO_RISK not in one.warnings
    half = preview_order(dataclasses.replace(req, take_profit=D("60500.3")), c)
    assert half.r_multiple == D("0.5") and W.LOW_REWARD_TO_RISK in half.warnings


def test_preview_of_a_short_charges_the_exit_fee_on_its_size() -> None:
    # Market SELL 0.1 at last 60,000 fills at 59,999.9: entry fee 0.1 × 59,999.9 × 0.0005 = 2.999995; the stop at
    # 61,000 buys back at 61,000.1: exit fee 0.1 × 61,000.1 × 0.0005 = 3.050005 (on the short's size); loss at the
    # stop 0.1 × 1,000.2 + 2.999995 + 3.050005 = 106.07. Take-profit 58,000 buys at 58,000.1: reward
    # 0.1 × 1,999.8 = 199.98 − 2.999995 − 2.900005 = 194.08.
    p = preview_order(OrderRequest.market(BTC, Side.SELL, D("0.1"), stop_loss=D("61000"), take_profit=D("58000")),
                      _ctx())
    assert (p.entry_fee, p.exit_fee_at_stop, p.loss_at_stop) == (D("2.999995"), D("3.050005"), D("106.07"))
    assert p.r_multiple == D("194.08") / D("106.07")
    assert W.TAKE_PROFIT_WRONG_SIDE not in p.warnings and W.STOP_LOSS_WRONG_SIDE not in p.warnings


def test_preview_fee_rates_of_limit_orders() -> None:
    # A post-only (GTX) order is a maker or nothing: 1 × 60,000 × 0.0002 = 12 even at the last price.
    gtx = preview_order(OrderRequest.limit(BTC, Side.BUY, D("1"), D("60000"), TimeInForce.GTX), _ctx())
    assert gtx.entry_fee == D("12")
    # A SELL limit at the last price is marketable (SELL price ≤ last) but the fill model's bid is one tick lower,
    # 59,999.9: no level within its price, so it rests: maker 12. At the bid it takes: taker
    # 59,999.9 × 0.0005 = 29.99995. Above the last it rests: maker 60,000.1 × 0.0002.
    at_last = preview_order(OrderRequest.limit(BTC, Side.SELL, D("1"), D("60000")), _ctx())
    assert at_last.entry_fee == D("12") and at_last.fills == ((D("60000"), D("1")),)
    at_bid = preview_order(OrderRequest.limit(BTC, Side.SELL, D("1"), D("59999.9")), _ctx())
    assert at_bid.entry_fee == D("29.99995")
    above = preview_order(OrderRequest.limit(BTC, Side.SELL, D("1"), D("60000.1")), _ctx())
    assert above.entry_fee == money(D("60000.1") * D("0.0002"))


def test_cross_loss_exceeds_margin_only_above_it() -> None:
    # No fees, no spread (EXACT), cross, 6x: BUY 1 @ 59,760 posts 9,960. With a cross wallet of exactly 9,960 the LP is
    # (59,760 − 9,960) / 0.996 = 50,000 and the loss there 9,760 + MM 200 = 9,960: the margin, no more (no warning).
    # One more cent in the cross wallet is lost too: 9,960.01 > 9,960, warned.
    c = _ctx(instrument=NO_FEES, last_price=D("59760"), mark_price=D("59760"), leverage=6,
             margin_mode=MarginMode.CROSS, cross_wallet_balance=D("9960"), fill_model=EXACT)
    req = OrderRequest.market(BTC, Side.BUY, D("1"), stop_loss=D("55000"))
    exact = preview_order(req, c)
    assert exact.liquidation_price == D("50000") and exact.loss_at_liquidation == D("9960")
    assert W.CROSS_LOSS_EXCEEDS_MARGIN not in exact.warnings
    more = preview_order(req, dataclasses.replace(c, cross_wallet_balance=D("9960.01")))
    assert W.CROSS_LOSS_EXCEEDS_MARGIN in more.warnings


def test_preview_warns_of_high_leverage_only_above_20x() -> None:
    req = OrderRequest.market(BTC, Side.BUY, D("0.1"), stop_loss=D("59000"))
    assert W.HIGH_LEVERAGE not in preview_order(req, _ctx(leverage=20)).warnings
    assert W.HIGH_LEVERAGE in preview_order(req, _ctx(leverage=21)).warnings


def test_sizer_warns_above_the_maximum_order_quantity() -> None:
    # 1% of 100,000,000 = 1,000,000 at a 10-dollar stop; entry 60,000.1, exit 59,989.9 (spread): per unit
    # 10.2 + 0.0005 × (60,000.1 + 59,989.9) = 70.195 → 1,000,000 / 70.195 = 14,246.0289... → 14,246.028 BTC
    # (14,246.029 × 70.195 = 1,000,000.006 > the risk), above BTCUSDT's maxQty 1,000 (-4005).
    s = size_position(INST, D("100000000"), D("60000"), D("59990"), leverage=1)
    assert s.quantity == D("14246.028")
    assert W.ABOVE_MAX_QTY in s.warnings


def test_sizer_refuses_no_equity_but_sizes_a_small_one() -> None:
    # Nothing to risk a percentage of: equity 0 is refused; 0.5 USDT is a (small) equity: 1% = 0.005 → 0 BTC.
    req = OrderRequest.market(BTC, Side.BUY, None, stop_loss=D("59000"))
    with pytest.raises(ValueError, match="equity"):
        size_order(req, _ctx(equity=D(0)))
    assert size_order(req, _ctx(equity=D("0.5"))).quantity == 0


def test_preview_with_a_take_profit_and_no_stop_has_no_reward_to_risk() -> None:
    # No stop: no loss at the stop, so no r-multiple; the take-profit's net profit still shows. EXACT, no fees:
    # long 0.1 @ 60,000, take-profit 61,000 → 0.1 × 1,000 = 100.
    p = preview_order(OrderRequest.market(BTC, Side.BUY, D("0.1"), take_profit=D("61000")),
                      _ctx(instrument=NO_FEES, fill_model=EXACT))
    assert (p.loss_at_stop, p.r_multiple, p.profit_at_take_profit) == (None, None, D("100"))


def test_cross_loss_at_liquidation_counts_the_other_positions_maintenance_margin_in_the_clearance_cap() -> None:
    # No fees, no spread, cross 6x, wallet 10,080, the other cross positions' MM (TMM1) 120: BUY 1 @ 59,760:
    # LP = (59,760 − (10,080 − 120)) / 0.996 = 49,800 / 0.996 = 50,000. Loss there: 59,760 − 50,000 = 9,760 plus
    # the clearance fee min(1.25% × 50,000 = 625, margin left = MM 200 + TMM1 120 = 320) = 320 → 10,080.
    c = _ctx(instrument=NO_FEES, last_price=D("59760"), mark_price=D("59760"), leverage=6, fill_model=EXACT,
             margin_mode=MarginMode.CROSS, cross_wallet_balance=D("10080"), other_maintenance=D("120"))
    p = preview_order(OrderRequest.market(BTC, Side.BUY, D("1")), c)
    assert p.liquidation_price == D("50000")
    assert p.loss_at_liquidation == D("10080")
