"""``Journal``: the only storage API the app uses. One SQLite file; every ``record()`` is one committed transaction.

Durability: WAL journal + ``synchronous=NORMAL`` + a commit before ``record()`` returns, so a recorded event survives
the app being killed (a power cut may lose the last transactions, never corrupt the file). A file that is not a
healthy HexDesk journal raises ``JournalCorrupt`` and is not touched, not even by a WAL/SHM side file.
The Journal is blocking; the app calls it from one worker thread (Electrum's pattern), never the GUI thread.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import sqlite3
import threading
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, Literal, Self, TypeVar
from urllib.parse import quote

from sqlalchemy import URL, Connection, Engine, ScalarSelect, Select, Table, create_engine, event, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool

from hexdesk import __version__
from hexdesk.engine.enums import (
    OrderStatus,
)
from hexdesk.engine.errors import ErrorCode
from hexdesk.engine.events import Event, FundingSettled, OrderRejected, PositionLiquidated
from hexdesk.engine.fills import Fill
from hexdesk.engine.orders import Order
from hexdesk.storage import migrate
from hexdesk.storage.codec import dumps_event, loads_event
from hexdesk.storage.errors import (
    JournalClosed,
    JournalCorrupt,
    JournalError,
    JournalGap,
    JournalTooNew,
    JournalWriteError,
    SequenceGap,
    UnknownSession,
    write_failure_reason,
)
from hexdesk.storage.export import write_csv
from hexdesk.storage.tables import (
    DayNote,
    EventRecord,
    FillRecord,
    FundingRecord,
    LiquidationRecord,
    OrderRecord,
    PracticeSession,
    Screenshot,
    TradeTag,
)
from hexdesk.storage.tables import (
    TradeNote as TradeNoteRecord,
)
from hexdesk.storage.views import (
    FillRow,
    FundingRow,
    LiquidationRow,
    OrderRow,
    ResumePoint,
    ScreenshotRow,
    SessionMode,
    SessionStatus,
    SessionSummary,
    TradeNote,
)

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
ExportKind = Literal["fills", "orders", "events"]
IntegrityCheck = Literal["quick", "full", "off"]

_sessions = PracticeSession.__table__
_events = EventRecord.__table__
_orders = OrderRecord.__table__
_fills = FillRecord.__table__
_liquidations = LiquidationRecord.__table__
_funding = FundingRecord.__table__
_trade_notes = TradeNoteRecord.__table__
_trade_tags = TradeTag.__table__
_day_notes = DayNote.__table__
_screenshots = Screenshot.__table__
_NOTE_FIELDS = ("notes", "setup", "mistakes", "emotion", "rating")

_CHUNK = 500  # SQL parameters per IN (...) list


def _order_upsert() -> Any:
    """Insert an order's state, or overwrite the stored one unless the stored one came from a later event."""
    stmt = sqlite_insert(_orders)
    keep = ("id", "session_id", "order_id", "created_ms")
    return stmt.on_conflict_do_update(
        index_elements=[_orders.c.session_id, _orders.c.order_id],
        set_={c.name: stmt.excluded[c.name] for c in _orders.c if c.name not in keep},
        where=stmt.excluded.last_seq >= _orders.c.last_seq,
    )


# Built once: building the upsert's "excluded" columns costs more than executing it.
_ORDER_UPSERT = _order_upsert()
_LIQUIDATION_INSERT = sqlite_insert(_liquidations).on_conflict_do_nothing()
_FUNDING_INSERT = sqlite_insert(_funding).on_conflict_do_nothing()
_E = TypeVar("_E", bound=Enum)
_V = TypeVar("_V")


def _resume_json(resume: Mapping[str, Any] | None) -> str | None:
    """The resume state as stored: canonical JSON (sorted keys, no spaces), so equal states store equal text."""
    return None if resume is None else json.dumps(resume, sort_keys=True, separators=(",", ":"))


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(ts: datetime) -> str:
    if ts.tzinfo is None:
        raise ValueError("session timestamps must be timezone-aware")
    return ts.astimezone(UTC).isoformat(timespec="milliseconds")


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _opt_dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _opt_enum(cls: type[_E], value: Any) -> _E | None:
    return None if value is None else cls(value)


def _settings_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"session setting of type {type(value).__name__} is not JSON: {value!r}")


# ------------------------------------------------------------------------------------------- opening checks


