"""A replay path's columns, checked once when the path is built rather than at every ``Exchange.on_ticks`` call.

``on_ticks`` refuses, tick by tick, what ``on_tick`` would refuse; for a batch it first checks every time, price
and volume at once (types, time order, the volumes' range), a pass over every tick of every call. A back-test cuts
a month's path into ~2,000 batches (one between two decisions), so those passes add up. The columns here are
checked when built and read-only afterwards; ``on_ticks`` recognises their exact types (not a subclass) and skips
its own checks (a price out of the symbol's range is still refused, at its tick):

* :class:`TickTimes`: the candles' opens plus the path's fixed offsets, ints in time order (no list of every time);
* :class:`TickPrices`: the prices as 64-bit integers (read straight from a candle file's arrays);
* :class:`TickVolumes`: the liquidity estimates as their few thousand distinct levels, each checked once and made
  a Decimal only when a tick reads it.

A slice is a view of the same data (no copy), so the batches cost nothing to cut.
"""

from __future__ import annotations

import array
import itertools
import operator
from collections.abc import Iterable, Iterator, Sequence
from decimal import Context, Decimal
from typing import SupportsIndex, TypeVar, overload

from hexdesk.engine.guards import MAX_MAGNITUDE, MIN_VOLUME

__all__ = ["TickPrices", "TickTimes", "TickVolumes", "valid_volumes"]

_FIRST = operator.itemgetter(0)
_scaled = Context(prec=200).scaleb  # an int times 10**e, exact (a scaled level has at most ~40 digits)


def valid_volumes(volumes: Sequence[object]) -> bool:
    """Every value a Decimal that is 0 or within [MIN_VOLUME, MAX_MAGNITUDE]: the volumes the tick door takes.

    Exact types (a Decimal subclass is refused, as the door refuses it). Equal neighbours are compared once: a
    replay's estimate is one Decimal object per candle, repeated for its ticks (``groupby`` sees the same object
    without comparing it; a set would hash each new Decimal, which costs more than the comparisons it saves).
    A NaN makes a comparison raise: False."""
    if list(map(type, volumes)).count(Decimal) != len(volumes):
        return False
    try:
        distinct = list(map(_FIRST, itertools.groupby(volumes)))
        if not distinct:
            return True
        low = min(distinct)
        if not low:  # a 0 (no liquidity yet) is allowed: the lowest of the others must be in range
            low = min(filter(None, distinct), default=MIN_VOLUME)
        return bool(low >= MIN_VOLUME and max(distinct) <= MAX_MAGNITUDE)
    except ArithmeticError:  # a NaN (a signalling one raises even where equal neighbours are compared)
        return False


T = TypeVar("T")


class _Column(Sequence[T]):
    """A path's column, read-only, checked when built: ``_at(i)`` is the value at position ``i`` of the whole
    column; a slice (step 1) is a view of the same data (the subclass's own slots, shared, and a new range), any
    other step a tuple; equal to a list, tuple or column of its type holding the same values, and unhashable like
    them."""

    __slots__ = ("_start", "_stop")
    _start: int
    _stop: int

    def _at(self, i: int) -> T:
        raise NotImplementedError

    def __len__(self) -> int:
        return self._stop - self._start

    @overload
    def __getitem__(self, index: SupportsIndex) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...

    def __getitem__(self, index: SupportsIndex | slice) -> T | Sequence[T]:
        n = self._stop - self._start
        if type(index) is int and 0 <= index < n:  # (the usual case, first)
            return self._at(self._start + index)
        if type(index) is slice:
            start, stop, step = index.indices(n)
            if step != 1:
                return tuple(self)[index]
            view = object.__new__(type(self))
            for name in type(self).__slots__:
                setattr(view, name, getattr(self, name))
            view._start = self._start + start
            view._stop = self._start + max(start, stop)
            return view
        i = operator.index(index)  # type: ignore[arg-type]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"{type(self).__name__} index out of range")
        return self._at(self._start + i)

    def __iter__(self) -> Iterator[T]:
        at = self._at
        for i in range(self._start, self._stop):
            yield at(i)

    def __eq__(self, other: object) -> bool:
        """Equal to a list, tuple or column holding the same values in the same order."""
        if isinstance(other, (list, tuple, type(self))):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # (equal to lists: as unhashable as they are)


