"""The ticket's field rules refuse what the engine refuses, with the same Binance code (reference §3.4).

A value the field lets through must not come back from the engine as a precision / filter error, and a value it
refuses must be one the engine would refuse for the same reason: the field only says it earlier, next to itself.
"""

from decimal import Decimal

import pytest

from hexdesk.engine import Exchange
from hexdesk.engine.enums import OrderType, Side, TimeInForce
from hexdesk.engine.errors import BinanceError
from hexdesk.engine.orders import OrderRequest
from hexdesk.ui.number_field import leverage_rule, price_rule, quantity_rule

LAST = Decimal("85000")


@pytest.fixture
def exchange() -> Exchange:
    ex = Exchange(wallet_balance=Decimal("100000000"))
    ex.on_tick("BTCUSDT", 0, LAST)
    return ex


def engine_code(ex: Exchange, request: OrderRequest) -> int | None:
    result = ex.submit(request)
    return None if result.ok else int(result.rejection.code)


def field_code(problem: str | None) -> int | None:
    return None if problem is None else int(problem.split()[0])


@pytest.mark.parametrize("price", ["85000.05", "85000.051", "500", "5000000", "85000.1", "84999.9", "85000.10"])
def test_limit_price_rule_matches_the_engine(exchange, price):
    inst = exchange.instruments["BTCUSDT"]
    value = Decimal(price)
    request = OrderRequest("BTCUSDT", Side.BUY, OrderType.LIMIT, quantity=Decimal("0.01"), price=value,
                           time_in_force=TimeInForce.GTC)
    expected = engine_code(exchange, request)
    got = field_code(price_rule(inst)(value))
    if got is None:  # the field accepts: the engine raises no price-filter / precision error either
        assert expected not in (-1111, -4013, -4002, -4014)
    else:
        assert got == expected


@pytest.mark.parametrize(("kind", "qty"), [
    (OrderType.MARKET, "0.0001"), (OrderType.MARKET, "121"), (OrderType.MARKET, "120"), (OrderType.MARKET, "0.001"),
    (OrderType.LIMIT, "1001"), (OrderType.LIMIT, "0.0005"), (OrderType.LIMIT, "0.5"),
])
def test_quantity_rule_matches_the_engine(exchange, kind, qty):
    inst = exchange.instruments["BTCUSDT"]
    value = Decimal(qty)
    extra = {"price": Decimal("80000"), "time_in_force": TimeInForce.GTC} if kind is OrderType.LIMIT else {}
    request = OrderRequest("BTCUSDT", Side.BUY, kind, quantity=value, **extra)
    expected = engine_code(exchange, request)
    got = field_code(quantity_rule(inst, kind)(value))
    if got is None:
        assert expected not in (-1111, -4004, -4005, -4023)
    else:
        assert got == expected


@pytest.mark.parametrize(("leverage", "accepted"), [(1, True), (150, True), (151, False), (0, False)])
def test_leverage_rule_matches_the_engine(exchange, leverage, accepted):
    inst = exchange.instruments["BTCUSDT"]
    rule_ok = leverage_rule("BTCUSDT", inst.max_leverage)(Decimal(leverage)) is None
    try:
        exchange.set_leverage("BTCUSDT", leverage)
        engine_ok = True
    except BinanceError:  # -4028
        engine_ok = False
    assert rule_ok is engine_ok is accepted
