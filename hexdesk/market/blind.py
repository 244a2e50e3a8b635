"""Blind replay: the same real candles with the period disguised, so a trader (or a class) cannot look it up.

Times are shifted by whole days so the data starts on 2001-01-01 UTC (weekday and time of day change, the rhythm of
the market stays), and every price is multiplied by a factor drawn from a seed (0.500 to 2.000 in steps of 0.001),
rounded half-even to the series' own decimals: integer arithmetic, identical on every machine. Volumes are kept.
Practice sessions (``service.sessions``) and classroom scenarios (``service.classroom``) both disguise this way.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from hexdesk.market.candles import CandleSeries

BLIND_EPOCH_MS = 978_307_200_000  # 2001-01-01 00:00 UTC: a blind replay starts on a date that says nothing
DAY_MS = 86_400_000


def price_factor(seed: int) -> Decimal:
    """The price multiplier of a blind replay, 0.500 to 2.000 in steps of 0.001."""
    return Decimal(random.Random(seed).randint(500, 2000)) / 1000


def shift_ms(raw: Sequence[CandleSeries]) -> int:
    """How far the times move: the first day of the data becomes 2001-01-01."""
    first = min(s.first_open_ms for s in raw)
    return BLIND_EPOCH_MS - (first - first % DAY_MS)


def disguise(s: CandleSeries, shift: int, factor: Decimal) -> CandleSeries:
    """Times + ``shift``; prices x ``factor``, rounded half-even to the series' decimals."""
    num = int(factor * 1000)

    def scale(col: np.ndarray) -> np.ndarray:
        return (col.astype(np.int64) * num + 500) // 1000

    o, h, lo, c = (scale(getattr(s, f"_{k}")) for k in ("o", "h", "l", "c"))
    return CandleSeries(s.symbol, s.interval, s.open_time_ms + shift, o, h, lo, c, s._v,
                        price_decimals=s.price_decimals, volume_decimals=s.volume_decimals)
