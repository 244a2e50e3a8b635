"""Funding settles for every symbol at its settlement time, whichever symbol's tick arrives first (issue 6, 8(d)).

Reference §2: ``Funding Amount = Mark Price × Position Size × Funding Rate`` at 00:00 / 08:00 / 16:00 UTC, paid only
by positions held at that instant; a positive rate means longs pay. The engine's clock is the latest tick time of
any symbol: once it passes 08:00, the 08:00 funding of every symbol is settled (at that symbol's last known mark)
before anything else happens.
"""

from __future__ import annotations

import pytest

from hexdesk.engine import BinanceError, FundingSettled, MarginMode, OrderRequest, PositionLiquidated, Side, rebuild
from tests.engine._exchange_helpers import BTC, ETH, D, H, exact_exchange, of_type

DAY = 24 * H
T0800 = DAY + 8 * H


def _two_positions():
    """BTC long 1 @ 60,000 and ETH short 10 @ 3,000, isolated 20x, no fees; rates 0.01% and 0.02%."""
    ex = exact_exchange("100000", fees=False, start_ms=DAY + 7 * H)
    ex.on_tick(BTC, DAY + 7 * H, D("60000.0"))
    ex.on_tick(ETH, DAY + 7 * H, D("3000.00"))
    ex.set_funding_rate(BTC, D("0.0001"))
    ex.set_funding_rate(ETH, D("0.0002"))
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("1"))).ok
    assert ex.submit(OrderRequest.market(ETH, Side.SELL, D("10"))).ok
    ex.on_tick(BTC, DAY + 7 * H + 30 * 60_000, D("60100.0"))  # BTC's last mark before 08:00
    return ex


def test_an_eth_tick_after_0800_settles_btc_funding_too() -> None:
    # BTC: −qty × mark × rate = −1 × 60,100 × 0.0001 = −6.01 (the long pays), at BTC's last mark 60,100.
    # ETH: −(−10) × 3,000 × 0.0002 = +6 (the short receives), at ETH's mark before this tick, 3,000.
    ex = _two_positions()
    btc_wallet = ex.position(BTC).isolated_wallet
    events = ex.on_tick(ETH, T0800 + 1_000, D("3010.00"))
    funding = {e.symbol: e for e in of_type(events, FundingSettled)}
    assert set(funding) == {BTC, ETH}  # today: only ETH, BTC waited for its own tick
    assert (funding[BTC].ts_ms, funding[BTC].mark_price, funding[BTC].amount) == (T0800, D("60100.0"), D("-6.01"))
    assert (funding[ETH].ts_ms, funding[ETH].mark_price, funding[ETH].amount) == (T0800, D("3000.00"), D("6"))
    assert ex.position(BTC).isolated_wallet == btc_wallet - D("6.01")
    # BTC's own first tick after 08:00 settles nothing more.
    assert of_type(ex.on_tick(BTC, T0800 + 5_000, D("60200.0")), FundingSettled) == []
    assert ex.state() == rebuild(ex.events)


def test_closing_after_0800_does_not_escape_the_0800_funding() -> None:
    """The BTC long is closed by an order stamped 08:00:02, before BTC's own first tick after 08:00: it was held
    at 08:00, so it pays (today it escaped: BTC's next tick found no position)."""
    ex = _two_positions()
    ex.on_tick(ETH, T0800 + 1_000, D("3010.00"))
    assert ex.submit(OrderRequest.market(BTC, Side.SELL, D("1"), reduce_only=True)).ok
    ex.on_tick(BTC, T0800 + 60_000, D("60200.0"))
    btc = [e for e in of_type(ex.events, FundingSettled) if e.symbol == BTC]
    assert [(e.ts_ms, e.amount) for e in btc] == [(T0800, D("-6.01"))]


