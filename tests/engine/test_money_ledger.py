"""Every money path of a fill, from numbers worked out by hand (reference §1.5 IM = notional / leverage, §2 fees
0.02% maker / 0.05% taker; docs/engine.md: fees from the cross wallet, isolated wallet = IM posted, a reduction
releases its pro-rata share of the isolated wallet plus its realized PnL).

The arithmetic is in the comments; no expected value is read back from the engine.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from hexdesk.engine import (
    DefaultFillModel,
    ErrorCode,
    Exchange,
    InsuranceFundCovered,
    MarginMode,
    OrderFilled,
    OrderRequest,
    PositionLiquidated,
    Side,
    default_instruments,
)
from tests.engine._exchange_helpers import BTC, ETH, D, exact_exchange, of_type

BUY, SELL = Side.BUY, Side.SELL
ISO, CROSS = MarginMode.ISOLATED, MarginMode.CROSS


def _fills(events: tuple) -> list:
    return [e.fill for e in of_type(events, OrderFilled)]


def _market(ex: Exchange, side: Side, qty: str, symbol: str = BTC) -> tuple:
    result = ex.submit(OrderRequest.market(symbol, side, D(qty)))
    assert result.ok, result.rejection
    return result.events


def _wallets(ex: Exchange, symbol: str = BTC) -> tuple[Decimal, Decimal]:
    """(cross wallet, this symbol's isolated wallet)."""
    return ex.account().cross_wallet_balance, ex.position(symbol).isolated_wallet


# --------------------------------------------------------------------------------------------------------------
# The survivor ledger.py:33 `abs(pos)` -> `pos`: closing part of a short through a fill.


def test_partial_buy_back_of_an_isolated_short_releases_margin_and_profit() -> None:
    # Short 1 BTC @ 60,000 at 10x, fees off: IM 60,000 / 10 = 6,000 → cross 10,000 − 6,000 = 4,000, iso 6,000.
    ex = exact_exchange("10000", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 10)
    _market(ex, SELL, "1")
    assert _wallets(ex) == (D("4000"), D("6000"))
    # Buy back 0.4 @ 59,000: realized = 0.4 × (60,000 − 59,000) = +400 (a short gains when the price falls);
    # released 6,000 × 0.4 / 1 = 2,400 → cross 4,000 + 2,400 + 400 = 6,800, iso 6,000 − 2,400 = 3,600;
    # wallet 6,800 + 3,600 = 10,400.
    ex.on_tick(BTC, 2, D("59000"))
    (fill,) = _fills(_market(ex, BUY, "0.4"))
    assert (fill.side, fill.quantity, fill.price, fill.realized_pnl, fill.fee) == (BUY, D("0.4"), D("59000"), D(400), 0)
    assert _wallets(ex) == (D("6800"), D("3600"))
    assert ex.account().wallet_balance == D("10400")
    pos = ex.position(BTC)
    assert (pos.quantity, pos.entry_price) == (D("-0.6"), D("60000"))


# --------------------------------------------------------------------------------------------------------------
# Open, add, partial close, full close and flip; long and short; isolated and cross. 10x, wallet 10,000, taker fee
# 0.05%. The same four steps for every case:
#   open 0.5 @ 60,000: fee 30,000 × 0.0005 = 15;  IM 3,000
#   add  0.5 @ 62,000: fee 31,000 × 0.0005 = 15.5; IM 3,100; entry (30,000 + 31,000) / 1 = 61,000
#   close 0.4 @ 63,000: fee 25,200 × 0.0005 = 12.6; realized ±0.4 × (63,000 − 61,000) = ±800 (long +, short −);
#        isolated: release 6,100 × 0.4 / 1 = 2,440, iso left 3,660
#   then either a full close 0.6 @ 60,000 (fee 36,000 × 0.0005 = 18, realized ±0.6 × (60,000 − 61,000) = ∓600)
#   or a flip of 1.0 @ 60,000 (fee 60,000 × 0.0005 = 30, closes 0.6 realizing ∓600, opens 0.4 @ 60,000, IM 2,400).

# (mode, sign) -> cross / iso wallet after open, after add, after the partial close
STEPS: dict[tuple[MarginMode, int], list[tuple[str, str]]] = {
    # isolated: cross 10,000 − 3,000 − 15 = 6,985; 6,985 − 3,100 − 15.5 = 3,869.5;
    #   long: 3,869.5 + 2,440 + 800 − 12.6 = 7,096.9; short: 3,869.5 + 2,440 − 800 − 12.6 = 5,496.9
    (ISO, 1): [("6985", "3000"), ("3869.5", "6100"), ("7096.9", "3660")],
    (ISO, -1): [("6985", "3000"), ("3869.5", "6100"), ("5496.9", "3660")],
    # cross: 10,000 − 15 = 9,985; − 15.5 = 9,969.5; long + 800 − 12.6 = 10,756.9; short − 800 − 12.6 = 9,156.9
    (CROSS, 1): [("9985", "0"), ("9969.5", "0"), ("10756.9", "0")],
    (CROSS, -1): [("9985", "0"), ("9969.5", "0"), ("9156.9", "0")],
}


def _through_partial_close(mode: MarginMode, sign: int) -> Exchange:
    side, back = (BUY, SELL) if sign > 0 else (SELL, BUY)
    ex = exact_exchange("10000", mode=mode)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 10)
    expected = STEPS[(mode, sign)]
    (fill,) = _fills(_market(ex, side, "0.5"))
    assert (fill.price, fill.fee, fill.realized_pnl) == (D("60000"), D("15"), 0)
    assert _wallets(ex) == tuple(D(x) for x in expected[0])
    ex.on_tick(BTC, 2, D("62000"))
    (fill,) = _fills(_market(ex, side, "0.5"))
    assert (fill.price, fill.fee, fill.realized_pnl) == (D("62000"), D("15.5"), 0)
    assert _wallets(ex) == tuple(D(x) for x in expected[1])
    pos = ex.position(BTC)
    assert (pos.quantity, pos.entry_price) == (sign * D(1), D("61000"))
    ex.on_tick(BTC, 3, D("63000"))
    (fill,) = _fills(_market(ex, back, "0.4"))
    assert (fill.side, fill.price, fill.fee, fill.realized_pnl) == (back, D("63000"), D("12.6"), sign * D(800))
    assert _wallets(ex) == tuple(D(x) for x in expected[2])
    pos = ex.position(BTC)
    assert (pos.quantity, pos.entry_price) == (sign * D("0.6"), D("61000"))
    return ex


