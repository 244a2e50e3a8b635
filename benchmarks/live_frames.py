"""Live frames parsed per second: ``parse_frame`` alone, and the client's whole per-frame path (parse, check, merge
into the candle book, build the PriceTick) with a sink that does nothing.

Run: ``.venv/bin/python benchmarks/live_frames.py``. Prints numbers only; nothing is asserted (machines differ).
Binance pushes a kline every 250 ms and a mark price every 1 s per symbol (§4.2): ~5 frames/s for one symbol.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from hexdesk.market.binance import BinanceLive, LiveSettings
from hexdesk.market.binance.client import LiveBatch
from hexdesk.market.binance.frames import parse_frame

T0 = 1_740_787_200_000
MIN = 60_000
N = 60_000


def frames(n: int) -> list[str]:
    """n frames as Binance sends them: four kline updates per mark price update, a candle closing every 240."""
    out = []
    for i in range(n):
        e = T0 + i * 250
        minute = (i * 250) // MIN
        t = T0 + minute * MIN
        price = f"{100000 + (i % 97) / 10:.1f}"
        if i % 5 == 4:
            out.append(json.dumps({"stream": "btcusdt@markPrice@1s", "data": {
                "e": "markPriceUpdate", "E": e, "s": "BTCUSDT", "p": price, "i": price, "P": price,
                "r": "0.00010000", "T": T0 + 8 * 3600_000}}))  # fmt: skip
        else:
            closed = (i * 250) % MIN == MIN - 500  # never a mark frame's slot (i % 5 == 3)
            out.append(json.dumps({"stream": "btcusdt@kline_1m", "data": {"e": "kline", "E": e, "s": "BTCUSDT", "k": {
                "t": t, "T": t + MIN - 1, "s": "BTCUSDT", "i": "1m", "f": 1, "L": 2, "o": "100000.0",
                "c": price, "h": "100010.0", "l": "99990.0", "v": "12.345", "n": 10, "x": closed, "q": "1",
                "V": "1", "Q": "1", "B": "0"}}}))  # fmt: skip
    return out


def main() -> None:
    raw = frames(N)
    symbols = frozenset({"BTCUSDT", "ETHUSDT"})
    t0 = time.perf_counter()
    for r in raw:
        parse_frame(r, symbols)
    dt = time.perf_counter() - t0
    print(f"parse_frame:           {N / dt:>10,.0f} frames/s  ({dt * 1e6 / N:.1f} µs a frame)")

    client = BinanceLive(["BTCUSDT"], "1m", LiveSettings(), known_symbols=symbols)
    handed: list[int] = [0]

    def sink(batch: LiveBatch) -> None:
        handed[0] += len(batch.ticks)

    client._sink = sink
    t0 = time.perf_counter()
    for r in raw:
        client._handle(r)
    dt = time.perf_counter() - t0
    closed = len(client.history("BTCUSDT"))
    print(f"client per-frame path: {N / dt:>10,.0f} frames/s  ({dt * 1e6 / N:.1f} µs a frame), "
          f"{handed[0]:,} ticks, {closed} closed candles, skipped {dict(client.skipped)}")


if __name__ == "__main__":
    main()
