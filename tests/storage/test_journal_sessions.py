"""Journal APIs of revision 0002: session management, trade notes and tags, day notes, screenshots, imported
fills, the replay position; refused gaps (issue 7.2, 7.4, 7.8)."""

from __future__ import annotations

import dataclasses
import sqlite3
from decimal import Decimal as D
from pathlib import Path

import pytest

from hexdesk.engine.enums import LiquidityRole, Side
from hexdesk.engine.events import AccountOpened
from hexdesk.storage.errors import JournalGap, SequenceGap, UnknownSession
from hexdesk.storage.journal import Journal
from hexdesk.storage.views import FillRow, SessionStatus
from tests.storage.samples import T0, trading_story

PNG = b"\x89PNG\r\n\x1a\n" + b"fake image body"


def _start(j: Journal, name: str = "s", **kw: object) -> int:
    return j.start_session(name, "replay", "BTCUSDT-2025-03", D("10000"), {"start_ms": T0}, **kw)  # type: ignore[arg-type]


def test_new_session_is_active_and_carries_its_flags(journal: Journal) -> None:
    sid = _start(journal, blind=True, speed=120.0)
    s = journal.session(sid)
    assert s.status is SessionStatus.ACTIVE and s.is_active and not s.read_only
    assert s.blind and not s.journal_only and s.speed == 120.0 and s.replay_ms is None
    assert s.last_used_at == s.started_at
    imported = _start(journal, journal_only=True)
    assert journal.session(imported).read_only


def test_rename_archive_delete_and_last_active(journal: Journal) -> None:
    a, b, c = _start(journal, "a"), _start(journal, "b"), _start(journal, "c")
    journal.touch_session(a)  # a used last
    assert journal.last_active_session().id == a  # type: ignore[union-attr]
    journal.rename_session(a, "renamed")
    assert journal.session(a).name == "renamed"
    journal.archive_session(a)
    assert journal.session(a).status is SessionStatus.ARCHIVED and journal.session(a).read_only
    assert journal.last_active_session().id == c  # type: ignore[union-attr]  # newest of the active ones
    journal.end_session(c)
    assert journal.session(c).status is SessionStatus.ENDED
    assert journal.last_active_session().id == b  # type: ignore[union-attr]
    journal.record(b, trading_story())
    journal.save_trade_note(b, "BTCUSDT:1", notes="x", tags=["t"])
    journal.delete_session(b)
    with pytest.raises(UnknownSession):
        journal.session(b)
    assert journal.last_active_session() is None
    assert {s.id for s in journal.sessions()} == {a, c}


def test_trade_note_saves_only_the_given_fields_and_tags(journal: Journal) -> None:
    sid = _start(journal)
    assert journal.trade_note(sid, "BTCUSDT:1") is None
    journal.save_trade_note(sid, "BTCUSDT:1", notes="breakout", rating=4)
    journal.save_trade_note(sid, "BTCUSDT:1", setup="flag", tags=["fomo", " late ", "fomo", ""])
    note = journal.trade_note(sid, "BTCUSDT:1")
    assert note is not None
    assert (note.notes, note.setup, note.mistakes, note.emotion, note.rating) == ("breakout", "flag", "", "", 4)
    assert note.tags == ("fomo", "late") and note.updated_at is not None
    journal.save_trade_note(sid, "BTCUSDT:1", tags=[], rating=0)  # tags replaced, rating cleared
    note = journal.trade_note(sid, "BTCUSDT:1")
    assert note is not None and note.tags == () and note.rating is None and note.notes == "breakout"
    journal.save_trade_note(sid, "ETHUSDT:7", tags=["only-tag"])
    assert set(journal.trade_notes(sid)) == {"BTCUSDT:1", "ETHUSDT:7"}
    with pytest.raises(ValueError, match="rating"):
        journal.save_trade_note(sid, "BTCUSDT:1", rating=6)


def test_day_notes(journal: Journal) -> None:
    sid = _start(journal)
    assert journal.day_note(sid, "2025-03-02") == ""
    journal.save_day_note(sid, "2025-03-02", "calm day")
    journal.save_day_note(sid, "2025-03-02", "calm day, one loss")
    assert journal.day_note(sid, "2025-03-02") == "calm day, one loss"
    assert journal.day_notes(sid) == {"2025-03-02": "calm day, one loss"}
    with pytest.raises(ValueError):
        journal.save_day_note(sid, "March 2", "x")


