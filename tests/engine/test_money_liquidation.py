"""Liquidation money, worked out by hand from reference §1.2 (LP), §1.4 (close at the bankruptcy price,
clearance fee = liquidationFee × notional at the mark, capped by the margin left) and docs/engine.md.

Cross cases put the tick exactly on the liquidation price, so the mark at which the account is liquidated is the
same whether the engine checks the tick's mark or the mark path (reference §1.3: "when the Mark Price hits the
liquidation price").
"""

from __future__ import annotations

import pytest

from hexdesk.engine import (
    FundingSettled,
    InsuranceFundCovered,
    LiquidityRole,
    MarginMode,
    OrderCanceled,
    OrderFilled,
    OrderRequest,
    PositionLiquidated,
    Side,
    rebuild,
)
from hexdesk.engine.account import money
from hexdesk.engine.liquidation import clearance_fee, cross_close_prices
from tests.engine._exchange_helpers import BTC, ETH, D, exact_exchange, of_type

BUY, SELL = Side.BUY, Side.SELL
ISO, CROSS = MarginMode.ISOLATED, MarginMode.CROSS


def _liquidation_fills(events: tuple) -> list:
    return [e.fill for e in of_type(events, OrderFilled) if e.fill.is_liquidation]


def _open(ex, symbol: str, side: Side, qty: str) -> None:
    result = ex.submit(OrderRequest.market(symbol, side, D(qty)))
    assert result.ok, result.rejection


# ------------------------------------------------------------------------------------------------- isolated


def test_isolated_long_is_liquidated_at_its_lp_and_closes_at_bankruptcy() -> None:
    # V1: isolated long 1 @ 60,000 at 10x, wallet 6,000: LP = (6,000 − 60,000) / (0.004 − 1) = 54,216.8675...
    # Bankruptcy 60,000 − 6,000 / 1 = 54,000. Margin left at LP = 6,000 + (LP − 60,000) = LP − 54,000
    # = 216.8675 (= MM at LP); clearance fee min(0.0125 × LP ≈ 677.7, 216.8675) = 216.8675 (8 dp).
    ex = exact_exchange("10000", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 10)
    _open(ex, BTC, BUY, "1")
    lp = D(54000) / D("0.996")
    assert ex.position(BTC).liquidation_price == lp
    events = ex.on_tick(BTC, 2, D("50000"))  # the path crosses the LP
    (liq,) = of_type(events, PositionLiquidated)
    assert (liq.symbol, liq.margin_mode, liq.side, liq.quantity, liq.entry_price) == (BTC, ISO, BUY, 1, 60000)
    assert (liq.mark_price, liq.bankruptcy_price) == (lp, D("54000"))
    assert liq.liquidation_fee == money(lp - 54000) == D("216.86746988")
    assert (liq.margin_lost, liq.insurance_fund_cover) == (D("6000"), 0)
    (fill,) = _liquidation_fills(events)
    assert (fill.side, fill.quantity, fill.price, fill.fee, fill.realized_pnl) == (SELL, 1, D("54000"), 0, -6000)
    assert fill.role is LiquidityRole.TAKER and liq.fill == fill
    # The trader loses exactly the isolated wallet: 10,000 − 6,000.
    assert ex.account().wallet_balance == D("4000")
    assert not ex.position(BTC).is_open