def _inspect_existing(path: Path, integrity: IntegrityCheck) -> None:
    """Refuse (without writing a byte) a file that is not a healthy HexDesk journal."""
    if path.is_dir():
        raise JournalCorrupt(path, "is a directory, not a journal file")
    size = path.stat().st_size
    wal = path.with_name(path.name + "-wal")
    wal_has_data = wal.exists() and wal.stat().st_size > 0
    if size == 0 and not wal_has_data:
        return  # SQLite's own view too: an empty file is a new, empty database
    if size > 0:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
        if header != SQLITE_HEADER:
            raise JournalCorrupt(path, "not an SQLite database (bad file header)")
    # Read-only. Without a WAL to replay, "immutable" also keeps SQLite from creating -wal/-shm side files.
    uri = f"file:{quote(str(path.resolve()))}?mode=ro" + ("" if wal_has_data else "&immutable=1")
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise JournalCorrupt(path, f"cannot be opened: {exc}") from exc
    try:
        if integrity != "off":
            pragma = "quick_check" if integrity == "quick" else "integrity_check"
            problems = [row[0] for row in conn.execute(f"PRAGMA {pragma}")]
            if problems != ["ok"]:
                raise JournalCorrupt(path, f"{pragma} failed: " + "; ".join(problems[:5]))
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        user_tables = {t for t in tables if not t.startswith("sqlite_")}
        if app_id not in (0, migrate.APPLICATION_ID):
            raise JournalCorrupt(path, f"not a HexDesk journal (application_id {app_id:#x})")
        if user_tables and (app_id != migrate.APPLICATION_ID or "alembic_version" not in user_tables):
            raise JournalCorrupt(path, "not a HexDesk journal (an SQLite database of another program)")
        if "alembic_version" in user_tables:
            revisions = [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
            unknown = [r for r in revisions if r != migrate.HEAD and r not in migrate.known_revisions()]
            if unknown:
                raise JournalTooNew(path, unknown[0])
    except sqlite3.DatabaseError as exc:
        raise JournalCorrupt(path, str(exc)) from exc
    finally:
        conn.close()


def _configure_engine(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (transactional DDL, real BEGIN IMMEDIATE)
        cur = dbapi_conn.cursor()
        try:
            if wal:
                mode = cur.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if mode.lower() != "wal":
                    log.warning("journal: SQLite refused WAL mode (got %s); durability is still per commit", mode)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=5000")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("hexdesk_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


# ------------------------------------------------------------------------------------------------- Journal


class Journal:
    """Practice sessions and their event logs in one SQLite file. Build with ``open()`` or ``in_memory()``."""

    def __init__(self, engine: Engine, path: Path | None, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._path = path
        self._clock = clock
        self._lock = threading.RLock()
        self._closed = False
        self._memory_png: dict[str, bytes] = {}  # an in-memory journal's screenshots
        self._outer: Connection | None = None  # the open write transaction of transaction(), if any

    # ---- lifecycle

    @classmethod
    def open(
        cls, path: Path | str, *, integrity: IntegrityCheck = "quick", clock: Callable[[], datetime] = _utc_now
    ) -> Journal:
        """Open (or create) the journal at ``path`` and migrate it to the current schema.

        Raises ``JournalCorrupt`` if the file exists but is not a healthy HexDesk journal, ``JournalTooNew`` if a
        newer HexDesk wrote it; in both cases the file is left byte-for-byte as it was.
        """
        path = Path(path)
        if path.exists():
            _inspect_existing(path, integrity)
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(URL.create("sqlite", database=str(path)))
        _configure_engine(engine, wal=True)
        journal = cls(engine, path, clock)
        try:
            journal._migrate()
        except DBAPIError as exc:
            engine.dispose()
            if isinstance(exc.orig, sqlite3.DatabaseError) and not isinstance(exc.orig, sqlite3.OperationalError):
                raise JournalCorrupt(path, str(exc.orig)) from exc
            raise JournalError(f"{path}: cannot open the journal: {exc.orig}") from exc
        except BaseException:
            engine.dispose()
            raise
        try:
            journal.check_gaps()
        except BaseException:
            engine.dispose()
            raise
        return journal

    @classmethod
    def in_memory(cls, *, clock: Callable[[], datetime] = _utc_now) -> Journal:
        """A private in-memory journal (one shared connection): for tests and throwaway sessions."""
        engine = create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
        _configure_engine(engine, wal=False)
        journal = cls(engine, None, clock)
        journal._migrate()
        return journal

    def _migrate(self) -> None:
        with self._engine.connect() as conn:
            conn.execution_options(hexdesk_begin="IMMEDIATE")
            with conn.begin():
                if migrate.at_head(conn):
                    return  # the usual open: nothing to migrate, and no Alembic to import
                current = migrate.current_revision(conn)
                if current is not None and current != migrate.head_revision() and self._path is not None:
                    self.backup_before_migration = migrate.backup_copy(conn, self._path, current)
                migrate.upgrade_to_head(conn)

    backup_before_migration: Path | None = None
    """The copy of the file kept before this open migrated it (None: nothing was migrated)."""

    def check_gaps(self) -> None:
        """Raise :class:`JournalGap` naming the first session whose event log skips a seq, and that seq."""
        with self._read() as conn:
            rows = conn.exec_driver_sql(
                "SELECT session_id, COUNT(*), MIN(seq), MAX(seq) FROM events GROUP BY session_id ORDER BY session_id"
            ).all()
            for session_id, count, lo, hi in rows:
                if lo == 1 and hi == count:
                    continue
                if lo != 1:
                    raise JournalGap(self._path, session_id, 1)
                missing = conn.exec_driver_sql(
                    "SELECT e.seq + 1 FROM events e WHERE e.session_id = ? AND NOT EXISTS "
                    "(SELECT 1 FROM events n WHERE n.session_id = e.session_id AND n.seq = e.seq + 1) "
                    "ORDER BY e.seq LIMIT 1",
                    (session_id,),
                ).scalar()
                raise JournalGap(self._path, session_id, int(missing))

    @property
    def path(self) -> Path | None:
        """The file, or None for an in-memory journal."""
        return self._path

    def close(self) -> None:
        """Close every connection (the WAL is checkpointed into the main file). Idempotent."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Journal({str(self._path) if self._path else ':memory:'}{', closed' if self._closed else ''})"

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._lock:
            self._check_open()
            if self._outer is not None:  # inside transaction(): read what it has written so far
                yield self._outer
                return
            with self._engine.connect() as conn, conn.begin():
                yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction. A failed write (disk full, read-only, I/O) raises :class:`JournalWriteError`,
        with nothing of the transaction kept."""
        with self._lock:
            self._check_open()
            if self._outer is not None:  # inside transaction(): part of the one outer transaction
                yield self._outer
                return
            try:
                with self._engine.connect() as conn:
                    conn.execution_options(hexdesk_begin="IMMEDIATE")
                    with conn.begin():
                        self._outer = conn
                        try:
                            yield conn
                        finally:
                            self._outer = None
            except DBAPIError as exc:
                if isinstance(exc.orig, sqlite3.OperationalError):
                    raise JournalWriteError(self._path, write_failure_reason(str(exc.orig)), str(exc.orig)) from exc
                raise
            except sqlite3.OperationalError as exc:
                raise JournalWriteError(self._path, write_failure_reason(str(exc)), str(exc)) from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Make every journal call inside the block one transaction: all committed at the end, or none.

        For imports (a backup, a trade history) that must leave nothing behind when any part fails. The lock is
        held for the whole block, so other threads wait; keep it short.
        """
        with self._write():
            yield

    def _check_open(self) -> None:
        if self._closed:
            raise JournalClosed(f"{self!r} is closed")

    # ---- sessions

    def start_session(
        self,
        name: str,
        mode: SessionMode | str,
        dataset: str,
        start_balance: Decimal,
        settings: Mapping[str, Any] | None = None,
        *,
        app_version: str = __version__,
        journal_only: bool = False,
        blind: bool = False,
        archived_from_id: int | None = None,
        speed: float | None = None,
    ) -> int:
        """Create a practice session and return its id. ``settings`` must be JSON (Decimals/enums become str).

        ``journal_only``: imported real trades (fills, no events); ``blind``: the dates are hidden from the trader;
        ``archived_from_id``: the session a reset archived and this one copies.
        """
        mode = SessionMode(mode)
        if not isinstance(start_balance, Decimal):
            raise TypeError(f"start_balance must be a Decimal, not {type(start_balance).__name__}")
        settings_json = json.dumps(dict(settings or {}), sort_keys=True, default=_settings_default)
        now = _iso(self._clock())
        with self._write() as conn:
            result = conn.execute(
                _sessions.insert().values(
                    name=name,
                    started_at=now,
                    last_used_at=now,
                    status=SessionStatus.ACTIVE.value,
                    journal_only=journal_only,
                    blind=blind,
                    archived_from_id=archived_from_id,
                    speed=None if speed is None else repr(float(speed)),
                    ended_at=None,
                    mode=mode.value,
                    dataset=dataset,
                    start_balance=str(start_balance),
                    settings_json=settings_json,
                    app_version=app_version,
                    realized_pnl="0",
                    fees="0",
                    funding="0",
                )
            )
            session_id = result.inserted_primary_key[0]
        assert isinstance(session_id, int)
        return session_id

    def end_session(self, session_id: int) -> None:
        """Mark the session ended now (a second call keeps the first end time)."""
        with self._write() as conn:
            ended = conn.execute(select(_sessions.c.ended_at).where(_sessions.c.id == session_id)).first()
            if ended is None:
                raise UnknownSession(session_id)
            if ended[0] is None:
                conn.execute(
                    _sessions.update()
                    .where(_sessions.c.id == session_id)
                    .values(ended_at=_iso(self._clock()), status=SessionStatus.ENDED.value)
                )

    def sessions(self) -> list[SessionSummary]:
        """Every session, newest first, with counts and totals."""
        with self._read() as conn:
            return [self._summary(row) for row in conn.execute(self._summary_query().order_by(_sessions.c.id.desc()))]

    def session(self, session_id: int) -> SessionSummary:
        with self._read() as conn:
            row = conn.execute(self._summary_query().where(_sessions.c.id == session_id)).first()
        if row is None:
            raise UnknownSession(session_id)
        return self._summary(row)

    def rename_session(self, session_id: int, name: str) -> None:
        with self._write() as conn:
            self._require_session(conn, session_id)
            conn.execute(_sessions.update().where(_sessions.c.id == session_id).values(name=str(name)))

    def archive_session(self, session_id: int) -> None:
        """Keep the session read-only (a reset archives the old one and starts a copy); never deletes."""
        self._set_status(session_id, SessionStatus.ARCHIVED)

    def reactivate_session(self, session_id: int) -> None:
        self._set_status(session_id, SessionStatus.ACTIVE)

    def set_archived_from(self, session_id: int, archived_id: int) -> None:
        """Note that ``session_id`` is the fresh copy a reset made of ``archived_id``."""
        with self._write() as conn:
            self._require_session(conn, session_id)
            conn.execute(
                _sessions.update().where(_sessions.c.id == session_id).values(archived_from_id=archived_id)
            )

    def _set_status(self, session_id: int, status: SessionStatus) -> None:
        with self._write() as conn:
            self._require_session(conn, session_id)
            conn.execute(_sessions.update().where(_sessions.c.id == session_id).values(status=status.value))

    def delete_session(self, session_id: int) -> None:
        """Delete the session and everything of it (events, orders, fills, notes, screenshots rows) in one
        transaction. Screenshot files still referenced by another session are kept."""
        with self._write() as conn:
            self._require_session(conn, session_id)
            shas = set(
                conn.execute(select(_screenshots.c.sha256).where(_screenshots.c.session_id == session_id)).scalars()
            )
            conn.execute(_sessions.delete().where(_sessions.c.id == session_id))  # ON DELETE CASCADE does the rest
            still = set(
                conn.execute(select(_screenshots.c.sha256).where(_screenshots.c.sha256.in_(shas))).scalars()
            ) if shas else set()
        for sha in shas - still:
            self._memory_png.pop(sha, None)
            folder = self.screenshots_dir
            if folder is not None:
                (folder / f"{sha}.png").unlink(missing_ok=True)

    def touch_session(self, session_id: int) -> None:
        """Stamp the session as used now (the app resumes the last used active session)."""
        with self._write() as conn:
            self._require_session(conn, session_id)
            conn.execute(
                _sessions.update().where(_sessions.c.id == session_id).values(last_used_at=_iso(self._clock()))
            )

    def last_active_session(self) -> SessionSummary | None:
        """The active session used last (None: there is none), journal-only imports left out."""
        with self._read() as conn:
            row = conn.execute(
                self._summary_query()
                .where(_sessions.c.status == SessionStatus.ACTIVE.value, _sessions.c.journal_only.is_(False))
                .order_by(func.coalesce(_sessions.c.last_used_at, _sessions.c.started_at).desc(), _sessions.c.id.desc())
                .limit(1)
            ).first()
        return None if row is None else self._summary(row)

    @staticmethod
    def _summary_query() -> Select[Any]:
        sid = _sessions.c.id

        def count(table: Table) -> ScalarSelect[int]:
            return select(func.count()).select_from(table).where(table.c.session_id == sid).scalar_subquery()

        return select(
            _sessions,
            count(_events).label("event_count"),
            select(func.coalesce(func.max(_events.c.seq), 0))
            .where(_events.c.session_id == sid)
            .scalar_subquery()
            .label("last_seq"),
            count(_orders).label("order_count"),
            count(_fills).label("fill_count"),
            count(_liquidations).label("liquidation_count"),
        )

    @staticmethod
    def _summary(row: Any) -> SessionSummary:
        m = row._mapping
        return SessionSummary(
            id=m["id"],
            name=m["name"],
            mode=SessionMode(m["mode"]),
            dataset=m["dataset"],
            started_at=datetime.fromisoformat(m["started_at"]),
            ended_at=datetime.fromisoformat(m["ended_at"]) if m["ended_at"] else None,
            start_balance=Decimal(m["start_balance"]),
            app_version=m["app_version"],
            settings=json.loads(m["settings_json"]),
            event_count=m["event_count"],
            last_seq=m["last_seq"],
            order_count=m["order_count"],
            fill_count=m["fill_count"],
            liquidation_count=m["liquidation_count"],
            realized_pnl=Decimal(m["realized_pnl"]),
            fees=Decimal(m["fees"]),
            funding=Decimal(m["funding"]),
            status=SessionStatus(m["status"]),
            replay_ms=m["replay_ms"],
            speed=None if m["speed"] is None else float(m["speed"]),
            last_used_at=datetime.fromisoformat(m["last_used_at"]) if m["last_used_at"] else None,
            blind=bool(m["blind"]),
            journal_only=bool(m["journal_only"]),
            archived_from_id=m["archived_from_id"],
        )

    # ---- recording

    def record(
        self,
        session_id: int,
        events: Iterable[Event],
        *,
        replay_ms: int | None = None,
        speed: float | None = None,
        resume: Mapping[str, Any] | None = None,
    ) -> None:
        """Append events and the order/fill/liquidation/funding rows they imply, in one committed transaction.

        Idempotent per (session_id, seq): an event whose seq is already recorded (or repeated in the batch) is
        ignored, together with everything it implies. The new events must continue the stored log without a gap
        (the first is the stored last seq + 1, then one by one), else :class:`SequenceGap` and nothing is
        written. Nothing is written if any event fails to encode.

        ``replay_ms`` / ``speed`` / ``resume`` (the replay position and the opaque resume state) are written in the
        same transaction, so the stored position always belongs to the stored events; given alone (no event),
        they are written by themselves.
        """
        self._check_open()
        batch: list[tuple[Event, str]] = []
        for ev in events:
            if not isinstance(ev, Event):
                raise TypeError(f"not an engine event: {ev!r}")
            batch.append((ev, dumps_event(ev)))  # encode before the transaction: all or nothing
        position = replay_ms is not None or speed is not None or resume is not None
        if not batch and not position:
            return
        resume_json = _resume_json(resume)
        with self._write() as conn:
            totals = conn.execute(
                select(_sessions.c.realized_pnl, _sessions.c.fees, _sessions.c.funding).where(
                    _sessions.c.id == session_id
                )
            ).first()
            if totals is None:
                raise UnknownSession(session_id)
            new: list[tuple[Event, str]] = []
            if batch:
                last_seq = conn.execute(
                    select(func.coalesce(func.max(_events.c.seq), 0)).where(_events.c.session_id == session_id)
                ).scalar_one()
                seen: set[int] = set()
                for ev, payload in sorted(batch, key=lambda item: item[0].seq):
                    if ev.seq in seen:
                        continue
                    seen.add(ev.seq)
                    if ev.seq <= last_seq:
                        continue  # already recorded (the log has no gap below last_seq: see check_gaps)
                    if ev.seq != last_seq + 1:
                        raise SequenceGap(session_id, last_seq + 1, ev.seq)
                    last_seq = ev.seq
                    new.append((ev, payload))
            if new:
                conn.execute(
                    _events.insert(),
                    [
                        {"session_id": session_id, "seq": ev.seq, "ts_ms": ev.ts_ms, "type": type(ev).__name__,
                         "payload": payload}
                        for ev, payload in new
                    ],
                )
                self._project(conn, session_id, [ev for ev, _ in new], totals)
            if position:
                self._write_position(conn, session_id, replay_ms, speed, resume_json)

    @staticmethod
    def _write_position(
        conn: Connection, session_id: int, replay_ms: int | None, speed: float | None, resume_json: str | None
    ) -> None:
        values: dict[str, Any] = {}
        if replay_ms is not None:
            values["replay_ms"] = int(replay_ms)
        if speed is not None:
            values["speed"] = repr(float(speed))
        if resume_json is not None:
            values["resume_json"] = resume_json
        if values:
            conn.execute(_sessions.update().where(_sessions.c.id == session_id).values(**values))

    def set_replay_position(
        self, session_id: int, replay_ms: int | None, speed: float | None, resume: Mapping[str, Any] | None = None
    ) -> None:
        """Store where the replay stands (also written inside ``record()`` when given there)."""
        resume_json = _resume_json(resume)
        with self._write() as conn:
            self._require_session(conn, session_id)
            self._write_position(conn, session_id, replay_ms, speed, resume_json)

    def resume_point(self, session_id: int) -> ResumePoint:
        """The replay position and resume state stored with the session's last commit."""
        with self._read() as conn:
            row = conn.execute(
                select(_sessions.c.replay_ms, _sessions.c.speed, _sessions.c.resume_json).where(
                    _sessions.c.id == session_id
                )
            ).first()
        if row is None:
            raise UnknownSession(session_id)
        return ResumePoint(
            row.replay_ms,
            None if row.speed is None else float(row.speed),
            None if row.resume_json is None else json.loads(row.resume_json),
        )

    def _project(self, conn: Connection, session_id: int, events: Sequence[Event], totals: Any) -> None:
        order_rows: dict[int, dict[str, Any]] = {}
        rejected: list[dict[str, Any]] = []
        fills: dict[int, dict[str, Any]] = {}
        liquidations: list[dict[str, Any]] = []
        funding: list[dict[str, Any]] = []
        funding_sum = Decimal(0)

        for ev in events:
            order = getattr(ev, "order", None)
            if isinstance(order, Order):
                row = _order_row(session_id, ev.seq, order, getattr(ev, "reason", None))
                prev = order_rows.get(order.order_id)
                if prev is None or prev["last_seq"] <= ev.seq:
                    order_rows[order.order_id] = row
            if isinstance(ev, OrderRejected):
                rejected.append(_rejected_row(session_id, ev))
            fill = getattr(ev, "fill", None)
            if isinstance(fill, Fill) and fill.trade_id not in fills:
                fills[fill.trade_id] = _fill_row(session_id, ev.seq, fill)
            if isinstance(ev, PositionLiquidated):
                liquidations.append(_liquidation_row(session_id, ev))
            if isinstance(ev, FundingSettled):
                funding.append(_funding_row(session_id, ev))
                funding_sum += ev.amount

        if order_rows:
            conn.execute(_ORDER_UPSERT, list(order_rows.values()))
        if rejected:
            conn.execute(_orders.insert(), rejected)

        realized, fees = Decimal(0), Decimal(0)
        if fills:
            known: set[int] = set()
            ids = list(fills)
            for i in range(0, len(ids), _CHUNK):
                known.update(
                    conn.execute(
                        select(_fills.c.trade_id).where(
                            _fills.c.session_id == session_id, _fills.c.trade_id.in_(ids[i : i + _CHUNK])
                        )
                    ).scalars()
                )
            new_fills = [row for trade_id, row in fills.items() if trade_id not in known]
            if new_fills:
                conn.execute(_fills.insert(), new_fills)
                realized = sum((Decimal(r["realized_pnl"]) for r in new_fills), Decimal(0))
                fees = sum((Decimal(r["fee"]) for r in new_fills), Decimal(0))
        if liquidations:
            conn.execute(_LIQUIDATION_INSERT, liquidations)
        if funding:
            conn.execute(_FUNDING_INSERT, funding)

        if realized or fees or funding_sum:
            conn.execute(
                _sessions.update()
                .where(_sessions.c.id == session_id)
                .values(
                    realized_pnl=str(Decimal(totals.realized_pnl) + realized),
                    fees=str(Decimal(totals.fees) + fees),
                    funding=str(Decimal(totals.funding) + funding_sum),
                )
            )

    # ---- queries

    def events(
        self,
        session_id: int,
        *,
        after_seq: int = 0,
        before_seq: int | None = None,
        types: Sequence[str] | None = None,
    ) -> list[Event]:
        """The session's events (seq > ``after_seq``, and < ``before_seq`` if given; only the event classes named
        in ``types`` if given), decoded, in seq order: ready for ``rebuild()``."""
        query = select(_events.c.payload).where(_events.c.session_id == session_id, _events.c.seq > after_seq)
        if before_seq is not None:
            query = query.where(_events.c.seq < before_seq)
        if types is not None:
            query = query.where(_events.c.type.in_(list(types)))
        with self._read() as conn:
            self._require_session(conn, session_id)
            payloads = conn.execute(query.order_by(_events.c.seq)).scalars().all()
        return [loads_event(p) for p in payloads]

    def orders(self, session_id: int) -> list[OrderRow]:
        """Every order's latest state (rejections included), in the order they were placed."""
        with self._read() as conn:
            self._require_session(conn, session_id)
            rows = conn.execute(
                select(_orders).where(_orders.c.session_id == session_id).order_by(_orders.c.created_ms, _orders.c.id)
            ).all()
        return [_view(OrderRow, r._mapping) for r in rows]

    def fills(self, session_id: int) -> list[FillRow]:
        with self._read() as conn:
            self._require_session(conn, session_id)
            rows = conn.execute(
                select(_fills).where(_fills.c.session_id == session_id).order_by(_fills.c.seq, _fills.c.trade_id)
            ).all()
        return [_view(FillRow, r._mapping) for r in rows]

    def liquidations(self, session_id: int) -> list[LiquidationRow]:
        with self._read() as conn:
            self._require_session(conn, session_id)
            rows = conn.execute(
                select(_liquidations).where(_liquidations.c.session_id == session_id).order_by(_liquidations.c.seq)
            ).all()
        return [_view(LiquidationRow, r._mapping) for r in rows]

    def funding(self, session_id: int) -> list[FundingRow]:
        with self._read() as conn:
            self._require_session(conn, session_id)
            rows = conn.execute(
                select(_funding).where(_funding.c.session_id == session_id).order_by(_funding.c.seq)
            ).all()
        return [_view(FundingRow, r._mapping) for r in rows]

    @staticmethod
    def _require_session(conn: Connection, session_id: int) -> None:
        if conn.execute(select(_sessions.c.id).where(_sessions.c.id == session_id)).first() is None:
            raise UnknownSession(session_id)

    # ---- the trader's journal: trade notes and tags, day notes, screenshots

    def trade_note(self, session_id: int, trade_key: str) -> TradeNote | None:
        """The note of one round trip (None: never written, and no tag)."""
        with self._read() as conn:
            self._require_session(conn, session_id)
            notes = self._notes(conn, session_id, trade_key)
        return notes.get(trade_key)

    def trade_notes(self, session_id: int) -> dict[str, TradeNote]:
        """Every noted or tagged round trip of the session, by trade_key."""
        with self._read() as conn:
            self._require_session(conn, session_id)
            return self._notes(conn, session_id, None)

    @staticmethod
    def _notes(conn: Connection, session_id: int, trade_key: str | None) -> dict[str, TradeNote]:
        q_notes = select(_trade_notes).where(_trade_notes.c.session_id == session_id)
        q_tags = select(_trade_tags.c.trade_key, _trade_tags.c.tag).where(_trade_tags.c.session_id == session_id)
        if trade_key is not None:
            q_notes = q_notes.where(_trade_notes.c.trade_key == trade_key)
            q_tags = q_tags.where(_trade_tags.c.trade_key == trade_key)
        tags: dict[str, list[str]] = {}
        for key, tag in conn.execute(q_tags.order_by(_trade_tags.c.trade_key, _trade_tags.c.tag)):
            tags.setdefault(key, []).append(tag)
        out: dict[str, TradeNote] = {}
        for r in conn.execute(q_notes):
            m = r._mapping
            out[m["trade_key"]] = TradeNote(
                m["trade_key"], m["notes"], m["setup"], m["mistakes"], m["emotion"], m["rating"],
                tuple(tags.get(m["trade_key"], ())), datetime.fromisoformat(m["updated_at"]),
            )
        for key, key_tags in tags.items():
            if key not in out:
                out[key] = TradeNote(key, tags=tuple(key_tags))
        return out

    def save_trade_note(
        self,
        session_id: int,
        trade_key: str,
        *,
        notes: str | None = None,
        setup: str | None = None,
        mistakes: str | None = None,
        emotion: str | None = None,
        rating: int | None = None,
        tags: Sequence[str] | None = None,
    ) -> None:
        """Save the given fields of a trade's note (None = leave unchanged; ``rating=0`` clears it; ``tags``
        replaces the set of tags) in one transaction: called as the trader types, it survives a crash."""
        if rating is not None and (type(rating) is not int or not 0 <= rating <= 5):
            raise ValueError(f"rating must be 1..5 (0 clears it), got {rating!r}")
        given = {"notes": notes, "setup": setup, "mistakes": mistakes, "emotion": emotion}
        values: dict[str, Any] = {k: str(v) for k, v in given.items() if v is not None}
        if rating is not None:
            values["rating"] = rating or None
        clean_tags = None if tags is None else sorted({t.strip() for t in tags if t and t.strip()})
        now = _iso(self._clock())
        with self._write() as conn:
            self._require_session(conn, session_id)
            if values or clean_tags is not None:
                insert = sqlite_insert(_trade_notes).values(
                    session_id=session_id, trade_key=trade_key, notes=values.get("notes", ""),
                    setup=values.get("setup", ""), mistakes=values.get("mistakes", ""),
                    emotion=values.get("emotion", ""), rating=values.get("rating"), updated_at=now,
                )
                conn.execute(
                    insert.on_conflict_do_update(
                        index_elements=[_trade_notes.c.session_id, _trade_notes.c.trade_key],
                        set_={**values, "updated_at": now},
                    )
                )
            if clean_tags is not None:
                conn.execute(
                    _trade_tags.delete().where(
                        _trade_tags.c.session_id == session_id, _trade_tags.c.trade_key == trade_key
                    )
                )
                if clean_tags:
                    conn.execute(
                        _trade_tags.insert(),
                        [{"session_id": session_id, "trade_key": trade_key, "tag": t} for t in clean_tags],
                    )

    def day_note(self, session_id: int, day: str) -> str:
        """The note of one session day ('YYYY-MM-DD'); "" when none."""
        with self._read() as conn:
            self._require_session(conn, session_id)
            text = conn.execute(
                select(_day_notes.c.text).where(_day_notes.c.session_id == session_id, _day_notes.c.day == day)
            ).scalar()
        return text or ""

    def day_notes(self, session_id: int) -> dict[str, str]:
        with self._read() as conn:
            self._require_session(conn, session_id)
            rows = conn.execute(
                select(_day_notes.c.day, _day_notes.c.text)
                .where(_day_notes.c.session_id == session_id)
                .order_by(_day_notes.c.day)
            ).all()
        return {r.day: r.text for r in rows}

    def save_day_note(self, session_id: int, day: str, text: str) -> None:
        datetime.strptime(day, "%Y-%m-%d")  # ValueError for anything but a calendar day
        now = _iso(self._clock())
        with self._write() as conn:
            self._require_session(conn, session_id)
            insert = sqlite_insert(_day_notes).values(session_id=session_id, day=day, text=str(text), updated_at=now)
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[_day_notes.c.session_id, _day_notes.c.day],
                    set_={"text": str(text), "updated_at": now},
                )
            )

    @property
    def screenshots_dir(self) -> Path | None:
        """``<journal folder>/screenshots`` (None for an in-memory journal)."""
        return None if self._path is None else self._path.parent / "screenshots"

    def add_screenshot(self, session_id: int, trade_key: str, kind: str, png: bytes, ts_ms: int) -> str:
        """Keep a chart screenshot of a trade: the PNG goes to ``screenshots/<sha256>.png`` (written whole, then
        renamed; identical images are stored once), the row to the journal. Returns the sha256."""
        if kind not in ("entry", "exit"):
            raise ValueError(f"kind must be 'entry' or 'exit', got {kind!r}")
        if not isinstance(png, bytes | bytearray) or not bytes(png).startswith(b"\x89PNG\r\n\x1a\n"):
            raise ValueError("png must be the bytes of a PNG image")
        sha = hashlib.sha256(png).hexdigest()
        folder = self.screenshots_dir
        if folder is None:
            self._memory_png[sha] = bytes(png)
        else:
            target = folder / f"{sha}.png"
            if not target.exists():
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                    tmp = target.with_name(target.name + ".part")
                    tmp.write_bytes(png)
                    os.replace(tmp, target)
                except OSError as exc:
                    raise JournalWriteError(self._path, write_failure_reason(str(exc)), str(exc)) from exc
        with self._write() as conn:
            self._require_session(conn, session_id)
            conn.execute(
                _screenshots.insert().values(
                    session_id=session_id, trade_key=trade_key, kind=kind, sha256=sha, ts_ms=int(ts_ms),
                    created_at=_iso(self._clock()),
                )
            )
        return sha

    def screenshots(self, session_id: int, trade_key: str) -> list[ScreenshotRow]:
        folder = self.screenshots_dir
        with self._read() as conn:
            self._require_session(conn, session_id)
            rows = conn.execute(
                select(_screenshots)
                .where(_screenshots.c.session_id == session_id, _screenshots.c.trade_key == trade_key)
                .order_by(_screenshots.c.ts_ms, _screenshots.c.id)
            ).all()
        return [
            ScreenshotRow(
                r.trade_key, r.kind, r.sha256, r.ts_ms, datetime.fromisoformat(r.created_at),
                None if folder is None else folder / f"{r.sha256}.png",
            )
            for r in rows
        ]

    def screenshot_png(self, sha256: str) -> bytes:
        """The PNG bytes of a stored screenshot (FileNotFoundError if its file is gone)."""
        folder = self.screenshots_dir
        if folder is None:
            try:
                return self._memory_png[sha256]
            except KeyError:
                raise FileNotFoundError(sha256) from None
        return (folder / f"{sha256}.png").read_bytes()

    # ---- imported real trades (journal-only sessions)

    def record_imported_fills(self, session_id: int, fills: Sequence[Any]) -> None:
        """Store real fills (FillRow-like: the fields of ``FillRow``; ``seq`` may be absent) in a journal-only
        session, all in one transaction. The fee asset is kept as given; the session's USDT fee total counts only
        USDT fees (a BNB fee is never added to USDT)."""
        with self._write() as conn:
            row = conn.execute(
                select(_sessions.c.journal_only, _sessions.c.realized_pnl, _sessions.c.fees).where(
                    _sessions.c.id == session_id
                )
            ).first()
            if row is None:
                raise UnknownSession(session_id)
            if not row.journal_only:
                raise ValueError(f"session {session_id} is not journal-only: its fills come from its events")
            base = conn.execute(
                select(func.coalesce(func.max(_fills.c.seq), 0)).where(_fills.c.session_id == session_id)
            ).scalar_one()
            rows = []
            for i, f in enumerate(fills, start=1):
                rows.append(
                    {
                        "session_id": session_id,
                        "seq": int(getattr(f, "seq", None) or base + i),
                        "trade_id": int(f.trade_id),
                        "order_id": int(f.order_id),
                        "symbol": str(f.symbol),
                        "side": getattr(f.side, "value", f.side),
                        "price": str(f.price),
                        "quantity": str(f.quantity),
                        "fee": str(f.fee),
                        "fee_asset": str(f.fee_asset),
                        "role": getattr(f.role, "value", f.role),
                        "realized_pnl": str(f.realized_pnl),
                        "ts_ms": int(f.ts_ms),
                        "is_liquidation": bool(getattr(f, "is_liquidation", False)),
                    }
                )
            if not rows:
                return
            conn.execute(_fills.insert(), rows)
            realized = sum((Decimal(r["realized_pnl"]) for r in rows), Decimal(0))
            fees = sum((Decimal(r["fee"]) for r in rows if r["fee_asset"] == "USDT"), Decimal(0))
            conn.execute(
                _sessions.update()
                .where(_sessions.c.id == session_id)
                .values(
                    realized_pnl=str(Decimal(row.realized_pnl) + realized), fees=str(Decimal(row.fees) + fees)
                )
            )

    # ---- export

    def export_csv(self, session_id: int, kind: ExportKind, path: Path | str) -> int:
        """Write the session's fills, orders or events as CSV (header row; Decimals exact, in plain notation).

        The file is written next to ``path`` and renamed into place, so a reader never sees half a file.
        Returns the number of data rows.
        """
        path = Path(path)
        header: list[str]
        rows: list[list[Any]]
        if kind == "events":
            with self._read() as conn:
                self._require_session(conn, session_id)
                records = conn.execute(
                    select(_events.c.seq, _events.c.ts_ms, _events.c.type, _events.c.payload)
                    .where(_events.c.session_id == session_id)
                    .order_by(_events.c.seq)
                ).all()
            header = ["seq", "ts_ms", "type", "payload"]
            rows = [[str(r.seq), str(r.ts_ms), r.type, r.payload] for r in records]
        elif kind in ("fills", "orders"):
            items: list[Any] = self.fills(session_id) if kind == "fills" else self.orders(session_id)
            view_cls = FillRow if kind == "fills" else OrderRow
            header = [f.name for f in dataclasses.fields(view_cls)]
            rows = [[getattr(item, name) for name in header] for item in items]
        else:
            raise ValueError(f"unknown export kind {kind!r} (fills, orders or events)")
        return write_csv(path, header, rows)  # storage.export: exact numbers, formula cells escaped


# --------------------------------------------------------------------------------------------- row mapping


def _order_row(session_id: int, seq: int, order: Order, reason: object) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "order_id": order.order_id,
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "type": order.type.value,
        "quantity": str(order.quantity),
        "price": str(order.price),
        "stop_price": str(order.stop_price),
        "time_in_force": order.time_in_force.value,
        "reduce_only": order.reduce_only,
        "close_position": order.close_position,
        "working_type": order.working_type.value,
        "price_protect": order.price_protect,
        "triggered": order.triggered,
        "parent_order_id": order.parent_order_id,
        "status": order.status.value,
        "executed_qty": str(order.executed_qty),
        "avg_price": str(order.avg_price),
        "created_ms": order.created_ms,
        "updated_ms": order.updated_ms,
        "reject_code": None,
        "reject_msg": None,
        "end_reason": reason if isinstance(reason, str) else None,
        "last_seq": seq,
    }


