"""The engine's value classes stay frozen dataclasses after ``quick_init``, and the enum flags read as before."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from decimal import Decimal as D

import pytest

from hexdesk.engine import (
    Fill,
    LiquidityRole,
    Order,
    OrderFilled,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TimeInForce,
    WorkingType,
)
from hexdesk.engine.values import evolve, quick_init


def _order() -> Order:
    return Order(
        7, "c-7", "BTCUSDT", Side.SELL, OrderType.STOP_MARKET, D("0.050"), D("0"), D("79000.0"), TimeInForce.GTC,
        True, True, WorkingType.MARK_PRICE, False, OrderStatus.NEW, D("0"), D("0"), 1, 2, parent_order_id=6,
    )


def _fill() -> Fill:
    return Fill(3, 7, "BTCUSDT", Side.SELL, D("78999.9"), D("0.050"), D("1.97499750"), "USDT",
                LiquidityRole.TAKER, D("-50.00500000"), 9)


@pytest.mark.parametrize("value", [_order(), _fill(), OrderFilled(5, 9, _order(), _fill())])
def test_quick_init_values_are_frozen_dataclasses_as_before(value: object) -> None:
    cls = type(value)
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    assert type(value) is cls and cls.__name__ in repr(value)
    rebuilt = cls(**{n: getattr(value, n) for n in names})
    assert rebuilt == value and hash(rebuilt) == hash(value)
    assert pickle.loads(pickle.dumps(value)) == value and copy.deepcopy(value) == value
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, names[0], None)
    assert not hasattr(value, "__dict__")  # slots, as before


def test_the_signature_and_defaults_are_the_dataclass_ones() -> None:
    params = inspect.signature(Order).parameters
    assert list(params) == [f.name for f in dataclasses.fields(Order)]
    assert params["triggered"].default is False and params["parent_order_id"].default is None
    request = OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET)
    assert (request.quantity, request.working_type, request.reduce_only) == (None, WorkingType.CONTRACT_PRICE, False)
    with pytest.raises(TypeError):
        Order(1, "c")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, quantity=D(1), size=D(1))  # type: ignore[call-arg]


def test_evolve_is_dataclasses_replace() -> None:
    order = _order()
    changes = {"status": OrderStatus.FILLED, "executed_qty": D("0.050"), "avg_price": D("78999.9"), "updated_ms": 5}
    assert evolve(order, **changes) == dataclasses.replace(order, **changes)
    assert order.evolve(**changes) == dataclasses.replace(order, **changes)
    assert order.evolve() == order and order.evolve() is not order
    assert order.status is OrderStatus.NEW  # the original is untouched
    position = Position("BTCUSDT", "ISOLATED", 10, D("0.05"), D("80000"), D("80100"), D("400"), D("5"),  # type: ignore[arg-type]
                        D("4005"), D("400.5"), D("16.02"), D("0.039"), D("76380"), D("72000"))
    assert evolve(position, quantity=D("0.1")) == dataclasses.replace(position, quantity=D("0.1"))
    with pytest.raises(TypeError):
        evolve(order, size=D(1))


def test_quick_init_refuses_what_it_cannot_keep_the_same() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class WithPostInit:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(slots=True)
    class Mutable:
        a: int

    for cls in (NoSlots, WithPostInit, Mutable):
        with pytest.raises(TypeError):
            quick_init(cls)


def test_enum_flags_are_binance_s() -> None:
    assert [(s, s.sign) for s in Side] == [(Side.BUY, 1), (Side.SELL, -1)]
    assert Side.BUY.opposite is Side.SELL and Side("SELL").sign == -1
    assert {t for t in OrderType if t.is_conditional} == {
        OrderType.STOP, OrderType.STOP_MARKET, OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_MARKET,
    }
    assert {t for t in OrderType if t.has_limit_price} == {OrderType.LIMIT, OrderType.STOP, OrderType.TAKE_PROFIT}
    assert {s for s in OrderStatus if s.is_open} == {OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED}


def test_executed_and_ended_are_evolve_written_out() -> None:
    order = _order()
    assert order.executed(D("0.050"), D("78999.9"), OrderStatus.FILLED, 5) == dataclasses.replace(
        order, executed_qty=D("0.050"), avg_price=D("78999.9"), status=OrderStatus.FILLED, updated_ms=5
    )
    for status in (OrderStatus.CANCELED, OrderStatus.EXPIRED):
        assert order.ended(status, 8) == dataclasses.replace(order, status=status, updated_ms=8)
