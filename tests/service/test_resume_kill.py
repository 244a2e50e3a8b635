"""Resume exactly: a trader killed with SIGKILL at random moments and resumed each time ends exactly as one never
killed: the same event log (every seq, every field) and the same final state (issue 7.1)."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest

from tests.service.kill_harness import kill_chain, run_to_end, stored_events

pytestmark = pytest.mark.skipif(
    sys.platform == "win32" or not hasattr(signal, "SIGKILL"), reason="needs fork and SIGKILL"
)

MINUTES = 300  # 5 hours of BTC+ETH replay from 06:00 (the 08:00 funding included), ~150 trading decisions


def test_sigkill_at_random_moments_then_resume_equals_the_unkilled_run(tmp_path: Path) -> None:
    started = time.monotonic()
    reference_final = run_to_end(tmp_path / "reference.db", MINUTES)
    run_s = time.monotonic() - started
    reference = stored_events(tmp_path / "reference.db")
    assert len(reference) > 200  # the run trades: fills, TP/SL, cancels, leverage, margin mode, funding

    db = tmp_path / "killed.db"
    report = kill_chain(db, MINUTES, kills=20, seed=20261129, reference=reference, max_delay=run_s / 10)
    assert report.mismatches == []
    assert report.kills >= 15, report  # most kills landed while the trader was running
    assert report.kill_points == sorted(report.kill_points)  # each restart went on from where the last one stood
    assert len(set(report.kill_points)) >= 5  # several kill points (timing-dependent: kept loose)

    final = run_to_end(db, MINUTES)
    assert stored_events(db) == reference  # 0 differences in the event log
    assert final == reference_final  # 0 differences in the final state
