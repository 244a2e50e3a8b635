"""Export and import for the File menu: CSV of trades/fills/orders, a session backup, and real Binance trades.

Qt-free; the dialogs (hexdesk/ui/import_export.py) call these with a path and show the message. Every import is
all-or-nothing: the file is read and validated completely, then written in one journal transaction.

* ``export_session(desk, kind, path)`` -> rows written. ``kind``: ``trades`` (round trips, ``desk.trades()``),
  ``fills``, ``orders`` (from the journal), ``backup`` (the session as versioned JSON).
* ``restore_backup(journal, path)`` -> ``ImportOutcome`` (a new session from a backup).
* ``import_binance_trades(journal, path, name)`` -> ``ImportOutcome`` (a journal-only session of real fills).
* ``import_file(journal, path)``: either, by content (a JSON object is a backup, anything else a trade history).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from hexdesk.engine.fills import Fill
from hexdesk.storage.backup import BackupError, read_backup, restore, write_backup
from hexdesk.storage.binance_import import SOURCE, TradeHistoryError, read_trade_history, to_fill_rows
from hexdesk.storage.export import export_dataclasses_csv, export_trades_csv
from hexdesk.storage.trades import Trade

if TYPE_CHECKING:  # sqlmodel / SQLAlchemy load with the journal, after the first paint (issue 10.3)
    from hexdesk.storage.journal import Journal

ExportKind = Literal["trades", "fills", "orders", "backup"]
EXPORT_KINDS: tuple[ExportKind, ...] = ("trades", "fills", "orders", "backup")
ImportKind = Literal["backup", "binance"]


class TransferError(Exception):
    """An export or import that cannot be done; the message is for the user (it names the first bad record)."""


class _Desk(Protocol):  # what export needs of a TradingDesk
    journal: Journal | None
    session_id: int | None

    def fills(self) -> list[Fill]: ...

    def trades(self) -> list[Trade]: ...


@dataclass(frozen=True)
class ImportOutcome:
    """What an import created, and what the user should be told about it."""

    kind: ImportKind
    session_id: int
    name: str
    count: int  # events (backup) or fills (trade history)
    warnings: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()  # rows dropped because they repeat a trade id
    fee_totals: Mapping[str, Decimal] = field(default_factory=dict)  # per asset, never summed across assets

    @property
    def message(self) -> str:
        what = "events" if self.kind == "backup" else "fills"
        text = f"Imported {self.count} {what} into session #{self.session_id} “{self.name}”."
        if self.duplicates:
            text += f" {len(self.duplicates)} repeated row(s) skipped."
        if len(self.fee_totals) > 1:
            fees = ", ".join(f"{format(v, 'f')} {k}" for k, v in sorted(self.fee_totals.items()))
            text += f" Fees kept per coin: {fees}."
        return text


# --------------------------------------------------------------------------------------------------- export


def _journal_session(desk: _Desk, what: str) -> tuple[Journal, int]:
    if desk.journal is None or desk.session_id is None:
        raise TransferError(f"This session has no journal, so there is no {what} to export (start with a --db).")
    return desk.journal, desk.session_id


def export_session(desk: _Desk, kind: ExportKind, path: Path | str) -> int:
    """Write the desk's session as ``kind`` to ``path``; returns the number of rows (events for a backup)."""
    if kind == "trades":
        return export_trades_csv(desk.trades(), path)
    if kind == "fills":
        if desk.journal is None or desk.session_id is None:
            return export_dataclasses_csv(desk.fills(), path, row_type=Fill)  # what this run has seen
        return desk.journal.export_csv(desk.session_id, "fills", path)
    if kind == "orders":
        journal, sid = _journal_session(desk, "order history")
        return journal.export_csv(sid, "orders", path)
    if kind == "backup":
        journal, sid = _journal_session(desk, "session")
        return write_backup(journal, sid, path)
    raise ValueError(f"unknown export kind {kind!r} (one of {', '.join(EXPORT_KINDS)})")


def backup_session(journal: Journal, session_id: int, path: Path | str) -> int:
    """Write a stored session's backup (any session, not only the open one); returns the event count."""
    return write_backup(journal, session_id, path)


# --------------------------------------------------------------------------------------------------- import


def restore_backup(journal: Journal, path: Path | str, *, name: str | None = None) -> ImportOutcome:
    """A new session from a backup file, or ``TransferError`` naming the first bad record (nothing imported)."""
    try:
        backup = read_backup(path)
        session_id = restore(journal, backup, name=name)
    except BackupError as exc:
        raise TransferError(f"{Path(path).name}: {exc}. Nothing was imported.") from exc
    return ImportOutcome(
        kind="backup",
        session_id=session_id,
        name=journal.session(session_id).name,
        count=len(backup.events) or len(backup.fills),
    )


def import_binance_trades(journal: Journal, path: Path | str, name: str | None = None) -> ImportOutcome:
    """Import Binance's Futures "Export Trade History" CSV into a new journal-only session.

    Raises ``TransferError`` (a malformed row named by line and reason; nothing imported).
    """
    path = Path(path)
    try:
        history = read_trade_history(path)
    except TradeHistoryError as exc:
        raise TransferError(str(exc)) from exc
    rows = to_fill_rows(history)
    session_name = name or f"Binance trades · {path.name}"
    settings: dict[str, Any] = {
        "source": SOURCE,
        "file": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "fills": len(rows),
        "symbols": sorted({f.symbol for f in history.fills}),
        "first_ms": history.fills[0].ts_ms,
        "last_ms": history.fills[-1].ts_ms,
        "fee_totals": {asset: format(total, "f") for asset, total in sorted(history.fee_totals.items())},
        "other_asset_fee_fills": [f.line for f in history.other_asset_fee_fills],
        "duplicates_dropped": len(history.duplicates),
    }
    with journal.transaction():
        session_id = journal.start_session(
            session_name, "live", f"binance:{path.name}", Decimal(0), settings,
            journal_only=True,
        )
        journal.record_imported_fills(session_id, rows)
    return ImportOutcome(
        kind="binance",
        session_id=session_id,
        name=session_name,
        count=len(rows),
        warnings=history.warnings,
        duplicates=history.duplicates,
        fee_totals=dict(history.fee_totals),
    )


def import_kind(path: Path | str) -> ImportKind:
    """``backup`` for a JSON object file, else ``binance`` (a CSV trade history)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as exc:
        raise TransferError(f"{path.name}: cannot be read: {exc.strerror or exc}") from exc
    return "backup" if head.startswith(b"{") or path.suffix.lower() == ".json" else "binance"


def import_file(journal: Journal, path: Path | str, *, name: str | None = None) -> ImportOutcome:
    """Import a backup or a Binance trade history, whichever the file is."""
    if import_kind(path) == "backup":
        return restore_backup(journal, path, name=name)
    return import_binance_trades(journal, path, name)
