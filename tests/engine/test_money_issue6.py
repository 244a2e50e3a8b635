"""Money tests for the issue-6 engine rules (point named in each test) and for the liquidation-price bug the
mutation run found (a long covered only with a higher tier's cum still has a liquidation price). Numbers by hand
in the comments, from binance-futures.md."""

from __future__ import annotations

import pytest

from hexdesk.engine import (
    BinanceError,
    ErrorCode,
    FundingSettled,
    MarginMode,
    OrderRequest,
    PositionLiquidated,
    Side,
    default_instruments,
)
from hexdesk.engine.account import money
from hexdesk.engine.margin import liquidation_price
from tests.engine._exchange_helpers import BTC, ETH, D, H, exact_exchange, of_type


def _code(fn, *args) -> ErrorCode:  # type: ignore[no-untyped-def]
    with pytest.raises(BinanceError) as err:
        fn(*args)
    return err.value.code


def test_issue6_point8_remove_margin_from_a_position_in_profit() -> None:
    # Issue 6 point 8: removable = min(iso − MM, iso + UPNL − notional(mark) × IMR).
    # Isolated long 1 @ 60,000 at 10x, fees off, +1,000 added: iso 7,000. Mark 61,000: UPNL +1,000,
    # MM 0.004 × 61,000 = 244, IM 6,100 → min(7,000 − 244, 7,000 + 1,000 − 6,100) = min(6,756, 1,900) = 1,900.
    # (The current engine allows only 7,000 + min(0, UPNL) − 6,100 = 900.)
    ex = exact_exchange("10000", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 10)
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("1"))).ok
    ex.transfer_margin(BTC, D("1000"))
    ex.on_tick(BTC, 2, D("61000"))
    assert _code(ex.transfer_margin, BTC, D("-1900.01")) is ErrorCode.ISOLATED_BALANCE_INSUFFICIENT
    ex.transfer_margin(BTC, D("-1900"))
    assert ex.position(BTC).isolated_wallet == D("5100")


def test_issue6_point8_remove_margin_is_capped_by_maintenance_when_the_profit_is_large() -> None:
    # Isolated long 1 @ 60,000 at 10x, fees off (iso 6,000); mark 70,000: UPNL +10,000, IM 7,000, MM 280
    # → min(6,000 − 280, 6,000 + 10,000 − 7,000) = min(5,720, 9,000) = 5,720.
    ex = exact_exchange("10000", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 10)
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("1"))).ok
    ex.on_tick(BTC, 2, D("70000"))
    assert _code(ex.transfer_margin, BTC, D("-5720.01")) is ErrorCode.ISOLATED_BALANCE_INSUFFICIENT
    ex.transfer_margin(BTC, D("-5720"))
    assert ex.position(BTC).isolated_wallet == D("280")


def test_issue6_point8_add_margin_excludes_cross_unrealized_profit() -> None:
    # Issue 6 point 8: add only from the cross wallet less cross MM and isolated open-order margin, no
    # unrealized profit. Wallet 10,000, fees off; BTC isolated long 1 @ 60,000 at 10x (cross 4,000); ETH cross long
    # 10 @ 3,000 at 20x, then ETH 3,300: UPNL +3,000, MM 0.004 × 33,000 = 132 → at most 4,000 − 132 = 3,868.
    # (The current engine allows the available balance 4,000 + 3,000 − 33,000 / 20 = 5,350.)
    ex = exact_exchange("10000", fees=False)
    ex.set_margin_mode(ETH, MarginMode.CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    ex.on_tick(ETH, 1, D("3000"))
    ex.set_leverage(BTC, 10)
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("1"))).ok
    assert ex.submit(OrderRequest.market(ETH, Side.BUY, D("10"))).ok
    ex.on_tick(ETH, 2, D("3300"))
    assert _code(ex.transfer_margin, BTC, D("3868.01")) is ErrorCode.MARGIN_NOT_SUFFICIENT
    ex.transfer_margin(BTC, D("3868"))
    assert ex.position(BTC).isolated_wallet == D("9868")


