"""Funding money (reference §2: amount = mark × size × rate, a positive rate means longs pay shorts; settled at
00:00 / 08:00 / 16:00 UTC; docs/engine.md: isolated to / from the position's isolated wallet, cross to / from the
cross wallet; a wallet that would go negative is topped up by the insurance fund). Numbers by hand in comments.
"""

from __future__ import annotations

import pytest

from hexdesk.engine import (
    FundingSettled,
    InsuranceFundCovered,
    MarginMode,
    OrderFilled,
    OrderRequest,
    PositionLiquidated,
    Side,
)
from tests.engine._exchange_helpers import BTC, D, H, exact_exchange, of_type

BUY, SELL = Side.BUY, Side.SELL
ISO, CROSS = MarginMode.ISOLATED, MarginMode.CROSS


@pytest.mark.parametrize("mode", [ISO, CROSS])
@pytest.mark.parametrize(
    ("side", "rate", "amount"),
    [
        # 1 BTC, mark 60,000: 60,000 × 1 × 0.0001 = 6. Long pays at a positive rate, short receives; reversed
        # at a negative rate. The 0.01 rate is clamped to BTCUSDT's cap 0.3%: 60,000 × 0.003 = 180.
        (BUY, "0.0001", "-6"),
        (SELL, "0.0001", "6"),
        (BUY, "-0.0001", "6"),
        (SELL, "-0.0001", "-6"),
        (SELL, "0.01", "180"),
    ],
)
def test_funding_for_both_sides_and_both_modes(mode: MarginMode, side: Side, rate: str, amount: str) -> None:
    # Fees off, 10x: isolated posts 6,000 (cross 4,000); cross keeps all 10,000 in the cross wallet.
    ex = exact_exchange("10000", fees=False, mode=mode)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 10)
    assert ex.submit(OrderRequest.market(BTC, side, D("1"))).ok
    ex.set_funding_rate(BTC, D(rate))
    ex.on_tick(BTC, 8 * H - 1, D("60000"))
    events = ex.on_tick(BTC, 8 * H, D("60000"))
    (f,) = of_type(events, FundingSettled)
    qty = D(1) if side is BUY else D(-1)
    assert (f.ts_ms, f.mark_price, f.position_qty, f.amount) == (8 * H, D("60000"), qty, D(amount))
    account = ex.account()
    if mode is ISO:
        assert (account.cross_wallet_balance, ex.position(BTC).isolated_wallet) == (D("4000"), 6000 + D(amount))
    else:
        assert account.cross_wallet_balance == 10000 + D(amount)
    assert account.wallet_balance == 10000 + D(amount)