@pytest.mark.parametrize("mode", [ISO, CROSS])
@pytest.mark.parametrize("sign", [1, -1], ids=["long", "short"])
def test_open_add_partial_close_then_full_close(mode: MarginMode, sign: int) -> None:
    ex = _through_partial_close(mode, sign)
    back = SELL if sign > 0 else BUY
    ex.on_tick(BTC, 4, D("60000"))
    (fill,) = _fills(_market(ex, back, "0.6"))
    # realized = 0.6 × (60,000 − 61,000) × sign = −600 × sign; fee 18.
    assert (fill.quantity, fill.fee, fill.realized_pnl) == (D("0.6"), D("18"), -600 * sign)
    # Every fee and every realized PnL: 10,000 − (15 + 15.5 + 12.6 + 18) + sign × (800 − 600)
    #   long 10,138.9, short 9,738.9 — all of it back in the cross wallet, the isolated wallet empty.
    total = D("10138.9") if sign > 0 else D("9738.9")
    assert _wallets(ex) == (total, 0)
    assert ex.account().wallet_balance == total
    assert not ex.position(BTC).is_open
    assert ex.account().insurance_fund_cover == 0


@pytest.mark.parametrize("mode", [ISO, CROSS])
@pytest.mark.parametrize("sign", [1, -1], ids=["long", "short"])
def test_open_add_partial_close_then_flip(mode: MarginMode, sign: int) -> None:
    ex = _through_partial_close(mode, sign)
    back = SELL if sign > 0 else BUY
    ex.on_tick(BTC, 4, D("60000"))
    (fill,) = _fills(_market(ex, back, "1"))
    # One fill of 1.0: closes 0.6 (realized −600 × sign) and opens 0.4 the other way at 60,000; fee 30.
    assert (fill.quantity, fill.fee, fill.realized_pnl) == (D("1"), D("30"), -600 * sign)
    pos = ex.position(BTC)
    assert (pos.quantity, pos.entry_price) == (-sign * D("0.4"), D("60000"))
    # Wallet: 10,000 − (15 + 15.5 + 12.6 + 30) + sign × (800 − 600) = long 10,126.9, short 9,726.9.
    total = D("10126.9") if sign > 0 else D("9726.9")
    assert ex.account().wallet_balance == total
    if mode is ISO:
        # The new 0.4 posts 0.4 × 60,000 / 10 = 2,400; the rest is in the cross wallet.
        assert _wallets(ex) == (total - 2400, D("2400"))
    else:
        assert _wallets(ex) == (total, 0)


