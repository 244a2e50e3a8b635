"""Isolated margin from the positions table (issue 10.6) on a real desk: "± Margin" opens the dialog, Confirm moves
exactly the typed amount, and Binance's refusal (-2019 adding more than is available, -4051 removing more than may
leave) is shown in the dialog, which stays open."""

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt

from hexdesk.engine.enums import MarginMode, Side
from hexdesk.engine.orders import OrderRequest
from hexdesk.ui.main_window import MainWindow
from hexdesk.ui.margin_dialog import MarginDialog
from tests.ui.real_desk import SYMBOL, real_desk


@pytest.fixture
def window(qtbot) -> MainWindow:
    desk = real_desk()
    desk.set_margin_mode(SYMBOL, MarginMode.ISOLATED)  # refused (-4046) if already isolated: either way it is
    assert desk.margin_mode(SYMBOL) is MarginMode.ISOLATED
    desk.set_leverage(SYMBOL, 10)
    # 0.1 BTC at 85,000 and 10x: 850 USDT of isolated margin, the wallet's other ~9,150 free (less the fee)
    assert desk.submit(OrderRequest.market(SYMBOL, Side.BUY, Decimal("0.100"))).ok
    w = MainWindow(desk)
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    qtbot.waitExposed(w)
    w.tabs.setCurrentWidget(w.positions_table)
    return w


def open_dialog(qtbot, window: MainWindow) -> MarginDialog:
    table = window.positions_table
    column = table.rows_model.columnCount() - 1  # "± Margin", the last column
    assert table.rows_model.index(0, column).data() == "± Margin"
    table.scrollTo(table.rows_model.index(0, column))
    rect = table.visualRect(table.rows_model.index(0, column))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    dialog = window.desktop.margin_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def confirm(qtbot, dialog: MarginDialog, direction: str, amount: str) -> None:
    dialog.directionInput.setCurrentText(direction)
    dialog.amountInput.setFocus()
    qtbot.keyClicks(dialog.amountInput, amount)
    qtbot.mouseClick(dialog.confirmButton, Qt.MouseButton.LeftButton)


def test_adding_margin_moves_exactly_the_amount(qtbot, window):
    desk = window.desk
    before = desk.position(SYMBOL).isolated_wallet
    liq_before = desk.position(SYMBOL).liquidation_price
    dialog = open_dialog(qtbot, window)
    confirm(qtbot, dialog, "Add", "100")
    assert desk.position(SYMBOL).isolated_wallet == before + Decimal("100")
    assert desk.position(SYMBOL).liquidation_price < liq_before  # more margin: a long's liquidation moves down
    assert not dialog.isVisible()


def test_adding_more_than_is_available_shows_2019_and_stays_open(qtbot, window):
    desk = window.desk
    before = desk.position(SYMBOL).isolated_wallet
    dialog = open_dialog(qtbot, window)
    confirm(qtbot, dialog, "Add", "20000")  # twice the wallet
    assert dialog.isVisible()
    assert dialog.errorLabel.isVisible()
    assert "-2019" in dialog.errorLabel.text() and "Margin is insufficient" in dialog.errorLabel.text()
    assert desk.position(SYMBOL).isolated_wallet == before


def test_removing_margin_and_removing_too_much(qtbot, window):
    desk = window.desk
    before = desk.position(SYMBOL).isolated_wallet
    dialog = open_dialog(qtbot, window)
    # removable = min(wallet - MM, wallet + uPnL - notional / 10) = min(850 - MM, 850 + ~0 - 850) ~ 0: 800 refused
    confirm(qtbot, dialog, "Remove", "800")
    assert "-4051" in dialog.errorLabel.text()
    assert desk.position(SYMBOL).isolated_wallet == before
    dialog.amountInput.clear()
    qtbot.keyClicks(dialog.amountInput, "0")
    assert not dialog.confirmButton.isEnabled()  # 0 is refused by the field itself


def test_cross_positions_have_no_margin_button(qtbot):
    desk = real_desk()
    desk.set_margin_mode(SYMBOL, MarginMode.CROSS)
    assert desk.submit(OrderRequest.market(SYMBOL, Side.BUY, Decimal("0.010"))).ok
    w = MainWindow(desk)
    qtbot.addWidget(w)
    model = w.positions_table.rows_model
    assert model.index(0, model.columnCount() - 1).data() == ""
