from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from hexdesk.storage import migrate
from hexdesk.storage.journal import Journal
from hexdesk.storage.tables import metadata


def _diffs(db: Path) -> list[object]:
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(ctx, metadata)
    finally:
        engine.dispose()


def test_migrated_schema_matches_models(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    Journal.open(db).close()
    assert _diffs(db) == []


def test_in_memory_journal_is_migrated_too() -> None:
    j = Journal.in_memory()
    with j._engine.connect() as conn:  # white-box: the only way to look at the migrated in-memory schema
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, metadata) == []
        assert migrate.current_revision(conn) == migrate.head_revision()
    j.close()


def test_open_twice_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    Journal.open(db).close()
    first = sqlite3.connect(db).execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    Journal.open(db).close()
    j = Journal.open(db)
    j.close()
    con = sqlite3.connect(db)
    assert con.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall() == first
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(migrate.head_revision(),)]
    assert con.execute("PRAGMA application_id").fetchone()[0] == migrate.APPLICATION_ID
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persistent in the file header
    con.close()
    assert _diffs(db) == []


def test_expected_tables_and_constraints(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    Journal.open(db).close()
    engine = create_engine(f"sqlite:///{db}")
    insp = inspect(engine)
    assert set(insp.get_table_names()) == {
        "alembic_version", "practice_sessions", "events", "orders", "fills", "liquidations", "funding_payments",
        "trade_notes", "trade_tags", "day_notes", "screenshots",
    }
    uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints("events")}
    assert ("session_id", "seq") in uniques
    fks = insp.get_foreign_keys("fills")
    assert fks[0]["referred_table"] == "practice_sessions" and fks[0]["options"].get("ondelete") == "CASCADE"
    # money is TEXT-affine (VARCHAR), never REAL/NUMERIC: SQLite would otherwise turn "1.10" into a float
    for table in ("practice_sessions", "orders", "fills", "liquidations", "funding_payments"):
        for col in insp.get_columns(table):
            assert not any(bad in str(col["type"]) for bad in ("REAL", "NUMERIC", "FLOAT", "DECIMAL"))
    engine.dispose()


def test_migrations_need_no_ini_and_have_one_head() -> None:
    assert migrate.MIGRATIONS_DIR.is_dir()
    assert (migrate.MIGRATIONS_DIR / "env.py").is_file()
    assert migrate.head_revision() == "0002" == migrate.HEAD  # a new migration must raise HEAD with it
    assert {"0001", "0002"} <= migrate.known_revisions()
    assert not (migrate.MIGRATIONS_DIR.parent / "alembic.ini").exists()


def test_a_journal_at_head_opens_without_importing_alembic(tmp_path) -> None:
    """The usual start opens a journal already at HEAD: no Alembic import, no migration (issue 10.3); a new file
    still gets every migration."""
    import subprocess
    import sys

    path = tmp_path / "j.sqlite"
    code = (
        "import sys\n"
        "from hexdesk.storage.journal import Journal\n"
        f"j = Journal.open({str(path)!r})\n"
        "j.close()\n"
        "print('alembic' in sys.modules)\n"
    )
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "True"  # a new file: migrated by Alembic
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "False"  # already at HEAD
    con = sqlite3.connect(path)
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(migrate.HEAD,)]
    con.close()
