"""Every event ``record()`` accepted is in the file even if the app is killed right after, without close()."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hexdesk.storage.journal import Journal
from tests.storage.samples import one_of_each, trading_story

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import dataclasses, os, signal, sys
    from decimal import Decimal
    from pathlib import Path
    from hexdesk.storage.journal import Journal
    from tests.storage.samples import one_of_each, trading_story

    j = Journal.open(Path(sys.argv[1]))
    sid = j.start_session("killed", "replay", "BTCUSDT-2025-03", Decimal("10000"), {"x": 1})
    j.record(sid, trading_story())                                     # one batch
    for ev in one_of_each():                                           # then one event per call
        j.record(sid, [dataclasses.replace(ev, seq=ev.seq + len(trading_story()))])
    print(sid, flush=True)
    if sys.argv[2] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(3)                                                        # no close(), no atexit, no finalizers
    """
)


def _expected() -> list[object]:
    import dataclasses

    return [*trading_story(), *(dataclasses.replace(ev, seq=ev.seq + len(trading_story())) for ev in one_of_each())]


@pytest.mark.parametrize("how", ["kill", "exit"])
def test_killed_process_loses_nothing(tmp_path: Path, how: str) -> None:
    if how == "kill" and not hasattr(signal, "SIGKILL"):
        pytest.skip("no SIGKILL on this platform")
    db = tmp_path / "j.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(db), how], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert proc.returncode == (-signal.SIGKILL if how == "kill" else 3), proc.stderr
    sid = int(proc.stdout.strip())
    assert Path(f"{db}-wal").exists()  # the process died with the WAL still open: recovery is the reader's job

    with Journal.open(db) as j:
        assert j.events(sid) == _expected()
        summary = j.session(sid)
        assert summary.event_count == len(_expected()) and summary.ended_at is None
        assert len(j.fills(sid)) == 5  # trade ids 1, 2, 3, 5, 9
        assert len(j.orders(sid)) == 9  # order ids 1..6 plus three rejections