def _rejected_row(session_id: int, ev: OrderRejected) -> dict[str, Any]:
    req = ev.request
    return {
        "session_id": session_id,
        "order_id": None,
        "client_order_id": req.client_order_id,
        "symbol": req.symbol,
        "side": req.side.value,
        "type": req.type.value,
        "quantity": _dec(req.quantity),
        "price": _dec(req.price),
        "stop_price": _dec(req.stop_price),
        "time_in_force": req.time_in_force.value if req.time_in_force else None,
        "reduce_only": req.reduce_only,
        "close_position": req.close_position,
        "working_type": req.working_type.value,
        "price_protect": req.price_protect,
        "triggered": False,
        "parent_order_id": None,
        "status": OrderStatus.REJECTED.value,
        "executed_qty": "0",
        "avg_price": "0",
        "created_ms": ev.ts_ms,
        "updated_ms": ev.ts_ms,
        "reject_code": int(ev.code),
        "reject_msg": ev.msg,
        "end_reason": None,
        "last_seq": ev.seq,
    }


def _fill_row(session_id: int, seq: int, fill: Fill) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "seq": seq,
        "trade_id": fill.trade_id,
        "order_id": fill.order_id,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "price": str(fill.price),
        "quantity": str(fill.quantity),
        "fee": str(fill.fee),
        "fee_asset": fill.fee_asset,
        "role": fill.role.value,
        "realized_pnl": str(fill.realized_pnl),
        "ts_ms": fill.ts_ms,
        "is_liquidation": fill.is_liquidation,
    }


