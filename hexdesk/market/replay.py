"""Replay of recorded candles as a trader would have seen them live: a forming candle, never a future value.

Each candle is walked along four price points (open, first extreme, second extreme, close; see docs/market.md) so a
margin engine sees the whole range of the bar in a plausible order: stops and liquidations trigger inside bars, not
only at closes. Several symbols share one timeline. ``ticks()`` is the plain synchronous stream (benchmarks, tests,
batch back-tests); ``run()`` paces it against a wall clock for the UI, one coalesced batch per frame.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

import numpy as np

from hexdesk.engine.columns import TickPrices, TickTimes, TickVolumes
from hexdesk.market.candles import Candle, CandleSeries, scaled_to_decimal, scaled_to_decimals
from hexdesk.market.liquidity import LiquidityEstimator

MAX_SPEED = 100_000.0
MAX_BATCH = 20_000
ZERO_VOLUME = Decimal(0)


@dataclass(frozen=True, slots=True)
class PriceTick:
    """The last price of ``symbol`` at ``ts_ms`` and the forming candle as known at that moment (step 0..3).

    ``liquidity`` is what the engine prices orders with (``Exchange.on_tick(..., bar_volume=tick.liquidity)``): the
    base-asset volume expected in one minute, estimated from closed candles only (hexdesk.market.liquidity: the
    median of the last 15 before this tick's candle; 0 before any has closed). ``candle.volume`` is for the chart:
    in replay it is a share of the recorded candle's final volume, a value from the future, so it must never price
    an order. None means no volume model at all (the fill model then charges only the spread).

    ``mark`` is the mark price at that moment when the source has one (a dataset with mark-price klines, the live
    mark stream): the engine values positions and liquidates on it (``Exchange.on_tick(..., mark=tick.mark)``).
    None: the engine takes the last price as the mark.
    """

    symbol: str
    ts_ms: int
    price: Decimal
    candle: Candle
    step: int
    liquidity: Decimal | None = None
    mark: Decimal | None = None


def step_offsets(interval_ms: int) -> tuple[int, int, int, int]:
    """Where the four path points sit in a candle: open, 1/3, 2/3, last millisecond (1m: 0, 20, 40, 59.999 s)."""
    return 0, interval_ms // 3, 2 * interval_ms // 3, interval_ms - 1


def _share(volume: int, k: int) -> int:
    """round(volume * k / 3) in scaled integers; k/3 is never a half, so nearest needs no tie rule."""
    q, r = divmod(volume * k, 3)
    return q + (r == 2)


def mark_points(
    series: CandleSeries, mark: CandleSeries, start: int = 0, stop: int | None = None
) -> Iterator[tuple[Decimal, Decimal, Decimal, Decimal] | None]:
    """For each candle ``[start:stop]`` of ``series``, the mark at its four path steps, or None without a mark candle.

    The mark candle of the same minute is walked by the same rule as the price (bullish: open, low, high, close;
    bearish: open, high, low, close) at the same instants, so the engine's mark path reaches the mark's real high
    and low inside the minute: a liquidation happens on the mark's extreme, as on Binance, not on the last price's.
    A minute missing from the mark candles (an archive gap) gets None: the engine then uses the last price.
    """
    if mark.interval_ms != series.interval_ms:
        raise ValueError(f"mark candles are {mark.interval}, prices {series.interval}: they must match")
    stop = len(series) if stop is None else stop
    times = series.open_time_ms[start:stop]
    idx = mark.index_at(int(times[0])) if len(times) else 0
    mt = mark.open_time_ms
    n = len(mark)
    mo, mh, ml, mc, _mv = mark.scaled()
    dec, pd = scaled_to_decimal, mark.price_decimals
    for t in times.tolist():
        while idx < n and mt[idx] < t:
            idx += 1
        if idx >= n or mt[idx] != t:
            yield None
            continue
        o, h, lo, c = int(mo[idx]), int(mh[idx]), int(ml[idx]), int(mc[idx])
        first, second = (lo, h) if c >= o else (h, lo)
        yield dec(o, pd), dec(first, pd), dec(second, pd), dec(c, pd)


def candle_ticks(
    series: CandleSeries, start: int = 0, stop: int | None = None, mark: CandleSeries | None = None
) -> Iterator[PriceTick]:
    """The four ticks of each candle ``[start:stop]`` of one series, in time order.

    Bullish (close >= open): open -> low -> high -> close; bearish: open -> high -> low -> close. The forming candle
    at step k has the extremes of the points so far, close = the point, volume = volume*k/3 (at the volume's
    exponent), and only step 3 is the real, closed candle. Every tick of a candle carries the same ``liquidity``: the
    estimate from the candles that closed before it opened (those before ``start`` included), never from itself.
    With ``mark`` (mark-price candles of the same symbol and interval) each tick also carries the mark at its step
    (``mark_points``); without, ``mark`` is None.
    """
    sym, interval = series.symbol, series.interval
    _, d1, d2, d3 = step_offsets(series.interval_ms)
    pd, vd = series.price_decimals, series.volume_decimals
    o_a, h_a, l_a, c_a, v_a = series.scaled()
    stop = len(series) if stop is None else stop
    times = series.open_time_ms[start:stop].tolist()
    rows = zip(
        times,
        o_a[start:stop].tolist(),
        h_a[start:stop].tolist(),
        l_a[start:stop].tolist(),
        c_a[start:stop].tolist(),
        v_a[start:stop].tolist(),
        strict=True,
    )
    dec = scaled_to_decimal
    v0 = dec(0, vd)
    interval_ms = series.interval_ms
    estimator = LiquidityEstimator()
    for vi in v_a[max(0, start - estimator.window) : start].tolist():  # what closed before the replay started
        estimator.add_closed(dec(vi, vd), interval_ms)
    liq = estimator.per_minute
    marks = mark_points(series, mark, start, stop) if mark is not None else itertools.repeat(None)
    no_mark = (None, None, None, None)
    for (t, oi, hi, li, ci, vi), m in zip(rows, marks):  # noqa: B905 - repeat() is endless; rows set the length
        m0, m1, m2, m3 = no_mark if m is None else m
        o, h, lo, c = dec(oi, pd), dec(hi, pd), dec(li, pd), dec(ci, pd)
        v1, v2, v = dec(_share(vi, 1), vd), dec(_share(vi, 2), vd), dec(vi, vd)
        yield PriceTick(sym, t, o, Candle(sym, interval, t, o, o, o, o, v0, False), 0, liq, m0)
        if ci >= oi:  # bullish: the low comes first
            yield PriceTick(sym, t + d1, lo, Candle(sym, interval, t, o, o, lo, lo, v1, False), 1, liq, m1)
            yield PriceTick(sym, t + d2, h, Candle(sym, interval, t, o, h, lo, h, v2, False), 2, liq, m2)
        else:
            yield PriceTick(sym, t + d1, h, Candle(sym, interval, t, o, h, o, h, v1, False), 1, liq, m1)
            yield PriceTick(sym, t + d2, lo, Candle(sym, interval, t, o, h, lo, lo, v2, False), 2, liq, m2)
        yield PriceTick(sym, t + d3, c, Candle(sym, interval, t, o, h, lo, c, v, True), 3, liq, m3)
        liq = estimator.add_closed(v, interval_ms)  # known from now on: the next candle is priced with it


@dataclass(frozen=True, slots=True)
class ScaledPath:
    """The 4-point path of a run of candles as sequences for ``Exchange.on_ticks``: no PriceTick, no Candle.

    Tick ``i`` is at ``ts_ms[i]`` with the last price ``prices[i] / 10**price_decimals`` (an exact integer) and the
    liquidity estimate ``liquidity[i]``: the same ticks, in the same order, with the same values, as
    :func:`candle_ticks` yields for the same candles (without a mark: the engine takes the last price as the mark).
    Candle ``k`` of the run is ticks ``4k .. 4k+3``; its close is tick ``4k+3``. A price becomes a Decimal only
    where the engine needs one (``Exchange.on_ticks``), a liquidity estimate when a tick reads it, which is what
    makes a month's back-test cheap (docs/market.md, "Speed"). The three columns are the engine's checked ones
    (``hexdesk.engine.columns``): ``TickTimes`` (the candles' opens plus the four offsets), ``TickPrices`` (the
    path's 64-bit integers) and ``TickVolumes`` (the distinct estimates, one picked per candle): ``on_ticks``
    does not check them again, and slicing them copies nothing. (``liquidity`` is a plain list when an estimate
    is a volume the engine refuses, so that ``on_ticks`` refuses it at its tick.)
    """

    symbol: str
    ts_ms: Sequence[int]  # a TickTimes: the candles' opens plus the four points' offsets, no list of every time
    prices: Sequence[int]  # a TickPrices: ints by construction (read from the candles' int64 arrays)
    price_decimals: int
    liquidity: Sequence[Decimal]  # a TickVolumes (checked once, a view per tick) unless the engine refuses a volume

    def __len__(self) -> int:
        return len(self.ts_ms)


def _liquidity_per_candle(series: CandleSeries, start: int, stop: int) -> tuple[list[Decimal], list[int], list[int]]:
    """``LiquidityEstimator.per_minute`` before each candle ``[start:stop]``, as ``candle_ticks`` computes it, as
    distinct *levels* and, per candle, the index of its level: ``(levels, scaled, picks)``, candle ``k`` has level
    ``picks[k]`` of ``levels + scaled``, where ``scaled`` are volumes as integers scaled by ``10**volume_decimals``.

    Once the window is full (15 closed candles, an odd count) the median is one of the window's volumes, so for
    1-minute candles it is taken in scaled integers (numpy): those distinct medians are ``scaled`` (a Decimal made
    from one is what ``candle_ticks`` makes: same value, same exponent). The first candles of a series and other
    intervals go through the estimator itself (one Decimal level each).
    """
    vd, v_a = series.volume_decimals, series.scaled()[4]
    estimator = LiquidityEstimator()
    window = estimator.window
    fast_from = max(start, window) if series.interval_ms == 60_000 and window % 2 else stop
    fast_from = min(fast_from, stop)
    levels: list[Decimal] = []
    dec = scaled_to_decimal
    if start < fast_from:
        for vi in v_a[max(0, start - window) : start].tolist():
            estimator.add_closed(dec(vi, vd), series.interval_ms)
        liq = estimator.per_minute
        for vi in v_a[start:fast_from].tolist():
            levels.append(liq)
            liq = estimator.add_closed(dec(vi, vd), series.interval_ms)
    picks = list(range(len(levels)))
    scaled: list[int] = []
    if fast_from < stop:
        windows = np.lib.stride_tricks.sliding_window_view(v_a[fast_from - window : stop - 1], window)
        medians = np.partition(windows, window // 2, axis=1)[:, window // 2]
        distinct, which = np.unique(medians, return_inverse=True)  # a month of medians repeats: few levels
        picks.extend((which + len(levels)).tolist())
        scaled = distinct.tolist()
    return levels, scaled, picks


def scaled_path(series: CandleSeries, start: int = 0, stop: int | None = None) -> ScaledPath:
    """The ticks of candles ``[start:stop]`` (the path of :func:`candle_ticks`) as a :class:`ScaledPath`."""
    stop = len(series) if stop is None else min(stop, len(series))
    start = max(0, min(start, stop))
    o_a, h_a, l_a, c_a, _v = series.scaled()
    o, h, lo, c = o_a[start:stop], h_a[start:stop], l_a[start:stop], c_a[start:stop]
    bullish = c >= o  # the low first
    prices = np.stack([o, np.where(bullish, lo, h), np.where(bullish, h, lo), c], axis=1).ravel()
    opens = series.open_time_ms[start:stop]
    times: Sequence[int]
    try:  # the times as the candles' opens and the four offsets: checked once, no list of every tick's time
        times = TickTimes(opens.tolist(), step_offsets(series.interval_ms))
    except ValueError:  # candles closer than an interval: the times as they are (on_ticks checks their order)
        times = (opens.astype(np.int64)[:, None] + np.asarray(step_offsets(series.interval_ms))).ravel().tolist()
    levels, scaled, picks = _liquidity_per_candle(series, start, stop)
    liquidity: Sequence[Decimal]
    try:  # the usual case: the levels are checked here once, not the ticks by every on_ticks call
        liquidity = TickVolumes(levels, picks, 4, scaled=scaled, decimals=series.volume_decimals)
    except ValueError:  # a volume the tick door refuses: a plain list, so on_ticks refuses it at its tick (as on_tick)
        levels += scaled_to_decimals(scaled, series.volume_decimals)
        per_candle = list(map(levels.__getitem__, picks))
        liquidity = [ZERO_VOLUME] * (4 * len(per_candle))
        for k in range(4):
            liquidity[k::4] = per_candle
    scaled = TickPrices.from_int64(np.ascontiguousarray(prices, dtype=np.int64).tobytes())
    return ScaledPath(series.symbol, times, scaled, series.price_decimals, liquidity)


def _tick_key(t: PriceTick) -> tuple[int, str]:
    return t.ts_ms, t.symbol


class Replay:
    """One or more candle series replayed on a shared clock, with the controls of a replay bar.

    Candles opening at or after ``start_ms`` are replayed (default: the earliest candle); earlier ones are history
    (``history_before``). The replay clock ``position_ms`` starts at ``start_ms``; ``run`` advances it by
    ``speed`` × wall time and emits every tick at or before it. Controls called between frames (pause, resume,
    step, step_candle, seek, speed) take effect at the next frame. ``ticks()`` bypasses the pacing entirely.
    """

    def __init__(
        self,
        series: Sequence[CandleSeries],
        start_ms: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_batch: int = MAX_BATCH,
        marks: Mapping[str, CandleSeries] | None = None,
    ) -> None:
        if not series:
            raise ValueError("a replay needs at least one series")
        symbols = [s.symbol for s in series]
        if len(set(symbols)) != len(symbols):
            raise ValueError(f"one series per symbol, got {symbols}")
        nonempty = [s for s in series if len(s)]
        if not nonempty:
            raise ValueError("every series is empty")
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        self.series: tuple[CandleSeries, ...] = tuple(series)
        self.start_ms: int = start_ms if start_ms is not None else min(s.first_open_ms for s in nonempty)
        self.end_ms: int = max(s.last_close_ms for s in nonempty)
        self.max_batch = max_batch
        self._clock = clock
        self._starts = [s.index_at(self.start_ms) for s in self.series]
        marks = dict(marks or {})
        unknown = set(marks) - set(symbols)
        if unknown:
            raise ValueError(f"mark candles for {sorted(unknown)} but no price series for them")
        self.marks: Mapping[str, CandleSeries] = MappingProxyType(marks)
        """Mark-price candles by symbol (datasets that carry them): the ticks of those symbols carry ``mark``."""
        streams = [candle_ticks(s, i, mark=marks.get(s.symbol)) for s, i in zip(self.series, self._starts, strict=True)]
        self._stream: Iterator[PriceTick] = streams[0] if len(streams) == 1 else heapq.merge(*streams, key=_tick_key)
        self._next: PriceTick | None = next(self._stream, None)
        self._last: PriceTick | None = None
        self._prev_open: dict[str, int] = {}
        self._pos: float = float(self.start_ms)  # the replay clock, ms
        self._wall: float | None = None  # wall time of the last clock update; None until paced
        self._speed = 60.0
        self._paused = False
        self._steps = 0
        self._candles = 0
        self._candle_target: int | None = None
        self._seek_to: int | None = None
        self.gaps = 0
        """Gaps crossed so far: runs of missing candles in a series (outages), skipped over in time."""
        self.missing_candles = 0
        """Candles missing inside those gaps."""

    # --- state ------------------------------------------------------------------------------------------

    @property
    def position_ms(self) -> int:
        """The replay clock: every tick at or before it has been emitted (or is due at the next frame). It never
        runs past the last candle's close (``end_ms``): after the data there is no time to show."""
        return int(min(self._pos, self.end_ms))

    @property
    def finished(self) -> bool:
        """Every tick has been emitted: the data has ended (pacing, steps and seeks have nothing left to do)."""
        return self._next is None

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def speed(self) -> float:
        """Replay seconds per wall second: 60 is one 1-minute candle a second; ``math.inf`` is as fast as possible."""
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if not (value > 0 and (value <= MAX_SPEED or math.isinf(value))):
            raise ValueError(f"speed must be in (0, {MAX_SPEED:,.0f}] or math.inf, got {value}")
        self._advance_clock()  # time so far counts at the old speed
        self._speed = float(value)

    def history_before(self, ts_ms: int | None = None) -> list[CandleSeries]:
        """Each series' candles opening before ``ts_ms`` (default: the replay start), as context for the chart."""
        ts = self.start_ms if ts_ms is None else ts_ms
        return [s.slice(0, s.index_at(ts)) for s in self.series]

    # --- controls ---------------------------------------------------------------------------------------

    def pause(self) -> None:
        self._advance_clock()
        self._paused = True

    def resume(self) -> None:
        """Play again; the time spent paused is not replayed."""
        if self._paused:
            self._paused = False
            self._wall = None if self._wall is None else self._clock()

    def step(self) -> None:
        """Pause and emit exactly the next tick at the next frame (each call adds one)."""
        self.pause()
        self._steps += 1

    def step_candle(self) -> None:
        """Pause and emit, at the next frame, every tick up to the close of the candle now forming (or the next one)."""
        self.pause()
        self._candles += 1

    def seek(self, ts_ms: int) -> None:
        """Jump forward to ``ts_ms``: every tick up to it is still emitted (as fast as possible, in batches) so a
        margin engine sees the whole path. Backwards is impossible (the engine cannot un-fill): start a new Replay."""
        target = self._pos if self._seek_to is None else max(self._pos, self._seek_to)
        if ts_ms < target:
            raise ValueError(f"cannot seek back to {ts_ms} from {int(target)}: start a new Replay to go back")
        self._seek_to = ts_ms
        self._steps = self._candles = 0
        self._candle_target = None

    def put_back(self, ticks: Sequence[PriceTick], applied: PriceTick) -> None:
        """Give back ``ticks`` taken but not applied (the consumer stopped after ``applied``, e.g. at a
        liquidation): pause, cancel pending steps and seeks, put the clock back at ``applied`` and emit ``ticks``
        again first when the replay goes on."""
        self.pause()
        self._steps = self._candles = 0
        self._candle_target = None
        self._seek_to = None
        if ticks:
            rest: list[PriceTick] = list(ticks[1:])
            if self._next is not None:
                rest.append(self._next)
            self._next = ticks[0]
            self._stream = itertools.chain(rest, self._stream)
        self._last = applied
        self._pos = float(applied.ts_ms)

    # --- the stream -------------------------------------------------------------------------------------

    def _take(self) -> PriceTick:
        t = self._next
        assert t is not None
        self._next = next(self._stream, None)
        if t.step == 0:
            prev = self._prev_open.get(t.symbol)
            interval_ms = t.candle.close_time_ms - t.ts_ms + 1
            if prev is not None and t.ts_ms - prev > interval_ms:
                self.gaps += 1
                self.missing_candles += (t.ts_ms - prev) // interval_ms - 1
            self._prev_open[t.symbol] = t.ts_ms
        self._last = t
        if t.ts_ms > self._pos:
            self._pos = float(t.ts_ms)
        return t

    def ticks(self) -> Iterator[PriceTick]:
        """Every remaining tick in (ts_ms, symbol) order, unpaced; the replay clock follows the ticks taken."""
        while self._next is not None:
            yield self._take()

    def _emit_until(self, ts_ms: float, out: list[PriceTick]) -> bool:
        """Take ticks at or before ``ts_ms`` into ``out`` up to the batch limit; True when none is left before it."""
        limit = self.max_batch
        while self._next is not None and self._next.ts_ms <= ts_ms:
            if len(out) >= limit:
                return False
            out.append(self._take())
        return True

    def _dead_time_before(self, nxt: PriceTick) -> bool:
        """True when no candle of any series is open between the last tick and ``nxt``: a gap to skip over."""
        last = self._last
        if nxt.step != 0:
            return False
        return last is None or (last.step == 3 and nxt.ts_ms > last.ts_ms + 1)

    def _advance_clock(self) -> None:
        if self._wall is None:
            return
        now = self._clock()
        if not self._paused and self._seek_to is None and not math.isinf(self._speed):
            self._pos += self._speed * (now - self._wall) * 1000.0  # at infinite speed poll() has no horizon
            self._pos = min(self._pos, float(self.end_ms))  # the clock stops at the end of the data
        self._wall = now

    def poll(self) -> list[PriceTick]:
        """One frame: advance the clock by wall time × speed and return the ticks now due (at most ``max_batch``).

        Pending seek, steps and candle steps are served first. If the batch limit holds ticks back (infinite speed,
        or a consumer too slow for the speed) the clock waits at the last tick emitted rather than running ahead.
        """
        if self._wall is None:
            self._wall = self._clock()
        self._advance_clock()
        out: list[PriceTick] = []
        if self._seek_to is not None:
            if not self._emit_until(self._seek_to, out):
                return out
            self._pos = max(self._pos, float(self._seek_to))
            self._seek_to = None
        while self._steps and self._next is not None:
            if len(out) >= self.max_batch:
                return out
            out.append(self._take())
            self._steps -= 1
        self._steps = 0
        while self._candles or self._candle_target is not None:
            if self._candle_target is None:
                if self._next is None:
                    self._candles = 0
                    break
                self._candle_target = self._next.candle.close_time_ms
                self._candles -= 1
            if not self._emit_until(self._candle_target, out):
                return out
            self._candle_target = None
        if not self._paused:
            unbounded = math.isinf(self._speed)
            while True:
                if not self._emit_until(math.inf if unbounded else self._pos, out):
                    if self._last is not None:
                        self._pos = float(self._last.ts_ms)  # held back: do not run ahead of what was emitted
                    break
                nxt = self._next
                if unbounded or nxt is None or nxt.ts_ms <= self._pos or not self._dead_time_before(nxt):
                    break
                self._pos = float(nxt.ts_ms)  # a gap in every series: skip the empty time
        return out

    async def run(self, on_ticks: Callable[[list[PriceTick]], None], frame_s: float = 1 / 30) -> None:
        """Pace the replay: every ``frame_s`` emit the due ticks in ONE ``on_ticks`` call; return when finished.

        Cancelling the task stops it between frames (the CancelledError propagates); no tick is lost or repeated,
        so ``run`` can be awaited again later to continue.
        """
        self._wall = self._clock()
        while self._next is not None:
            batch = self.poll()
            if batch:
                on_ticks(batch)
            if self._next is None:
                break
            await asyncio.sleep(frame_s)
