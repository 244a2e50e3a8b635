"""Real funding-rate history: Binance's ``fundingRate`` archive CSVs read into exact rates by settlement instant.

A row of ``data/futures/um/monthly/fundingRate`` (reference §4.6) is ``calc_time,funding_interval_hours,
last_funding_rate``: the rate settled at ``calc_time`` (UTC ms) for positions held then. Binance writes ``calc_time``
a few milliseconds late (``1654070400011``), so each is rounded to the nearest multiple of its interval since the
epoch: exactly the instant the engine's funding clock settles (``hexdesk.engine.funding``). No mark price is in the
archive; the engine uses its own mark at the instant, as Binance does.
"""

from __future__ import annotations

import bisect
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

HOUR_MS = 3_600_000
HEADER = ("calc_time", "funding_interval_hours", "last_funding_rate")
MAX_ABS_RATE = Decimal("0.05")  # far beyond any cap Binance has used (BTCUSDT ±0.3%); larger is a corrupt row
_INT = re.compile(r"^\d+$")


class FundingFileError(ValueError):
    """A funding CSV that cannot be read: the message names the file and the first bad line."""


@dataclass(frozen=True, slots=True)
class FundingRate:
    """One settlement: the instant (UTC ms, on the interval's boundary), the interval in hours and the rate."""

    instant_ms: int
    interval_hours: int
    rate: Decimal


def _ms(raw: str) -> int | None:
    """ms from ms or µs digits (16+ digits: µs, as some Binance archives write since 2025)."""
    raw = raw.strip()
    if not _INT.match(raw):
        return None
    t = int(raw)
    return t // 1000 if t >= 10**15 else t


def parse_rows(lines: Iterable[str], source: str) -> list[FundingRate]:
    """Rows of a funding CSV (header optional), strictly: the first bad line ends the read with its number."""
    out: list[FundingRate] = []
    for lineno, row in enumerate(csv.reader(lines), start=1):
        if not row or all(not c.strip() for c in row):
            continue
        if not out and lineno == 1 and not _INT.match(row[0].strip()):
            if tuple(c.strip().lower() for c in row) != HEADER:
                raise FundingFileError(f"{source} line 1: expected the header {','.join(HEADER)}, got {','.join(row)}")
            continue
        out.append(_parse_row(row, lineno, source))
    out.sort(key=lambda r: r.instant_ms)
    for a, b in itertools.pairwise(out):
        if a.instant_ms == b.instant_ms:
            raise FundingFileError(f"{source}: two rates for the instant {a.instant_ms}")
    return out


def _parse_row(row: list[str], lineno: int, source: str) -> FundingRate:
    def bad(why: str) -> FundingFileError:
        return FundingFileError(f"{source} line {lineno}: {why}: {','.join(row)[:120]}")

    if len(row) != 3:
        raise bad(f"expected 3 columns ({','.join(HEADER)}), got {len(row)}")
    t = _ms(row[0])
    if t is None:
        raise bad("calc_time is not a UTC timestamp in ms or µs")
    hours_raw = row[1].strip()
    if not _INT.match(hours_raw) or int(hours_raw) not in (1, 2, 4, 8):
        raise bad("funding_interval_hours is not 1, 2, 4 or 8")
    hours = int(hours_raw)
    try:
        rate = Decimal(row[2].strip())
    except InvalidOperation:
        raise bad("last_funding_rate is not a number") from None
    if not rate.is_finite() or abs(rate) > MAX_ABS_RATE:
        raise bad(f"last_funding_rate is not a rate within ±{MAX_ABS_RATE}")
    period = hours * HOUR_MS
    instant = (t + period // 2) // period * period  # the nearest settlement boundary (Binance's few ms of lag)
    if abs(t - instant) > 60_000:
        raise bad("calc_time is not within a minute of a settlement instant")
    return FundingRate(instant, hours, rate)


def read_funding_csv(path: Path) -> list[FundingRate]:
    """A funding CSV file (a ``.zip`` holding one is read too)."""
    text = read_text_member(path)
    return parse_rows(io.StringIO(text), path.name)


def read_text_member(path: Path) -> str:
    """The text of ``path``, or of the one CSV inside it when it is a zip (as data.binance.vision serves them)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.lower().endswith(".csv")]
            if len(names) != 1:
                raise FundingFileError(f"{path.name}: expected one CSV in the zip, found {len(names)}")
            return zf.read(names[0]).decode("utf-8-sig")
    return path.read_text(encoding="utf-8-sig")


class FundingHistory:
    """The real rates of one symbol by settlement instant, merged from any number of monthly files."""

    __slots__ = ("_instants", "_rates", "symbol")

    def __init__(self, symbol: str, rates: Iterable[FundingRate]) -> None:
        by_instant = {r.instant_ms: r for r in rates}
        self.symbol = symbol
        self._instants = sorted(by_instant)
        self._rates = [by_instant[t] for t in self._instants]

    def __len__(self) -> int:
        return len(self._instants)

    def __iter__(self) -> Iterator[FundingRate]:
        return iter(self._rates)

    def __repr__(self) -> str:
        span = f"{self._instants[0]}..{self._instants[-1]}" if self._instants else "empty"
        return f"FundingHistory({self.symbol}, {len(self)} rates, {span})"

    @property
    def first_ms(self) -> int | None:
        return self._instants[0] if self._instants else None

    @property
    def last_ms(self) -> int | None:
        return self._instants[-1] if self._instants else None

    def at(self, instant_ms: int) -> FundingRate | None:
        """The settlement at exactly ``instant_ms`` (None when the history has no rate for it)."""
        i = bisect.bisect_left(self._instants, instant_ms)
        if i < len(self._instants) and self._instants[i] == instant_ms:
            return self._rates[i]
        return None

    def last_before(self, ts_ms: int) -> FundingRate | None:
        """The latest settlement at or before ``ts_ms``: the last rate a trader could know then."""
        i = bisect.bisect_right(self._instants, ts_ms)
        return self._rates[i - 1] if i else None

    def intervals(self) -> set[int]:
        """The funding intervals (hours) the history uses."""
        return {r.interval_hours for r in self._rates}
