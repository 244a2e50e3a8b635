"""What the journal's queries return: frozen values with Decimal money and engine enums, never table rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
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


class SessionStatus(StrEnum):
    """``active``: can be opened and traded (the app resumes the last used one); ``archived``: kept read-only by a
    reset; ``ended``: finished (e.g. the trader ended it)."""

    ACTIVE = "active"
    ARCHIVED = "archived"
    ENDED = "ended"


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
    status: SessionStatus = field(default=None)  # type: ignore[assignment]  # (set from ended_at when not given)
    replay_ms: int | None = None  # the replay clock at the last commit
    speed: float | None = None
    last_used_at: datetime | None = None
    blind: bool = False
    journal_only: bool = False
    archived_from_id: int | None = None

    def __post_init__(self) -> None:
        if self.status is None:
            object.__setattr__(self, "status", SessionStatus.ACTIVE if self.ended_at is None else SessionStatus.ENDED)
        else:
            object.__setattr__(self, "status", SessionStatus(self.status))

    @property
    def is_active(self) -> bool:
        return self.status is SessionStatus.ACTIVE

    @property
    def read_only(self) -> bool:
        """An archived session (kept by a reset) or an imported journal: nothing can be traded in it."""
        return self.status is SessionStatus.ARCHIVED or self.journal_only

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


@dataclass(frozen=True, slots=True)
class TradeNote:
    """The trader's journal of one round trip (contract: trade_key = "SYMBOL:first_trade_id")."""

    trade_key: str
    notes: str = ""
    setup: str = ""
    mistakes: str = ""
    emotion: str = ""
    rating: int | None = None  # 1..5
    tags: tuple[str, ...] = ()
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ScreenshotRow:
    """A chart screenshot of a round trip: the PNG is ``path`` (``<journal folder>/screenshots/<sha256>.png``)."""

    trade_key: str
    kind: str  # 'entry' | 'exit'
    sha256: str
    ts_ms: int
    created_at: datetime
    path: Path | None  # None for an in-memory journal (the bytes are kept in memory)


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where a session stood at its last commit: the replay clock and speed, plus the opaque resume state (the
    engine's market view and the replay cursor, JSON) the service layer restores from."""

    replay_ms: int | None
    speed: float | None
    state: dict[str, Any] | None
