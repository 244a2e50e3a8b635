"""Telling the trader what happened: stop-loss / take-profit / limit fills, funding, liquidations, end of data.

``describe(events, desk)`` turns engine events into ``Notice``s (replay UTC time and the numbers, e.g.
"08:00 Funding BTCUSDT −6.02 USDT (rate 0.0100%, long 1.000 BTC at mark 60,200.0)"). ``NotificationPanel`` is the
compact list under the chart (newest first, the last ``MAX_NOTICES``); ``Toast`` repeats an important notice over
the chart for a few seconds, where the eye is while trading.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QWidget

from hexdesk.engine.enums import MarginMode, OrderStatus, OrderType
from hexdesk.engine.events import Event, FundingSettled, OrderExpired, OrderFilled, PositionLiquidated
from hexdesk.engine.explain import group_liquidations
from hexdesk.ui import format as fmt
from hexdesk.ui import theme

if TYPE_CHECKING:
    from hexdesk.engine.instruments import Instrument
    from hexdesk.engine.orders import Order
    from hexdesk.service import TradingDesk

MAX_NOTICES = 200
TOAST_MS = 8_000
Tone = Literal["info", "good", "bad", "alert"]
_TONE_COLOURS = {"info": theme.TEXT, "good": theme.GREEN, "bad": theme.RED, "alert": theme.ORANGE}
MINUS = "\u2212"


@dataclass(frozen=True, slots=True)
class Notice:
    """One line of the notification area. ``important`` ones are also shown as a toast on the chart."""

    ts_ms: int
    text: str  # starts with the replay UTC time, "14:31 Stop-loss filled: ..."
    tone: Tone = "info"
    important: bool = False


def hhmm(ts_ms: int) -> str:
    """Replay UTC time as a notification shows it: ``14:31``."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%H:%M")


def signed_usdt(value: Decimal) -> str:
    """``+12.30`` / ``−412.50`` (a real minus sign: it reads as a loss, not a dash)."""
    return fmt.usdt(value, sign=True).replace("-", MINUS)


def _fill_title(order: Order) -> tuple[str, bool]:
    """What kind of fill this is for the trader, and whether it is one they did not just click themselves."""
    kind = order.type
    if kind in (OrderType.STOP_MARKET, OrderType.STOP):
        return ("Stop-loss" if order.reduce_only or order.close_position else "Stop order"), True
    if kind in (OrderType.TAKE_PROFIT_MARKET, OrderType.TAKE_PROFIT):
        return "Take-profit", True
    if kind is OrderType.LIMIT:
        return f"Limit {order.side.value.lower()}", True
    return f"Market {order.side.value.lower()}", False


def _describe_fills(fills: Sequence[OrderFilled], inst: Instrument) -> Notice:
    """All fills of one order in one change as one line: quantity, average price, realized PnL, fee."""
    order = fills[-1].order
    qty = sum((e.fill.quantity for e in fills), Decimal(0))
    avg = sum((e.fill.price * e.fill.quantity for e in fills), Decimal(0)) / qty
    realized = sum((e.fill.realized_pnl for e in fills), Decimal(0))
    fee = sum((e.fill.fee for e in fills), Decimal(0))
    title, important = _fill_title(order)
    done = "partially filled" if order.status is OrderStatus.PARTIALLY_FILLED else "filled"
    verb = "bought" if order.side.value == "BUY" else "sold"
    text = (
        f"{hhmm(fills[-1].ts_ms)} {title} {done}: {verb} {fmt.qty(qty, inst.step_size)} {inst.base_asset} "
        f"at {fmt.price(avg, inst.tick_size)}"
    )
    reduced = order.reduce_only or order.close_position or realized != 0
    if reduced:
        text += f", realized {signed_usdt(realized)} USDT"
    text += f", fee {fmt.usdt(fee)}"
    tone: Tone = "info" if not reduced else "good" if realized - fee > 0 else "bad"
    return Notice(fills[-1].ts_ms, text, tone, important)


def _describe_funding(e: FundingSettled, inst: Instrument) -> Notice:
    side = "long" if e.position_qty > 0 else "short"
    text = (
        f"{hhmm(e.ts_ms)} Funding {e.symbol} {signed_usdt(e.amount)} USDT (rate {fmt.pct(e.funding_rate, places=4)}, "
        f"{side} {fmt.qty(abs(e.position_qty), inst.step_size)} {inst.base_asset} at mark "
        f"{fmt.price(e.mark_price, inst.tick_size)})"
    )
    return Notice(e.ts_ms, text, "good" if e.amount > 0 else "bad" if e.amount < 0 else "info")


def describe_liquidation(group: Sequence[PositionLiquidated], desk: TradingDesk) -> Notice:
    """One liquidation (an isolated position, or every cross position of the tick) in one line."""
    parts = []
    for e in group:
        inst = desk.instrument(e.symbol)
        side = "long" if e.side.value == "BUY" else "short"
        parts.append(
            f"{e.symbol} {side} {fmt.qty(e.quantity, inst.step_size)} at mark {fmt.price(e.mark_price, inst.tick_size)}"
        )
    lost = sum((e.margin_lost for e in group), Decimal(0))
    fee = sum((e.liquidation_fee for e in group), Decimal(0))
    scope = (
        "its isolated margin, the rest of the wallet untouched"
        if group[0].margin_mode is MarginMode.ISOLATED
        else "the shared cross wallet"
    )
    text = (
        f"{hhmm(group[0].ts_ms)} LIQUIDATED {', '.join(parts)}: lost {fmt.usdt(lost)} USDT, {scope} "
        f"(clearance fee {fmt.usdt(fee)} of it)"
    )
    return Notice(group[0].ts_ms, text, "alert", True)