def test_flip_in_one_fill_from_an_isolated_short_with_fees_off() -> None:
    # Short 1 @ 60,000 at 10x (iso 6,000, cross 4,000); buy 1.5 @ 57,000: closes 1 realizing +3,000, releasing
    # 6,000 → cross 4,000 + 6,000 + 3,000 = 13,000; opens 0.5 long @ 57,000 posting 28,500 / 10 = 2,850
    # → cross 10,150, iso 2,850; wallet 13,000.
    ex = exact_exchange("10000", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 10)
    _market(ex, SELL, "1")
    ex.on_tick(BTC, 2, D("57000"))
    (fill,) = _fills(_market(ex, BUY, "1.5"))
    assert fill.realized_pnl == D("3000")
    assert _wallets(ex) == (D("10150"), D("2850"))
    pos = ex.position(BTC)
    assert (pos.quantity, pos.entry_price) == (D("0.5"), D("57000"))


def test_an_isolated_loss_beyond_the_margin_is_paid_by_the_insurance_fund() -> None:
    # Isolated long 1 @ 60,000 at 150x, fees off: IM 400, bankruptcy 60,000 − 400 = 59,600. The mark stays at
    # 60,000 (live: the mark is its own stream) while the last trades at 59,000, so no liquidation.
    ex = exact_exchange("10000", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 150)
    _market(ex, BUY, "1")
    ex.on_tick(BTC, 2, D("59000"), mark=D("60000"))
    # Sell 0.5 @ 59,000: realized 0.5 × −1,000 = −500; its share of the margin 400 × 0.5 = 200 → −300 left;
    # the remaining iso wallet (200) pays 200 → −100 left, which the insurance fund pays.
    events = _market(ex, SELL, "0.5")
    fill, liquidation_fill = _fills(events)
    assert fill.realized_pnl == D("-500") and liquidation_fill.is_liquidation
    covers = of_type(events, InsuranceFundCovered)
    assert [(c.amount, c.reason) for c in covers] == [(D("100"), "loss_beyond_margin")]
    # The remaining 0.5 has an empty isolated wallet: LP = (0.5 × 60,000 − 0) / (0.5 × 0.996) = 60,240.96 is
    # above the mark, so it is liquidated at once, at its bankruptcy price 60,000 − 0 / 0.5 = 60,000, losing 0.
    (liq,) = of_type(events, PositionLiquidated)
    assert (liq.quantity, liq.bankruptcy_price, liq.margin_lost, liq.liquidation_fee) == (D("0.5"), D("60000"), 0, 0)
    # The trader lost exactly the 400 of margin: wallet 10,000 − 400; the fund paid 100.
    assert ex.account().wallet_balance == D("9600")
    assert ex.account().insurance_fund_cover == D("100")


def test_an_isolated_full_close_beyond_the_margin_is_capped_at_the_margin() -> None:
    # Same position; sell all 1 @ 59,000: realized −1,000, release 400 → −600, paid by the fund.
    ex = exact_exchange("10000", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 150)
    _market(ex, BUY, "1")
    ex.on_tick(BTC, 2, D("59000"), mark=D("60000"))
    events = _market(ex, SELL, "1")
    assert [(c.amount, c.reason) for c in of_type(events, InsuranceFundCovered)] == [(D("600"), "loss_beyond_margin")]
    assert _wallets(ex) == (D("9600"), 0)


# --------------------------------------------------------------------------------------------------------------
# Fees from each wallet (ledger.py:78-82).


def test_isolated_fee_comes_from_the_cross_wallet_so_the_isolated_wallet_is_the_initial_margin() -> None:
    # Isolated long 0.1 @ 60,000 at 20x: IM 6,000 / 20 = 300; fee 6,000 × 0.0005 = 3 from the cross wallet:
    # cross 10,000 − 300 − 3 = 9,697, iso 300.
    ex = exact_exchange("10000")
    ex.on_tick(BTC, 1, D("60000"))
    _market(ex, BUY, "0.1")
    assert _wallets(ex) == (D("9697"), D("300"))


