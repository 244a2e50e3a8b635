"""Add or remove an isolated position's margin (issue 10.6): Binance's "Adjust Margin" dialog.

The amount is a :class:`~hexdesk.ui.number_field.NumberField` (USDT, 2 decimals, above 0); Confirm asks the desk
(``TradingDesk.transfer_margin``) and shows Binance's refusal as Binance words it (-2019 "Margin is insufficient."
when adding more than is available, -4051 when removing more than may leave) with the dialog left open, so the
trader can correct the amount. Adding margin moves the liquidation price away; the dialog shows both.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from hexdesk.ui import format as fmt
from hexdesk.ui import theme
from hexdesk.ui.number_field import NumberField, percent_rule

if TYPE_CHECKING:
    from hexdesk.engine.errors import Rejection
    from hexdesk.service import TradingDesk

DIRECTIONS = {"Add": 1, "Remove": -1}


def _amount_rule(value: Decimal) -> str | None:
    """Above 0, at most 2 decimals (USDT): the sign comes from Add / Remove."""
    return percent_rule("Amount", 2, Decimal("1e12"))(value)


class MarginDialog(QDialog):
    """Add / Remove, an amount in USDT, the position's margin and liquidation price now, and Confirm."""

    def __init__(self, desk: TradingDesk, symbol: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk, self.symbol = desk, symbol
        self.setObjectName("marginDialog")
        self.setWindowTitle(f"Adjust margin · {symbol}")
        self.directionInput = QComboBox(objectName="marginDirection")
        self.directionInput.addItems(list(DIRECTIONS))
        self.directionInput.setToolTip("Add margin from the wallet, or remove it back to the wallet")
        self.amountInput = NumberField("marginAmount", "an amount", required=True, rule=_amount_rule, places=2)
        self.amountInput.hint = "USDT to move into (Add) or out of (Remove) the position's isolated margin"
        self.amountInput.setToolTip(self.amountInput.hint)
        self.marginLabel = QLabel(objectName="marginNow")
        self.liqLabel = QLabel(objectName="liqNow")
        self.availableLabel = QLabel(objectName="availableNow")
        self.errorLabel = QLabel("", objectName="marginError", wordWrap=True)
        self.errorLabel.setStyleSheet(f"color: {theme.RED};")
        self.errorLabel.hide()
        grid = QGridLayout()
        rows = (("Direction", self.directionInput), ("Amount (USDT)", self.amountInput),
                ("", self.amountInput.message_label), ("Isolated margin", self.marginLabel),
                ("Liq. price", self.liqLabel), ("Available", self.availableLabel))
        for r, (caption, widget) in enumerate(rows):
            grid.addWidget(QLabel(caption), r, 0)
            grid.addWidget(widget, r, 1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.confirmButton = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.confirmButton.setText("Confirm")
        self.confirmButton.setToolTip("Move the margin (the desk answers as Binance would)")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setToolTip("Close without changing anything")
        self.buttons.accepted.connect(self.confirm)
        self.buttons.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.addLayout(grid)
        col.addWidget(self.errorLabel)
        col.addWidget(self.buttons)
        self.amountInput.valueChanged.connect(self._changed)
        self.directionInput.currentTextChanged.connect(self._changed)
        self.refresh()
        self._changed()

    def amount(self) -> Decimal | None:
        """The signed transfer: positive adds, negative removes (None while the field refuses its text)."""
        value = self.amountInput.value()
        return None if value is None else value * DIRECTIONS[self.directionInput.currentText()]

    def refresh(self) -> None:
        position = self.desk.position(self.symbol)
        tick = self.desk.instrument(self.symbol).tick_size
        self.marginLabel.setText(f"{fmt.usdt(position.isolated_wallet)} USDT")
        self.liqLabel.setText(fmt.price(position.liquidation_price, tick))
        self.availableLabel.setText(f"{fmt.usdt(self.desk.account().available_balance)} USDT")

    def _changed(self, *_: object) -> None:
        self.errorLabel.hide()
        self.confirmButton.setEnabled(self.amount() is not None)

    def confirm(self) -> Rejection | None:
        """Ask the desk; close on success, show Binance's refusal and stay open otherwise."""
        amount = self.amount()
        if amount is None:
            return None
        rejection = self.desk.transfer_margin(self.symbol, amount)
        if rejection is not None:
            self.errorLabel.setText(str(rejection))
            self.errorLabel.show()
            self.refresh()
            return rejection
        self.refresh()
        self.accept()
        return None
