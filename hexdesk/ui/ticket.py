"""The order ticket: what the trader types, what it would cost and risk, and the Buy / Sell buttons.

Thin by design: every figure in the preview comes from ``desk.preview`` / ``desk.size_position`` and every action
is one desk call whose result is shown as Binance would word it. The ticket only turns its fields into an
``OrderRequest``. The preview is recomputed on a short single-shot timer, so a burst of price ticks or keystrokes
costs one recomputation, not one per event.

What is typed is what is traded: every number is a :class:`~hexdesk.ui.number_field.NumberField`, which keeps the
text as typed and shows, under itself, why a value is refused (Binance's code and message for precision, range and
tick/step grid). Off-grid values are refused, never rounded. While any field is refused, Buy and Sell are disabled
and the line above them says why.

Keyboard: Enter in the price, size, take-profit, stop-loss or risk field sends the order for the side the
stop-loss implies (stop below the entry: Buy, above: Sell; that button shows ``↵``); with no stop-loss nothing is
sent and the status line says to click Buy or Sell. Enter in the leverage field applies the leverage, it never
sends an order.

A refusal in the status line (or a leverage / margin-mode refusal above the form) stays until what it spoke of
changes: any input, the symbol, leverage or margin mode, or the account (a fill, a cancel, funding; the main
window calls :meth:`OrderTicket.sync_settings` after every desk event).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from hexdesk.engine.enums import MarginMode, OrderStatus, OrderType, Side, TimeInForce
from hexdesk.engine.orders import OrderRequest
from hexdesk.ui import format as fmt
from hexdesk.ui import theme
from hexdesk.ui.number_field import NumberField, leverage_rule, percent_rule, price_rule, quantity_rule

if TYPE_CHECKING:
    from hexdesk.engine.instruments import Instrument
    from hexdesk.engine.risk import OrderPreview
    from hexdesk.service import TradingDesk

PREVIEW_DELAY_MS = 120  # at most ~8 previews a second, whatever the tick rate
ORDER_TYPES = {"Market": OrderType.MARKET, "Limit": OrderType.LIMIT, "Stop Market": OrderType.STOP_MARKET}
MARGIN_MODES = {"Isolated": MarginMode.ISOLATED, "Cross": MarginMode.CROSS}
PreviewFormatter = Callable[["OrderPreview", "Instrument"], str]
#: One row per figure: caption, object name of the Long label (the Short one adds "Short"), how to show it.
#: Adding a figure of the desk's OrderPreview is one line here.
PREVIEW_ROWS: tuple[tuple[str, str, PreviewFormatter], ...] = (
    ("Fill price", "previewFill", lambda p, i: fmt.price(p.fill_price, i.tick_size)),
    ("  slippage", "previewSlip", lambda p, i: _slip_text(p)),
    ("Margin", "previewMargin", lambda p, i: fmt.usdt(p.initial_margin)),
    ("Cost + fee", "previewCost", lambda p, i: fmt.usdt(p.total_cost)),
    ("Liq. price", "previewLiq", lambda p, i: fmt.price(p.liquidation_price, i.tick_size)),
    ("Loss at stop", "previewLossStop", lambda p, i: fmt.usdt(p.loss_at_stop)),
    ("  at most", "previewMaxLossStop", lambda p, i: fmt.usdt(p.max_loss_at_stop)),
    ("Loss if liquidated", "previewLossLiq", lambda p, i: fmt.usdt(p.loss_at_liquidation)),
    ("Fees in + out", "previewFees", lambda p, i: _fees_text(p)),
)


def _slip_text(p: OrderPreview) -> str:
    """What the slippage costs against the last (or stop) price: a row of its own, so a narrow ticket (a 1366 px
    laptop) keeps both columns in view; "price (slip x%)" in one cell pushed the Short column off the edge."""
    return fmt.pct_points(p.slippage_pct, 3)


def _fees_text(p: OrderPreview) -> str:
    """Entry fee + the stop's exit fee (taker), when a stop is set."""
    if p.exit_fee_at_stop is None:
        return fmt.usdt(p.entry_fee)
    return f"{fmt.usdt(p.entry_fee)} + {fmt.usdt(p.exit_fee_at_stop)}"


MAX_WARNINGS = 3
ENTER_MARK = " ↵"
BUTTON_TEXT = {Side.BUY: "Buy / Long", Side.SELL: "Sell / Short"}
NO_SIDE_FOR_ENTER = (
    "Enter sends when a stop-loss sets the side (below the entry: Buy, above: Sell). Click Buy or Sell."
)