def test_isolated_fee_comes_from_the_isolated_wallet_when_the_cross_wallet_is_empty() -> None:
    # The fee falls on the isolated wallet only when the cross wallet cannot pay it. Since an isolated fill must
    # post its full margin plus its fee from the cross wallet (-2019 otherwise), an *opening* fill can no longer
    # empty it; a reduction can, when the last price has run far from the mark (live feeds), so the position is
    # not liquidated (LP is on the mark) but the close realizes nearly all of the released margin.
    # Wallet 60.6; isolated long 0.02 @ 60,000 at 20x: IM 1,200 / 20 = 60, fee 1,200 × 0.0005 = 0.6: needs
    # 60.6 ≤ 60.6 → cross 0, iso 60. LP = (1,200 − 60) / (0.02 × 0.996) = 57,228.9..., mark stays at 60,000.
    ex = exact_exchange("60.6")
    ex.on_tick(BTC, 1, D("60000"))
    _market(ex, BUY, "0.02")
    assert _wallets(ex) == (0, D("60"))
    # Last 57,010, mark 60,000: sell 0.01 (half). Realized 0.01 × (57,010 − 60,000) = −29.9; released
    # 60 × 0.01 / 0.02 = 30 → back 0.1 → cross 0.1. Fee 0.01 × 57,010 × 0.0005 = 0.28505: the cross wallet pays its
    # 0.1, the isolated wallet the other 0.18505 → iso 30 − 0.18505 = 29.81495, cross 0. Total
    # 60.6 − 0.6 − 29.9 − 0.28505 = 29.81495: no fee paid from nothing, no insurance fund.
    ex.on_tick(BTC, 2, D("57010"), mark=D("60000"))
    (fill,) = _fills(_market(ex, SELL, "0.01"))
    assert (fill.fee, fill.realized_pnl) == (D("0.28505"), D("-29.9"))
    assert _wallets(ex) == (0, D("29.81495"))
    assert ex.account().wallet_balance == D("29.81495")
    assert ex.account().insurance_fund_cover == 0
    assert ex.position(BTC).is_open


def test_a_small_isolated_wallet_still_pays_the_fee_the_cross_wallet_cannot() -> None:
    # The same path for a short at 150x. Opening a market short costs max(last × 1.0015, mark) × qty / leverage
    # (docs/engine.md, issue 6 8f): 60,090 × 0.002 / 150 = 0.8012, plus the fee at that price 0.06009 = 0.86129 —
    # the wallet. The fill posts 120 / 150 = 0.8 and pays 120 × 0.0005 = 0.06 → cross 0.00129, iso 0.8.
    ex = exact_exchange("0.86129")
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 150)
    _market(ex, SELL, "0.002")
    assert _wallets(ex) == (D("0.00129"), D("0.8"))
    # Last 60,390, mark 60,000 (short LP (0.8 + 120) / (0.002 × 1.004) = 60,159.3..., not reached on the mark).
    # Buy back 0.001 reduce-only: realized 0.001 × (60,000 − 60,390) = −0.39; released 0.4 → back 0.01 → cross
    # 0.01129; fee 0.001 × 60,390 × 0.0005 = 0.030195 → the cross wallet pays 0.01129, the isolated wallet
    # 0.018905 → iso 0.4 − 0.018905 = 0.381095, cross 0; not the insurance fund.
    ex.on_tick(BTC, 2, D("60390"), mark=D("60000"))
    result = ex.submit(OrderRequest.market(BTC, BUY, D("0.001"), reduce_only=True))
    assert result.ok, result.rejection
    assert _wallets(ex) == (0, D("0.381095"))
    assert ex.account().insurance_fund_cover == 0


def test_isolated_fee_leaves_a_small_cross_wallet_where_it_is() -> None:
    # Wallet 61.2; isolated long 0.02 @ 60,000 at 20x posts 60 → cross 1.2; fee 0.6 → cross 0.6, iso stays 60
    # (the isolated wallet pays only what the cross wallet cannot).
    ex = exact_exchange("61.2")
    ex.on_tick(BTC, 1, D("60000"))
    _market(ex, BUY, "0.02")
    assert _wallets(ex) == (D("0.6"), D("60"))


def test_a_cross_fee_larger_than_the_cross_wallet_is_paid_by_the_insurance_fund() -> None:
    # Cross, wallet 1: long 0.002 @ 60,000 at 150x: IM 120 / 150 = 0.8 ≤ 1; fee 120 × 0.0005 = 0.06 → 0.94.
    ex = exact_exchange("1", mode=CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 150)
    _market(ex, BUY, "0.002")
    assert ex.account().cross_wallet_balance == D("0.94")
    # The last trades at 59,550 while the mark stays 60,000 (no liquidation). Sell 0.002 @ 59,550: realized
    # 0.002 × −450 = −0.9 → 0.04; fee 119.1 × 0.0005 = 0.05955 → −0.01955: the fund pays 0.01955, wallet 0.
    ex.on_tick(BTC, 2, D("59550"), mark=D("60000"))
    events = _market(ex, SELL, "0.002")
    assert [(c.amount, c.reason) for c in of_type(events, InsuranceFundCovered)] == [(D("0.01955"), "loss")]
    assert ex.account().cross_wallet_balance == 0
    assert ex.account().insurance_fund_cover == D("0.01955")


