"""Hostile values at the engine's door (issue 6, point 5).

Every public Exchange call answers a value it cannot trade on (NaN, sNaN, ±Infinity, 1e21, 1e1000000, a bool where
an int belongs, a string where a number belongs, an unknown symbol) with a Binance error, a Rejection in the Result
or a BinanceError, never another exception, and leaves the state and the event log as they were. The property
tests throw such values at every public method in random sequences interleaved with valid trading (the valid
actions of test_properties), and check after every call that nothing else escaped, and at the end that
rebuild(events) is still the live state.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hexdesk.engine import (
    BinanceError,
    DefaultFillModel,
    ErrorCode,
    Exchange,
    MarginMode,
    OrderRequest,
    OrderType,
    Result,
    Side,
    TimeInForce,
    WorkingType,
    rebuild,
)
from tests.engine._exchange_helpers import BTC, ETH, D, H, names
from tests.engine.test_properties import START, _Runner, actions

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- values no parameter of its kind may take ---------------------------------------------------------------

SPECIAL = [
    D("NaN"), D("-NaN"), D("sNaN"), D("Infinity"), D("-Infinity"), D("1e1000000"), D("-1e1000000"), D("1e21"),
    D("-1e21"), D("1e-30"), D("1e-1000000"),
]


class _ClaimsToBeDecimal:
    """An object whose __class__ says Decimal (isinstance() believes it; type() does not)."""

    __class__ = property(lambda self: Decimal)  # type: ignore[assignment]

    def __lt__(self, other: object) -> bool:
        return True

    __le__ = __gt__ = __ge__ = __lt__


not_decimals = st.one_of(
    st.integers(), st.booleans(), st.floats(), st.text(max_size=6), st.lists(st.integers(), max_size=2),
    st.just(object()), st.builds(_ClaimsToBeDecimal),
)
# A Decimal-valued parameter: never a non-Decimal, never non-finite or of absurd magnitude.
bad_number = st.one_of(st.sampled_from(SPECIAL), not_decimals)
bad_required_number = st.one_of(bad_number, st.none())
bad_symbol = st.one_of(
    st.text(max_size=10).filter(lambda s: s not in (BTC, ETH)), st.integers(), st.none(), st.booleans(),
    st.lists(st.text(max_size=3), max_size=2), st.sampled_from(SPECIAL),
)
bad_leverage = st.one_of(
    st.booleans(), st.integers().filter(lambda i: not 1 <= i <= 125), st.decimals(), st.floats(),
    st.text(max_size=4), st.none(),
)
bad_mode = st.one_of(
    st.text(max_size=10).filter(lambda s: s not in ("ISOLATED", "CROSSED", "CROSS")), st.integers(), st.none(),
    st.booleans(), st.sampled_from(SPECIAL),
)
bad_order_id = st.one_of(st.booleans(), st.decimals(), st.floats(), st.text(max_size=4), st.none())
bad_ts = st.one_of(
    st.booleans(), st.floats(), st.decimals(), st.text(max_size=4), st.none(), st.integers(max_value=-1),
    st.integers(min_value=4_102_444_800_001),
)
# Below the tick size of every symbol (BTCUSDT 0.1, ETHUSDT 0.01): 0.01 is a legal ETHUSDT print (guards.price_bounds).
bad_price = st.one_of(
    bad_required_number, st.sampled_from([D(0), D("-0"), D(-1), D("-60000"), D("0.001"), D("5e6"), D("1e18")])
)
bad_volume = st.one_of(bad_number, st.sampled_from([D(-1), D("-0.5"), D("1e-12")]))
bad_enum = st.one_of(st.text(max_size=6).map(str.lower), st.integers(), st.none(), st.sampled_from(SPECIAL))
bad_flag = st.one_of(st.integers(), st.none(), st.text(max_size=4), st.sampled_from(SPECIAL))
bad_client_id = st.one_of(st.integers(), st.booleans(), st.sampled_from(SPECIAL), st.lists(st.integers(), max_size=1))
symbols = st.sampled_from([BTC, ETH])
anything = st.one_of(
    bad_number, bad_symbol, st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([BTC, ETH, "CROSSED", "BUY", None, 5, True, D("60000.0"), D("0.010"), 0, 3]),
    st.builds(OrderRequest, symbols, st.sampled_from(list(Side)), st.sampled_from(list(OrderType)),
              quantity=st.one_of(st.none(), st.decimals(allow_nan=True, allow_infinity=True)),
              price=st.one_of(st.none(), st.decimals(allow_nan=True, allow_infinity=True))),
)


def _fingerprint(ex: Exchange) -> tuple[Any, ...]:
    """Everything a refused call must leave as it was."""
    per_symbol = tuple(
        (s, ex.last_price(s), ex.mark_price(s), ex.funding_rate(s), ex.leverage(s), ex.margin_mode(s))
        for s in (BTC, ETH)
    )
    return ex.state(), ex.account(), len(ex.events), ex.now_ms, per_symbol


# -- one call with at least one bad argument -----------------------------------------------------------------


@st.composite
def bad_call(draw: st.DrawFn) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """(method, args, kwargs) of a public Exchange call with at least one argument it must refuse."""
    kind = draw(st.sampled_from([
        "on_tick", "submit", "preview", "cancel", "cancel_all", "amend", "set_leverage", "set_margin_mode",
        "set_funding_rate", "transfer_margin", "query", "open_orders", "subscribe",
    ]))

    def pick(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any], is_bad: bool) -> Any:
        return draw(bad if is_bad else good)

    if kind == "on_tick":
        which = draw(st.sampled_from(["symbol", "ts", "last", "mark", "volume"]))
        args = (
            pick(symbols, bad_symbol, which == "symbol"),
            pick(st.integers(10**12, 2 * 10**12), bad_ts, which == "ts"),
            pick(st.sampled_from([D("60000.0"), D("3000.00")]), bad_price, which == "last"),
        )
        kwargs = {
            "mark": pick(st.none(), bad_price.filter(lambda v: v is not None), which == "mark"),
            "bar_volume": pick(st.sampled_from([None, D(0), D("12.5")]), bad_volume, which == "volume"),
        }
        return kind, args, kwargs
    if kind in ("submit", "preview"):
        return kind, (draw(bad_request()),), {}
    if kind == "cancel":
        which = draw(st.booleans())
        return kind, (pick(symbols, bad_symbol, which), pick(st.integers(1, 5), bad_order_id, not which)), {}
    if kind == "cancel_all":
        return kind, (draw(bad_symbol),), {}
    if kind == "amend":
        which = draw(st.sampled_from(["symbol", "id", "quantity", "price"]))
        return kind, (
            pick(symbols, bad_symbol, which == "symbol"),
            pick(st.integers(1, 5), bad_order_id, which == "id"),
        ), {
            "quantity": pick(st.none(), bad_number, which == "quantity"),
            "price": pick(st.none(), bad_number, which == "price"),
        }
    if kind == "set_leverage":
        which = draw(st.booleans())
        return kind, (pick(symbols, bad_symbol, which), pick(st.integers(1, 20), bad_leverage, not which)), {}
    if kind == "set_margin_mode":
        which = draw(st.booleans())
        return kind, (pick(symbols, bad_symbol, which), pick(st.sampled_from(["CROSSED", "ISOLATED"]), bad_mode,
                                                              not which)), {}
    if kind == "set_funding_rate":
        which = draw(st.booleans())
        rate = pick(st.sampled_from([D("0.0001"), D("-0.0002")]), bad_required_number, not which)
        return kind, (pick(symbols, bad_symbol, which), rate), {}
    if kind == "transfer_margin":
        which = draw(st.booleans())
        amount = pick(st.sampled_from([D("10"), D("-5")]), bad_required_number, not which)
        return kind, (pick(symbols, bad_symbol, which), amount), {}
    if kind == "query":
        name = draw(st.sampled_from(["position", "leverage", "margin_mode", "last_price", "mark_price",
                                     "funding_rate"]))
        return name, (draw(bad_symbol.filter(lambda s: s is not None)),), {}
    if kind == "open_orders":
        return kind, (draw(bad_symbol.filter(lambda s: s is not None)),), {}
    return kind, (draw(st.one_of(bad_number, st.text(max_size=3), st.none())),), {}


@st.composite
def bad_request(draw: st.DrawFn) -> Any:
    """An order request with one field the door must refuse (or no OrderRequest at all)."""
    base = draw(st.sampled_from([
        OrderRequest.market(BTC, Side.BUY, D("0.010")),
        OrderRequest.limit(BTC, Side.SELL, D("0.010"), D("60100.0")),
        OrderRequest.stop_market(ETH, Side.SELL, D("2900.00"), D("0.100")),
        OrderRequest.market(ETH, Side.SELL, D("0.100"), take_profit=D("2800.00"), stop_loss=D("3100.00")),
    ]))
    field = draw(st.sampled_from([
        "request", "symbol", "side", "type", "quantity", "price", "stop_price", "time_in_force", "reduce_only",
        "close_position", "working_type", "price_protect", "client_order_id", "take_profit", "stop_loss",
    ]))
    bad: dict[str, st.SearchStrategy[Any]] = {
        "symbol": bad_symbol, "side": bad_enum, "type": bad_enum, "quantity": bad_number, "price": bad_number,
        "stop_price": bad_number, "time_in_force": bad_enum.filter(lambda v: v is not None),
        "reduce_only": bad_flag, "close_position": bad_flag, "working_type": bad_enum, "price_protect": bad_flag,
        "client_order_id": bad_client_id, "take_profit": bad_number, "stop_loss": bad_number,
    }
    if field == "request":
        return draw(st.one_of(st.none(), st.text(max_size=4), st.integers(), st.just(dataclasses.asdict(base))))
    return dataclasses.replace(base, **{field: draw(bad[field])})


def _refused(ex: Exchange, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """The call is answered with a Binance error and changes nothing (state, log, clock, settings)."""
    before = _fingerprint(ex)
    rejected_ticks = ex.rejected_ticks
    try:
        outcome = getattr(ex, method)(*args, **kwargs)
    except BinanceError as exc:
        assert isinstance(exc.code, ErrorCode)
    else:
        assert isinstance(outcome, Result), (method, args, kwargs, outcome)
        assert not outcome.ok and outcome.rejection is not None and outcome.events == ()
    assert _fingerprint(ex) == before, (method, args, kwargs)
    assert ex.rejected_ticks == rejected_ticks + (method == "on_tick")


@SETTINGS
@given(
    mode=st.sampled_from(list(MarginMode)),
    steps=st.lists(st.one_of(actions, bad_call().map(lambda c: ("bad", c))), min_size=5, max_size=40),
)
def test_bad_values_are_refused_and_change_nothing(mode: MarginMode, steps: list) -> None:
    runner = _Runner(mode, 20, D("20000"))
    for step in steps:
        if step[0] == "bad":
            _refused(runner.ex, *step[1])
        else:
            runner.apply(step)
    ex = runner.ex
    assert ex.state() == rebuild(ex.events)
    assert [e.seq for e in ex.events] == list(range(1, len(ex.events) + 1))


# -- any call at all ----------------------------------------------------------------------------------------

any_call = st.tuples(
    st.sampled_from([
        "on_tick", "submit", "preview", "cancel", "cancel_all", "amend", "set_leverage", "set_margin_mode",
        "set_funding_rate", "transfer_margin", "position", "positions", "open_orders", "account", "leverage",
        "margin_mode", "last_price", "mark_price", "funding_rate", "state", "subscribe",
    ]),
    st.lists(anything, max_size=5),
)


@SETTINGS
@given(steps=st.lists(st.one_of(actions, any_call.map(lambda c: ("any", c))), min_size=5, max_size=40))
def test_arbitrary_calls_answer_results_or_binance_errors(steps: list) -> None:
    """Whatever is thrown at any public method: a normal answer, a Result or a BinanceError, and the log still
    rebuilds the live state."""
    runner = _Runner(MarginMode.ISOLATED, 20, D("20000"))
    for step in steps:
        if step[0] != "any":
            runner.apply(step)
            continue
        method, args = step[1]
        try:
            getattr(runner.ex, method)(*args)
        except BinanceError:
            pass
        except TypeError as exc:  # only a wrong *number* of arguments may be a Python error: the call never ran
            assert "argument" in str(exc), exc
        runner.ex.positions()
        runner.ex.account()
    ex = runner.ex
    assert ex.state() == rebuild(ex.events)


# -- the findings of the issue, one by one ------------------------------------------------------------------


def _ready() -> Exchange:
    ex = Exchange(wallet_balance=D("10000"))
    for s, p in START.items():
        ex.on_tick(s, H, p)
    return ex


@pytest.mark.parametrize("value", [D("NaN"), D("sNaN"), D("Infinity"), D("-Infinity"), D(0), D(-1), D("1e21")])
def test_on_tick_refuses_a_bad_price_counts_it_and_goes_on(value: Decimal) -> None:
    ex = _ready()
    before = _fingerprint(ex)
    with pytest.raises(BinanceError) as info:
        ex.on_tick(BTC, H + 1000, value)
    assert info.value.code in (ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED, ErrorCode.INVALID_PARAMETER)
    assert ex.rejected_ticks == 1
    assert _fingerprint(ex) == before
    assert ex.positions() == ()  # today +Infinity was accepted and positions() then raised
    assert ex.on_tick(BTC, H + 2000, D("60010.0")) == ()  # the feed goes on
    assert ex.last_price(BTC) == D("60010.0")


def test_on_tick_refuses_an_unknown_symbol_with_1121() -> None:
    ex = _ready()
    with pytest.raises(BinanceError) as info:
        ex.on_tick("DOGEUSDT", H + 1000, D("0.1"))
    assert info.value.code is ErrorCode.BAD_SYMBOL
    assert ex.rejected_ticks == 1


def test_a_nan_volume_tick_is_refused_so_a_market_buy_after_it_is_all_or_nothing() -> None:
    """Today: the NaN volume was stored, the buy raised inside the fill model after OrderAccepted was logged, and
    rebuild showed an open order the live state did not have."""
    ex = _ready()
    with pytest.raises(BinanceError) as info:
        ex.on_tick(BTC, H + 60_000, D("60000.0"), bar_volume=D("NaN"))
    assert info.value.code is ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED
    result = ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.010")))
    assert result.ok, result.rejection
    assert ex.state() == rebuild(ex.events)
    assert ex.open_orders() == ()


class _BrokenFillModel(DefaultFillModel):
    """A fill model that fails after the order was accepted (a plug-in bug, a value it cannot price)."""

    def market_fills(self, *args: Any, **kwargs: Any) -> list[tuple[Decimal, Decimal]]:
        raise ArithmeticError("no price for this")


def test_submit_rolls_back_when_execution_fails_half_way() -> None:
    ex = Exchange(wallet_balance=D("10000"), fill_model=_BrokenFillModel())
    ex.on_tick(BTC, H, D("60000.0"))
    seen: list = []
    ex.subscribe(seen.append)
    before = _fingerprint(ex)
    result = ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.010"), stop_loss=D("59000.0")))
    assert not result.ok and result.rejection is not None
    assert result.rejection.code is ErrorCode.NEW_ORDER_REJECTED
    assert result.events == () and seen == []
    assert _fingerprint(ex) == before
    assert ex.state() == rebuild(ex.events)
    # the ids were rolled back too: the next accepted order is order 1
    ok = ex.submit(OrderRequest.limit(BTC, Side.BUY, D("0.010"), D("59000.0")))
    assert ok.ok and ok.order is not None and ok.order.order_id == 1


def test_set_leverage_true_is_not_1x() -> None:
    ex = _ready()
    with pytest.raises(BinanceError) as info:
        ex.set_leverage(BTC, True)  # type: ignore[arg-type]
    assert info.value.code is ErrorCode.INVALID_LEVERAGE
    assert info.value.rejection.msg == "Leverage True is not valid"
    assert ex.leverage(BTC) == 20
    assert ex.state() == rebuild(ex.events)


def test_margin_mode_takes_binance_spellings_and_refuses_others() -> None:
    ex = _ready()
    with pytest.raises(BinanceError) as info:
        ex.set_margin_mode(BTC, "abc")  # type: ignore[arg-type]
    assert info.value.code is ErrorCode.INVALID_PARAMETER
    assert names(ex.set_margin_mode(BTC, "CROSSED")) == ["MarginModeChanged"]  # type: ignore[arg-type]
    assert ex.margin_mode(BTC) is MarginMode.CROSS
    assert names(ex.set_margin_mode(BTC, "ISOLATED")) == ["MarginModeChanged"]  # type: ignore[arg-type]
    assert ex.margin_mode(BTC) is MarginMode.ISOLATED
    assert ex.state() == rebuild(ex.events)


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (D("NaN"), ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED),
        (D("1e21"), ErrorCode.MARGIN_NOT_SUFFICIENT),
        (D("-1e21"), ErrorCode.ISOLATED_BALANCE_INSUFFICIENT),
        (5, ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED),
    ],
)
def test_transfer_margin_refuses_what_no_wallet_holds(amount: Any, code: ErrorCode) -> None:
    ex = _ready()
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.010"))).ok
    before = _fingerprint(ex)
    with pytest.raises(BinanceError) as info:
        ex.transfer_margin(BTC, amount)
    assert info.value.code is code
    assert _fingerprint(ex) == before


@pytest.mark.parametrize("rate", ["NaN", "sNaN", "Infinity", "1e21", "-1E+1000000", "1.5"])
def test_set_funding_rate_refuses_what_no_market_pays(rate: str) -> None:
    ex = _ready()
    with pytest.raises(BinanceError) as info:
        ex.set_funding_rate(BTC, D(rate))
    assert info.value.code is ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED
    assert ex.funding_rate(BTC) == 0


def test_a_rate_beyond_the_cap_is_clamped_as_binance_caps_it() -> None:
    ex = _ready()
    ex.set_funding_rate(BTC, D("0.01"))  # 1% per 8 h: beyond BTCUSDT's 0.3% cap (reference §2)
    assert ex.funding_rate(BTC) == D("0.003")


@pytest.mark.parametrize(
    ("quantity", "code"),
    [
        (D("1e1000000"), ErrorCode.QTY_GREATER_THAN_MAX_QTY),  # today: decimal.Overflow
        (D("1e21"), ErrorCode.QTY_GREATER_THAN_MAX_QTY),
        (D("-1e1000000"), ErrorCode.QTY_LESS_THAN_ZERO),
        (D("sNaN"), ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED),
        (D("1e-1000000"), ErrorCode.BAD_PRECISION),
        (0.01, ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED),
    ],
)
def test_absurd_market_quantities_are_refused_without_an_event(quantity: Any, code: ErrorCode) -> None:
    ex = _ready()
    before = _fingerprint(ex)
    result = ex.submit(OrderRequest.market(BTC, Side.BUY, quantity))
    assert not result.ok and result.rejection is not None and result.rejection.code is code
    assert result.events == ()
    assert _fingerprint(ex) == before


def test_binance_strings_for_enums_become_the_enums() -> None:
    ex = _ready()
    request = OrderRequest(BTC, "BUY", "LIMIT", quantity=D("0.010"), price=D("59000.0"),  # type: ignore[arg-type]
                           time_in_force="GTC", working_type="CONTRACT_PRICE")  # type: ignore[arg-type]
    result = ex.submit(request)
    assert result.ok and result.order is not None
    order = result.order
    assert (order.side, order.type, order.time_in_force, order.working_type) == (
        Side.BUY, OrderType.LIMIT, TimeInForce.GTC, WorkingType.CONTRACT_PRICE,
    )
    assert type(order.side) is Side
    assert ex.cancel(BTC, order.order_id).ok
    assert ex.state() == rebuild(ex.events)


def test_queries_answer_an_unknown_symbol_with_1121() -> None:
    ex = _ready()
    for method in ("position", "leverage", "margin_mode", "last_price", "mark_price", "funding_rate", "open_orders"):
        for symbol in ("NOPEUSDT", ["BTCUSDT"], 7):
            with pytest.raises(BinanceError) as info:
                getattr(ex, method)(symbol)
            assert info.value.code is ErrorCode.BAD_SYMBOL
    result = ex.cancel_all("NOPEUSDT")
    assert result.rejection is not None and result.rejection.code is ErrorCode.BAD_SYMBOL
