"""Resume cost and journal cost (issue 7.1, 7.7): ``python benchmarks/resume.py [EVENTS]``.

1. Builds a session of EVENTS engine events (default 100,000: orders placed and canceled, fills, positions) in a
   temporary journal, then times ``resume_session`` (read + decode the log, rebuild the Exchange, position the
   replay): the issue asks for under 1 s.
2. Times what the GUI thread pays for the journal while a replay trades: ``journal.record`` per call and per
   event (events and the replay position in one committed transaction).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from hexdesk.engine.enums import OrderType, Side, TimeInForce
from hexdesk.engine.orders import OrderRequest
from hexdesk.service.sessions import SessionManager, SessionSpec, resume_session
from hexdesk.storage.journal import Journal

START_MS = 1_740_787_200_000 + 24 * 3_600_000
BTC = "BTCUSDT"


def build(db: Path, target: int) -> int:
    journal = Journal.open(db)
    desk = SessionManager(journal).new(SessionSpec(datasets=("BTCUSDT-2025-03",), start_ms=START_MS))
    ticks = desk.replay.ticks()  # type: ignore[union-attr]
    desk.feed([next(ticks) for _ in range(8)])
    ex = desk.exchange
    i = 0
    while len(ex.events) < target:
        price = ex.last_price(BTC)
        assert price is not None
        before = len(ex.events)
        for _ in range(200):
            i += 1
            if i % 10 == 0:  # now and then a trade: fills and positions in the log too
                side = Side.BUY if (i // 10) % 2 else Side.SELL
                ex.submit(OrderRequest.market(BTC, side, Decimal("0.01")))
            else:
                r = ex.submit(
                    OrderRequest(BTC, Side.BUY, OrderType.LIMIT, quantity=Decimal("0.01"), price=price - 100,
                                 time_in_force=TimeInForce.GTC)
                )
                if r.order is not None:
                    ex.cancel(BTC, r.order.order_id)
        desk._record(tuple(ex.events[before:]), position=True)  # one transaction per 200 requests
        desk.feed([next(ticks) for _ in range(4)])
    desk.close()
    sid = desk.session_id
    journal.close()
    assert sid is not None
    return sid


def time_resume(db: Path, sid: int, runs: int = 3) -> tuple[float, int]:
    best = float("inf")
    n = 0
    for _ in range(runs):
        journal = Journal.open(db, integrity="off")
        t0 = time.perf_counter()
        desk = resume_session(journal, sid)
        best = min(best, time.perf_counter() - t0)
        n = len(desk.exchange.events)
        journal.close()
    return best, n


def _p99(values: list[float]) -> float:
    return sorted(values)[int(0.99 * len(values))]


def time_journal_on_gui_thread(db: Path, minutes: int = 600) -> dict[str, float]:
    """A replay fed in frames of 16 ticks (speed 60 at 30 fps carries ~8 ticks per symbol), a market order every
    10 frames: the time ``journal.record`` takes on the calling (GUI) thread, for commits that carry only the
    replay position and for those that carry events."""
    journal = Journal.open(db)
    desk = SessionManager(journal).new(SessionSpec(start_ms=START_MS))
    position_only: list[float] = []
    with_events: list[tuple[float, int]] = []
    record = journal.record

    def timed(session_id, evs, **kw):  # type: ignore[no-untyped-def]
        evs = list(evs)
        t0 = time.perf_counter()
        record(session_id, evs, **kw)
        took = time.perf_counter() - t0
        if evs:
            with_events.append((took, len(evs)))
        else:
            position_only.append(took)

    journal.record = timed  # type: ignore[method-assign]
    ticks = desk.replay.ticks()  # type: ignore[union-attr]
    end = START_MS + minutes * 60_000
    batch = []
    frames = 0
    for tick in ticks:
        if tick.ts_ms >= end:
            break
        batch.append(tick)
        if len(batch) == 16:
            desk.feed(batch)
            batch = []
            frames += 1
            if frames % 10 == 0:
                side = Side.BUY if frames % 20 == 0 else Side.SELL
                desk.submit(OrderRequest.market(BTC, side, Decimal("0.01"), take_profit=None))
    journal.close()
    events = sum(n for _, n in with_events)
    return {
        "position_commits": len(position_only),
        "position_median_ms": statistics.median(position_only) * 1000,
        "event_commits": len(with_events),
        "events": events,
        "event_commit_median_ms": statistics.median(t for t, _ in with_events) * 1000,
        "p99_ms": _p99([*position_only, *(t for t, _ in with_events)]) * 1000,
        "us_per_event": sum(t for t, _ in with_events) / max(events, 1) * 1e6,
    }


def main() -> None:
    target = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    keep = len(sys.argv) > 2  # a path: build there once, reuse it afterwards
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(sys.argv[2]) if keep else Path(tmp) / "resume.db"
        if keep and db.exists():  # (the GUI-thread measure runs only on a fresh build)
            with Journal.open(db) as j:
                sid = j.sessions()[0].id
            seconds, n = time_resume(db, sid)
            print(f"resume_session: {n:,} events in {seconds * 1000:.0f} ms (best of 3; goal < 1000 ms)")
            return
        t0 = time.perf_counter()
        sid = build(db, target)
        print(f"built a session of {target:,}+ events in {time.perf_counter() - t0:.1f} s")
        seconds, n = time_resume(db, sid)
        print(f"resume_session: {n:,} events in {seconds * 1000:.0f} ms (best of 3; goal < 1000 ms)")
        gui = time_journal_on_gui_thread(Path(tmp) / "gui.db")
        print(
            f"journal on the GUI thread: {gui['position_commits']:.0f} position-only commits, median "
            f"{gui['position_median_ms']:.2f} ms; {gui['event_commits']:.0f} commits with {gui['events']:.0f} "
            f"events, median {gui['event_commit_median_ms']:.2f} ms ({gui['us_per_event']:.0f} µs per event); "
            f"p99 of all commits {gui['p99_ms']:.2f} ms"
        )


if __name__ == "__main__":
    main()
