"""The preview answers what submit would answer: the same Binance error, or none."""

from __future__ import annotations

from hexdesk.engine import OrderRequest, Side
from hexdesk.engine.errors import ErrorCode
from tests.engine._exchange_helpers import BTC, D, exact_exchange


def _market(side: Side, qty: str) -> OrderRequest:
    return OrderRequest.market(BTC, side, D(qty))


def test_preview_of_an_affordable_order_has_no_rejection_and_submit_accepts_it():
    ex = exact_exchange("10000")
    ex.set_leverage(BTC, 10)
    ex.on_tick(BTC, 0, D("60000"))
    # 1 BTC at 60,000 and 10x posts 6,000 + 0.05% taker fee 30 = 6,030 <= 10,000.
    p = ex.preview(_market(Side.BUY, "1"))
    assert p.rejection is None
    assert ex.submit(_market(Side.BUY, "1")).ok


def test_preview_carries_the_margin_rejection_submit_gives():
    ex = exact_exchange("10000")
    ex.set_leverage(BTC, 10)
    ex.on_tick(BTC, 0, D("60000"))
    # 2 BTC at 10x needs 12,000 of initial margin: more than the 10,000 wallet.
    p = ex.preview(_market(Side.BUY, "2"))
    assert p.rejection is not None and p.rejection.code == ErrorCode.MARGIN_NOT_SUFFICIENT
    result = ex.submit(_market(Side.BUY, "2"))
    assert not result.ok and result.rejection.code == p.rejection.code


def test_market_short_preview_uses_binances_cost_price():
    ex = exact_exchange("10000", fees=False)
    ex.set_leverage(BTC, 10)
    ex.on_tick(BTC, 0, D("60000"))
    # A market short is costed at max(last x 1.0015, mark) = 60,090: 1.664 BTC -> 99,989.76 notional / 10 = 9,998.98
    # fits 10,000; 1.665 BTC -> 100,049.85 / 10 = 10,004.99 does not, although at 60,000 it would (9,990).
    assert ex.preview(_market(Side.SELL, "1.664")).rejection is None
    p = ex.preview(_market(Side.SELL, "1.665"))
    assert p.rejection is not None and p.rejection.code == ErrorCode.MARGIN_NOT_SUFFICIENT
    assert not ex.submit(_market(Side.SELL, "1.665")).ok