def test_screenshots_are_files_named_by_their_hash(tmp_path: Path) -> None:
    import hashlib

    with Journal.open(tmp_path / "j.db") as j:
        sid = _start(j)
        sha = j.add_screenshot(sid, "BTCUSDT:1", "entry", PNG, T0)
        assert sha == hashlib.sha256(PNG).hexdigest()
        j.add_screenshot(sid, "BTCUSDT:1", "exit", PNG, T0 + 60_000)  # same image: one file
        rows = j.screenshots(sid, "BTCUSDT:1")
        assert [(r.kind, r.ts_ms) for r in rows] == [("entry", T0), ("exit", T0 + 60_000)]
        assert rows[0].path == tmp_path / "screenshots" / f"{sha}.png" and rows[0].path.read_bytes() == PNG
        assert j.screenshot_png(sha) == PNG
        with pytest.raises(ValueError):
            j.add_screenshot(sid, "BTCUSDT:1", "middle", PNG, T0)
        with pytest.raises(ValueError):
            j.add_screenshot(sid, "BTCUSDT:1", "entry", b"GIF89a", T0)
        j.delete_session(sid)
        assert not (tmp_path / "screenshots" / f"{sha}.png").exists()


def test_imported_fills_keep_their_fee_asset(journal: Journal) -> None:
    sid = _start(journal, journal_only=True)
    fills = [
        FillRow(0, 11, 5, "BTCUSDT", Side.BUY, D("84000"), D("0.01"), D("0.336"), "USDT", LiquidityRole.TAKER,
                D("0"), T0, False),
        FillRow(0, 12, 6, "BTCUSDT", Side.SELL, D("84100"), D("0.01"), D("0.0005"), "BNB", LiquidityRole.MAKER,
                D("1.0"), T0 + 1, False),
    ]
    journal.record_imported_fills(sid, [dataclasses.replace(f, seq=0) for f in fills])
    stored = journal.fills(sid)
    assert [(f.trade_id, f.fee_asset, f.fee) for f in stored] == [(11, "USDT", D("0.336")), (12, "BNB", D("0.0005"))]
    s = journal.session(sid)
    assert s.fees == D("0.336")  # the BNB fee is not added to USDT
    assert s.realized_pnl == D("1.0")
    with pytest.raises(ValueError, match="journal-only"):
        journal.record_imported_fills(_start(journal), fills)


def test_record_refuses_a_gap_and_writes_nothing(journal: Journal) -> None:
    sid = _start(journal)
    story = trading_story()
    journal.record(sid, story[:3])
    with pytest.raises(SequenceGap, match="must be seq 4, got seq 6"):
        journal.record(sid, story[5:8])
    with pytest.raises(SequenceGap):
        journal.record(sid, [story[3], story[5]])  # a gap inside the batch: not even seq 4 is kept
    assert [e.seq for e in journal.events(sid)] == [1, 2, 3]
    journal.record(sid, story[2:])  # overlap is fine: the known seqs are skipped
    assert journal.events(sid) == story


def test_replay_position_is_written_with_the_events(journal: Journal) -> None:
    sid = _start(journal)
    journal.record(sid, trading_story()[:2], replay_ms=T0 + 5, speed=60.0, resume={"cursor": [T0 + 5, "BTCUSDT"]})
    point = journal.resume_point(sid)
    assert (point.replay_ms, point.speed, point.state) == (T0 + 5, 60.0, {"cursor": [T0 + 5, "BTCUSDT"]})
    journal.record(sid, [], replay_ms=T0 + 9)  # a position alone (a candle closed, nothing happened)
    assert journal.resume_point(sid).replay_ms == T0 + 9 and journal.session(sid).replay_ms == T0 + 9
    journal.set_replay_position(sid, T0 + 10, 120.0)
    assert journal.session(sid).speed == 120.0
    with pytest.raises(SequenceGap):
        journal.record(sid, trading_story()[5:6], replay_ms=T0 + 99)
    assert journal.resume_point(sid).replay_ms == T0 + 10  # refused as a whole, position included


def test_opening_a_journal_with_a_hole_names_the_session_and_seq(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    with Journal.open(db) as j:
        sid = _start(j)
        j.record(sid, [AccountOpened(s, T0 + s, D(1)) for s in range(1, 11)])
    con = sqlite3.connect(db)
    con.execute("DELETE FROM events WHERE seq IN (4, 5)")  # what a journal that kept writing after a failure had
    con.commit()
    con.close()
    with pytest.raises(JournalGap, match=f"session {sid}: the event log is missing seq 4") as info:
        Journal.open(db)
    assert (info.value.session_id, info.value.seq) == (sid, 4)
