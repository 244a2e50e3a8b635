"""The engine's door: one way to check every value a caller hands the Exchange, answered as Binance answers.

Binance receives strings and refuses what it cannot read with an error code; the Exchange receives Python values
and must do the same, never raise anything but :class:`BinanceError` nor change its state or its event log on a
value it cannot trade on. Every public method of the Exchange passes its arguments through the functions here
first, so a NaN, an infinity, a 1e1000000, a ``True`` leverage, an unknown symbol or a string where a number
belongs is refused the same way everywhere, before anything is emitted:

- a value of the wrong type, NaN or ±Infinity: -1102 (malformed) with the parameter's Binance name, or the code
  Binance uses for that parameter (-1121 symbol, -1117 side, -1116 type, -1115 timeInForce, -4028 leverage);
- a finite number beyond what any account can hold (|x| > 10^18) or finer than any asset's precision
  (0 < |x| < 10^-18): the code Binance gives a too-large or too-precise value (-4005 quantity, -4002 price,
  -1111 precision, -2019 margin), so nothing downstream ever computes with such a number (Decimal overflows past
  10^999999 and ``quantize`` to 8 dp refuses amounts of 10^20 and more);
- market data (``on_tick``): a price outside ``[tick size, maxPrice]`` of the symbol, a negative or absurd candle
  volume, a timestamp that is not a whole number of milliseconds between 1970 and 2100.

Margin mode accepts Binance's spellings ``"ISOLATED"`` / ``"CROSSED"`` as well as :class:`MarginMode` members.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, NoReturn, TypeVar

from hexdesk.engine.enums import MarginMode, OrderType, Side, TimeInForce, WorkingType
from hexdesk.engine.errors import BinanceError, ErrorCode, Rejection
from hexdesk.engine.instruments import Instrument
from hexdesk.engine.orders import OrderRequest

if TYPE_CHECKING:
    from hexdesk.engine.account import SymbolState

__all__ = [
    "MAX_MAGNITUDE",
    "MAX_TS_MS",
    "MIN_MAGNITUDE",
    "amend_values",
    "amount",
    "fail",
    "leverage",
    "margin_mode",
    "number",
    "order_id",
    "order_request",
    "price_bounds",
    "shown",
    "symbol_state",
    "tick",
]

#: No quantity, price, amount or volume the engine accepts is larger than this (or smaller, if not 0).
MAX_MAGNITUDE = Decimal("1e18")
MIN_MAGNITUDE = Decimal("1e-18")
#: Timestamps are epoch milliseconds from 1970 up to 2100-01-01T00:00:00Z.
MAX_TS_MS = 4_102_444_800_000
#: Without a tick size / maxPrice in the instrument, prices must lie within these.
DEFAULT_MIN_PRICE = Decimal("1e-8")
DEFAULT_MAX_PRICE = Decimal("1e12")
#: A candle volume is 0 or at least this (a smaller one would divide a quantity into an overflow).
MIN_VOLUME = Decimal("1e-8")

_E = TypeVar("_E", bound=StrEnum)

_MARGIN_MODES: dict[str, MarginMode] = {
    "ISOLATED": MarginMode.ISOLATED,
    "CROSSED": MarginMode.CROSS,  # Binance's marginType spelling
    "CROSS": MarginMode.CROSS,  # the enum's value (and the spelling of the position's marginType field: "cross")
}


def fail(code: ErrorCode, *args: object) -> NoReturn:
    """Refuse with Binance's code and message."""
    raise BinanceError(Rejection.of(code, *args))


def shown(value: object) -> str:
    """A value as it may appear inside an error message: short, and never itself an error (huge ints)."""
    try:
        text = str(value)
    except ValueError:  # int beyond Python's str conversion limit
        text = type(value).__name__
    return text if len(text) <= 24 else text[:21] + "..."


def _is_number(value: object) -> bool:
    # type(), not isinstance(): isinstance() believes an object whose __class__ attribute claims to be a Decimal.
    return issubclass(type(value), Decimal) and value.is_finite()  # type: ignore[attr-defined]


def number(value: object, name: str) -> Decimal:
    """A finite Decimal (else -1102 naming the parameter). Floats, ints and bools are not numbers here: money
    and prices are exact Decimals throughout the engine."""
    if not _is_number(value):
        fail(ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED, name)
    assert isinstance(value, Decimal)
    return value


