"""Candles: exact ``Decimal`` values for the engine, numpy float arrays for drawing.

Prices are real Binance prices, so a series keeps them as integers scaled by a power of ten (one exponent for
open/high/low/close, one for volume): ``candle(i)`` rebuilds the exact ``Decimal`` and aggregation is integer
arithmetic, while ``open``/``high``/``low``/``close``/``volume`` are float64 copies that only the chart reads.
Bundled datasets are stored in that same scaled form (see docs/market.md), so loading one is a few ms.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation, localcontext
from itertools import pairwise, repeat
from pathlib import Path
from types import MappingProxyType

import numpy as np

from hexdesk.market.paths import KLINES

_MIN = 60_000
_HOUR = 60 * _MIN

# Binance intervals that are aligned to multiples of their length since the Unix epoch (UTC boundaries).
INTERVAL_MS: Mapping[str, int] = MappingProxyType(
    {
        "1m": _MIN,
        "3m": 3 * _MIN,
        "5m": 5 * _MIN,
        "15m": 15 * _MIN,
        "30m": 30 * _MIN,
        "1h": _HOUR,
        "2h": 2 * _HOUR,
        "4h": 4 * _HOUR,
        "6h": 6 * _HOUR,
        "8h": 8 * _HOUR,
        "12h": 12 * _HOUR,
        "1d": 24 * _HOUR,
    }
)

FORMAT_VERSION = 1
_INT64_MAX = 2**63 - 1
_EXACT = Context(prec=200)  # scaling a Decimal by 10**k must never round


def _interval_ms(interval: str) -> int:
    try:
        return INTERVAL_MS[interval]
    except KeyError:
        raise ValueError(f"unsupported interval {interval!r}; expected one of {', '.join(INTERVAL_MS)}") from None


def scaled_to_decimal(value: int, decimals: int) -> Decimal:
    """``value / 10**decimals`` as an exact Decimal (built from a string: exact whatever the decimal context)."""
    return Decimal(f"{value}e-{decimals}")


def scaled_to_decimals(values: Iterable[int], decimals: int) -> list[Decimal]:
    """:func:`scaled_to_decimal` of each value (the same Decimals: same digits, same exponent), about twice as fast
    for many: ``scaleb`` in a context of 200 digits moves the exponent of the exact integer without rounding (a
    scaled int64 has at most 19 digits) and without building a string."""
    if decimals < 0:
        return [scaled_to_decimal(v, decimals) for v in values]
    return list(map(_EXACT.scaleb, values, repeat(-decimals)))


@dataclass(frozen=True, slots=True)
class Candle:
    """One kline as Binance sends it; ``closed`` is False while it is still forming (live or replayed)."""

    symbol: str
    interval: str
    open_time_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    closed: bool = True

    @property
    def close_time_ms(self) -> int:
        """Binance's close time: the last millisecond inside the candle (open + interval - 1)."""
        return self.open_time_ms + INTERVAL_MS[self.interval] - 1


def _frozen(a: np.ndarray) -> np.ndarray:
    """Mark a freshly made array read-only: a series is shared between the chart, the replay and the desk."""
    a.flags.writeable = False
    return a


