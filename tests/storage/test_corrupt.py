"""A file that is not a healthy HexDesk journal is reported and left exactly as it was."""

from __future__ import annotations

import hashlib
import sqlite3
from decimal import Decimal as D
from pathlib import Path

import pytest

from hexdesk.storage.errors import JournalCorrupt, JournalError, JournalTooNew
from hexdesk.storage.journal import Journal
from tests.storage.samples import trading_story


def _snapshot(directory: Path) -> dict[str, str]:
    """Every file in the directory with its content hash: proves nothing was written, created or removed."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def _healthy(path: Path) -> None:
    with Journal.open(path) as j:
        sid = j.start_session("s", "replay", "BTCUSDT-2025-03", D("10000"), {})
        for _ in range(20):  # enough rows for several pages
            j.record(sid, trading_story(start_seq=1 + j.session(sid).last_seq))


def test_garbage_bytes(tmp_path: Path) -> None:
    db = tmp_path / "hexdesk.db"
    garbage = bytes(range(256)) * 64
    db.write_bytes(garbage)
    before = _snapshot(tmp_path)
    with pytest.raises(JournalCorrupt) as info:
        Journal.open(db)
    assert info.value.path == db and "not an SQLite database" in info.value.reason
    assert db.read_bytes() == garbage
    assert _snapshot(tmp_path) == before  # no -wal / -shm either


def test_short_garbage_and_text_file(tmp_path: Path) -> None:
    for content in (b"x", b"SQLite format 3", b"hello, this is a note\n" * 100):
        db = tmp_path / "j.db"
        db.write_bytes(content)
        with pytest.raises(JournalCorrupt):
            Journal.open(db)
        assert db.read_bytes() == content


def test_valid_header_but_damaged_pages(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    _healthy(db)
    data = bytearray(db.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    assert len(data) >= 4 * page_size
    for offset in range(page_size, len(data), page_size):  # scribble over every page but the header page
        data[offset : offset + 64] = b"\xa5" * 64
    db.write_bytes(bytes(data))
    before = _snapshot(tmp_path)
    with pytest.raises(JournalCorrupt) as info:
        Journal.open(db)
    assert info.value.path == db
    assert _snapshot(tmp_path) == before


def test_truncated_file(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    _healthy(db)
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    before = _snapshot(tmp_path)
    with pytest.raises(JournalCorrupt):
        Journal.open(db)
    assert _snapshot(tmp_path) == before


def test_another_programs_database_is_not_adopted(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    con.execute("INSERT INTO notes (body) VALUES ('keep me')")
    con.commit()
    con.close()
    before = _snapshot(tmp_path)
    with pytest.raises(JournalCorrupt, match="not a HexDesk journal"):
        Journal.open(db)
    assert _snapshot(tmp_path) == before


def test_foreign_application_id(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    con = sqlite3.connect(db)
    con.execute("PRAGMA application_id = 1234")
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(JournalCorrupt, match="application_id"):
        Journal.open(db)


def test_journal_from_a_newer_hexdesk(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    _healthy(db)
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    before = _snapshot(tmp_path)
    with pytest.raises(JournalTooNew) as info:
        Journal.open(db)
    assert info.value.revision == "9999" and isinstance(info.value, JournalError)
    assert _snapshot(tmp_path) == before


def test_empty_file_and_empty_database_become_journals(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    with Journal.open(empty) as j:
        assert j.sessions() == []
    blank = tmp_path / "blank.db"
    sqlite3.connect(blank).close()
    with Journal.open(blank) as j:
        j.start_session("s", "live", "d", D(1), {})
    with Journal.open(blank) as j:
        assert len(j.sessions()) == 1


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(JournalCorrupt, match="directory"):
        Journal.open(tmp_path)


def test_healthy_journal_passes_full_integrity_check(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    _healthy(db)
    before = _snapshot(tmp_path)
    with Journal.open(db, integrity="full") as j:
        assert j.sessions()[0].event_count == 240
    assert set(_snapshot(tmp_path)) == set(before)  # the WAL is checkpointed and removed on close
