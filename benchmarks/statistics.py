"""Statistics over 100,000 trades: the issue's budget is 50 ms.

Run: .venv/bin/python benchmarks/statistics.py [--trades N]

Prints the time of ``statistics.compute`` (every figure, the equity curve, calendar, histogram, per-tag table)
over N closed trades, without and with filters: what a filter change in the Statistics window costs. Also prints
the one-off costs the desk pays when the fills change (and caches): the round trips from 2N fills and the
columns (``TradeTable.build``). Median of several runs, CPU time of this process.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from hexdesk.engine.enums import MarginMode, OrderType, Side
from hexdesk.storage.statistics import TradeFilter, TradeTable, compute
from hexdesk.storage.trades import TradeFill, build_trades

T0 = 1_740_787_200_000  # 2025-03-01 00:00 UTC
TAGS = ("breakout", "fomo", "news", "revenge", "plan")


def fills(n_trades: int, seed: int = 7) -> list[TradeFill]:
    """Open/close pairs on two symbols, a few minutes apart, random prices around 100 and 3,000."""
    rng = random.Random(seed)
    out: list[TradeFill] = []
    ts = T0
    tid = 0
    for i in range(n_trades):
        symbol, base = ("BTCUSDT", 80_000) if i % 2 else ("ETHUSDT", 3_000)
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        entry = Decimal(base + rng.randint(-500, 500))
        exit_ = entry + Decimal(rng.randint(-300, 300))
        qty = Decimal("0.010")
        pnl = (exit_ - entry) * qty * side.sign
        tid += 1
        out.append(TradeFill(tid, tid, symbol, side, entry, qty, entry * qty * Decimal("0.0005"), "USDT",
                             Decimal(0), ts, order_type=OrderType.MARKET))
        ts += rng.randint(60_000, 600_000)
        tid += 1
        kind = rng.choice((OrderType.MARKET, OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET))
        out.append(TradeFill(tid, tid, symbol, side.opposite, exit_, qty, exit_ * qty * Decimal("0.0005"), "USDT",
                             pnl, ts, order_type=kind, reduce_only=True))
    return out


def timed(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return sorted(times)[len(times) // 2] * 1000  # median (the stdlib's statistics is shadowed by this file)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    fs = fills(args.trades)
    t = time.process_time()
    trades = build_trades(fs)
    build_ms = (time.process_time() - t) * 1000
    rng = random.Random(3)
    notes = {
        tr.trade_key: SimpleNamespace(setup=rng.choice(("trend", "range", None)),
                                      tags=tuple(g for g in TAGS if rng.random() < 0.2))
        for tr in trades
    }
    t = time.process_time()
    table = TradeTable.build(trades, notes)
    table_ms = (time.process_time() - t) * 1000

    print(f"{len(trades):,} trades from {len(fs):,} fills: round trips {build_ms:,.0f} ms, columns {table_ms:,.0f} ms"
          " (once per change of the fills; cached by the desk)")
    cases = {
        "no filter": None,
        "tag 'fomo'": TradeFilter(tags=frozenset({"fomo"})),
        "shorts, BTCUSDT, isolated, 10 days": TradeFilter(
            symbols=frozenset({"BTCUSDT"}), side=Side.SELL, margin_mode=MarginMode.ISOLATED,
            start=date(2025, 3, 5), end=date(2025, 3, 14)),
    }
    worst = 0.0
    for name, f in cases.items():
        ms = timed(lambda f=f: compute(table, f, 10_000), args.runs)
        worst = max(worst, ms)
        print(f"statistics over {len(table):,} trades, {name}: {ms:.1f} ms")
    print(f"worst: {worst:.1f} ms (budget 50 ms): {'OK' if worst < 50 else 'OVER BUDGET'}")


if __name__ == "__main__":
    main()