def test_issue6_point8_market_short_cost_uses_last_plus_0_15_percent() -> None:
    # Issue 6 point 8 / reference §1.5 (2024 revision): a short's IM is priced at max(last × 1.0015, mark, price).
    # Market SELL 1 at last = mark = 60,000, 20x: 60,090 / 20 = 3,004.5 > 3,004.4 available → -2019.
    # (The current engine charges 60,000 / 20 = 3,000 and accepts it.)
    ex = exact_exchange("3004.4", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    result = ex.submit(OrderRequest.market(BTC, Side.SELL, D("1")))
    assert result.rejection is not None and result.rejection.code is ErrorCode.MARGIN_NOT_SUFFICIENT
    ok = exact_exchange("3004.5", fees=False)
    ok.on_tick(BTC, 1, D("60000"))
    assert ok.submit(OrderRequest.market(BTC, Side.SELL, D("1"))).ok


def test_issue6_point8_lowering_leverage_counts_resting_orders() -> None:
    # Issue 6 point 8: set_leverage counts resting orders. A bid 3 @ 59,000 reserves 177,000 / 20 = 8,850 of 10,000;
    # at 10x it would need 17,700 > 10,000: refused (-2028, "Leverage is smaller than permitted: insufficient margin
    # balance"). (The current engine accepts the change.)
    ex = exact_exchange("10000", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    assert ex.submit(OrderRequest.limit(BTC, Side.BUY, D("3"), D("59000"))).ok
    assert _code(ex.set_leverage, BTC, 10) is ErrorCode.MIN_LEVERAGE_RATIO
    assert ex.leverage(BTC) == 20


def test_issue6_point4_cross_liquidation_happens_where_the_mark_path_meets_the_lp() -> None:
    # Issue 6 point 4: cross liquidation along the price path. Cross long 1 @ 60,000, fees off, wallet 10,000:
    # LP = (60,000 − 10,000) / 0.996 = 50,200.803... One tick from 60,000 straight to 50,000: the mark meets the LP
    # on the way, so the account is liquidated there (reference §1.3 "when the Mark Price hits the liquidation
    # price"): PositionLiquidated.mark_price = LP; the close is at bankruptcy 60,000 − 10,000 = 50,000; the margin
    # left at the LP is its MM 0.004 × LP = 200.80321285 (8 dp), all of it clearance fee (< 0.0125 × LP).
    # (The current engine checks at the tick's mark 50,000: fee min(625, 0) = 0, mark 50,000.)
    ex = exact_exchange("10000", fees=False, mode=MarginMode.CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("1"))).ok
    lp = D(50000) / D("0.996")
    (liq,) = of_type(ex.on_tick(BTC, 2, D("50000")), PositionLiquidated)
    assert abs(liq.mark_price - lp) < D("1e-6")
    assert abs(liq.bankruptcy_price - D("50000")) < D("1e-6")
    assert abs(liq.liquidation_fee - money(D("0.004") * lp)) <= D("1e-8")
    assert liq.margin_lost == D("10000")
    assert ex.account().cross_wallet_balance == 0


def test_issue6_point8d_funding_settles_every_symbol_at_its_settlement_time() -> None:
    # Issue 6 point 8(d): funding settles for every symbol at its settlement time, not only on that symbol's next
    # tick. ETH short 10 @ 3,000 (cross, fees off), rate 0.0001: at 08:00 it receives 10 × 3,000 × 0.0001 = 3,
    # even if only BTC ticks after 08:00.
    ex = exact_exchange("100000", fees=False, mode=MarginMode.CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    ex.on_tick(ETH, 1, D("3000"))
    assert ex.submit(OrderRequest.market(ETH, Side.SELL, D("10"))).ok
    ex.set_funding_rate(ETH, D("0.0001"))
    events = ex.on_tick(BTC, 8 * H + 1, D("60000"))
    (f,) = of_type(events, FundingSettled)
    assert (f.symbol, f.ts_ms, f.mark_price, f.amount) == (ETH, 8 * H, D("3000"), D("3"))
    assert ex.account().cross_wallet_balance == D("100003")


def test_engine_bug_a_long_covered_only_with_a_higher_tiers_cum_still_has_a_liquidation_price() -> None:
    # Not issue 6: an engine bug found by the mutation run (margin.liquidation_price). Long 10 BTC @ 100,000
    # (notional 1,000,000: tier 3, MMR 0.65%, cum 1,500) with an isolated wallet of 999,000 (1x, less 1,000 of
    # funding paid). The entry tier's solution is (999,000 + 1,500 − 1,000,000) / (10 × 0.0065 − 10) < 0, and the
    # engine stops there ("a long whose margin covers the whole notional cannot be liquidated") — but the wallet
    # does not cover the notional. Tier 1's solution (999,000 − 1,000,000) / (10 × 0.004 − 10) = 1,000 / 9.96
    # = 100.4016 has a notional of 1,004 (tier 1), so it is consistent: at that mark MB = 999,000 + 10 × (100.4016
    # − 100,000) = 4.016 = MM 0.004 × 1,004.016. §1.2's tier re-check should find it; the engine returns None.
    lp = liquidation_price(default_instruments()[BTC], D(10), D(100000), D(999000))
    assert lp == D(1000) / D("9.96")
