"""Market-data speed figures: bundled load time, replay tick rate, memory of a loaded series.

Run: ``.venv/bin/python benchmarks/replay_load.py``. Prints numbers only; nothing is asserted (machines differ).
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from hexdesk.market.candles import aggregate, list_bundled, load_bundled
from hexdesk.market.replay import Replay


def _best_ms(fn: object, repeat: int = 15) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t0) * 1000)
    return min(times), statistics.median(times)


def main() -> None:
    print("load_bundled (best / median of 15):")
    for d in list_bundled():
        best, median = _best_ms(lambda name=d.name: load_bundled(name))
        size = d.path.stat().st_size / 1e6
        print(f"  {d.name:<16} {d.rows:>6} rows  {size:5.2f} MB on disk  {best:6.2f} ms / {median:6.2f} ms")

    btc = load_bundled("BTCUSDT-2025-03")
    eth = load_bundled("ETHUSDT-2025-03")
    for label, series in (("BTCUSDT-2025-03", [btc]), ("BTCUSDT+ETHUSDT-2025-03", [btc, eth])):
        replay = Replay(series)
        t0 = time.perf_counter()
        n = sum(1 for _ in replay.ticks())
        dt = time.perf_counter() - t0
        print(f"Replay.ticks() {label}: {n:,} ticks in {dt:.2f} s = {n / dt:,.0f} ticks/s")

    best, median = _best_ms(lambda: aggregate(btc, "5m"))
    print(f"aggregate 1m -> 5m, whole month: {best:.2f} ms / {median:.2f} ms")

    print(f"memory of a loaded series (arrays): {btc.nbytes / 1e6:.2f} MB for {len(btc):,} candles")
    tracemalloc.start()
    again = load_bundled("BTCUSDT-2025-03")
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"tracemalloc while loading it: {current / 1e6:.2f} MB held, {peak / 1e6:.2f} MB peak ({len(again)} rows)")


if __name__ == "__main__":
    main()
