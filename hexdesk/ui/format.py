"""Decimal -> display strings, in one place so every widget shows a number the same way.

Money stays Decimal until the last moment: a price is shown to its instrument's tick (BTCUSDT 0.10 -> one
decimal), a quantity to its step (0.001 -> three), USDT to 2 dp, all with thousands separators. A missing
value (``None``: no liquidation price, no price yet) is Binance's ``--``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

NONE = "--"
CENT = Decimal("0.01")


def decimals_of(increment: Decimal) -> int:
    """How many decimals an increment such as a tick (0.10) or step (0.001) shows: 1 and 3."""
    exponent = increment.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _fixed(value: Decimal, places: int, sign: bool = False) -> str:
    if not value.is_finite():
        return "∞" if value > 0 else "-∞"
    q = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if q == 0:
        q, sign = abs(q), False  # never "-0.00", and nothing gained or lost reads "0.00", not "+0.00"
    return f"{q:{'+' if sign else ''},.{places}f}"


def price(value: Decimal | None, tick: Decimal) -> str:
    """A price on the instrument's tick grid: ``84,950.1`` for BTCUSDT (tick 0.10)."""
    return NONE if value is None else _fixed(value, decimals_of(tick))


def qty(value: Decimal | None, step: Decimal) -> str:
    """A base-asset quantity to the step size: ``0.100`` for BTCUSDT (step 0.001)."""
    return NONE if value is None else _fixed(value, decimals_of(step))


def usdt(value: Decimal | None, sign: bool = False) -> str:
    """USDT to the cent with separators; ``sign`` forces a leading + for PnL-like amounts."""
    return NONE if value is None else _fixed(value, 2, sign)


def pct(ratio: Decimal | None, sign: bool = False, places: int = 2) -> str:
    """A ratio (0.0512) as a percentage (``5.12%``)."""
    return NONE if ratio is None else f"{_fixed(ratio * 100, places, sign)}%"


def pct_points(value: Decimal | None, places: int = 2) -> str:
    """A value already in percent (the risk module's distances) with a % sign."""
    return NONE if value is None else f"{_fixed(value, places)}%"


def utc_clock(ts_ms: int | None) -> str:
    """The replay clock as a trader reads a chart: ``2025-03-02 14:05:00 UTC``."""
    if ts_ms is None:
        return NONE
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def utc_time(ts_ms: int) -> str:
    """A fill's time, compact: ``03-02 14:05:07``."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%m-%d %H:%M:%S")


def parse_decimal(text: str) -> Decimal | None:
    """What the trader typed as a Decimal (separators and spaces allowed), or None if it is not a number."""
    cleaned = text.replace(",", "").replace(" ", "").strip()
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except ArithmeticError:
        return None
    return value if value.is_finite() else None


def on_grid(value: Decimal, increment: Decimal) -> bool:
    """Whether ``value`` is a whole multiple of the tick or step (Binance rejects it otherwise: -4014 / -4023)."""
    return increment > 0 and value % increment == 0
