"""HexDesk's margin engine: a simulated Binance USDⓈ-M perpetual exchange holding one account.

Pure Python with Decimal money: no Qt, no asyncio, no I/O. Deterministic: the same calls give the
same events. See docs/engine.md.
"""

from hexdesk.engine.enums import (
    LiquidityRole,
    MarginMode,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    WorkingType,
)
from hexdesk.engine.errors import BinanceError, ErrorCode, Rejection
from hexdesk.engine.events import (
    AccountOpened,
    Event,
    FundingSettled,
    InsuranceFundCovered,
    LeverageChanged,
    MarginModeChanged,
    MarginTransferred,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderTriggered,
    PositionChanged,
    PositionLiquidated,
)
from hexdesk.engine.exchange import Exchange
from hexdesk.engine.fill_model import DefaultFillModel, FillModel
from hexdesk.engine.fills import Fill
from hexdesk.engine.instruments import Bracket, Instrument, default_instruments
from hexdesk.engine.orders import Order, OrderRequest
from hexdesk.engine.positions import AccountSnapshot, Position
from hexdesk.engine.rebuild import AccountState, PositionState, rebuild
from hexdesk.engine.result import Result
from hexdesk.engine.risk import (
    OrderPreview,
    PositionSizing,
    PreviewContext,
    RiskWarning,
    preview_order,
    size_order,
    size_position,
)
from hexdesk.engine.validation import OrderContext, validate

__all__ = [
    "AccountOpened",
    "AccountSnapshot",
    "AccountState",
    "BinanceError",
    "Bracket",
    "DefaultFillModel",
    "ErrorCode",
    "Event",
    "Exchange",
    "Fill",
    "FillModel",
    "FundingSettled",
    "Instrument",
    "InsuranceFundCovered",
    "LeverageChanged",
    "LiquidityRole",
    "MarginMode",
    "MarginModeChanged",
    "MarginTransferred",
    "Order",
    "OrderAccepted",
    "OrderAmended",
    "OrderCanceled",
    "OrderContext",
    "OrderExpired",
    "OrderFilled",
    "OrderPreview",
    "OrderRejected",
    "OrderRequest",
    "OrderStatus",
    "OrderTriggered",
    "OrderType",
    "Position",
    "PositionChanged",
    "PositionLiquidated",
    "PositionSizing",
    "PositionState",
    "PreviewContext",
    "Rejection",
    "Result",
    "RiskWarning",
    "Side",
    "TimeInForce",
    "WorkingType",
    "default_instruments",
    "preview_order",
    "rebuild",
    "size_order",
    "size_position",
    "validate",
]
