"""The reference's worked examples (§6) reproduced through real orders on the Exchange, and one liquidation per
margin mode. Fees are paid from the cross wallet, so an isolated position's wallet is its initial margin exactly
(WB = IM, as the examples assume); V7 uses fee-free instruments so the cross wallet stays 10,000 exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hexdesk.engine import (
    MarginMode,
    OrderFilled,
    OrderRequest,
    PositionChanged,
    PositionLiquidated,
    Side,
    default_instruments,
    rebuild,
)
from tests.engine._exchange_helpers import BTC, ETH, D, eth_with_mmr, exact_exchange, names, of_type

Q4 = Decimal("0.0001")


def open_isolated(leverage: int, side: Side, qty: str, price: str = "60000", wallet: str = "100000"):
    ex = exact_exchange(wallet)
    ex.on_tick(BTC, 1_000, D(price))
    ex.set_leverage(BTC, leverage)
    result = ex.submit(OrderRequest.market(BTC, side, D(qty)))
    assert result.ok, result.rejection
    return ex


@pytest.mark.parametrize(
    ("case", "leverage", "side", "qty", "wallet", "lp"),
    [
        ("V1", 10, Side.BUY, "1", "6000", "54216.8675"),
        ("V2", 20, Side.SELL, "2", "6000", "62749.0040"),
        ("V3", 150, Side.BUY, "0.1", "40", "59839.3574"),
    ],
)
def test_isolated_worked_examples(case: str, leverage: int, side: Side, qty: str, wallet: str, lp: str) -> None:
    ex = open_isolated(leverage, side, qty)
    pos = ex.position(BTC)
    assert pos.entry_price == D("60000")
    assert pos.isolated_wallet == D(wallet), case  # WB = IM = notional / leverage
    assert pos.liquidation_price is not None
    assert pos.liquidation_price.quantize(Q4) == D(lp), case
    # The fee came from the cross wallet: taker 0.05% of the notional.
    fee = of_type(ex.events, OrderFilled)[0].fill.fee
    assert fee == D(qty) * D("60000") * D("0.0005")
    assert ex.account().wallet_balance == D("100000") - fee


def test_v1_liquidation_loses_exactly_the_isolated_margin() -> None:
    ex = open_isolated(10, Side.BUY, "1")
    wallet_before = ex.account().wallet_balance
    assert ex.on_tick(BTC, 2_000, D("54300")) == ()  # above LP 54,216.87: quiet
    events = ex.on_tick(BTC, 3_000, D("54000"))
    assert names(events) == ["OrderFilled", "PositionChanged", "PositionLiquidated"]
    liq = of_type(events, PositionLiquidated)[0]
    assert liq.margin_mode is MarginMode.ISOLATED
    assert liq.bankruptcy_price == D("54000")  # 60,000 − 6,000 / 1
    assert liq.fill.price == D("54000") and liq.fill.is_liquidation
    assert liq.margin_lost == D("6000")
    # Clearance fee: 1.25% of the notional at the LP, capped by the margin left there (its MM: 0.4%).
    assert liq.liquidation_fee == D("216.86746988")  # = MM at the LP (0.4% < 1.25%): "already bankrupt"
    assert ex.account().wallet_balance == wallet_before - D("6000")
    assert ex.account().insurance_fund_cover == 0
    assert ex.position(BTC).quantity == 0
    assert of_type(events, PositionChanged)[0].position.quantity == 0


def test_isolated_liquidation_cancels_the_symbols_orders() -> None:
    ex = open_isolated(10, Side.BUY, "1")
    ex.submit(OrderRequest.limit(BTC, Side.SELL, D("0.5"), D("62000")))
    events = ex.on_tick(BTC, 2_000, D("50000"))  # gap far below the LP: still closes at the bankruptcy price
    assert names(events)[0] == "OrderCanceled" and events[0].reason == "liquidation"
    liq = of_type(events, PositionLiquidated)[0]
    assert liq.fill.price == D("54000")
    assert ex.open_orders(BTC) == ()
    assert ex.account().wallet_balance == D("100000") - D("30") - D("6000")


def test_v7_cross_liquidation_price_with_other_positions() -> None:
    instruments = {BTC: default_instruments()[BTC], ETH: eth_with_mmr("0.005")}
    ex = exact_exchange("10000", fees=False, mode=MarginMode.CROSS, instruments=instruments)
    ex.on_tick(BTC, 1_000, D("60000"))
    ex.on_tick(ETH, 1_000, D("3000"))
    assert ex.submit(OrderRequest.market(ETH, Side.SELL, D("10"))).ok
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.5"))).ok
    ex.on_tick(ETH, 2_000, D("3100"))  # ETH short: UPNL1 = −1,000, TMM1 = 31,000 × 0.5% = 155
    pos = ex.position(BTC)
    assert ex.account().cross_wallet_balance == D("10000")
    assert pos.liquidation_price is not None
    assert pos.liquidation_price.quantize(Q4) == D("42479.9197")
    eth = ex.position(ETH)
    assert eth.unrealized_pnl == D("-1000") and eth.maintenance_margin == D("155")


def test_cross_liquidation_closes_every_cross_position_and_spares_isolated() -> None:
    ex = exact_exchange("2000", mode=MarginMode.CROSS)
    ex.on_tick(BTC, 1_000, D("60000"))
    ex.on_tick(ETH, 1_000, D("3000"))
    ex.set_margin_mode(ETH, MarginMode.ISOLATED)
    assert ex.submit(OrderRequest.market(ETH, Side.BUY, D("1"))).ok  # isolated, 150 USDT margin
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.1"))).ok  # cross
    cross_wallet = ex.account().cross_wallet_balance
    pos = ex.position(BTC)
    assert pos.liquidation_price is not None
    assert ex.on_tick(BTC, 2_000, pos.liquidation_price + 5) == ()
    events = ex.on_tick(BTC, 3_000, pos.liquidation_price - 5)
    liq = of_type(events, PositionLiquidated)
    assert [(e.symbol, e.margin_mode) for e in liq] == [(BTC, MarginMode.CROSS)]
    assert liq[0].margin_lost == cross_wallet
    account = ex.account()
    assert account.cross_wallet_balance == 0  # the cross wallet is gone, nothing more
    assert ex.position(ETH).quantity == D("1")  # isolated untouched
    assert account.wallet_balance == ex.position(ETH).isolated_wallet
    assert ex.state() == rebuild(ex.events)


def test_cross_liquidation_on_a_gap_is_capped_at_the_wallet() -> None:
    ex = exact_exchange("1000", mode=MarginMode.CROSS)
    ex.on_tick(BTC, 1_000, D("60000"))
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.3"))).ok  # 18,000 notional at 20x
    events = ex.on_tick(BTC, 2_000, D("50000"))  # a gap far past the bankruptcy price
    liq = of_type(events, PositionLiquidated)[0]
    assert liq.fill.realized_pnl == -(D("1000") - D("9"))
    assert ex.account().wallet_balance == 0
    assert ex.account().insurance_fund_cover == 0
