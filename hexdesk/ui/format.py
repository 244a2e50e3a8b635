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


class NumberError(ValueError):
    """Typed text that is not a number the ticket accepts; ``str(error)`` is the reason shown next to the field."""


_SPACES = frozenset(" \u00a0\u202f\u2009'’")  # group separators some locales use: space, NBSP, thin, apostrophe


def parse_decimal(text: str, decimal_point: str = ".", group_separator: str = ",") -> Decimal | None:
    """Exactly the number the trader typed, or None for a blank field; anything else raises NumberError.

    ``decimal_point`` and ``group_separator`` are the locale's (QLocale().decimalPoint() / groupSeparator()); this
    module stays Qt-free so the rule is tested with plain pytest. The rule, chosen so that no text is ever read as
    a different number than the one meant:

    - ASCII digits with at most one decimal separator; both the locale's decimal separator and ``.`` count as one
      (de_DE: ``0,01`` and ``0.01`` are both 0.01). Leading and trailing blanks are ignored.
    - Group (thousands) separators are refused, never skipped: under en_US ``1,000`` could be 1 or 1000 (and
      ``0,01`` is someone's 0.01), so the field says so instead of guessing. The app itself never writes them into
      a field (see :func:`input_text`).
    - No sign (a size is always positive, the side is Buy or Sell), no exponent (``1e30``, ``1.5e-2``), no
      ``NaN`` / ``Infinity``, no other digit scripts.
    """
    stripped = text.strip().strip("\u00a0\u202f")
    if not stripped:
        return None
    decimals = {".", decimal_point}
    point_hint = "'.'" if decimal_point == "." else f"'{decimal_point}' or '.'"
    seen_point = False
    for ch in stripped:
        if "0" <= ch <= "9":
            continue
        if ch in decimals:
            if seen_point:
                raise NumberError("More than one decimal separator: thousands separators are not accepted.")
            seen_point = True
        elif ch in "-−":
            raise NumberError("Negative numbers are not accepted.")
        elif ch == "+":
            raise NumberError("No '+' sign: type the number only.")
        elif ch in "eE" and any("0" <= c <= "9" for c in stripped):
            raise NumberError("Exponent form (e) is not accepted: type the number in full.")
        elif ch == group_separator or ch == "," or ch in _SPACES:
            shown = "space" if ch.isspace() else f"'{ch}'"
            raise NumberError(f"{shown} is not accepted: use {point_hint} for decimals, no thousands separators.")
        else:
            raise NumberError(f"'{ch}' is not a digit.")
    if not any("0" <= c <= "9" for c in stripped):
        raise NumberError("Not a number.")
    whole, _, frac = stripped.replace(decimal_point, ".").partition(".")
    return Decimal(f"{whole or '0'}.{frac}" if frac else whole or "0")


def input_text(value: Decimal, places: int, decimal_point: str = ".") -> str:
    """A number as the app writes it into an input field: ``places`` decimals, the locale's separator, no grouping.

    :func:`parse_decimal` reads it back as the same number (the property test in tests/ui/test_format.py).
    """
    if places < 0:
        raise ValueError(f"places must be >= 0, got {places}")
    q = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{q:f}"
    return text.replace(".", decimal_point) if decimal_point != "." else text

