"""Isolated margin transfers at their limits (reference §1.1–1.2: the isolated wallet is the margin of the position,
plus margin added; -2019 / -4051 from §3.4). Numbers by hand in the comments.

Adding: at most the available balance (no cross positions or orders here, so that is the cross wallet).
Removing: at most ``isolated wallet + unrealized loss − notional(mark) / leverage`` when the position is in loss;
the same or more under the rule issue 6 point 8 brings in (min(iso − MM, iso + UPNL − IM)), so these cases hold
under both. Cases where the two rules differ are in test_money_pending_issue6.py.
"""

from __future__ import annotations

import pytest

from hexdesk.engine import (
    BinanceError,
    ErrorCode,
    Exchange,
    MarginMode,
    MarginTransferred,
    OrderRequest,
    PositionLiquidated,
    Side,
)
from tests.engine._exchange_helpers import BTC, ETH, D, exact_exchange, of_type


def _iso_long_10x(wallet: str = "10000") -> Exchange:
    # Isolated long 1 @ 60,000 at 10x, fees off: iso 6,000, cross 10,000 − 6,000 = 4,000.
    ex = exact_exchange(wallet, fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 10)
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("1"))).ok
    return ex


def _code(ex: Exchange, amount: str) -> ErrorCode:
    with pytest.raises(BinanceError) as err:
        ex.transfer_margin(BTC, D(amount))
    return err.value.code


def test_add_exactly_the_available_balance_and_not_a_cent_more() -> None:
    ex = _iso_long_10x()
    assert ex.account().available_balance == D("4000")
    assert _code(ex, "4000.01") is ErrorCode.MARGIN_NOT_SUFFICIENT
    events = ex.transfer_margin(BTC, D("4000"))
    (moved,) = of_type(events, MarginTransferred)
    assert (moved.amount, moved.isolated_wallet) == (D("4000"), D("10000"))
    assert (ex.account().cross_wallet_balance, ex.position(BTC).isolated_wallet) == (0, D("10000"))
    # LP with iso 10,000: (60,000 − 10,000) / 0.996 = 50,200.80...
    assert ex.position(BTC).liquidation_price == D(50000) / D("0.996")


def test_add_is_limited_by_resting_orders_margin() -> None:
    # A resting ETH bid 10 @ 2,000 at 20x reserves 1,000: available 4,000 − 1,000 = 3,000.
    ex = _iso_long_10x()
    ex.on_tick(ETH, 1, D("3000"))
    assert ex.submit(OrderRequest.limit(ETH, Side.BUY, D("10"), D("2000"))).ok
    assert _code(ex, "3000.01") is ErrorCode.MARGIN_NOT_SUFFICIENT
    ex.transfer_margin(BTC, D("3000"))
    assert ex.position(BTC).isolated_wallet == D("9000")


def test_remove_at_the_entry_price_down_to_the_initial_margin() -> None:
    # Add 1,000 (iso 7,000); at mark 60,000 removable = 7,000 − 60,000 / 10 = 1,000.
    ex = _iso_long_10x()
    ex.transfer_margin(BTC, D("1000"))
    assert _code(ex, "-1000.01") is ErrorCode.ISOLATED_BALANCE_INSUFFICIENT
    ex.transfer_margin(BTC, D("-1000"))
    assert (ex.account().cross_wallet_balance, ex.position(BTC).isolated_wallet) == (D("4000"), D("6000"))


def test_remove_counts_the_unrealized_loss() -> None:
    # Iso 7,000; mark 59,000: UPNL −1,000, IM at mark 59,000 / 10 = 5,900 → removable 7,000 − 1,000 − 5,900 = 100
    # (Binance's min(7,000 − MM 236, 100) is the same 100). Unrealized profit is never withdrawable this way.
    ex = _iso_long_10x()
    ex.transfer_margin(BTC, D("1000"))
    ex.on_tick(BTC, 2, D("59000"))
    assert _code(ex, "-100.01") is ErrorCode.ISOLATED_BALANCE_INSUFFICIENT
    events = ex.transfer_margin(BTC, D("-100"))
    assert of_type(events, MarginTransferred)[0].isolated_wallet == D("6900")
    assert ex.account().cross_wallet_balance == D("3100")


def test_remove_from_a_short_in_loss() -> None:
    # Isolated short 1 @ 60,000 at 10x (iso 6,000) + 1,000 added; mark 61,000: UPNL −1,000, IM 6,100
    # → removable 7,000 − 1,000 − 6,100 = −100: nothing can be removed.
    ex = exact_exchange("10000", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 10)
    assert ex.submit(OrderRequest.market(BTC, Side.SELL, D("1"))).ok
    ex.transfer_margin(BTC, D("1000"))
    ex.on_tick(BTC, 2, D("61000"))
    assert _code(ex, "-0.01") is ErrorCode.ISOLATED_BALANCE_INSUFFICIENT
    # At 60,500: UPNL −500, IM 6,050 → removable 450.
    ex.on_tick(BTC, 3, D("60500"))
    assert _code(ex, "-450.01") is ErrorCode.ISOLATED_BALANCE_INSUFFICIENT
    ex.transfer_margin(BTC, D("-450"))
    assert ex.position(BTC).isolated_wallet == D("6550")


def test_transfers_need_an_isolated_position_and_a_non_zero_amount() -> None:
    ex = exact_exchange("10000", fees=False, mode=MarginMode.CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    with pytest.raises(BinanceError) as err:
        ex.transfer_margin(BTC, D("10"))  # no position
    assert err.value.code is ErrorCode.INVALID_PARAMETER and "symbol" in err.value.rejection.msg
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("1"))).ok
    with pytest.raises(BinanceError) as err:
        ex.transfer_margin(BTC, D("10"))  # cross
    assert err.value.code is ErrorCode.INVALID_PARAMETER and "amount" in err.value.rejection.msg
    iso = _iso_long_10x()
    with pytest.raises(BinanceError) as err:
        iso.transfer_margin(BTC, D("0"))
    assert err.value.code is ErrorCode.INVALID_PARAMETER


def test_a_transfer_is_rounded_to_8_decimals_and_moves_exactly_that() -> None:
    ex = _iso_long_10x()
    ex.transfer_margin(BTC, D("0.123456789"))  # → 0.12345679
    assert ex.position(BTC).isolated_wallet == D("6000.12345679")
    assert ex.account().cross_wallet_balance == D("3999.87654321")
    assert ex.account().wallet_balance == D("10000")


def test_removing_margin_can_never_bring_the_mark_beyond_the_new_lp() -> None:
    # After removing the most allowed the position still stands: removal keeps iso ≥ IM + loss, and IM (10%) is far
    # above MM (0.4%), so the new LP stays below the mark (no PositionLiquidated).
    ex = _iso_long_10x()
    ex.on_tick(BTC, 2, D("59000"))
    ex.transfer_margin(BTC, D("2000"))  # iso 8,000; removable 8,000 − 1,000 − 5,900 = 1,100
    events = ex.transfer_margin(BTC, D("-1100"))
    assert of_type(events, PositionLiquidated) == []
    lp = ex.position(BTC).liquidation_price
    assert lp is not None and lp < D("59000")
