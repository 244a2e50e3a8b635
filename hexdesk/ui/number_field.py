"""A numeric input that keeps exactly what was typed and says, next to itself, why a value cannot be used.

Qt's validators and spin boxes "help" by eating characters they do not accept ("0,01" became "001", "1e30" became
"130", 500x leverage became 50x): the order then trades a number nobody typed. A :class:`NumberField` accepts every
keystroke, reads the text with :func:`hexdesk.ui.format.parse_decimal` (the locale's decimal separator and ``.``)
and checks it with a *rule*; the reason a value is refused is shown in :attr:`NumberField.message_label`, a small
red label the owner places under the field, and the field turns red (``invalid`` property, see theme.py).

The rules below are plain functions of a Decimal (no Qt): the same checks Binance makes on the value alone, worded
with Binance's code and message where it has one (reference §3.4), so the trainer refuses what Binance refuses
before anything is sent. Off-grid values are refused, never rounded: what is sent is what is on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from PySide6.QtCore import QLocale, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from hexdesk.engine.enums import OrderType
from hexdesk.engine.errors import ErrorCode, Rejection
from hexdesk.engine.instruments import Instrument
from hexdesk.ui import format as fmt
from hexdesk.ui import theme

#: A rule looks at a parsed, non-negative value and returns why it cannot be used, or None if it can.
Rule = Callable[[Decimal], str | None]

_MARKET_LOT = (OrderType.MARKET, OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET)


def _rejection(code: ErrorCode, hint: str) -> str:
    return f"{Rejection.of(code)} {hint}"


def _num(value: Decimal) -> str:
    """A limit (tick, step, min, max) in a message, with the locale's decimal separator as the fields use it."""
    return fmt.input_text(value, fmt.decimals_of(value), _decimal_point())


