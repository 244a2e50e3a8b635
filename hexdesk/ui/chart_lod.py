"""Level-of-detail store for the candle chart: a growable OHLCV column store plus a min/max/sum pyramid.

Why: at a million candles, zooming out used to merge the whole history again (level 2 from the base, 4 from 2, ...:
~200 ms), a new candle rescanned the whole history for the price range, and the y auto-range took a min/max over
every visible bar. Here:

* Bars are grouped in aligned buckets of ``k = 2**j`` (bucket ``g`` holds bars ``[g*k, (g+1)*k)``, the last one
  possibly partial), so a bar always lands in the same bucket. Only three columns need a reduction per level: max
  high, min low, summed volume. Open time, first open, last close and last-member time are gathered from the base on
  demand (``bars(k, g0, g1)`` costs O(visible buckets)), so a level costs 3 arrays, and the whole pyramid about as
  much as 3 base columns.
* Levels are built lazily and kept in step lazily: each level remembers how long its source (the level below, or the
  base) was when it last synced. The base only ever appends or replaces its last bar, so everything changed since then
  lies at or after that length minus one: a sync recomputes only those tail buckets. A new candle therefore does O(1)
  work (the base append); the next frame's sync touches one or two buckets per level actually used. A full level
  from its source is one pairwise numpy reduction (~1 ms for 500k buckets).
* ``low_high(i0, i1)`` answers the visible price range from the coarsest level with at most ~2048 whole buckets in the
  range plus the partial buckets at both ends from the base: O(pixels), flat in the history length.
* The overall extent (``extent()``) is computed on first request and then kept as a running min/max, updated in O(1)
  per appended bar; only when a late correction shrinks the current extreme is it recomputed (through the pyramid).
  The chart's history item no longer asks for it (its bounding rect takes its height from the view), so loading
  scans nothing; the one-bar forming item does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BarLevels", "MergedBars", "OhlcvBuffer", "merge_bars"]

_QUERY_BUCKETS = 1024  # low_high uses the coarsest level with at most this many whole buckets in range

# Row order in OhlcvBuffer
_T, _O, _H, _L, _C, _V = range(6)


@dataclass(frozen=True, slots=True)
class MergedBars:
    """One row per group of ``k`` consecutive bars."""

    t: np.ndarray  # open time of the first member
    tl: np.ndarray  # open time of the last member (the merged bar spans t .. tl + interval)
    o: np.ndarray
    h: np.ndarray
    l: np.ndarray  # noqa: E741  (OHLC naming)
    c: np.ndarray
    v: np.ndarray

    def __len__(self) -> int:
        return len(self.t)


def merge_bars(
    t: np.ndarray,
    o: np.ndarray,
    h: np.ndarray,
    l: np.ndarray,  # noqa: E741
    c: np.ndarray,
    v: np.ndarray,
    k: int,
    tl: np.ndarray | None = None,
) -> MergedBars:
    """Merge groups ``[0:k], [k:2k], ...`` of bars: first open, max high, min low, last close, summed volume.

    The reference (brute-force) definition of a merged bar; the pyramid must agree with it exactly. ``tl``
    (last-member open time) defaults to ``t``.
    """
    if k < 1:
        raise ValueError(f"merge factor must be >= 1, got {k}")
    n = len(t)
    if tl is None:
        tl = t
    if n == 0:
        empty = np.empty(0, dtype=np.float64)
        return MergedBars(empty, empty, empty, empty, empty, empty, empty)
    starts = np.arange(0, n, k)
    ends = np.minimum(starts + k, n) - 1
    return MergedBars(
        t=t[starts],
        tl=tl[ends],
        o=o[starts],
        h=np.maximum.reduceat(h, starts),
        l=np.minimum.reduceat(l, starts),
        c=c[ends],
        v=np.add.reduceat(v, starts),
    )


class OhlcvBuffer:
    """Growable column store (amortised O(1) append) whose columns are float64 numpy views.

    ``assign`` adopts the given float64 arrays without copying them (read-only views): loading a million candles
    then costs no 48 MB copy before the first frame. ``own(rows)`` copies them into an owned buffer with headroom in
    slices (the chart does it between frames after loading); an append or in-place change finishes that copy first
    (once; amortised O(1) per appended bar like any doubling buffer).
    """

    __slots__ = ("_cols", "_copied", "_n", "_owned", "_pending")

    def __init__(self, capacity: int = 16) -> None:
        self._cols = [np.empty(max(capacity, 16), dtype=np.float64) for _ in range(6)]
        self._n = 0
        self._owned = True
        self._pending: list[np.ndarray] | None = None  # owned columns being filled by own(rows)
        self._copied = 0

    def __len__(self) -> int:
        return self._n

    t = property(lambda self: self._cols[_T][: self._n])
    tl = t  # a base bar is its own last member
    o = property(lambda self: self._cols[_O][: self._n])
    h = property(lambda self: self._cols[_H][: self._n])
    l = property(lambda self: self._cols[_L][: self._n])  # noqa: E741
    c = property(lambda self: self._cols[_C][: self._n])
    v = property(lambda self: self._cols[_V][: self._n])

    @property
    def owned(self) -> bool:
        """False while the columns are the caller's arrays (until the first change)."""
        return self._owned

    def assign(self, columns: tuple[np.ndarray, ...]) -> None:
        """Replace the whole content with (t, o, h, l, c, v), adopted as read-only float64 views (no copy when the
        arrays already are contiguous float64; the caller must not modify them afterwards)."""
        cols = []
        for arr in columns:
            view = np.ascontiguousarray(arr, dtype=np.float64).view()
            view.flags.writeable = False
            cols.append(view)
        self._cols, self._n, self._owned, self._pending = cols, len(cols[0]), False, None

    def _grow(self) -> None:
        if not self._owned:
            self.own()
            if self._n < len(self._cols[0]):
                return
        n = self._n
        grown = []
        for col in self._cols:
            new = np.empty(max(16, 2 * n), dtype=np.float64)
            new[:n] = col[:n]
            grown.append(new)
        self._cols = grown

    def own(self, rows: int | None = None) -> bool:
        """Copy adopted columns into an owned buffer with headroom, ``rows`` more at a time (None: all the rest
        now), so the copy can be spread over idle moments; returns True once the buffer is owned."""
        if self._owned:
            return True
        n = self._n
        if self._pending is None:
            cap = max(16, n + n // 4 + 16)
            self._pending, self._copied = [np.empty(cap, dtype=np.float64) for _ in range(6)], 0
        s = self._copied
        e = n if rows is None else min(n, s + rows)
        for new, col in zip(self._pending, self._cols, strict=True):
            new[s:e] = col[s:e]
        self._copied = e
        if e == n:
            self._cols, self._owned, self._pending = self._pending, True, None
        return self._owned

    def row(self, i: int) -> tuple[float, float, float, float, float, float]:
        """Bar ``i`` as (t, o, h, l, c, v)."""
        j = i if i >= 0 else self._n + i
        t, o, h, l, c, v = (float(col[j]) for col in self._cols)  # noqa: E741
        return t, o, h, l, c, v

    def append(self, values: tuple[float, ...]) -> None:
        if not self._owned or self._n == len(self._cols[0]):
            self._grow()
        n = self._n
        for col, x in zip(self._cols, values, strict=True):
            col[n] = x
        self._n = n + 1

    def replace_last(self, values: tuple[float, ...]) -> None:
        if not self._owned:
            self.own()
        n = self._n - 1
        for col, x in zip(self._cols, values, strict=True):
            col[n] = x

    def clear(self) -> None:
        self._n = 0
        if not self._owned:
            self.__init__()  # drop the adopted arrays


class _Level:
    """Max high, min low and summed volume of aligned buckets of ``factor`` rows of a source (a finer level or the
    base): built from the finest level that already exists, so the first zoom-out reads the base once."""

    __slots__ = ("factor", "h", "l", "n", "source", "src_len", "stamp", "v")

    def __init__(self, source: int, factor: int) -> None:
        self.source = source  # 0 = the base, else the level index
        self.factor = factor
        self.h = np.empty(0, dtype=np.float64)
        self.l = np.empty(0, dtype=np.float64)
        self.v = np.empty(0, dtype=np.float64)
        self.n = 0  # buckets
        self.src_len = 0  # length of the source at the last sync
        self.stamp = -1  # the base's change count at the last sync

    def sync(self, sh: np.ndarray, sl: np.ndarray, sv: np.ndarray, stamp: int) -> int:
        """Bring the buckets up to date with the source columns; returns how many buckets were recomputed."""
        if stamp == self.stamp:
            return 0
        m, f = len(sh), self.factor
        g0 = max(self.src_len - 1, 0) // f  # the source changed only at or after src_len - 1
        n = -(-m // f)
        if n > len(self.h):
            cap = max(n + n // 4, 16)
            for name in ("h", "l", "v"):
                grown = np.empty(cap, dtype=np.float64)
                grown[:g0] = getattr(self, name)[:g0]
                setattr(self, name, grown)
        s = g0 * f
        whole = (m - s) // f
        e = s + whole * f
        if whole:
            sh[s:e].reshape(whole, f).max(axis=1, out=self.h[g0 : g0 + whole])
            sl[s:e].reshape(whole, f).min(axis=1, out=self.l[g0 : g0 + whole])
            sv[s:e].reshape(whole, f).sum(axis=1, out=self.v[g0 : g0 + whole])
        if e < m:  # a partial last bucket
            self.h[n - 1], self.l[n - 1], self.v[n - 1] = sh[e:m].max(), sl[e:m].min(), sv[e:m].sum()
        self.n, self.src_len, self.stamp = n, m, stamp
        return n - g0


class BarLevels:
    """The bars plus their level-of-detail pyramid (k = 2, 4, 8, ...), kept in step with appends lazily."""

    def __init__(self) -> None:
        self.base = OhlcvBuffer()
        self._levels: dict[int, _Level] = {}  # j -> the level merging k = 2**j bars
        self.rebuild_count = 0  # full (O(n)) preparations: set() only; tests assert appends never do this
        self.synced_buckets = 0  # buckets recomputed by level syncs (tests: a new candle touches only the tail)
        self._extent: tuple[float, float, float] | None = None  # low, high, max volume of all bars
        self._changes = 0  # bumped by every change of the base; a level syncs when it differs from its stamp
        self.extent_scans = 0  # full extent computations (tests: loading and drawing the history need none)

    def __len__(self) -> int:
        return len(self.base)

    def set(self, t: np.ndarray, o: np.ndarray, h: np.ndarray, l: np.ndarray, c: np.ndarray, v: np.ndarray) -> None:  # noqa: E741
        self.base.assign((t, o, h, l, c, v))
        self._levels.clear()
        self._changes += 1
        self._extent = None
        self.rebuild_count += 1

    def clear(self) -> None:
        self.base.clear()
        self._levels.clear()
        self._changes += 1
        self._extent = None

    def append(self, bar: tuple[float, float, float, float, float, float]) -> None:
        """Append one bar (t, o, h, l, c, v): O(1); the levels catch up on their next use."""
        self.base.append(bar)
        self._changes += 1
        if self._extent is not None:
            lo, hi, vmax = self._extent
            self._extent = (min(lo, bar[3]), max(hi, bar[2]), max(vmax, bar[5]))

    def replace_last(self, bar: tuple[float, float, float, float, float, float]) -> None:
        old = self.base.row(-1)
        self.base.replace_last(bar)
        self._changes += 1
        if self._extent is not None:
            lo, hi, vmax = self._extent
            if (bar[3] > old[3] and old[3] <= lo) or (bar[2] < old[2] and old[2] >= hi) or (
                bar[5] < old[5] and old[5] >= vmax
            ):
                self._extent = None  # an extreme may have shrunk: recompute on demand
            else:
                self._extent = (min(lo, bar[3]), max(hi, bar[2]), max(vmax, bar[5]))

    # ---- pyramid -------------------------------------------------------------------------------------------

    def _level(self, j: int) -> _Level:
        """Level ``j`` (k = 2**j >= 2), synced with the base (its sources first)."""
        lv = self._levels.get(j)
        if lv is None:
            finer = [i for i in self._levels if i < j]
            src = max(finer) if finer else 0
            lv = self._levels[j] = _Level(src, 1 << (j - src))
        if lv.source:
            s = self._level(lv.source)
            cols = s.h[: s.n], s.l[: s.n], s.v[: s.n]
        else:
            b = self.base
            cols = b.h, b.l, b.v
        self.synced_buckets += lv.sync(*cols, self._changes)
        return lv

    def warm(self) -> bool:
        """Build (or sync) the next level of the pyramid that is missing, finest first; True once every level with
        at least two buckets exists. The chart calls it in idle time after loading, one level (<= ~3 ms at a
        million bars) per event-loop pass, so the first zoom-out finds its levels built instead of reading the
        whole history then."""
        n = len(self.base)
        j = 1
        while (1 << j) < n:
            if j not in self._levels:
                self._level(j)
                return False
            j += 1
        return True

    @property
    def warmed(self) -> bool:
        """True when every level :meth:`warm` builds exists."""
        n = len(self.base)
        return all(j in self._levels for j in range(1, max(n - 1, 1).bit_length()))

    def bucket_count(self, k: int) -> int:
        return -(-len(self.base) // k)

    def bars(self, k: int, g0: int = 0, g1: int | None = None) -> MergedBars:
        """Buckets ``[g0, g1)`` of bars merged by ``k`` (a power of two; 1 is the base itself)."""
        b = self.base
        n = len(b)
        ng = -(-n // k)
        g1 = ng if g1 is None else min(g1, ng)
        g0 = max(g0, 0)
        if g1 <= g0:
            empty = np.empty(0, dtype=np.float64)
            return MergedBars(empty, empty, empty, empty, empty, empty, empty)
        if k <= 1:
            s = slice(g0, g1)
            return MergedBars(b.t[s], b.t[s], b.o[s], b.h[s], b.l[s], b.c[s], b.v[s])
        lv = self._level(k.bit_length() - 1)
        starts = np.arange(g0 * k, g1 * k, k)
        ends = np.minimum(starts + (k - 1), n - 1)
        return MergedBars(b.t[starts], b.t[ends], b.o[starts], lv.h[g0:g1], lv.l[g0:g1], b.c[ends], lv.v[g0:g1])

    def level(self, k: int) -> MergedBars:
        """All bars merged by ``k`` (for tests and callers; drawing takes only the visible buckets)."""
        return self.bars(k)

    def low_high(self, i0: int, i1: int) -> tuple[float, float] | None:
        """Lowest low and highest high of bars ``[i0, i1)``: O(pixels) whatever the range, via the pyramid."""
        b = self.base
        i0, i1 = max(int(i0), 0), min(int(i1), len(b))
        if i1 <= i0:
            return None
        j = max(0, ((i1 - i0) // _QUERY_BUCKETS).bit_length())
        if j == 0:
            return float(b.l[i0:i1].min()), float(b.h[i0:i1].max())
        k = 1 << j
        g0, g1 = -(-i0 // k), i1 // k  # whole buckets inside the range
        if g1 <= g0:
            return float(b.l[i0:i1].min()), float(b.h[i0:i1].max())
        lv = self._level(j)
        lo, hi = float(lv.l[g0:g1].min()), float(lv.h[g0:g1].max())
        for s, e in ((i0, g0 * k), (g1 * k, i1)):
            if e > s:
                lo, hi = min(lo, float(b.l[s:e].min())), max(hi, float(b.h[s:e].max()))
        return lo, hi

    def max_volume(self, k: int, g0: int, g1: int) -> float | None:
        """Largest merged volume among buckets ``[g0, g1)`` of level ``k``."""
        if k <= 1:
            v = self.base.v[max(g0, 0) : g1]
        else:
            lv = self._level(k.bit_length() - 1)
            v = lv.v[max(g0, 0) : min(g1, lv.n)]
        return float(v.max()) if len(v) else None

    def extent(self) -> tuple[float, float, float]:
        """(lowest low, highest high, largest volume) of all bars; O(1) while appending."""
        if self._extent is None:
            self.extent_scans += 1
            b = self.base
            n = len(b)
            if n == 0:
                lo, hi = 0.0, 0.0
            elif self._levels:  # a late correction shrank an extreme: ask the pyramid
                lo, hi = self.low_high(0, n) or (0.0, 0.0)
            else:  # right after set(): one pass, cheaper than building levels nobody asked for yet
                lo, hi = float(b.l.min()), float(b.h.max())
            vmax = float(b.v.max()) if n else 0.0
            self._extent = (lo, hi, vmax)
        return self._extent