def _liquidation_row(session_id: int, ev: PositionLiquidated) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "seq": ev.seq,
        "ts_ms": ev.ts_ms,
        "symbol": ev.symbol,
        "margin_mode": ev.margin_mode.value,
        "side": ev.side.value,
        "quantity": str(ev.quantity),
        "entry_price": str(ev.entry_price),
        "mark_price": str(ev.mark_price),
        "bankruptcy_price": str(ev.bankruptcy_price),
        "liquidation_fee": str(ev.liquidation_fee),
        "margin_lost": str(ev.margin_lost),
        "insurance_fund_cover": str(ev.insurance_fund_cover),
        "trade_id": ev.fill.trade_id,
    }


def _funding_row(session_id: int, ev: FundingSettled) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "seq": ev.seq,
        "ts_ms": ev.ts_ms,
        "symbol": ev.symbol,
        "funding_rate": str(ev.funding_rate),
        "mark_price": str(ev.mark_price),
        "position_qty": str(ev.position_qty),
        "amount": str(ev.amount),
    }


def _error_code(code: int | None) -> ErrorCode | int | None:
    if code is None:
        return None
    try:
        return ErrorCode(code)
    except ValueError:
        return code  # a code a later engine added: keep the number


@cache
def _field_types(cls: type) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """Each field of a view and the types it may hold (a union's members, None left out)."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        members = typing.get_args(tp) if typing.get_origin(tp) in (typing.Union, types.UnionType) else (tp,)
        out.append((f.name, tuple(t for t in members if t is not type(None))))
    return tuple(out)


def _column_value(types_: tuple[Any, ...], value: Any) -> Any:
    """A column's value as its field's type: TEXT decimals, enum values, SQLite's 0/1 booleans.

    An enum value this build does not know (an error code a later engine added) falls through to the next
    member of the union (``ErrorCode | int``), so nothing read from a file is lost.
    """
    if value is None:
        return None
    for tp in types_:
        if tp is bool:
            return bool(value)
        if tp is Decimal:
            return Decimal(value)
        if isinstance(tp, type) and issubclass(tp, Enum):
            try:
                return tp(value)
            except ValueError:
                continue
        if tp in (int, str):
            return tp(value)
    return value


def _view(cls: type[_V], m: Mapping[str, Any]) -> _V:
    """A frozen view (OrderRow, FillRow, ...) from a table row: the UI never sees a table row."""
    return cls(**{name: _column_value(types_, m[name]) for name, types_ in _field_types(cls)})

