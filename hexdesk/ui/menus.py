"""The window's menu bar: File (sessions, import, export, quit), View (which panels show), Help (issue 7.2).

Menus only trigger what the window already offers: ``window.open_sessions(tab)``, the ``import_requested`` /
``export_requested`` signals (the window connects them to ``hexdesk.ui.import_export``), ``window.quit_action``.
View toggles look the panel up on the window when toggled, so they keep working after ``switch_session`` rebuilt
the panels. ``add_view_toggle`` lets later panels add theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QLabel, QMenu, QMessageBox, QVBoxLayout, QWidget

from hexdesk import __version__
from hexdesk.ui import theme

if TYPE_CHECKING:
    from hexdesk.ui.main_window import MainWindow

NO_JOURNAL_TIP = "Import needs the journal: start HexDesk with a journal file to import into a new session"
NO_SESSIONS_TIP = "Sessions need the journal: start HexDesk with a journal file to manage sessions"


@dataclass
class Menus:
    """The menu bar's menus and the actions tests and other modules reach for."""

    file: QMenu
    view: QMenu
    help: QMenu
    new_session: QAction
    open_session: QAction
    import_action: QAction
    export_action: QAction
    shortcuts: QAction
    about: QAction
    view_toggles: dict[str, QAction] = field(default_factory=dict)


def build_menus(window: MainWindow) -> Menus:
    """Fill ``window``'s menu bar. Called once; the actions outlive session switches."""
    bar = window.menuBar()
    bar.setNativeMenuBar(False)  # the same bar on every platform (and in offscreen screenshots)
    bar.setStyleSheet(f"QMenu::item:disabled {{ color: {theme.MUTED}; }} "
                      f"QMenu::item:selected {{ background: {theme.PANEL_ALT}; color: {theme.ACCENT}; }}")

    file = bar.addMenu("&File")
    new_session = _action(window, "&New session…", keys(QKeySequence.StandardKey.New, "Ctrl+N"),
                          lambda: window.open_sessions("new"))
    open_session = _action(window, "&Open session…", keys(QKeySequence.StandardKey.Open, "Ctrl+O"),
                           lambda: window.open_sessions("list"))
    import_action = _action(window, "&Import…", None, window.import_requested.emit)
    export_action = _action(window, "&Export…", None, window.export_requested.emit)
    import_action.setObjectName("importAction")
    export_action.setObjectName("exportAction")
    for a in (new_session, open_session):
        file.addAction(a)
    file.addSeparator()
    file.addAction(import_action)
    file.addAction(export_action)
    file.addSeparator()
    file.addAction(window.quit_action)
    file.setToolTipsVisible(True)
    file.aboutToShow.connect(lambda: update_file_menu(window))

    view = bar.addMenu("&View")
    view.setToolTipsVisible(True)
    help_menu = bar.addMenu("&Help")
    shortcuts = _action(window, "&Keyboard shortcuts", keys(QKeySequence.StandardKey.HelpContents, "F1"),
                        lambda: open_shortcut_sheet(window))
    about = _action(window, "&About HexDesk", None, lambda: show_about(window))
    help_menu.addAction(shortcuts)
    help_menu.addAction(about)

    menus = Menus(file, view, help_menu, new_session, open_session, import_action, export_action, shortcuts, about)
    add_view_toggle(window, menus, "Notifications", lambda on: window.notifications.setVisible(on))
    add_view_toggle(window, menus, "Tables", lambda on: window.tabs.setVisible(on))
    add_view_toggle(window, menus, "Journal", lambda on: window.set_tab_visible("Journal", on))
    add_view_toggle(window, menus, "Ticket", lambda on: window.ticket_scroll.setVisible(on))
    add_view_toggle(window, menus, "Trades", lambda on: window.set_tab_visible("Trades", on))
    view.addSeparator()
    view.addAction(window.statistics_action)
    update_file_menu(window, menus)
    return menus


def keys(standard: QKeySequence.StandardKey, fallback: str) -> list[QKeySequence]:
    """The platform's keys for a standard action, or ``fallback`` where the platform has none (the offscreen
    and minimal platforms map Quit, New, Open to nothing)."""
    return QKeySequence.keyBindings(standard) or [QKeySequence(fallback)]


def _action(window: QWidget, text: str, shortcuts: list[QKeySequence] | None,
            slot: Callable[[], object]) -> QAction:
    action = QAction(text, window)
    if shortcuts:
        action.setShortcuts(shortcuts)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.triggered.connect(lambda _checked=False: slot())
    window.addAction(action)  # shortcuts work with the menu closed (and hidden)
    return action


def add_view_toggle(window: MainWindow, menus: Menus, name: str, show: Callable[[bool], object],
                    *, visible: bool = True) -> QAction:
    """A checkable View item calling ``show(on)``; ``show`` looks its panel up on the window when called, so the
    item keeps working after a session switch rebuilt the panels (which re-emits every toggle's state)."""
    action = QAction(name, window, checkable=True, checked=visible)
    action.setObjectName(f"view{name.replace(' ', '')}")
    action.toggled.connect(show)
    menus.view.addAction(action)
    menus.view_toggles[name] = action
    return action


def update_file_menu(window: MainWindow, menus: Menus | None = None) -> None:
    """Enable what can be done now: sessions need a session manager, import a journal to import into (export
    works without one: the fills this run has seen)."""
    menus = menus or window.menus
    has_sessions = window.sessions is not None
    for a in (menus.new_session, menus.open_session):
        a.setEnabled(has_sessions)
        a.setToolTip("" if has_sessions else NO_SESSIONS_TIP)
    has_journal = window.desk.journal is not None
    menus.import_action.setEnabled(has_journal)
    menus.import_action.setToolTip("" if has_journal else NO_JOURNAL_TIP)


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(keys, what) for every window action with a shortcut, as the trader presses them."""
    rows = []
    for action in window.actions():
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if keys:
            rows.append((keys, action.text().replace("&", "").rstrip("…")))
    return sorted(set(rows), key=lambda r: r[1])


def open_shortcut_sheet(window: QWidget) -> QDialog:
    """Help > Keyboard shortcuts and F1: the desktop's F1 sheet (hexdesk.ui.shortcuts), which reads the window's
    actions when it opens, so shortcuts other modules add (learn, statistics, sessions, theme) are listed too."""
    desktop = getattr(window, "desktop", None)
    return desktop.keys.show_sheet() if desktop is not None else show_shortcuts(window)


def show_shortcuts(window: QWidget) -> QDialog:
    """A small non-modal list of the keyboard shortcuts."""
    dialog = QDialog(window, objectName="shortcutsDialog")
    dialog.setWindowTitle("Keyboard shortcuts")
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    theme.apply(dialog)
    col = QVBoxLayout(dialog)
    rows = "".join(f"<tr><td style='padding-right:16px'><b>{k}</b></td><td>{w}</td></tr>"
                   for k, w in shortcut_rows(window))
    extra = ("<tr><td style='padding-right:16px'><b>Enter</b></td><td>In a ticket field: apply it (leverage)"
             "</td></tr>")
    col.addWidget(QLabel(f"<table>{rows}{extra}</table>", objectName="shortcutsTable"))
    dialog.show()
    return dialog


def show_about(window: QWidget) -> None:
    QMessageBox.about(
        window,
        "About HexDesk",
        f"<b>HexDesk {__version__}</b><br>Practise Binance USDⓈ-M perpetual futures safely: replayed markets, "
        "the exchange's margin rules, and a journal of every session in a local SQLite file.<br><br>"
        "Nothing here touches a real account.",
    )