def test_maker_fee_on_a_resting_bid_filled_by_the_path() -> None:
    # Bid 1 @ 59,000 rests (below last 60,000); the path trades through it (60,000 → 58,900): maker fill at
    # 59,000, fee 59,000 × 0.0002 = 11.8; isolated 20x IM 59,000 / 20 = 2,950 → cross 10,000 − 2,950 − 11.8.
    ex = exact_exchange("10000")
    ex.on_tick(BTC, 1, D("60000"))
    assert ex.submit(OrderRequest.limit(BTC, BUY, D("1"), D("59000"))).ok
    (fill,) = _fills(ex.on_tick(BTC, 2, D("58900")))
    assert (fill.price, fill.quantity, fill.fee) == (D("59000"), D("1"), D("11.8"))
    assert _wallets(ex) == (D("7038.2"), D("2950"))


# --------------------------------------------------------------------------------------------------------------
# The default fill model on the money path (spread 1 tick = 0.1 on BTCUSDT; no volume: no impact).


def test_default_fill_model_round_trip_costs_spread_and_fees() -> None:
    ex = Exchange(wallet_balance=D("10000"))
    ex.on_tick(BTC, 1, D("60000"))
    ex.set_leverage(BTC, 10)
    # BUY 0.5 takes at 60,000 + 0.1 = 60,000.1: fee 30,000.05 × 0.0005 = 15.000025, IM 3,000.005
    # → cross 10,000 − 3,000.005 − 15.000025 = 6,984.994975.
    (fill,) = _fills(_market(ex, BUY, "0.5"))
    assert (fill.price, fill.fee) == (D("60000.1"), D("15.000025"))
    assert _wallets(ex) == (D("6984.994975"), D("3000.005"))
    # SELL 0.5 at 60,000 − 0.1 = 59,999.9: realized 0.5 × (59,999.9 − 60,000.1) = −0.1; fee 29,999.95 × 0.0005
    # = 14.999975 → cross 6,984.994975 + 3,000.005 − 0.1 − 14.999975 = 9,969.9 (= 10,000 − 30 − 0.1).
    (fill,) = _fills(_market(ex, SELL, "0.5"))
    assert (fill.price, fill.realized_pnl, fill.fee) == (D("59999.9"), D("-0.1"), D("14.999975"))
    assert _wallets(ex) == (D("9969.9"), 0)


def test_default_fill_model_with_volume_adds_impact_to_the_price_paid() -> None:
    # Candle volume 100 BTC: one level (10% of 100 = 10 ≥ 0.5); impact 0.005 × 0.5 / 100 = 0.000025
    # → 60,000 + 0.1 + 60,000 × 0.000025 = 60,001.6 (on the 0.1 grid). Fee 30,000.8 × 0.0005 = 15.0004,
    # isolated 20x IM 30,000.8 / 20 = 1,500.04 → cross 10,000 − 1,500.04 − 15.0004 = 8,484.9596.
    ex = Exchange(wallet_balance=D("10000"))
    ex.on_tick(BTC, 1, D("60000"), bar_volume=D("100"))
    (fill,) = _fills(_market(ex, BUY, "0.5"))
    assert (fill.price, fill.fee) == (D("60001.6"), D("15.0004"))
    assert _wallets(ex) == (D("8484.9596"), D("1500.04"))


def test_default_fill_model_instance_matches_the_exchange_default() -> None:
    # The two tests above rely on the Exchange's default being DefaultFillModel() (1 tick spread).
    assert DefaultFillModel().spread_ticks == 1
    assert default_instruments()[BTC].tick_size == D("0.1")


# --------------------------------------------------------------------------------------------------------------
# Resting-order margin (ledger.py:104-120): available = cross wallet + cross UPNL − cross IM − resting orders' IM.


