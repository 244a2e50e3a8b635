"""Helpers for the market tests: small hand-made series on a known UTC grid, and the source CSV folder."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from hexdesk.market.candles import Candle, CandleSeries

T0 = 1_740_787_200_000  # 2025-03-01 00:00:00 UTC, a day boundary
MIN = 60_000
SHARED_KLINES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "klines"


def make_series(symbol: str, rows: list[tuple[int, str, str, str, str, str]], interval: str = "1m") -> CandleSeries:
    """rows: (minute offset from T0, open, high, low, close, volume) as strings."""
    return CandleSeries.from_candles(
        [Candle(symbol, interval, T0 + m * MIN, D(o), D(h), D(lo), D(c), D(v)) for m, o, h, lo, c, v in rows],
        symbol,
        interval,
    )


def simple_rows(minutes: list[int], base: int = 100) -> list[tuple[int, str, str, str, str, str]]:
    """Alternating bullish/bearish candles at the given minutes, distinct values so mix-ups show."""
    rows = []
    for k, m in enumerate(minutes):
        o = base + k
        if k % 2 == 0:
            rows.append((m, f"{o}.5", f"{o + 2}.25", f"{o - 1}.75", f"{o + 1}.5", f"{k + 1}.5"))
        else:
            rows.append((m, f"{o}.5", f"{o + 1}.25", f"{o - 2}.75", f"{o - 1}.5", f"{k + 1}.25"))
    return rows


@pytest.fixture
def shared_klines() -> Path:
    if not SHARED_KLINES.is_dir():
        pytest.skip(f"source CSVs not present at {SHARED_KLINES}")
    return SHARED_KLINES