def _caption(text: str) -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "caption")
    return label


def _section(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setProperty("role", "section")
    return label


def _set_tone(label: QLabel, tone: str) -> None:
    """Re-polish so the stylesheet's [tone=...] colour applies."""
    label.setProperty("tone", tone)
    label.style().unpolish(label)
    label.style().polish(label)


def _add_field(grid: QGridLayout, row: int, caption: QLabel, field: QWidget, message: QLabel | None = None) -> int:
    """Caption and field on one row, the field's message under the field; returns the next free row."""
    grid.addWidget(caption, row, 0)
    grid.addWidget(field, row, 1)
    if message is None:
        return row + 1
    grid.addWidget(message, row + 1, 1)
    return row + 2


@dataclass(frozen=True, slots=True)
class TicketInputs:
    """What the ticket's fields hold, parsed (None: empty or refused; the field says why)."""

    symbol: str
    order_type: OrderType
    quantity: Decimal | None
    price: Decimal | None
    take_profit: Decimal | None
    stop_loss: Decimal | None


class _FieldsScroll(QScrollArea):
    """The ticket's fields: as tall as they are when the window has room, scrolling when it has not."""

    def __init__(self, fields: QWidget) -> None:
        super().__init__(objectName="ticketFieldsScroll")
        self.setWidget(fields)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)  # never taller than the fields
        self.viewport().setAutoFillBackground(False)  # the ticket's own background, as the pinned buttons have
        fields.setAutoFillBackground(False)
        fields.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the fields changed height (a warning line): the ticket lays out again
        return super().eventFilter(watched, event)

    def sizeHint(self) -> QSize:
        fields = self.widget()
        width = self.width() - 2 * self.frameWidth()
        height = fields.heightForWidth(width) if fields.hasHeightForWidth() else -1  # wrapped labels, as shown
        return QSize(super().sizeHint().width(), max(height, fields.sizeHint().height()) + 2 * self.frameWidth())

    def minimumSizeHint(self) -> QSize:
        return QSize(super().minimumSizeHint().width(), 60)


class _Pinned(QWidget):
    """Buy / Sell and the lines about them. Its wrapping labels keep their two-line size hint: asked for a height for
    a width, Qt's box layout would squeeze the fields' scroll area under its size hint and pad the rest."""

    def hasHeightForWidth(self) -> bool:
        return False


