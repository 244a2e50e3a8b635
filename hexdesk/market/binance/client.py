"""The live client for Binance USDⓈ-M market streams: one combined-stream connection, REST backfill, staying up.

``BinanceLive(symbols, interval)`` keeps one WebSocket to ``{ws_url}/stream?streams=<sym>@kline_<i>/<sym>@markPrice@1s``
(reference §4.2) and turns what arrives into :class:`LiveBatch` es for a sink (the service's LiveFeed):

- a kline update -> a ``PriceTick`` whose price is the kline close (the last price: it drives fills) and whose mark is
  the latest mark price of the symbol;
- a ``markPriceUpdate`` -> a ``PriceTick`` at the last price carrying the new mark (the engine's mark: unrealized PnL
  and liquidation), plus a :class:`FundingInfo` with the rate ``r`` and the next funding time ``T``.

History: at start, at every switch and after every reconnect the candles are loaded over REST and merged by open time
(:class:`~hexdesk.market.binance.history.CandleBook`), so the history has no hole and no duplicate. After a reconnect
the candles that closed during the outage are also walked as replay-style price paths (open, extremes, close) before
live ticks resume, so the engine sees the prices it missed, in time order. Frames that arrive during a backfill wait
in a buffer until it is merged.

Staying up: the WebSocket library answers the server's pings (Binance pings every 3 minutes) and sends its own
keepalive pings; no frame for ``stale_after_s`` means a dead feed; ``serverShutdown`` and the approach of the 24 h
limit make a planned reconnect (no delay); a failed or dropped connection is retried with exponential backoff and full
jitter. The state (CONNECTING, LIVE, RECONNECTING, OFFLINE) is observable with ``on_state``. A malformed or unexpected
frame is skipped and counted in ``skipped`` (a counter per reason) and never reaches the sink.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidURI, WebSocketException

from hexdesk.market.binance.frames import (
    CommandReply,
    FrameError,
    KlineUpdate,
    MarkPriceUpdate,
    ServerShutdown,
    kline_stream,
    mark_stream,
    parse_frame,
)
from hexdesk.market.binance.history import CandleBook
from hexdesk.market.binance.rest import KlineFetcher, RestError
from hexdesk.market.binance.settings import LiveSettings
from hexdesk.market.candles import INTERVAL_MS, Candle, CandleSeries, scaled_to_decimal
from hexdesk.market.liquidity import LiquidityEstimator
from hexdesk.market.replay import PriceTick, candle_ticks

__all__ = ["LIVE_STEP", "BinanceLive", "ConnectionState", "FundingInfo", "LiveBatch", "StaleFeed"]

log = logging.getLogger(__name__)

LIVE_STEP = -1
"""``PriceTick.step`` of a live tick (replay steps are 0..3 along a recorded candle)."""


class ConnectionState(enum.Enum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class FundingInfo:
    """The funding of ``symbol`` as the mark price stream states it at ``event_ms``: rate ``r``, next time ``T``."""

    symbol: str
    event_ms: int
    rate: Decimal
    next_funding_ms: int
    mark: Decimal


@dataclass(frozen=True, slots=True)
class LiveBatch:
    """What one frame (or one backfill's catch-up) gives the sink: ticks in time order, then funding updates.

    Apply the ticks first: a funding instant the ticks reach settles at the rate in force before this frame."""

    ticks: tuple[PriceTick, ...] = ()
    funding: tuple[FundingInfo, ...] = ()
    history: tuple[str, ...] = ()
    """Symbols whose history a backfill has just (re)loaded: reload the chart's history from ``history(symbol)``."""


class StaleFeed(ConnectionError):
    """No frame for longer than ``stale_after_s``."""


_CONNECT_ERRORS = (OSError, TimeoutError, WebSocketException, InvalidHandshake, InvalidURI, RestError, StaleFeed)


def _known_symbols() -> frozenset[str]:
    from hexdesk.engine.instruments import default_instruments

    return frozenset(default_instruments())


class BinanceLive:
    """Live candles, last and mark prices and funding of a few symbols on one interval (see the module doc)."""

    def __init__(
        self,
        symbols: Sequence[str],
        interval: str = "1m",
        settings: LiveSettings | None = None,
        *,
        known_symbols: Iterable[str] | None = None,
        clock_ms: Callable[[], int] | None = None,
        fetcher: KlineFetcher | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings or LiveSettings.from_env()
        self.known_symbols = frozenset(known_symbols) if known_symbols is not None else _known_symbols()
        self._check(symbols, interval)
        self.symbols: tuple[str, ...] = tuple(symbols)
        self.interval = interval
        self._clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self._fetcher = fetcher or KlineFetcher(self.settings)
        self._rng = rng
        self._state = ConnectionState.OFFLINE
        self._state_handlers: list[Callable[[ConnectionState], None]] = []
        self._books: dict[str, CandleBook] = {}
        self._liquidity: dict[str, LiquidityEstimator] = {}
        self._marks: dict[str, MarkPriceUpdate] = {}
        self._kline_event_ms: dict[str, int] = {}
        self._last_ts: dict[str, int] = {}  # ts of the last tick handed on, per symbol (kept monotone)
        self._fed: dict[str, tuple[int, bool]] = {}  # (open time, closed) of the candle of the last tick handed on
        self._reset_books()
        self._ws: ClientConnection | None = None
        self._sink: Callable[[LiveBatch], None] | None = None
        self._buffering = 0
        self._buffer: list[KlineUpdate | MarkPriceUpdate] = []
        self._pending: dict[int, asyncio.Future[CommandReply]] = {}
        self._next_id = 1
        self._stopping = asyncio.Event()
        self._running: asyncio.Task[None] | None = None
        self._went_live = False
        self._failures = 0
        self.skipped: Counter[str] = Counter()
        """Frames skipped, by reason: not_json, not_object, bad_field, bad_price, bad_time, bad_interval,
        unknown_symbol, unknown_stream, unknown_event, out_of_order, late, command_error."""
        self.frames = 0
        self.connections = 0
        self.reconnects = 0
        self.reconnect_reasons: Counter[str] = Counter()
        self.last_error: str | None = None

    # --- state ------------------------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self._state

    def on_state(self, handler: Callable[[ConnectionState], None]) -> Callable[[], None]:
        """Call ``handler`` with every state change; returns the function that stops it."""
        self._state_handlers.append(handler)
        return lambda: self._state_handlers.remove(handler) if handler in self._state_handlers else None

    def _set_state(self, state: ConnectionState) -> None:
        if state is not self._state:
            self._state = state
            for h in list(self._state_handlers):
                h(state)

    def streams(self) -> list[str]:
        out = []
        for s in self.symbols:
            out += [kline_stream(s, self.interval), mark_stream(s, self.settings.mark_stream)]
        return out

    def history(self, symbol: str) -> CandleSeries:
        """The closed candles of ``symbol`` on the current interval (REST backfill + stream), no hole, no duplicate."""
        return self._books[symbol].series()

    def book(self, symbol: str) -> CandleBook:
        return self._books[symbol]

    def now_ms(self) -> int:
        """The client's clock (wall time unless a test gave it another)."""
        return self._clock_ms()

    def mark(self, symbol: str) -> MarkPriceUpdate | None:
        return self._marks.get(symbol)

    # --- set-up -----------------------------------------------------------------------------------------

    def _check(self, symbols: Sequence[str], interval: str) -> None:
        if interval not in INTERVAL_MS:
            raise ValueError(f"unsupported interval {interval!r}")
        if not symbols:
            raise ValueError("at least one symbol")
        unknown = [s for s in symbols if s not in self.known_symbols]
        if unknown:
            raise ValueError(f"unknown symbols {unknown}; known: {sorted(self.known_symbols)}")

    def _reset_books(self) -> None:
        """Fresh books for the current interval (symbols already booked on it keep theirs)."""
        for s in self.symbols:
            b = self._books.get(s)
            if b is None or b.interval != self.interval:
                self._books[s] = CandleBook(s, self.interval)
                self._liquidity[s] = LiquidityEstimator()
                self._fed.pop(s, None)
                self._kline_event_ms.pop(s, None)

    # --- running ----------------------------------------------------------------------------------------

    async def run(self, sink: Callable[[LiveBatch], None]) -> None:
        """Connect, backfill, stream into ``sink``; reconnect for ever until :meth:`stop` (or cancellation)."""
        self._sink = sink
        self._running = asyncio.current_task()
        first = True
        try:
            while not self._stopping.is_set():
                self._set_state(ConnectionState.CONNECTING if first else self._retry_state())
                first = False
                delay = 0.0
                try:
                    self._went_live = False
                    reason = await self._session()
                    self.reconnect_reasons[reason] += 1
                    if not self._went_live and reason != "stopped":  # shut down before it was even live
                        raise ConnectionError(f"{reason} before the feed was live")
                except _CONNECT_ERRORS as exc:
                    if self._stopping.is_set():
                        break
                    self._failures += 1
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    self.reconnect_reasons[type(exc).__name__] += 1
                    log.warning("live stream: %s; attempt %d failed", self.last_error, self._failures)
                    cap = min(self.settings.backoff_max_s, self.settings.backoff_initial_s * 2 ** (self._failures - 1))
                    delay = cap * self._rng()  # full jitter: clients that dropped together do not return together
                if self._stopping.is_set():
                    break
                self.reconnects += 1
                self._set_state(self._retry_state())
                if delay:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), delay)
        finally:
            self._ws = None
            self._set_state(ConnectionState.OFFLINE)

    def _retry_state(self) -> ConnectionState:
        if self._failures >= self.settings.offline_after_failures:
            return ConnectionState.OFFLINE
        return ConnectionState.RECONNECTING

    async def stop(self) -> None:
        """Close the connection and make :meth:`run` return."""
        self._stopping.set()
        ws = self._ws
        if ws is not None:
            await ws.close()

    async def aclose(self) -> None:
        """Stop, wait (briefly) for :meth:`run` to return, then close the HTTP client."""
        await self.stop()
        running = self._running
        if running is not None and running is not asyncio.current_task() and not running.done():
            await asyncio.wait({running}, timeout=2.0)
        await self._fetcher.aclose()

    async def _session(self) -> str:
        """One connection: open, backfill (frames buffered meanwhile), stream until it must end. Returns why a
        planned reconnect is due ('server_shutdown', 'lifetime'), raises on a fault."""
        s = self.settings
        url = s.stream_url(self.streams())
        async with connect(
            url,
            open_timeout=s.open_timeout_s,
            ping_interval=s.ping_interval_s,
            ping_timeout=s.ping_timeout_s,
            close_timeout=1.0,
            max_size=s.max_frame_bytes,
        ) as ws:
            if self._stopping.is_set():
                return "stopped"
            opened = time.monotonic()
            self._ws = ws
            self.connections += 1
            recv = asyncio.create_task(self._receive(ws))
            back = asyncio.create_task(self._backfill(self.symbols, catch_up=True))
            try:
                done, _ = await asyncio.wait({recv, back}, return_when=asyncio.FIRST_COMPLETED)
                if recv in done:
                    return recv.result()
                back.result()
                self._failures = 0
                self._went_live = True
                self._set_state(ConnectionState.LIVE)
                left = s.max_connection_s - (time.monotonic() - opened)
                done, _ = await asyncio.wait({recv}, timeout=max(0.0, left))
                return recv.result() if done else "lifetime"
            finally:
                for t in (recv, back):
                    t.cancel()
                await asyncio.gather(recv, back, return_exceptions=True)  # our own cancellation still propagates
                self._ws = None
                if not self._buffering:
                    self._buffer.clear()  # frames of a dead connection: the next backfill covers their time
                for fut in self._pending.values():
                    fut.cancel()
                self._pending.clear()

    async def _receive(self, ws: ClientConnection) -> str:
        stale = self.settings.stale_after_s
        while True:
            try:
                raw = await asyncio.wait_for(ws.recv(), stale)
            except TimeoutError:
                raise StaleFeed(f"no frame for {stale:g} s") from None
            if self._handle(raw) == "server_shutdown":
                return "server_shutdown"

    # --- frames -----------------------------------------------------------------------------------------

    def _handle(self, raw: str | bytes) -> str | None:
        self.frames += 1
        try:
            frame = parse_frame(raw, self.known_symbols)
        except FrameError as exc:
            self.skipped[exc.reason] += 1
            return None
        if isinstance(frame, ServerShutdown):
            return "server_shutdown"
        if isinstance(frame, CommandReply):
            fut = self._pending.pop(frame.id, None)
            if fut is None:
                self.skipped["unknown_reply"] += 1
            elif not fut.done():
                fut.set_result(frame)
            return None
        if self._buffering:
            self._buffer.append(frame)
            return None
        self._dispatch(frame)
        return None

    def _dispatch(self, frame: KlineUpdate | MarkPriceUpdate) -> None:
        batch = self._on_kline(frame) if isinstance(frame, KlineUpdate) else self._on_mark(frame)
        if batch is not None:
            self._hand_on(batch)

    def _hand_on(self, batch: LiveBatch) -> None:
        """Give the sink a batch; a failing sink is logged and counted, it does not take the connection down."""
        if self._sink is None:
            return
        try:
            self._sink(batch)
        except Exception as exc:
            self.skipped["sink_error"] += 1
            self.last_error = f"sink: {type(exc).__name__}: {exc}"
            log.exception("the live sink failed on a batch; streaming goes on")

    def _tick_ts(self, symbol: str, ts: int) -> int:
        ts = max(ts, self._last_ts.get(symbol, ts))  # the kline and mark streams interleave within a few ms
        self._last_ts[symbol] = ts
        return ts

    def _on_kline(self, u: KlineUpdate) -> LiveBatch | None:
        k = u.candle
        sym = k.symbol
        if k.interval != self.interval or sym not in self.symbols or u.stream != kline_stream(sym, self.interval):
            self.skipped["unknown_stream"] += 1  # e.g. a frame of the old stream just after a switch
            return None
        if u.event_ms < self._kline_event_ms.get(sym, 0):
            self.skipped["out_of_order"] += 1
            return None
        book = self._books[sym]
        last = book.last_closed
        forming = book.forming
        if (last is not None and k.open_time_ms <= last.open_time_ms) or (
            forming is not None and k.open_time_ms < forming.open_time_ms
        ):
            self.skipped["late"] += 1  # an update of a candle the history already holds closed
            return None
        self._kline_event_ms[sym] = u.event_ms
        book.merge((k,))
        est = self._liquidity[sym]
        mark = self._marks.get(sym)
        tick = PriceTick(sym, self._tick_ts(sym, u.event_ms), k.close, k, LIVE_STEP, est.per_minute,
                         mark.mark if mark is not None else None)  # fmt: skip
        if k.closed:
            est.add_closed(k.volume, self._books[sym].interval_ms)
        self._fed[sym] = (k.open_time_ms, k.closed)
        return LiveBatch((tick,))

    def _on_mark(self, u: MarkPriceUpdate) -> LiveBatch | None:
        sym = u.symbol
        if sym not in self.symbols or u.stream != mark_stream(sym, self.settings.mark_stream):
            self.skipped["unknown_stream"] += 1
            return None
        prev = self._marks.get(sym)
        if prev is not None and u.event_ms < prev.event_ms:
            self.skipped["out_of_order"] += 1
            return None
        self._marks[sym] = u
        funding = (FundingInfo(sym, u.event_ms, u.funding_rate, u.next_funding_ms, u.mark),)
        latest = self._books[sym].latest
        if latest is None:  # no last price yet: the engine cannot take a mark alone
            return LiveBatch((), funding)
        tick = PriceTick(sym, self._tick_ts(sym, u.event_ms), latest.close, latest, LIVE_STEP,
                         self._liquidity[sym].per_minute, u.mark)  # fmt: skip
        return LiveBatch((tick,), funding)

    # --- backfill ---------------------------------------------------------------------------------------

    async def _backfill(self, symbols: Iterable[str], *, catch_up: bool) -> None:
        """Load each symbol's candles up to now and merge them; frames wait in the buffer meanwhile. With
        ``catch_up``, the candles that closed since the last tick handed on are walked as price paths first."""
        self._buffering += 1
        try:
            now = self._clock_ms()
            for sym in list(symbols):
                book = self._books.get(sym)
                if book is None:
                    continue
                last = book.last_closed
                if last is None:
                    candles = await self._fetcher.recent(sym, book.interval, self.settings.history_candles, now_ms=now)
                else:
                    candles = await self._fetcher.history(sym, book.interval, last.open_time_ms, now, now_ms=now)
                if self._books.get(sym) is not book:
                    continue  # switched away meanwhile
                book.merge(candles)
                if last is None:
                    self._prime(sym)
                ticks = self._catch_up(sym) if catch_up and sym in self._fed else []
                self._hand_on(LiveBatch(tuple(ticks), history=(sym,)))
        finally:
            self._buffering -= 1
        if not self._buffering:
            buffered, self._buffer = self._buffer, []
            for frame in buffered:
                self._dispatch(frame)

    def _prime(self, sym: str) -> None:
        est = self._liquidity[sym] = LiquidityEstimator()
        series = self._books[sym].series()
        _, _, _, _, v = series.scaled()
        for vi in v[-est.window :].tolist():
            est.add_closed(scaled_to_decimal(vi, series.volume_decimals), series.interval_ms)

    def _catch_up(self, sym: str) -> list[PriceTick]:
        """Ticks for what the engine missed during an outage: the close of the candle that was forming at the drop,
        then the four-point path of every candle that closed since (as the replay walks them)."""
        open_ms, closed = self._fed[sym]
        book = self._books[sym]
        series = book.series()
        out: list[PriceTick] = []
        mark = None  # no mark price is known for the outage: the engine takes the last price as the mark
        if not closed:
            i = series.index_at(open_ms)
            if i < len(series) and int(series.open_time_ms[i]) == open_ms:
                k: Candle = series.candle(i)
                k = replace(k, closed=True)
                out.append(PriceTick(sym, k.close_time_ms, k.close, k, 3, self._liquidity[sym].per_minute, mark))
                self._liquidity[sym].add_closed(k.volume, book.interval_ms)
                self._fed[sym] = (open_ms, True)
        start = series.index_at(open_ms + 1)
        if start < len(series):
            out.extend(candle_ticks(series, start))
            for vol in series.scaled()[4][start:].tolist():
                self._liquidity[sym].add_closed(scaled_to_decimal(vol, series.volume_decimals), book.interval_ms)
            self._fed[sym] = (series.last_open_ms, True)
        last_ts = self._last_ts.get(sym, 0)
        out = [t for t in out if t.ts_ms > last_ts]
        if out:
            self._last_ts[sym] = out[-1].ts_ms
        return out

    # --- switching --------------------------------------------------------------------------------------

    async def _command(self, method: str, params: list[str]) -> CommandReply:
        ws = self._ws
        if ws is None:
            raise ConnectionError("not connected")
        rid = self._next_id
        self._next_id += 1
        fut: asyncio.Future[CommandReply] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        await ws.send(json.dumps({"method": method, "params": params, "id": rid}))
        try:
            reply = await asyncio.wait_for(fut, self.settings.reply_timeout_s)
        finally:
            self._pending.pop(rid, None)
        if reply.error is not None:
            self.skipped["command_error"] += 1
            raise ConnectionError(f"{method} refused: {reply.error}")
        return reply

    async def switch(self, symbols: Sequence[str], interval: str | None = None) -> None:
        """Show other symbols and/or another interval: UNSUBSCRIBE what is no longer wanted and SUBSCRIBE the new
        streams on the open connection, then load the new history. Not connected: the next connection uses them."""
        interval = interval or self.interval
        self._check(symbols, interval)
        old = self.streams()
        self.symbols, self.interval = tuple(symbols), interval
        self._reset_books()
        for s in list(self._books):
            if s not in self.symbols:
                del self._books[s]
        new = self.streams()
        gone = [x for x in old if x not in new]
        added = [x for x in new if x not in old]
        if self._ws is None:
            return  # the next connection subscribes by URL and backfills everything
        try:
            if gone:
                await self._command("UNSUBSCRIBE", gone)
            if added:
                await self._command("SUBSCRIBE", added)
        except (ConnectionError, TimeoutError, WebSocketException) as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            ws = self._ws
            if ws is not None:
                await ws.close()  # the reconnect subscribes by URL and backfills
            return
        fresh = [s for s in self.symbols if self._books[s].last_closed is None]
        try:
            await self._backfill(fresh, catch_up=False)
        except RestError as exc:  # the reconnect backfills again, with backoff
            self.last_error = f"{type(exc).__name__}: {exc}"
            ws = self._ws
            if ws is not None:
                await ws.close()
