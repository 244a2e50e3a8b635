"""Revision 0002 migrates a 0001 journal that holds data, keeping a copy of the file first (issue 7.7)."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from hexdesk.storage import migrate
from hexdesk.storage.codec import dumps_event
from hexdesk.storage.journal import Journal
from hexdesk.storage.views import SessionStatus
from tests.storage.samples import trading_story


def _journal_at_0001(db: Path) -> None:
    """A file as HexDesk 0001 left it: two sessions (one ended, one killed while active) with events."""
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    engine.dispose()
    con = sqlite3.connect(db)
    for sid, ended in ((1, "2025-03-01T13:00:00.000+00:00"), (2, None)):
        con.execute(
            "INSERT INTO practice_sessions (id, name, started_at, ended_at, mode, dataset, start_balance, "
            "settings_json, app_version, realized_pnl, fees, funding) VALUES (?, ?, ?, ?, 'replay', "
            "'BTCUSDT-2025-03', '10000', '{}', '0.1', '-1.5', '0.25', '0')",
            (sid, f"old {sid}", "2025-03-01T12:00:00.000+00:00", ended),
        )
        for ev in trading_story():
            con.execute(
                "INSERT INTO events (session_id, seq, ts_ms, type, payload) VALUES (?, ?, ?, ?, ?)",
                (sid, ev.seq, ev.ts_ms, type(ev).__name__, dumps_event(ev)),
            )
    con.commit()
    con.close()


def test_a_0001_journal_with_data_is_migrated_and_a_copy_kept(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    _journal_at_0001(db)
    before = sqlite3.connect(db)
    rows_before = before.execute("SELECT * FROM events ORDER BY id").fetchall()
    before.close()

    with Journal.open(db) as j:
        backup = j.backup_before_migration
        assert backup is not None and backup.exists() and backup.name == "j.db.before-0002-from-0001.bak"
        old_ended, old_active = j.session(1), j.session(2)
        assert old_ended.status is SessionStatus.ENDED and old_active.status is SessionStatus.ACTIVE
        assert old_active.last_used_at == old_active.started_at and old_active.replay_ms is None
        assert (old_ended.realized_pnl, old_ended.fees) == (Decimal("-1.5"), Decimal("0.25"))  # totals kept
        assert j.events(1) == j.events(2) == trading_story()  # the data went through untouched
        assert j.last_active_session().id == 2  # type: ignore[union-attr]
        sid = j.start_session("new", "replay", "BTCUSDT-2025-03", old_ended.start_balance)
        j.save_trade_note(sid, "BTCUSDT:1", notes="works")  # the new tables are there

    copy = sqlite3.connect(backup)
    assert copy.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
    assert copy.execute("SELECT * FROM events ORDER BY id").fetchall() == rows_before
    assert "status" not in {r[1] for r in copy.execute("PRAGMA table_info(practice_sessions)")}
    copy.close()

    with Journal.open(db) as j:  # already at head: no second copy
        assert j.backup_before_migration is None
    assert sorted(p.name for p in tmp_path.glob("*.bak")) == [backup.name]
