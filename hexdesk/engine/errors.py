"""Binance USDⓈ-M error codes and messages (reference §3.4), so a rejected order says why as Binance would."""

from dataclasses import dataclass
from enum import IntEnum

from hexdesk.engine.values import quick_init


class ErrorCode(IntEnum):
    MANDATORY_PARAM_EMPTY_OR_MALFORMED = -1102
    BAD_PRECISION = -1111
    INVALID_TIF = -1115
    INVALID_ORDER_TYPE = -1116
    INVALID_SIDE = -1117
    BAD_SYMBOL = -1121
    INVALID_PARAMETER = -1130
    NEW_ORDER_REJECTED = -2010
    MARGIN_NOT_SUFFICIENT = -2019
    ORDER_WOULD_IMMEDIATELY_TRIGGER = -2021
    REDUCE_ONLY_REJECT = -2022
    POSITION_NOT_SUFFICIENT = -2024
    MAX_OPEN_ORDER_EXCEEDED = -2025
    MAX_LEVERAGE_RATIO = -2027
    MIN_LEVERAGE_RATIO = -2028
    UNKNOWN_ORDER = -2011
    QTY_LESS_THAN_ZERO = -4003
    QTY_LESS_THAN_MIN_QTY = -4004
    QTY_GREATER_THAN_MAX_QTY = -4005
    PRICE_GREATER_THAN_MAX_PRICE = -4002
    PRICE_LESS_THAN_MIN_PRICE = -4013
    PRICE_NOT_INCREASED_BY_TICK_SIZE = -4014
    PRICE_HIGHER_THAN_MULTIPLIER_UP = -4016
    PRICE_LOWER_THAN_MULTIPLIER_DOWN = -4024
    QTY_NOT_INCREASED_BY_STEP_SIZE = -4023
    INVALID_LEVERAGE = -4028
    NO_NEED_TO_CHANGE_MARGIN_TYPE = -4046
    THERE_EXISTS_OPEN_ORDERS = -4047
    THERE_EXISTS_QUANTITY = -4048
    ISOLATED_BALANCE_INSUFFICIENT = -4051
    REDUCE_ONLY_MARGIN_CHECK_FAILED = -4118
    MARKET_ORDER_REJECT = -4131
    QUANTITY_EXISTS_WITH_CLOSE_POSITION = -4137
    REDUCE_ONLY_MUST_BE_TRUE = -4138
    ISOLATED_LEVERAGE_REJECT_WITH_POSITION = -4161
    MIN_NOTIONAL = -4164
    FOK_ORDER_REJECT = -5021
    GTX_ORDER_REJECT = -5022


MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED: (
        "Mandatory parameter '{}' was not sent, was empty/null, or malformed."
    ),
    ErrorCode.BAD_PRECISION: "Precision is over the maximum defined for this asset.",
    ErrorCode.INVALID_TIF: "Invalid timeInForce.",
    ErrorCode.INVALID_ORDER_TYPE: "Invalid orderType.",
    ErrorCode.INVALID_SIDE: "Invalid side.",
    ErrorCode.BAD_SYMBOL: "Invalid symbol.",
    ErrorCode.INVALID_PARAMETER: "Data sent for parameter '{}' is not valid.",
    ErrorCode.NEW_ORDER_REJECTED: "NEW_ORDER_REJECTED",
    ErrorCode.MARGIN_NOT_SUFFICIENT: "Margin is insufficient.",
    ErrorCode.ORDER_WOULD_IMMEDIATELY_TRIGGER: "Order would immediately trigger.",
    ErrorCode.REDUCE_ONLY_REJECT: "ReduceOnly Order is rejected.",
    ErrorCode.POSITION_NOT_SUFFICIENT: "Position is not sufficient.",
    ErrorCode.MAX_OPEN_ORDER_EXCEEDED: "Reach max open order limit.",
    ErrorCode.MAX_LEVERAGE_RATIO: "Exceeded the maximum allowable position at current leverage.",
    ErrorCode.MIN_LEVERAGE_RATIO: "Leverage is smaller than permitted: insufficient margin balance.",
    ErrorCode.UNKNOWN_ORDER: "Unknown order sent.",
    ErrorCode.QTY_LESS_THAN_ZERO: "Quantity less than zero.",
    ErrorCode.QTY_LESS_THAN_MIN_QTY: "Quantity less than min quantity.",
    ErrorCode.QTY_GREATER_THAN_MAX_QTY: "Quantity greater than max quantity.",
    ErrorCode.PRICE_GREATER_THAN_MAX_PRICE: "Price greater than max price.",
    ErrorCode.PRICE_LESS_THAN_MIN_PRICE: "Price less than min price.",
    ErrorCode.PRICE_NOT_INCREASED_BY_TICK_SIZE: "Price not increased by tick size.",
    ErrorCode.PRICE_HIGHER_THAN_MULTIPLIER_UP: "Price is higher than mark price multiplier cap.",
    ErrorCode.PRICE_LOWER_THAN_MULTIPLIER_DOWN: "Price is lower than mark price multiplier floor.",
    ErrorCode.QTY_NOT_INCREASED_BY_STEP_SIZE: "Qty not increased by step size.",
    ErrorCode.INVALID_LEVERAGE: "Leverage {} is not valid",
    ErrorCode.NO_NEED_TO_CHANGE_MARGIN_TYPE: "No need to change margin type.",
    ErrorCode.THERE_EXISTS_OPEN_ORDERS: "Margin type cannot be changed if there exists open orders.",
    ErrorCode.THERE_EXISTS_QUANTITY: "Margin type cannot be changed if there exists position.",
    ErrorCode.ISOLATED_BALANCE_INSUFFICIENT: "Isolated balance insufficient.",
    ErrorCode.REDUCE_ONLY_MARGIN_CHECK_FAILED: (
        "ReduceOnly Order Failed. Please check your existing position and open orders"
    ),
    ErrorCode.MARKET_ORDER_REJECT: (
        "The counterparty's best price does not meet the PERCENT_PRICE filter limit"
    ),
    ErrorCode.QUANTITY_EXISTS_WITH_CLOSE_POSITION: "Quantity must be zero with closePosition equals true",
    ErrorCode.REDUCE_ONLY_MUST_BE_TRUE: "Reduce only must be true with closePosition equals true",
    ErrorCode.ISOLATED_LEVERAGE_REJECT_WITH_POSITION: (
        "Leverage reduction is not supported in Isolated Margin Mode with open positions"
    ),
    ErrorCode.MIN_NOTIONAL: "Order's notional must be no smaller than {} (unless you choose reduce only)",
    ErrorCode.FOK_ORDER_REJECT: (
        "Due to the order could not be filled immediately, the FOK order has been rejected."
    ),
    ErrorCode.GTX_ORDER_REJECT: (
        "Due to the order could not be executed as maker, the Post Only order will be rejected."
    ),
}


@quick_init
@dataclass(frozen=True, slots=True)
class Rejection:
    """Why Binance would refuse a request: the numeric code and the exact message text."""

    code: ErrorCode
    msg: str

    @classmethod
    def of(cls, code: ErrorCode, *args: object) -> "Rejection":
        """Build the rejection with Binance's message, filling its '%s' placeholders from args."""
        return cls(code, MESSAGES[code].format(*args))

    def __str__(self) -> str:
        return f"{int(self.code)} {self.msg}"


class BinanceError(ValueError):
    """Raised by account operations (leverage, margin mode, margin transfer) that Binance would refuse, and by any
    Exchange call given a value it cannot read (hexdesk.engine.guards). A ValueError: a refused value is one."""

    def __init__(self, rejection: Rejection) -> None:
        super().__init__(str(rejection))
        self.rejection = rejection

    @property
    def code(self) -> ErrorCode:
        return self.rejection.code
