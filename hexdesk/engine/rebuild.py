"""Replay an event log into the account it describes: the journal is the account's history, not a side channel.

``rebuild(events)`` folds the events in seq order and never calls the engine: wallet and insurance cover from the
money events, positions from ``PositionChanged``, open orders from the last value each order event carries,
leverage and margin mode from their change events. A test proves it equals the live ``Exchange.state()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from hexdesk.engine.enums import MarginMode
from hexdesk.engine.events import (
    AccountOpened,
    Event,
    FundingSettled,
    InsuranceFundCovered,
    LeverageChanged,
    MarginModeChanged,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderTriggered,
    PositionChanged,
)
from hexdesk.engine.instruments import Instrument, default_instruments
from hexdesk.engine.orders import Order

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class PositionState:
    """What defines a position (everything else is derived from it and the mark price)."""

    symbol: str
    quantity: Decimal
    entry_price: Decimal
    isolated_wallet: Decimal
    leverage: int
    margin_mode: MarginMode


@dataclass(frozen=True)
class AccountState:
    """The account as the event log defines it: comparable with ``==``."""

    wallet_balance: Decimal
    insurance_fund_cover: Decimal
    positions: Mapping[str, PositionState] = field(default_factory=dict)
    open_orders: Mapping[int, Order] = field(default_factory=dict)
    leverage: Mapping[str, int] = field(default_factory=dict)
    margin_mode: Mapping[str, MarginMode] = field(default_factory=dict)

    @property
    def cross_wallet_balance(self) -> Decimal:
        return self.wallet_balance - sum((p.isolated_wallet for p in self.positions.values()), ZERO)


_ORDER_VALUE_EVENTS = (OrderAccepted, OrderTriggered, OrderAmended, OrderFilled)
_ORDER_END_EVENTS = (OrderCanceled, OrderExpired)


def rebuild(events: Iterable[Event], instruments: Mapping[str, Instrument] | None = None) -> AccountState:
    """Fold ``events`` (an account's log, from its AccountOpened) into its state."""
    instruments = default_instruments() if instruments is None else instruments
    wallet = cover = ZERO
    positions: dict[str, PositionState] = {}
    orders: dict[int, Order] = {}
    leverage: dict[str, int] = {}
    modes: dict[str, MarginMode] = {}
    for event in events:
        if isinstance(event, _ORDER_VALUE_EVENTS):
            order = event.order
            if order.is_open:
                orders[order.order_id] = order
            else:
                orders.pop(order.order_id, None)
            if isinstance(event, OrderFilled):
                wallet += event.fill.realized_pnl - event.fill.fee
        elif isinstance(event, _ORDER_END_EVENTS):
            orders.pop(event.order.order_id, None)
        elif isinstance(event, PositionChanged):
            p = event.position
            if p.quantity:
                positions[p.symbol] = PositionState(
                    p.symbol, p.quantity, p.entry_price, p.isolated_wallet, p.leverage, p.margin_mode
                )
            else:
                positions.pop(p.symbol, None)
        elif isinstance(event, FundingSettled):
            wallet += event.amount
        elif isinstance(event, InsuranceFundCovered):
            wallet += event.amount
            cover += event.amount
        elif isinstance(event, LeverageChanged):
            leverage[event.symbol] = event.leverage
        elif isinstance(event, MarginModeChanged):
            modes[event.symbol] = event.margin_mode
        elif isinstance(event, AccountOpened):
            wallet = event.wallet_balance
            leverage = {s: min(event.default_leverage, i.max_leverage) for s, i in instruments.items()}
            modes = dict.fromkeys(instruments, event.default_margin_mode)
    return AccountState(wallet, cover, positions, orders, leverage, modes)
