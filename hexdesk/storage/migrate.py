"""Run the journal's Alembic migrations in code: the Config is built here, no alembic.ini is read at runtime."""

from __future__ import annotations

import sqlite3
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
APPLICATION_ID = 0x48584453  # "HXDS", set by revision 0001 (PRAGMA application_id)

#: The newest revision this HexDesk ships (tests pin it to Alembic's head). A journal already there is opened
#: without importing Alembic at all: ~0.15 s less before the window accepts orders (issue 10.3).
HEAD = "0002"


def at_head(connection: Connection) -> bool:
    """Whether the journal on ``connection`` is at :data:`HEAD` already (plain SQL: no Alembic needed)."""
    has_table = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).first()
    if has_table is None:
        return False
    return [r[0] for r in connection.exec_driver_sql("SELECT version_num FROM alembic_version")] == [HEAD]


def alembic_config() -> Config:
    """An Alembic Config pointing at ``hexdesk/storage/migrations`` (``%`` escaped for configparser)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    return cfg


@cache
def known_revisions() -> frozenset[str]:
    """Every revision id this HexDesk ships."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return frozenset(s.revision for s in script.walk_revisions())


def head_revision() -> str:
    """Alembic's head: the newest revision in ``migrations/versions`` (:data:`HEAD` must equal it)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(connection: Connection) -> None:
    """Apply every pending revision on ``connection`` (inside the caller's transaction: all or nothing)."""
    from alembic import command

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