def test_funding_uses_the_mark_known_at_the_instant_not_the_next_tick() -> None:
    # Short 2 @ 60,000 (cross, fees off); mark 61,000 before 08:00, 65,000 on the first tick after:
    # funding at 61,000: 2 × 61,000 × 0.0005 = 61 received.
    ex = exact_exchange("100000", fees=False, mode=CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    assert ex.submit(OrderRequest.market(BTC, SELL, D("2"))).ok
    ex.set_funding_rate(BTC, D("0.0005"))
    ex.on_tick(BTC, 8 * H - 1, D("61000"))
    (f,) = of_type(ex.on_tick(BTC, 8 * H + 5, D("65000")), FundingSettled)
    assert (f.mark_price, f.amount) == (D("61000"), D("61"))
    assert ex.account().cross_wallet_balance == D("100061")


def test_funding_that_empties_an_isolated_wallet_liquidates_it() -> None:
    # Isolated long 1 @ 60,000 at 150x, fees off: iso 400, LP (60,000 − 400) / 0.996 = 59,839.36 < 60,000.
    # Funding at the cap 0.3%: 60,000 × 0.003 = 180 paid → iso 220: LP (60,000 − 220) / 0.996 = 60,020.08 is
    # now above the mark 60,000, so the position is liquidated at once at bankruptcy 60,000 − 220 = 59,780,
    # losing 220; clearance fee min(0.0125 × 60,000 = 750, margin left 220) = 220. Wallet 10,000 − 180 − 220.
    ex = exact_exchange("10000", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 150)
    assert ex.submit(OrderRequest.market(BTC, BUY, D("1"))).ok
    ex.set_funding_rate(BTC, D("0.003"))
    events = ex.on_tick(BTC, 8 * H, D("60000"))
    (f,) = of_type(events, FundingSettled)
    assert f.amount == D("-180")
    (liq,) = of_type(events, PositionLiquidated)
    assert (liq.margin_mode, liq.side, liq.mark_price, liq.bankruptcy_price) == (ISO, BUY, D("60000"), D("59780"))
    assert (liq.liquidation_fee, liq.margin_lost, liq.insurance_fund_cover) == (D("220"), D("220"), 0)
    assert (liq.fill.side, liq.fill.quantity, liq.fill.price, liq.fill.realized_pnl) == (SELL, 1, D("59780"), -220)
    assert ex.account().wallet_balance == D("9600")


def test_funding_that_pushes_a_cross_account_below_maintenance_liquidates_it() -> None:
    # Cross long 1 @ 60,000 at 150x, fees off, wallet 900. At 59,500: UPNL −500, MB 400 > MM 0.004 × 59,500 = 238.
    # Funding at the cap 0.3% of 59,500 = 178.5 paid → wallet 721.5, MB 221.5 < 238: liquidated by the funding
    # alone (the price does not move). Close at 59,500 − 221.5 / 1 = 59,278.5 (= bankruptcy 60,000 − 721.5),
    # realized −721.5, fee min(0.0125 × 59,500 = 743.75, 221.5) = 221.5; the cross wallet ends at 0.
    ex = exact_exchange("900", fees=False, mode=CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 150)
    assert ex.submit(OrderRequest.market(BTC, BUY, D("1"))).ok
    assert of_type(ex.on_tick(BTC, 2, D("59500")), PositionLiquidated) == []
    ex.set_funding_rate(BTC, D("0.003"))
    events = ex.on_tick(BTC, 8 * H, D("59500"))
    (f,) = of_type(events, FundingSettled)
    assert f.amount == D("-178.5")
    (liq,) = of_type(events, PositionLiquidated)
    assert (liq.margin_mode, liq.side, liq.quantity, liq.mark_price, liq.bankruptcy_price) == (
        CROSS, BUY, 1, D("59500"), D("59278.5"),
    )
    assert (liq.liquidation_fee, liq.margin_lost, liq.insurance_fund_cover) == (D("221.5"), D("721.5"), 0)
    fills = [e.fill for e in of_type(events, OrderFilled)]
    assert [(x.side, x.quantity, x.price, x.realized_pnl) for x in fills] == [(SELL, 1, D("59278.5"), D("-721.5"))]
    assert ex.account().cross_wallet_balance == 0


def test_a_negative_rate_pushes_a_cross_short_below_maintenance() -> None:
    # Cross short 2 @ 60,000 at 150x, fees off, wallet 900; the price rises to 60,200 (MB 500 > MM 481.6).
    # A funding rate of −0.3% makes the short pay 2 × 60,200 × 0.003 = 361.2 → wallet 538.8, MB 138.8 < MM:
    # liquidated; nothing goes below 0 and the fund covers nothing (the wallet still held 538.8).
    ex = exact_exchange("900", fees=False, mode=CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 150)
    assert ex.submit(OrderRequest.market(BTC, SELL, D("2"))).ok
    assert of_type(ex.on_tick(BTC, 2, D("60200")), PositionLiquidated) == []
    ex.set_funding_rate(BTC, D("-0.01"))
    events = ex.on_tick(BTC, 8 * H, D("60200"))
    assert of_type(events, FundingSettled)[0].amount == D("-361.2")
    (liq,) = of_type(events, PositionLiquidated)
    # Close at 60,200 + 138.8 / 2 = 60,269.4 = bankruptcy 60,000 + 538.8 / 2; realized −538.8.
    assert (liq.side, liq.bankruptcy_price, liq.margin_lost) == (SELL, D("60269.4"), D("538.8"))
    assert (liq.fill.side, liq.fill.quantity) == (BUY, 2)
    assert of_type(events, InsuranceFundCovered) == []


def test_cross_funding_beyond_the_cross_wallet_is_paid_by_the_insurance_fund() -> None:
    # Cross long 1 @ 60,000 at 150x, fees off, wallet 800; the price rises to 100,000 (UPNL +40,000). One tick at
    # 24:00 settles 08:00, 16:00 and 24:00, each 100,000 × 0.003 = 300: 800 → 500 → 200 → −100, which the fund
    # pays (the cross wallet never goes below 0, docs/engine.md). MB 40,000 ≫ MM 400: no liquidation.
    ex = exact_exchange("800", fees=False, mode=CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 150)
    assert ex.submit(OrderRequest.market(BTC, BUY, D("1"))).ok
    ex.on_tick(BTC, 2, D("100000"))
    ex.set_funding_rate(BTC, D("0.003"))
    events = ex.on_tick(BTC, 24 * H, D("100000"))
    assert [f.amount for f in of_type(events, FundingSettled)] == [D("-300")] * 3
    assert [(c.amount, c.reason) for c in of_type(events, InsuranceFundCovered)] == [(D("100"), "funding")]
    assert ex.account().cross_wallet_balance == 0
    assert ex.position(BTC).is_open


def test_isolated_funding_beyond_the_isolated_wallet_is_paid_by_the_insurance_fund() -> None:
    # Isolated long 1 @ 60,000 at 150x (iso 400), fees off; the mark rises to 100,000 (UPNL +40,000, so no
    # liquidation). Two settlements in one tick (08:00 and 16:00) at 0.3% of 100,000 = 300 each: the first
    # leaves 100, the second takes 300 from 100: the fund pays 200, the isolated wallet is 0.
    ex = exact_exchange("10000", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 150)
    assert ex.submit(OrderRequest.market(BTC, BUY, D("1"))).ok
    ex.on_tick(BTC, 2, D("100000"))
    ex.set_funding_rate(BTC, D("0.003"))
    events = ex.on_tick(BTC, 16 * H, D("100000"))
    assert [f.amount for f in of_type(events, FundingSettled)] == [D("-300"), D("-300")]
    assert [(c.amount, c.reason) for c in of_type(events, InsuranceFundCovered)] == [(D("200"), "funding")]
    assert ex.position(BTC).isolated_wallet == 0
    assert ex.account().insurance_fund_cover == D("200")


def test_no_funding_without_a_position_or_without_a_rate() -> None:
    ex = exact_exchange("10000", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_funding_rate(BTC, D("0.0001"))
    assert of_type(ex.on_tick(BTC, 8 * H, D("60000")), FundingSettled) == []
    assert ex.submit(OrderRequest.market(BTC, BUY, D("1"))).ok
    ex.set_funding_rate(BTC, D("0"))
    assert of_type(ex.on_tick(BTC, 16 * H, D("60000")), FundingSettled) == []


def test_funding_that_rounds_to_nothing_is_not_settled() -> None:
    # 0.001 BTC × 60,000 × 1e-11 = 6e-10 USDT: 0.00000000 at 8 dp, so no FundingSettled (and nothing moves);
    # 1e-7 gives 0.000006, which is settled.
    ex = exact_exchange("10000", fees=False, mode=CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    assert ex.submit(OrderRequest.market(BTC, BUY, D("0.001"))).ok
    ex.set_funding_rate(BTC, D("1e-11"))
    assert of_type(ex.on_tick(BTC, 8 * H, D("60000")), FundingSettled) == []
    assert ex.account().cross_wallet_balance == D("10000")
    ex.set_funding_rate(BTC, D("1e-7"))
    (f,) = of_type(ex.on_tick(BTC, 16 * H, D("60000")), FundingSettled)
    assert f.amount == D("-0.000006")


def test_isolated_funding_leaving_less_than_one_dollar_keeps_it() -> None:
    # Isolated long 1 @ 60,000 at 150x (iso 400), fees off; mark 133,100 (far in profit). Funding at 0.3%:
    # 133,100 × 0.003 = 399.3 → iso 0.7: still the position's, nothing from the insurance fund.
    ex = exact_exchange("10000", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 150)
    assert ex.submit(OrderRequest.market(BTC, BUY, D("1"))).ok
    ex.on_tick(BTC, 2, D("133100"))
    ex.set_funding_rate(BTC, D("0.003"))
    events = ex.on_tick(BTC, 8 * H, D("133100"))
    assert of_type(events, FundingSettled)[0].amount == D("-399.3")
    assert of_type(events, InsuranceFundCovered) == []
    assert ex.position(BTC).isolated_wallet == D("0.7")
