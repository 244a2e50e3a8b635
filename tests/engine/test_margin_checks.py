"""Margin that is not there (issue 6, point 8): moving margin, posting isolated margin and changing leverage are
checked as Binance checks them (reference §1.2, §1.5, §3.4, §5).

Every number below is worked by hand in the comments from the reference: BTCUSDT and ETHUSDT tier 1 (MMR 0.4%,
cum 0, 150x up to 300,000 notional; 100x up to 800,000), maker 0.02%, taker 0.05%. ``exact_exchange`` fills market
orders exactly at the last price (no spread, no volume impact) unless said otherwise; replay ticks use mark = last.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hexdesk.engine import (
    BinanceError,
    Exchange,
    FundingSettled,
    InsuranceFundCovered,
    MarginMode,
    MarginTransferred,
    OrderAccepted,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderRequest,
    OrderType,
    PositionLiquidated,
    Side,
    TimeInForce,
)
from tests.engine._exchange_helpers import BTC, ETH, D, exact_exchange, of_type

GTC = TimeInForce.GTC


def _cross_btc_long_in_profit(wallet: str = "10000") -> Exchange:
    """Cross BTC long 1 @ 60,000 (20x), now marked at 80,000; ETH isolated at 10x, last 3,000.

    Fee 1 × 60,000 × 0.05% = 30: cross wallet 9,970. At 80,000: UPNL +20,000, cross MM 80,000 × 0.4% = 320.
    """
    ex = exact_exchange(wallet)
    ex.set_margin_mode(BTC, MarginMode.CROSS)
    ex.set_leverage(ETH, 10)
    ex.on_tick(BTC, 0, D(60000))
    ex.on_tick(ETH, 0, D(3000))
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D(1))).ok
    ex.on_tick(BTC, 60_000, D(80000))
    return ex


# ---------------------------------------------------------------------------------- (a) transfer_margin in


def test_transfer_into_isolated_draws_only_on_the_cross_wallet_without_unrealized_profit() -> None:
    ex = _cross_btc_long_in_profit()
    # Isolated ETH long 1 @ 3,000 at 10x: posts 300, fee 1.5 -> cross wallet 9,970 − 300 − 1.5 = 9,668.50.
    assert ex.submit(OrderRequest.market(ETH, Side.BUY, D(1))).ok
    assert ex.account().cross_wallet_balance == D("9668.5")
    # The available balance still counts the +20,000 profit: 9,668.5 + 20,000 − 80,000 / 20 = 25,668.50 ...
    assert ex.account().available_balance == D("25668.5")
    # ... but only 9,668.50 − 320 (cross MM) = 9,348.50 can move: unrealized profit is not transferable.
    n = len(ex.events)
    for too_much in (D(20000), D("9348.51")):
        with pytest.raises(BinanceError) as err:
            ex.transfer_margin(ETH, too_much)
        assert err.value.rejection.code == -2019
    assert len(ex.events) == n and ex.account().cross_wallet_balance == D("9668.5")  # nothing changed
    events = ex.transfer_margin(ETH, D("9348.5"))
    assert of_type(events, MarginTransferred)[0].amount == D("9348.5")
    assert ex.account().cross_wallet_balance == D(320)  # exactly the cross maintenance margin is left
    assert ex.position(ETH).isolated_wallet == D("9648.5")  # 300 + 9,348.50


def test_a_cross_liquidation_after_the_largest_transfer_costs_the_wallet_and_no_silent_fund_payment() -> None:
    ex = _cross_btc_long_in_profit()
    assert ex.submit(OrderRequest.market(ETH, Side.BUY, D(1))).ok
    ex.transfer_margin(ETH, D("9348.5"))
    # BTC to 59,000: cross margin balance 320 + (59,000 − 60,000) = −680 ≤ MM 236: liquidated. The trader loses
    # the cross wallet (320), never more, and the wallet never went below 0, so the fund pays nothing to it:
    # no InsuranceFundCovered, and no realized profit that would hide a payment (realized = −320).
    events = ex.on_tick(BTC, 120_000, D(59000))
    (liq,) = of_type(events, PositionLiquidated)
    assert liq.symbol == BTC and liq.fill.realized_pnl == D(-320)
    assert not of_type(ex.events, InsuranceFundCovered)
    assert ex.account().cross_wallet_balance == 0
    # Money conserved: 10,000 − fees (30 + 1.5) − 320 = 9,648.50, all of it in ETH's isolated wallet.
    assert ex.account().wallet_balance == D("9648.5") == ex.position(ETH).isolated_wallet


def test_transfer_in_keeps_room_for_isolated_resting_orders() -> None:
    ex = exact_exchange("1000")
    ex.set_margin_mode(ETH, MarginMode.CROSS)
    ex.on_tick(BTC, 0, D(60000))
    ex.on_tick(ETH, 0, D(3000))
    # Cross ETH long 1 @ 3,000 (20x): fee 1.5 -> cross wallet 998.50.
    assert ex.submit(OrderRequest.market(ETH, Side.BUY, D(1))).ok
    # Isolated BTC 20x long 0.01: IM 30, fee 0.30 -> cross wallet 968.20.
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.01"))).ok
    # An isolated BTC bid 0.05 @ 58,000 reserves 2,900 / 20 = 145, which leaves the cross wallet when it fills.
    assert ex.submit(OrderRequest.limit(BTC, Side.BUY, D("0.05"), D(58000), GTC)).ok
    # ETH to 3,300: UPNL +300, cross MM 3,300 × 0.4% = 13.20. Available 968.20 + 300 − 165 − 145 = 958.20, but
    # free to move: 968.20 − 13.20 − 145 = 810.
    ex.on_tick(ETH, 60_000, D(3300))
    assert ex.account().available_balance == D("958.2")
    with pytest.raises(BinanceError) as err:
        ex.transfer_margin(BTC, D("810.01"))
    assert err.value.rejection.code == -2019
    ex.transfer_margin(BTC, D(810))
    assert ex.account().cross_wallet_balance == D("158.2")  # the 145 for the bid and the 13.20 of MM stay


# ------------------------------------------------------------------------ (b) isolated margin posted in full


def test_isolated_order_paid_by_cross_unrealized_profit_is_rejected() -> None:
    ex = _cross_btc_long_in_profit()
    # 60 ETH @ 3,000 at 10x: IM 18,000, fee 90. Available 9,970 + 20,000 − 4,000 = 25,970 would allow it, but the
    # cross wallet can post only 9,970 − 320 = 9,650.
    result = ex.submit(OrderRequest.market(ETH, Side.BUY, D(60)))
    assert not result.ok and result.rejection is not None and result.rejection.code == -2019
    assert ex.position(ETH).quantity == 0 and ex.account().cross_wallet_balance == D(9970)
    # 33 ETH: 33 × 3,000 × (1/10 + 0.05%) = 9,949.50 > 9,650: rejected. 32 ETH: 32 × 301.5 = 9,648 ≤ 9,650.
    assert ex.submit(OrderRequest.market(ETH, Side.BUY, D(33))).rejection.code == -2019  # type: ignore[union-attr]
    assert ex.submit(OrderRequest.market(ETH, Side.BUY, D(32))).ok
    pos = ex.position(ETH)
    # Posted in full: 32 × 3,000 / 10 = 9,600; the cross wallet pays it and the fee 48: 9,970 − 9,648 = 322.
    assert pos.isolated_wallet == D(9600)
    assert ex.account().cross_wallet_balance == D(322)
    # So the LP is the 10x one: (32 × 3,000 − 9,600) / (32 × 0.996) = 86,400 / 31.872 = 2,710.843…, 9.6% away
    # (the 9,880-for-18,000 fill of the issue liquidated 5.1% away).
    assert pos.liquidation_price is not None
    assert pos.liquidation_price.quantize(D("0.01")) == D("2710.84")


def test_an_isolated_flip_counts_the_margin_its_close_hands_back() -> None:
    ex = _cross_btc_long_in_profit()  # cross wallet 9,970
    # Isolated ETH long 20 @ 3,000 at 10x (bought while BTC was already at 80,000): IM 6,000, fee 30 -> 3,940.
    assert ex.submit(OrderRequest.market(ETH, Side.BUY, D(20))).ok
    assert ex.account().cross_wallet_balance == D(3940)
    # Sell 40: closes the 20 and opens a 20 short. The short's cost (market short: max(3,000 × 1.0015, 3,000)
    # = 3,004.50) is 20 × 3,004.5 / 10 = 6,009 plus fee 30.045, more than the cross wallet can post alone
    # (3,940 − 320 = 3,620), but the close first hands back the 6,000 of isolated margin (PnL 0) less its fee 30.
    assert ex.submit(OrderRequest.market(ETH, Side.SELL, D(40))).ok
    pos = ex.position(ETH)
    assert pos.quantity == -20 and pos.isolated_wallet == D(6000)  # 20 × 3,000 / 10, in full
    # 3,940 + 6,000 back − 6,000 posted − fee 40 × 3,000 × 0.05% (60) = 3,880.
    assert ex.account().cross_wallet_balance == D(3880)


def test_slippage_beyond_the_validated_price_is_checked_before_the_order_is_accepted() -> None:
    # The default fill model takes one tick (0.10) of spread: a market buy of 1 BTC at last 60,000 fills at
    # 60,000.1. IM 60,000.1 / 20 = 3,000.005, fee 60,000.1 × 0.05% = 30.00005: 3,030.00505 in all, while
    # validation prices it at the last price: 3,000 + 30 = 3,030.
    for wallet, accepted in (("3030", False), ("3030.01", True)):
        ex = Exchange(wallet_balance=D(wallet))
        ex.on_tick(BTC, 0, D(60000))
        result = ex.submit(OrderRequest.market(BTC, Side.BUY, D(1)))
        assert result.ok is accepted
        if not accepted:
            assert result.rejection is not None and result.rejection.code == -2019
            assert not of_type(result.events, OrderAccepted)  # refused before it entered the book
        else:
            assert ex.position(BTC).isolated_wallet == D("3000.005")


def test_resting_isolated_limit_that_can_no_longer_be_afforded_expires_when_it_would_fill() -> None:
    ex = exact_exchange("10000")
    ex.set_margin_mode(BTC, MarginMode.CROSS)
    ex.set_leverage(ETH, 10)
    ex.on_tick(BTC, 0, D(60000))
    ex.on_tick(ETH, 0, D(3000))
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D(1))).ok  # cross wallet 9,970
    # Isolated ETH bid 20 @ 2,900 at 10x: IM 5,800, maker fee 11.60; free 9,970 − 240 (MM at 60,000) = 9,730.
    placed = ex.submit(OrderRequest.limit(ETH, Side.BUY, D(20), D(2900), GTC))
    assert placed.ok and placed.order is not None
    # BTC falls to 56,000: UPNL −4,000, MM 224 -> free 9,970 − 4,000 − 224 = 5,746 < 5,811.60. (Cross margin
    # balance 5,970 stays far above its MM: no liquidation.)
    assert not ex.on_tick(BTC, 60_000, D(56000))
    # ETH trades through 2,900: the bid would fill, but its margin is no longer there: it expires unfilled.
    events = ex.on_tick(ETH, 60_000, D(2850))
    (expired,) = of_type(events, OrderExpired)
    assert expired.order.order_id == placed.order.order_id and expired.reason == "margin_insufficient"
    assert not of_type(events, OrderFilled)
    assert ex.position(ETH).quantity == 0 and ex.account().cross_wallet_balance == D(9970)


def test_isolated_stop_that_can_no_longer_be_afforded_expires_at_trigger() -> None:
    ex = exact_exchange("10000")
    ex.set_margin_mode(BTC, MarginMode.CROSS)
    ex.set_leverage(BTC, 100)
    ex.set_leverage(ETH, 10)
    ex.on_tick(BTC, 0, D(60000))
    ex.on_tick(ETH, 0, D(3000))
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D(1))).ok  # cross 100x: IM 600; cross wallet 9,970
    # STOP_MARKET buy 25 ETH at 3,100 (isolated 10x): cost at the stop 7,750, fee 38.75. Available
    # 9,970 − 600 = 9,370 and free 9,970 − 240 = 9,730 both cover it.
    stop = OrderRequest(ETH, Side.BUY, OrderType.STOP_MARKET, quantity=D(25), stop_price=D(3100))
    assert ex.submit(stop).ok
    # BTC to 80,000 (UPNL +20,000, MM 320), then 10 ETH bought now: IM 3,000, fee 15 -> cross wallet 6,955.
    ex.on_tick(BTC, 60_000, D(80000))
    assert ex.submit(OrderRequest.market(ETH, Side.BUY, D(10))).ok
    # At the trigger the available balance (6,955 + 20,000 − 800 = 26,155) would still cover 7,750, but the cross
    # wallet can post only 6,955 − 320 = 6,635 < 7,788.75: the stop expires.
    events = ex.on_tick(ETH, 120_000, D(3150))
    (expired,) = of_type(events, OrderExpired)
    assert expired.reason == "margin_insufficient"
    assert ex.position(ETH).quantity == 10 and ex.position(ETH).isolated_wallet == D(3000)


# --------------------------------------------------------------------------- (c) set_leverage counts orders


def test_leverage_cap_covers_the_position_plus_the_open_orders() -> None:
    ex = exact_exchange("20000")
    ex.on_tick(BTC, 0, D(60000))
    # A resting bid 6 BTC @ 59,000 at 20x (IM 17,700): it could make a 354,000 position.
    assert ex.submit(OrderRequest.limit(BTC, Side.BUY, D(6), D(59000), GTC)).ok
    # 150x allows 300,000 of notional (§1.6a): refused -2027, leverage unchanged.
    with pytest.raises(BinanceError) as err:
        ex.set_leverage(BTC, 150)
    assert err.value.rejection.code == -2027
    assert ex.leverage(BTC) == 20
    # 100x allows 800,000: accepted.
    ex.set_leverage(BTC, 100)
    assert ex.leverage(BTC) == 100


def test_leverage_cap_adds_orders_to_the_position_on_the_side_they_grow_it() -> None:
    ex = exact_exchange("20000")
    ex.on_tick(BTC, 0, D(60000))
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D(4))).ok  # 240,000 at the mark
    assert ex.submit(OrderRequest.limit(BTC, Side.BUY, D("1.5"), D(59000), GTC)).ok  # + 88,500 = 328,500
    # A reduce-only ask does not count: it can only shrink the position.
    assert ex.submit(OrderRequest.limit(BTC, Side.SELL, D(4), D(61000), GTC, reduce_only=True)).ok
    with pytest.raises(BinanceError) as err:
        ex.set_leverage(BTC, 150)  # 328,500 > 300,000
    assert err.value.rejection.code == -2027
    ex.cancel(BTC, ex.open_orders(BTC)[0].order_id)  # the bid
    ex.set_leverage(BTC, 150)  # 240,000 ≤ 300,000
    assert ex.leverage(BTC) == 150


def test_lower_leverage_that_the_margin_cannot_carry_for_resting_orders_is_refused() -> None:
    ex = exact_exchange("1000")
    ex.on_tick(BTC, 0, D(60000))
    # Isolated bid 0.3 BTC @ 58,900 = 17,670 at 20x: IM 883.50 (+ maker fee 3.534) ≤ 1,000.
    assert ex.submit(OrderRequest.limit(BTC, Side.BUY, D("0.3"), D(58900), GTC)).ok
    # At 1x it would need 17,670; at 17x 17,670 / 17 = 1,039.41: more than the 1,000 wallet: -2028.
    for leverage in (1, 17):
        with pytest.raises(BinanceError) as err:
            ex.set_leverage(BTC, leverage)
        assert err.value.rejection.code == -2028
        assert ex.leverage(BTC) == 20
    # 18x: 17,670 / 18 = 981.67 ≤ 1,000.
    ex.set_leverage(BTC, 18)
    ex.on_tick(BTC, 60_000, D(58800))  # trades through the bid: it fills as maker
    pos = ex.position(BTC)
    assert pos.quantity == D("0.3") and pos.leverage == 18
    # Posted in full: 17,670 / 18 = 981.666… -> 981.66666667; cross wallet 1,000 − 981.66666667 − 3.534.
    assert pos.isolated_wallet == D("981.66666667")
    assert ex.account().cross_wallet_balance == D("14.79933333")


def test_lower_cross_leverage_needs_the_margin_for_the_position() -> None:
    ex = exact_exchange("1000")
    ex.set_margin_mode(BTC, MarginMode.CROSS)
    ex.on_tick(BTC, 0, D(60000))
    # Cross long 0.2 BTC at 20x: IM 600, fee 6 -> wallet 994.
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.2"))).ok
    # At 11x the position needs 12,000 / 11 = 1,090.91 > 994: -2028; at 13x 923.08 ≤ 994.
    with pytest.raises(BinanceError) as err:
        ex.set_leverage(BTC, 11)
    assert err.value.rejection.code == -2028
    ex.set_leverage(BTC, 13)
    assert ex.leverage(BTC) == 13


# ----------------------------------------------------------------------------- (e) removing isolated margin


def _isolated_btc_long(leverage: int) -> Exchange:
    ex = exact_exchange("10000")
    ex.set_leverage(BTC, leverage)
    ex.on_tick(BTC, 0, D(60000))
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D(1))).ok
    return ex


def _refused(ex: Exchange, amount: Decimal) -> int:
    with pytest.raises(BinanceError) as err:
        ex.transfer_margin(BTC, amount)
    return err.value.rejection.code


def test_removable_margin_counts_unrealized_profit_toward_the_initial_margin() -> None:
    ex = _isolated_btc_long(10)  # isolated wallet 6,000
    ex.on_tick(BTC, 60_000, D(66000))
    # min(6,000 − 66,000 × 0.4%, 6,000 + 6,000 − 66,000 / 10) = min(5,736, 5,400) = 5,400.
    assert _refused(ex, D("-5400.01")) == -4051
    ex.transfer_margin(BTC, D(-5400))
    assert ex.position(BTC).isolated_wallet == D(600)


def test_removable_margin_keeps_the_maintenance_margin() -> None:
    ex = _isolated_btc_long(20)  # isolated wallet 3,000
    ex.on_tick(BTC, 60_000, D(70000))
    # min(3,000 − 70,000 × 0.4%, 3,000 + 10,000 − 70,000 / 20) = min(2,720, 9,500) = 2,720.
    assert _refused(ex, D("-2720.01")) == -4051
    ex.transfer_margin(BTC, D(-2720))
    assert ex.position(BTC).isolated_wallet == D(280)


def test_removable_margin_after_a_loss() -> None:
    ex = _isolated_btc_long(10)  # isolated wallet 6,000
    ex.on_tick(BTC, 60_000, D(59000))
    # min(6,000 − 236, 6,000 − 1,000 − 5,900) = −900: nothing can be removed.
    assert _refused(ex, D("-0.01")) == -4051
    ex.transfer_margin(BTC, D(1000))  # wallet 7,000: min(6,764, 100) = 100
    assert _refused(ex, D("-100.01")) == -4051
    ex.transfer_margin(BTC, D(-100))
    assert ex.position(BTC).isolated_wallet == D(6900)


# ------------------------------------------------------------------------------- (f) cost of a market order


def _cross_btc(wallet: str, last: str, mark: str) -> Exchange:
    ex = exact_exchange(wallet, mode=MarginMode.CROSS)
    ex.on_tick(BTC, 0, D(last), D(mark))
    return ex


@pytest.mark.parametrize(
    ("side", "last", "mark", "cost"),
    [
        # SELL: max(60,000 × 1.0015, 60,000) = 60,090; 1 BTC / 20 = 3,004.50, no open loss.
        (Side.SELL, "60000", "60000", "3004.5"),
        # SELL with the mark above: max(60,090, 60,200) = 60,200 -> 3,010.
        (Side.SELL, "60000", "60200", "3010"),
        # BUY at the last price: IM 3,000 + open loss 1 × (60,000 − 59,900) = 3,100 (§1.5).
        (Side.BUY, "60000", "59900", "3100"),
        # BUY with the mark above the last price: no open loss, 3,000.
        (Side.BUY, "60000", "60200", "3000"),
    ],
)
def test_market_order_cost_uses_binances_price(side: Side, last: str, mark: str, cost: str) -> None:
    # Cross, so the check is the cost against the available balance (= the wallet here), fees not included.
    poor = _cross_btc(str(D(cost) - D("0.01")), last, mark)
    result = poor.submit(OrderRequest.market(BTC, side, D(1)))
    assert result.rejection is not None and result.rejection.code == -2019
    enough = _cross_btc(cost, last, mark)
    assert enough.submit(OrderRequest.market(BTC, side, D(1))).ok


def test_a_sell_stop_market_is_priced_as_a_market_short_at_its_trigger() -> None:
    # STOP_MARKET sell 1 BTC at 59,000: as at its trigger (last = mark = 59,000): 59,000 × 1.0015 / 20
    # = 2,954.425.
    stop = OrderRequest(BTC, Side.SELL, OrderType.STOP_MARKET, quantity=D(1), stop_price=D(59000))
    poor = _cross_btc("2954.42", "60000", "60000")
    assert poor.submit(stop).rejection.code == -2019  # type: ignore[union-attr]
    assert _cross_btc("2954.43", "60000", "60000").submit(stop).ok


# ------------------------------------------------------------------------------------------------ property


def _money_moved(events: tuple) -> Decimal:
    """What the events of one call say the total wallet changed by."""
    realized = sum((e.fill.realized_pnl - e.fill.fee for e in events if isinstance(e, OrderFilled)), D(0))
    funding = sum((e.amount for e in events if isinstance(e, FundingSettled)), D(0))
    cover = sum((e.amount for e in events if isinstance(e, InsuranceFundCovered)), D(0))
    return realized + funding + cover


_steps = st.lists(
    st.one_of(
        st.tuples(st.just("tick"), st.sampled_from([BTC, ETH]), st.integers(-2500, 2500)),
        st.tuples(st.just("market"), st.sampled_from([BTC, ETH]), st.sampled_from(list(Side)), st.integers(1, 100)),
        st.tuples(st.just("limit"), st.sampled_from([BTC, ETH]), st.sampled_from(list(Side)), st.integers(1, 100),
                  st.integers(-300, 300)),
        st.tuples(st.just("transfer"), st.sampled_from([BTC, ETH]), st.integers(-120, 120)),
        st.tuples(st.just("leverage"), st.sampled_from([BTC, ETH]), st.integers(1, 150)),
        st.tuples(st.just("funding"), st.sampled_from([BTC, ETH]), st.integers(-30, 30)),
    ),
    min_size=5,
    max_size=40,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    btc_mode=st.sampled_from(list(MarginMode)),
    eth_mode=st.sampled_from(list(MarginMode)),
    wallet=st.sampled_from([D(1000), D(10000)]),
    opening=st.tuples(st.sampled_from(list(Side)), st.integers(1, 100), st.sampled_from(list(Side)),
                      st.integers(1, 100)),
    steps=_steps,
)
# The case: cross BTC long 1 in profit (+25%), 60% of wallet + profit moved into isolated ETH.
@example(
    btc_mode=MarginMode.CROSS, eth_mode=MarginMode.ISOLATED, wallet=D(10000),
    opening=(Side.BUY, 100, Side.BUY, 10), steps=[("tick", BTC, 2500), ("transfer", ETH, 60), ("tick", BTC, -2500)],
)
def test_no_sequence_makes_the_cross_wallet_negative_without_a_recorded_cover(
    btc_mode: MarginMode, eth_mode: MarginMode, wallet: Decimal, opening: tuple, steps: list
) -> None:
    """After every call the cross wallet and every isolated wallet are ≥ 0, and the total wallet moved by exactly
    what that call's events say (realized PnL − fees + funding + InsuranceFundCovered). So a balance that would
    go negative is made good only by an InsuranceFundCovered of that amount: money that appears without one (a
    transfer from unrealized profit, a liquidation that repays a negative wallet) breaks the identity, and one
    that is not made good leaves a negative wallet. Transfers are sized against the cross wallet plus its
    unrealized profit, orders up to several times the wallet, so the over-transfer of point 8 (a) is tried."""
    ex = Exchange(wallet_balance=wallet, default_leverage=20)
    for symbol, mode in ((BTC, btc_mode), (ETH, eth_mode)):
        if mode is MarginMode.CROSS:
            ex.set_margin_mode(symbol, mode)
    ts = 0
    ex.on_tick(BTC, ts, D(60000))
    ex.on_tick(ETH, ts, D(3000))
    btc_side, btc_units, eth_side, eth_units = opening
    prefix = [("market", BTC, btc_side, btc_units), ("market", ETH, eth_side, eth_units)]
    for kind, symbol, *args in prefix + steps:
        before = ex.account().wallet_balance
        last = ex.last_price(symbol)
        assert last is not None
        inst = ex.instruments[symbol]
        unit = D("0.01") if symbol == BTC else D("0.1")
        events: tuple = ()
        try:
            if kind == "tick":
                ts += 3 * 3_600_000
                events = ex.on_tick(symbol, ts, inst.round_price(last * (1 + D(args[0]) / 10000)))
            elif kind == "market":
                events = ex.submit(OrderRequest.market(symbol, args[0], args[1] * unit)).events
            elif kind == "limit":
                side, units, bps = args
                price = inst.round_price(last * (1 + D(bps) / 10000))
                events = ex.submit(OrderRequest.limit(symbol, side, units * unit, price, GTC)).events
            elif kind == "transfer":
                account = ex.account()
                base = account.cross_wallet_balance + max(D(0), account.unrealized_pnl)
                amount = (base * args[0] / 100).quantize(D("0.01"))
                events = ex.transfer_margin(symbol, amount) if amount else ()
            elif kind == "leverage":
                events = ex.set_leverage(symbol, args[0])
            else:
                ex.set_funding_rate(symbol, D(args[0]) / 10000)
        except BinanceError:
            events = ()
        if of_type(events, OrderRejected):
            assert ex.account().wallet_balance == before
        account = ex.account()
        assert account.cross_wallet_balance >= 0
        assert all(p.isolated_wallet >= 0 for p in ex.positions())
        assert account.wallet_balance - before == _money_moved(events)
