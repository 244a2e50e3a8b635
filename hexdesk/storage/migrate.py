"""Run the journal's Alembic migrations in code: the Config is built here, no alembic.ini is read at runtime."""

from __future__ import annotations

import sqlite3
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
APPLICATION_ID = 0x48584453  # "HXDS", set by revision 0001 (PRAGMA application_id)


def alembic_config() -> Config:
    """An Alembic Config pointing at ``hexdesk/storage/migrations`` (``%`` escaped for configparser)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    return cfg


@cache
def known_revisions() -> frozenset[str]:
    """Every revision id this HexDesk ships."""
    script = ScriptDirectory.from_config(alembic_config())
    return frozenset(s.revision for s in script.walk_revisions())


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(connection: Connection) -> None:
    """Apply every pending revision on ``connection`` (inside the caller's transaction: all or nothing)."""
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


def backup_copy(connection: Connection, path: Path, revision: str) -> Path:
    """Copy the journal at ``path`` (schema ``revision``) beside it before migrating it, with SQLite's ``VACUUM
    INTO`` (a consistent copy even with a WAL). Returns the copy: ``<name>.before-<head>-from-<revision>.bak``,
    numbered if that exists. The migration then runs in the caller's transaction; the copy is never touched."""
    target = path.with_name(f"{path.name}.before-{head_revision()}-from-{revision}.bak")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.before-{head_revision()}-from-{revision}.{n}.bak")
    del connection  # VACUUM cannot run inside its transaction: a second, plain connection reads the committed file
    src = sqlite3.connect(str(path), isolation_level=None)
    try:
        src.execute("VACUUM INTO ?", (str(target),))
    finally:
        src.close()
    return target
