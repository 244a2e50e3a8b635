"""Soak test of resume exactly (issue 7.1): ``python benchmarks/resume_soak.py [KILLS] [MINUTES]``.

A deterministic trader (tests/service/resume_driver.py) is killed with SIGKILL KILLS times (default 1,000) at random
moments, in chains of 25 kills on one journal; after every kill the stored log must be a prefix of an unkilled
run's log, and each chain, resumed to the end, must end with exactly the unkilled run's log and state.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.service.kill_harness import kill_chain, run_to_end, stored_events  # noqa: E402

CHAIN = 25


def main() -> int:
    kills = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    minutes = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        reference_final = run_to_end(Path(tmp) / "reference.db", minutes)
        run_s = time.monotonic() - t0
        reference = stored_events(Path(tmp) / "reference.db")
        print(f"unkilled run: {len(reference):,} events in {run_s:.1f} s")
        done = landed = finished = chains = 0
        problems: list[str] = []
        while done < kills:
            n = min(CHAIN, kills - done)
            db = Path(tmp) / f"chain{chains}.db"
            report = kill_chain(db, minutes, kills=n, seed=chains, reference=reference, max_delay=run_s / 16)
            final = run_to_end(db, minutes)
            problems += report.mismatches
            if stored_events(db) != reference:
                problems.append(f"chain {chains}: the final log differs")
            if final != reference_final:
                problems.append(f"chain {chains}: the final state differs")
            done += n
            landed += report.kills
            finished += report.finished_before_kill
            chains += 1
            print(f"{done:5d} kills ({landed} while running, {finished} after it ended); differences: {len(problems)}")
        print(f"{done} kills in {chains} chains, {time.monotonic() - t0:.0f} s: {len(problems)} differences")
        for p in problems[:20]:
            print("  ", p)
        return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
