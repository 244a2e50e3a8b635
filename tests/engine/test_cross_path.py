"""Cross liquidation where the mark path crosses the account's liquidation price (issue 6, point 4).

Numbers are worked by hand from the reference: §1.2 (one-way LP, cross: WB = cross wallet, TMM1 / UPNL1 of the other
cross positions), §1.4 (closed at the bankruptcy price), §1.6a (BTCUSDT and ETHUSDT tier 1: MMR 0.4%, cum 0, up to
300,000 notional), §2 (taker fee 0.05%). ``exact_exchange`` fills market orders exactly at the last price.
"""

from __future__ import annotations

from decimal import Decimal

from hexdesk.engine import (
    InsuranceFundCovered,
    MarginMode,
    OrderCanceled,
    OrderFilled,
    OrderRequest,
    PositionLiquidated,
    Side,
    rebuild,
)
from tests.engine._exchange_helpers import BTC, ETH, D, exact_exchange, of_type

MINUTE = 60_000
TOL = D("1e-18")

# Cross 4 BTC at 20x from 20,270.8 with a 10,000 wallet (the example, without the 1-tick spread):
#   fee            = 4 × 20,270.8 × 0.0005           = 40.5416      -> cross wallet WB = 9,959.4584
#   notional       = 81,083.2 (tier 1: MMR 0.4%, cum 0)
#   LP (long)      = (Q·EP − WB) / (Q·(1 − MMR)) = (81,083.2 − 9,959.4584) / 3.984 = 71,123.7416 / 3.984
#                  ≈ 17,852.3448
#   bankruptcy     = EP − WB / Q = 20,270.8 − 2,489.8646 = 17,780.9354
#   at the LP the margin left is the MM: 4 × LP × 0.004 = 0.016 × LP ≈ 285.6375 = the clearance fee (1.25% × 4 ×
#   LP = 0.05 × LP is larger, so it is capped by the margin left, §1.4).
EXAMPLE_WB = D("9959.4584")
EXAMPLE_LP = D("71123.7416") / D("3.984")
EXAMPLE_BKR = D("17780.9354")


def _example(stop_loss: Decimal | None = None):
    ex = exact_exchange(mode=MarginMode.CROSS)
    ex.on_tick(BTC, 0, D("20270.8"))
    result = ex.submit(OrderRequest.market(BTC, Side.BUY, D("4"), stop_loss=stop_loss))
    assert result.ok, result.rejection
    assert ex.account().cross_wallet_balance == EXAMPLE_WB
    assert abs(ex.position(BTC).liquidation_price - EXAMPLE_LP) < TOL
    return ex


def test_a_jump_through_the_cross_lp_liquidates_at_the_lp_not_at_the_next_price() -> None:
    ex = _example()
    events = ex.on_tick(BTC, MINUTE, D("15000.0"))
    [liq] = of_type(events, PositionLiquidated)
    assert abs(liq.mark_price - EXAMPLE_LP) < TOL  # today: 15,000.0
    assert liq.bankruptcy_price == EXAMPLE_BKR
    assert liq.fill.price == EXAMPLE_BKR
    assert liq.fill.realized_pnl == -EXAMPLE_WB
    assert liq.margin_lost == EXAMPLE_WB
    assert liq.liquidation_fee == D("285.63751647")  # 0.016 × 17,852.34477911… (today: 0, nothing left at 15,000)
    assert of_type(events, InsuranceFundCovered) == []
    assert ex.account().wallet_balance == 0
    assert ex.state() == rebuild(ex.events)


def test_the_fast_path_gate_holds_the_cross_lp() -> None:
    """17,852.4 is above the LP: a quiet tick. 17,852.3 is below: the segment between them crosses it."""
    ex = _example()
    assert ex.on_tick(BTC, MINUTE, D("17852.4")) == ()
    events = ex.on_tick(BTC, 2 * MINUTE, D("17852.3"))
    [liq] = of_type(events, PositionLiquidated)
    assert abs(liq.mark_price - EXAMPLE_LP) < TOL


def test_a_stop_loss_before_the_cross_lp_wins_on_the_same_jump() -> None:
    # Stop at 18,000.0 (above the LP): the path reaches it first; it fills at 18,000.0:
    #   realized = 4 × (18,000 − 20,270.8) = −9,083.2; fee = 4 × 18,000 × 0.0005 = 36
    #   wallet   = 9,959.4584 − 9,083.2 − 36 = 840.2584, no liquidation.
    ex = _example(stop_loss=D("18000.0"))
    events = ex.on_tick(BTC, MINUTE, D("15000.0"))
    assert of_type(events, PositionLiquidated) == []
    [fill] = [e.fill for e in of_type(events, OrderFilled)]
    assert (fill.price, fill.quantity, fill.realized_pnl, fill.fee) == (D("18000.0"), D("4"), D("-9083.2"), D("36"))
    assert ex.account().wallet_balance == D("840.2584")
    assert ex.state() == rebuild(ex.events)