_EXPIRED = {
    "margin_insufficient": "expired: the margin to carry it was no longer there at its trigger",
    "no_position": "expired: no position left to close",
    "reduce_only": "expired: nothing left to reduce",
}


def describe(events: Iterable[Event], desk: TradingDesk) -> list[Notice]:
    """The notices for one batch of engine events, in the order they happened."""
    events = list(events)
    notices: list[Notice] = []
    by_order: dict[int, list[OrderFilled]] = {}
    order_seen: list[int] = []
    for e in events:
        if isinstance(e, OrderFilled) and not e.fill.is_liquidation:
            oid = e.order.order_id
            if oid not in by_order:
                by_order[oid] = []
                order_seen.append(oid)
            by_order[oid].append(e)
    first_seq = {oid: fills[0].seq for oid, fills in by_order.items()}
    items: list[tuple[int, Notice]] = [
        (first_seq[oid], _describe_fills(by_order[oid], desk.instrument(by_order[oid][-1].fill.symbol)))
        for oid in order_seen
    ]
    for e in events:
        if isinstance(e, FundingSettled):
            items.append((e.seq, _describe_funding(e, desk.instrument(e.symbol))))
        elif isinstance(e, OrderExpired) and e.reason in _EXPIRED:
            title, _ = _fill_title(e.order)
            items.append((e.seq, Notice(e.ts_ms, f"{hhmm(e.ts_ms)} {title} {e.order.symbol} {_EXPIRED[e.reason]}")))
    for group in group_liquidations(events):
        items.append((group[0].seq, describe_liquidation(group, desk)))
    items.sort(key=lambda item: item[0])
    notices.extend(n for _, n in items)
    return notices


def end_of_data_notice(ts_ms: int) -> Notice:
    return Notice(
        ts_ms,
        f"{hhmm(ts_ms)} End of data: the replay stopped at the last candle ({fmt.utc_clock(ts_ms)}). "
        "Start a new session to replay again.",
        "alert",
        True,
    )


class NotificationPanel(QWidget):
    """The notification area: a few one-line notices under the chart, newest first, the last ``MAX_NOTICES`` kept
    (scroll for older ones; a notice too long for the line has its whole text as tooltip)."""

    DEFAULT_HEIGHT = 70  # three lines

    def __init__(self, parent: QWidget | None = None, limit: int = MAX_NOTICES) -> None:
        super().__init__(parent)
        self.setObjectName("notificationPanel")
        self.limit = limit
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        self.title = QLabel("Notices", objectName="notificationTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.title.setContentsMargins(10, 4, 6, 4)
        self.title.setFixedWidth(72)
        self.title.setStyleSheet(f"color: {theme.MUTED}; font-weight: 600;")
        self.list = QListWidget(objectName="notificationList")
        self.list.setUniformItemSizes(True)
        self.list.setWordWrap(False)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.empty = "Stop-loss, take-profit and limit fills, funding, liquidations and the end of the data: told here."
        row.addWidget(self.title)
        row.addWidget(self.list, 1)
        self.setMinimumHeight(44)
        self._placeholder: QListWidgetItem | None = QListWidgetItem(self.empty)
        self._placeholder.setForeground(QBrush(QColor(theme.MUTED)))
        self.list.addItem(self._placeholder)

    def add(self, notice: Notice) -> None:
        """Put ``notice`` on top; the oldest beyond the limit drops off."""
        if self._placeholder is not None:
            self.list.takeItem(self.list.row(self._placeholder))
            self._placeholder = None
        item = QListWidgetItem(notice.text)
        item.setForeground(QBrush(QColor(_TONE_COLOURS[notice.tone])))
        item.setToolTip(f"{fmt.utc_clock(notice.ts_ms)}\n{notice.text}")
        self.list.insertItem(0, item)
        while self.list.count() > self.limit:
            self.list.takeItem(self.list.count() - 1)
        self.list.scrollToTop()

    def texts(self) -> list[str]:
        """The notices shown, newest first (for callers and tests)."""
        if self._placeholder is not None:
            return []
        return [self.list.item(i).text() for i in range(self.list.count())]


class Toast(QLabel):
    """An important notice repeated over the top of the chart for a few seconds; clicks go through to the chart."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setWordWrap(True)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._timer = QTimer(self, singleShot=True, interval=TOAST_MS)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def show_notice(self, notice: Notice) -> None:
        colour = _TONE_COLOURS[notice.tone]
        self.setStyleSheet(
            f"QLabel#toast {{ background: rgba(22, 26, 33, 235); color: {colour}; border: 1px solid {colour};"
            " border-radius: 4px; padding: 8px 12px; font-weight: 600; }"
        )
        self.setText(notice.text)
        self._place()
        self.show()
        self.raise_()
        self._timer.start()

    def _place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        width = min(720, max(200, parent.width() - 140))
        self.setFixedWidth(width)
        self.adjustSize()
        self.move(max(0, (parent.width() - width) // 2 - 40), 28)
