"""Keyboard first (issue 10.5): every shortcut, pressed key by key on the real window, does its action; the plain
keys (B, S, Space, Right, Enter) type into a text field that has the focus instead; F1's sheet lists every
installed shortcut; every control has a tooltip."""

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QApplication, QComboBox, QLineEdit, QMessageBox

from hexdesk.engine.enums import OrderType, Side
from hexdesk.engine.orders import OrderRequest
from hexdesk.ui import shortcuts
from hexdesk.ui.main_window import MainWindow
from tests.ui.fake_desk import FakeDesk


@pytest.fixture
def desk() -> FakeDesk:
    return FakeDesk()


@pytest.fixture
def window(qtbot, desk) -> MainWindow:
    w = MainWindow(desk)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    w.chart.setFocus()  # the focus somewhere that is not a text field
    return w


def press(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    target = QApplication.focusWidget() or window
    qtbot.keyClick(target, key, modifier)


def test_space_plays_and_pauses(qtbot, window, desk):
    press(qtbot, window, Qt.Key.Key_Space)
    assert desk.replay_calls[-1] == "play"
    press(qtbot, window, Qt.Key.Key_Space)
    assert desk.replay_calls[-1] == "pause"


def test_right_steps_while_paused(qtbot, window, desk):
    press(qtbot, window, Qt.Key.Key_Right)
    assert desk.replay_calls == ["step"]


def test_b_and_s_pick_the_side_and_focus_the_size(qtbot, window):
    ticket = window.ticket
    press(qtbot, window, Qt.Key.Key_B)
    assert ticket.chosen_side is Side.BUY
    assert QApplication.focusWidget() is ticket.quantityInput
    assert ticket.implied_side() is Side.BUY  # Enter will send Buy
    window.chart.setFocus()
    press(qtbot, window, Qt.Key.Key_S)
    assert ticket.chosen_side is Side.SELL
    assert ticket.implied_side() is Side.SELL


def test_b_and_s_type_into_the_size_field_and_do_not_fire(qtbot, window, desk):
    ticket = window.ticket
    ticket.quantityInput.setFocus()
    qtbot.keyClicks(ticket.quantityInput, "1")
    qtbot.keyClick(ticket.quantityInput, Qt.Key.Key_B, Qt.KeyboardModifier.NoModifier, -1)
    qtbot.keyClick(ticket.quantityInput, Qt.Key.Key_S)
    qtbot.keyClick(ticket.quantityInput, Qt.Key.Key_Space)
    assert ticket.chosen_side is None  # neither B nor S fired
    assert desk.replay_calls == []  # nor Space
    assert ticket.quantityInput.text() == "1bs "  # the field got every key as text (and refuses it, red)
    assert ticket.quantityInput.problem() is not None
    qtbot.keyClick(ticket.quantityInput, Qt.Key.Key_Left)
    assert ticket.quantityInput.cursorPosition() == 3  # Right / Left move the cursor, not the replay
    assert desk.replay_calls == []


def test_enter_sends_the_chosen_side_from_the_size_field_and_from_elsewhere(qtbot, window, desk):
    ticket = window.ticket
    ticket.sizeByRisk.setChecked(False)
    press(qtbot, window, Qt.Key.Key_B)  # focus in the size field, Buy chosen
    qtbot.keyClicks(ticket.quantityInput, "0.010")
    qtbot.keyClick(ticket.quantityInput, Qt.Key.Key_Return)
    assert [(r.side, r.type, r.quantity) for r in desk.submitted] == [(Side.BUY, OrderType.MARKET, Decimal("0.010"))]
    window.chart.setFocus()
    press(qtbot, window, Qt.Key.Key_Return)  # the window's Enter: the same order again
    assert len(desk.submitted) == 2 and desk.submitted[1].side is Side.BUY


def test_enter_in_the_leverage_field_applies_the_leverage_and_sends_nothing(qtbot, window, desk):
    field = window.ticket.leverageInput
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, "5")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert desk.leverage("BTCUSDT") == 5
    assert desk.submitted == []


