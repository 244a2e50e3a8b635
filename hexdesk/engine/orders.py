"""Order requests (what the trader asks) and orders (what the exchange holds), as immutable values."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hexdesk.engine.enums import OrderStatus, OrderType, Side, TimeInForce, WorkingType
from hexdesk.engine.values import evolve, quick_init

# Enum members read as module constants: in Python 3.11 an Enum class attribute (OrderType.MARKET) goes
# through EnumType.__getattr__'s slow lookup hook (~0.1 µs; gone in 3.12), and the order path reads dozens.
_CONTRACT_PRICE = WorkingType.CONTRACT_PRICE
_GTC = TimeInForce.GTC
_LIMIT = OrderType.LIMIT
_MARKET = OrderType.MARKET
_NEW = OrderStatus.NEW
_STOP_MARKET = OrderType.STOP_MARKET
_TAKE_PROFIT_MARKET = OrderType.TAKE_PROFIT_MARKET

ZERO = Decimal(0)


@quick_init
@quick_init
@dataclass(frozen=True, slots=True)
class OrderRequest:
    """The parameters of ``POST /fapi/v1/order`` (one-way mode), plus attached take-profit / stop-loss.

    ``take_profit`` / ``stop_loss`` are trigger prices: once the entry fills, the engine places a
    reduce-only TAKE_PROFIT_MARKET / STOP_MARKET with closePosition for the filled position.
    """

    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce | None = None
    reduce_only: bool = False
    close_position: bool = False
    working_type: WorkingType = _CONTRACT_PRICE
    price_protect: bool = False
    client_order_id: str | None = None
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None

    @classmethod
    def market(cls, symbol: str, side: Side, quantity: Decimal, **kw: object) -> OrderRequest:
        return cls(symbol, side, _MARKET, quantity=quantity, **kw)  # type: ignore[arg-type]

    @classmethod
    def limit(
        cls, symbol: str, side: Side, quantity: Decimal, price: Decimal,
        time_in_force: TimeInForce = _GTC, **kw: object,
    ) -> OrderRequest:
        return cls(
            symbol, side, _LIMIT, quantity=quantity, price=price,
            time_in_force=time_in_force, **kw,  # type: ignore[arg-type]
        )

    @classmethod
    def stop_market(
        cls, symbol: str, side: Side, stop_price: Decimal, quantity: Decimal | None = None, **kw: object
    ) -> OrderRequest:
        return cls(symbol, side, _STOP_MARKET, quantity=quantity, stop_price=stop_price, **kw)  # type: ignore[arg-type]

    @classmethod
    def take_profit_market(
        cls, symbol: str, side: Side, stop_price: Decimal, quantity: Decimal | None = None, **kw: object
    ) -> OrderRequest:
        return cls(
            symbol, side, _TAKE_PROFIT_MARKET, quantity=quantity, stop_price=stop_price, **kw,  # type: ignore[arg-type]
        )


@quick_init
@dataclass(frozen=True, slots=True)
class Order:
    """An order as the exchange holds it. Every change produces a new value (see ``evolve``)."""

    order_id: int
    client_order_id: str
    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal  # for closePosition orders: 0 until triggered (then the position size)
    price: Decimal  # limit price; 0 for market types
    stop_price: Decimal  # trigger price; 0 for non-conditional types
    time_in_force: TimeInForce
    reduce_only: bool
    close_position: bool
    working_type: WorkingType
    price_protect: bool
    status: OrderStatus
    executed_qty: Decimal
    avg_price: Decimal
    created_ms: int
    updated_ms: int
    triggered: bool = False
    parent_order_id: int | None = None

    @property
    def remaining_qty(self) -> Decimal:
        return self.quantity - self.executed_qty

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @classmethod
    def from_request(cls, request: OrderRequest, order_id: int, client_order_id: str, ts_ms: int) -> Order:
        """The NEW order an accepted request becomes (absent prices and quantities are 0, TIF defaults to GTC)."""
        return cls(
            order_id,  # (positional, in field order: this runs for every order)
            request.client_order_id or client_order_id,
            request.symbol,
            request.side,
            request.type,
            request.quantity or ZERO,
            request.price or ZERO,
            request.stop_price or ZERO,
            request.time_in_force or _GTC,
            request.reduce_only,
            request.close_position,
            request.working_type,
            request.price_protect,
            _NEW,
            ZERO,
            ZERO,
            ts_ms,
            ts_ms,
        )

    #: ``order.evolve(**changes)``: a copy with fields changed (orders are values, never mutated in place).
    evolve = evolve

    def executed(self, executed_qty: Decimal, avg_price: Decimal, status: OrderStatus, updated_ms: int) -> Order:
        """The order after an execution: ``evolve`` of the four fields a fill changes, written out (every fill
        makes one)."""
        return Order(
            self.order_id, self.client_order_id, self.symbol, self.side, self.type, self.quantity, self.price,
            self.stop_price, self.time_in_force, self.reduce_only, self.close_position, self.working_type,
            self.price_protect, status, executed_qty, avg_price, self.created_ms, updated_ms, self.triggered,
            self.parent_order_id,
        )

    def ended(self, status: OrderStatus, updated_ms: int) -> Order:
        """The order canceled or expired: ``evolve(status=..., updated_ms=...)``, written out."""
        return Order(
            self.order_id, self.client_order_id, self.symbol, self.side, self.type, self.quantity, self.price,
            self.stop_price, self.time_in_force, self.reduce_only, self.close_position, self.working_type,
            self.price_protect, status, self.executed_qty, self.avg_price, self.created_ms, updated_ms,
            self.triggered, self.parent_order_id,
        )
