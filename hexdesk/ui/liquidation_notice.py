"""The liquidation notice: a non-modal dialog that explains a liquidation in numbers (``explain.LiquidationReport``).

Opened with ``show()`` (never ``exec()``): the replay is already paused by the desk and the event loop runs on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from hexdesk.ui import format as fmt
from hexdesk.ui import theme

if TYPE_CHECKING:
    from hexdesk.engine.explain import LiquidatedPosition, LiquidationReport
    from hexdesk.service import TradingDesk


def _side(p: LiquidatedPosition) -> str:
    return "long" if p.is_long else "short"


def report_rows(report: LiquidationReport, desk: TradingDesk) -> list[tuple[str, str]]:
    """(label, value) rows of the notice, in reading order: what happened, then why, then what it cost."""
    rows: list[tuple[str, str]] = []
    for p in report.positions:
        inst = desk.instrument(p.symbol)
        px = lambda v, tick=inst.tick_size: fmt.price(v, tick)  # noqa: E731
        prefix = f"{p.symbol} " if len(report.positions) > 1 else ""
        rows += [
            (f"{prefix}Position", f"{p.symbol} {_side(p)} {fmt.qty(p.quantity, inst.step_size)} @ {px(p.entry_price)}"),
            (f"{prefix}Mark price", px(p.mark_price)),
            (f"{prefix}Notional at mark", f"{fmt.usdt(p.notional)} USDT"),
            (
                f"{prefix}Maintenance tier",
                f"tier {p.bracket}: rate {fmt.pct(p.maint_margin_ratio)}, amount {fmt.usdt(p.maint_amount)} USDT",
            ),
            (
                f"{prefix}Maintenance margin",
                f"{fmt.usdt(p.notional)} × {fmt.pct(p.maint_margin_ratio)} − {fmt.usdt(p.maint_amount)} = "
                f"{fmt.usdt(p.maintenance_margin)} USDT",
            ),
            (f"{prefix}Closed at (bankruptcy)", px(p.bankruptcy_price)),
        ]
    wallet_word = "isolated margin" if report.isolated else "cross wallet"
    upnl = sum((p.unrealized_pnl for p in report.positions), report.margin_balance * 0)
    rows += [
        (
            "Margin balance",
            f"{fmt.usdt(report.margin_lost)} ({wallet_word}) {'−' if upnl < 0 else '+'} {fmt.usdt(abs(upnl))} "
            f"(unrealized PnL at mark) = {fmt.usdt(report.margin_balance)} USDT",
        ),
        (
            "Margin ratio",
            f"{fmt.usdt(report.maintenance_margin)} / {fmt.usdt(report.margin_balance)} = "
            + (fmt.pct(report.margin_ratio) if report.margin_ratio.is_finite() else "∞ (no margin left)")
            + " (100% liquidates)",
        ),
        ("Margin lost", f"{fmt.usdt(report.margin_lost)} USDT"),
        ("Liquidation (clearance) fee", f"{fmt.usdt(report.liquidation_fee)} USDT, part of the margin lost"),
    ]
    if report.isolated:
        after = "--" if report.wallet_after is None else f"{fmt.usdt(report.wallet_after)} USDT"
        before = "--" if report.wallet_before is None else f"{fmt.usdt(report.wallet_before)} USDT"
        rows.append(("Wallet", f"{before} → {after}: only the isolated margin was lost, the rest is untouched"))
    else:
        shared = ", ".join(
            f"{p.symbol} {_side(p)} (margin {fmt.usdt(p.maintenance_margin)} needed)" for p in report.positions
        )
        rows.append(("Shared the cross wallet", shared))
        after = "--" if report.wallet_after is None else f"{fmt.usdt(report.wallet_after)} USDT"
        rows.append(("Wallet after", f"{after} (isolated positions keep their own margin)"))
    return rows


class LiquidationNotice(QDialog):
    """Explains one liquidation; non-modal, so the window stays usable and tests never block."""

    def __init__(self, report: LiquidationReport, desk: TradingDesk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report = report
        self.setObjectName("liquidationNotice")
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        names = ", ".join(f"{p.symbol} {_side(p)}" for p in report.positions)
        mode = "isolated" if report.isolated else "cross"
        self.setWindowTitle(f"Liquidated: {names}")
        col = QVBoxLayout(self)
        self.headline = QLabel(
            f"<b>{fmt.utc_clock(report.ts_ms)}: {names} ({mode}) was liquidated.</b><br>"
            "The mark price reached the liquidation price: the margin balance fell to the maintenance margin. "
            "The replay is paused.",
            objectName="liquidationHeadline",
        )
        self.headline.setWordWrap(True)
        self.headline.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.headline.setStyleSheet(f"color: {theme.ORANGE};")
        col.addWidget(self.headline)
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setColumnStretch(1, 1)
        self.rows = report_rows(report, desk)
        for i, (label, value) in enumerate(self.rows):
            name = QLabel(label)
            name.setStyleSheet(f"color: {theme.MUTED};")
            text = QLabel(value)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            text.setWordWrap(True)
            grid.addWidget(name, i, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(text, i, 1)
        col.addLayout(grid)
        col.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        self.why_button = buttons.addButton("Why?", QDialogButtonBox.ButtonRole.HelpRole)  # issue 9: post-mortem
        self.why_button.clicked.connect(lambda: self.show_why(desk))
        col.addWidget(buttons)
        self.setMinimumWidth(640)
        self.resize(640, self.sizeHint().height())

    def show_why(self, desk: TradingDesk) -> object | None:
        """Open the post-mortem of this liquidation in the Learn window (the parent's ``show_learn``)."""
        reports = list(getattr(desk, "liquidation_reports", []))
        show_learn = getattr(self.parent(), "show_learn", None)
        if show_learn is None or self.report not in reports:
            return None
        learn = show_learn()
        learn.show_postmortem(reports.index(self.report))
        return learn

    def value(self, label: str) -> str:
        """The text shown for ``label`` (for tests and accessibility)."""
        return dict(self.rows)[label]
