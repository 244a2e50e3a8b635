"""Strict readers for data.binance.vision kline archives (klines, markPriceKlines): the first bad line is an error.

``candles.load_csv`` skips and counts malformed rows (a recorder's or a user's file may be messy); a file that goes
into the data library must be whole, so here a bad row stops the import with its line number and content. Layouts
(reference §4.5): 12 columns ``open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,
taker_buy_quote_volume,ignore`` with a header row (futures since about 2022) or without (older futures, all spot),
or the 6-column ``open_time_ms,open,high,low,close,volume`` the bundled CSVs use; times in ms or µs (spot since 2025).
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal, InvalidOperation

from hexdesk.market.candles import INTERVAL_MS, Candle, CandleSeries

_INT = re.compile(r"^\d+$")
_BY_MS = {ms: name for name, ms in INTERVAL_MS.items()}


class ArchiveError(ValueError):
    """A kline file that cannot be imported; the message names the file and the first bad line."""


def _ms(raw: str) -> int | None:
    raw = raw.strip()
    if not _INT.match(raw):
        return None
    t = int(raw)
    return t // 1000 if t >= 10**15 else t  # 16 digits: µs


def parse_klines(text: str, symbol: str, source: str) -> tuple[CandleSeries, bool]:
    """Every row of a kline CSV as one series, and whether its times were in µs (spot archives since 2025).

    Raises ArchiveError naming the first bad line. A 6-column file has no close time: its candles are 1 minute.
    """
    candles: list[Candle] = []
    micro = False
    interval: str | None = None
    prev: int | None = None
    header_seen = False
    for lineno, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or all(not c.strip() for c in row):
            continue
        if not candles and not header_seen and not _INT.match(row[0].strip()):
            if row[0].strip().lower() not in ("open_time", "open_time_ms", "open time"):
                raise ArchiveError(f"{source} line {lineno}: not a kline header or row: {','.join(row)[:120]}")
            header_seen = True
            continue

        def bad(why: str, row: list[str] = row, lineno: int = lineno) -> ArchiveError:
            return ArchiveError(f"{source} line {lineno}: {why}: {','.join(row)[:120]}")

        if len(row) not in (6, 12):
            raise bad(f"expected 12 columns (or 6), got {len(row)}")
        micro = micro or len(row[0].strip()) >= 16
        t = _ms(row[0])
        if t is None:
            raise bad("open time is not a UTC timestamp in ms or µs")
        try:
            o, h, lo, c, v = (Decimal(x.strip()) for x in row[1:6])
        except InvalidOperation:
            raise bad("open/high/low/close/volume is not a number") from None
        if not all(x.is_finite() and x >= 0 for x in (o, h, lo, c, v)):
            raise bad("a price or the volume is negative or not finite")
        if not (lo <= min(o, c) and max(o, c) <= h):
            raise bad("high/low do not contain open and close")
        if len(row) == 12:
            close_t = _ms(row[6])
            if close_t is None or close_t <= t:
                raise bad("close time is not a timestamp after the open time")
            name = _BY_MS.get(close_t - t + 1)
            if name is None:
                raise bad(f"candle lasts {close_t - t + 1} ms, not a Binance interval")
        else:
            name = "1m" if interval is None else interval
        if interval is None:
            interval = name
        elif name != interval:
            raise bad(f"a {name} candle in a file of {interval} candles")
        if t % INTERVAL_MS[interval]:
            raise bad(f"open time is not on the {interval} grid")
        if prev is not None and t <= prev:
            raise bad("open time is not after the previous row's")
        prev = t
        candles.append(Candle(symbol, interval, t, o, h, lo, c, v))
    if not candles:
        raise ArchiveError(f"{source}: no kline rows")
    assert interval is not None
    return CandleSeries.from_candles(candles, symbol, interval), micro
