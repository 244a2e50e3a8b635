"""``validation.opening_fee``: the fee of an order's opening part at its cost price (the isolated -2019 check adds
it to the margin the cross wallet must post). Numbers worked by hand: BTCUSDT maker 0.02%, taker 0.05%."""

from __future__ import annotations

from decimal import Decimal as D

from hexdesk.engine.enums import MarginMode, OrderType, Side, TimeInForce
from hexdesk.engine.instruments import default_instruments
from hexdesk.engine.orders import OrderRequest
from hexdesk.engine.validation import OrderContext, opening_fee

BTC = default_instruments()["BTCUSDT"]


def _ctx(position: str = "0") -> OrderContext:
    """Last = mark = 60,000, 10x isolated, plenty of balance, no open orders."""
    return OrderContext(BTC, D(60000), D(60000), D(position), 10, MarginMode.ISOLATED, D(100_000), ())


def test_a_market_buy_pays_the_taker_rate_at_the_last_price() -> None:
    # 0.01 × 60,000 × 0.0005 = 0.3
    assert opening_fee(OrderRequest.market("BTCUSDT", Side.BUY, D("0.01")), _ctx()) == D("0.3")


def test_a_market_sell_is_priced_at_binance_s_short_cost_price() -> None:
    # max(60,000 × 1.0015, 60,000) = 60,090; 0.01 × 60,090 × 0.0005 = 0.30045
    assert opening_fee(OrderRequest.market("BTCUSDT", Side.SELL, D("0.01")), _ctx()) == D("0.30045")


def test_a_resting_limit_pays_maker_and_a_marketable_one_taker() -> None:
    # rests below the last price: 0.01 × 59,000 × 0.0002 = 0.118; takes above it: 0.01 × 61,000 × 0.0005 = 0.305
    rests = OrderRequest.limit("BTCUSDT", Side.BUY, D("0.01"), D(59000), TimeInForce.GTC)
    takes = OrderRequest.limit("BTCUSDT", Side.BUY, D("0.01"), D(61000), TimeInForce.GTC)
    assert opening_fee(rests, _ctx()) == D("0.118")
    assert opening_fee(takes, _ctx()) == D("0.305")


def test_only_the_opening_part_pays_and_a_reduce_only_order_nothing() -> None:
    # long 0.004: a SELL 0.01 closes 0.004 and opens 0.006 → 0.006 × 60,090 × 0.0005 = 0.18027
    assert opening_fee(OrderRequest.market("BTCUSDT", Side.SELL, D("0.01")), _ctx("0.004")) == D("0.18027")
    reduce = OrderRequest("BTCUSDT", Side.SELL, OrderType.MARKET, quantity=D("0.004"), reduce_only=True)
    assert opening_fee(reduce, _ctx("0.004")) == 0
