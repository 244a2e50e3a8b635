"""The account strip across the top: what the trader has, what is at risk, and how close cross margin is to 100%."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from hexdesk.ui import format as fmt
from hexdesk.ui import theme

if TYPE_CHECKING:
    from hexdesk.engine.positions import AccountSnapshot
    from hexdesk.service import TradingDesk

FIGURES = (
    ("wallet", "Wallet balance"),
    ("equity", "Equity"),
    ("upnl", "Unrealized PnL"),
    ("available", "Available"),
    ("crossRatio", "Cross margin ratio"),
    ("insurance", "Insurance fund cover"),
)


class Figure(QWidget):
    """A caption over a number, the unit of the strip."""

    def __init__(self, name: str, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"{name}Figure")
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(1)
        self.caption = QLabel(caption)
        self.caption.setProperty("role", "caption")
        self.value = QLabel(fmt.NONE, objectName=name)
        self.value.setProperty("role", "figure")
        col.addWidget(self.caption)
        col.addWidget(self.value)

    def show_value(self, text: str, colour: str | None = None) -> None:
        self.value.setText(text)
        self.value.setStyleSheet(f"color: {colour};" if colour else "")


class AccountPanel(QWidget):
    """Wallet, equity, unrealized PnL, available balance, cross margin ratio; insurance cover only once it paid."""

    def __init__(self, desk: TradingDesk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.setObjectName("accountPanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        row = QHBoxLayout(self)
        row.setContentsMargins(14, 6, 14, 6)
        row.setSpacing(28)
        self.figures = {name: Figure(name, caption, self) for name, caption in FIGURES}
        for figure in self.figures.values():
            row.addWidget(figure)
        row.addStretch(1)
        self.figures["insurance"].hide()
        self.refresh()

    def refresh(self) -> None:
        self.show_account(self.desk.account())

    def show_account(self, a: AccountSnapshot) -> None:
        f = self.figures
        f["wallet"].show_value(f"{fmt.usdt(a.wallet_balance)} USDT")
        f["equity"].show_value(f"{fmt.usdt(a.margin_balance)} USDT")
        f["upnl"].show_value(f"{fmt.usdt(a.unrealized_pnl, sign=True)} USDT", theme.pnl_color(a.unrealized_pnl))
        f["available"].show_value(f"{fmt.usdt(a.available_balance)} USDT")
        ratio = a.cross_margin_ratio
        colour = theme.RED if ratio >= Decimal("0.8") else theme.ORANGE if ratio >= Decimal("0.5") else None
        f["crossRatio"].show_value(fmt.pct(ratio), colour)
        cover = a.insurance_fund_cover
        f["insurance"].setVisible(cover > 0)
        if cover > 0:
            f["insurance"].show_value(f"{fmt.usdt(cover)} USDT", theme.ORANGE)
