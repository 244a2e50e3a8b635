"""The candle history of one live symbol: REST backfill and stream updates merged by open time.

Sources overlap (a backfill after a reconnect re-reads what the stream already sent) and arrive out of order (stream
frames during a backfill), so the book is keyed by open time: a candle replaces the one with the same open time, a
closed candle is never replaced by a forming one, and the one forming candle is replaced in place. The closed part
is handed out as the project's :class:`~hexdesk.market.candles.CandleSeries`, grown by appending when the new
candles come after the last one (the live case) and rebuilt only when an older one changed.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

import numpy as np

from hexdesk.market.candles import INTERVAL_MS, Candle, CandleSeries

__all__ = ["CandleBook"]


class CandleBook:
    """Closed candles plus the forming one, for one symbol and interval."""

    def __init__(self, symbol: str, interval: str) -> None:
        self.symbol = symbol
        self.interval = interval
        self.interval_ms = INTERVAL_MS[interval]
        self._closed: dict[int, Candle] = {}
        self._times: list[int] = []  # sorted open times of the closed candles
        self.forming: Candle | None = None
        self._series: CandleSeries | None = None
        self._built = 0  # how many of _times the cached series holds (valid only if nothing older changed)

    def __len__(self) -> int:
        return len(self._times)

    @property
    def last_closed(self) -> Candle | None:
        return self._closed[self._times[-1]] if self._times else None

    @property
    def latest(self) -> Candle | None:
        """The newest candle: the forming one, else the last closed."""
        return self.forming if self.forming is not None else self.last_closed

    def merge(self, candles: Iterable[Candle]) -> int:
        """Merge candles in any order; returns how many closed candles were new (not replacements)."""
        added = 0
        for k in candles:
            if k.symbol != self.symbol or k.interval != self.interval:
                raise ValueError(f"{k.symbol} {k.interval} candle in the {self.symbol} {self.interval} book")
            t = k.open_time_ms
            if k.closed:
                if t not in self._closed:
                    added += 1
                    if self._times and t < self._times[-1]:
                        bisect.insort(self._times, t)
                        self._series = None  # an older hole filled: rebuild
                    else:
                        self._times.append(t)
                elif self._closed[t] != k:
                    self._series = None  # a correction of a closed candle: rebuild
                self._closed[t] = k
                if self.forming is not None and self.forming.open_time_ms <= t:
                    self.forming = None
            elif (
                t not in self._closed
                and (self.forming is None or t >= self.forming.open_time_ms)
                and (not self._times or t > self._times[-1])
            ):
                self.forming = k
        return added

    def missing(self) -> int:
        """Candles missing between the first and the last closed one (0 when the history has no hole)."""
        if len(self._times) < 2:
            return 0
        return (self._times[-1] - self._times[0]) // self.interval_ms + 1 - len(self._times)

    def closed_after(self, open_ms: int) -> list[Candle]:
        """The closed candles opening strictly after ``open_ms``, oldest first."""
        i = bisect.bisect_right(self._times, open_ms)
        return [self._closed[t] for t in self._times[i:]]

    def series(self) -> CandleSeries:
        """The closed candles as a CandleSeries (cached; appended to while only newer candles arrive)."""
        n = len(self._times)
        s = self._series
        if s is not None and self._built == n:
            return s
        if s is None or self._built == 0:
            s = CandleSeries.from_candles(
                (self._closed[t] for t in self._times), self.symbol, self.interval
            )
        else:
            s = _append(s, [self._closed[t] for t in self._times[self._built :]])
        self._series, self._built = s, n
        return s


def _append(series: CandleSeries, candles: list[Candle]) -> CandleSeries:
    """``series`` followed by ``candles`` (all newer), at the exponents both need: integer arithmetic, exact."""
    tail = CandleSeries.from_candles(candles, series.symbol, series.interval)
    pd = max(series.price_decimals, tail.price_decimals)
    vd = max(series.volume_decimals, tail.volume_decimals)

    def widen(s: CandleSeries) -> list[np.ndarray]:
        o, h, lo, c, v = s.scaled()
        p, q = 10 ** (pd - s.price_decimals), 10 ** (vd - s.volume_decimals)
        return [o * p, h * p, lo * p, c * p, v * q]

    a, b = widen(series), widen(tail)
    return CandleSeries(
        series.symbol,
        series.interval,
        np.concatenate([series.open_time_ms, tail.open_time_ms]),
        *(np.concatenate([x, y]) for x, y in zip(a, b, strict=True)),
        price_decimals=pd,
        volume_decimals=vd,
    )