def test_a_stop_loss_beyond_the_cross_lp_is_too_late() -> None:
    # Stop at 17,500.0 (below the LP 17,852.34): the mark reaches the LP first, the account is liquidated at its
    # bankruptcy point (wallet 0) and the stop is canceled. Today the stop filled at 17,500 and lost
    # 4 × 2,770.8 + 35 = 11,118.2 > 9,959.4584, the insurance fund paying the rest.
    ex = _example(stop_loss=D("17500.0"))
    events = ex.on_tick(BTC, MINUTE, D("15000.0"))
    [liq] = of_type(events, PositionLiquidated)
    assert abs(liq.mark_price - EXAMPLE_LP) < TOL
    assert [e.reason for e in of_type(events, OrderCanceled)] == ["liquidation"]
    assert [e.fill.is_liquidation for e in of_type(events, OrderFilled)] == [True]
    assert of_type(events, InsuranceFundCovered) == []
    assert ex.account().wallet_balance == 0


def test_the_other_symbols_mark_moves_the_cross_lp() -> None:
    """BTC long 4 @ 20,000 and ETH long 10 @ 2,000, both cross, no fees, wallet 10,000.

    With ETH at 2,000: TMM1 = 20,000 × 0.004 = 80, UPNL1 = 0:
        LP(BTC) = (80,000 − (10,000 − 80)) / 3.984 = 70,080 / 3.984 ≈ 17,590.36
    ETH falls to 1,800 (a quiet tick: margin balance 8,000 against MM 320 + 72): TMM1 = 72, UPNL1 = −2,000:
        LP(BTC) = (80,000 − (10,000 − 72 − 2,000)) / 3.984 = 72,072 / 3.984 ≈ 18,090.36
    BTC then jumps 20,000 -> 18,000: above the LP BTC had when it last changed, below the one it has now. The
    account is liquidated where BTC's mark crosses 18,090.36, not at 18,000 (and not never). There the margin
    balance is 8,000 + 4 × (18,090.36… − 20,000) = 361.4458 = MM 0.016 × 18,090.36… + 72, shared in proportion
    to notional (72,361.4458 : 18,000): ETH's share 361.4458 × 18,000 / 90,361.4458 = 72, so ETH closes at
    1,800 − 72 / 10 = 1,792.8 and BTC at 18,090.36… − 289.4458 / 4 = 18,018.0 (both at their bankruptcy point:
    the wallet ends at exactly 0).
    """
    ex = exact_exchange(fees=False, mode=MarginMode.CROSS)
    ex.on_tick(BTC, 0, D("20000.0"))
    ex.on_tick(ETH, 0, D("2000.00"))
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("4"))).ok
    assert ex.submit(OrderRequest.market(ETH, Side.BUY, D("10"))).ok
    assert abs(ex.position(BTC).liquidation_price - D(70080) / D("3.984")) < TOL

    assert ex.on_tick(ETH, MINUTE, D("1800.00")) == ()
    lp = D(72072) / D("3.984")
    assert abs(ex.position(BTC).liquidation_price - lp) < TOL

    events = ex.on_tick(BTC, 2 * MINUTE, D("18000.0"))
    liq = {e.symbol: e for e in of_type(events, PositionLiquidated)}
    assert set(liq) == {BTC, ETH}
    assert abs(liq[BTC].mark_price - lp) < TOL
    assert liq[ETH].mark_price == D("1800.00")
    assert abs(liq[ETH].fill.price - D("1792.8")) < TOL
    assert abs(liq[BTC].fill.price - D("18018.0")) < D("1e-8")
    assert ex.account().wallet_balance == 0
    assert of_type(events, InsuranceFundCovered) == []
    assert ex.state() == rebuild(ex.events)


def test_an_isolated_long_still_liquidates_at_its_own_lp() -> None:
    """V1 (§6): isolated long 1 BTC at 10x from 60,000 with WB 6,000: LP = 54,216.8675; a jump to 50,000 liquidates
    there (the walk was already right for isolated; the cross change must not disturb it)."""
    ex = exact_exchange(fees=False)
    ex.on_tick(BTC, 0, D("60000.0"))
    ex.set_leverage(BTC, 10)
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("1"))).ok
    [liq] = of_type(ex.on_tick(BTC, MINUTE, D("50000.0")), PositionLiquidated)
    assert abs(liq.mark_price - D(54000) / D("0.996")) < TOL
    assert liq.margin_mode is MarginMode.ISOLATED


def test_a_cross_short_is_liquidated_where_the_rise_crosses_its_lp() -> None:
    """Cross short 2 BTC @ 60,000, no fees, wallet 10,000 (notional 120,000: tier 1):
        LP (short) = (Q·EP + WB) / (Q·(1 + MMR)) = (120,000 + 10,000) / 2.008 ≈ 64,741.04
        bankruptcy = EP + WB / Q = 65,000
    A jump to 70,000 liquidates at mark ≈ 64,741.04 and closes at 65,000: the wallet loses exactly 10,000."""
    ex = exact_exchange(fees=False, mode=MarginMode.CROSS)
    ex.on_tick(BTC, 0, D("60000.0"))
    assert ex.submit(OrderRequest.market(BTC, Side.SELL, D("2"))).ok
    assert ex.on_tick(BTC, MINUTE, D("64741.0")) == ()  # just below the LP: quiet
    [liq] = of_type(ex.on_tick(BTC, 2 * MINUTE, D("70000.0")), PositionLiquidated)
    assert abs(liq.mark_price - D(130000) / D("2.008")) < TOL
    assert liq.fill.price == D("65000")
    assert liq.margin_lost == D("10000")
    assert ex.account().wallet_balance == 0
