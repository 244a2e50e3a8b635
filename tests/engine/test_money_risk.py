"""The risk preview and the sizer at their money edges (reference §1.2 LP, §1.5 cost to open, §2 fees). Numbers by
hand in the comments; the main worked examples are in test_risk.py."""

from __future__ import annotations

import dataclasses

from hexdesk.engine import MarginMode, OrderRequest, Side, TimeInForce, default_instruments
from hexdesk.engine.account import money
from hexdesk.engine.risk import PreviewContext, RiskWarning, loss_at_liquidation, preview_order, size_position
from tests.engine._exchange_helpers import BTC, D, exact_exchange

INST = default_instruments()[BTC]
W = RiskWarning
TINY = D("1e-20")  # Decimal's 28 digits: an LP like 54,216.8675... is not exact


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
    # Equity 10,000, 1%, entry 60,000, stop 59,000, 10x, cross with a cross wallet of 1,000:
    # qty 0.094 (100 / 1,059.5 = 0.0944), notional 5,640, entry fee 2.82; wallet backing it 1,000 − 2.82 = 997.18;
    # LP = (5,640 − 997.18) / (0.094 × 0.996) = 4,642.82 / 0.093624 = 49,589.7... (no tier change);
    # loss at LP = 0.094 × (60,000 − LP) + min(1.25%, MM 0.4%) × 0.094 × LP + 2.82 = 5,640 − 0.093624 × LP + 2.82
    # = 5,640 − 4,642.82 + 2.82 = 1,000: the whole cross wallet (> margin 564 + fee 2.82: warned).
    s = size_position(INST, D("10000"), D("60000"), D("59000"), leverage=10, margin_mode=MarginMode.CROSS,
                      cross_wallet_balance=D("1000"))
    assert s.quantity == D("0.094")
    assert s.liquidation_price == D("4642.82") / D("0.093624")
    assert s.loss_at_liquidation is not None and abs(s.loss_at_liquidation - 1000) < TINY
    assert W.CROSS_LOSS_EXCEEDS_MARGIN in s.warnings
    # Isolated, the same trade loses its margin 564 plus the entry fee 2.82 at its LP (V1's 54,216.87).
    iso = size_position(INST, D("10000"), D("60000"), D("59000"), leverage=10)
    assert iso.loss_at_liquidation is not None and abs(iso.loss_at_liquidation - D("566.82")) < TINY
    assert iso.warnings == ()


def test_preview_insufficient_margin_only_above_the_available_balance() -> None:
    # Market BUY 1 @ 60,000 at 20x, mark 60,000: cost 3,000 + open loss 0. Available 3,000: fits (Binance rejects
    # only cost > available); 2,999.99: INSUFFICIENT_MARGIN.
    req = OrderRequest.market(BTC, Side.BUY, D("1"), stop_loss=D("59000"))
    assert preview_order(req, _ctx(available_balance=D("3000"))).cost == D("3000")
    assert W.INSUFFICIENT_MARGIN not in preview_order(req, _ctx(available_balance=D("3000"))).warnings
    assert W.INSUFFICIENT_MARGIN in preview_order(req, _ctx(available_balance=D("2999.99"))).warnings


def test_sizer_insufficient_margin_only_above_the_available_balance() -> None:
    # 1% of 10,000 with the stop 1,000 below 60,000 at 10x: margin 564 (above). Available exactly 564: fits.
    assert W.INSUFFICIENT_MARGIN not in size_position(
        INST, D("10000"), D("60000"), D("59000"), leverage=10, available_balance=D("564")
    ).warnings
    assert W.INSUFFICIENT_MARGIN in size_position(
        INST, D("10000"), D("60000"), D("59000"), leverage=10, available_balance=D("563.99")
    ).warnings


def test_preview_of_a_very_low_limit_price_is_still_a_price() -> None:
    # A bid at 0.5 (prices are positive, not ≥ 1): notional 1 × 0.5, IM 0.5 / 20 = 0.025, maker fee 0.0001.
    p = preview_order(OrderRequest.limit(BTC, Side.BUY, D("1"), D("0.5")), _ctx())
    assert (p.assumed_price, p.notional, p.initial_margin, p.entry_fee) == (D("0.5"), D("0.5"), D("0.025"), D("0.0001"))


def test_preview_short_cost_includes_its_open_loss() -> None:
    # Limit SELL 1 @ 59,000 while the mark is 60,000 (marketable: taker): IM 59,000 / 20 = 2,950, open loss
    # 1 × |min(0, −1 × (60,000 − 59,000))| = 1,000 → cost 3,950; fee 59,000 × 0.0005 = 29.5.
    p = preview_order(OrderRequest.limit(BTC, Side.SELL, D("1"), D("59000")), _ctx())
    assert (p.initial_margin, p.open_loss, p.cost, p.entry_fee) == (D("2950"), D("1000"), D("3950"), D("29.5"))


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
    # Cross long 0.5 @ 60,000, cross wallet 10,000; market SELL 1 at 62,000: closes 0.5 realizing
    # 0.5 × 2,000 = +1,000, pays 1 × 62,000 × 0.0005 = 31, opens a short 0.5 @ 62,000 backed by
    # 10,000 + 1,000 − 31 = 10,969: LP = (0.5 × 62,000 + 10,969) / (0.5 × 1.004) = 41,969 / 0.502;
    # bankruptcy 62,000 + 10,969 / 0.5 = 83,938.
    c = _ctx(margin_mode=MarginMode.CROSS, position_qty=D("0.5"), entry_price=D("60000"), last_price=D("62000"),
             mark_price=D("62000"))
    p = preview_order(OrderRequest.market(BTC, Side.SELL, D("1")), c)
    assert (p.resulting_qty, p.resulting_entry_price, p.entry_fee) == (D("-0.5"), D("62000"), D("31"))
    assert p.liquidation_price == D("41969") / D("0.502")
    assert p.bankruptcy_price == D("83938")


