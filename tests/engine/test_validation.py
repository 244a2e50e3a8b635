"""Order validation: Binance's rejection codes and messages, in Binance's check order (reference §3)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hexdesk.engine.enums import MarginMode, OrderStatus, OrderType, Side, TimeInForce, WorkingType
from hexdesk.engine.errors import ErrorCode, Rejection
from hexdesk.engine.instruments import Instrument, default_instruments
from hexdesk.engine.orders import Order, OrderRequest
from hexdesk.engine.validation import (
    OrderContext,
    format_decimal,
    margin_price,
    opening_quantity,
    required_margin,
    validate,
    would_take,
)

BTC = default_instruments()["BTCUSDT"]
ETH = default_instruments()["ETHUSDT"]
S = "BTCUSDT"
BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
STOP, STOP_MARKET = OrderType.STOP, OrderType.STOP_MARKET
TP, TP_MARKET = OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_MARKET
GTC = TimeInForce.GTC


def ctx(**kw: object) -> OrderContext:
    """BTCUSDT at 60,000 (last = mark), flat, 10x cross, 100,000 USDT available, no open orders."""
    base: dict[str, object] = {
        "instrument": BTC,
        "last_price": D(60000),
        "mark_price": D(60000),
        "position_qty": D(0),
        "leverage": 10,
        "margin_mode": MarginMode.CROSS,
        "available_balance": D(100_000),
        "open_orders": (),
    }
    base.update(kw)
    return OrderContext(**base)  # type: ignore[arg-type]


def req(type_: OrderType = LIMIT, side: Side = BUY, **kw: object) -> OrderRequest:
    """A valid request of each type by default (0.01 BTC; limit 60,000; stops 1,000 away on the right side)."""
    fields: dict[str, object] = {"quantity": D("0.01")}
    if type_ in (LIMIT, STOP, TP):
        fields["price"] = D(60000)
    if type_ is LIMIT:
        fields["time_in_force"] = GTC
    if type_.is_conditional:
        stop_above = (type_ in (STOP, STOP_MARKET)) == (side is BUY)
        fields["stop_price"] = D(61000) if stop_above else D(59000)
        if type_ in (STOP, TP):
            fields["price"] = fields["stop_price"]
    fields = {"symbol": S, "side": side, "type": type_, **fields, **kw}
    return OrderRequest(**fields)  # type: ignore[arg-type]


_ids = iter(range(1, 10**6))


def order(side: Side = BUY, type_: OrderType = LIMIT, qty: str = "1", price: str = "60000", **kw: object) -> Order:
    fields: dict[str, object] = {
        "order_id": next(_ids),
        "client_order_id": "c",
        "symbol": S,
        "side": side,
        "type": type_,
        "quantity": D(qty),
        "price": D(price) if type_.has_limit_price else D(0),
        "stop_price": D(kw.pop("stop_price", "0")),  # type: ignore[arg-type]
        "time_in_force": GTC,
        "reduce_only": False,
        "close_position": False,
        "working_type": WorkingType.CONTRACT_PRICE,
        "price_protect": False,
        "status": OrderStatus.NEW,
        "executed_qty": D(0),
        "avg_price": D(0),
        "created_ms": 0,
        "updated_ms": 0,
    }
    fields.update(kw)
    return Order(**fields)  # type: ignore[arg-type]


def code_of(request: OrderRequest, context: OrderContext | None = None) -> int | None:
    r = validate(request, context or ctx())
    return None if r is None else int(r.code)


# Binance's texts, typed out rather than read from errors.MESSAGES, so a changed message fails here.
MSG = {
    -1102: "Mandatory parameter '{}' was not sent, was empty/null, or malformed.",
    -1111: "Precision is over the maximum defined for this asset.",
    -1115: "Invalid timeInForce.",
    -1116: "Invalid orderType.",
    -1117: "Invalid side.",
    -1121: "Invalid symbol.",
    -1130: "Data sent for parameter '{}' is not valid.",
    -2019: "Margin is insufficient.",
    -2021: "Order would immediately trigger.",
    -2022: "ReduceOnly Order is rejected.",
    -2025: "Reach max open order limit.",
    -2027: "Exceeded the maximum allowable position at current leverage.",
    -4002: "Price greater than max price.",
    -4003: "Quantity less than zero.",
    -4004: "Quantity less than min quantity.",
    -4005: "Quantity greater than max quantity.",
    -4013: "Price less than min price.",
    -4014: "Price not increased by tick size.",
    -4016: "Price is higher than mark price multiplier cap.",
    -4023: "Qty not increased by step size.",
    -4024: "Price is lower than mark price multiplier floor.",
    -4137: "Quantity must be zero with closePosition equals true",
    -4164: "Order's notional must be no smaller than {} (unless you choose reduce only)",
}

# Instruments that make the LOT_SIZE rules reachable within BTCUSDT's quantity precision.
BIG_MIN = replace(BTC, min_qty=D("0.01"), market_min_qty=D("0.01"))
COARSE_STEP = replace(BTC, step_size=D("0.002"), market_step_size=D("0.005"))

LONG_1 = {"position_qty": D(1)}
SHORT_1 = {"position_qty": D(-1)}
RICH = {"available_balance": D(10) ** 12}

# (id, request, context overrides, code, message argument)
REJECTIONS = [
    # 1. shape
    ("bad symbol", req(symbol="ETHUSDT"), {}, -1121, None),
    ("bad side", req(side="buy"), {}, -1117, None),  # type: ignore[arg-type]
    ("bad type", req(type="TRAILING_STOP_MARKET"), {}, -1116, None),  # type: ignore[arg-type]
    ("bad tif GTD", req(time_in_force="GTD"), {}, -1115, None),
    ("GTX on MARKET", req(MARKET, time_in_force=TimeInForce.GTX), {}, -1115, None),
    ("GTX on STOP_MARKET", req(STOP_MARKET, time_in_force=TimeInForce.GTX), {}, -1115, None),
    ("bad workingType", req(STOP_MARKET, working_type="LAST"), {}, -1130, "workingType"),
    ("closePosition on LIMIT", req(close_position=True, quantity=None), LONG_1, -1130, "closePosition"),
    ("closePosition on MARKET", req(MARKET, SELL, close_position=True, quantity=None), LONG_1, -1130, "closePosition"),
    ("closePosition with qty", req(STOP_MARKET, SELL, close_position=True), LONG_1, -4137, None),
    (
        "closePosition with reduceOnly",
        req(STOP_MARKET, SELL, close_position=True, quantity=None, reduce_only=True),
        LONG_1,
        -1130,
        "reduceOnly",
    ),
    ("LIMIT without timeInForce", req(time_in_force=None), {}, -1102, "timeInForce"),
    ("LIMIT without quantity", req(quantity=None), {}, -1102, "quantity"),
    ("LIMIT without price", req(price=None), {}, -1102, "price"),
    ("MARKET without quantity", req(MARKET, quantity=None), {}, -1102, "quantity"),
    ("STOP without price", req(STOP, price=None), {}, -1102, "price"),
    ("STOP without stopPrice", req(STOP, stop_price=None), {}, -1102, "stopPrice"),
    ("TAKE_PROFIT without stopPrice", req(TP, stop_price=None), {}, -1102, "stopPrice"),
    ("STOP_MARKET without stopPrice", req(STOP_MARKET, stop_price=None), {}, -1102, "stopPrice"),
    ("STOP_MARKET without quantity", req(STOP_MARKET, quantity=None), {}, -1102, "quantity"),
    ("TP_MARKET without quantity", req(TP_MARKET, quantity=None), {}, -1102, "quantity"),
    ("price on MARKET", req(MARKET, price=D(60000)), {}, -1130, "price"),
    ("stopPrice on LIMIT", req(stop_price=D(61000)), {}, -1130, "stopPrice"),
    ("NaN price", req(price=D("NaN")), {}, -1102, "price"),
    ("infinite stopPrice", req(STOP_MARKET, stop_price=D("Infinity")), {}, -1102, "stopPrice"),
    ("zero price", req(price=D(0)), {}, -1102, "price"),
    ("negative stopPrice", req(STOP_MARKET, stop_price=D(-1)), {}, -1102, "stopPrice"),
    ("float price", req(price=60000.0), {}, -1102, "price"),
    ("zero take-profit", req(take_profit=D(0)), {}, -1102, "takeProfit"),
    ("NaN stop-loss", req(stop_loss=D("NaN")), {}, -1102, "stopLoss"),
    ("float quantity", req(quantity=0.01), {}, -1102, "quantity"),
    ("zero quantity", req(quantity=D(0)), {}, -4003, None),
    ("negative quantity", req(MARKET, quantity=D("-0.01")), {}, -4003, None),
    # 2. precision
    ("price 3 dp", req(price=D("60000.051")), {}, -1111, None),
    ("stopPrice 3 dp", req(STOP_MARKET, stop_price=D("61000.001")), {}, -1111, None),
    ("take-profit 3 dp", req(take_profit=D("61000.001")), {}, -1111, None),
    ("stop-loss 3 dp", req(stop_loss=D("59000.001")), {}, -1111, None),
    ("quantity 4 dp", req(quantity=D("0.0101")), {}, -1111, None),
    ("quantity 6 dp (Binance's example)", req(MARKET, quantity=D("0.268118")), {}, -1111, None),
    # 3. PRICE_FILTER
    ("price below minPrice", req(price=D("556.7"), quantity=D("0.1")), {}, -4013, None),
    ("stop-loss below minPrice", req(stop_loss=D("556.7")), {}, -4013, None),
    ("price above maxPrice", req(side=SELL, price=D("4529764.1"), quantity=D("0.001")), {}, -4002, None),
    ("take-profit above maxPrice", req(take_profit=D("4529764.1")), {}, -4002, None),
    ("price off tick (2 dp)", req(price=D("60000.05")), {}, -4014, None),
    ("stopPrice off tick", req(STOP_MARKET, stop_price=D("61000.01")), {}, -4014, None),
    ("take-profit off tick", req(take_profit=D("61000.01")), {}, -4014, None),
    # 4. LOT_SIZE / MARKET_LOT_SIZE
    ("qty below minQty", req(quantity=D("0.005")), {"instrument": BIG_MIN}, -4004, None),
    ("market qty below minQty", req(MARKET, quantity=D("0.005")), {"instrument": BIG_MIN}, -4004, None),
    ("qty above maxQty", req(quantity=D("1000.001")), {**RICH, "leverage": 1}, -4005, None),
    ("MARKET qty above MARKET_LOT_SIZE max", req(MARKET, quantity=D("120.001")), RICH, -4005, None),
    ("STOP_MARKET qty above MARKET_LOT_SIZE max", req(STOP_MARKET, quantity=D("121")), RICH, -4005, None),
    ("qty off step", req(quantity=D("0.012")), {"instrument": COARSE_STEP}, -4023, None),
    ("market qty off step", req(MARKET, quantity=D("0.012")), {"instrument": COARSE_STEP}, -4023, None),
    # 5. PERCENT_PRICE
    ("BUY above mark × 1.05", req(price=D("63000.1")), {}, -4016, None),
    ("SELL below mark × 0.95", req(side=SELL, price=D("56999.9")), {}, -4024, None),
    ("stop-limit BUY above stop × 1.05", req(STOP, price=D("64050.1")), {}, -4016, None),
    ("stop-limit SELL below stop × 0.95", req(STOP, SELL, price=D("56049.9")), {}, -4024, None),
    # 6. MIN_NOTIONAL
    ("LIMIT notional 49", req(quantity=D("0.001"), price=D(49000)), {"mark_price": D(49000)}, -4164, "50"),
    ("MARKET notional at mark 40", req(MARKET, quantity=D("0.001")), {"mark_price": D(40000)}, -4164, "50"),
    ("STOP_MARKET notional at mark", req(STOP_MARKET, quantity=D("0.001")), {"mark_price": D(40000)}, -4164, "50"),
    (
        "ETH notional 19.99",
        req(symbol="ETHUSDT", quantity=D("0.001"), price=D("19990")),
        {"instrument": ETH, "last_price": D(20000), "mark_price": D(20000)},
        -4164,
        "20",
    ),
    # 7. reduceOnly
    ("reduceOnly with no position", req(MARKET, SELL, reduce_only=True), {}, -2022, None),
    ("reduceOnly increasing a long", req(MARKET, BUY, reduce_only=True), LONG_1, -2022, None),
    ("reduceOnly increasing a short", req(side=SELL, reduce_only=True), SHORT_1, -2022, None),
    ("closePosition with no position", req(STOP_MARKET, SELL, close_position=True, quantity=None), {}, -2022, None),
    ("closePosition on the long's side", req(TP_MARKET, BUY, close_position=True, quantity=None), LONG_1, -2022, None),
    # 8. leverage cap
    ("150x over 300k", req(quantity=D("5.001")), {"leverage": 150}, -2027, None),
    ("150x with a long of 5", req(MARKET, quantity=D("0.001")), {"leverage": 150, "position_qty": D(5)}, -2027, None),
    (
        "150x with a resting buy of 5",
        req(quantity=D("0.001")),
        {"leverage": 150, "open_orders": (order(qty="5"),)},
        -2027,
        None,
    ),
    # 9. cost
    ("MARKET IM 600 > 599.99", req(MARKET, quantity=D("0.1")), {"available_balance": D("599.99")}, -2019, None),
    (
        "LIMIT IM 600 + open loss 100 > 650",
        req(quantity=D("0.1")),
        {"mark_price": D(59000), "available_balance": D(650)},
        -2019,
        None,
    ),
    ("flip beyond a short", req(MARKET, quantity=D("1.5")), {**SHORT_1, "available_balance": D(0)}, -2019, None),
    # 10. would immediately trigger
    ("STOP_MARKET BUY below last", req(STOP_MARKET, stop_price=D(59000)), {}, -2021, None),
    ("STOP_MARKET BUY at last", req(STOP_MARKET, stop_price=D(60000)), {}, -2021, None),
    ("STOP_MARKET SELL above last", req(STOP_MARKET, SELL, stop_price=D(61000)), {}, -2021, None),
    ("STOP BUY at last", req(STOP, stop_price=D(60000), price=D(60000)), {}, -2021, None),
    ("TAKE_PROFIT_MARKET BUY above last", req(TP_MARKET, stop_price=D(61000)), {}, -2021, None),
    ("TAKE_PROFIT_MARKET SELL at last", req(TP_MARKET, SELL, stop_price=D(60000)), {}, -2021, None),
    ("TAKE_PROFIT SELL below last", req(TP, SELL, stop_price=D(59000), price=D(59000)), {}, -2021, None),
    (
        "STOP_MARKET BUY, MARK_PRICE, below mark",
        req(STOP_MARKET, stop_price=D(60500), working_type=WorkingType.MARK_PRICE),
        {"mark_price": D(61000)},
        -2021,
        None,
    ),
    ("take-profit below a long entry", req(take_profit=D(59000)), {}, -2021, None),
    ("stop-loss above a long entry", req(stop_loss=D(61000)), {}, -2021, None),
    ("stop-loss at the entry", req(stop_loss=D(60000)), {}, -2021, None),
    ("take-profit above a short entry", req(MARKET, SELL, take_profit=D(61000)), {}, -2021, None),
    ("stop-loss below a short entry", req(MARKET, SELL, stop_loss=D(59000)), {}, -2021, None),
    ("take-profit on the wrong side of a STOP_MARKET", req(STOP_MARKET, take_profit=D(60500)), {}, -2021, None),
    # 11. max open orders
    (
        "200 open orders",
        req(),
        {"open_orders": tuple(order(SELL, qty="0.001", price="70000") for _ in range(200))},
        -2025,
        None,
    ),
]


@pytest.mark.parametrize(
    ("request_", "overrides", "code", "arg"), [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS]
)
def test_rejection(request_: OrderRequest, overrides: dict, code: int, arg: str | None):
    got = validate(request_, ctx(**overrides))
    assert got is not None
    assert int(got.code) == code
    assert got.msg == MSG[code].format(arg)
    assert got == Rejection.of(ErrorCode(code), *(() if arg is None else (arg,)))


def test_every_validation_code_is_covered():
    covered = {r[3] for r in REJECTIONS}
    assert covered == set(MSG)


def test_min_notional_message_is_formatted_like_binance():
    inst = replace(BTC, min_notional=D("5.0"))
    got = validate(req(quantity=D("0.001"), price=D(4000)), ctx(instrument=inst, mark_price=D(4000)))
    assert got is not None and got.msg == "Order's notional must be no smaller than 5 (unless you choose reduce only)"
    inst = replace(BTC, min_notional=D("100.50"))
    got = validate(req(quantity=D("0.001"), price=D(60000)), ctx(instrument=inst))
    assert got is not None and got.msg == (
        "Order's notional must be no smaller than 100.5 (unless you choose reduce only)"
    )


# -- accepted requests -----------------------------------------------------------------------------------

ACCEPTED = [
    ("LIMIT GTC", req(), {}),
    ("LIMIT IOC", req(time_in_force=TimeInForce.IOC), {}),
    ("LIMIT FOK", req(side=SELL, time_in_force=TimeInForce.FOK), {}),
    ("LIMIT GTX", req(price=D(59000), time_in_force=TimeInForce.GTX), {}),
    ("MARKET BUY", req(MARKET), {}),
    ("MARKET SELL", req(MARKET, SELL), {}),
    ("MARKET with IOC (ignored)", req(MARKET, time_in_force=TimeInForce.IOC), {}),
    ("STOP BUY", req(STOP), {}),
    ("STOP SELL", req(STOP, SELL), {}),
    ("STOP with timeInForce", req(STOP, time_in_force=TimeInForce.GTX), {}),
    ("STOP_MARKET BUY", req(STOP_MARKET), {}),
    ("STOP_MARKET SELL", req(STOP_MARKET, SELL), {}),
    ("TAKE_PROFIT BUY", req(TP), {}),
    ("TAKE_PROFIT SELL", req(TP, SELL), {}),
    ("TAKE_PROFIT_MARKET BUY", req(TP_MARKET), {}),
    ("TAKE_PROFIT_MARKET SELL", req(TP_MARKET, SELL), {}),
    (
        "STOP_MARKET closePosition (stop-loss of a long)",
        req(STOP_MARKET, SELL, close_position=True, quantity=None),
        LONG_1,
    ),
    ("TP_MARKET closePosition quantity 0", req(TP_MARKET, BUY, close_position=True, quantity=D(0)), SHORT_1),
    (
        "reduceOnly MARKET below min notional",
        req(MARKET, SELL, quantity=D("0.001"), reduce_only=True),
        {**LONG_1, "mark_price": D(40000)},
    ),
    (
        "closePosition below min notional",
        req(STOP_MARKET, SELL, close_position=True, quantity=None, stop_price=D(39000)),
        {"position_qty": D("0.001"), "mark_price": D(40000), "last_price": D(40000)},
    ),
    ("reduceOnly larger than the position", req(MARKET, SELL, quantity=D(2), reduce_only=True), LONG_1),
    ("reduceOnly STOP_MARKET", req(STOP_MARKET, BUY, reduce_only=True), SHORT_1),
    ("LIMIT with TP/SL", req(take_profit=D(66000), stop_loss=D(57000)), {}),
    ("MARKET SELL with TP/SL", req(MARKET, SELL, take_profit=D(55000), stop_loss=D(61000)), {}),
    ("Side and type as plain strings", req(side="BUY", type="LIMIT", time_in_force="GTC"), {}),  # type: ignore[arg-type]
    ("price at minPrice", req(side=SELL, price=D("556.8"), quantity=D(1)), {"mark_price": D("586")}),
    ("price at maxPrice", req(price=D(4529764), quantity=D("0.001")), {"mark_price": D(4314061)}),
    ("price 60000.1 with trailing zeros", req(price=D("60000.100")), {}),
    ("BUY exactly at mark × 1.05", req(price=D(63000)), {}),
    ("SELL exactly at mark × 0.95", req(side=SELL, price=D(57000)), {}),
    ("notional exactly 50", req(quantity=D("0.001"), price=D(50000)), {"mark_price": D(50000)}),
    ("150x exactly 300k", req(quantity=D(5)), {"leverage": 150}),
    ("cost exactly the available balance", req(MARKET, quantity=D("0.1")), {"available_balance": D(600)}),
    ("reducing a short needs no margin", req(MARKET, quantity=D(1)), {**SHORT_1, "available_balance": D(0)}),
    ("199 open orders", req(), {"open_orders": tuple(order(SELL, qty="0.001", price="70000") for _ in range(199))}),
    ("isolated", req(), {"margin_mode": MarginMode.ISOLATED}),
    (
        "MARK_PRICE stop above mark",
        req(STOP_MARKET, stop_price=D(60500), working_type=WorkingType.MARK_PRICE),
        {"mark_price": D(60000), "last_price": D(61000)},
    ),
]


@pytest.mark.parametrize(("request_", "overrides"), [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_accepted(request_: OrderRequest, overrides: dict):
    assert validate(request_, ctx(**overrides)) is None


@pytest.mark.parametrize("type_", list(OrderType))
@pytest.mark.parametrize("side", list(Side))
def test_a_valid_request_of_every_type_and_side(type_: OrderType, side: Side):
    assert validate(req(type_, side), ctx()) is None


# -- check order -----------------------------------------------------------------------------------------

CHECK_ORDER = [
    # (id, request, overrides, expected code, the later code it also fails)
    ("symbol before side", req(symbol="X", side="buy"), {}, -1121, -1117),  # type: ignore[arg-type]
    ("side before mandatory", req(side="x", price=None), {}, -1117, -1102),  # type: ignore[arg-type]
    (
        "closePosition+qty before qty<=0",
        req(STOP_MARKET, SELL, close_position=True, quantity=D(-1)),
        LONG_1,
        -4137,
        -4003,
    ),
    ("mandatory before quantity<=0", req(price=None, quantity=D(0)), {}, -1102, -4003),
    ("quantity<=0 before precision", req(quantity=D(0), price=D("60000.051")), {}, -4003, -1111),
    ("precision before PRICE_FILTER", req(price=D("500.001")), {}, -1111, -4013),
    ("qty precision before PRICE_FILTER", req(price=D(500), quantity=D("0.0001")), {}, -1111, -4013),
    ("PRICE_FILTER before LOT_SIZE", req(price=D("500"), quantity=D("0.005")), {"instrument": BIG_MIN}, -4013, -4004),
    ("min price before tick", req(price=D("500.05")), {}, -4013, -4014),
    (
        "LOT_SIZE before PERCENT_PRICE",
        req(price=D(70000), quantity=D("0.012")),
        {"instrument": COARSE_STEP},
        -4023,
        -4016,
    ),
    ("PERCENT_PRICE before MIN_NOTIONAL", req(side=SELL, price=D(40000), quantity=D("0.001")), {}, -4024, -4164),
    ("MIN_NOTIONAL before cost", req(quantity=D("0.001"), price=D(49000)), {"available_balance": D(0)}, -4164, -2019),
    (
        "reduceOnly before max orders",
        req(MARKET, SELL, reduce_only=True),
        {"open_orders": tuple(order(qty="0.001", price="50000") for _ in range(200))},
        -2022,
        -2025,
    ),
    ("leverage cap before cost", req(quantity=D(6)), {"leverage": 150, "available_balance": D(0)}, -2027, -2019),
    ("cost before trigger", req(STOP_MARKET, stop_price=D(59000)), {"available_balance": D(0)}, -2019, -2021),
    (
        "trigger before max orders",
        req(STOP_MARKET, stop_price=D(59000)),
        {"open_orders": tuple(order(qty="0.001", price="50000") for _ in range(200))},
        -2021,
        -2025,
    ),
]


@pytest.mark.parametrize(
    ("request_", "overrides", "first", "later"), [c[1:] for c in CHECK_ORDER], ids=[c[0] for c in CHECK_ORDER]
)
def test_check_order(request_: OrderRequest, overrides: dict, first: int, later: int):
    assert code_of(request_, ctx(**overrides)) == first


def test_check_order_cases_really_fail_the_later_check():
    # The later check of each pair, on its own (a sanity check of the table above).
    assert code_of(req(side="x")) == -1117  # type: ignore[arg-type]
    assert code_of(req(quantity=D(0))) == -4003
    assert code_of(req(price=D("500"))) == -4013
    assert code_of(req(price=D(70000))) == -4016
    assert code_of(req(quantity=D("0.001"), price=D(40000))) == -4164
    assert code_of(req(), ctx(available_balance=D(0))) == -2019
    assert code_of(req(STOP_MARKET, stop_price=D(59000))) == -2021
    assert code_of(req(), ctx(open_orders=tuple(order(qty="0.001", price="50000") for _ in range(200)))) == -2025


# -- LOT_SIZE property -----------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=999_999), st.sampled_from([LIMIT, MARKET, STOP, STOP_MARKET, TP_MARKET]))
@example(0, LIMIT)
@example(999_999, LIMIT)
@example(0, MARKET)
@example(119_999, MARKET)
def test_any_quantity_on_the_step_grid_within_bounds_passes(k: int, type_: OrderType):
    market = type_ in (MARKET, STOP_MARKET, TP_MARKET)
    low, high, step = (
        (BTC.market_min_qty, BTC.market_max_qty, BTC.market_step_size)
        if market
        else (BTC.min_qty, BTC.max_qty, BTC.step_size)
    )
    qty = low + (k % int((high - low) / step + 1)) * step
    assert low <= qty <= high
    # 1x (cap 1.8B) and a bottomless balance, so nothing after LOT_SIZE can fail either.
    assert validate(req(type_, quantity=qty), ctx(leverage=1, available_balance=D(10) ** 12)) is None


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=10**6))
def test_quantities_off_a_coarse_step_grid_fail_lot_size(n: int):
    qty = D(n) / 1000  # within quantityPrecision 3
    got = code_of(req(quantity=qty), ctx(instrument=COARSE_STEP, leverage=1, available_balance=D(10) ** 12))
    if qty > COARSE_STEP.max_qty:
        assert got == -4005
    elif (qty - COARSE_STEP.min_qty) % COARSE_STEP.step_size:
        assert got == -4023
    else:
        assert got is None


# -- margin rule -----------------------------------------------------------------------------------------


def test_margin_price():
    c = ctx(last_price=D(60010), mark_price=D(60000))
    assert margin_price(req(), c) == D(60000)
    assert margin_price(req(MARKET), c) == D(60010)  # market orders at the last price
    assert margin_price(req(STOP_MARKET), c) == D(61000)  # conditionals as at their trigger
    assert margin_price(req(STOP, price=D(61100)), c) == D(61100)


def test_market_order_cost_uses_last_price_and_open_loss_against_mark():
    c = ctx(last_price=D(60100), mark_price=D(60000))
    # IM 0.1 × 60,100 / 10 = 601, open loss 0.1 × 100 = 10.
    assert required_margin(req(MARKET, quantity=D("0.1")), c) == D(611)
    # A market short is priced at max(last × 1.0015, mark) = max(60,190.15, 60,000) (§1.5, 2024 revision):
    # IM 0.1 × 60,190.15 / 10 = 601.9015, no open loss.
    assert required_margin(req(MARKET, SELL, quantity=D("0.1")), c) == D("601.9015")
    assert code_of(req(MARKET, quantity=D("0.1")), replace(c, available_balance=D("610.99"))) == -2019
    assert code_of(req(MARKET, quantity=D("0.1")), replace(c, available_balance=D(611))) is None


def test_binance_cost_example_through_validation():
    # §1.5: 1 BTC at 9,253.30, 20x, mark 9,259.84: a long costs 462.665, a short 469.205.
    c = ctx(last_price=D("9259.8"), mark_price=D("9259.84"), leverage=20)
    long_, short = req(quantity=D(1), price=D("9253.3")), req(side=SELL, quantity=D(1), price=D("9253.3"))
    assert required_margin(long_, c) == D("462.665")
    assert required_margin(short, c) == D("469.205")
    assert code_of(long_, replace(c, available_balance=D("462.665"))) is None
    assert code_of(short, replace(c, available_balance=D("469.204"))) == -2019


def test_conditional_orders_are_valued_as_at_their_trigger():
    # A STOP_MARKET buy at 61,000: IM at 61,000, no open loss although the mark is 60,000 now.
    assert required_margin(req(STOP_MARKET, quantity=D("0.1")), ctx()) == D(610)
    # A stop-limit buy, stop 61,000, limit 61,100: open loss 0.1 × 100 against the stop.
    assert required_margin(req(STOP, quantity=D("0.1"), price=D(61100)), ctx()) == D(611) + D(10)


def test_reducing_part_is_free_and_only_the_flip_costs():
    c = ctx(position_qty=D(-1))
    assert opening_quantity(req(MARKET, quantity=D("0.4")), c) == 0
    assert opening_quantity(req(MARKET, quantity=D("1.5")), c) == D("0.5")
    assert required_margin(req(MARKET, quantity=D("1.5")), c) == D(3000)  # 0.5 × 60,000 / 10
    # Increasing the short costs in full.
    assert opening_quantity(req(MARKET, SELL, quantity=D("0.4")), c) == D("0.4")


def test_same_side_queued_orders_use_up_the_reduce_capacity():
    resting = order(BUY, qty="0.6", price="59000")
    c = ctx(position_qty=D(-1), open_orders=(resting,))
    assert opening_quantity(req(MARKET, quantity=D("0.4")), c) == 0
    assert opening_quantity(req(MARKET, quantity=D(1)), c) == D("0.6")
    # A partly filled resting order queues only its remainder.
    partly = order(BUY, qty="0.6", price="59000", executed_qty=D("0.5"), status=OrderStatus.PARTIALLY_FILLED)
    assert opening_quantity(req(MARKET, quantity=D(1)), ctx(position_qty=D(-1), open_orders=(partly,))) == D("0.1")
    # Closed orders, untriggered conditionals and closePosition orders hold no queue place.
    idle = (
        order(BUY, qty="1", status=OrderStatus.FILLED),
        order(BUY, STOP_MARKET, qty="1", stop_price="61000"),
        order(BUY, TP_MARKET, qty="0", stop_price="59000", close_position=True),
    )
    assert opening_quantity(req(MARKET, quantity=D(1)), ctx(position_qty=D(-1), open_orders=idle)) == 0
    triggered = order(BUY, STOP_MARKET, qty="1", stop_price="61000", triggered=True)
    assert opening_quantity(req(MARKET, quantity=D(1)), ctx(position_qty=D(-1), open_orders=(triggered,))) == D(1)
    # Orders on the other side do not matter.
    assert opening_quantity(req(MARKET, quantity=D(1)), ctx(position_qty=D(-1), open_orders=(order(SELL),))) == 0


def test_queued_orders_turn_a_free_reduction_into_a_costly_open():
    c = ctx(position_qty=D(-1), open_orders=(order(BUY, qty="1", price="59000"),), available_balance=D(0))
    assert code_of(req(MARKET, quantity=D(1)), c) == -2019
    assert code_of(req(MARKET, quantity=D(1)), replace(c, open_orders=())) is None


def test_reduce_only_and_close_position_need_no_margin():
    c = ctx(position_qty=D(1), available_balance=D(0))
    assert required_margin(req(MARKET, SELL, quantity=D(1), reduce_only=True), c) == 0
    assert required_margin(req(STOP_MARKET, SELL, close_position=True, quantity=None), c) == 0
    assert code_of(req(MARKET, SELL, quantity=D(1), reduce_only=True), c) is None


def test_leverage_cap_ignores_reducing_orders_and_counts_the_flip():
    c = ctx(leverage=150, position_qty=D(-5))
    assert code_of(req(MARKET, quantity=D(5)), c) is None  # closes the short: reach 0
    assert code_of(req(MARKET, quantity=D(10)), c) is None  # flips to a 5 BTC long: 300,000
    assert code_of(req(MARKET, quantity=D("10.001")), c) == -2027
    # The leverage cap values a market order at the mark.
    assert code_of(req(MARKET, quantity=D(5)), ctx(leverage=150, mark_price=D("60000.1"))) == -2027
    # Reduce-only and other-side open orders do not count toward the reach.
    resting = (order(BUY, qty="5", reduce_only=True), order(SELL, qty="5", price="61000"))
    assert code_of(req(quantity=D(5)), ctx(leverage=150, open_orders=resting, position_qty=D(0))) is None


# -- helpers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("50", "50"),
        ("5.0", "5"),
        ("0.001", "0.001"),
        ("1E+2", "100"),
        ("100.50", "100.5"),
        ("0.000", "0"),
        ("-0", "0"),
        ("1800000000", "1800000000"),
    ],
)
def test_format_decimal(value: str, text: str):
    assert format_decimal(D(value)) == text


@pytest.mark.parametrize(
    ("side", "price", "taken"),
    [
        (BUY, "60000.1", True),
        (BUY, "60000", True),
        (BUY, "59999.9", False),
        (SELL, "59999.9", True),
        (SELL, "60000", True),
        (SELL, "60000.1", False),
    ],
)
def test_would_take(side: Side, price: str, taken: bool):
    assert would_take(side, D(price), D(60000)) is taken


def test_validate_is_pure():
    c = ctx(open_orders=(order(),))
    r = req()
    before = (c, r)
    for _ in range(3):
        assert validate(r, c) is None
    assert (c, r) == before
    assert isinstance(c.instrument, Instrument)
