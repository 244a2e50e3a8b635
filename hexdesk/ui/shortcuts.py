"""Keyboard first (issue 10.5): one table of shortcuts that both installs them and renders the F1 sheet.

A plain key (no Ctrl / Alt) is text when a text field has the focus: B typed into the size field must be a "b"
for the field, never a Buy. Qt asks the focus widget first with a ShortcutOverride event; :class:`TypingGuard`, an
application-wide event filter, answers it "the field takes this key" for every plain-key shortcut while a text
field (line edit, spin box, editable combo, text edit) has the focus. Keys with Ctrl, F1 and Esc stay shortcuts
everywhere (Esc clears the ticket from inside a field too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True, slots=True)
class Shortcut:
    """One shortcut: its key (QKeySequence's portable text), the handler's name, what it does."""

    key: str
    action: str
    description: str


#: Every HexDesk shortcut. Installing and the F1 sheet both read this table: a new shortcut is one line here and a
#: method of the handler object (``hexdesk.ui.desktop.DeskKeys``).
SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("Space", "play_pause", "Play / pause the replay"),
    Shortcut("Right", "step", "Step the replay one price (while paused)"),
    Shortcut("B", "buy_focus", "Buy: the size field takes the focus, Enter will send Buy / Long"),
    Shortcut("S", "sell_focus", "Sell: the size field takes the focus, Enter will send Sell / Short"),
    Shortcut("Return", "send", "Send the order for the side chosen with B / S (or the one the stop-loss implies)"),
    Shortcut("Enter", "send", "Send (the keypad's Enter)"),
    Shortcut("Esc", "clear_ticket", "Clear the ticket: size, take-profit, stop-loss and the chosen side"),
    Shortcut("Ctrl+Shift+C", "close_position", "Close the ticket symbol's position at market (asks first)"),
    Shortcut("Ctrl+Shift+X", "cancel_orders", "Cancel every open order of the ticket's symbol"),
    Shortcut("F1", "show_sheet", "This sheet of keyboard shortcuts"),
)

_CHORD = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier
_EVERYWHERE = {Qt.Key.Key_Escape, Qt.Key.Key_F1}


def key_text(key: str | QKeySequence) -> str:
    """A key as the platform writes it ("Ctrl+Shift+X", "⌃⇧X" on macOS)."""
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)


def typing_keys(table: tuple[Shortcut, ...] = SHORTCUTS) -> frozenset[Qt.Key]:
    """The table's plain keys: the ones a text field keeps for itself while it has the focus."""
    keys = set()
    for s in table:
        combo = QKeySequence(s.key)[0]
        if not (combo.keyboardModifiers() & _CHORD) and combo.key() not in _EVERYWHERE:
            keys.add(combo.key())
    return frozenset(keys)


def is_text_entry(widget: QObject | None) -> bool:
    """Does ``widget`` take typed text (so B, S, Space, arrows and Enter are keys for it)?"""
    if isinstance(widget, QLineEdit | QAbstractSpinBox | QTextEdit | QPlainTextEdit):
        return True
    return isinstance(widget, QComboBox) and widget.isEditable()


class TypingGuard(QObject):
    """Application event filter: a plain-key shortcut yields to the text field that has the focus."""

    def __init__(self, keys: frozenset[Qt.Key], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.keys = keys

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() in self.keys
            and not (event.modifiers() & _CHORD)
            and is_text_entry(QApplication.focusWidget())
        ):
            event.accept()  # the field takes the key as a key press: no shortcut fires
            return True
        return False


def install(window: QMainWindow, handlers: object, table: tuple[Shortcut, ...] = SHORTCUTS) -> dict[str, QAction]:
    """Install the table's shortcuts on ``window``, calling ``handlers.<action>()``; returns them by key.

    A key the window already has an action for (Space: play / pause) keeps that action (two actions on one key are
    ambiguous to Qt and neither would fire); the table only documents it.
    """
    existing = {a.shortcut().toString(): a for a in window.findChildren(QAction) if not a.shortcut().isEmpty()}
    installed: dict[str, QAction] = {}
    for s in table:
        portable = QKeySequence(s.key).toString()
        action = existing.get(portable)
        if action is None:
            handler: Callable[[], object] = getattr(handlers, s.action)
            action = QAction(s.description, window)
            action.setShortcut(QKeySequence(s.key))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(lambda _checked=False, h=handler: h())
            window.addAction(action)
        action.setToolTip(f"{s.description} ({key_text(s.key)})")
        action.setProperty("shortcutSheet", s.description)
        installed[portable] = action
    app = QApplication.instance()
    if app is not None:
        guard = TypingGuard(typing_keys(table), window)
        app.installEventFilter(guard)
        window.setProperty("typingGuard", guard)
    return installed


def sheet_rows(window: QWidget, table: tuple[Shortcut, ...] = SHORTCUTS) -> list[tuple[str, str]]:
    """(key, what it does) for every shortcut of ``window``: the table's first, then any other action or QShortcut
    with a key (the menus' Quit, Statistics, sessions...), so the sheet never misses one."""
    rows = [(key_text(s.key), s.description) for s in table]
    seen = {QKeySequence(s.key).toString() for s in table}
    for action in window.findChildren(QAction):
        for seq in action.shortcuts():
            portable = seq.toString()
            if portable and portable not in seen:
                seen.add(portable)
                rows.append((key_text(seq), _what(action)))
    for shortcut in window.findChildren(QShortcut):
        portable = shortcut.key().toString()
        if portable and portable not in seen:
            seen.add(portable)
            rows.append((key_text(shortcut.key()), shortcut.whatsThis() or shortcut.objectName() or portable))
    return rows


def _what(action: QAction) -> str:
    """What an action's key does: its tooltip (it says more than the menu text), or, while the action is disabled
    and its tooltip says why, the menu text and the reason ("New session — sessions need the journal...")."""
    text = action.text().replace("&", "").rstrip("…").strip()
    tip = action.toolTip().replace("&", "").rstrip("…").strip()
    if not action.isEnabled() and tip and tip != text:
        return f"{text} — {tip[0].lower()}{tip[1:]}"
    return tip or text


class ShortcutSheet(QDialog):
    """F1: every shortcut in a two-column table (key, what it does)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("shortcutSheet")
        self.setWindowTitle("Keyboard shortcuts")
        rows = sheet_rows(window)
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setHorizontalHeaderLabels(["Key", "What it does"])
        for r, (key, what) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(key))
            self.table.setItem(r, 1, QTableWidgetItem(what))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        note = QLabel("Plain keys (B, S, Space, arrows, Enter) type into a text field that has the focus; "
                      "Esc, F1 and the Ctrl keys work everywhere.", wordWrap=True)
        note.setProperty("role", "caption")
        col = QVBoxLayout(self)
        col.addWidget(self.table)
        col.addWidget(note)
        self.resize(560, min(520, 90 + 28 * len(rows)))

    def rows(self) -> list[tuple[str, str]]:
        return [(self.table.item(r, 0).text(), self.table.item(r, 1).text()) for r in range(self.table.rowCount())]
