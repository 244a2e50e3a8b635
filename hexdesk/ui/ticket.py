"""The order ticket: what the trader types, what it would cost and risk, and the Buy / Sell buttons.

Thin by design: every figure in the preview comes from ``desk.preview`` / ``desk.size_position`` and every action
is one desk call whose result is shown as Binance would word it. The ticket only parses inputs into an
``OrderRequest``. The preview is recomputed on a short single-shot timer, so a burst of price ticks or keystrokes
costs one recomputation, not one per event.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRegularExpression, Qt, QTimer, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hexdesk.engine.enums import MarginMode, OrderStatus, OrderType, Side, TimeInForce
from hexdesk.engine.orders import OrderRequest
from hexdesk.ui import format as fmt
from hexdesk.ui import theme

if TYPE_CHECKING:
    from hexdesk.engine.instruments import Instrument
    from hexdesk.engine.risk import OrderPreview
    from hexdesk.service import TradingDesk

PREVIEW_DELAY_MS = 120  # at most ~8 previews a second, whatever the tick rate
ORDER_TYPES = {"Market": OrderType.MARKET, "Limit": OrderType.LIMIT, "Stop Market": OrderType.STOP_MARKET}
MARGIN_MODES = {"Isolated": MarginMode.ISOLATED, "Cross": MarginMode.CROSS}
PREVIEW_ROWS = (
    ("Cost", "previewCost"),
    ("Liq. price", "previewLiq"),
    ("Loss at stop", "previewLossStop"),
    ("Loss if liquidated", "previewLossLiq"),
    ("Fees (entry)", "previewFees"),
)
MAX_WARNINGS = 3


def _decimal_validator(places: int, parent: QWidget) -> QRegularExpressionValidator:
    """Digits with at most ``places`` decimals: a typed quantity or price can never be finer than the step/tick."""
    frac = rf"(\.\d{{0,{places}}})?" if places else ""
    return QRegularExpressionValidator(QRegularExpression(rf"^[0-9,]*{frac}$"), parent)


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


def _set_invalid(edit: QLineEdit, invalid: bool) -> None:
    if edit.property("invalid") != invalid:
        edit.setProperty("invalid", invalid)
        edit.style().unpolish(edit)
        edit.style().polish(edit)


@dataclass(frozen=True, slots=True)
class TicketInputs:
    """What the ticket's fields hold, parsed (None: empty or not a number)."""

    symbol: str
    order_type: OrderType
    quantity: Decimal | None
    price: Decimal | None
    take_profit: Decimal | None
    stop_loss: Decimal | None


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
        self._build()
        self._load_symbol(self.symbol)

    # --- layout ----------------------------------------------------------------------------------------

    def _build(self) -> None:
        col = QVBoxLayout(self)
        col.setContentsMargins(12, 10, 12, 10)
        col.setSpacing(6)

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
        self.leverageInput = QSpinBox(objectName="leverageInput", suffix="x", minimum=1)
        self.leverageInput.setKeyboardTracking(False)  # typing "25" must not try 2x on the way
        self.leverageInput.setAlignment(Qt.AlignmentFlag.AlignRight)
        margin_row = QHBoxLayout()
        margin_row.addWidget(self.marginModeInput, 1)
        margin_row.addWidget(self.leverageInput, 1)
        col.addLayout(margin_row)
        self.accountStatus = QLabel("", objectName="accountStatus", wordWrap=True)
        self.accountStatus.setProperty("tone", "error")
        self.accountStatus.setStyleSheet(f"color: {theme.RED};")
        self.accountStatus.hide()
        col.addWidget(self.accountStatus)

        form = QGridLayout()
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(6)
        form.setColumnStretch(1, 1)
        self.orderTypeInput = QComboBox(objectName="orderTypeInput")
        self.orderTypeInput.addItems(list(ORDER_TYPES))
        self.priceCaption = _caption("Price")
        self.priceInput = QLineEdit(objectName="priceInput")
        self.quantityInput = QLineEdit(objectName="quantityInput")
        self.quantityCaption = _caption("Size")
        for row, (caption, widget) in enumerate(
            ((_caption("Type"), self.orderTypeInput), (self.priceCaption, self.priceInput),
             (self.quantityCaption, self.quantityInput))
        ):
            form.addWidget(caption, row, 0)
            form.addWidget(widget, row, 1)
        col.addLayout(form)

        col.addWidget(_section("Size by risk"))
        risk_row = QHBoxLayout()
        self.sizeByRisk = QCheckBox("From stop-loss, risking", objectName="sizeByRisk", checked=True)
        self.riskInput = QDoubleSpinBox(objectName="riskInput", decimals=2, minimum=0.05, maximum=100.0,
                                        singleStep=0.25, value=1.0, suffix=" %")
        self.riskInput.setAlignment(Qt.AlignmentFlag.AlignRight)
        risk_row.addWidget(self.sizeByRisk, 1)
        risk_row.addWidget(self.riskInput)
        col.addLayout(risk_row)
        self.riskHint = QLabel("Set a stop-loss to size the position.", objectName="riskHint", wordWrap=True)
        self.riskHint.setProperty("role", "caption")
        col.addWidget(self.riskHint)

        col.addWidget(_section("Take profit / Stop loss"))
        protect = QGridLayout()
        protect.setHorizontalSpacing(8)
        protect.setColumnStretch(1, 1)
        self.takeProfitInput = QLineEdit(objectName="takeProfitInput", placeholderText="optional")
        self.stopLossInput = QLineEdit(objectName="stopLossInput", placeholderText="optional")
        protect.addWidget(_caption("TP trigger"), 0, 0)
        protect.addWidget(self.takeProfitInput, 0, 1)
        protect.addWidget(_caption("SL trigger"), 1, 0)
        protect.addWidget(self.stopLossInput, 1, 1)
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
        for r, (caption, name) in enumerate(PREVIEW_ROWS, start=1):
            grid.addWidget(_caption(caption), r, 0)
            for c, side in enumerate((Side.BUY, Side.SELL), start=1):
                label = QLabel(fmt.NONE, objectName=name if side is Side.BUY else f"{name}Short")
                label.setProperty("role", "figure")
                label.setAlignment(Qt.AlignmentFlag.AlignRight)
                grid.addWidget(label, r, c)
                self.preview_labels[name, side] = label
        col.addLayout(grid)
        self.warnings = QLabel("", objectName="warnings", wordWrap=True)
        self.warnings.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        col.addWidget(self.warnings)
        col.addSpacing(4)

        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.buyButton = QPushButton("Buy / Long", objectName="buyButton")
        self.sellButton = QPushButton("Sell / Short", objectName="sellButton")
        for b in (self.buyButton, self.sellButton):
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            buttons.addWidget(b)
        col.addLayout(buttons)
        self.statusLabel = QLabel("", objectName="statusLabel", wordWrap=True)
        self.statusLabel.setMinimumHeight(32)
        col.addWidget(self.statusLabel)
        col.addStretch(1)

        self.symbolInput.currentTextChanged.connect(self._load_symbol)
        self.marginModeInput.currentTextChanged.connect(self._on_margin_mode)
        self.leverageInput.valueChanged.connect(self._on_leverage)
        self.orderTypeInput.currentTextChanged.connect(self._on_order_type)
        for edit in (self.quantityInput, self.priceInput, self.takeProfitInput):
            edit.textChanged.connect(self.request_preview)
        self.priceInput.textChanged.connect(self._size_from_risk)
        self.takeProfitInput.textChanged.connect(self._size_from_risk)
        self.stopLossInput.textChanged.connect(self._size_from_risk)
        self.stopLossInput.textChanged.connect(self.request_preview)
        self.riskInput.valueChanged.connect(self._size_from_risk)
        self.sizeByRisk.toggled.connect(self._size_from_risk)
        self.buyButton.clicked.connect(lambda: self.submit(Side.BUY))
        self.sellButton.clicked.connect(lambda: self.submit(Side.SELL))
        self._on_order_type(self.orderTypeInput.currentText())

    # --- state -----------------------------------------------------------------------------------------

    @property
    def symbol(self) -> str:
        return self.symbolInput.currentText()

    @property
    def instrument(self) -> Instrument:
        return self.desk.instrument(self.symbol)

    def set_symbol(self, symbol: str) -> None:
        self.symbolInput.setCurrentText(symbol)

    def _load_symbol(self, symbol: str) -> None:
        """Per-symbol settings come from the desk: leverage range and value, margin mode, input precision."""
        inst = self.desk.instrument(symbol)
        self.quantityInput.setValidator(_decimal_validator(fmt.decimals_of(inst.step_size), self.quantityInput))
        tick_places = fmt.decimals_of(inst.tick_size)
        for edit in (self.priceInput, self.takeProfitInput, self.stopLossInput):
            edit.setValidator(_decimal_validator(tick_places, edit))
        self.quantityCaption.setText(f"Size ({inst.base_asset})")
        step = inst.step_size
        self.quantityInput.setPlaceholderText(f"min {fmt.qty(inst.min_qty, step)}, step {step.normalize()}")
        with _blocked(self.leverageInput, self.marginModeInput):
            self.leverageInput.setMaximum(inst.max_leverage)
            self.leverageInput.setValue(self.desk.leverage(symbol))
            mode = self.desk.margin_mode(symbol)
            self.marginModeInput.setCurrentText(next(k for k, v in MARGIN_MODES.items() if v is mode))
        for edit in (self.quantityInput, self.priceInput, self.takeProfitInput, self.stopLossInput):
            edit.clear()
        self._show_account_status(None)
        self.statusLabel.clear()
        self.refresh_price()
        self.symbolChanged.emit(symbol)

    def sync_settings(self) -> None:
        """Show the desk's leverage and margin mode if they were changed elsewhere (a script, another window)."""
        symbol = self.symbol
        leverage, mode = self.desk.leverage(symbol), self.desk.margin_mode(symbol)
        mode_text = next(k for k, v in MARGIN_MODES.items() if v is mode)
        if self.leverageInput.value() == leverage and self.marginModeInput.currentText() == mode_text:
            return
        with _blocked(self.leverageInput, self.marginModeInput):
            self.leverageInput.setValue(leverage)
            self.marginModeInput.setCurrentText(mode_text)
        self.request_preview()

    def _on_margin_mode(self, text: str) -> None:
        rejection = self.desk.set_margin_mode(self.symbol, MARGIN_MODES[text])
        if rejection is not None:
            mode = self.desk.margin_mode(self.symbol)
            with _blocked(self.marginModeInput):
                self.marginModeInput.setCurrentText(next(k for k, v in MARGIN_MODES.items() if v is mode))
        self._show_account_status(rejection)
        self._size_from_risk()
        self.request_preview()

    def _on_leverage(self, value: int) -> None:
        rejection = self.desk.set_leverage(self.symbol, value)
        if rejection is not None:
            with _blocked(self.leverageInput):
                self.leverageInput.setValue(self.desk.leverage(self.symbol))
        self._show_account_status(rejection)
        self._size_from_risk()
        self.request_preview()

    def _show_account_status(self, rejection: object | None) -> None:
        self.accountStatus.setText(str(rejection) if rejection is not None else "")
        self.accountStatus.setVisible(rejection is not None)

    def _on_order_type(self, text: str) -> None:
        kind = ORDER_TYPES[text]
        self.priceInput.setEnabled(kind is not OrderType.MARKET)
        self.priceCaption.setText("Stop price" if kind is OrderType.STOP_MARKET else "Price")
        self.priceInput.setPlaceholderText("at market" if kind is OrderType.MARKET else "")
        if kind is OrderType.MARKET:
            self.priceInput.clear()  # a greyed-out old price would read as the price a market order gets
        elif not self.priceInput.text():
            last = self.desk.last_price(self.symbol)
            if last is not None:
                self.priceInput.setText(fmt.price(last, self.instrument.tick_size).replace(",", ""))
        self._size_from_risk()
        self.request_preview()

    # --- inputs ----------------------------------------------------------------------------------------

    def inputs(self) -> TicketInputs:
        kind = ORDER_TYPES[self.orderTypeInput.currentText()]
        return TicketInputs(
            symbol=self.symbol,
            order_type=kind,
            quantity=fmt.parse_decimal(self.quantityInput.text()),
            price=None if kind is OrderType.MARKET else fmt.parse_decimal(self.priceInput.text()),
            take_profit=fmt.parse_decimal(self.takeProfitInput.text()),
            stop_loss=fmt.parse_decimal(self.stopLossInput.text()),
        )

    def entry_price(self) -> Decimal | None:
        """The price the entry is expected at: the typed price, or the last price for a market order."""
        i = self.inputs()
        return i.price if i.order_type is not OrderType.MARKET else self.desk.last_price(self.symbol)

    def _quantity_problem(self, quantity: Decimal | None) -> str | None:
        step = self.instrument.step_size
        if quantity is None or quantity <= 0:
            return "Enter a size."
        if not fmt.on_grid(quantity, step):
            return f"Size must be a multiple of {fmt.qty(step, step)} {self.instrument.base_asset}."
        return None

    def build_request(self, side: Side) -> OrderRequest | str:
        """The OrderRequest for ``side``, or why the fields do not make one yet."""
        i = self.inputs()
        problem = self._quantity_problem(i.quantity)
        if problem:
            return problem
        if i.order_type is not OrderType.MARKET and (i.price is None or i.price <= 0):
            return "Enter a stop price." if i.order_type is OrderType.STOP_MARKET else "Enter a limit price."
        common: dict[str, Any] = {"quantity": i.quantity, "take_profit": i.take_profit, "stop_loss": i.stop_loss}
        if i.order_type is OrderType.LIMIT:
            return OrderRequest(i.symbol, side, OrderType.LIMIT, price=i.price, time_in_force=TimeInForce.GTC, **common)
        if i.order_type is OrderType.STOP_MARKET:
            return OrderRequest(i.symbol, side, OrderType.STOP_MARKET, stop_price=i.price, **common)
        return OrderRequest(i.symbol, side, OrderType.MARKET, **common)

    # --- size by risk ----------------------------------------------------------------------------------

    def _size_from_risk(self, *_: object) -> None:
        """Fill the size from the stop-loss and the risk %: the desk's sizer rounds down, so the risk is a ceiling."""
        if not self.sizeByRisk.isChecked():
            self.riskHint.setText("Size is typed by hand.")
            return
        i = self.inputs()
        entry = self.entry_price()
        if i.stop_loss is None or entry is None:
            self.riskHint.setText("Set a stop-loss to size the position.")
            return
        tp = i.take_profit
        if tp is not None and (tp - entry) * (1 if i.stop_loss < entry else -1) <= 0:
            tp = None  # a take-profit on the wrong side is the preview's warning, not a reason not to size
        try:
            sizing = self.desk.size_position(
                self.symbol, entry, i.stop_loss, Decimal(str(self.riskInput.value())),
                self.leverageInput.value(), tp,
            )
        except ValueError as exc:
            self.riskHint.setText(str(exc))
            return
        inst = self.instrument
        text = fmt.qty(sizing.quantity, inst.step_size).replace(",", "")
        if self.quantityInput.text() != text:
            self.quantityInput.setText(text)
        side = "long" if sizing.side is Side.BUY else "short"
        self.riskHint.setText(
            f"{side.capitalize()} {text} {inst.base_asset}: loses {fmt.usdt(sizing.loss_at_stop)} USDT at the stop "
            f"(risk {fmt.usdt(sizing.risk_amount)}), margin {fmt.usdt(sizing.initial_margin)}."
        )

    # --- preview ---------------------------------------------------------------------------------------

    def request_preview(self, *_: object) -> None:
        """Recompute soon; repeated requests within the delay collapse into one recomputation."""
        if not self._preview_timer.isActive():
            self._preview_timer.start()

    def refresh_price(self) -> None:
        """The last price moved: show it and schedule a preview (the main window calls this once per frame)."""
        last = self.desk.last_price(self.symbol)
        self.lastPrice.setText(fmt.price(last, self.instrument.tick_size))
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
        tick = self.instrument.tick_size
        for side, p in previews.items():
            values = {
                "previewCost": fmt.usdt(p.cost) if p else fmt.NONE,
                "previewLiq": fmt.price(p.liquidation_price, tick) if p else fmt.NONE,
                "previewLossStop": fmt.usdt(p.loss_at_stop) if p else fmt.NONE,
                "previewLossLiq": fmt.usdt(p.loss_at_liquidation) if p else fmt.NONE,
                "previewFees": fmt.usdt(p.entry_fee) if p else fmt.NONE,
            }
            for name, text in values.items():
                self.preview_labels[name, side].setText(text)
        self._show_warnings(previews)
        problem = self._quantity_problem(self.inputs().quantity) if self.quantityInput.text() else None
        _set_invalid(self.quantityInput, problem is not None)

    def implied_side(self) -> Side | None:
        """The side the stop-loss implies (below the entry: long), if one is set."""
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

    # --- actions ---------------------------------------------------------------------------------------

    def submit(self, side: Side) -> Any:
        """Build the request, send it to the desk, say what happened in the status line."""
        request = self.build_request(side)
        if not isinstance(request, OrderRequest):
            self.show_status(request, "error")
            return None
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
        self.statusLabel.setText(text)
        _set_tone(self.statusLabel, tone)


class _blocked:
    """Set widgets' values without their change signals calling the desk back."""

    def __init__(self, *widgets: QWidget) -> None:
        self.widgets = widgets

    def __enter__(self) -> None:
        self.previous = [w.blockSignals(True) for w in self.widgets]

    def __exit__(self, *exc: object) -> None:
        for w, was in zip(self.widgets, self.previous, strict=True):
            w.blockSignals(was)
