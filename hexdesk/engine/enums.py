"""Enumerations named exactly as Binance USDⓈ-M names them, so events and logs read like the exchange's own."""

from enum import StrEnum


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    def __init__(self, value: str) -> None:
        # Plain member attributes, not properties: the engine reads them on every order and fill.
        #: +1 for BUY, -1 for SELL: the direction a fill moves the signed position.
        self.sign = 1 if value == "BUY" else -1

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

    def __init__(self, value: str) -> None:
        # Plain member attributes, not properties: the engine reads them on every order.
        #: Conditional orders wait for a trigger (stopPrice) before they become MARKET or LIMIT.
        self.is_conditional = value in ("STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET")
        #: LIMIT, STOP and TAKE_PROFIT carry a limit price.
        self.has_limit_price = value in ("LIMIT", "STOP", "TAKE_PROFIT")


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

    def __init__(self, value: str) -> None:
        #: NEW and PARTIALLY_FILLED orders are open (a plain member attribute: read for every open order).
        self.is_open = value in ("NEW", "PARTIALLY_FILLED")


class MarginMode(StrEnum):
    ISOLATED = "ISOLATED"
    CROSS = "CROSS"


class LiquidityRole(StrEnum):
    MAKER = "MAKER"
    TAKER = "TAKER"