class CandleSeries:
    """Closed candles of one symbol and interval, sorted by open time, immutable.

    ``open_time_ms`` (int64) and the float64 ``open``/``high``/``low``/``close``/``volume`` arrays are for drawing
    and searching; ``candle(i)`` gives the exact values. Slices are numpy views, so they cost nothing.
    """

    __slots__ = (
        "_c",
        "_h",
        "_l",
        "_o",
        "_v",
        "close",
        "high",
        "interval",
        "interval_ms",
        "low",
        "open",
        "open_time_ms",
        "price_decimals",
        "symbol",
        "volume",
        "volume_decimals",
    )

    symbol: str
    interval: str
    interval_ms: int
    price_decimals: int
    volume_decimals: int
    open_time_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __init__(
        self,
        symbol: str,
        interval: str,
        open_time_ms: np.ndarray | Sequence[int],
        open_: np.ndarray | Sequence[int],
        high: np.ndarray | Sequence[int],
        low: np.ndarray | Sequence[int],
        close: np.ndarray | Sequence[int],
        volume: np.ndarray | Sequence[int],
        *,
        price_decimals: int,
        volume_decimals: int,
    ) -> None:
        """Build from scaled integers: a price is ``open_[i] / 10**price_decimals``, a volume likewise."""
        interval_ms = _interval_ms(interval)
        if price_decimals < 0 or volume_decimals < 0:
            raise ValueError("decimals must be >= 0")
        t = _frozen(np.array(open_time_ms, dtype=np.int64))  # a copy: the caller keeps no writable alias
        cols = [_frozen(np.array(a, dtype=np.int64)) for a in (open_, high, low, close, volume)]
        if t.ndim != 1 or any(c.shape != t.shape for c in cols):
            raise ValueError("open_time_ms and the five value arrays must be 1-D and of equal length")
        if len(t) > 1 and not bool(np.all(t[1:] > t[:-1])):
            raise ValueError("open times must be strictly increasing")
        self._init(symbol, interval, interval_ms, t, *cols, price_decimals, volume_decimals)

    def _init(
        self,
        symbol: str,
        interval: str,
        interval_ms: int,
        t: np.ndarray,
        o: np.ndarray,
        h: np.ndarray,
        lo: np.ndarray,
        c: np.ndarray,
        v: np.ndarray,
        price_decimals: int,
        volume_decimals: int,
        floats: tuple[np.ndarray, ...] | None = None,
    ) -> None:
        self.symbol = symbol
        self.interval = interval
        self.interval_ms = interval_ms
        self.price_decimals = price_decimals
        self.volume_decimals = volume_decimals
        self.open_time_ms = t
        self._o, self._h, self._l, self._c, self._v = o, h, lo, c, v
        if floats is None:
            ps, vs = 10.0**price_decimals, 10.0**volume_decimals
            floats = (*(_frozen(a / ps) for a in (o, h, lo, c)), _frozen(v / vs))
        self.open, self.high, self.low, self.close, self.volume = floats

    # --- construction -----------------------------------------------------------------------------------

    @classmethod
    def from_candles(
        cls, candles: Iterable[Candle], symbol: str | None = None, interval: str | None = None
    ) -> CandleSeries:
        """A series from Candle objects (tests, recorders); all must share one symbol and interval."""
        items = list(candles)
        if not items and (symbol is None or interval is None):
            raise ValueError("an empty series needs an explicit symbol and interval")
        symbol = symbol if symbol is not None else items[0].symbol
        interval = interval if interval is not None else items[0].interval
        for k in items:
            if k.symbol != symbol or k.interval != interval:
                raise ValueError(f"mixed candles: {k.symbol} {k.interval} in a {symbol} {interval} series")
        return _from_decimals(
            symbol,
            interval,
            [k.open_time_ms for k in items],
            [(k.open, k.high, k.low, k.close, k.volume) for k in items],
        )

    # --- access -----------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.open_time_ms)

    def __iter__(self) -> Iterator[Candle]:
        for i in range(len(self)):
            yield self.candle(i)

    def __repr__(self) -> str:
        span = f"{self.first_open_ms}..{self.last_open_ms}" if len(self) else "empty"
        return f"CandleSeries({self.symbol} {self.interval}, {len(self)} candles, {span})"

    def candle(self, i: int) -> Candle:
        """The i-th candle (negative counts from the end) with exact Decimal values."""
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"candle index {i} out of range for {n} candles")
        pd, vd = self.price_decimals, self.volume_decimals
        return Candle(
            self.symbol,
            self.interval,
            int(self.open_time_ms[i]),
            scaled_to_decimal(int(self._o[i]), pd),
            scaled_to_decimal(int(self._h[i]), pd),
            scaled_to_decimal(int(self._l[i]), pd),
            scaled_to_decimal(int(self._c[i]), pd),
            scaled_to_decimal(int(self._v[i]), vd),
        )

    def scaled(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The exact values as read-only int64 arrays (open, high, low, close, volume).

        Prices are scaled by ``10**price_decimals``, volumes by ``10**volume_decimals``.
        """
        return self._o, self._h, self._l, self._c, self._v

    def index_at(self, ts_ms: int) -> int:
        """Index of the first candle opening at or after ``ts_ms``: also the count of candles opening before it."""
        return int(np.searchsorted(self.open_time_ms, ts_ms, side="left"))

    def slice(self, start: int | None, stop: int | None) -> CandleSeries:
        """Candles ``[start:stop]`` (Python slice rules) as a new series sharing this one's memory."""
        sl = slice(start, stop)
        out = CandleSeries.__new__(CandleSeries)
        out._init(
            self.symbol,
            self.interval,
            self.interval_ms,
            self.open_time_ms[sl],
            self._o[sl],
            self._h[sl],
            self._l[sl],
            self._c[sl],
            self._v[sl],
            self.price_decimals,
            self.volume_decimals,
            (self.open[sl], self.high[sl], self.low[sl], self.close[sl], self.volume[sl]),
        )
        return out

    @property
    def first_open_ms(self) -> int:
        if not len(self):
            raise ValueError(f"empty {self.symbol} series has no first candle")
        return int(self.open_time_ms[0])

    @property
    def last_open_ms(self) -> int:
        if not len(self):
            raise ValueError(f"empty {self.symbol} series has no last candle")
        return int(self.open_time_ms[-1])

    @property
    def last_close_ms(self) -> int:
        """Close time (Binance convention, inclusive) of the last candle."""
        return self.last_open_ms + self.interval_ms - 1

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays (slices share memory with their parent; this counts the viewed part only)."""
        exact = (self.open_time_ms, self._o, self._h, self._l, self._c, self._v)
        drawn = (self.open, self.high, self.low, self.close, self.volume)
        return sum(a.nbytes for a in (*exact, *drawn))


# --- building from Decimals ------------------------------------------------------------------------------


def _decimals(d: Decimal) -> int:
    exp = d.as_tuple().exponent
    assert isinstance(exp, int)  # callers reject NaN/Infinity first
    return max(0, -exp)


def _from_decimals(
    symbol: str, interval: str, times: Sequence[int], rows: Sequence[tuple[Decimal, Decimal, Decimal, Decimal, Decimal]]
) -> CandleSeries:
    """Scale exact values to integers with the smallest exponents that keep every digit."""
    pd = max((_decimals(x) for r in rows for x in r[:4]), default=0)
    vd = max((_decimals(r[4]) for r in rows), default=0)
    with localcontext(_EXACT):
        cols = [[int(r[k].scaleb(pd if k < 4 else vd)) for r in rows] for k in range(5)]
    if any(abs(x) > _INT64_MAX for col in cols for x in col):
        raise ValueError(f"{symbol}: values do not fit int64 at {pd} price / {vd} volume decimals")
    arrays = [np.array(col, dtype=np.int64) for col in cols]
    return CandleSeries(
        symbol,
        interval,
        np.array(times, dtype=np.int64),
        *arrays,
        price_decimals=pd,
        volume_decimals=vd,
    )


# --- bundled files ---------------------------------------------------------------------------------------

_COLUMNS = ("open_time_ms", "open", "high", "low", "close", "volume")


def _narrow(a: np.ndarray) -> np.ndarray:
    """int32 when every value fits (half the bytes to inflate at load time), else int64."""
    info = np.iinfo(np.int32)
    if len(a) and (int(a.min()) < info.min or int(a.max()) > info.max):
        return np.asarray(a, dtype=np.int64)
    return a.astype(np.int32)


def save_npz(series: CandleSeries, path: Path, *, compress: bool = False) -> None:
    """Write the bundled format: an .npz of integer columns (int32 where they fit) plus exponents and identity.

    Stored, not deflated, by default: inflating ~1.3 MB costs more than the rest of a load (8 ms against 3 ms for
    a month of minutes), while git and wheels compress the file anyway. Written by hand rather than with
    ``np.savez`` so the bytes do not depend on the clock (clean git diffs).
    """
    members: dict[str, np.ndarray] = {
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "symbol": np.array(series.symbol),
        "interval": np.array(series.interval),
        "price_decimals": np.array(series.price_decimals, dtype=np.int64),
        "volume_decimals": np.array(series.volume_decimals, dtype=np.int64),
        "open_time_ms": np.asarray(series.open_time_ms),
    }
    for name, arr in zip(_COLUMNS[1:], series.scaled(), strict=True):
        members[name] = _narrow(arr)
    path.parent.mkdir(parents=True, exist_ok=True)
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, arr in members.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            with zf.open(info, "w") as fh:
                np.lib.format.write_array(fh, np.asarray(arr, order="C"), allow_pickle=False)


def load_npz(path: Path) -> CandleSeries:
    """Read a file written by ``save_npz``."""
    z = _read_members(path)
    version = int(z["format_version"])
    if version != FORMAT_VERSION:
        raise ValueError(f"{path}: format version {version}, this HexDesk reads {FORMAT_VERSION}")
    return CandleSeries(
        str(z["symbol"]),
        str(z["interval"]),
        *(z[name] for name in _COLUMNS),  # int32 columns are widened to int64 here
        price_decimals=int(z["price_decimals"]),
        volume_decimals=int(z["volume_decimals"]),
    )


def _read_members(path: Path, names: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """The .npy members of an .npz, each inflated in one call (``np.load`` streams in small chunks: 2× slower)."""
    out = {}
    with zipfile.ZipFile(path) as zf:
        wanted = None if names is None else {f"{n}.npy" for n in names}
        for info in zf.infolist():
            if info.filename.endswith(".npy") and (wanted is None or info.filename in wanted):
                data = io.BytesIO(zf.read(info))
                out[info.filename[:-4]] = np.lib.format.read_array(data, allow_pickle=False)
    return out


@dataclass(frozen=True, slots=True)
class BundledDataset:
    """A dataset shipped in ``resources/klines`` (what the session picker lists)."""

    name: str
    symbol: str
    interval: str
    first_open_ms: int
    last_open_ms: int
    rows: int
    path: Path


def list_bundled(directory: Path = KLINES) -> list[BundledDataset]:
    """The bundled datasets, by name, without loading their prices."""
    out = []
    for path in sorted(directory.glob("*.npz")):
        z = _read_members(path, ("symbol", "interval", "open_time_ms"))
        t = z["open_time_ms"]
        out.append(BundledDataset(path.stem, str(z["symbol"]), str(z["interval"]), int(t[0]), int(t[-1]), len(t), path))
    return out


def load_bundled(name: str, directory: Path = KLINES) -> CandleSeries:
    """Load a bundled dataset by name, e.g. ``"BTCUSDT-2025-03"``."""
    path = directory / f"{name}.npz"
    if not path.is_file():
        known = ", ".join(p.stem for p in sorted(directory.glob("*.npz"))) or "none"
        raise ValueError(f"no bundled dataset {name!r} (available: {known})")
    return load_npz(path)


# --- CSV import ------------------------------------------------------------------------------------------

_INT_RE = re.compile(r"^\d+$")


def _normalise_ts(raw: str) -> int | None:
    """Open time in ms from s / ms / µs digits (data.binance.vision spot dumps use µs since 2025)."""
    raw = raw.strip()
    if not _INT_RE.match(raw):
        return None
    t = int(raw)
    if t >= 10**15:  # 16+ digits: microseconds
        return t // 1000
    if t < 10**11:  # 10-11 digits: seconds
        return t * 1000
    return t


def _parse_row(row: list[str]) -> tuple[int, tuple[Decimal, Decimal, Decimal, Decimal, Decimal], int | None] | None:
    if len(row) not in (6, 12):
        return None
    t = _normalise_ts(row[0])
    if t is None:
        return None
    try:
        values = tuple(Decimal(x.strip()) for x in row[1:6])
    except InvalidOperation:
        return None
    if not all(v.is_finite() and v >= 0 for v in values):
        return None
    o, h, lo, c, _v = values
    if not (lo <= min(o, c) and max(o, c) <= h):
        return None
    close_t = _normalise_ts(row[6]) if len(row) == 12 else None
    if len(row) == 12 and (close_t is None or close_t <= t):
        return None
    return t, values, close_t  # type: ignore[return-value]


def _infer_interval(times: list[int], spans: list[int]) -> str:
    """The interval from closeTime-openTime+1 (12-column files), else from the steps between open times.

    Rows sit on the interval's grid, so with gaps the steps are multiples of it: take the longest Binance interval
    dividing at least 3/4 of the steps (a stray off-grid row spoils only two), else the commonest step.
    """
    by_ms = {ms: name for name, ms in INTERVAL_MS.items()}
    if spans:
        ms = Counter(spans).most_common(1)[0][0]
        if ms not in by_ms:
            raise ValueError(f"cannot tell the candle interval: candles last {ms} ms")
        return by_ms[ms]
    steps = [b - a for a, b in pairwise(sorted(set(times)))]
    if not steps:
        return "1m"
    for ms in sorted(by_ms, reverse=True):
        if 4 * sum(1 for d in steps if d % ms == 0) >= 3 * len(steps):
            return by_ms[ms]
    for ms, _n in Counter(steps).most_common():
        if ms in by_ms:
            return by_ms[ms]
    raise ValueError(f"cannot tell the candle interval: rows are {Counter(steps).most_common(1)[0][0]} ms apart")


def load_csv(path: Path | str, symbol: str, interval: str | None = None) -> tuple[CandleSeries, int]:
    """Import a Binance kline CSV; returns the series and the number of malformed rows skipped.

    Accepts a header row or none, the 6-column layout (open_time,o,h,l,c,v) or the 12-column REST /
    data.binance.vision one, and ms, µs or s timestamps. A row is skipped and counted, never fatal, when it has
    the wrong number of columns, a bad number, negative or inconsistent prices (high below open/close, low above),
    an open time off the interval grid, or repeats an open time already seen.
    """
    skipped = 0
    parsed: list[tuple[int, tuple[Decimal, Decimal, Decimal, Decimal, Decimal], int | None]] = []
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        first = True
        reader = csv.reader(fh)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error:  # e.g. a runaway quoted field: that line is malformed, the reader goes on
                skipped += 1
                continue
            if not row or all(not cell.strip() for cell in row):
                continue
            if first:
                first = False
                if not _INT_RE.match(row[0].strip()):
                    continue  # header
            p = _parse_row(row)
            if p is None:
                skipped += 1
            else:
                parsed.append(p)
    parsed.sort(key=lambda p: p[0])
    times = [p[0] for p in parsed]
    spans = [p[2] - p[0] + 1 for p in parsed if p[2] is not None]
    interval = interval if interval is not None else _infer_interval(times, spans)
    ims = _interval_ms(interval)
    kept_t: list[int] = []
    kept: list[tuple[Decimal, Decimal, Decimal, Decimal, Decimal]] = []
    for t, values, _close in parsed:
        if t % ims or (kept_t and kept_t[-1] == t):
            skipped += 1
            continue
        kept_t.append(t)
        kept.append(values)
    return _from_decimals(symbol, interval, kept_t, kept), skipped


# --- aggregation -----------------------------------------------------------------------------------------


def aggregate(series: CandleSeries, interval: str) -> CandleSeries:
    """Resample to a longer interval on UTC boundaries, exactly (integer arithmetic).

    open = first open, high = max, low = min, close = last close, volume = sum. A bucket with missing minutes
    aggregates the ones it has; a bucket with none does not exist.
    """
    target = _interval_ms(interval)
    if target == series.interval_ms:
        return series
    if target < series.interval_ms or target % series.interval_ms:
        raise ValueError(f"cannot aggregate {series.interval} candles to {interval}")
    o, h, lo, c, v = series.scaled()
    n = len(series)
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return CandleSeries(
            series.symbol, interval, empty, empty, empty, empty, empty, empty,
            price_decimals=series.price_decimals, volume_decimals=series.volume_decimals,
        )  # fmt: skip
    buckets = series.open_time_ms // target
    starts = np.flatnonzero(np.concatenate(([True], buckets[1:] != buckets[:-1])))
    ends = np.concatenate((starts[1:], [n])) - 1
    return CandleSeries(
        series.symbol,
        interval,
        buckets[starts] * target,
        o[starts],
        np.maximum.reduceat(h, starts),
        np.minimum.reduceat(lo, starts),
        c[ends],
        np.add.reduceat(v, starts),
        price_decimals=series.price_decimals,
        volume_decimals=series.volume_decimals,
    )
