"""What the journal's queries return: frozen values with Decimal money and engine enums, never table rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from hexdesk.engine.enums import (
    LiquidityRole,
    MarginMode,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    WorkingType,
)
from hexdesk.engine.errors import ErrorCode


class SessionMode(StrEnum):
    REPLAY = "replay"
    LIVE = "live"


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One practice session with its totals, as the sessions list shows it.

    ``realized_pnl`` sums the fills' realized PnL (fees excluded, as Binance reports it); ``fees`` sums the
    fills' fees (paid > 0); ``funding`` sums funding settlements (received > 0).
    """

    id: int
    name: str
    mode: SessionMode
    dataset: str
    started_at: datetime  # aware, UTC
    ended_at: datetime | None
    start_balance: Decimal
    app_version: str
    settings: dict[str, Any] = field(compare=True, hash=False)
    event_count: int = 0
    last_seq: int = 0  # 0 when no event was recorded yet
    order_count: int = 0
    fill_count: int = 0
    liquidation_count: int = 0
    realized_pnl: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    funding: Decimal = Decimal(0)

    @property
    def is_active(self) -> bool:
        return self.ended_at is None

    @property
    def net_pnl(self) -> Decimal:
        """Realized PnL after fees and funding: what the wallet gained (or lost) over the session."""
        return self.realized_pnl - self.fees + self.funding


@dataclass(frozen=True, slots=True)
class OrderRow:
    """The latest state of one order; a rejected request has ``order_id`` None and ``status`` REJECTED."""

    order_id: int | None
    client_order_id: str | None
    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal | None
    price: Decimal | None
    stop_price: Decimal | None
    time_in_force: TimeInForce | None
    reduce_only: bool
    close_position: bool
    working_type: WorkingType | None
    price_protect: bool
    triggered: bool
    parent_order_id: int | None
    status: OrderStatus
    executed_qty: Decimal
    avg_price: Decimal
    created_ms: int
    updated_ms: int
    reject_code: ErrorCode | int | None
    reject_msg: str | None
    end_reason: str | None  # why it was canceled / expired
    last_seq: int  # the event that produced this state


@dataclass(frozen=True, slots=True)
class FillRow:
    """One execution (the engine's ``Fill``) plus the seq of the event that carried it."""

    seq: int
    trade_id: int
    order_id: int
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    fee: Decimal
    fee_asset: str
    role: LiquidityRole
    realized_pnl: Decimal
    ts_ms: int
    is_liquidation: bool


@dataclass(frozen=True, slots=True)
class LiquidationRow:
    seq: int
    ts_ms: int
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
    trade_id: int | None


@dataclass(frozen=True, slots=True)
class FundingRow:
    seq: int
    ts_ms: int
    symbol: str
    funding_rate: Decimal
    mark_price: Decimal
    position_qty: Decimal
    amount: Decimal