def test_a_resting_bid_reserves_its_initial_margin() -> None:
    # Bid 1 @ 59,000 at 20x: 59,000 / 20 = 2,950 → available 10,000 − 2,950 = 7,050.
    ex = exact_exchange("10000")
    ex.on_tick(BTC, 1, D("60000"))
    assert ex.submit(OrderRequest.limit(BTC, BUY, D("1"), D("59000"))).ok
    account = ex.account()
    assert (account.available_balance, account.open_order_initial_margin) == (D("7050"), D("2950"))


def test_several_resting_orders_reserve_the_sum_of_their_notionals() -> None:
    # Bids 1 @ 59,000 and 0.5 @ 58,000: (59,000 + 29,000) / 20 = 4,400; ETH ask 2 @ 3,100 (20x): 310.
    # available 10,000 − 4,400 − 310 = 5,290. A stop-market reserves nothing until it triggers.
    ex = exact_exchange("10000")
    ex.on_tick(BTC, 1, D("60000"))
    ex.on_tick(ETH, 1, D("3000"))
    assert ex.submit(OrderRequest.limit(BTC, BUY, D("1"), D("59000"))).ok
    assert ex.submit(OrderRequest.limit(BTC, BUY, D("0.5"), D("58000"))).ok
    assert ex.submit(OrderRequest.limit(ETH, SELL, D("2"), D("3100"))).ok
    assert ex.submit(OrderRequest.stop_market(BTC, BUY, D("61000"), D("0.1"))).ok
    account = ex.account()
    assert (account.available_balance, account.open_order_initial_margin) == (D("5290"), D("4710"))


