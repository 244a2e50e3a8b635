"""A fill: one execution of an order, with its fee and the PnL it realised."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hexdesk.engine.enums import LiquidityRole, Side
from hexdesk.engine.values import quick_init


@quick_init
@dataclass(frozen=True, slots=True)
class Fill:
    """One trade against the simulated book. ``realized_pnl`` excludes the fee (as Binance reports it)."""

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
    is_liquidation: bool = False

    @property
    def notional(self) -> Decimal:
        return self.price * self.quantity
