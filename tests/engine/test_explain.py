"""The liquidation report: every number worked out by hand from the reference (§1.1, §1.2, §1.4, §6)."""

from decimal import Decimal

import pytest

from hexdesk.engine import OrderRequest, Side, default_instruments
from hexdesk.engine.enums import LiquidityRole, MarginMode
from hexdesk.engine.events import PositionLiquidated
from hexdesk.engine.explain import explain_liquidation, group_liquidations
from hexdesk.engine.fills import Fill
from tests.engine._exchange_helpers import BTC, ETH, exact_exchange, of_type

D = Decimal
INSTRUMENTS = default_instruments()


def _event(symbol, mode, side, qty, entry, mark, bkr, fee, lost, ts=1_000):
    fill = Fill(1, 1, symbol, side.opposite, D(bkr), D(qty), D(0), "USDT", LiquidityRole.TAKER, -D(lost), ts, True)
    return PositionLiquidated(
        7, ts, symbol, mode, side, D(qty), D(entry), D(mark), D(bkr), D(fee), D(lost), D(0), fill
    )


def _q(value: Decimal) -> Decimal:
    return value.quantize(D("0.0001"))


def test_v1_isolated_long_at_its_liquidation_price():
    # §6 V1: isolated long 1 BTC @ 60,000, 10x, WB 6,000 -> LP = 54,000 / 0.996 = 54,216.8675 (4 dp).
    # At that mark: notional 54,216.8675 (tier 1: MMR 0.40%, maintenance amount 0), MM = 216.8675,
    # margin balance = 6,000 + (54,216.8675 - 60,000) = 216.8675: ratio 100%.
    # Clearance fee 1.25% x 54,216.8675 = 677.71, capped by the 216.8675 left (§1.4).
    lp = D(54000) / D("0.996")
    event = _event(BTC, MarginMode.ISOLATED, Side.BUY, "1", "60000", lp, "54000", "216.86746988", "6000")
    report = explain_liquidation([event], INSTRUMENTS, wallet_after=D("3990.00"))
    (p,) = report.positions
    assert (p.bracket, p.maint_margin_ratio, p.maint_amount) == (1, D("0.004"), D(0))
    assert _q(p.notional) == D("54216.8675")
    assert _q(p.maintenance_margin) == D("216.8675")
    assert _q(p.unrealized_pnl) == D("-5783.1325")
    assert _q(report.margin_balance) == D("216.8675")
    assert _q(report.maintenance_margin) == D("216.8675")
    assert abs(report.margin_ratio - 1) < D("1e-20")
    assert report.margin_lost == D("6000")
    assert report.liquidation_fee == D("216.86746988")
    assert report.isolated
    assert report.wallet_before == D("9990.00")  # the rest of the wallet, 3,990, was not touched


def test_v4_tier_2_short_gapped_past_its_liquidation_price():
    # A short 5 BTC @ 100,000 (tier 2 from 300k: MMR 0.5%, maintenance amount 300), isolated wallet 5,000,
    # liquidated after a gap at mark 101,000: notional 505,000 -> MM = 505,000 x 0.005 - 300 = 2,225;
    # margin balance = 5,000 - 5 x 1,000 = 0: ratio infinite, nothing left for the fee.
    event = _event(BTC, MarginMode.ISOLATED, Side.SELL, "5", "100000", "101000", "101000", "0", "5000")
    report = explain_liquidation([event], INSTRUMENTS)
    (p,) = report.positions
    assert (p.bracket, p.maint_margin_ratio, p.maint_amount) == (2, D("0.005"), D(300))
    assert p.maintenance_margin == D("2225")
    assert report.margin_balance == 0
    assert report.margin_ratio == D("Infinity")
    assert report.wallet_before is None


def test_cross_liquidation_shares_one_pool():
    # Cross wallet 10,000 (the margins lost add up to it); BTC long 0.5 @ 60,000 at mark 40,000 (UPNL -10,000,
    # notional 20,000, MM 80) and ETH short 10 @ 3,000 at mark 3,100 (UPNL -1,000, notional 31,000, MM 124):
    # margin balance 10,000 - 11,000 = -1,000 against a maintenance margin of 204.
    btc = _event(BTC, MarginMode.CROSS, Side.BUY, "0.5", "60000", "40000", "38000", "0", "11000")
    eth = _event(ETH, MarginMode.CROSS, Side.SELL, "10", "3000", "3100", "3000", "0", "-1000")
    (group,) = group_liquidations([btc, eth])
    report = explain_liquidation(group, INSTRUMENTS, wallet_after=D(0))
    assert [p.symbol for p in report.positions] == [BTC, ETH]
    assert [p.maintenance_margin for p in report.positions] == [D(80), D(124)]
    assert report.maintenance_margin == D(204)
    assert report.margin_balance == D(-1000)
    assert report.margin_lost == D(10000)
    assert not report.isolated


def test_an_isolated_report_is_one_position():
    a = _event(BTC, MarginMode.ISOLATED, Side.BUY, "1", "60000", "54216.8675", "54000", "0", "6000")
    b = _event(ETH, MarginMode.ISOLATED, Side.BUY, "1", "3000", "2800", "2700", "0", "300")
    assert group_liquidations([a, b]) == [[a], [b]]
    with pytest.raises(ValueError):
        explain_liquidation([a, b], INSTRUMENTS)
    with pytest.raises(ValueError):
        explain_liquidation([], INSTRUMENTS)


def test_the_engine_liquidates_v1_where_the_report_says_ratio_100():
    # V1 through the engine: fees come from the cross wallet, so the isolated wallet is exactly IM = 6,000.
    ex = exact_exchange("20000")
    ex.on_tick(BTC, 0, D("60000"))
    ex.set_leverage(BTC, 10)
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("1"))).ok
    wallet_before = ex.account().wallet_balance
    events = ex.on_tick(BTC, 60_000, D("50000"))  # the mark path crosses the LP on the way down
    (liq,) = of_type(events, PositionLiquidated)
    report = explain_liquidation([liq], ex.instruments, ex.account().wallet_balance)
    assert abs(report.positions[0].mark_price - D("54216.8675")) < D("0.0001")
    assert abs(report.margin_balance - D("216.8675")) < D("0.0001")
    assert abs(report.margin_ratio - 1) < D("1e-9")
    assert report.margin_lost == D("6000")
    assert abs(report.liquidation_fee - D("216.8675")) < D("0.0001")
    assert report.wallet_before == wallet_before  # only the isolated margin left the wallet
    assert report.wallet_after == wallet_before - 6000
