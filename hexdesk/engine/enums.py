"""Enumerations named exactly as Binance USDⓈ-M names them, so events and logs read like the exchange's own."""

from enum import StrEnum


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """+1 for BUY, -1 for SELL: the direction a fill moves the signed position."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> "Side":
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP = "STOP"  # stop-limit
    STOP_MARKET = "STOP_MARKET"
    TAKE_PROFIT = "TAKE_PROFIT"  # take-profit limit
    TAKE_PROFIT_MARKET = "TAKE_PROFIT_MARKET"

    @property
    def is_conditional(self) -> bool:
        """Conditional orders wait for a trigger (stopPrice) before they become MARKET or LIMIT."""
        return self in _CONDITIONAL

    @property
    def has_limit_price(self) -> bool:
        return self in (OrderType.LIMIT, OrderType.STOP, OrderType.TAKE_PROFIT)


_CONDITIONAL = frozenset(
    {OrderType.STOP, OrderType.STOP_MARKET, OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_MARKET}
)


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTX = "GTX"  # post-only


class WorkingType(StrEnum):
    """Which price triggers a conditional order: last trade (CONTRACT_PRICE, Binance's default) or mark."""

    CONTRACT_PRICE = "CONTRACT_PRICE"
    MARK_PRICE = "MARK_PRICE"


class OrderStatus(StrEnum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class MarginMode(StrEnum):
    ISOLATED = "ISOLATED"
    CROSS = "CROSS"


class LiquidityRole(StrEnum):
    MAKER = "MAKER"
    TAKER = "TAKER"