def test_only_the_part_of_a_resting_order_beyond_the_position_reserves_margin() -> None:
    # Cross long 0.6 @ 60,000 at 20x, fees off: position IM 36,000 / 20 = 1,800.
    ex = exact_exchange("10000", fees=False, mode=CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    _market(ex, BUY, "0.6")
    assert ex.account().available_balance == D("8200")
    # Ask 1 @ 61,000: 0.6 of it can reduce, 0.4 opens: 61,000 × 0.4 / 20 = 1,220 → 10,000 − 1,800 − 1,220 = 6,980.
    assert ex.submit(OrderRequest.limit(BTC, SELL, D("1"), D("61000"))).ok
    assert ex.account().available_balance == D("6980")
    # Another ask 0.5 @ 62,000: asks 1.5 for 92,000; opening 1.5 − 0.6 = 0.9 at their average price:
    # 92,000 × 0.9 / 1.5 / 20 = 2,760 → available 10,000 − 1,800 − 2,760 = 5,440.
    assert ex.submit(OrderRequest.limit(BTC, SELL, D("0.5"), D("62000"))).ok
    assert (ex.account().available_balance, ex.account().open_order_initial_margin) == (D("5440"), D("2760"))
    # A bid (same side as the long) adds exposure in full: 0.5 @ 59,000 / 20 = 1,475 → 5,440 − 1,475 = 3,965.
    assert ex.submit(OrderRequest.limit(BTC, BUY, D("0.5"), D("59000"))).ok
    assert ex.account().available_balance == D("3965")


def test_a_reduce_only_resting_order_reserves_nothing() -> None:
    ex = exact_exchange("10000", fees=False, mode=CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    _market(ex, BUY, "0.6")
    assert ex.submit(OrderRequest.limit(BTC, SELL, D("0.6"), D("61000"), reduce_only=True)).ok
    assert ex.account().available_balance == D("8200")  # 10,000 − 1,800, nothing for the reduce-only ask


def test_amending_an_order_does_not_count_its_own_reserved_margin_twice() -> None:
    # Bid 3 @ 59,000 at 20x reserves 8,850 (available 1,150). Moving it to 59,500 needs 178,500 / 20 = 8,925,
    # which fits the 10,000 once the order's own 8,850 is released; it would not fit 1,150.
    ex = exact_exchange("10000")
    ex.on_tick(BTC, 1, D("60000"))
    order = ex.submit(OrderRequest.limit(BTC, BUY, D("3"), D("59000"))).order
    assert order is not None and ex.account().available_balance == D("1150")
    assert ex.amend(BTC, order.order_id, price=D("59500")).ok
    assert ex.account().available_balance == D("1075")  # 10,000 − 8,925
    # A second order must fit what is left: 0.4 @ 59,000 / 20 = 1,180 > 1,075 (-2019).
    rejected = ex.submit(OrderRequest.limit(BTC, BUY, D("0.4"), D("59000")))
    assert rejected.rejection is not None and rejected.rejection.code is ErrorCode.MARGIN_NOT_SUFFICIENT


def test_available_balance_counts_cross_unrealized_pnl_and_cross_initial_margin_at_the_mark() -> None:
    # Cross long 1 @ 60,000, fees off, wallet 10,000. Mark 61,000: UPNL +1,000, IM 61,000 / 20 = 3,050
    # → available 10,000 + 1,000 − 3,050 = 7,950. Mark 58,000: −2,000 and 2,900 → 5,100.
    ex = exact_exchange("10000", fees=False, mode=CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    _market(ex, BUY, "1")
    ex.on_tick(BTC, 2, D("61000"))
    assert ex.account().available_balance == D("7950")
    ex.on_tick(BTC, 3, D("58000"))
    assert ex.account().available_balance == D("5100")
    assert ex.account().cross_unrealized_pnl == D("-2000")


def test_available_balance_of_a_cross_short() -> None:
    # Cross short 1 @ 60,000, fees off: IM 60,000 / 20 = 3,000 (of the size, whatever the side) → 7,000.
    # Mark 61,000: UPNL −1,000, IM 3,050 → 10,000 − 1,000 − 3,050 = 5,950.
    ex = exact_exchange("10000", fees=False, mode=CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    _market(ex, SELL, "1")
    assert ex.account().available_balance == D("7000")
    ex.on_tick(BTC, 2, D("61000"))
    assert ex.account().available_balance == D("5950")


def test_a_cross_fill_may_be_backed_by_unrealized_profit() -> None:
    # Only isolated margin must come out of the cross wallet without unrealized profit; a cross order needs only
    # cost ≤ available balance, which counts the cross UPNL (§1.5, docs/engine.md "Available balance").
    # Cross, fees off, wallet 1,000: long 0.1 @ 60,000 at 20x (IM 300). Mark 80,000: UPNL 0.1 × 20,000 = 2,000,
    # available 1,000 + 2,000 − 0.1 × 80,000 / 20 = 2,600. Buy 0.3 more @ 80,000: IM 24,000 / 20 = 1,200 ≤ 2,600,
    # though more than the wallet could post to an isolated position (1,000 − MM 0.4% × 8,000 = 968).
    # Position 0.4, entry (6,000 + 24,000) / 0.4 = 75,000; the cross wallet stays 1,000 (nothing is posted).
    ex = exact_exchange("1000", fees=False, mode=CROSS)
    ex.on_tick(BTC, 1, D("60000"))
    _market(ex, BUY, "0.1")
    ex.on_tick(BTC, 2, D("80000"))
    _market(ex, BUY, "0.3")
    pos = ex.position(BTC)
    assert (pos.quantity, pos.entry_price) == (D("0.4"), D("75000"))
    assert ex.account().cross_wallet_balance == D("1000")


def test_an_isolated_flip_is_paid_for_by_the_margin_its_closing_part_releases() -> None:
    # Fees off, wallet 451. Cross ETH long 1 @ 3,000 at 20x (IM 150, nothing posted). Isolated BTC long 0.1 @ 60,000
    # at 20x posts 300 → cross wallet 151, iso 300. ETH to 3,600: UPNL +600, so the available balance is
    # 151 + 600 − 3,600 / 20 = 571, but what the cross wallet can post to isolated margin is only
    # 151 − ETH's MM 0.4% × 3,600 = 136.6 (profit is not money yet).
    # Selling 0.2 BTC flips it: the closing 0.1 hands back its 300 (realized 0) before the opening 0.1 posts 300,
    # so it needs 300 − 300 = 0 of the 136.6 (validation: cost at max(60,000 × 1.0015, mark) = 300.45 ≤ 571, and
    # ≤ 136.6 + the release 300 + 0.1 × 90 at that price). Not counting the release, 300 > 136.6: -2019.
    # After: BTC short 0.1 @ 60,000, iso 300, cross wallet still 151.
    ex = exact_exchange("451", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.on_tick(ETH, 1, D("3000"))
    ex.set_margin_mode(ETH, CROSS)
    _market(ex, BUY, "1", ETH)
    _market(ex, BUY, "0.1")
    assert _wallets(ex) == (D("151"), D("300"))
    ex.on_tick(ETH, 2, D("3600"))
    _market(ex, SELL, "0.2")
    pos = ex.position(BTC)
    assert (pos.quantity, pos.entry_price) == (D("-0.1"), D("60000"))
    assert _wallets(ex) == (D("151"), D("300"))


def test_an_isolated_flip_at_a_loss_gets_back_only_the_margin_left_after_it() -> None:
    # Fees off, no spread, wallet 890. Cross ETH long 1 @ 3,000 at 20x (nothing posted); isolated BTC long 0.1 @
    # 60,000 at 10x posts 600 → cross wallet 290. ETH to 3,600 (UPNL +600, MM 14.4): available
    # 290 + 600 − 180 = 710; what the cross wallet can post to isolated margin 290 − 14.4 = 275.6.
    # BTC to 57,000 with a liquidity estimate of 0: a market order fills at the fill model's bound,
    # 57,000 × (1 − 0.2%) = 56,886 (docs/fill-model.md). Selling 0.2 BTC there: the closing 0.1 realizes
    # 0.1 × (56,886 − 60,000) = −311.4, so it hands back 600 − 311.4 = 288.6; the opening 0.1 at 10x needs
    # 5,688.6 / 10 = 568.86: 568.86 − 288.6 = 280.26 > 275.6 → -2019, nothing changes.
    # (Validation at the last price lets it through: cost at 57,000 × 1.0015 = 570.855, release at 57,000
    # 600 − 300 = 300, 570.855 − 300 = 270.855 ≤ 275.6; the fills' real prices decide.)
    ex = exact_exchange("890", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.on_tick(ETH, 1, D("3000"))
    ex.set_margin_mode(ETH, CROSS)
    ex.set_leverage(BTC, 10)
    _market(ex, BUY, "1", ETH)
    _market(ex, BUY, "0.1")
    assert _wallets(ex) == (D("290"), D("600"))
    ex.on_tick(ETH, 2, D("3600"))
    ex.on_tick(BTC, 2, D("57000"), bar_volume=D(0))
    result = ex.submit(OrderRequest.market(BTC, SELL, D("0.2")))
    assert result.rejection is not None and result.rejection.code is ErrorCode.MARGIN_NOT_SUFFICIENT
    assert ex.position(BTC).quantity == D("0.1")
    assert _wallets(ex) == (D("290"), D("600"))
    # 0.19 leaves a short of only 0.09 (needs 511.974 − 288.6 = 223.374 ≤ 275.6): accepted, at 56,886.
    _market(ex, SELL, "0.19")
    pos = ex.position(BTC)
    assert (pos.quantity, pos.entry_price) == (D("-0.09"), D("56886"))


def test_an_isolated_flip_filled_in_levels_releases_the_margin_pro_rata_level_by_level() -> None:
    # As above, but wallet 886 (cross wallet 286 after the BTC long, free 286 − 14.4 = 271.6) and a liquidity
    # estimate of 0.5 BTC a minute: a market order walks levels of 10% × 0.5 = 0.05 BTC, level k paying an
    # impact of 0.005 × 0.05k / 0.5 (docs/fill-model.md), rounded down to the tick for a SELL:
    # 57,000 × (1 − 0.0005) = 56,971.5; × (1 − 0.001) = 56,943; × (1 − 0.0015) = 56,914.5; × (1 − 0.002) = 56,886.
    # Selling 0.2: level 1 closes half the long, releasing 600 × 0.05 / 0.1 = 300 with 0.05 × (56,971.5 − 60,000)
    # = −151.425 → 148.575 back; level 2 closes the rest, 300 − 152.85 = 147.15 back (295.725 in all); levels 3 and
    # 4 open 0.05 at 56,914.5 and 0.05 at 56,886: 284.5725 + 284.43 = 569.0025 at 10x.
    # 569.0025 − 295.725 = 273.2775 > 271.6 → -2019 (validation's 270.855 would have let it through).
    ex = exact_exchange("886", fees=False)
    ex.on_tick(BTC, 1, D("60000"))
    ex.on_tick(ETH, 1, D("3000"))
    ex.set_margin_mode(ETH, CROSS)
    ex.set_leverage(BTC, 10)
    _market(ex, BUY, "1", ETH)
    _market(ex, BUY, "0.1")
    assert _wallets(ex) == (D("286"), D("600"))
    ex.on_tick(ETH, 2, D("3600"))
    ex.on_tick(BTC, 2, D("57000"), bar_volume=D("0.5"))
    result = ex.submit(OrderRequest.market(BTC, SELL, D("0.2")))
    assert result.rejection is not None and result.rejection.code is ErrorCode.MARGIN_NOT_SUFFICIENT
    assert ex.position(BTC).quantity == D("0.1")
    assert _wallets(ex) == (D("286"), D("600"))
