"""Backfill of 30 days of 1-minute candles (43,200: 29 requests of 1,500) from the fake Binance on 127.0.0.1.

Run: ``.venv/bin/python benchmarks/live_backfill.py``. Prints numbers only. The fake answers at once, so this is the
client's own cost (HTTP round trips on one keep-alive connection, JSON, checks, merge, CandleSeries); against Binance
add ~29 round trips of network latency. The weight used, 290, is well inside the 2,400/min of §5.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from hexdesk.market.binance import CandleBook, KlineFetcher
from tests.market.fake_binance import MIN, FakeBinance, make_rows, settings_for

T0 = 1_740_787_200_000
DAYS = 30


async def run() -> None:
    n = DAYS * 24 * 60
    async with FakeBinance() as fake:
        fake.put("BTCUSDT", "1m", make_rows(T0, n))
        now = T0 + n * MIN
        for attempt in range(3):
            fetcher = KlineFetcher(settings_for(fake, weight_budget_per_minute=2400))
            fake.requests.clear()
            t0 = time.perf_counter()
            candles = await fetcher.history("BTCUSDT", "1m", T0, now, now_ms=now)
            t1 = time.perf_counter()
            book = CandleBook("BTCUSDT", "1m")
            book.merge(candles)
            series = book.series()
            t2 = time.perf_counter()
            await fetcher.aclose()
            assert len(series) == n and book.missing() == 0
            print(f"run {attempt + 1}: {n:,} candles in {len(fake.requests)} requests: fetch+parse {t1 - t0:.2f} s, "
                  f"merge+series {(t2 - t1) * 1000:.0f} ms, total {t2 - t0:.2f} s "
                  f"({n / (t2 - t0):,.0f} candles/s); weight {fake.used_weight}")  # fmt: skip
            fake.used_weight = 0


if __name__ == "__main__":
    asyncio.run(run())
