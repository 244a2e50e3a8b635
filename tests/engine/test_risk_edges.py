"""Edges of the order preview and the sizer (hexdesk.engine.risk) that only unusual accounts reach.

Each test pins one behaviour a mutation of risk.py changed without any other test noticing (docs/engine.md,
"Mutation testing"): a position of exactly one contract, an isolated reduction filled far from the mark, an order
sized against an open short. Numbers are worked by hand from the reference (binance-futures.md): BTCUSDT taker
0.05%, tier 1 MMR 0.4% and cum 0 (§1.6a), the isolated long LP = (Q·EP − WB) / (Q·(1 − MMR)) (§1.2) and the
bankruptcy price EP − WB/Q (margin balance 0). No spread and no volume model, so a market order fills at the last
price.
"""

from __future__ import annotations

from decimal import Decimal as D

from hexdesk.engine.enums import OrderType, Side
from hexdesk.engine.orders import OrderRequest
from hexdesk.engine.risk import RiskWarning, preview_order, size_order
from tests.engine.test_risk import NO_SLIP, ctx  # a 10,000 USDT isolated account at 60,000, no slippage

#: Long 1 BTC at 60,000, isolated at 10x: its isolated wallet is the initial margin 60,000 / 10 = 6,000.
LONG_ONE = dict(position_qty=D("1"), entry_price=D("60000"), isolated_wallet=D("6000"))


def close(a: D | None, b: D | str, tol: str = "0.0001") -> bool:
    assert a is not None
    return abs(a - D(b)) <= D(tol)


# -- a position of exactly one contract ----------------------------------------------------------------------


def test_reduce_only_against_a_position_of_exactly_one_is_capped_at_it():
    # A reduce-only SELL of 2 against a long of exactly 1 BTC trades 1 (capped at the position): it closes it.
    c = ctx(**LONG_ONE)
    p = preview_order(OrderRequest.market("BTCUSDT", Side.SELL, D("2"), reduce_only=True), c)
    assert p.quantity == D("1")
    assert p.fills == ((D("60000"), D("1")),)
    assert p.entry_fee == D("30")  # taker 0.05% × 1 × 60,000
    assert p.resulting_qty == 0
    assert p.liquidation_price is None


def test_close_position_stop_against_a_position_of_exactly_one_closes_it():
    # A closePosition STOP_MARKET SELL at 58,000 (no quantity of its own) trades the whole long of 1 BTC there.
    c = ctx(**LONG_ONE)
    req = OrderRequest("BTCUSDT", Side.SELL, OrderType.STOP_MARKET, stop_price=D("58000"), close_position=True)
    p = preview_order(req, c)
    assert p.quantity == D("1")
    assert p.fills == ((D("58000"), D("1")),)
    assert p.entry_fee == D("29")  # taker 0.05% × 1 × 58,000
    assert p.resulting_qty == 0


# -- an isolated reduction filled far from the mark ----------------------------------------------------------
# The long of 1 BTC at 60,000 (wallet 6,000) has LP 54,216.87 (vector V1's ratio): the mark stays at 60,000,
# the last trade is far below it, and a market SELL of half the position fills there. The reduction releases
# half the isolated wallet (3,000) plus its realized PnL; a loss beyond that share comes out of the margin of
# the half that remains (the ledger's _release_isolated), which moves that half's liquidation price.


def test_isolated_reduction_losing_less_than_its_share_leaves_the_other_half_untouched():
    # Fill at 54,001: realized 0.5 × (54,001 − 60,000) = −2,999.5; released 3,000 − 2,999.5 = +0.5 goes back
    # to the cross wallet. The remaining 0.5 BTC keeps its 3,000: LP = (0.5 × 60,000 − 3,000) / (0.5 × 0.996)
    # = 27,000 / 0.498 = 54,216.8675; bankruptcy 60,000 − 3,000 / 0.5 = 54,000.
    c = ctx(**LONG_ONE, last_price=D("54001"))
    p = preview_order(OrderRequest.market("BTCUSDT", Side.SELL, D("0.5")), c)
    assert p.fills == ((D("54001"), D("0.5")),)
    assert p.resulting_qty == D("0.5")
    assert p.resulting_entry_price == D("60000")
    assert p.bankruptcy_price == D("54000")
    assert close(p.liquidation_price, "54216.8675")


