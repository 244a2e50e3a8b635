"""A fake Binance USDⓈ-M on 127.0.0.1 for the live client's tests: market streams and REST klines.

Speaks the reference's exact payloads (binance-futures.md §4.2-4.3): the combined stream at ``/market/stream?
streams=a/b`` delivers ``{"stream": name, "data": payload}`` for the streams the connection holds (from the URL, then
SUBSCRIBE/UNSUBSCRIBE, answered ``{"result": null, "id": n}``); the legacy ``/stream`` URL is accepted but pushes no
kline (as Binance since 2026-04-23). ``GET /fapi/v1/klines`` answers 12-element rows from the candles the test put in,
with symbol, interval, startTime, endTime and limit (default 500, max 1500) as Binance reads them and an
``X-MBX-USED-WEIGHT-1M`` header. Faults on demand: drop every connection (TCP abort), stall (send nothing), send
garbage, send ``serverShutdown``, answer the next requests 429/418 with ``Retry-After``.

A tiny HTTP/1.1 server on asyncio streams is enough here (GET only, keep-alive), so the tests need no web framework.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve

MIN = 60_000
INTERVALS = {"1m": MIN, "3m": 3 * MIN, "5m": 5 * MIN, "15m": 15 * MIN, "1h": 60 * MIN, "4h": 240 * MIN}


def weight(limit: int) -> int:
    return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10


@dataclass
class Row:
    """One kline as the fake holds it (prices as strings, as Binance sends them)."""

    open_ms: int
    o: str
    h: str
    low: str
    c: str
    v: str
    interval_ms: int = MIN

    @property
    def close_ms(self) -> int:
        return self.open_ms + self.interval_ms - 1

    def rest(self) -> list[Any]:
        """The 12-element REST row (§4.3)."""
        return [self.open_ms, self.o, self.h, self.low, self.c, self.v, self.close_ms, "0", 10, "0", "0", "0"]

    def kline(self, symbol: str, interval: str, closed: bool) -> dict[str, Any]:
        """The ``k`` object of a kline event (§4.1/4.2 fields)."""
        return {"t": self.open_ms, "T": self.close_ms, "s": symbol, "i": interval, "f": 100, "L": 200,
                "o": self.o, "c": self.c, "h": self.h, "l": self.low, "v": self.v, "n": 100, "x": closed,
                "q": "1.0", "V": "0.5", "Q": "0.5", "B": "0"}  # fmt: skip


def make_rows(start_ms: int, count: int, base: int = 100_000, interval: str = "1m") -> list[Row]:
    """``count`` distinct, valid candles from ``start_ms`` (prices around ``base`` USDT, one decimal)."""
    step = INTERVALS[interval]
    rows = []
    for i in range(count):
        o = Decimal(base) + Decimal(i % 50) - Decimal(i % 7) / 10
        c = o + (Decimal(3) if i % 2 else Decimal(-2))
        h, lo = max(o, c) + Decimal("1.5"), min(o, c) - Decimal("1.2")
        rows.append(Row(start_ms + i * step, str(o), str(h), str(lo), str(c), f"{1 + i % 9}.{i % 1000:03d}", step))
    return rows


@dataclass
class Conn:
    ws: ServerConnection
    path: str
    streams: set[str] = field(default_factory=set)


class FakeBinance:
    """Start with ``async with FakeBinance() as fake``; ``fake.ws_url`` / ``fake.rest_url`` go into LiveSettings."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict[int, Row]] = {}
        self.conns: list[Conn] = []
        self.connects = 0
        self.paths: list[str] = []
        self.commands: list[dict[str, Any]] = []
        self.requests: list[tuple[float, dict[str, str]]] = []
        self.failures: list[tuple[int, str]] = []  # (status, Retry-After) answered to the next requests
        self.stalled = False
        self.used_weight = 0
        self.request_delay_s = 0.0
        self._ws_server: Server | None = None
        self._http: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._sorted: dict[tuple[str, str], list[Row]] = {}
        self.ws_port = self.http_port = 0

    # --- lifecycle -------------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeBinance:
        self._ws_server = await serve(self._ws_handler, "127.0.0.1", 0, ping_interval=None)
        self.ws_port = self._ws_server.sockets[0].getsockname()[1]  # type: ignore[index]
        self._http = await asyncio.start_server(self._http_handler, "127.0.0.1", 0)
        self.http_port = self._http.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws_server is not None:
            self._ws_server.close()
            await self._ws_server.wait_closed()
        for w in list(self._writers):
            w.close()
        if self._http is not None:
            self._http.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._http.wait_closed(), 1)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}/market"

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    # --- data ------------------------------------------------------------------------------------------

    def put(self, symbol: str, interval: str, rows: list[Row]) -> None:
        """Candles the REST API will answer with (replacing any with the same open time)."""
        book = self.rows.setdefault((symbol, interval), {})
        for r in rows:
            book[r.open_ms] = r
        self._sorted.pop((symbol, interval), None)

    def series(self, symbol: str, interval: str) -> list[Row]:
        key = (symbol, interval)
        if key not in self._sorted:
            book = self.rows.get(key, {})
            self._sorted[key] = [book[t] for t in sorted(book)]
        return self._sorted[key]

    # --- streams ---------------------------------------------------------------------------------------

    async def _ws_handler(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request is not None else ""
        self.paths.append(path)
        url = urlsplit(path)
        streams = set(parse_qs(url.query).get("streams", [""])[0].split("/")) - {""}
        conn = Conn(ws, url.path, streams)
        self.conns.append(conn)
        self.connects += 1
        try:
            async for raw in ws:
                msg = json.loads(raw)
                self.commands.append(msg)
                method, params, rid = msg.get("method"), msg.get("params", []), msg.get("id")
                if method == "SUBSCRIBE":
                    conn.streams.update(params)
                elif method == "UNSUBSCRIBE":
                    conn.streams.difference_update(params)
                else:
                    await ws.send(json.dumps({"error": {"code": 2, "msg": "Invalid request"}, "id": rid}))
                    continue
                await ws.send(json.dumps({"result": None, "id": rid}))
        except Exception:  # a dropped connection ends the handler
            pass
        finally:
            if conn in self.conns:
                self.conns.remove(conn)

    async def _push(self, stream: str, payload: dict[str, Any], *, kline: bool = False) -> int:
        """Send to every connection holding ``stream``; the legacy URL gets no kline. Returns how many got it."""
        if self.stalled:
            return 0
        text = json.dumps({"stream": stream, "data": payload})
        n = 0
        for c in list(self.conns):
            if stream in c.streams and not (kline and not c.path.startswith("/market/")):
                with contextlib.suppress(Exception):
                    await c.ws.send(text)
                    n += 1
        return n

    async def send_kline(self, symbol: str, interval: str, row: Row, *, closed: bool, event_ms: int) -> int:
        stream = f"{symbol.lower()}@kline_{interval}"
        data = {"e": "kline", "E": event_ms, "s": symbol, "k": row.kline(symbol, interval, closed)}
        return await self._push(stream, data, kline=True)

    async def send_mark(
        self, symbol: str, mark: str, *, rate: str, next_funding_ms: int, event_ms: int, stream: str = "markPrice@1s"
    ) -> int:
        data = {"e": "markPriceUpdate", "E": event_ms, "s": symbol, "p": mark, "i": mark, "P": mark, "r": rate,
                "T": next_funding_ms}  # fmt: skip
        return await self._push(f"{symbol.lower()}@{stream}", data)

    async def send_raw(self, text: str) -> None:
        """Garbage (or anything) to every connection, as is."""
        for c in list(self.conns):
            with contextlib.suppress(Exception):
                await c.ws.send(text)

    async def send_shutdown(self, event_ms: int) -> None:
        await self.send_raw(json.dumps({"e": "serverShutdown", "E": event_ms}))

    def drop(self) -> None:
        """Cut every connection without a close frame (a network failure)."""
        for c in list(self.conns):
            c.ws.transport.abort()

    async def ping(self, timeout: float = 1.0) -> float:
        """Ping every connection as Binance does; the seconds until every pong came back."""
        t0 = time.monotonic()
        waiters = [await c.ws.ping() for c in list(self.conns)]
        await asyncio.wait_for(asyncio.gather(*waiters), timeout)
        return time.monotonic() - t0

    async def wait_connections(self, n: int, timeout: float = 3.0) -> None:
        """Until ``n`` connections have been made in all (and one is open)."""
        deadline = time.monotonic() + timeout
        while self.connects < n or not self.conns:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.connects} connections, waited for {n}")
            await asyncio.sleep(0.005)

    # --- REST ------------------------------------------------------------------------------------------

    async def _http_handler(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                method, target, _ = line.decode("latin-1").split(" ", 2)
                while await reader.readline() not in (b"\r\n", b"\n", b""):
                    pass
                status, headers, body = await self._answer(method, target)
                head = [f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}",
                        "Content-Type: application/json", f"Content-Length: {len(body)}",
                        *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
                await writer.drain()
        except (ConnectionError, ValueError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _answer(self, method: str, target: str) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(target)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.requests.append((time.monotonic(), q))
        if self.request_delay_s:
            await asyncio.sleep(self.request_delay_s)
        if self.failures:
            status, retry = self.failures.pop(0)
            body = {"code": -1003, "msg": "Too many requests; current limit is 2400 request weight per 1 MINUTE."}
            return status, {"Retry-After": retry}, json.dumps(body).encode()
        if method != "GET" or url.path != "/fapi/v1/klines":
            return 404, {}, b'{"code":-1000,"msg":"Not found"}'
        symbol, interval = q.get("symbol", ""), q.get("interval", "")
        if interval not in INTERVALS:
            return 400, {}, b'{"code":-1120,"msg":"Invalid interval."}'
        if (symbol, interval) not in self.rows and not any(s == symbol for s, _ in self.rows):
            return 400, {}, b'{"code":-1121,"msg":"Invalid symbol."}'
        limit = int(q.get("limit", 500))
        if not 1 <= limit <= 1500:
            return 400, {}, b'{"code":-1130,"msg":"Data sent for parameter \'limit\' is not valid."}'
        self.used_weight += weight(limit)
        rows = self.series(symbol, interval)
        start, end = q.get("startTime"), q.get("endTime")
        times = [r.open_ms for r in rows]
        hi = bisect.bisect_right(times, int(end)) if end is not None else len(rows)
        lo = bisect.bisect_left(times, int(start)) if start is not None else max(0, hi - limit)
        rows = rows[lo : min(hi, lo + limit)]  # from startTime on; without it, the most recent
        body = json.dumps([r.rest() for r in rows]).encode()
        return 200, {"X-MBX-USED-WEIGHT-1M": str(self.used_weight)}, body


# --- helpers for the tests ------------------------------------------------------------------------------------


def settings_for(fake: FakeBinance, **overrides: Any) -> Any:
    """Live settings pointed at ``fake`` with test-sized timeouts (tests of a stall shrink stale_after_s)."""
    from hexdesk.market.binance import LiveSettings

    base = {"ws_url": fake.ws_url, "rest_url": fake.rest_url, "stale_after_s": 5.0, "backoff_initial_s": 0.01,
            "backoff_max_s": 0.05, "ping_interval_s": None, "reply_timeout_s": 1.0, "request_timeout_s": 2.0,
            "open_timeout_s": 2.0, "history_candles": 50}  # fmt: skip
    return LiveSettings(**{**base, **overrides})


class Sink:
    """Collects what the client hands on."""

    def __init__(self) -> None:
        self.batches: list[Any] = []

    def __call__(self, batch: Any) -> None:
        self.batches.append(batch)

    @property
    def ticks(self) -> list[Any]:
        return [t for b in self.batches for t in b.ticks]

    @property
    def funding(self) -> list[Any]:
        return [f for b in self.batches for f in b.funding]


async def until(cond: Any, timeout: float = 3.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)
