"""File > Export… and File > Import…: thin dialogs over hexdesk.service.transfer (the menu bar connects to them).

For the menu (sessui):
    export_dialog(window, desk, kind=None, path=None) -> int | None    asks what (trades, fills, orders, backup) and
                                                                       where, writes, tells the row count
    import_dialog(window, journal, path=None, on_imported=None) -> ImportOutcome | None
                                                                       asks for a backup (.json) or a Binance trade
                                                                       history (.csv), imports it into a NEW session,
                                                                       then calls on_imported(outcome) (e.g. to open
                                                                       outcome.session_id)
The path-taking halves are public (``export_to``, ``import_from``) so tests never open a file dialog. Errors are
shown in a non-blocking message box naming the first bad record ("line 7: price 'abc' is not a number").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow, QMessageBox, QWidget

from hexdesk.service import EXPORT_KINDS, ExportKind, ImportOutcome, TradingDesk, TransferError
from hexdesk.service.transfer import export_session, import_file

if TYPE_CHECKING:
    from hexdesk.storage.journal import Journal

KIND_LABELS: dict[ExportKind, str] = {
    "trades": "Trades (round trips, CSV)",
    "fills": "Fills (CSV)",
    "orders": "Orders (CSV)",
    "backup": "Session backup (JSON, can be imported)",
}
_FILTERS: dict[ExportKind, str] = {
    "trades": "CSV files (*.csv)",
    "fills": "CSV files (*.csv)",
    "orders": "CSV files (*.csv)",
    "backup": "HexDesk session backup (*.json)",
}
IMPORT_FILTER = "HexDesk backup or Binance trade history (*.json *.csv);;All files (*)"


# ------------------------------------------------------------------------------------------- path-taking


def export_to(desk: TradingDesk, path: Path | str, kind: ExportKind) -> int:
    """Export the desk's session as ``kind`` to ``path``; returns the rows written. Raises ``TransferError``."""
    return export_session(desk, kind, path)


def import_from(journal: Journal | None, path: Path | str, *, name: str | None = None) -> ImportOutcome:
    """Import a backup or a Binance trade history into a new session. Raises ``TransferError``."""
    if journal is None:
        raise TransferError("This session has no journal to import into (start HexDesk with a --db).")
    return import_file(journal, path, name=name)


def export_message(kind: ExportKind, count: int, path: Path | str) -> str:
    noun = {"trades": "trade", "fills": "fill", "orders": "order", "backup": "event"}[kind]
    what = "Backed up" if kind == "backup" else "Exported"
    return f"{what} {count} {noun}{'' if count == 1 else 's'} to {Path(path).name}"


def default_file_name(desk: TradingDesk, kind: ExportKind) -> str:
    session = f"session-{desk.session_id}" if desk.session_id is not None else "session"
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", f"hexdesk-{session}-{kind}").strip("-")
    return base + (".json" if kind == "backup" else ".csv")


# --------------------------------------------------------------------------------------------- dialogs


def show_status(window: QWidget, text: str) -> None:
    """A short confirmation where the window shows its messages."""
    show = getattr(window, "show_message", None)
    if callable(show):
        show(text, "info")
    elif isinstance(window, QMainWindow):
        window.statusBar().showMessage(text, 10_000)


def show_error(window: QWidget, title: str, text: str) -> QMessageBox:
    """A window-modal, non-blocking error box (``open()``, not ``exec()``): returns it for tests."""
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, window)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.open()
    return box


def _show_notes(window: QWidget, title: str, text: str, details: list[str]) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, window)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setDetailedText("\n".join(details))
    box.open()
    return box


def export_dialog(
    window: QWidget, desk: TradingDesk, kind: ExportKind | None = None, path: Path | str | None = None
) -> int | None:
    """Ask what to export and where (unless given), write it, and say how many rows. None if cancelled/failed."""
    if kind is None:
        labels = [KIND_LABELS[k] for k in EXPORT_KINDS]
        label, ok = QInputDialog.getItem(window, "Export", "What to export:", labels, 0, False)
        if not ok:
            return None
        kind = EXPORT_KINDS[labels.index(label)]
    if path is None:
        chosen, _ = QFileDialog.getSaveFileName(
            window, f"Export {KIND_LABELS[kind]}", default_file_name(desk, kind), _FILTERS[kind]
        )
        if not chosen:
            return None
        path = chosen
    try:
        count = export_to(desk, path, kind)
    except (TransferError, OSError) as exc:
        show_error(window, "Export failed", str(exc))
        return None
    show_status(window, export_message(kind, count, path))
    return count


def import_dialog(
    window: QWidget,
    journal: Journal | None,
    path: Path | str | None = None,
    on_imported: Callable[[ImportOutcome], None] | None = None,
) -> ImportOutcome | None:
    """Ask for a file (unless given) and import it into a new session; errors name the first bad record."""
    if path is None:
        chosen, _ = QFileDialog.getOpenFileName(window, "Import a backup or a Binance trade history", "", IMPORT_FILTER)
        if not chosen:
            return None
        path = chosen
    try:
        outcome = import_from(journal, path)
    except (TransferError, OSError) as exc:
        show_error(window, "Import failed", str(exc))
        return None
    show_status(window, outcome.message)
    notes = [*outcome.duplicates, *outcome.warnings]
    if notes:
        _show_notes(window, "Imported, with notes", outcome.message, notes)
    if on_imported is not None:
        on_imported(outcome)
    return outcome