def test_isolated_reduction_losing_more_than_its_share_takes_the_rest_from_the_remaining_margin():
    # Fill at 51,000: realized 0.5 × (51,000 − 60,000) = −4,500; the released 3,000 covers 3,000 of it, the
    # other 1,500 comes out of the remaining half's 3,000, which keeps 1,500. LP = (30,000 − 1,500) / 0.498
    # = 57,228.9157 (the mark, 60,000, is still above it); bankruptcy 60,000 − 1,500 / 0.5 = 57,000.
    c = ctx(**LONG_ONE, last_price=D("51000"))
    p = preview_order(OrderRequest.market("BTCUSDT", Side.SELL, D("0.5")), c)
    assert p.fills == ((D("51000"), D("0.5")),)
    assert p.entry_fee == D("12.75")  # taker 0.05% × 0.5 × 51,000, from the cross wallet, not the isolated one
    assert p.resulting_qty == D("0.5")
    assert p.bankruptcy_price == D("57000")
    assert close(p.liquidation_price, "57228.9157")



def test_the_exchange_leaves_the_position_its_preview_showed_after_a_reduction_far_from_the_mark():
    from hexdesk.engine.exchange import Exchange

    # The same reduction sent: buy 1 BTC at 60,000 at 10x isolated (margin 6,000, fee 30), then the last trades
    # at 51,000 while the mark stays at 60,000 (no liquidation: the mark decides), and a market SELL of 0.5.
    ex = Exchange(wallet_balance=D("10000"), fill_model=NO_SLIP)
    t0 = 1_740_798_000_000  # 2025-03-01 03:00 UTC: no funding on the way
    ex.on_tick("BTCUSDT", t0, D("60000"))
    ex.set_leverage("BTCUSDT", 10)
    ex.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("1")))
    assert ex.on_tick("BTCUSDT", t0 + 1_000, D("51000"), mark=D("60000")) == ()
    req = OrderRequest.market("BTCUSDT", Side.SELL, D("0.5"))
    p = ex.preview(req)
    assert p.rejection is None
    ex.submit(req)
    pos = ex.position("BTCUSDT")
    assert pos.quantity == D("0.5")
    assert pos.isolated_wallet == D("1500")  # 6,000 − 3,000 released − 1,500 of the loss beyond it
    assert (pos.liquidation_price, pos.bankruptcy_price) == (p.liquidation_price, p.bankruptcy_price)
    assert pos.bankruptcy_price == D("57000")
    # the cross wallet: 10,000 − 6,000 margin − 30 − 12.75 fees; the released 3,000 went to the loss, 0 came back
    assert ex.account().cross_wallet_balance == D("3957.25")

# -- sizing an order against an open short -------------------------------------------------------------------


def test_sizing_a_long_whose_risk_cannot_even_pay_for_closing_the_short_sizes_nothing():
    # Short 1 BTC at 60,000, last = mark = 60,000. A long with its stop at 59,000 must first buy the short back:
    # that alone costs the taker fee 0.05% × 1 × 60,000 = 30 (no PnL from the mark). The risk is 0.1% of
    # 10,000 = 10 < 30, so nothing can be sized. (A partial buy of 0.98 would lose only 9.99 at 59,000, but it
    # leaves a short of 0.02 under a "stop-loss" that is below the price, i.e. on the short's profit side.)
    c = ctx(position_qty=D("-1"), entry_price=D("60000"), isolated_wallet=D("6000"))
    s = size_order(OrderRequest.market("BTCUSDT", Side.BUY, None, stop_loss=D("59000")), c, D("0.1"))
    assert s.risk_amount == D("10")
    assert s.quantity == 0
    assert s.resulting_qty == D("-1")
    assert RiskWarning.OPEN_POSITION_EXCEEDS_RISK in s.warnings


def test_sizing_a_long_against_a_short_whose_risk_just_pays_for_closing_it():
    # The same short, risk 0.3% of 10,000 = 30: exactly the 30 of fee that closing it costs, and each further
    # 0.001 BTC long loses at least 0.001 × 1,000 more at 59,000: the sizer buys exactly the short back.
    c = ctx(position_qty=D("-1"), entry_price=D("60000"), isolated_wallet=D("6000"))
    s = size_order(OrderRequest.market("BTCUSDT", Side.BUY, None, stop_loss=D("59000")), c, D("0.3"))
    assert s.risk_amount == D("30")
    assert s.quantity == D("1")
    assert s.resulting_qty == 0
    assert RiskWarning.OPEN_POSITION_EXCEEDS_RISK not in s.warnings