NO_FEES = dataclasses.replace(INST, maker_fee=D(0), taker_fee=D(0))


def test_sizer_reward_to_risk_of_a_small_trade() -> None:
    # Equity 20, 1% = 0.2; entry 60,000, stop 59,900: per unit 100 + 0.0005 × 119,900 = 159.95 → 0.001 BTC.
    # Loss 0.1 + 0.03 + 0.02995 = 0.15995 (below 1 USDT, still a loss); reward at 60,300: 0.3 − 0.03 − 0.03015
    # = 0.23985 → r = 0.23985 / 0.15995.
    s = size_position(INST, D("20"), D("60000"), D("59900"), leverage=10, take_profit=D("60300"))
    assert (s.quantity, s.loss_at_stop) == (D("0.001"), D("0.15995"))
    assert s.r_multiple == D("0.23985") / D("0.15995")


def test_preview_reward_to_risk_of_exactly_one_is_not_low() -> None:
    # No fees: long 0.1 @ 60,000, stop 59,000 (loss 100), take-profit 61,000 (reward 100): r = 1, not below 1R.
    # Take-profit 60,500: r = 0.5, warned.
    c = _ctx(instrument=NO_FEES)
    one = preview_order(OrderRequest.market(BTC, Side.BUY, D("0.1"), stop_loss=D("59000"), take_profit=D("61000")), c)
    assert one.r_multiple == 1 and W.LOW_REWARD_TO_RISK not in one.warnings
    half = preview_order(OrderRequest.market(BTC, Side.BUY, D("0.1"), stop_loss=D("59000"), take_profit=D("60500")), c)
    assert half.r_multiple == D("0.5") and W.LOW_REWARD_TO_RISK in half.warnings


def test_preview_of_a_short_charges_the_exit_fee_on_its_size() -> None:
    # Market SELL 0.1 @ 60,000 with a stop at 61,000: entry fee 6,000 × 0.0005 = 3, exit fee 0.1 × 61,000 × 0.0005
    # = 3.05, loss at the stop 0.1 × 1,000 + 3 + 3.05 = 106.05. Take-profit 58,000: reward 200 − 3 − 2.9 = 194.1.
    p = preview_order(OrderRequest.market(BTC, Side.SELL, D("0.1"), stop_loss=D("61000"), take_profit=D("58000")),
                      _ctx())
    assert (p.entry_fee, p.exit_fee_at_stop, p.loss_at_stop) == (D("3"), D("3.05"), D("106.05"))
    assert p.r_multiple == D("194.1") / D("106.05")
    assert W.TAKE_PROFIT_WRONG_SIDE not in p.warnings and W.STOP_LOSS_WRONG_SIDE not in p.warnings


def test_preview_fee_rates_of_limit_orders() -> None:
    # A post-only (GTX) order is a maker or nothing: 1 × 60,000 × 0.0002 = 12 even at the last price.
    gtx = preview_order(OrderRequest.limit(BTC, Side.BUY, D("1"), D("60000"), TimeInForce.GTX), _ctx())
    assert gtx.entry_fee == D("12")
    # A SELL limit at the last price takes (SELL price ≤ last): taker 30; above it rests: maker 12.
    at_last = preview_order(OrderRequest.limit(BTC, Side.SELL, D("1"), D("60000")), _ctx())
    assert at_last.entry_fee == D("30")
    above = preview_order(OrderRequest.limit(BTC, Side.SELL, D("1"), D("60000.1")), _ctx())
    assert above.entry_fee == money(D("60000.1") * D("0.0002"))


def test_cross_loss_exceeds_margin_only_above_it() -> None:
    # No fees, cross, 6x: BUY 1 @ 59,760 posts 9,960. With a cross wallet of exactly 9,960 the LP is
    # (59,760 − 9,960) / 0.996 = 50,000 and the loss there 9,760 + MM 200 = 9,960: the margin, no more (no warning).
    # One more cent in the cross wallet is lost too: 9,960.01 > 9,960, warned.
    c = _ctx(instrument=NO_FEES, last_price=D("59760"), mark_price=D("59760"), leverage=6,
             margin_mode=MarginMode.CROSS, cross_wallet_balance=D("9960"))
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
    # 1% of 100,000,000 = 1,000,000 at a 10-dollar stop: per unit 10 + 0.0005 × 119,990 = 69.995
    # → 14,286.734 BTC, above BTCUSDT's maxQty 1,000 (-4005).
    s = size_position(INST, D("100000000"), D("60000"), D("59990"), leverage=1)
    assert s.quantity == D("14286.734")
    assert W.ABOVE_MAX_QTY in s.warnings
