"""Everything that happens in the engine is an event: a frozen value named in the past tense.

Storage keeps them (the journal), the UI redraws from them, and ``rebuild`` replays them into the
same account state: the event log is the account's history, not a side channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hexdesk.engine.enums import MarginMode, Side
from hexdesk.engine.errors import ErrorCode
from hexdesk.engine.fills import Fill
from hexdesk.engine.orders import Order, OrderRequest
from hexdesk.engine.positions import Position
from hexdesk.engine.values import quick_init


@quick_init
@dataclass(frozen=True, slots=True)
class Event:
    """Base of all engine events; ``seq`` orders them within one account, from 1, without gaps."""

    seq: int
    ts_ms: int


@quick_init
@dataclass(frozen=True, slots=True)
class AccountOpened(Event):
    """The first event of every account. The defaults are what a symbol uses until Leverage/MarginModeChanged."""

    wallet_balance: Decimal
    asset: str = "USDT"
    default_leverage: int = 20
    default_margin_mode: MarginMode = MarginMode.ISOLATED


@quick_init
@dataclass(frozen=True, slots=True)
class OrderAccepted(Event):
    """``take_profit`` / ``stop_loss``: the TP/SL attached to an entry (placed when it fills), so the event log
    alone restores an entry still waiting with its attachments (hexdesk.engine.restore)."""

    order: Order
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class OrderRejected(Event):
    request: OrderRequest
    code: ErrorCode
    msg: str


@quick_init
@dataclass(frozen=True, slots=True)
class OrderTriggered(Event):
    """A conditional order's stopPrice was reached; it now works as a MARKET or LIMIT order."""

    order: Order


@quick_init
@dataclass(frozen=True, slots=True)
class OrderFilled(Event):
    """``order`` is the order after this fill (PARTIALLY_FILLED or FILLED)."""

    order: Order
    fill: Fill


@quick_init
@dataclass(frozen=True, slots=True)
class OrderCanceled(Event):
    order: Order
    reason: str = "user"


@quick_init
@dataclass(frozen=True, slots=True)
class OrderExpired(Event):
    """Ended by the exchange: IOC/FOK remainder, post-only that would take, reduce-only with nothing to reduce."""

    order: Order
    reason: str


@quick_init
@dataclass(frozen=True, slots=True)
class OrderAmended(Event):
    order: Order


@quick_init
@dataclass(frozen=True, slots=True)
class PositionChanged(Event):
    """The position after a fill, margin transfer, leverage change or liquidation (quantity 0 = closed)."""

    position: Position


@quick_init
@dataclass(frozen=True, slots=True)
class PositionLiquidated(Event):
    """Mark price reached the liquidation price: closed at the bankruptcy price by the liquidation engine."""

    symbol: str
    margin_mode: MarginMode
    side: Side
    quantity: Decimal
    entry_price: Decimal
    mark_price: Decimal
    bankruptcy_price: Decimal
    liquidation_fee: Decimal
    margin_lost: Decimal
    insurance_fund_cover: Decimal
    fill: Fill


@quick_init
@dataclass(frozen=True, slots=True)
class FundingSettled(Event):
    """Funding at a settlement instant; ``amount`` > 0 received, < 0 paid."""

    symbol: str
    funding_rate: Decimal
    mark_price: Decimal
    position_qty: Decimal
    amount: Decimal


@quick_init
@dataclass(frozen=True, slots=True)
class MarginTransferred(Event):
    """Isolated margin added (> 0) or removed (< 0)."""

    symbol: str
    amount: Decimal
    isolated_wallet: Decimal


@quick_init
@dataclass(frozen=True, slots=True)
class LeverageChanged(Event):
    symbol: str
    leverage: int


@quick_init
@dataclass(frozen=True, slots=True)
class MarginModeChanged(Event):
    symbol: str
    margin_mode: MarginMode


@quick_init
@dataclass(frozen=True, slots=True)
class InsuranceFundCovered(Event):
    """The insurance fund paid ``amount`` into the wallet so that no balance goes negative (a loss or a fee beyond
    the margin that backed it, e.g. a stop filled past the bankruptcy price on a gap)."""

    symbol: str
    amount: Decimal
    reason: str
