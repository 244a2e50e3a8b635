"""Account operations through the Exchange: funding, isolated margin transfers, leverage and margin mode."""

from __future__ import annotations

import pytest

from hexdesk.engine import (
    BinanceError,
    ErrorCode,
    FundingSettled,
    LeverageChanged,
    MarginMode,
    MarginModeChanged,
    MarginTransferred,
    OrderRequest,
    Side,
    rebuild,
)
from tests.engine._exchange_helpers import BTC, ETH, D, H, exact_exchange, names, of_type

DAY = 24 * H


def test_funding_at_0800_is_paid_only_by_positions_open_then() -> None:
    ex = exact_exchange("100000", start_ms=DAY + 7 * H)
    ex.on_tick(BTC, DAY + 7 * H, D("60000"))
    ex.on_tick(ETH, DAY + 7 * H, D("3000"))
    ex.set_funding_rate(BTC, D("0.0001"))
    ex.set_funding_rate(ETH, D("0.0001"))
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("1"))).ok  # long: pays
    assert ex.submit(OrderRequest.market(ETH, Side.SELL, D("1"))).ok  # short: receives
    iso_before = ex.position(BTC).isolated_wallet
    ex.submit(OrderRequest.market(ETH, Side.BUY, D("1")))  # closed before 08:00: no funding
    events = ex.on_tick(BTC, DAY + 8 * H + 15_000, D("60100"))
    funding = of_type(events, FundingSettled)
    assert len(funding) == 1
    f = funding[0]
    assert (f.ts_ms, f.symbol, f.mark_price, f.position_qty) == (DAY + 8 * H, BTC, D("60000"), D("1"))
    assert f.amount == D("-6")  # mark × size × rate, longs pay
    assert ex.position(BTC).isolated_wallet == iso_before - 6  # isolated: from the position's wallet
    assert of_type(ex.on_tick(ETH, DAY + 8 * H + 15_000, D("3000")), FundingSettled) == []
    # A position opened after 08:00 and closed before 16:00 pays nothing.
    ex.submit(OrderRequest.market(BTC, Side.SELL, D("1")))
    assert of_type(ex.on_tick(BTC, DAY + 16 * H, D("60000")), FundingSettled) == []
    assert ex.state() == rebuild(ex.events)


def test_cross_funding_goes_to_the_cross_wallet() -> None:
    ex = exact_exchange("100000", mode=MarginMode.CROSS, fees=False)
    ex.on_tick(BTC, 1, D("50000"))
    ex.set_funding_rate(BTC, D("0.0005"))
    ex.submit(OrderRequest.market(BTC, Side.SELL, D("2")))
    ex.on_tick(BTC, 8 * H, D("50000"))
    assert ex.account().cross_wallet_balance == D("100050")


def test_funding_rate_is_clamped_to_the_cap() -> None:
    ex = exact_exchange()
    ex.set_funding_rate(BTC, D("0.05"))
    assert ex.funding_rate(BTC) == D("0.003")


def test_add_and_remove_isolated_margin() -> None:
    ex = exact_exchange("100000")
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 10)
    ex.submit(OrderRequest.market(BTC, Side.BUY, D("1")))
    lp_before = ex.position(BTC).liquidation_price
    events = ex.transfer_margin(BTC, D("1000"))
    assert names(events) == ["MarginTransferred", "PositionChanged"]
    assert of_type(events, MarginTransferred)[0].isolated_wallet == D("7000")
    lp_after = ex.position(BTC).liquidation_price
    assert lp_before is not None and lp_after is not None and lp_after < lp_before
    ex.transfer_margin(BTC, D("-1000"))
    assert ex.position(BTC).isolated_wallet == D("6000")
    with pytest.raises(BinanceError) as err:
        ex.transfer_margin(BTC, D("-0.01"))  # below the initial margin requirement
    assert err.value.code is ErrorCode.ISOLATED_BALANCE_INSUFFICIENT
    with pytest.raises(BinanceError) as err:
        ex.transfer_margin(BTC, D("1000000"))
    assert err.value.code is ErrorCode.MARGIN_NOT_SUFFICIENT
    with pytest.raises(BinanceError):
        ex.transfer_margin(ETH, D("10"))  # no position


def test_leverage_rules() -> None:
    ex = exact_exchange("1000000")
    ex.on_tick(BTC, 1, D("60000"))
    for bad in (0, 151):
        with pytest.raises(BinanceError) as err:
            ex.set_leverage(BTC, bad)
        assert err.value.code is ErrorCode.INVALID_LEVERAGE
    assert names(ex.set_leverage(BTC, 10)) == ["LeverageChanged"]
    ex.submit(OrderRequest.market(BTC, Side.BUY, D("10")))  # 600k notional
    with pytest.raises(BinanceError) as err:
        ex.set_leverage(BTC, 5)
    assert err.value.code is ErrorCode.ISOLATED_LEVERAGE_REJECT_WITH_POSITION
    with pytest.raises(BinanceError) as err:
        ex.set_leverage(BTC, 150)  # 150x allows only 300k
    assert err.value.code is ErrorCode.MAX_LEVERAGE_RATIO
    events = ex.set_leverage(BTC, 50)
    assert of_type(events, LeverageChanged)[0].leverage == 50 and ex.leverage(BTC) == 50


def test_margin_mode_rules() -> None:
    ex = exact_exchange("100000")
    ex.on_tick(BTC, 1, D("60000"))
    with pytest.raises(BinanceError) as err:
        ex.set_margin_mode(BTC, MarginMode.ISOLATED)
    assert err.value.code is ErrorCode.NO_NEED_TO_CHANGE_MARGIN_TYPE
    ex.submit(OrderRequest.limit(BTC, Side.BUY, D("0.1"), D("59000")))
    with pytest.raises(BinanceError) as err:
        ex.set_margin_mode(BTC, MarginMode.CROSS)
    assert err.value.code is ErrorCode.THERE_EXISTS_OPEN_ORDERS
    ex.cancel_all(BTC)
    ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.1")))
    with pytest.raises(BinanceError) as err:
        ex.set_margin_mode(BTC, MarginMode.CROSS)
    assert err.value.code is ErrorCode.THERE_EXISTS_QUANTITY
    ex.submit(OrderRequest.market(BTC, Side.SELL, D("0.1")))
    events = ex.set_margin_mode(BTC, MarginMode.CROSS)
    assert of_type(events, MarginModeChanged)[0].margin_mode is MarginMode.CROSS
    assert ex.margin_mode(BTC) is MarginMode.CROSS
    assert ex.state() == rebuild(ex.events)


def test_account_snapshot_and_queries() -> None:
    ex = exact_exchange("10000")
    assert ex.last_price(BTC) is None
    ex.on_tick(BTC, 1, D("60000"), mark=D("60010"))
    assert (ex.last_price(BTC), ex.mark_price(BTC)) == (D("60000"), D("60010"))
    ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.1")))
    ex.on_tick(BTC, 2, D("61000"))
    account = ex.account()
    assert account.unrealized_pnl == D("100")
    assert account.wallet_balance == D("10000") - D("3")
    assert account.margin_balance == account.wallet_balance + 100
    assert [p.symbol for p in ex.positions()] == [BTC]
    pos = ex.position(BTC)
    assert pos.margin_ratio == pos.maintenance_margin / (pos.isolated_wallet + pos.unrealized_pnl)
    assert pos.bankruptcy_price == D("60000") - D("300") / D("0.1")
