"""Funding settlement times and amounts (reference §2).

Binance settles funding at fixed UTC instants: every ``fundingIntervalHours`` hours counted from 00:00 UTC (so 00:00,
08:00 and 16:00 for the default 8 h). Only positions open at that instant pay or receive.
"""

from __future__ import annotations

from decimal import Decimal

HOUR_MS = 3_600_000


def next_funding_ms(ts_ms: int, interval_hours: int) -> int:
    """The first settlement instant strictly after ``ts_ms``.

    Epoch milliseconds are UTC and every interval Binance uses (1, 2, 4, 8 h) divides a day, so multiples of the
    interval since the epoch are exactly the UTC settlement times.
    """
    period = interval_hours * HOUR_MS
    return (ts_ms // period + 1) * period


def funding_amount(position_qty: Decimal, mark_price: Decimal, rate: Decimal) -> Decimal:
    """What the position receives (> 0) or pays (< 0): ``−qty × mark × rate``.

    A positive rate means longs pay shorts, so a long (qty > 0) gets a negative amount.
    """
    return -position_qty * mark_price * rate


def clamp_rate(rate: Decimal, floor: Decimal, cap: Decimal) -> Decimal:
    """Binance caps the funding rate at ``adjustedFundingRateCap`` / ``Floor`` (±0.75 × tier-1 MMR)."""
    return min(cap, max(floor, rate))
