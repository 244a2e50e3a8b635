"""``hexdesk`` resumes the last active session: quit (or crash) and start again with the same --db, and the
session is there, not a new one (issue 7.1, 7.2, 7.8)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from hexdesk import app
from hexdesk.storage.journal import Journal


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "HEXDESK_DB")}
    return {**env, "QT_QPA_PLATFORM": "offscreen"}


def _hexdesk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hexdesk", *args], capture_output=True, text=True, timeout=120, env=_env()
    )


def test_a_second_start_and_a_screenshot_resume_the_same_session(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    first = _hexdesk("--db", str(db), "--close-after", "1.5")
    assert first.returncode == 0, first.stderr
    with Journal.open(db) as j:
        (s,) = j.sessions()
        seq_before = s.last_seq
    shot = _hexdesk("--db", str(db), "--screenshot", str(tmp_path / "s.png"), "--replay-seconds", "1")
    assert shot.returncode == 0, shot.stderr
    with Journal.open(db) as j:
        (again,) = j.sessions()  # no second session
        assert again.id == s.id and again.last_seq >= seq_before and again.is_active
    new = _hexdesk("--db", str(db), "--new-session", "--close-after", "0.5")
    assert new.returncode == 0, new.stderr
    with Journal.open(db) as j:
        assert [x.id for x in j.sessions()] == [s.id + 1, s.id]


def test_session_option_is_checked() -> None:
    with pytest.raises(SystemExit) as info:
        app.parse_args(["--session", "0"])
    assert info.value.code == 2
    assert app.parse_args(["--session", "3"]).session == 3
    with pytest.raises(SystemExit):
        app.parse_args(["--session", "3", "--new-session"])


def test_an_unwritable_journal_at_start_is_a_clear_message_and_exit_2(tmp_path: Path, qapp, capsys) -> None:
    def full_disk(conn, cursor, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO PRACTICE_SESSIONS"):
            raise sqlite3.OperationalError("database or disk is full")

    event.listen(Engine, "before_cursor_execute", full_disk)
    try:
        code = app.main(["--db", str(tmp_path / "j.db")])
    finally:
        event.remove(Engine, "before_cursor_execute", full_disk)
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot be written: the disk is full" in err and "Traceback" not in err and "sqlalchemy" not in err


def test_an_unknown_session_is_named(tmp_path: Path, qapp, capsys) -> None:
    assert app.main(["--db", str(tmp_path / "j.db"), "--session", "9"]) == 2
    assert "no practice session with id 9" in capsys.readouterr().err


def test_a_session_switched_in_the_window_is_the_one_run_and_resumed(tmp_path: Path) -> None:
    """File > New session while the app runs: the old desk's replay stops and it is closed (still resumable), the
    new one's replay runs, and the next start resumes the new one."""
    db = tmp_path / "j.db"
    script = f"""
import sys
from decimal import Decimal
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from hexdesk.app import main
from hexdesk.service import SessionSpec
from hexdesk.ui.main_window import MainWindow

app = QApplication(sys.argv[:1])

def switch():
    window = next((w for w in app.topLevelWidgets() if isinstance(w, MainWindow)), None)
    if window is None or window.sessions is None:  # still the start-up shell: the journal is opening
        QTimer.singleShot(100, switch)
        return
    window.switch_session(window.sessions.new(SessionSpec(name="second", balance=Decimal(5000), speed=600.0)))
    QTimer.singleShot(1500, window.close)

QTimer.singleShot(1500, switch)
sys.exit(main(["--db", {str(db)!r}]))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=_env())
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Task was destroyed" not in proc.stderr
    with Journal.open(db) as j:
        second, first = j.sessions()
        assert second.name == "second" and second.start_balance == 5000
        assert first.is_active and first.last_used_at is not None  # closed, not ended: it can be opened again
        start_ms = second.settings["start_ms"]
        assert second.replay_ms is not None and second.replay_ms > start_ms  # its replay ran in the app
        assert j.last_active_session().id == second.id
