"""The menu bar: File (sessions, import / export hooks, quit), View toggles that survive a session switch, Help."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog, QLabel, QWidget

from hexdesk.ui.main_window import MainWindow
from hexdesk.ui.menus import NO_JOURNAL_TIP, NO_SESSIONS_TIP, shortcut_rows, show_shortcuts, update_file_menu
from tests.ui.fake_desk import FakeDesk
from tests.ui.fake_sessions import FakeSessionManager, FakeSummary


@pytest.fixture
def window(qtbot) -> MainWindow:
    w = MainWindow(FakeDesk())
    qtbot.addWidget(w)
    w.show()
    return w


def titles(menu) -> list[str]:
    return [a.text().replace("&", "") for a in menu.actions() if not a.isSeparator()]


def test_the_menus_and_their_items(window):
    bar = window.menuBar()
    assert [a.text().replace("&", "") for a in bar.actions()] == ["File", "View", "Help"]
    m = window.menus
    assert titles(m.file) == ["New session…", "Open session…", "Import…", "Export…", "Quit"]
    assert m.file.actions()[-1] is window.quit_action  # the existing Ctrl+Q action, not a second one
    assert window.quit_action.shortcut().toString() == "Ctrl+Q"
    assert m.new_session.shortcut().toString() == "Ctrl+N"
    assert m.open_session.shortcut().toString() == "Ctrl+O"
    assert titles(m.view) == ["Notifications", "Tables", "Journal", "Ticket", "Trades", "Statistics…"]
    assert titles(m.help) == ["Keyboard shortcuts", "About HexDesk"]


def test_session_items_need_a_session_manager(qtbot, window):
    m = window.menus
    assert not m.new_session.isEnabled() and m.new_session.toolTip() == NO_SESSIONS_TIP
    m.new_session.trigger()
    assert window.session_dialog is None
    window.set_session_manager(FakeSessionManager([FakeSummary(1, "Now", 1, 1)]))
    assert m.new_session.isEnabled() and m.open_session.isEnabled()
    m.new_session.trigger()
    assert window.session_dialog is not None and window.session_dialog.tabs.currentIndex() == 1
    window.session_dialog.close()
    qtbot.waitUntil(lambda: window.session_dialog is None)
    m.open_session.trigger()
    assert window.session_dialog.tabs.currentIndex() == 0


def test_import_needs_a_journal_export_does_not(window, monkeypatch):
    m = window.menus
    update_file_menu(window)  # what opening the File menu does
    assert m.import_action.isVisible() and not m.import_action.isEnabled()  # the fake desk has no journal
    assert m.import_action.toolTip() == NO_JOURNAL_TIP
    assert m.export_action.isEnabled()
    asked: list[object] = []
    monkeypatch.setattr("hexdesk.ui.import_export.export_dialog", lambda parent, desk: asked.append(desk))
    m.export_action.trigger()
    assert asked == [window.desk]  # the export dialog, for the desk shown now


def test_view_toggles_hide_panels_and_keep_them_hidden_across_a_switch(qtbot, window):
    toggles = window.menus.view_toggles
    toggles["Notifications"].setChecked(False)
    toggles["Journal"].setChecked(False)
    assert not window.notifications.isVisible()
    assert not window.tabs.isTabVisible(window.tabs.indexOf(window.journal_panel))
    window.switch_session(FakeDesk())
    assert window.chart.isVisible() and window.tabs.isVisible()
    assert not window.notifications.isVisible()  # the new session's panel, hidden as chosen
    assert not window.tabs.isTabVisible(window.tabs.indexOf(window.journal_panel))
    toggles["Tables"].setChecked(False)
    assert not window.tabs.isVisible()
    toggles["Tables"].setChecked(True)
    toggles["Notifications"].setChecked(True)
    assert window.tabs.isVisible() and window.notifications.isVisible()


class _TradesStub(QWidget):
    """What the Trades tab offers the window: a selected trade_key."""

    from PySide6.QtCore import Signal

    tradeSelected = Signal(str)
    tradeActivated = Signal(str)

    def __init__(self, desk) -> None:
        super().__init__()
        self.desk = desk


def test_a_later_panel_gets_a_tab_a_toggle_and_drives_the_journal(qtbot, window):
    trades = window.add_panel("Trades", _TradesStub)
    assert window.tabs.tabText(window.tabs.indexOf(trades)) == "Trades"
    assert window.tabs.indexOf(trades) == window.tabs.indexOf(window.journal_panel) - 1
    assert "Trades" in titles(window.menus.view)
    trades.tradeSelected.emit("BTCUSDT:12")
    assert window.journal_panel.trade_key == "BTCUSDT:12"
    assert window.tabs.currentWidget() is not window.journal_panel  # selecting does not leave the trades list
    trades.tradeActivated.emit("BTCUSDT:12")
    assert window.tabs.currentWidget() is window.journal_panel
    window.menus.view_toggles["Trades"].setChecked(False)
    assert not window.tabs.isTabVisible(window.tabs.indexOf(trades))

    new = FakeDesk()
    window.switch_session(new)
    rebuilt = window.panels["Trades"]
    assert rebuilt is not trades and rebuilt.desk is new  # built again for the new session
    assert not window.tabs.isTabVisible(window.tabs.indexOf(rebuilt))


def test_keyboard_shortcuts_lists_the_windows_keys(qtbot, window):
    rows = dict((what, keys) for keys, what in shortcut_rows(window))
    assert rows["Play / pause"] == "Space"
    assert rows["Quit"] == "Ctrl+Q"
    assert rows["New session"] == "Ctrl+N"
    dialog = show_shortcuts(window)
    qtbot.addWidget(dialog)
    assert isinstance(dialog, QDialog) and dialog.isVisible() and not dialog.isModal()
    text = dialog.findChild(QLabel, "shortcutsTable").text()
    assert "Space" in text and "Ctrl+Q" in text
