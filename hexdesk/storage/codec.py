"""Lossless, generic JSON codec for engine events.

``encode_event`` turns any ``hexdesk.engine.events.Event`` into a JSON-safe dict: Decimals become their exact
``str`` (sign, digits and exponent survive), enums their value, nested dataclasses dicts, tuples lists, and
the top level gets ``"type"``: the event class name. ``decode_event`` is the inverse: it finds the class among
the subclasses of ``Event`` and rebuilds every field from the dataclass's resolved type hints, so no event
needs hand-written (de)serialisation and a new event type is journaled the day it is added to the engine.

Schema evolution (see docs/storage.md): adding a field *with a default* to an event or a nested value keeps old
payloads decodable; removing or renaming a field needs a data migration, because unknown keys are an error
(a silent drop would not be lossless).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache
from typing import Any

from hexdesk.engine.events import Event
from hexdesk.storage.errors import CodecError

TYPE_KEY = "type"

JSONValue = None | bool | int | str | list["JSONValue"] | dict[str, "JSONValue"]
_Decoder = Callable[[Any], Any]


# --------------------------------------------------------------------------------------------------- encoding


_SCALARS = frozenset({str, int, bool, type(None)})
_UNSEEN: Any = object()
_field_names: dict[type, tuple[str, ...] | None] = {}  # per type: its dataclass fields, or None (not a dataclass)


def encode_value(value: Any) -> JSONValue:
    """Any event field value as JSON-safe data (no floats: money is Decimal, stored as its exact string)."""
    t = type(value)
    if t in _SCALARS:
        return value
    if t is Decimal:
        return str(value)
    names = _field_names.get(t, _UNSEEN)
    if names is _UNSEEN:
        names = _field_names[t] = tuple(f.name for f in dataclasses.fields(t)) if dataclasses.is_dataclass(t) else None
    if names is not None:
        return {name: encode_value(getattr(value, name)) for name in names}
    if isinstance(value, Enum):  # before int/str: IntEnum (ErrorCode) is an int, StrEnum a str
        return value.value
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return [encode_value(v) for v in value]
    if isinstance(value, Mapping):
        out: dict[str, JSONValue] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise CodecError(f"mapping keys must be str to stay lossless, got {type(k).__name__}")
            out[k] = encode_value(v)
        return out
    raise CodecError(f"cannot encode {type(value).__name__} losslessly: {value!r}")


def encode_event(event: Event) -> dict[str, JSONValue]:
    """The event as a JSON-safe dict with its class name under ``"type"``."""
    if not isinstance(event, Event):
        raise CodecError(f"not an engine event: {event!r}")
    encoded = encode_value(event)
    assert isinstance(encoded, dict)
    return {TYPE_KEY: type(event).__name__, **encoded}


def dumps_event(event: Event) -> str:
    """``encode_event`` as compact JSON text (what the journal stores)."""
    return json.dumps(encode_event(event), ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------------------------------- decoding


def _all_subclasses(cls: type) -> list[type]:
    out: list[type] = []
    stack = list(cls.__subclasses__())
    while stack:
        sub = stack.pop()
        out.append(sub)
        stack.extend(sub.__subclasses__())
    return out


def event_types() -> dict[str, type[Event]]:
    """Every concrete ``Event`` subclass by class name (names must be unique: they are the stored ``type``)."""
    import hexdesk.engine.events  # noqa: F401  (make sure the engine's events are defined)

    by_name: dict[str, list[type[Event]]] = {}
    for sub in _all_subclasses(Event):
        by_name.setdefault(sub.__name__, []).append(sub)
    found: dict[str, type[Event]] = {}
    for name, candidates in by_name.items():
        if len(candidates) > 1:
            candidates = _live_classes(candidates)
        if len(candidates) != 1:
            where = ", ".join(sorted(f"{c.__module__}.{c.__qualname__}" for c in candidates))
            raise CodecError(f"event type name {name!r} is ambiguous: {where}")
        found[name] = candidates[0]
    return found


def _live_classes(candidates: list[type[Event]]) -> list[type[Event]]:
    """Drop stale class objects: ``@dataclass(slots=True)`` replaces the class it decorates, and the replaced
    one stays in ``__subclasses__()`` until garbage-collected. The live one is what its module exports, or,
    for a class not reachable from its module (e.g. defined in a function), the one that really has slots."""
    exported = [c for c in candidates if getattr(sys.modules.get(c.__module__), c.__qualname__, None) is c]
    if exported:
        return exported
    return [c for c in candidates if "__slots__" in vars(c)] or candidates


_registry: dict[str, type[Event]] = {}


def event_class(name: str) -> type[Event]:
    """The ``Event`` subclass stored as ``name``."""
    cls = _registry.get(name)
    if cls is None:
        _registry.clear()
        _registry.update(event_types())  # refresh: a subclass may have been defined since the last look
        cls = _registry.get(name)
        if cls is None:
            raise CodecError(f"unknown event type {name!r}")
    return cls


def decode_event(data: Mapping[str, Any]) -> Event:
    """Rebuild the event ``encode_event`` produced (equal to the original, field by field)."""
    try:
        name = data[TYPE_KEY]
    except (KeyError, TypeError) as exc:
        raise CodecError(f"payload has no {TYPE_KEY!r}: {data!r}") from exc
    cls = event_class(name)
    body = {k: v for k, v in data.items() if k != TYPE_KEY}
    return _decoder_for(cls)(body)


def loads_event(text: str) -> Event:
    """``decode_event`` of JSON text."""
    return decode_event(json.loads(text))


@cache
def _decoder_for(tp: Any) -> _Decoder:
    """A function turning the JSON form of a ``tp`` value back into the value (built once per type)."""
    if tp is Any:
        return lambda v: v
    if tp is type(None):
        return _expect_none
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return _union_decoder(typing.get_args(tp))
    if origin is typing.Literal:
        allowed = typing.get_args(tp)
        return lambda v: v if v in allowed else _fail(tp, v)
    if origin is tuple:
        return _tuple_decoder(typing.get_args(tp))
    if origin is list:
        (item,) = typing.get_args(tp) or (Any,)
        item_dec = _decoder_for(item)
        return lambda v: [item_dec(x) for x in _expect(list, tp, v)]
    if origin in (dict, Mapping, typing.Mapping):
        _key, val = typing.get_args(tp) or (str, Any)
        val_dec = _decoder_for(val)
        return lambda v: {k: val_dec(x) for k, x in _expect(dict, tp, v).items()}
    if isinstance(tp, type):
        if issubclass(tp, Enum):
            return lambda v: _enum(tp, v)
        if tp is Decimal:
            return _decimal
        if tp is bool:
            return lambda v: _expect(bool, tp, v)
        if tp is int:
            return _int
        if tp is str:
            return lambda v: _expect(str, tp, v)
        if tp is tuple:
            return lambda v: tuple(_expect(list, tp, v))
        if dataclasses.is_dataclass(tp):
            return _dataclass_decoder(tp)
    raise CodecError(f"no decoder for type {tp!r}")


def _fail(tp: Any, value: Any) -> typing.NoReturn:
    raise CodecError(f"expected {tp!r}, got {value!r}")


def _expect(kind: type, tp: Any, value: Any) -> Any:
    if not isinstance(value, kind):
        _fail(tp, value)
    return value


def _expect_none(value: Any) -> None:
    if value is not None:
        _fail(None, value)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(int, value)
    return value


def _decimal(value: Any) -> Decimal:
    if not isinstance(value, str):  # a float here would already have lost digits
        _fail(Decimal, value)
    try:
        return Decimal(value)
    except InvalidOperation:
        _fail(Decimal, value)


def _enum(tp: type[Enum], value: Any) -> Enum:
    try:
        return tp(value)
    except ValueError:
        _fail(tp, value)


def _union_decoder(args: tuple[Any, ...]) -> _Decoder:
    optional = type(None) in args
    options = [_decoder_for(a) for a in args if a is not type(None)]

    def decode(value: Any) -> Any:
        if value is None and optional:
            return None
        errors = []
        for option in options:
            try:
                return option(value)
            except CodecError as exc:
                errors.append(str(exc))
        raise CodecError("; ".join(errors) or f"unexpected {value!r}")

    return decode


def _tuple_decoder(args: tuple[Any, ...]) -> _Decoder:
    if len(args) == 2 and args[1] is Ellipsis:
        item_dec = _decoder_for(args[0])
        return lambda v: tuple(item_dec(x) for x in _expect(list, tuple, v))
    decs = [_decoder_for(a) for a in args]

    def decode(value: Any) -> tuple[Any, ...]:
        items = _expect(list, tuple, value)
        if len(items) != len(decs):
            _fail(tuple[args], value)  # type: ignore[valid-type]
        return tuple(dec(x) for dec, x in zip(decs, items, strict=True))

    return decode


def _dataclass_decoder(cls: type) -> _Decoder:
    hints = typing.get_type_hints(cls)
    plan = [(f.name, _decoder_for(hints[f.name])) for f in dataclasses.fields(cls) if f.init]
    known = {name for name, _ in plan}

    def decode(value: Any) -> Any:
        data = _expect(dict, cls, value)
        unknown = data.keys() - known
        if unknown:
            raise CodecError(f"{cls.__name__} has no field(s) {sorted(unknown)}")
        kwargs = {}
        for name, dec in plan:
            if name in data:
                try:
                    kwargs[name] = dec(data[name])
                except CodecError as exc:
                    raise CodecError(f"{cls.__name__}.{name}: {exc}") from None
        try:
            return cls(**kwargs)
        except TypeError as exc:  # a required field is missing
            raise CodecError(f"{cls.__name__}: {exc}") from None

    return decode
