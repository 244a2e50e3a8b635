"""Parsing and checking the frames of Binance's USDⓈ-M market streams (reference §4.2): nothing unchecked gets past.

A frame is JSON text; on a combined stream it is ``{"stream": name, "data": payload}``. Every value the engine will
see is checked here: prices are strings that make finite, positive Decimals; the symbol is one we trade; a kline's
interval is the one subscribed, its open time sits on the interval grid and ``T = t + interval - 1``; high and low
bound open and close. Anything else raises :class:`FrameError` with a short ``reason`` the client counts, so a
malformed or unexpected frame is skipped and counted, never fatal, and never reaches the engine.
"""

from __future__ import annotations

import json
from collections.abc import Container, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from hexdesk.market.candles import INTERVAL_MS, Candle

__all__ = [
    "CommandReply",
    "FrameError",
    "KlineUpdate",
    "MarkPriceUpdate",
    "ServerShutdown",
    "kline_stream",
    "mark_stream",
    "parse_frame",
    "parse_rest_kline",
]

_MAX_TS_MS = 253_402_300_799_999  # 9999-12-31: a time beyond is no time


class FrameError(ValueError):
    """A frame that cannot be used; ``reason`` is the counter it goes to (``not_json``, ``bad_price``, ...)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class KlineUpdate:
    """A ``kline`` event: the candle as it stands at ``event_ms`` (``candle.closed`` is Binance's ``x``)."""

    stream: str
    event_ms: int
    candle: Candle


@dataclass(frozen=True, slots=True)
class MarkPriceUpdate:
    """A ``markPriceUpdate``: mark ``p``, index ``i``, estimated settle price ``P``, funding rate ``r`` and the next
    funding time ``T``."""

    stream: str
    event_ms: int
    symbol: str
    mark: Decimal
    index: Decimal
    settle: Decimal
    funding_rate: Decimal
    next_funding_ms: int


@dataclass(frozen=True, slots=True)
class CommandReply:
    """The answer to SUBSCRIBE/UNSUBSCRIBE: ``{"result": null, "id": n}`` or ``{"error": {...}, "id": n}``."""

    id: int
    result: Any
    error: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class ServerShutdown:
    """Binance's notice that it is about to close the connection (maintenance, or the 24 h limit)."""

    event_ms: int


Frame = KlineUpdate | MarkPriceUpdate | CommandReply | ServerShutdown


def kline_stream(symbol: str, interval: str) -> str:
    return f"{symbol.lower()}@kline_{interval}"


def mark_stream(symbol: str, suffix: str = "markPrice@1s") -> str:
    return f"{symbol.lower()}@{suffix}"


def _price(value: object, name: str) -> Decimal:
    """A Binance price: a string (never a float, which would not be exact) giving a finite Decimal > 0."""
    if type(value) is not str or len(value) > 64:
        raise FrameError("bad_field", f"{name} is not a price string")
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise FrameError("bad_price", f"{name}={value!r}") from None
    if not d.is_finite() or d <= 0:
        raise FrameError("bad_price", f"{name}={value!r}")
    return d


def _number(value: object, name: str) -> Decimal:
    """A finite Decimal string of any sign (funding rates are signed; volumes are checked >= 0 by the caller)."""
    if type(value) is not str or len(value) > 64:
        raise FrameError("bad_field", f"{name} is not a number string")
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise FrameError("bad_field", f"{name}={value!r}") from None
    if not d.is_finite():
        raise FrameError("bad_field", f"{name}={value!r}")
    return d


def _ms(value: object, name: str) -> int:
    if type(value) is not int or not 0 <= value <= _MAX_TS_MS:
        raise FrameError("bad_time", f"{name}={value!r}")
    return value


def make_candle(
    symbol: str,
    interval: str,
    open_ms: object,
    close_ms: object,
    o: object,
    h: object,
    lo: object,
    c: object,
    v: object,
    closed: bool,
) -> Candle:
    """A checked Candle from Binance's fields (shared by the stream and REST parsers)."""
    interval_ms = INTERVAL_MS.get(interval)
    if interval_ms is None:
        raise FrameError("bad_interval", interval)
    t = _ms(open_ms, "t")
    if t % interval_ms or _ms(close_ms, "T") != t + interval_ms - 1:
        raise FrameError("bad_time", f"t={t} T={close_ms} off the {interval} grid")
    op, hi, low, cl = _price(o, "o"), _price(h, "h"), _price(lo, "l"), _price(c, "c")
    vol = _number(v, "v")
    if vol < 0:
        raise FrameError("bad_field", f"v={v!r}")
    if hi < max(op, cl, low) or low > min(op, cl):
        raise FrameError("bad_price", f"h={h} l={lo} do not bound o={o} c={c}")
    return Candle(symbol, interval, t, op, hi, low, cl, vol, closed)


def _kline(stream: str, d: Mapping[str, Any], symbols: Container[str]) -> KlineUpdate:
    sym = d.get("s")
    k = d.get("k")
    if not isinstance(k, dict) or not isinstance(sym, str):
        raise FrameError("bad_field", "kline without s/k")
    if sym not in symbols or k.get("s") != sym:
        raise FrameError("unknown_symbol", str(sym))
    interval = k.get("i")
    if not isinstance(interval, str) or interval not in INTERVAL_MS:
        raise FrameError("bad_interval", str(interval))
    closed = k.get("x")
    if type(closed) is not bool:
        raise FrameError("bad_field", "x")
    candle = make_candle(sym, interval, k.get("t"), k.get("T"), k.get("o"), k.get("h"), k.get("l"), k.get("c"),
                         k.get("v"), closed)  # fmt: skip
    return KlineUpdate(stream, _ms(d.get("E"), "E"), candle)


def _mark(stream: str, d: Mapping[str, Any], symbols: Container[str]) -> MarkPriceUpdate:
    sym = d.get("s")
    if not isinstance(sym, str) or sym not in symbols:
        raise FrameError("unknown_symbol", str(sym))
    return MarkPriceUpdate(
        stream,
        _ms(d.get("E"), "E"),
        sym,
        _price(d.get("p"), "p"),
        _price(d.get("i"), "i"),
        _price(d.get("P"), "P"),
        _number(d.get("r"), "r"),
        _ms(d.get("T"), "T"),
    )


def parse_frame(raw: str | bytes, symbols: Container[str]) -> Frame:
    """One text frame as a typed update, or FrameError. ``symbols``: the symbols the engine knows."""
    try:
        msg = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise FrameError("not_json") from None
    if not isinstance(msg, dict):
        raise FrameError("not_object")
    if "id" in msg and ("result" in msg or "error" in msg):
        rid = msg["id"]
        if type(rid) is not int:
            raise FrameError("bad_field", "id")
        err = msg.get("error")
        return CommandReply(rid, msg.get("result"), err if isinstance(err, dict) else None)
    stream = msg.get("stream")
    data = msg.get("data") if stream is not None else msg  # raw streams and control events come unwrapped
    if not isinstance(data, dict):
        raise FrameError("not_object", "data")
    event = data.get("e")
    if event == "serverShutdown":
        return ServerShutdown(_ms(data.get("E"), "E"))
    if not isinstance(stream, str):
        raise FrameError("unknown_stream", "no stream name")
    if event == "kline":
        return _kline(stream, data, symbols)
    if event == "markPriceUpdate":
        return _mark(stream, data, symbols)
    raise FrameError("unknown_event", str(event)[:40])


def parse_rest_kline(row: object, symbol: str, interval: str, now_ms: int) -> Candle:
    """One row of ``GET /fapi/v1/klines`` (§4.3): closed once its close time is before ``now_ms``."""
    if not isinstance(row, list) or len(row) < 6 + 1:
        raise FrameError("bad_field", "kline row")
    close_ms = row[6]
    closed = type(close_ms) is int and close_ms < now_ms
    return make_candle(symbol, interval, row[0], close_ms, row[1], row[2], row[3], row[4], row[5], closed)
