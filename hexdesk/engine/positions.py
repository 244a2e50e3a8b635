"""Position and account snapshots: what a trader reads off the positions table and the account panel."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hexdesk.engine.enums import MarginMode, Side
from hexdesk.engine.values import quick_init

ZERO = Decimal(0)


@quick_init
@dataclass(frozen=True, slots=True)
class Position:
    """One-way position of a symbol, valued at the mark price at the moment of the snapshot.

    ``quantity`` is signed (+ long, − short). ``isolated_wallet`` is Binance's isolatedWalletBalance:
    margin posted plus margin added minus margin removed (and the opening fee, see docs/engine.md);
    0 under cross. ``liquidation_price`` is None when there is none (Binance shows "--").
    """

    symbol: str
    margin_mode: MarginMode
    leverage: int
    quantity: Decimal
    entry_price: Decimal
    mark_price: Decimal
    isolated_wallet: Decimal
    unrealized_pnl: Decimal
    notional: Decimal
    initial_margin: Decimal
    maintenance_margin: Decimal
    margin_ratio: Decimal
    liquidation_price: Decimal | None
    bankruptcy_price: Decimal | None = None

    @property
    def side(self) -> Side | None:
        if self.quantity > 0:
            return Side.BUY
        if self.quantity < 0:
            return Side.SELL
        return None

    @property
    def size(self) -> Decimal:
        return abs(self.quantity)

    @property
    def is_open(self) -> bool:
        return self.quantity != 0

    @property
    def roe(self) -> Decimal:
        """Return on (initial) margin, as Binance's positions tab shows it."""
        return self.unrealized_pnl / self.initial_margin if self.initial_margin else ZERO


@quick_init
@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """The account panel: balances in USDT and the cross margin ratio."""

    wallet_balance: Decimal
    unrealized_pnl: Decimal
    margin_balance: Decimal
    available_balance: Decimal
    position_initial_margin: Decimal
    open_order_initial_margin: Decimal
    cross_wallet_balance: Decimal
    cross_unrealized_pnl: Decimal
    cross_maintenance_margin: Decimal
    cross_margin_ratio: Decimal
    insurance_fund_cover: Decimal

    @property
    def equity(self) -> Decimal:
        """What a trader calls equity: wallet plus unrealized PnL (Binance's margin balance)."""
        return self.margin_balance
