"""Validation where the Exchange's own checks would hide a mistake: validate() called with a context directly.

Numbers worked by hand. BTCUSDT: pricePrecision 2, tick 0.10, maker 0.02%, taker 0.05%, MIN_NOTIONAL 50.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D

from hexdesk.engine.enums import MarginMode, OrderType, Side, TimeInForce
from hexdesk.engine.errors import ErrorCode
from hexdesk.engine.instruments import default_instruments
from hexdesk.engine.orders import OrderRequest
from hexdesk.engine.validation import OrderContext, validate

BTC = default_instruments()["BTCUSDT"]


def _ctx(free: str, leverage: int = 10, instrument: object = BTC) -> OrderContext:
    """Flat, last = mark = 60,000, isolated, a large available balance; ``free``: what the cross wallet can post."""
    return OrderContext(instrument, D(60000), D(60000), D(0), leverage, MarginMode.ISOLATED, D(100_000), (),  # type: ignore[arg-type]
                        D(free))


def _code(request: OrderRequest, ctx: OrderContext) -> int | None:
    r = validate(request, ctx)
    return None if r is None else int(r.code)


def test_an_isolated_order_needs_its_margin_plus_fee_from_the_cross_wallet() -> None:
    # A BUY LIMIT 0.01 @ 59,000 rests (maker): IM 0.01 × 59,000 / 10 = 59, fee 0.01 × 59,000 × 0.0002 = 0.118.
    rests = OrderRequest.limit("BTCUSDT", Side.BUY, D("0.01"), D(59000), TimeInForce.GTC)
    assert _code(rests, _ctx("59.118")) is None
    assert _code(rests, _ctx("59.117")) == ErrorCode.MARGIN_NOT_SUFFICIENT
    # Under 1 USDT of margin is still margin: 0.001 @ 60,000 at 125x = 0.48, taker fee 0.03: 0.51 needed.
    small = OrderRequest.market("BTCUSDT", Side.BUY, D("0.001"))
    assert _code(small, _ctx("0.51", leverage=125)) is None
    assert _code(small, _ctx("0.50", leverage=125)) == ErrorCode.MARGIN_NOT_SUFFICIENT


def test_precision_of_a_price_with_more_digits_than_the_context_holds() -> None:
    # 30 significant digits: Decimal's 28-digit context rounds it to ...567.6 when it drops trailing zeros, so it
    # has 1 decimal (as before the precision check was made faster) and the price filter refuses it (> maxPrice).
    huge = OrderRequest.limit("BTCUSDT", Side.BUY, D("0.001"), D("123456789012345678901234567.555"), TimeInForce.GTC)
    assert _code(huge, _ctx("1e30")) == ErrorCode.PRICE_GREATER_THAN_MAX_PRICE
    # 29 digits with 4 decimals fit the rounding to 2 places: 4 decimals, -1111.
    precise = OrderRequest.limit("BTCUSDT", Side.BUY, D("0.001"), D("1234567890123456789012345.6789"), TimeInForce.GTC)
    assert _code(precise, _ctx("1e30")) == ErrorCode.BAD_PRECISION


def test_the_tick_grid_starts_at_min_price() -> None:
    # minPrice 0.03, tick 0.10: the grid is 0.03, 0.13, ... 60,000.03; 60,000.00 is off it.
    shifted = dataclasses.replace(BTC, min_price=D("0.03"))
    on_grid = OrderRequest("BTCUSDT", Side.BUY, OrderType.LIMIT, quantity=D("0.001"), price=D("60000.03"),
                           time_in_force=TimeInForce.GTC)
    off_grid = dataclasses.replace(on_grid, price=D("60000.00"))
    assert _code(on_grid, _ctx("1000", instrument=shifted)) is None
    assert _code(off_grid, _ctx("1000", instrument=shifted)) == ErrorCode.PRICE_NOT_INCREASED_BY_TICK_SIZE