class TickVolumes(_Column[Decimal]):
    """Per-tick liquidity estimates, every one a valid tick volume (:func:`valid_volumes`), checked when built.

    ``TickVolumes(levels, picks, repeat)``: tick ``i`` has ``levels[picks[i // repeat]]`` (the replay: one level per
    candle, four ticks a candle). Only the levels are checked, and that every pick indexes one of them; a ValueError
    says what is wrong. Indexing gives the Decimal; slicing (step 1) gives a TickVolumes over the same levels, any
    other step a tuple. Read-only: the fields are private and nothing changes them after the check.

    ``scaled`` / ``decimals``: more levels, after ``levels``, given as integers scaled by ``10**decimals`` (a candle
    file's own form): checked as integers, and each becomes its Decimal (``scaleb``: the digits and exponent a
    string ``"<int>e-<decimals>"`` gives) only when a tick first reads it; a back-test reads a few of them.
    """

    __slots__ = ("_decimals", "_levels", "_picks", "_repeat")

    def __init__(
        self,
        levels: Iterable[Decimal],
        picks: Iterable[int],
        repeat: int = 1,
        *,
        scaled: Iterable[int] = (),
        decimals: int = 0,
    ) -> None:
        head: list[object] = list(levels)
        if not valid_volumes(head):
            raise ValueError("a tick volume must be a Decimal, 0 or within [1e-8, 1e18]")
        ints = list(scaled)
        if ints:
            if type(decimals) is not int or not 0 <= decimals <= 18:
                raise ValueError(f"decimals must be an int in [0, 18], got {decimals!r}")
            if list(map(type, ints)).count(int) != len(ints):
                raise ValueError("a scaled tick volume must be an int")
            low = min(ints)
            if not low:  # 0 is a volume; the others must lie in [1e-8, 1e18] once scaled
                low = min(filter(None, ints), default=10**decimals)
            if low < 0 or low * 10**8 < 10**decimals or max(ints) > 10 ** (18 + decimals):
                raise ValueError("a tick volume must be a Decimal, 0 or within [1e-8, 1e18]")
        chosen = list(picks)
        count = len(head) + len(ints)
        if list(map(type, chosen)).count(int) != len(chosen) or (
            chosen and not (min(chosen) >= 0 and max(chosen) < count)
        ):
            raise ValueError("every pick must be the int index of a level")
        if type(repeat) is not int or repeat < 1:
            raise ValueError(f"repeat must be a positive int, got {repeat!r}")
        self._levels = head + ints  # (an int here is a scaled level not read yet: _level makes it a Decimal)
        self._decimals = -decimals
        self._picks = chosen
        self._repeat = repeat
        self._start = 0
        self._stop = repeat * len(chosen)

    def _level(self, k: int) -> Decimal:
        level = self._levels[k]
        if type(level) is int:
            level = self._levels[k] = _scaled(level, self._decimals)
        return level  # type: ignore[return-value]

    def _at(self, i: int) -> Decimal:
        return self._level(self._picks[i // self._repeat])

    def __repr__(self) -> str:
        return f"TickVolumes({len(self)} ticks over {len(self._levels)} levels)"


class TickTimes(_Column[int]):
    """Tick times made of groups at fixed offsets: tick ``i`` is at ``opens[i // k] + offsets[i % k]`` (``k`` the
    number of offsets; the replay: a candle's open and its four path points), checked once to be ints in time order.

    ``on_ticks`` takes a ``TickTimes`` (exact type) as times already checked (every one an int, each at or after the
    one before), so it neither checks their types nor sorts them, and reads only the times it uses; no list of
    every tick's time is ever made. A ValueError says what is wrong: ``opens`` and ``offsets`` not ints, offsets not
    in order, or a group starting before the previous one ends. Indexing gives the int; slicing (step 1) gives a
    TickTimes view, any other step a tuple. Read-only: the fields are private and nothing changes them.
    """

    __slots__ = ("_k", "_offsets", "_opens")

    def __init__(self, opens: Iterable[int], offsets: Iterable[int]) -> None:
        starts = list(opens)
        steps = tuple(offsets)
        if not steps or list(map(type, steps)).count(int) != len(steps) or list(steps) != sorted(steps):
            raise ValueError("offsets must be ints in order")
        if list(map(type, starts)).count(int) != len(starts):
            raise ValueError("every open must be an int")
        span = steps[-1] - steps[0]  # a group's first tick must not come before the previous group's last
        if len(starts) > 1 and min(map(operator.sub, starts[1:], starts)) < span:
            raise ValueError("the groups overlap or are out of order")
        self._opens = starts
        self._offsets = steps
        self._k = len(steps)
        self._start = 0
        self._stop = len(steps) * len(starts)

    def _at(self, i: int) -> int:
        group, step = divmod(i, self._k)
        return self._opens[group] + self._offsets[step]

    def __repr__(self) -> str:
        return f"TickTimes({len(self)} ticks in groups of {self._k})"


class TickPrices(_Column[int]):
    """Tick prices as integers (scaled by ``10**price_decimals``, ``Exchange.on_ticks``'s form), known to be ints.

    ``TickPrices(values)`` checks every value's type (and that it fits in 64 bits); :meth:`from_int64` reads them
    from native 64-bit integers (a candle file's arrays), which can only be ints, so nothing is checked. They are
    kept as machine words (``array``: no Python int per tick until a run of them is read). ``on_ticks`` takes a
    ``TickPrices`` (exact type) as type-checked prices: it still compares every price with the gates and refuses,
    at its tick, a price outside the symbol's range. Indexing gives the int; slicing (step 1) gives a TickPrices
    view (no copy), any other step a tuple. Read-only: the fields are private and nothing changes them.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Iterable[int]) -> None:
        checked = list(values)
        if list(map(type, checked)).count(int) != len(checked):
            raise ValueError("every price must be an int")
        try:
            words = array.array("q", checked)
        except OverflowError:
            raise ValueError("every price must fit in a signed 64-bit integer") from None
        self._values = words
        self._start = 0
        self._stop = len(words)

    @classmethod
    def from_int64(cls, data: bytes | bytearray | memoryview) -> TickPrices:
        """The prices in ``data``: native-endian 64-bit signed integers (``numpy.int64`` arrays' bytes)."""
        words = array.array("q")
        words.frombytes(data)
        column = object.__new__(cls)
        column._values = words
        column._start = 0
        column._stop = len(words)
        return column

    def ints(self) -> list[int]:
        """This view's prices as a list of ints of its own."""
        return self._values[self._start : self._stop].tolist()

    def _at(self, i: int) -> int:
        return self._values[i]

    def __iter__(self) -> Iterator[int]:
        return iter(self.ints())

    def __repr__(self) -> str:
        return f"TickPrices({len(self)} ticks)"