class OrderTicket(QWidget):
    """Symbol, margin mode, leverage, order type, size (typed or sized by risk), TP/SL, a live preview, Buy/Sell."""

    symbolChanged = Signal(str)
    submitted = Signal(object)  # the desk's Result of the last Buy / Sell

    def __init__(self, desk: TradingDesk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.setObjectName("orderTicket")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.preview_count = 0  # how many times the preview was recomputed (tests check the throttle)
        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.refresh_preview)
        self._shown_leverage = 0  # the desk's leverage as last shown: sync_settings only overwrites a change
        self._error_state: object | None = None  # the account as it was when an error was shown
        self._loading = False
        self._build()
        self._load_symbol(self.symbol)

    # --- layout ----------------------------------------------------------------------------------------

    def hasHeightForWidth(self) -> bool:
        """No: the window's scroll area would then size the ticket to its wrapped labels' full height, and the
        pinned Buy / Sell would scroll off a short window. The fields scroll inside instead."""
        return False

    def heightForWidth(self, _width: int) -> int:  # QScrollArea asks it when the layout wraps
        return -1

    def _build(self) -> None:
        # The fields scroll; Buy / Sell, why they are disabled and the last result stay pinned under them, so on a
        # short window (800x600) the buttons are always on screen.
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 10)
        outer.setSpacing(0)
        fields = QWidget(objectName="ticketFields")
        col = QVBoxLayout(fields)
        col.setContentsMargins(12, 10, 12, 0)
        col.setSpacing(6)
        self.fieldsScroll = _FieldsScroll(fields)
        outer.addWidget(self.fieldsScroll)
        pinned_box = _Pinned(objectName="ticketButtons")
        pinned = QVBoxLayout(pinned_box)
        pinned.setContentsMargins(12, 0, 12, 0)
        pinned.setSpacing(6)
        outer.addWidget(pinned_box)
        outer.setAlignment(Qt.AlignmentFlag.AlignTop)  # room to spare goes below the buttons

        self.symbolInput = QComboBox(objectName="symbolInput")
        self.symbolInput.addItems(self.desk.symbols)
        self.lastPrice = QLabel(fmt.NONE, objectName="lastPrice")
        self.lastPrice.setProperty("role", "figure")
        self.lastPrice.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        top = QHBoxLayout()
        top.addWidget(self.symbolInput, 1)
        top.addWidget(self.lastPrice, 1)
        col.addLayout(top)

        self.marginModeInput = QComboBox(objectName="marginModeInput")
        self.marginModeInput.addItems(list(MARGIN_MODES))
        self.leverageInput = NumberField("leverageInput", "a leverage", required=True)
        self.leverageInput.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.leverageInput.hint = "Applied when you press Enter or leave the field (or send an order)"
        self.leverageInput.setToolTip(self.leverageInput.hint)
        margin_row = QHBoxLayout()
        margin_row.addWidget(self.marginModeInput, 1)
        margin_row.addWidget(_caption("Leverage"))
        margin_row.addWidget(self.leverageInput, 1)
        margin_row.addWidget(_caption("x"))
        col.addLayout(margin_row)
        col.addWidget(self.leverageInput.message_label)
        self.accountStatus = QLabel("", objectName="accountStatus", wordWrap=True)
        self.accountStatus.setProperty("tone", "error")
        self.accountStatus.setStyleSheet(f"color: {theme.RED};")
        self.accountStatus.hide()
        col.addWidget(self.accountStatus)

        form = QGridLayout()
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(4)
        form.setColumnStretch(1, 1)
        self.orderTypeInput = QComboBox(objectName="orderTypeInput")
        self.orderTypeInput.addItems(list(ORDER_TYPES))
        self.priceCaption = _caption("Price")
        self.priceInput = NumberField("priceInput", "a limit price")
        self.quantityInput = NumberField("quantityInput", "a size", required=True)
        self.quantityCaption = _caption("Size")
        row = _add_field(form, 0, _caption("Type"), self.orderTypeInput)
        row = _add_field(form, row, self.priceCaption, self.priceInput, self.priceInput.message_label)
        _add_field(form, row, self.quantityCaption, self.quantityInput, self.quantityInput.message_label)
        col.addLayout(form)

        col.addWidget(_section("Size by risk"))
        risk_row = QHBoxLayout()
        self.sizeByRisk = QCheckBox("From stop-loss, risking", objectName="sizeByRisk", checked=True)
        self.riskInput = NumberField("riskInput", "a risk %", required=True, rule=percent_rule("Risk", 2), places=2)
        self.riskInput.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.riskInput.setMaximumWidth(80)
        self.riskInput.setValue(Decimal(1))
        risk_row.addWidget(self.sizeByRisk, 1)
        risk_row.addWidget(self.riskInput)
        risk_row.addWidget(_caption("%"))
        col.addLayout(risk_row)
        col.addWidget(self.riskInput.message_label)
        self.riskHint = QLabel("Set a stop-loss to size the position.", objectName="riskHint", wordWrap=True)
        self.riskHint.setProperty("role", "caption")
        col.addWidget(self.riskHint)

        col.addWidget(_section("Take profit / Stop loss"))
        protect = QGridLayout()
        protect.setHorizontalSpacing(8)
        protect.setVerticalSpacing(4)
        protect.setColumnStretch(1, 1)
        self.takeProfitInput = NumberField("takeProfitInput", "a take-profit")
        self.stopLossInput = NumberField("stopLossInput", "a stop-loss")
        for edit in (self.takeProfitInput, self.stopLossInput):
            edit.setPlaceholderText("optional")
        row = _add_field(protect, 0, _caption("TP trigger"), self.takeProfitInput, self.takeProfitInput.message_label)
        _add_field(protect, row, _caption("SL trigger"), self.stopLossInput, self.stopLossInput.message_label)
        col.addLayout(protect)

        col.addWidget(_section("Preview"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(3)
        grid.setColumnStretch(0, 1)
        for c, (text, colour) in enumerate((("Long", theme.GREEN), ("Short", theme.RED)), start=1):
            head = QLabel(text)
            head.setStyleSheet(f"color: {colour}; font-weight: bold;")
            head.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(head, 0, c)
        self.preview_labels: dict[tuple[str, Side], QLabel] = {}
        for r, (caption, name, _formatter) in enumerate(PREVIEW_ROWS, start=1):
            grid.addWidget(_caption(caption), r, 0)
            for c, side in enumerate((Side.BUY, Side.SELL), start=1):
                label = QLabel(fmt.NONE, objectName=name if side is Side.BUY else f"{name}Short")
                label.setProperty("role", "figure")
                label.setAlignment(Qt.AlignmentFlag.AlignRight)
                grid.addWidget(label, r, c)
                self.preview_labels[name, side] = label
        col.addLayout(grid)
        col.addSpacing(4)
        # Pinned with the buttons, not in the scrolling fields: a risk warning ("No stop-loss: ...") is read before
        # the order is sent even on a 768 px tall laptop, where the fields scroll and it fell below the fold.
        self.warnings = QLabel("", objectName="warnings", wordWrap=True)
        self.warnings.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        pinned.addWidget(self.warnings)

        self.blockedLabel = QLabel("", objectName="blockedLabel", wordWrap=True)
        self.blockedLabel.setStyleSheet(f"color: {theme.MUTED}; font-size: 11px;")
        pinned.addWidget(self.blockedLabel)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.buyButton = QPushButton(BUTTON_TEXT[Side.BUY], objectName="buyButton")
        self.sellButton = QPushButton(BUTTON_TEXT[Side.SELL], objectName="sellButton")
        for b in (self.buyButton, self.sellButton):
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            # a disabled Buy must not look like one that works (the theme colours the buttons by name)
            b.setStyleSheet(f"QPushButton:disabled {{ background: {theme.PANEL_ALT}; color: {theme.MUTED}; }}")
            buttons.addWidget(b)
        pinned.addLayout(buttons)
        self.statusLabel = QLabel("", objectName="statusLabel", wordWrap=True)
        self.statusLabel.setMinimumHeight(32)
        pinned.addWidget(self.statusLabel)

        self.symbolInput.currentTextChanged.connect(self._load_symbol)
        self.marginModeInput.currentTextChanged.connect(self._on_margin_mode)
        self.leverageInput.committed.connect(self._on_leverage)
        self.leverageInput.valueChanged.connect(self._on_input)
        self.leverageInput.valueChanged.connect(self._size_from_risk)
        self.orderTypeInput.currentTextChanged.connect(self._on_order_type)
        for edit in (self.priceInput, self.takeProfitInput, self.stopLossInput, self.riskInput):
            edit.valueChanged.connect(self._size_from_risk)
        for edit in self.order_fields():
            edit.valueChanged.connect(self._on_input)
            edit.returnPressed.connect(self.submit_from_enter)
        self.sizeByRisk.toggled.connect(self._size_from_risk)
        self.sizeByRisk.toggled.connect(self._on_input)
        self.buyButton.clicked.connect(lambda: self.submit(Side.BUY))
        self.sellButton.clicked.connect(lambda: self.submit(Side.SELL))
        self._on_order_type(self.orderTypeInput.currentText())

    def order_fields(self) -> tuple[NumberField, ...]:
        """The fields Enter sends from (all numeric fields but leverage, whose Enter applies the leverage)."""
        return (self.priceInput, self.quantityInput, self.takeProfitInput, self.stopLossInput, self.riskInput)

    # --- state -----------------------------------------------------------------------------------------

    @property
    def symbol(self) -> str:
        return self.symbolInput.currentText()

    @property
    def instrument(self) -> Instrument:
        return self.desk.instrument(self.symbol)

    @property
    def order_type(self) -> OrderType:
        return ORDER_TYPES[self.orderTypeInput.currentText()]

    def set_symbol(self, symbol: str) -> None:
        self.symbolInput.setCurrentText(symbol)

    def _load_symbol(self, symbol: str) -> None:
        """Per-symbol settings come from the desk: leverage range and value, margin mode, input rules."""
        inst = self.desk.instrument(symbol)
        self._loading = True
        try:
            self.leverageInput.set_rule(leverage_rule(symbol, inst.max_leverage))
            for edit, noun in ((self.priceInput, "Price"), (self.takeProfitInput, "Take-profit"),
                               (self.stopLossInput, "Stop-loss")):
                edit.places = fmt.decimals_of(inst.tick_size)
                edit.set_rule(price_rule(inst, noun))
            self.quantityInput.places = fmt.decimals_of(inst.step_size)
            self.quantityInput.set_rule(quantity_rule(inst, self.order_type))
            self.quantityCaption.setText(f"Size ({inst.base_asset})")
            step = inst.step_size
            self.quantityInput.setPlaceholderText(f"min {fmt.qty(inst.min_qty, step)}, step {step.normalize()}")
            self._shown_leverage = self.desk.leverage(symbol)
            self.leverageInput.setValue(self._shown_leverage, quiet=True)
            with _blocked(self.marginModeInput):
                self.marginModeInput.setCurrentText(_mode_text(self.desk.margin_mode(symbol)))
            for edit in (self.quantityInput, self.priceInput, self.takeProfitInput, self.stopLossInput):
                edit.clear()
            self._prefill_price()
        finally:
            self._loading = False
        self._clear_errors()
        self.statusLabel.clear()
        self._size_from_risk()
        self.refresh_price()
        self.symbolChanged.emit(symbol)

    def sync_settings(self) -> None:
        """After any desk event: show leverage / margin mode changed elsewhere; drop an error the event outdated."""
        symbol = self.symbol
        leverage, mode = self.desk.leverage(symbol), self.desk.margin_mode(symbol)
        changed = False
        if leverage != self._shown_leverage:
            self._shown_leverage = leverage
            self.leverageInput.setValue(leverage, quiet=True)
            changed = True
        if self.marginModeInput.currentText() != _mode_text(mode):
            with _blocked(self.marginModeInput):
                self.marginModeInput.setCurrentText(_mode_text(mode))
            changed = True
        if changed:
            self._clear_errors()
            self._size_from_risk()
            self.request_preview()
        if self._error_state is not None and self._account_state() != self._error_state:
            self._clear_errors()

    def _on_margin_mode(self, text: str) -> None:
        self._clear_errors()
        rejection = self.desk.set_margin_mode(self.symbol, MARGIN_MODES[text])
        if rejection is not None:
            with _blocked(self.marginModeInput):
                self.marginModeInput.setCurrentText(_mode_text(self.desk.margin_mode(self.symbol)))
            self._show_account_status(str(rejection))
        self._size_from_risk()
        self.request_preview()

    def _on_leverage(self, value: Decimal) -> None:
        """The trader finished typing a valid leverage: apply it, or show the desk's refusal and what stays."""
        leverage = int(value)
        if leverage == self.desk.leverage(self.symbol):
            return
        self._clear_errors()
        rejection = self.desk.set_leverage(self.symbol, leverage)
        self._shown_leverage = self.desk.leverage(self.symbol)
        if rejection is not None:
            self.leverageInput.setValue(self._shown_leverage, quiet=True)
            self._show_account_status(f"{rejection} (leverage stays {self._shown_leverage}x)")
        self._size_from_risk()
        self._update_buttons()
        self.request_preview()

    def _apply_typed_leverage(self) -> bool:
        """Before sending: the leverage on screen is the one in force (applies a typed, not yet applied one)."""
        typed = self.leverageInput.value()
        if typed is not None and int(typed) != self.desk.leverage(self.symbol):
            self._on_leverage(typed)
        return typed is not None and int(typed) == self.desk.leverage(self.symbol)

    def _show_account_status(self, text: str) -> None:
        self.accountStatus.setText(text)
        self.accountStatus.show()
        self._error_state = self._account_state()

    def _on_order_type(self, text: str) -> None:
        kind = ORDER_TYPES[text]
        self.priceInput.setEnabled(kind is not OrderType.MARKET)
        self.priceCaption.setText("Stop price" if kind is OrderType.STOP_MARKET else "Price")
        self.priceInput.noun = "a stop price" if kind is OrderType.STOP_MARKET else "a limit price"
        self.priceInput.setPlaceholderText("at market" if kind is OrderType.MARKET else "")
        self.priceInput.set_required(kind is not OrderType.MARKET)
        self.quantityInput.set_rule(quantity_rule(self.instrument, kind))
        if kind is OrderType.MARKET:
            self.priceInput.clear()  # a greyed-out old price would read as the price a market order gets
        else:
            self._prefill_price()
        self._on_input()
        self._size_from_risk()
        self.request_preview()

    def _prefill_price(self) -> None:
        if self.order_type is OrderType.MARKET or self.priceInput.text():
            return
        last = self.desk.last_price(self.symbol)
        if last is not None:
            self.priceInput.setValue(last)

    # --- inputs ----------------------------------------------------------------------------------------

    def inputs(self) -> TicketInputs:
        kind = self.order_type
        return TicketInputs(
            symbol=self.symbol,
            order_type=kind,
            quantity=self.quantityInput.value(),
            price=None if kind is OrderType.MARKET else self.priceInput.value(),
            take_profit=self.takeProfitInput.value(),
            stop_loss=self.stopLossInput.value(),
        )

    def entry_price(self) -> Decimal | None:
        """The price the entry is expected at: the typed price, or the last price for a market order."""
        i = self.inputs()
        return i.price if i.order_type is not OrderType.MARKET else self.desk.last_price(self.symbol)

    def field_problems(self) -> list[tuple[str, str]]:
        """(field caption, reason) for every field that stops an order from being sent, in screen order."""
        fields: list[tuple[str, NumberField]] = [("Leverage", self.leverageInput)]
        if self.order_type is not OrderType.MARKET:
            fields.append((self.priceCaption.text(), self.priceInput))
        fields.append(("Size", self.quantityInput))
        if self.sizeByRisk.isChecked():
            fields.append(("Risk", self.riskInput))
        fields += [("Take-profit", self.takeProfitInput), ("Stop-loss", self.stopLossInput)]
        return [(name, problem) for name, f in fields if (problem := f.problem()) is not None]

    def blocking_problem(self) -> str | None:
        """Why Buy / Sell are disabled now (the first refused field), or None when an order can be sent."""
        problems = self.field_problems()
        return f"{problems[0][0]}: {problems[0][1]}" if problems else None

    def build_request(self, side: Side) -> OrderRequest | str:
        """The OrderRequest for ``side`` with exactly the values on screen, or why the fields do not make one."""
        problem = self.blocking_problem()
        if problem:
            return problem
        i = self.inputs()
        common: dict[str, Any] = {"quantity": i.quantity, "take_profit": i.take_profit, "stop_loss": i.stop_loss}
        if i.order_type is OrderType.LIMIT:
            return OrderRequest(i.symbol, side, OrderType.LIMIT, price=i.price, time_in_force=TimeInForce.GTC, **common)
        if i.order_type is OrderType.STOP_MARKET:
            return OrderRequest(i.symbol, side, OrderType.STOP_MARKET, stop_price=i.price, **common)
        return OrderRequest(i.symbol, side, OrderType.MARKET, **common)

    def _on_input(self, *_: object) -> None:
        """Any input changed: an error about the old inputs no longer applies; the buttons follow the fields."""
        if not self._loading:
            self._clear_errors()
        self._update_buttons()
        self.request_preview()

    def _update_buttons(self) -> None:
        problem = self.blocking_problem()
        self.blockedLabel.setText(f"Buy / Sell disabled. {problem}" if problem else "")
        self.blockedLabel.setVisible(problem is not None)
        side = self.implied_side() if problem is None else None
        for s, button in ((Side.BUY, self.buyButton), (Side.SELL, self.sellButton)):
            button.setEnabled(problem is None)
            button.setText(BUTTON_TEXT[s] + (ENTER_MARK if s is side else ""))
            idle = f"Send {BUTTON_TEXT[s]} for the order on screen ({s.value[0]} picks it for Enter)"
            button.setToolTip(problem or (f"Enter in the ticket sends {BUTTON_TEXT[s]}" if s is side else idle))

    # --- size by risk ----------------------------------------------------------------------------------

    def _size_from_risk(self, *_: object) -> None:
        """Fill the size from the stop-loss and the risk %: the desk's sizer rounds down, so the risk is a ceiling.

        A stop the sizer cannot size from (at the entry: no risk distance) is an error shown at the stop-loss, and
        blocks Buy / Sell: the size in the field was not made for this stop.
        """
        problem = self._sizing()
        self.stopLossInput.set_external_problem(problem)
        self.riskHint.setStyleSheet(f"color: {theme.RED};" if problem else "")
        self._update_buttons()

    def _sizing(self) -> str | None:
        """Run the sizer if it should run; returns the sizer's refusal, if any (the hint says the rest)."""
        if self._loading:
            return None
        if not self.sizeByRisk.isChecked():
            self.riskHint.setText("Size is typed by hand.")
            return None
        i = self.inputs()
        entry, risk, leverage = self.entry_price(), self.riskInput.value(), self.leverageInput.value()
        if i.stop_loss is None or entry is None:
            self.riskHint.setText("Set a stop-loss to size the position.")
            return None
        if risk is None or leverage is None:
            self.riskHint.setText("Fix the risk % and the leverage to size the position.")
            return None
        tp = i.take_profit
        if tp is not None and (tp - entry) * (1 if i.stop_loss < entry else -1) <= 0:
            tp = None  # a take-profit on the wrong side is the preview's warning, not a reason not to size
        try:
            sizing = self.desk.size_position(
                self.symbol, entry, i.stop_loss, risk, int(leverage), tp, order_type=i.order_type
            )
        except ValueError as exc:
            text = str(exc)
            text = text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
            self.riskHint.setText(text)
            return text
        inst = self.instrument
        if sizing.quantity != self.quantityInput.value() or not self.quantityInput.text():
            self.quantityInput.setValue(sizing.quantity)
        side = "long" if sizing.side is Side.BUY else "short"
        self.riskHint.setText(
            f"{side.capitalize()} {fmt.qty(sizing.quantity, inst.step_size)} {inst.base_asset}: loses "
            f"{fmt.usdt(sizing.loss_at_stop)} USDT at the stop, at most {fmt.usdt(sizing.max_loss_at_stop)} "
            f"(risk {fmt.usdt(sizing.risk_amount)}), "
            f"margin {fmt.usdt(sizing.initial_margin)}."
        )
        return None

    # --- preview ---------------------------------------------------------------------------------------

    def request_preview(self, *_: object) -> None:
        """Recompute soon; repeated requests within the delay collapse into one recomputation."""
        if not self._preview_timer.isActive():
            self._preview_timer.start()

    def refresh_price(self) -> None:
        """The last price moved: show it and schedule a preview (the main window calls this once per frame)."""
        last = self.desk.last_price(self.symbol)
        self.lastPrice.setText(fmt.price(last, self.instrument.tick_size))
        if self.order_type is OrderType.MARKET:
            self._update_buttons()  # the side a stop implies moves with the last price
        self.request_preview()

    def refresh_preview(self) -> None:
        """Ask the desk what a Buy and a Sell of the typed order would cost and risk."""
        self.preview_count += 1
        previews: dict[Side, OrderPreview | None] = {}
        for side in (Side.BUY, Side.SELL):
            request = self.build_request(side)
            previews[side] = None
            if isinstance(request, OrderRequest):
                try:
                    previews[side] = self.desk.preview(request)
                except ValueError:
                    previews[side] = None
        inst = self.instrument
        for side, p in previews.items():
            for _caption_text, name, formatter in PREVIEW_ROWS:
                self.preview_labels[name, side].setText(formatter(p, inst) if p else fmt.NONE)
        self._show_warnings(previews)

    def implied_side(self) -> Side | None:
        """The side Enter sends: the one chosen with B / S, else the one the stop-loss implies (below: long)."""
        if getattr(self, "chosen_side", None) is not None:
            return self.chosen_side
        stop, entry = self.inputs().stop_loss, self.entry_price()
        if stop is None or entry is None or stop == entry:
            return None
        return Side.BUY if stop < entry else Side.SELL

    def _show_warnings(self, previews: dict[Side, OrderPreview | None]) -> None:
        """Warnings of the side the stop implies, else of both sides, each once, most serious first."""
        side = self.implied_side()
        sides = (side,) if side is not None else (Side.BUY, Side.SELL)
        seen: list[str] = []
        for s in sides:
            p = previews.get(s)
            if p is not None and p.rejection is not None:
                seen.append(f"{BUTTON_TEXT[s]} would be rejected: {p.rejection}")
        for s in sides:
            p = previews.get(s)
            for w in p.warnings if p else ():
                if w.message not in seen:
                    seen.append(w.message)
        for s in (Side.BUY, Side.SELL):
            dim = side is not None and s is not side
            for (name, label_side), label in self.preview_labels.items():
                if label_side is s:
                    colour = theme.MUTED if dim else theme.ORANGE if name == "previewLiq" else None
                    label.setStyleSheet(f"color: {colour};" if colour else "")
        shown = seen[:MAX_WARNINGS]
        self.warnings.setText("\n".join(f"⚠ {m}" for m in shown))
        self.warnings.setVisible(bool(shown))

    # --- keyboard (issue 10.5: hexdesk/ui/shortcuts.py) -------------------------------------------------

    chosen_side: Side | None = None  # picked with B / S (or the chart's menu): the side Enter sends

    def choose_side(self, side: Side | None) -> None:
        """B / S: Enter now sends ``side``; the size field takes the focus, its text selected to be typed over."""
        self.chosen_side = side
        self._update_buttons()
        self.request_preview()
        if side is not None:
            self.quantityInput.setFocus(Qt.FocusReason.ShortcutFocusReason)
            self.quantityInput.selectAll()

    def clear_order(self) -> None:
        """Esc: an empty order (the chosen side, size, TP, SL and status go; the price goes back to the last)."""
        self.chosen_side = None
        for edit in (self.quantityInput, self.takeProfitInput, self.stopLossInput, self.priceInput):
            edit.clear()
        self._prefill_price()
        self.statusLabel.clear()
        self._on_input()
        self._size_from_risk()

    # --- actions ---------------------------------------------------------------------------------------

    def submit_from_enter(self) -> Any:
        """Enter in an order field: send the side the stop-loss implies, or say why nothing was sent."""
        problem = self.blocking_problem()
        if problem is not None:
            self.show_status(problem, "error")
            return None
        side = self.implied_side()
        if side is None:
            self.show_status(NO_SIDE_FOR_ENTER, "info")
            return None
        return self.submit(side)

    def submit(self, side: Side) -> Any:
        """Send exactly the order on screen (after applying a typed leverage), say what happened."""
        request = self.build_request(side)
        if not isinstance(request, OrderRequest):
            self.show_status(request, "error")
            return None
        if not self._apply_typed_leverage():
            return None  # the desk refused the typed leverage: its reason is shown above the form
        result = self.desk.submit(request)
        if not result.ok:
            self.show_status(str(result.rejection), "error")
        else:
            self.show_status(self.describe(result.order), "ok")
        self.submitted.emit(result)
        self.request_preview()
        return result

    def describe(self, order: Any) -> str:
        """An accepted order in a trader's words: 'Filled 0.100 BTCUSDT @ 84,950.1'."""
        inst = self.desk.instrument(order.symbol)
        q = fmt.qty(order.executed_qty if order.executed_qty else order.quantity, inst.step_size)
        if order.status is OrderStatus.FILLED:
            return f"Filled {q} {order.symbol} @ {fmt.price(order.avg_price, inst.tick_size)}"
        if order.status is OrderStatus.PARTIALLY_FILLED:
            total = fmt.qty(order.quantity, inst.step_size)
            return f"Partially filled {q}/{total} {order.symbol} @ {fmt.price(order.avg_price, inst.tick_size)}"
        where = order.stop_price if order.type.is_conditional else order.price
        verb = "trigger" if order.type.is_conditional else "@"
        kind = order.type.value.replace("_", " ").title()
        status = "Placed" if order.status is OrderStatus.NEW else order.status.value.title()
        side = order.side.value.title()
        return f"{status} {kind} {side} {q} {order.symbol} {verb} {fmt.price(where, inst.tick_size)}"

    def show_status(self, text: str, tone: str) -> None:
        """The status line under the buttons; an "error" or "info" text stays until what it spoke of changes."""
        self.statusLabel.setText(text)
        _set_tone(self.statusLabel, tone)
        if tone != "ok":
            self._error_state = self._account_state()

    # --- clearing errors -------------------------------------------------------------------------------

    def _account_state(self) -> object:
        """What a refusal speaks of: fills, open orders, positions, wallet, leverage and margin mode."""
        desk = self.desk
        return (
            len(desk.fills()),
            tuple((o.order_id, o.status, o.executed_qty) for o in desk.open_orders()),
            tuple((p.symbol, p.quantity, p.isolated_wallet) for p in desk.positions()),
            desk.account().wallet_balance,
            desk.leverage(self.symbol),
            desk.margin_mode(self.symbol),
        )

    def _clear_errors(self) -> None:
        if self._error_state is None:
            return
        self._error_state = None
        self.accountStatus.clear()
        self.accountStatus.hide()
        if self.statusLabel.property("tone") != "ok":
            self.statusLabel.clear()
            _set_tone(self.statusLabel, "")


def _mode_text(mode: MarginMode) -> str:
    return next(k for k, v in MARGIN_MODES.items() if v is mode)


class _blocked:
    """Set widgets' values without their change signals calling the desk back."""

    def __init__(self, *widgets: QWidget) -> None:
        self.widgets = widgets

    def __enter__(self) -> None:
        self.previous = [w.blockSignals(True) for w in self.widgets]

    def __exit__(self, *exc: object) -> None:
        for w, was in zip(self.widgets, self.previous, strict=True):
            w.blockSignals(was)
