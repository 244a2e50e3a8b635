from __future__ import annotations

import dataclasses
import inspect
import json
import typing
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hexdesk.engine.events as events_module
from hexdesk.engine.errors import ErrorCode, Rejection
from hexdesk.engine.events import Event, OrderFilled
from hexdesk.storage.codec import (
    CodecError,
    decode_event,
    dumps_event,
    encode_event,
    event_class,
    event_types,
    loads_event,
)
from tests.storage.samples import one_of_each

ENGINE_EVENT_CLASSES = sorted(
    (
        obj
        for obj in vars(events_module).values()
        if inspect.isclass(obj)
        and issubclass(obj, Event)
        and obj is not Event
        and obj.__module__ == events_module.__name__
    ),
    key=lambda c: c.__name__,
)


@dataclasses.dataclass(frozen=True, slots=True)
class CodecProbeHappened(Event):
    """A test-only event exercising shapes the engine's events do not use (yet): tuples, unions of dataclasses."""

    prices: tuple[Decimal, ...]
    pair: tuple[int, str]
    note: int | None
    rejection: Rejection | None = None


def _strategy(tp: Any) -> st.SearchStrategy[Any]:
    """A Hypothesis strategy for any field type used by events (built from the same type hints the codec reads)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, __import__("types").UnionType):
        return st.one_of([st.none() if a is type(None) else _strategy(a) for a in args])
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(_strategy(args[0]), max_size=4).map(tuple)
        return st.tuples(*[_strategy(a) for a in args])
    if isinstance(tp, type) and issubclass(tp, Enum):
        return st.sampled_from(list(tp))
    if tp is Decimal:
        return st.decimals(allow_nan=False, allow_infinity=False)
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(min_value=-(2**63), max_value=2**63 - 1)
    if tp is str:
        return st.text(max_size=12)
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return st.builds(tp, **{f.name: _strategy(hints[f.name]) for f in dataclasses.fields(tp) if f.init})
    raise AssertionError(f"no strategy for {tp!r}")


def test_samples_cover_every_engine_event_type() -> None:
    missing = set(ENGINE_EVENT_CLASSES) - {type(e) for e in one_of_each()}
    assert not missing, f"add a hand-built instance of {sorted(c.__name__ for c in missing)} to samples.one_of_each()"
    assert len(ENGINE_EVENT_CLASSES) >= 14


@pytest.mark.parametrize("event", one_of_each(), ids=lambda e: f"{e.seq}-{type(e).__name__}")
def test_hand_built_round_trip(event: Event) -> None:
    encoded = encode_event(event)
    assert encoded["type"] == type(event).__name__
    text = json.dumps(encoded, allow_nan=False)  # JSON-safe: no floats, no Decimals, no enums left
    back = decode_event(json.loads(text))
    assert back == event
    assert type(back) is type(event)
    assert encode_event(back) == encoded  # exact representation (exponents, trailing zeros, -0) survives
    assert loads_event(dumps_event(event)) == event


def test_encoding_shape() -> None:
    ev = one_of_each()[5]
    assert isinstance(ev, OrderFilled)
    enc = encode_event(ev)
    assert enc["seq"] == 6 and enc["ts_ms"] == ev.ts_ms
    assert enc["order"]["price"] == "84000.10"  # Decimal as its exact string
    assert enc["order"]["status"] == "FILLED"  # enums as their value
    assert enc["fill"]["role"] == "MAKER"
    rejected = encode_event(one_of_each()[2])
    assert rejected["code"] == -4164 and rejected["request"]["quantity"] == "0.0001"
    assert rejected["request"]["price"] is None


@pytest.mark.parametrize("cls", [*ENGINE_EVENT_CLASSES, CodecProbeHappened], ids=lambda c: c.__name__)
def test_generated_round_trip(cls: type[Event]) -> None:
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_strategy(cls))
    def check(event: Event) -> None:
        encoded = encode_event(event)
        back = loads_event(json.dumps(encoded, allow_nan=False))
        assert back == event
        assert encode_event(back) == encoded

    check()


def test_registry_finds_engine_and_later_subclasses() -> None:
    types = event_types()
    for cls in ENGINE_EVENT_CLASSES:
        assert types[cls.__name__] is cls
    assert event_class("CodecProbeHappened") is CodecProbeHappened
    assert "Event" not in types


def test_tuple_and_nested_optional_dataclass() -> None:
    ev = CodecProbeHappened(1, 2, (Decimal("1.10"), Decimal("-3E-9")), (7, "x"), None,
                            Rejection.of(ErrorCode.MIN_NOTIONAL, "5"))
    enc = encode_event(ev)
    assert enc["prices"] == ["1.10", "-3E-9"]
    assert enc["rejection"] == {
        "code": -4164,
        "msg": "Order's notional must be no smaller than 5 (unless you choose reduce only)",
    }
    assert decode_event(enc) == ev


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(type="NoSuchEvent"), "unknown event type"),
        (lambda d: d.pop("type"), "no 'type'"),
        (lambda d: d.update(extra=1), "no field"),
        (lambda d: d.pop("seq"), "seq"),
        (lambda d: d["order"].update(price=84000.1), "Order.price"),  # a float has already lost digits
        (lambda d: d["order"].update(price="eighty"), "Order.price"),
        (lambda d: d["order"].update(status="DONE"), "Order.status"),
        (lambda d: d["order"].update(order_id="1"), "Order.order_id"),
        (lambda d: d["order"].update(reduce_only=1), "Order.reduce_only"),
        (lambda d: d.update(order=None), "order"),
    ],
)
def test_bad_payloads_raise_codec_error(mutate: Any, message: str) -> None:
    data = json.loads(json.dumps(encode_event(one_of_each()[1])))
    mutate(data)
    with pytest.raises(CodecError, match=message):
        decode_event(data)


def test_encode_rejects_non_events_and_floats() -> None:
    with pytest.raises(CodecError):
        encode_event("not an event")  # type: ignore[arg-type]
    with pytest.raises(CodecError, match="float"):
        encode_event(CodecProbeHappened(1, 2, (1.5,), (1, "a"), None))  # type: ignore[arg-type]
