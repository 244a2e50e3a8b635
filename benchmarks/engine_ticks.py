"""How fast the engine eats ticks: ``.venv/bin/python benchmarks/engine_ticks.py [--quick]``.

Three figures:

1. on_tick/s with one open position (isolated BTCUSDT long, quiet ticks);
2. on_tick/s with 50 open positions (50 symbols: BTCUSDT copied under other names, half isolated, half cross) and
   200 resting orders (limits and stops) that the ticks never reach;
3. the bundled March 2025 BTCUSDT month (44,640 one-minute candles × 4 path points) through the Exchange with a
   simple strategy: SMA(20/50) cross on closed candles, market entries with an attached stop-loss.

What the figures measure: the engine's per-tick entry ``on_tick`` alone. The month's ticks (the replay's PriceTick
objects, with their Decimals and forming candles) are built BEFORE the clock starts; that building time is printed
on its own line, and it is most of what a user waits for. The whole job, path included, against backtesting.py,
is benchmarks/month_run.py (with the batch entry ``Exchange.on_ticks``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections import deque
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

# Run from a checkout without installing, and without benchmarks/ first on the path: benchmarks/statistics.py
# would hide the standard library's statistics module (the replay's liquidity estimate needs it).
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from hexdesk.engine import (  # noqa: E402
    Exchange,
    Instrument,
    MarginMode,
    OrderFilled,
    OrderRequest,
    PositionLiquidated,
    Side,
    default_instruments,
)

BTC = "BTCUSDT"
D = Decimal


def _prices(base: Decimal, n: int, step: Decimal) -> list[Decimal]:
    """A zig-zag of ``n`` prices within ±20 ticks of ``base``: quiet ticks that never reach a gate."""
    out = []
    for i in range(n):
        k = i % 40
        out.append(base + step * (k if k < 20 else 40 - k))
    return out


def bench_one_position(n: int) -> float:
    ex = Exchange(wallet_balance=D("100000"))
    ex.on_tick(BTC, 0, D("60000"))
    ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.5")))
    prices = _prices(D("60000"), 1000, D("0.1"))
    on_tick = ex.on_tick
    start = time.perf_counter()
    for i in range(n):
        on_tick(BTC, 1000 + i, prices[i % 1000])
    return n / (time.perf_counter() - start)


def _many_instruments(count: int) -> dict[str, Instrument]:
    base = default_instruments()[BTC]
    out = {BTC: base}
    for i in range(1, count):
        name = f"SYN{i:02d}USDT"
        out[name] = dataclasses.replace(base, symbol=name, base_asset=f"SYN{i:02d}")
    return out


def bench_fifty_positions(n: int) -> float:
    instruments = _many_instruments(50)
    symbols = sorted(instruments)
    ex = Exchange(wallet_balance=D("10000000"), instruments=instruments)
    for i, s in enumerate(symbols):
        ex.on_tick(s, 0, D("60000"))
        if i % 2:
            ex.set_margin_mode(s, MarginMode.CROSS)
    for i, s in enumerate(symbols):
        side = Side.BUY if i % 3 else Side.SELL
        assert ex.submit(OrderRequest.market(s, side, D("0.1"))).ok
        # 4 resting orders per symbol, far from the market: 2 limits, 2 stops (200 in all).
        ex.submit(OrderRequest.limit(s, Side.BUY, D("0.01"), D("58000")))
        ex.submit(OrderRequest.limit(s, Side.SELL, D("0.01"), D("62000")))
        ex.submit(OrderRequest.stop_market(s, Side.SELL, D("57000"), D("0.01"), reduce_only=side is Side.BUY))
        ex.submit(OrderRequest.stop_market(s, Side.BUY, D("63000"), D("0.01"), reduce_only=side is Side.SELL))
    assert len(ex.positions()) == 50, len(ex.positions())
    assert len(ex.open_orders()) == 200, len(ex.open_orders())
    prices = _prices(D("60000"), 1000, D("0.1"))
    on_tick = ex.on_tick
    start = time.perf_counter()
    for i in range(n):
        on_tick(symbols[i % 50], 1000 + i, prices[(i // 50) % 1000])
    rate = n / (time.perf_counter() - start)
    assert len(ex.positions()) == 50 and len(ex.open_orders()) == 200
    return rate


def _month_ticks() -> Iterator[tuple[str, int, Decimal, Decimal, bool]]:
    """(symbol, ts, price, bar volume, candle closed) for the March 2025 month: the replay if present, else CSV."""
    try:
        from hexdesk.market.candles import load_bundled
        from hexdesk.market.replay import Replay

        series = load_bundled("BTCUSDT-2025-03")
        for t in Replay([series]).ticks():
            yield t.symbol, t.ts_ms, t.price, t.liquidity, t.step == 3
        return
    except ImportError:
        pass
    import csv

    with open("/work/shared/data/klines/BTCUSDT_1m_2025-03.csv", newline="") as f:
        for row in csv.DictReader(f):
            t = int(row["open_time_ms"])
            o, h, lo, c, v = (D(row[k]) for k in ("open", "high", "low", "close", "volume"))
            path = (o, lo, h, c) if c >= o else (o, h, lo, c)
            for k, p in enumerate(path):
                yield BTC, t + (0, 20_000, 40_000, 59_999)[k], p, v, k == 3


def bench_month() -> tuple[int, float, int, Decimal, float]:
    built = time.perf_counter()
    ticks = list(_month_ticks())
    build_s = time.perf_counter() - built
    ex = Exchange(wallet_balance=D("10000"))
    ex.set_leverage(BTC, 10)
    on_tick = ex.on_tick
    closes: deque[Decimal] = deque(maxlen=50)
    fast_sum = slow_sum = D(0)
    prev_diff: Decimal | None = None
    trades = 0
    start = time.perf_counter()
    for symbol, ts, price, volume, closed in ticks:
        on_tick(symbol, ts, price, bar_volume=volume)
        if not closed:
            continue
        if len(closes) == 50:
            slow_sum -= closes[0]
        closes.append(price)
        slow_sum += price
        if len(closes) < 50:
            continue
        fast_sum = sum(list(closes)[-20:], D(0))
        diff = fast_sum / 20 - slow_sum / 50
        if prev_diff is not None and (diff > 0) != (prev_diff > 0):
            pos = ex.position(symbol).quantity
            side = Side.BUY if diff > 0 else Side.SELL
            if pos:
                ex.submit(OrderRequest.market(symbol, side, abs(pos), reduce_only=True))
            stop = (price * D("0.99") if side is Side.BUY else price * D("1.01")).quantize(D("0.1"))
            if ex.submit(OrderRequest.market(symbol, side, D("0.05"), stop_loss=stop)).ok:
                trades += 1
        prev_diff = diff
    seconds = time.perf_counter() - start
    fills = sum(isinstance(e, OrderFilled) for e in ex.events)
    liquidations = sum(isinstance(e, PositionLiquidated) for e in ex.events)
    assert liquidations == 0
    return len(ticks), seconds, fills, ex.account().wallet_balance, build_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer ticks, no month")
    args = parser.parse_args()
    n = 100_000 if args.quick else 1_000_000
    print(f"on_tick/s, 1 open position:                     {bench_one_position(n):>12,.0f}")
    print(f"on_tick/s, 50 positions + 200 resting orders:   {bench_fifty_positions(n):>12,.0f}")
    if not args.quick:
        count, seconds, fills, wallet, build_s = bench_month()
        print(
            f"BTCUSDT March 2025, SMA(20/50) cross + 1% stop: {count:,} ticks in {seconds:.2f} s "
            f"= {count / seconds:,.0f} ticks/s ({fills} fills, final wallet {wallet:.2f} USDT)"
        )
        print(
            f"  + building those ticks (Replay.ticks(): PriceTick, Candle, Decimals), not in the figure above: "
            f"{build_s:.2f} s; the whole job: benchmarks/month_run.py"
        )


if __name__ == "__main__":
    main()
