"""The live recorder: closed live candles and mark prices kept in the data library, in the bundled format.

A live session's 1-minute candles (the REST backfill and every candle the stream closes) are appended, by month, to
``klines/SYMBOL-YYYY-MM-live.npz`` and the mark prices it received, as 1-minute mark-price candles (open, high, low,
close of the marks seen in the minute; volume 0), to ``markPriceKlines/SYMBOL-YYYY-MM-live.npz``: the layout of
``hexdesk data download`` (hexdesk/market/library.py). So ``hexdesk --dataset BTCUSDT-2026-11-live`` replays a live
session offline (liquidating on the recorded mark where it has one, on the last price in minutes it has none), and
:func:`seed_from_recording` starts the next live session from what was recorded, the REST backfill then loading only
the gap. Files are replaced whole (written under a temporary name, then renamed): a crash never leaves half a file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from hexdesk.market.candles import Candle, CandleSeries, load_npz
from hexdesk.market.library import _commit, _Pending, _write_npz, data_dir, dataset_name, month_bounds, month_of

__all__ = ["RECORD_SUFFIX", "LiveRecorder", "merge_series", "recorded_path", "seed_from_recording"]

log = logging.getLogger(__name__)

RECORD_SUFFIX = "live"
"""Recorded datasets are named ``SYMBOL-YYYY-MM-live``: never the name of a downloaded or bundled month."""
SEED_MAX_AGE_MS = 7 * 24 * 3_600_000
"""A recording older than a week is not used to start a live history (its gap would cost more requests than the
ordinary 1,500-candle backfill)."""
_MIN = 60_000


class _Market(Protocol):
    """What the recorder needs of the live client (``hexdesk.market.binance.BinanceLive``)."""

    symbols: tuple[str, ...]
    interval: str

    def history(self, symbol: str) -> CandleSeries: ...
    def book(self, symbol: str) -> Any: ...
    def now_ms(self) -> int: ...


def recorded_path(root: Path, kind: str, symbol: str, month: str) -> Path:
    """``root/kind/SYMBOL-YYYY-MM-live.npz`` (kind ``klines`` or ``markPriceKlines``)."""
    return root / kind / f"{dataset_name(symbol, month, RECORD_SUFFIX)}.npz"


def merge_series(old: CandleSeries | None, new: CandleSeries) -> CandleSeries:
    """``old`` and ``new`` merged by open time, ``new`` winning where both have a candle; exact (integers scaled to
    the larger of the two exponents)."""
    if old is None or not len(old):
        return new
    if not len(new):
        return old
    pd = max(old.price_decimals, new.price_decimals)
    vd = max(old.volume_decimals, new.volume_decimals)

    def widen(s: CandleSeries) -> list[np.ndarray]:
        o, h, lo, c, v = s.scaled()
        p, q = 10 ** (pd - s.price_decimals), 10 ** (vd - s.volume_decimals)
        return [s.open_time_ms, o * p, h * p, lo * p, c * p, v * q]

    cols = [np.concatenate([a, b]) for a, b in zip(widen(new), widen(old), strict=True)]  # new first: it wins
    _, first = np.unique(cols[0], return_index=True)  # sorted unique times, index of the first (= new) occurrence
    return CandleSeries(new.symbol, new.interval, *(c[first] for c in cols), price_decimals=pd, volume_decimals=vd)


def _read(path: Path) -> CandleSeries | None:
    if not path.is_file():
        return None
    try:
        return load_npz(path)
    except (OSError, ValueError, KeyError) as exc:  # a damaged recording is replaced, not fatal
        log.warning("recorded candles %s unreadable (%s): rewritten", path, exc)
        return None


def _months(first_ms: int, last_ms: int) -> list[str]:
    out, t = [], first_ms
    while t <= last_ms:
        m = month_of(t)
        out.append(m)
        t = month_bounds(m)[1]
    return out


class LiveRecorder:
    """Keeps a live client's closed 1-minute candles and the mark prices the desk received in the data library.

    ``on_change`` is a desk subscriber (it reads the ticks' marks); :meth:`flush` writes what is new; :meth:`run`
    flushes every ``every_s`` seconds until cancelled. Only a 1-minute client is recorded (the replay's unit).
    """

    def __init__(self, market: _Market, directory: str | Path | None = None, *, every_s: float = 60.0) -> None:
        self.market = market
        self.root = data_dir(directory)
        self.every_s = every_s
        self._written: dict[str, int] = {}  # per symbol: open time of the newest candle already on disk
        self._marks: dict[str, dict[int, list[Decimal]]] = {}  # per symbol, minute -> [open, high, low, close]
        self.files_written = 0

    def note_seeded(self, symbol: str, last_open_ms: int) -> None:
        """Candles up to ``last_open_ms`` came from the recording itself: no need to write them again."""
        self._written[symbol] = last_open_ms

    def on_change(self, change: Any) -> None:
        """A desk subscriber: keep the mark of every tick that carries one, per minute."""
        for tick in getattr(change, "ticks", ()):
            mark = tick.mark
            if mark is None:
                continue
            minute = tick.ts_ms // _MIN * _MIN
            per = self._marks.setdefault(tick.symbol, {})
            ohlc = per.get(minute)
            if ohlc is None:
                per[minute] = [mark, mark, mark, mark]
            else:
                ohlc[1] = max(ohlc[1], mark)
                ohlc[2] = min(ohlc[2], mark)
                ohlc[3] = mark

    def flush(self) -> list[Path]:
        """Write the candles closed since the last flush and the mark minutes that are over; returns the files."""
        if self.market.interval != "1m":
            return []
        pending: list[_Pending] = []
        for sym in self.market.symbols:
            pending += self._klines(sym)
            pending += self._mark_klines(sym)
        if not pending:
            return []
        try:
            paths = _commit(pending, self.root)
        except OSError as exc:  # a full disk must not end a live session: the candles stay in memory
            log.warning("live recorder could not write to %s: %s", self.root, exc)
            return []
        self.files_written += len(paths)
        return paths

    def _klines(self, sym: str) -> list[_Pending]:
        series = self.market.history(sym)
        done = self._written.get(sym)
        start = series.index_at(done + 1) if done is not None else 0
        fresh = series.slice(start, None)
        if not len(fresh):
            return []
        out = []
        for month in _months(fresh.first_open_ms, fresh.last_open_ms):
            lo, hi = month_bounds(month)
            part = fresh.slice(fresh.index_at(lo), fresh.index_at(hi))
            if not len(part):
                continue
            path = recorded_path(self.root, "klines", sym, month)
            out.append(_Pending(path, _write_npz(merge_series(_read(path), part), "futures", "klines")))
        self._written[sym] = fresh.last_open_ms
        return out

    def _mark_klines(self, sym: str) -> list[_Pending]:
        per = self._marks.get(sym)
        if not per:
            return []
        current = self.market.now_ms() // _MIN * _MIN
        done = sorted(m for m in per if m < current)  # the minute under way keeps collecting
        if not done:
            return []
        out = []
        by_month: dict[str, list[Candle]] = {}
        for m in done:
            o, h, lo, c = per.pop(m)
            by_month.setdefault(month_of(m), []).append(Candle(sym, "1m", m, o, h, lo, c, Decimal(0)))
        for month, candles in by_month.items():
            path = recorded_path(self.root, "markPriceKlines", sym, month)
            series = CandleSeries.from_candles(candles, sym, "1m")
            out.append(_Pending(path, _write_npz(merge_series(_read(path), series), "futures", "markPriceKlines")))
        return out

    async def run(self) -> None:
        """Flush every ``every_s`` seconds until cancelled (the owner flushes once more at the end)."""
        while True:
            await asyncio.sleep(self.every_s)
            self.flush()


def recorded_history(symbol: str, since_ms: int, until_ms: int, directory: str | Path | None = None) -> CandleSeries:
    """The recorded 1-minute candles of ``symbol`` opening in ``[since_ms, until_ms)``, oldest first."""
    root = data_dir(directory)
    merged: CandleSeries | None = None
    for month in _months(since_ms, until_ms):
        s = _read(recorded_path(root, "klines", symbol, month))
        if s is not None:
            merged = merge_series(merged, s) if merged is not None else s
    if merged is None:
        return CandleSeries.from_candles([], symbol, "1m")
    return merged.slice(merged.index_at(since_ms), merged.index_at(until_ms))


def _contiguous_tail(series: CandleSeries) -> CandleSeries:
    """The last run of candles without a missing minute (older recordings before a gap are left out: a history
    with a hole would show one on the chart)."""
    t = series.open_time_ms
    if len(t) < 2:
        return series
    gaps = np.flatnonzero(np.diff(t) != series.interval_ms)
    return series.slice(int(gaps[-1]) + 1, None) if len(gaps) else series


def seed_from_recording(
    market: _Market, directory: str | Path | None = None, recorder: LiveRecorder | None = None
) -> dict[str, int]:
    """Load each symbol's recent recorded candles into the live client's history before it connects, so its first
    backfill asks only for the gap since the recording. Returns the number of candles seeded per symbol."""
    if market.interval != "1m":
        return {}
    now = market.now_ms()
    current = now // _MIN * _MIN
    seeded: dict[str, int] = {}
    for sym in market.symbols:
        recent = _contiguous_tail(recorded_history(sym, now - SEED_MAX_AGE_MS, current, directory))
        if not len(recent):
            continue
        book = market.book(sym)
        book.merge(_candles(recent))
        prime = getattr(market, "_prime", None)
        if prime is not None:
            prime(sym)  # the liquidity estimate starts from the recorded volumes, as from a backfill
        if recorder is not None:
            recorder.note_seeded(sym, recent.last_open_ms)
        seeded[sym] = len(recent)
    return seeded


def _candles(series: CandleSeries) -> Iterable[Candle]:
    return (series.candle(i) for i in range(len(series)))
