"""Journal write throughput: events/s for one-event record() calls and for batches of 1,000 (one transaction each).

Run: .venv/bin/python benchmarks/journal_write.py [--events N] [--db PATH]
Writes to a temporary file-backed journal (WAL, synchronous=NORMAL), i.e. the same settings the app uses.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from hexdesk.engine.enums import (
    LiquidityRole,
    MarginMode,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    WorkingType,
)
from hexdesk.engine.events import Event, OrderAccepted, OrderFilled, PositionChanged
from hexdesk.engine.fills import Fill
from hexdesk.engine.orders import Order
from hexdesk.engine.positions import Position
from hexdesk.storage.journal import Journal

T0 = 1_740_787_200_000


def event_stream(start_seq: int = 1) -> Iterator[Event]:
    """A realistic mix: per trade an OrderAccepted, an OrderFilled (order + fill) and a PositionChanged."""
    seq = start_seq
    n = 0
    while True:
        n += 1
        ts = T0 + n * 250
        side = Side.BUY if n % 2 else Side.SELL
        price = Decimal("84000.10") + Decimal(n % 500) / 10
        order = Order(n, f"hx-{n}", "BTCUSDT", side, OrderType.MARKET, Decimal("0.010"), Decimal(0), Decimal(0),
                      TimeInForce.GTC, False, False, WorkingType.CONTRACT_PRICE, False, OrderStatus.NEW, Decimal(0),
                      Decimal(0), ts, ts)
        filled = order.evolve(status=OrderStatus.FILLED, executed_qty=Decimal("0.010"), avg_price=price)
        fill = Fill(n, n, "BTCUSDT", side, price, Decimal("0.010"), price * Decimal("0.010") * Decimal("0.0005"),
                    "USDT", LiquidityRole.TAKER, Decimal("0.5") if n % 2 == 0 else Decimal(0), ts)
        pos = Position("BTCUSDT", MarginMode.CROSS, 20, Decimal("0.010") if n % 2 else Decimal(0), price, price,
                       Decimal(0), Decimal(0), price * Decimal("0.010"), Decimal("42.0"), Decimal("3.36"),
                       Decimal("0.01"), None)
        yield from (OrderAccepted(seq, ts, order), OrderFilled(seq + 1, ts, filled, fill),
                    PositionChanged(seq + 2, ts, pos))
        seq += 3


def take(stream: Iterator[Event], n: int) -> list[Event]:
    return [next(stream) for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events for the batched run (default 20000)")
    parser.add_argument("--single", type=int, default=2_000, help="events for the one-per-call run (default 2000)")
    parser.add_argument("--db", type=Path, help="journal file (default: a temporary directory)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.db"
        journal = Journal.open(path)
        sid = journal.start_session("bench", "replay", "BTCUSDT-2025-03", Decimal("10000"), {})
        stream = event_stream()

        singles = take(stream, args.single)
        t = time.perf_counter()
        for ev in singles:
            journal.record(sid, [ev])
        single_s = time.perf_counter() - t

        batches = [take(stream, 1_000) for _ in range(max(1, args.events // 1_000))]
        per_batch = []
        for batch in batches:
            t = time.perf_counter()
            journal.record(sid, batch)
            per_batch.append(time.perf_counter() - t)
        batched_n = sum(len(b) for b in batches)

        t = time.perf_counter()
        journal.record(sid, batches[-1])  # the same batch again: all ignored (idempotency check cost)
        replay_s = time.perf_counter() - t

        t = time.perf_counter()
        decoded = journal.events(sid)
        read_s = time.perf_counter() - t
        summary = journal.session(sid)
        journal.close()
        size = path.stat().st_size

    print(f"SQLite journal at {'given path' if args.db else 'a temp file'} (WAL, synchronous=NORMAL)")
    print(f"single-event record():   {len(singles):>7} events  {len(singles) / single_s:>10,.0f} events/s"
          f"  ({single_s / len(singles) * 1e3:.3f} ms per call)")
    print(f"record() of 1,000-event batches: {batched_n:>7} events  {batched_n / sum(per_batch):>10,.0f} events/s"
          f"  (median {sorted(per_batch)[len(per_batch) // 2] * 1e3:.1f} ms per batch)")
    print(f"re-recording a batch (all ignored): {replay_s * 1e3:.1f} ms")
    print(f"events() read + decode:  {len(decoded):>7} events  {len(decoded) / read_s:>10,.0f} events/s")
    print(f"totals: {summary.event_count} events, {summary.fill_count} fills, fees {summary.fees}; file {size:,} bytes")


if __name__ == "__main__":
    main()