def test_escape_clears_the_ticket_even_from_a_field(qtbot, window):
    ticket = window.ticket
    press(qtbot, window, Qt.Key.Key_S)
    qtbot.keyClicks(ticket.quantityInput, "0.5")
    qtbot.keyClicks(ticket.stopLossInput, "90000")
    ticket.stopLossInput.setFocus()
    qtbot.keyClick(ticket.stopLossInput, Qt.Key.Key_Escape)
    assert ticket.chosen_side is None
    assert (ticket.quantityInput.text(), ticket.stopLossInput.text()) == ("", "")


def test_close_position_asks_first_then_closes(qtbot, window, desk):
    desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, Decimal("0.100")))
    press(qtbot, window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    box = window.desktop.confirm_box
    assert box is not None and box.isVisible()
    assert desk.closed == []  # nothing before the answer
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    assert desk.closed == ["BTCUSDT"]


def test_close_position_without_a_position_says_so(qtbot, window, desk):
    press(qtbot, window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.desktop.confirm_box is None
    assert window.message.text() == "No BTCUSDT position to close"
    assert desk.closed == []


def test_cancel_all_orders_of_the_symbol(qtbot, window, desk):
    for price in ("80000", "81000"):
        desk.submit(OrderRequest.limit("BTCUSDT", Side.BUY, Decimal("0.01"), Decimal(price)))
    desk.submit(OrderRequest.limit("ETHUSDT", Side.BUY, Decimal("0.1"), Decimal("1000")))
    press(qtbot, window, Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert [s for s, _ in desk.canceled] == ["BTCUSDT", "BTCUSDT"]  # ETHUSDT's order stays
    assert window.message.text() == "Cancelled 2 BTCUSDT orders"


def test_f1_sheet_lists_every_installed_shortcut(qtbot, window):
    press(qtbot, window, Qt.Key.Key_F1)
    sheet = window.desktop.sheet
    assert sheet is not None and sheet.isVisible()
    listed = {key for key, _ in sheet.rows()}
    installed = {shortcuts.key_text(seq) for a in window.findChildren(QAction) for seq in a.shortcuts()}
    assert installed <= listed, installed - listed
    for s in shortcuts.SHORTCUTS:
        assert shortcuts.key_text(s.key) in listed
    assert len(installed) >= len(shortcuts.SHORTCUTS) + 2  # the table's plus Quit and Statistics


def test_every_table_shortcut_is_installed_once(window):
    keys = [seq.toString() for a in window.findChildren(QAction) for seq in a.shortcuts()]
    assert len(keys) == len(set(keys))  # two actions on one key would make Qt fire neither
    for s in shortcuts.SHORTCUTS:
        assert s.key.replace("Esc", "Esc") in keys or shortcuts.key_text(s.key) in keys


def test_every_control_has_a_tooltip(qtbot, window, desk):
    desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, Decimal("0.100")))
    window.refresh_now()
    controls = (window.findChildren(QAbstractButton) + window.findChildren(QLineEdit)
                + window.findChildren(QComboBox))
    missing = [(type(w).__name__, w.objectName()) for w in controls if not w.toolTip().strip()]
    assert missing == [], missing


def test_help_menu_opens_the_f1_sheet_with_every_modules_keys(qtbot, window):
    """Help > Keyboard shortcuts and F1 are one sheet; it reads the window's actions when it opens, so the keys other
    modules add (learn, statistics, sessions, theme) are on it."""
    window.menus.shortcuts.trigger()
    sheet = window.desktop.sheet
    assert sheet is not None and sheet.isVisible()
    rows = dict(sheet.rows())
    for key in ("Ctrl+L", "Ctrl+Shift+S", "Ctrl+N", "Ctrl+O", "Ctrl+Shift+L", "Ctrl+Q"):
        assert shortcuts.key_text(key) in rows, key
    assert rows[shortcuts.key_text("Ctrl+Shift+L")].startswith("Switch between the dark and the light theme")
    late = QAction("Late arrival", window)  # an action added after the window was built is listed too
    late.setShortcut(QKeySequence("Ctrl+Alt+J"))
    window.addAction(late)
    window.menus.shortcuts.trigger()
    assert dict(window.desktop.sheet.rows())[shortcuts.key_text("Ctrl+Alt+J")] == "Late arrival"
