"""HexDesk's margin engine: a simulated Binance USDⓈ-M perpetual exchange holding one account.

Pure Python with Decimal money: no Qt, no asyncio, no I/O. Deterministic: the same calls give the
same events. See docs/engine.md.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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

#: Where each public name lives, imported on first use (PEP 562): ``from hexdesk.engine.enums import Side`` (the
#: window's first paint) must not load the exchange, its events and the risk maths with it (issue 10.3).
_HOMES = {
    **dict.fromkeys(
        ("LiquidityRole", "MarginMode", "OrderStatus", "OrderType", "Side", "TimeInForce", "WorkingType"),
        "enums",
    ),
    **dict.fromkeys(("BinanceError", "ErrorCode", "Rejection"), "errors"),
    **dict.fromkeys(
        ("AccountOpened", "Event", "FundingSettled", "InsuranceFundCovered", "LeverageChanged", "MarginModeChanged",
         "MarginTransferred", "OrderAccepted", "OrderAmended", "OrderCanceled", "OrderExpired", "OrderFilled",
         "OrderRejected", "OrderTriggered", "PositionChanged", "PositionLiquidated"),
        "events",
    ),
    **dict.fromkeys(("Exchange",), "exchange"),
    **dict.fromkeys(("DefaultFillModel", "FillModel"), "fill_model"),
    **dict.fromkeys(("Fill",), "fills"),
    **dict.fromkeys(("Bracket", "Instrument", "default_instruments"), "instruments"),
    **dict.fromkeys(("Order", "OrderRequest"), "orders"),
    **dict.fromkeys(("AccountSnapshot", "Position"), "positions"),
    **dict.fromkeys(("AccountState", "PositionState", "rebuild"), "rebuild"),
    **dict.fromkeys(("Result",), "result"),
    **dict.fromkeys(
        ("OrderPreview", "PositionSizing", "PreviewContext", "RiskWarning", "preview_order", "size_order",
         "size_position"),
        "risk",
    ),
    **dict.fromkeys(("OrderContext", "validate"), "validation"),
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


class _Engine(types.ModuleType):
    """``rebuild`` names both a submodule and the function exported under that name. Imported eagerly, the package
    bound the function after the submodule; imported lazily, importing the submodule (from anywhere) would bind
    the module over it. The package's ``rebuild`` stays the function, as it always was."""

    @property
    def rebuild(self) -> object:
        from hexdesk.engine.rebuild import rebuild

        return rebuild

    @rebuild.setter
    def rebuild(self, _module: object) -> None:
        """The import system binding the submodule: the function keeps the name."""


sys.modules[__name__].__class__ = _Engine


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
