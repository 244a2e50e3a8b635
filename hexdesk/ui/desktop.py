"""Desktop habits for the main window (issue 10.4-10.7), installed by one call so main_window.py stays small.

``Desktop(window)`` installs the keyboard shortcuts and the F1 sheet (shortcuts.py), trading from the chart
(chart_context.py), the positions table's "± Margin" dialog (margin_dialog.py), the theme switch (theme.py) and
tooltips on every control. ``remember()`` (the app calls it for an interactive window, never for a screenshot)
restores the remembered settings (settings.py) and saves them again when the window closes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QMenu, QMessageBox, QTabBar, QWidget

from hexdesk.engine.enums import Side
from hexdesk.ui import settings, shortcuts, theme
from hexdesk.ui.chart_context import ChartTrading
from hexdesk.ui.margin_dialog import MarginDialog

if TYPE_CHECKING:
    from hexdesk.ui.main_window import MainWindow

#: Tooltips of the controls built without one, by object name.
TOOLTIPS: dict[str, str] = {
    "symbolInput": "The symbol to trade; the chart follows it",
    "marginModeInput": "Isolated: only this position's margin is at risk. Cross: the whole wallet backs it",
    "orderTypeInput": "Market fills now; Limit rests at your price; Stop Market becomes a market order at the stop",
    "priceInput": "The limit price, or the stop price of a Stop Market order",
    "quantityInput": "Order size in the base asset (filled for you when sizing by risk)",
    "riskInput": "Percent of equity the stop-loss may lose, fees and slippage included",
    "sizeByRisk": "Size the order from the stop-loss and the risk %",
    "takeProfitInput": "Take-profit trigger price: a reduce-only order placed when the entry fills",
    "stopLossInput": "Stop-loss trigger price: a reduce-only order placed when the entry fills",
    "marginAmount": "USDT to move into (Add) or out of (Remove) the position's isolated margin",
    "qt_tableview_cornerbutton": "Select every row",
    "qt_menubar_ext_button": "More menus (the ones the window is too narrow to show)",
}


class DeskKeys:
    """What each shortcut does (the names in shortcuts.SHORTCUTS)."""

    def __init__(self, desktop: Desktop) -> None:
        self.desktop = desktop
        self.window = desktop.window

    def play_pause(self) -> None:
        self.window.toggle_play()

    def step(self) -> None:
        if self.window.desk.paused:
            self.window.desk.step()

    def held(self) -> bool:
        """Orders are held (the journal is still opening, ui/shell.py): say why instead of trading."""
        reason = self.window.orders_held
        if reason:
            self.window.show_message(reason, "info")
        return bool(reason)

    def buy_focus(self) -> None:
        if not self.held():
            self.window.ticket.choose_side(Side.BUY)

    def sell_focus(self) -> None:
        if not self.held():
            self.window.ticket.choose_side(Side.SELL)

    def send(self) -> object:
        return None if self.held() else self.window.ticket.submit_from_enter()

    def clear_ticket(self) -> None:
        self.window.ticket.clear_order()

    def close_position(self) -> QMessageBox | None:
        """Ask first (a market close cannot be undone), then close the ticket symbol's position at market."""
        window, symbol = self.window, self.window.ticket.symbol
        if self.held():
            return None
        position = window.desk.position(symbol)
        if not position.is_open:
            window.show_message(f"No {symbol} position to close", "info")
            return None
        side = "long" if position.quantity > 0 else "short"
        box = QMessageBox(QMessageBox.Icon.Question, "Close position",
                          f"Close the {symbol} {side} of {position.size.normalize()} at market?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, window)
        box.setObjectName("closePositionConfirm")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.accepted.connect(lambda: self._close(symbol))
        box.finished.connect(box.deleteLater)
        self.desktop.confirm_box = box
        box.open()
        return box

    def _close(self, symbol: str) -> None:
        result = self.window.desk.close_position(symbol)
        text = f"Closed {symbol}" if result.ok else str(result.rejection)
        self.window.show_message(text, "ok" if result.ok else "error")

    def cancel_orders(self) -> int:
        """Cancel every open order of the ticket's symbol; returns how many were cancelled."""
        window, symbol = self.window, self.window.ticket.symbol
        if self.held():
            return 0
        done = 0
        for order in [o for o in window.desk.open_orders() if o.symbol == symbol]:
            done += bool(window.desk.cancel(symbol, order.order_id).ok)
        window.show_message(f"Cancelled {done} {symbol} order{'s' if done != 1 else ''}", "ok")
        return done

    def show_sheet(self) -> shortcuts.ShortcutSheet:
        sheet = shortcuts.ShortcutSheet(self.window)
        self.desktop.sheet = sheet
        sheet.show()
        return sheet


class ChartOrders(ChartTrading):
    """Trading from the chart (ui/chart_context.py), except while orders are held (the journal is still opening,
    ui/shell.py): the right-click menu then says why instead of offering orders."""

    def menu_for(self, price: Decimal) -> QMenu:
        reason = self.window.orders_held
        if not reason:
            return super().menu_for(price)
        menu = QMenu(self.window)
        menu.setObjectName("chartContextMenu")
        menu.addAction(reason).setEnabled(False)
        return menu


class Desktop(QObject):
    """The desktop habits of one main window (see the module docstring)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.sheet: shortcuts.ShortcutSheet | None = None
        self.confirm_box: QMessageBox | None = None
        self.margin_dialog: MarginDialog | None = None
        self._remembering = False
        self._store: QSettings | None = None
        self.keys = DeskKeys(self)
        self.actions = shortcuts.install(window, self.keys)
        self.chart_trading = ChartOrders(window)
        if not window.tables_deferred:  # (the start-up shell has no positions table yet)
            window.positions_table.margin_requested.connect(self.adjust_margin)
        self.theme_action = QAction("Light theme", window, checkable=True)
        self.theme_action.setObjectName("lightThemeAction")
        self.theme_action.setToolTip("Switch between the dark and the light theme (remembered)")
        self.theme_action.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.theme_action.setChecked(theme.current_name() == "light")
        self.theme_action.toggled.connect(lambda on: self.set_theme("light" if on else "dark"))
        window.addAction(self.theme_action)
        settings.splitters(window)
        fit_small_screens(window)
        add_tooltips(window)

    def rebind(self) -> None:
        """A session switch rebuilt the window's panels: hook the new chart and positions table (the window-level
        shortcuts and actions outlive the switch)."""
        window = self.window
        self.chart_trading.deleteLater()
        self.chart_trading = ChartOrders(window)
        if not window.tables_deferred:  # (the start-up shell has no positions table yet)
            window.positions_table.margin_requested.connect(self.adjust_margin)
        settings.splitters(window)
        fit_small_screens(window)
        add_tooltips(window)
        theme.style_chart(window.chart, theme.current_name())  # the new chart in the theme in use

    def set_theme(self, name: str) -> None:
        theme.switch(self.window, name)
        if self.theme_action.isChecked() != (name == "light"):
            self.theme_action.setChecked(name == "light")

    def adjust_margin(self, symbol: str) -> MarginDialog:
        """The positions table's "± Margin": the dialog, window-modal and not blocking."""
        dialog = MarginDialog(self.window.desk, symbol, self.window)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.finished.connect(dialog.deleteLater)
        self.margin_dialog = dialog
        dialog.open()
        return dialog

    def lines_refreshed(self) -> None:
        """The main window redrew its order lines: wire the new ones for dragging."""
        self.chart_trading.sync()

    def remember(self) -> None:
        """Restore what was remembered and save it again when the window closes."""
        self.remember_from(None)

    def remember_from(self, store: QSettings | None) -> None:
        """:meth:`remember` with another settings file (tests)."""
        self._store = store
        settings.restore(self.window, store)
        self.theme_action.setChecked(theme.current_name() == "light")
        if not self._remembering:
            self._remembering = True
            self.window.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.window and event.type() == QEvent.Type.Close:
            settings.save(self.window, self._store)
        return False


def add_tooltips(root: QWidget) -> None:
    """A tooltip on every button, line edit and combo box of ``root`` that has none (TOOLTIPS by object name;
    the tab bar's scroll arrows by what they do)."""
    for widget in root.findChildren(QAbstractButton) + root.findChildren(QLineEdit) + root.findChildren(QComboBox):
        if widget.toolTip():
            continue
        tip = TOOLTIPS.get(widget.objectName())
        if tip is None and isinstance(widget.parentWidget(), QTabBar):
            tip = "Scroll the tabs"
        if tip is not None:
            widget.setToolTip(tip)
            if hasattr(widget, "hint") and not widget.hint:
                widget.hint = tip


def fit_small_screens(window: MainWindow) -> None:
    """The replay bar's mode label ("Replay · BTCUSDT-2025-03, ETHUSDT-2025-03 (spot) · real funding") set the
    window's minimum width past a 1024-pixel screen: it may now be clipped, its tooltip has it whole."""
    label = getattr(window.replay_bar, "modeLabel", None)
    if label is not None:
        label.setMinimumWidth(80)  # an explicit minimum: the layout may shrink it to this, not to nothing
        label.setToolTip(label.text())