def _magnitude_ok(value: Decimal) -> bool:
    return not value or MIN_MAGNITUDE <= value.copy_abs() <= MAX_MAGNITUDE


def _in_range(value: Decimal) -> bool:
    """A finite Decimal that :func:`_order_number` passes as it is (0, or a magnitude in [10^-18, 10^18]);
    False for anything it may refuse, which it then checks itself."""
    return value.is_finite() and (not value or MIN_MAGNITUDE <= value.copy_abs() <= MAX_MAGNITUDE)


def symbol_state(states: Mapping[str, SymbolState], symbol: object) -> SymbolState:
    """The state of a known symbol, else -1121 Invalid symbol (also for a non-string symbol)."""
    st = states.get(symbol) if issubclass(type(symbol), str) else None
    if st is None:
        fail(ErrorCode.BAD_SYMBOL)
    return st


def order_id(value: object) -> int:
    """An order id: a whole number (bool is not one), else -1102 orderId."""
    if type(value) is not int:
        fail(ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "orderId")
    return value


def leverage(value: object, instrument: Instrument) -> int:
    """1..the symbol's maximum leverage, as an int (``True`` is not 1x), else -4028."""
    if type(value) is not int or not 1 <= value <= instrument.max_leverage:
        fail(ErrorCode.INVALID_LEVERAGE, shown(value))
    return value


def margin_mode(value: object) -> MarginMode:
    """``MarginMode`` from a member or Binance's spelling ("ISOLATED", "CROSSED"), else -1130 marginType."""
    mode = _MARGIN_MODES.get(value) if issubclass(type(value), str) else None
    if mode is None:
        fail(ErrorCode.INVALID_PARAMETER, "marginType")
    return mode


def amount(value: object) -> Decimal:
    """A margin transfer amount: a finite Decimal (-1102 amount) no account can exceed (|x| > 10^18: -2019 to
    add, -4051 to remove), not finer than 10^-18 (-1111)."""
    x = number(value, "amount")
    if x.copy_abs() > MAX_MAGNITUDE:
        fail(ErrorCode.MARGIN_NOT_SUFFICIENT if x > 0 else ErrorCode.ISOLATED_BALANCE_INSUFFICIENT)
    if not _magnitude_ok(x):
        fail(ErrorCode.BAD_PRECISION)
    return x


def funding_rate(value: object) -> Decimal:
    """A funding rate: a finite Decimal within ±1 (100% a settlement; Binance caps real rates far inside that, and
    the engine clamps to the symbol's cap), else -1102 fundingRate: an absurd value is refused, not clamped."""
    x = number(value, "fundingRate")
    if x.copy_abs() > 1:
        fail(ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "fundingRate")
    return x


# -- orders --------------------------------------------------------------------------------------------------


def _member(enum: type[_E], value: object, code: ErrorCode, *args: object) -> _E:
    member = enum._value2member_map_.get(value) if issubclass(type(value), str) else None
    if member is None:
        fail(code, *args)
    return member  # type: ignore[return-value]


def _flag(value: object, name: str) -> bool:
    if type(value) is not bool:
        fail(ErrorCode.INVALID_PARAMETER, name)
    return value


def _order_number(value: object, name: str, *, is_quantity: bool) -> None:
    if value is None:
        return
    x = number(value, name)
    if x.copy_abs() > MAX_MAGNITUDE:
        if is_quantity:
            fail(ErrorCode.QTY_GREATER_THAN_MAX_QTY if x > 0 else ErrorCode.QTY_LESS_THAN_ZERO)
        if x > 0:
            fail(ErrorCode.PRICE_GREATER_THAN_MAX_PRICE)
        fail(ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED, name)
    if not _magnitude_ok(x):
        fail(ErrorCode.BAD_PRECISION)