def _neighbours(value: Decimal, base: Decimal, increment: Decimal) -> str:
    """The two grid values around ``value``, as a trader could type them."""
    below = base + ((value - base) // increment) * increment
    places = fmt.decimals_of(increment)
    point = _decimal_point()
    return f"{fmt.input_text(below, places, point)} or {fmt.input_text(below + increment, places, point)}"


def price_rule(inst: Instrument, noun: str = "Price") -> Rule:
    """Binance's checks on one price (PRICE_FILTER and precision): -1111, -4013, -4002, -4014, in that order."""
    tick, low, high, precision = inst.tick_size, inst.min_price, inst.max_price, inst.price_precision

    def rule(value: Decimal) -> str | None:
        if value == 0:
            return f"{noun} must be above 0."
        if fmt.decimals_of(value) > precision:
            return _rejection(ErrorCode.BAD_PRECISION, f"({precision} decimals, tick {_num(tick)})")
        if low and value < low:
            return _rejection(ErrorCode.PRICE_LESS_THAN_MIN_PRICE, f"(min {_num(low)})")
        if high and value > high:
            return _rejection(ErrorCode.PRICE_GREATER_THAN_MAX_PRICE, f"(max {_num(high)})")
        if tick and (value - low) % tick != 0:
            return _rejection(ErrorCode.PRICE_NOT_INCREASED_BY_TICK_SIZE,
                              f"Tick {_num(tick)}: {_neighbours(value, low, tick)}.")
        return None

    return rule


def quantity_rule(inst: Instrument, order_type: OrderType) -> Rule:
    """LOT_SIZE (MARKET_LOT_SIZE for market types) and precision: -1111, -4004, -4005, -4023, in that order."""
    if order_type in _MARKET_LOT:
        step, low, high = inst.market_step_size, inst.market_min_qty, inst.market_max_qty
    else:
        step, low, high = inst.step_size, inst.min_qty, inst.max_qty
    precision = inst.quantity_precision
    kind = "market" if order_type in _MARKET_LOT else "limit"

    def rule(value: Decimal) -> str | None:
        if value == 0:
            return "Size must be above 0."
        if fmt.decimals_of(value) > precision:
            return _rejection(ErrorCode.BAD_PRECISION, f"({precision} decimals, step {_num(step)})")
        if value < low:
            return _rejection(ErrorCode.QTY_LESS_THAN_MIN_QTY, f"(min {_num(low)})")
        if high and value > high:
            return _rejection(ErrorCode.QTY_GREATER_THAN_MAX_QTY, f"(max {_num(high)} for a {kind} order)")
        if step and (value - low) % step != 0:
            return _rejection(ErrorCode.QTY_NOT_INCREASED_BY_STEP_SIZE,
                              f"Step {_num(step)}: {_neighbours(value, low, step)}.")
        return None

    return rule


def leverage_rule(symbol: str, max_leverage: int) -> Rule:
    """Whole numbers from 1 to the symbol's first-bracket maximum (typed 500 on BTCUSDT: 'Max 150x for BTCUSDT')."""

    def rule(value: Decimal) -> str | None:
        if value != value.to_integral_value():
            return f"Leverage is a whole number, 1 to {max_leverage}."
        if value < 1:
            return f"Leverage is 1x to {max_leverage}x."
        if value > max_leverage:
            return f"Max {max_leverage}x for {symbol}."
        return None

    return rule


def percent_rule(noun: str, places: int, maximum: Decimal = Decimal(100)) -> Rule:
    """A percentage above 0 and at most ``maximum`` with at most ``places`` decimals (the risk per trade)."""

    def rule(value: Decimal) -> str | None:
        if value == 0:
            return f"{noun} must be above 0%."
        if value > maximum:
            return f"{noun} is at most {_num(maximum)}%."
        if fmt.decimals_of(value) > places:
            return f"{noun}: at most {places} decimals."
        return None

    return rule


def _no_rule(value: Decimal) -> str | None:
    return None


class NumberField(QLineEdit):
    """A line edit for one number: holds any text, parses it in the current locale, explains what it refuses.

    ``value()`` is the typed number when it is valid (None when blank or refused), ``problem()`` the reason it
    cannot be used (also for a blank required field). ``committed`` is emitted with the value when the trader
    finishes editing (Enter or leaving the field) and the value is valid: fields whose every change costs
    something (leverage) act on it, the rest follow ``valueChanged``.
    """

    valueChanged = Signal(object)  # Decimal | None, on every text change
    committed = Signal(object)  # Decimal, on Enter / focus out when valid

    def __init__(
        self,
        object_name: str,
        noun: str,
        *,
        required: bool = False,
        rule: Rule | None = None,
        places: int = 0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.noun = noun
        self._required = required
        self._rule: Rule = rule or _no_rule
        self.places = places  # decimals setValue writes
        self._external: str | None = None
        self.hint = ""  # the tooltip while the value is fine (the reason replaces it while it is not)
        self._touched = False
        self._value: Decimal | None = None
        self._problem: str | None = None
        self.message_label = QLabel("", objectName=f"{object_name}Message", wordWrap=True)
        self.message_label.setProperty("role", "fieldError")
        self.message_label.setStyleSheet(f"color: {theme.RED}; font-size: 11px; background: transparent;")
        self.message_label.hide()
        self.textChanged.connect(self._on_text)
        self.textEdited.connect(self._on_edited)
        self.editingFinished.connect(self._on_finished)
        self._evaluate()

    # --- configuration ---------------------------------------------------------------------------------

    def set_rule(self, rule: Rule | None) -> None:
        self._rule = rule or _no_rule
        self.revalidate()

    def set_required(self, required: bool) -> None:
        self._required = required
        self.revalidate()

    def set_external_problem(self, problem: str | None) -> None:
        """A reason found outside the field (the sizer: 'the stop must differ from the entry'), shown like its own.

        It blocks trading like the field's own problem but leaves ``value()`` alone (the stop price itself is
        fine, it is the sizing from it that is not) and emits nothing, so whoever sets it is not called back.
        """
        if problem != self._external:
            self._external = problem
            self._evaluate()

    # --- reading ---------------------------------------------------------------------------------------

    def value(self) -> Decimal | None:
        return self._value

    def problem(self) -> str | None:
        """Why the field cannot be used now: its own reason first, then one set from outside."""
        if self._problem is None and self._external is not None and self.text().strip():
            return self._external
        return self._problem

    def is_valid(self) -> bool:
        return self.problem() is None

    # --- writing ---------------------------------------------------------------------------------------

    def setValue(self, value: Decimal | int | None, quiet: bool = False) -> None:
        """Write a number the way the app writes one (locale decimal separator, ``places`` decimals).

        ``quiet``: show a value that is already in force (the desk's leverage) without emitting any signal.
        """
        text = "" if value is None else fmt.input_text(Decimal(value), self.places, _decimal_point())
        if not quiet:
            self.setText(text)
            return
        was = self.blockSignals(True)
        try:
            self.setText(text)
        finally:
            self.blockSignals(was)
        self._evaluate()

    def clear(self) -> None:
        self._touched = False
        super().clear()
        self.revalidate()

    # --- internals -------------------------------------------------------------------------------------

    def revalidate(self) -> None:
        before = (self._value, self._problem)
        self._evaluate()
        if (self._value, self._problem) != before:
            self.valueChanged.emit(self._value)

    def _evaluate(self) -> None:
        value: Decimal | None = None
        problem: str | None = None
        try:
            parsed = fmt.parse_decimal(self.text(), _decimal_point(), QLocale().groupSeparator())
        except fmt.NumberError as exc:
            problem = str(exc)
        else:
            if parsed is None:
                problem = f"Enter {self.noun}." if self._required else None
            else:
                problem = self._rule(parsed)
                value = parsed if problem is None else None
        self._value, self._problem = value, problem
        if problem is None and self._external is not None and self.text().strip():
            problem = self._external
        shown = problem if problem is not None and (self.text().strip() or self._touched) else None
        self.message_label.setText(shown or "")
        self.message_label.setVisible(shown is not None)
        self.setToolTip(shown or self.hint)
        invalid = shown is not None
        if self.property("invalid") != invalid:
            self.setProperty("invalid", invalid)
            self.style().unpolish(self)
            self.style().polish(self)

    def _on_text(self, _text: str) -> None:
        self.revalidate()

    def _on_edited(self, _text: str) -> None:
        if not self._touched:
            self._touched = True
            self.revalidate()

    def _on_finished(self) -> None:
        if self._value is not None:
            self.committed.emit(self._value)


def _decimal_point() -> str:
    return QLocale().decimalPoint()