def test_an_order_submitted_after_0800_does_not_pay_the_0800_funding() -> None:
    """A BTC long opened after the ETH tick moved the clock past 08:00, before BTC ticked: not held at 08:00, so
    BTC's next tick settles nothing for it (today it paid the 08:00 funding by accident)."""
    ex = exact_exchange("100000", fees=False, start_ms=DAY + 7 * H)
    ex.on_tick(BTC, DAY + 7 * H, D("60000.0"))
    ex.on_tick(ETH, DAY + 7 * H, D("3000.00"))
    ex.set_funding_rate(BTC, D("0.0001"))
    ex.on_tick(ETH, T0800 + 1_000, D("3010.00"))
    assert ex.now_ms == T0800 + 1_000
    result = ex.submit(OrderRequest.market(BTC, Side.BUY, D("1")))
    assert result.ok and result.order is not None and result.order.created_ms == T0800 + 1_000
    assert of_type(ex.on_tick(BTC, T0800 + 60_000, D("60100.0")), FundingSettled) == []
    # It is held at 16:00, so it pays then: −1 × 60,100 × 0.0001 = −6.01 (mark before the 16:00 tick).
    [f] = of_type(ex.on_tick(ETH, DAY + 16 * H, D("3000.00")), FundingSettled)
    assert (f.symbol, f.ts_ms, f.amount) == (BTC, DAY + 16 * H, D("-6.01"))
    assert ex.state() == rebuild(ex.events)


def test_a_position_closed_before_0800_does_not_pay() -> None:
    ex = _two_positions()
    assert ex.submit(OrderRequest.market(BTC, Side.SELL, D("1"), reduce_only=True)).ok  # 07:30, before 08:00
    events = ex.on_tick(ETH, T0800 + 1_000, D("3010.00"))
    assert [e.symbol for e in of_type(events, FundingSettled)] == [ETH]


def test_a_refused_tick_does_not_move_the_clock_nor_settle() -> None:
    ex = _two_positions()
    with pytest.raises(BinanceError):
        ex.on_tick(ETH, T0800 + 1_000, D("NaN"))
    assert ex.now_ms < T0800
    assert of_type(ex.events, FundingSettled) == []


def test_a_long_gap_settles_every_instant_in_order() -> None:
    """A tick a day later (replay jump): 16:00, 00:00 and 08:00 settle in that order, for both symbols, each at
    the marks known then (nothing ticked in between): BTC −6.01 and ETH +6 three times."""
    ex = _two_positions()
    ex.on_tick(ETH, T0800 + 1_000, D("3010.00"))  # 08:00 settled; ETH's mark is now 3,010: ETH +6.02 later
    events = ex.on_tick(BTC, T0800 + DAY + 1_000, D("60000.0"))
    got = [(e.ts_ms, e.symbol, e.amount) for e in of_type(events, FundingSettled)]
    assert got == [
        (DAY + 16 * H, BTC, D("-6.01")), (DAY + 16 * H, ETH, D("6.02")),
        (2 * DAY, BTC, D("-6.01")), (2 * DAY, ETH, D("6.02")),
        (2 * DAY + 8 * H, BTC, D("-6.01")), (2 * DAY + 8 * H, ETH, D("6.02")),
    ]
    assert ex.state() == rebuild(ex.events)


def test_funding_that_tips_the_cross_account_liquidates_it_at_the_instant() -> None:
    """Cross BTC long 4 @ 20,000, no fees, wallet 9,900; BTC's mark 17,600 at 07:30:
        UPNL = 4 × (17,600 − 20,000) = −9,600, margin balance 300 > MM 4 × 17,600 × 0.4% = 281.6: alive.
    At 08:00 (an ETH tick) it pays −4 × 17,600 × 0.3% = −211.2: wallet 9,688.8, margin balance 88.8 < 281.6, so
    the account is liquidated then, at BTC's mark 17,600, closed at its bankruptcy point 17,600 − 88.8 / 4 =
    17,577.8 (the wallet ends at 0)."""
    ex = exact_exchange("9900", fees=False, mode=MarginMode.CROSS, start_ms=DAY + 7 * H)
    ex.on_tick(BTC, DAY + 7 * H, D("20000.0"))
    ex.on_tick(ETH, DAY + 7 * H, D("3000.00"))
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("4"))).ok
    assert ex.on_tick(BTC, DAY + 7 * H + 30 * 60_000, D("17600.0")) == ()
    ex.set_funding_rate(BTC, D("0.003"))
    events = ex.on_tick(ETH, T0800 + 1_000, D("3000.00"))
    [f] = of_type(events, FundingSettled)
    assert (f.symbol, f.amount) == (BTC, D("-211.2"))
    [liq] = of_type(events, PositionLiquidated)
    assert (liq.symbol, liq.mark_price, liq.fill.price) == (BTC, D("17600.0"), D("17577.8"))
    assert liq.margin_lost == D("9688.8")
    assert events.index(f) < events.index(liq)
    assert ex.account().wallet_balance == 0
    assert ex.state() == rebuild(ex.events)