def order_request(request: object, states: Mapping[str, SymbolState]) -> tuple[OrderRequest, SymbolState]:
    """A request every later step can compute with: known symbol, enum fields as members (Binance's strings are
    accepted: "BUY" becomes ``Side.BUY``), flags as bools, client id a string, numbers finite and of sane
    magnitude. Whether Binance would *accept* the order is :func:`hexdesk.engine.validation.validate`'s job."""
    if not issubclass(type(request), OrderRequest):
        fail(ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "order")
    st = symbol_state(states, request.symbol)
    # (each check is written out so that a request of the usual types costs one type comparison per field)
    side, order_type, tif, working = request.side, request.type, request.time_in_force, request.working_type
    members = type(side) is Side and type(order_type) is OrderType and type(working) is WorkingType
    members = members and (tif is None or type(tif) is TimeInForce)
    if not members:
        side = _member(Side, side, ErrorCode.INVALID_SIDE)
        order_type = _member(OrderType, order_type, ErrorCode.INVALID_ORDER_TYPE)
        if tif is not None:
            tif = _member(TimeInForce, tif, ErrorCode.INVALID_TIF)
        working = _member(WorkingType, working, ErrorCode.INVALID_PARAMETER, "workingType")
    if type(request.reduce_only) is not bool:
        _flag(request.reduce_only, "reduceOnly")
    if type(request.close_position) is not bool:
        _flag(request.close_position, "closePosition")
    if type(request.price_protect) is not bool:
        _flag(request.price_protect, "priceProtect")
    if request.client_order_id is not None and not issubclass(type(request.client_order_id), str):
        fail(ErrorCode.INVALID_PARAMETER, "newClientOrderId")
    quantity = request.quantity
    if quantity is not None and not (type(quantity) is Decimal and _in_range(quantity)):
        _order_number(quantity, "quantity", is_quantity=True)
    # (the four prices in Binance's order, written out: a request usually sets none or one of them)
    price, stop_price = request.price, request.stop_price
    take_profit, stop_loss = request.take_profit, request.stop_loss
    if price is not None and not (type(price) is Decimal and _in_range(price)):
        _order_number(price, "price", is_quantity=False)
    if stop_price is not None and not (type(stop_price) is Decimal and _in_range(stop_price)):
        _order_number(stop_price, "stopPrice", is_quantity=False)
    if take_profit is not None and not (type(take_profit) is Decimal and _in_range(take_profit)):
        _order_number(take_profit, "takeProfit", is_quantity=False)
    if stop_loss is not None and not (type(stop_loss) is Decimal and _in_range(stop_loss)):
        _order_number(stop_loss, "stopLoss", is_quantity=False)
    if not members:
        request = dataclasses.replace(request, side=side, type=order_type, time_in_force=tif, working_type=working)
    return request, st


def amend_values(quantity: object, price: object) -> None:
    """An amend's new quantity / price: None (unchanged) or a number as for a new order."""
    _order_number(quantity, "quantity", is_quantity=True)
    _order_number(price, "price", is_quantity=False)


# -- market data ---------------------------------------------------------------------------------------------


def price_bounds(instrument: Instrument) -> tuple[Decimal, Decimal]:
    """The range a last or mark price of this symbol must lie in: [tick size, maxPrice] (no trade can print
    outside the symbol's price filter)."""
    low = instrument.tick_size if instrument.tick_size > 0 else DEFAULT_MIN_PRICE
    high = instrument.max_price if instrument.max_price > 0 else DEFAULT_MAX_PRICE
    return low, min(high, DEFAULT_MAX_PRICE)


def _price(value: object, name: str, low: Decimal, high: Decimal) -> None:
    x = number(value, name)
    if not low <= x <= high:
        fail(ErrorCode.INVALID_PARAMETER, name)


def tick(
    states: Mapping[str, SymbolState], symbol: object, ts_ms: object, last: object, mark: object, volume: object
) -> SymbolState:
    """Check one market-data tick; the symbol's state if every value can be traded on, else BinanceError."""
    st = symbol_state(states, symbol)
    if type(ts_ms) is not int:
        fail(ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "timestamp")
    if not 0 <= ts_ms <= MAX_TS_MS:
        fail(ErrorCode.INVALID_PARAMETER, "timestamp")
    low, high = price_bounds(st.instrument)
    _price(last, "price", low, high)
    if mark is not None:
        _price(mark, "markPrice", low, high)
    if volume is not None:
        v = number(volume, "volume")
        if v and not MIN_VOLUME <= v <= MAX_MAGNITUDE:
            fail(ErrorCode.INVALID_PARAMETER, "volume")
    return st