def test_isolated_short_is_liquidated_with_a_buy_of_its_size() -> None:
    # V2: isolated short 2 @ 60,000 at 20x, wallet 6,000: LP = (2 × 60,000 + 6,000) / (2 × 1.004) = 62,749.0040.
    # Bankruptcy 60,000 + 6,000 / 2 = 63,000. Margin left at LP = 6,000 − 2 × (LP − 60,000); fee min(0.0125 × 2 ×
    # LP ≈ 1,568.7, that) = 501.99203187 (= MM at LP = 0.004 × 2 × LP).
    ex = exact_exchange("10000", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    _open(ex, BTC, SELL, "2")
    lp = D(126000) / D("2.008")
    assert ex.position(BTC).liquidation_price == lp
    events = ex.on_tick(BTC, 2, D("64000"))
    (liq,) = of_type(events, PositionLiquidated)
    assert (liq.side, liq.quantity, liq.mark_price, liq.bankruptcy_price) == (SELL, 2, lp, D("63000"))
    assert liq.liquidation_fee == money(6000 - 2 * (lp - 60000)) == D("501.99203187")
    assert (liq.margin_lost, liq.insurance_fund_cover) == (D("6000"), 0)
    (fill,) = _liquidation_fills(events)
    assert (fill.side, fill.quantity, fill.price, fill.fee, fill.realized_pnl) == (BUY, 2, D("63000"), 0, -6000)
    assert ex.account().wallet_balance == D("4000")


def test_isolated_liquidation_cancels_that_symbols_orders_only() -> None:
    ex = exact_exchange("100000", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.on_tick(ETH, 1, D("3000"))
    ex.set_leverage(BTC, 10)
    _open(ex, BTC, BUY, "1")
    btc_bid = ex.submit(OrderRequest.limit(BTC, BUY, D("0.1"), D("40000"))).order
    eth_bid = ex.submit(OrderRequest.limit(ETH, BUY, D("1"), D("2000"))).order
    assert btc_bid is not None and eth_bid is not None
    events = ex.on_tick(BTC, 2, D("50000"))
    assert [(e.order.order_id, e.reason) for e in of_type(events, OrderCanceled)] == [(btc_bid.order_id, "liquidation")]
    assert [o.order_id for o in ex.open_orders()] == [eth_bid.order_id]


def test_trade_and_order_ids_stay_unique_after_a_liquidation() -> None:
    # The liquidation fill takes the next trade id and the next order id (autoclose-<id>); the next trade after it
    # takes the one after.
    ex = exact_exchange("10000", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 10)
    _open(ex, BTC, BUY, "1")  # order 1, trade 1
    (fill,) = _liquidation_fills(ex.on_tick(BTC, 2, D("50000")))
    assert (fill.trade_id, fill.order_id) == (2, 2)
    liq_order = of_type(ex.events, OrderFilled)[-1].order
    assert liq_order.client_order_id == "autoclose-2"
    _open(ex, BTC, BUY, "0.1")
    last = of_type(ex.events, OrderFilled)[-1]
    assert (last.fill.trade_id, last.order.order_id) == (3, 3)


@pytest.mark.parametrize("sign", [1, -1], ids=["long", "short"])
def test_a_reduction_that_puts_the_lp_exactly_on_the_mark_liquidates(sign: int) -> None:
    # Isolated 1 BTC @ 60,000 at 150x, fees off: iso 400. The mark stays 60,000 while the last trades 560 against
    # the position (long: 59,440; short: 60,560). Reducing 0.5 there realizes −280; its share of the margin (200)
    # leaves −80, taken from the remaining iso wallet: 200 − 80 = 120. The remaining 0.5 @ 60,000 with wallet 120:
    #   long  LP = (0.5 × 60,000 − 120) / (0.5 × 0.996) = 29,880 / 0.498 = 60,000
    #   short LP = (0.5 × 60,000 + 120) / (0.5 × 1.004) = 30,120 / 0.502 = 60,000
    # exactly the mark: margin ratio 100%, so it is liquidated at once (bankruptcy 60,000 ∓ 120 / 0.5).
    side, back = (BUY, SELL) if sign > 0 else (SELL, BUY)
    ex = exact_exchange("10000", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 150)
    _open(ex, BTC, side, "1")
    ex.on_tick(BTC, 2, D("60000") - sign * 560, mark=D("60000"))
    result = ex.submit(OrderRequest.market(BTC, back, D("0.5")))
    assert result.ok
    (liq,) = of_type(result.events, PositionLiquidated)
    assert (liq.side, liq.quantity, liq.mark_price) == (side, D("0.5"), D("60000"))
    assert of_type(result.events, InsuranceFundCovered) == []  # the remaining wallet paid the 80: no fund money
    assert (liq.bankruptcy_price, liq.margin_lost) == (D("60000") - sign * 240, D("120"))


def test_a_stop_before_the_lp_closes_the_position_instead() -> None:
    # Long 1 @ 60,000 at 10x (LP 54,216.87) with a stop at 55,000: the path reaches the stop first; the stop fills
    # at 55,000 (no spread): realized −5,000, released 6,000 → wallet 10,000 − 5,000. No liquidation.
    ex = exact_exchange("10000", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 10)
    assert ex.submit(OrderRequest.market(BTC, BUY, D("1"), stop_loss=D("55000"))).ok
    events = ex.on_tick(BTC, 2, D("50000"))
    assert of_type(events, PositionLiquidated) == []
    assert ex.account().wallet_balance == D("5000")


# ---------------------------------------------------------------------------------------------------- cross


def test_cross_long_liquidated_at_its_lp_closes_at_bankruptcy() -> None:
    # Cross long 1 @ 60,000, fees off, wallet 10,200: LP = (60,000 − 10,200) / 0.996 = 50,000 exactly.
    # At mark 50,000: MB = 10,200 − 10,000 = 200 = MM 0.004 × 50,000 → ratio 100%, liquidated.
    # Close at bankruptcy 60,000 − 10,200 = 49,800 (= mark − MB / qty); fee min(0.0125 × 50,000 = 625, 200) = 200;
    # realized −10,200, cross wallet 0.
    ex = exact_exchange("10200", fees=False, mode=CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    _open(ex, BTC, BUY, "1")
    assert ex.position(BTC).liquidation_price == D("50000")
    assert of_type(ex.on_tick(BTC, 2, D("50000.1")), PositionLiquidated) == []
    events = ex.on_tick(BTC, 3, D("50000"))
    (liq,) = of_type(events, PositionLiquidated)
    assert (liq.margin_mode, liq.side, liq.quantity, liq.mark_price) == (CROSS, BUY, 1, D("50000"))
    assert (liq.bankruptcy_price, liq.liquidation_fee, liq.margin_lost, liq.insurance_fund_cover) == (
        D("49800"), D("200"), D("10200"), 0,
    )
    (fill,) = _liquidation_fills(events)
    assert (fill.side, fill.quantity, fill.price, fill.fee, fill.realized_pnl) == (SELL, 1, D("49800"), 0, -10200)
    assert ex.account().cross_wallet_balance == 0
    assert ex.account().insurance_fund_cover == 0


def test_cross_short_liquidated_at_its_lp_keeps_isolated_positions() -> None:
    # ETH isolated long 10 @ 3,000 at 20x posts 1,500: wallet 11,780 → cross 10,280.
    # BTC cross short 1 @ 60,000: LP = (60,000 + 10,280) / 1.004 = 70,000 exactly. At mark 70,000:
    # MB = 10,280 − 10,000 = 280 = MM 0.004 × 70,000. Close at bankruptcy 60,000 + 10,280 = 70,280 (a BUY of 1),
    # fee min(0.0125 × 70,000 = 875, 280) = 280, realized −10,280; cross 0; the ETH position and its 1,500 stay.
    ex = exact_exchange("11780", fees=False, mode=CROSS)
    ex.set_margin_mode(ETH, ISO)
    ex.on_tick(BTC, 1, D("60000"))
    ex.on_tick(ETH, 1, D("3000"))
    _open(ex, ETH, BUY, "10")
    _open(ex, BTC, SELL, "1")
    bid = ex.submit(OrderRequest.limit(BTC, BUY, D("0.1"), D("50000"))).order
    assert bid is not None
    assert ex.position(BTC).liquidation_price == D("70000")
    events = ex.on_tick(BTC, 2, D("70000"))
    (liq,) = of_type(events, PositionLiquidated)
    assert (liq.symbol, liq.side, liq.quantity, liq.mark_price, liq.bankruptcy_price) == (
        BTC, SELL, 1, D("70000"), D("70280"),
    )
    assert (liq.liquidation_fee, liq.margin_lost, liq.insurance_fund_cover) == (D("280"), D("10280"), 0)
    (fill,) = _liquidation_fills(events)
    assert (fill.side, fill.quantity, fill.price, fill.realized_pnl) == (BUY, 1, D("70280"), -10280)
    assert [(e.order.order_id, e.reason) for e in of_type(events, OrderCanceled)] == [(bid.order_id, "liquidation")]
    assert ex.account().cross_wallet_balance == 0
    eth = ex.position(ETH)
    assert (eth.quantity, eth.isolated_wallet) == (D("10"), D("1500"))
    assert ex.account().wallet_balance == D("1500")


def test_two_cross_positions_share_the_margin_left_in_proportion_to_notional() -> None:
    # Cross, fees off, wallet 11,324. ETH short 10 @ 3,000 then ETH mark 3,100: UPNL −1,000, MM 0.004 × 31,000 = 124.
    # BTC long 1 @ 60,000; the BTC tick to 50,000 makes MB = 11,324 − 1,000 − 10,000 = 324 and
    # MM = 0.004 × 50,000 + 124 = 324: ratio 100% exactly there (BTC's cross LP with TMM1 124, UPNL1 −1,000 is
    # (60,000 − (11,324 − 124 − 1,000)) / 0.996 = 49,800 / 0.996 = 50,000).
    # Margin left 324 shared by notional 50,000 : 31,000 (of 81,000): BTC 200, ETH 124.
    #   BTC closes at 50,000 − 200 / 1 = 49,800 (a SELL below its mark): realized 1 × (49,800 − 60,000) = −10,200;
    #   ETH closes at 3,100 − 124 / (−10) = 3,112.4 (a BUY above its mark): realized −10 × 112.4 = −1,124.
    #   −10,200 − 1,124 = −11,324: the cross wallet ends at 0, the insurance fund pays nothing.
    #   Clearance fees: BTC min(625, 200) = 200; ETH min(0.0125 × 31,000 = 387.5, 124) = 124.
    ex = exact_exchange("11324", fees=False, mode=CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    ex.on_tick(ETH, 1, D("3000"))
    _open(ex, ETH, SELL, "10")
    ex.on_tick(ETH, 2, D("3100"))
    _open(ex, BTC, BUY, "1")
    assert ex.position(BTC).liquidation_price == D("50000")
    events = ex.on_tick(BTC, 3, D("50000"))
    btc, eth = of_type(events, PositionLiquidated)
    assert (btc.symbol, btc.side, btc.quantity, btc.mark_price, btc.bankruptcy_price) == (
        BTC, BUY, 1, D("50000"), D("49800"),
    )
    assert (btc.liquidation_fee, btc.margin_lost, btc.insurance_fund_cover) == (D("200"), D("10200"), 0)
    assert (eth.symbol, eth.side, eth.quantity, eth.mark_price, eth.bankruptcy_price) == (
        ETH, SELL, 10, D("3100"), D("3112.4"),
    )
    assert (eth.liquidation_fee, eth.margin_lost, eth.insurance_fund_cover) == (D("124"), D("1124"), 0)
    fills = _liquidation_fills(events)
    assert [(f.symbol, f.side, f.quantity, f.price, f.fee, f.realized_pnl) for f in fills] == [
        (BTC, SELL, 1, D("49800"), 0, D("-10200")),
        (ETH, BUY, 10, D("3112.4"), 0, D("-1124")),
    ]
    account = ex.account()
    assert (account.cross_wallet_balance, account.insurance_fund_cover, account.wallet_balance) == (0, 0, 0)
    assert ex.positions() == ()
    assert ex.state() == rebuild(ex.events)


def test_cross_close_prices_split_the_issue_example() -> None:
    # Pure function, the issue's numbers: cross wallet 3,000; BTC long 1 @ 60,000 marked 58,206; ETH long 1 @ 3,000
    # marked 3,000. UPNL −1,794 → margin left 1,206, notional 58,206 + 3,000 = 61,206.
    # BTC share 1,206 × 58,206 / 61,206, ETH share 1,206 × 3,000 / 61,206 = 59.11 (2 dp).
    # ETH closes at 3,000 − 59.11 = 2,940.89; BTC loses 3,000 − 59.11 = 2,940.89 (the last one absorbs rounding).
    out = cross_close_prices([(D(1), D(60000), D(58206)), (D(1), D(3000), D(3000))], D(3000))
    (btc_price, btc_realized, btc_share), (eth_price, eth_realized, eth_share) = out
    assert round(btc_share + eth_share, 8) == D("1206")
    assert round(eth_share, 2) == D("59.11") and round(eth_price, 2) == D("2940.89")
    assert btc_price < D(58206) and eth_price < D(3000)  # longs close below their marks
    assert btc_realized + eth_realized == D("-3000")  # the cross wallet ends at exactly 0
    assert round(-btc_realized, 2) == D("2940.89") and round(-eth_realized, 2) == D("59.11")


def test_cross_close_prices_past_bankruptcy_close_better_than_the_mark() -> None:
    # A gap: wallet 1,000, long 1 @ 60,000 marked 58,000: margin left −1,000, so the close is 58,000 + 1,000
    # = 59,000 (above the mark): realized −1,000 = −wallet; the fund carries the remaining 1,000 to the mark.
    ((price, realized, share),) = cross_close_prices([(D(1), D(60000), D(58000))], D(1000))
    assert (price, realized, share) == (D("59000"), D("-1000"), D("-1000"))


def test_clearance_fee_is_capped_by_the_margin_left_and_never_negative() -> None:
    # 0.0125 × 1 × 60,000 = 750: capped at 100 when only 100 is left, 750 when 1,000 is left, 0 when < 0.
    assert clearance_fee(D("0.0125"), D(1), D(60000), D(100)) == D("100")
    assert clearance_fee(D("0.0125"), D(1), D(60000), D(1000)) == D("750")
    assert clearance_fee(D("0.0125"), D(1), D(60000), D(-5)) == 0


def test_the_account_is_not_liquidated_one_tick_above_its_cross_lp() -> None:
    # Same account as the two-position case; BTC at 50,000.1: MB = 324.1 > MM = 200.0004 + 124 = 324.0004.
    ex = exact_exchange("11324", fees=False, mode=CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    ex.on_tick(ETH, 1, D("3000"))
    _open(ex, ETH, SELL, "10")
    ex.on_tick(ETH, 2, D("3100"))
    _open(ex, BTC, BUY, "1")
    assert of_type(ex.on_tick(BTC, 3, D("50000.1")), PositionLiquidated) == []
    assert len(ex.positions()) == 2
    # Then ETH rises 0.1 (mark 3,100.1): MB = 11,324 − 1,001 − 9,999.9 = 323.1 < MM 200.0004 + 124.004 = 324.0044.
    events = ex.on_tick(ETH, 4, D("3100.1"))
    assert [e.symbol for e in of_type(events, PositionLiquidated)] == [BTC, ETH]
    assert ex.account().cross_wallet_balance == 0


def test_cross_close_prices_sum_to_exactly_the_cross_wallet_whatever_the_rounding() -> None:
    # Shares that do not divide evenly: each realized PnL is rounded to 8 dp, and the last position takes what is
    # left, so Σ realized = −cross wallet to the last digit (the cross wallet ends at exactly 0, no fund cover).
    # (Rounding each of these three on its own would lose 0.00000001.)
    positions = [(D("0.172"), D("65299.8"), D("27631.2")), (D("0.673"), D("40879.8"), D("57678.9")),
                 (D("0.72"), D("59678.4"), D("21973.7"))]
    out = cross_close_prices(positions, D("43.96477028"))
    assert sum((realized for _, realized, _ in out), D(0)) == D("-43.96477028")
    assert all(realized == money(realized) for _, realized, _ in out)


def test_funding_that_brings_the_cross_margin_ratio_to_exactly_100_percent_liquidates() -> None:
    # §: "Liquidation happens when [the margin ratio MM / margin balance] reaches 100%" — equality included.
    # Cross, fees off, wallet 42: long 0.1 BTC @ 60,000 at 150x (IM 6,000 / 150 = 40 ≤ 42). MM 0.4% × 6,000 = 24,
    # margin balance 42: ratio 57%. Funding rate +0.3% (BTCUSDT's cap): the long pays 0.1 × 60,000 × 0.003 = 18 at
    # 08:00 → margin balance 24 = MM: ratio exactly 100% → liquidated. The clock reaches 08:00 by an ETH tick (no
    # ETH position), so the check after funding is the only one that can see it.
    ex = exact_exchange("42", fees=False, mode=MarginMode.CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    ex.on_tick(ETH, 1, D("3000"))
    ex.set_leverage(BTC, 150)
    ex.set_funding_rate(BTC, D("0.003"))
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.1"))).ok
    events = ex.on_tick(ETH, 8 * 3_600_000, D("3000"))
    assert [e.amount for e in of_type(events, FundingSettled)] == [D("-18")]
    (liq,) = of_type(events, PositionLiquidated)
    assert liq.symbol == BTC
    assert not ex.position(BTC).is_open
    assert ex.account().cross_wallet_balance == 0
