"""SIGKILL a forked trader (tests/service/resume_driver.py) at random moments and check what it left.

Forked children start in milliseconds (the modules are already imported), so a test can afford many kills. Used by
tests/service/test_resume_kill.py (20 kills) and benchmarks/resume_soak.py (1,000).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hexdesk.engine.events import Event
from hexdesk.storage.journal import Journal
from tests.service import resume_driver

_ctx = mp.get_context("fork")


def _child(db: str, minutes: int, conn: Any) -> None:
    try:
        final = resume_driver.run(Path(db), minutes, lambda: conn.send("ready"))
        conn.send(("done", final))
    except BaseException as exc:  # pragma: no cover - reported to the parent
        conn.send(("error", repr(exc)))
    finally:
        os._exit(0)


def run_to_end(db: Path, minutes: int) -> dict[str, object]:
    """One unkilled run (fresh or resumed) to the end; its final fingerprint."""
    parent, child = _ctx.Pipe()
    p = _ctx.Process(target=_child, args=(str(db), minutes, child))
    p.start()
    result = None
    while result is None:
        if not parent.poll(120):
            p.kill()
            raise TimeoutError("the trader did not finish")
        msg = parent.recv()
        if isinstance(msg, tuple):
            result = msg
    p.join()
    if result[0] != "done":
        raise AssertionError(f"the trader failed: {result[1]}")
    return result[1]  # type: ignore[no-any-return]


def stored_events(db: Path) -> list[Event]:
    with Journal.open(db) as j:  # opening also checks the logs have no gap
        (summary,) = [s for s in j.sessions() if s.name == "kill test"] or [None]
        return [] if summary is None else j.events(summary.id)


@dataclass
class KillReport:
    kills: int = 0
    finished_before_kill: int = 0
    kill_points: list[int] = field(default_factory=list)  # events stored at each kill
    mismatches: list[str] = field(default_factory=list)


def kill_chain(db: Path, minutes: int, kills: int, seed: int, reference: list[Event], max_delay: float) -> KillReport:
    """Kill the trader ``kills`` times at random moments (seeded), resuming the same journal each time; after every
    kill the stored log must be a prefix of the unkilled run's log."""
    rng = random.Random(seed)
    report = KillReport()
    for _ in range(kills):
        parent, child = _ctx.Pipe()
        p = _ctx.Process(target=_child, args=(str(db), minutes, child))
        p.start()
        before_ready = rng.random() < 0.1  # now and then kill it while it resumes
        if not before_ready:
            parent.poll(60)
        time.sleep(rng.uniform(0, max_delay))
        if p.is_alive():
            os.kill(p.pid, signal.SIGKILL)
        p.join()
        if p.exitcode != -signal.SIGKILL:
            report.finished_before_kill += 1
        else:
            report.kills += 1
        stored = stored_events(db)
        report.kill_points.append(len(stored))
        if stored != reference[: len(stored)]:
            first = next(i for i, (a, b) in enumerate(zip(stored, reference, strict=False)) if a != b)
            report.mismatches.append(f"after kill {report.kills}: the stored log departs at seq {first + 1}")
    return report
