"""Hand-built engine events for storage tests (no Exchange needed): one of every event type, and a small story."""

from __future__ import annotations

from decimal import Decimal as D

from hexdesk.engine.enums import (
    LiquidityRole,
    MarginMode,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    WorkingType,
)
from hexdesk.engine.errors import ErrorCode, Rejection
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
from hexdesk.engine.fills import Fill
from hexdesk.engine.orders import Order, OrderRequest
from hexdesk.engine.positions import Position

SYMBOL = "BTCUSDT"
T0 = 1_740_787_200_000  # 2025-03-01T00:00:00Z


def order(order_id: int = 1, **changes: object) -> Order:
    base = Order(
        order_id=order_id,
        client_order_id=f"hx-{order_id}",
        symbol=SYMBOL,
        side=Side.BUY,
        type=OrderType.LIMIT,
        quantity=D("0.010"),
        price=D("84000.10"),
        stop_price=D("0"),
        time_in_force=TimeInForce.GTC,
        reduce_only=False,
        close_position=False,
        working_type=WorkingType.CONTRACT_PRICE,
        price_protect=False,
        status=OrderStatus.NEW,
        executed_qty=D("0"),
        avg_price=D("0"),
        created_ms=T0,
        updated_ms=T0,
    )
    return base.evolve(**changes)


def fill(trade_id: int = 1, order_id: int = 1, **changes: object) -> Fill:
    kwargs: dict[str, object] = {
        "trade_id": trade_id,
        "order_id": order_id,
        "symbol": SYMBOL,
        "side": Side.BUY,
        "price": D("84000.10"),
        "quantity": D("0.010"),
        "fee": D("0.16800020"),
        "fee_asset": "USDT",
        "role": LiquidityRole.MAKER,
        "realized_pnl": D("0"),
        "ts_ms": T0 + 1_000,
    }
    kwargs.update(changes)
    return Fill(**kwargs)  # type: ignore[arg-type]


def position(**changes: object) -> Position:
    kwargs: dict[str, object] = {
        "symbol": SYMBOL,
        "margin_mode": MarginMode.ISOLATED,
        "leverage": 20,
        "quantity": D("-0.010"),
        "entry_price": D("84000.10"),
        "mark_price": D("84100.00"),
        "isolated_wallet": D("42.00005"),
        "unrealized_pnl": D("-0.999"),
        "notional": D("-841.0000"),
        "initial_margin": D("42.05"),
        "maintenance_margin": D("3.364"),
        "margin_ratio": D("0.0812"),
        "liquidation_price": D("87801.3"),
        "bankruptcy_price": None,
    }
    kwargs.update(changes)
    return Position(**kwargs)  # type: ignore[arg-type]


def one_of_each() -> list[Event]:
    """One instance of every event type, with awkward values (None, exponents, negative zero, long digits)."""
    liq_fill = fill(9, 5, side=Side.SELL, price=D("79800.0"), quantity=D("0.5"), fee=D("0"), role=LiquidityRole.TAKER,
                    realized_pnl=D("-2100.05"), is_liquidation=True)
    reject = Rejection.of(ErrorCode.MIN_NOTIONAL, "100")
    return [
        AccountOpened(1, T0, D("10000.00")),
        OrderAccepted(2, T0, order()),
        OrderRejected(3, T0 + 1, OrderRequest.market(SYMBOL, Side.SELL, D("0.0001"), client_order_id="x"),
                      reject.code, reject.msg),
        OrderRejected(4, T0 + 2, OrderRequest.stop_market(SYMBOL, Side.SELL, D("1E+5"), close_position=True,
                                                          reduce_only=True, stop_loss=D("-0")),
                      ErrorCode.ORDER_WOULD_IMMEDIATELY_TRIGGER, "Order would immediately trigger."),
        OrderTriggered(5, T0 + 3, order(2, type=OrderType.STOP_MARKET, stop_price=D("83000"), triggered=True,
                                        parent_order_id=1, working_type=WorkingType.MARK_PRICE)),
        OrderFilled(6, T0 + 4, order(status=OrderStatus.FILLED, executed_qty=D("0.010"), avg_price=D("84000.10")),
                    fill()),
        OrderCanceled(7, T0 + 5, order(3, status=OrderStatus.CANCELED)),
        OrderCanceled(8, T0 + 6, order(4, status=OrderStatus.CANCELED), reason="reduce-only: position closed"),
        OrderExpired(9, T0 + 7, order(5, time_in_force=TimeInForce.IOC, status=OrderStatus.EXPIRED), "IOC remainder"),
        OrderAmended(10, T0 + 8, order(6, price=D("84500.00000001"))),
        PositionChanged(11, T0 + 9, position()),
        PositionChanged(12, T0 + 10, position(quantity=D("0"), liquidation_price=None, bankruptcy_price=D("1.5E-7"))),
        PositionLiquidated(13, T0 + 11, SYMBOL, MarginMode.CROSS, Side.BUY, D("0.5"), D("84000"), D("79900.5"),
                           D("79800.0"), D("399.0"), D("2100.05"), D("-0.00"), liq_fill),
        FundingSettled(14, T0 + 12, SYMBOL, D("0.00010000"), D("84010.5"), D("-0.010"), D("0.0840105")),
        MarginTransferred(15, T0 + 13, SYMBOL, D("-5"), D("37.00005")),
        LeverageChanged(16, T0 + 14, SYMBOL, 125),
        MarginModeChanged(17, T0 + 15, SYMBOL, MarginMode.CROSS),
        InsuranceFundCovered(18, T0 + 16, SYMBOL, D("12.34567"), "stop filled past the bankruptcy price"),
    ]


def trading_story(start_seq: int = 1) -> list[Event]:
    """A short session: open, a limit order partly then fully filled, a rejected order, funding, a liquidation."""
    s = start_seq
    o1 = order(1)
    o1_part = o1.evolve(status=OrderStatus.PARTIALLY_FILLED, executed_qty=D("0.004"), avg_price=D("84000.10"),
                        updated_ms=T0 + 2_000)
    o1_full = o1.evolve(status=OrderStatus.FILLED, executed_qty=D("0.010"), avg_price=D("84000.10"),
                        updated_ms=T0 + 3_000)
    o2 = order(2, side=Side.SELL, type=OrderType.MARKET, price=D("0"), created_ms=T0 + 10_000,
               updated_ms=T0 + 10_000, time_in_force=TimeInForce.GTC)
    o2_done = o2.evolve(status=OrderStatus.FILLED, executed_qty=D("0.010"), avg_price=D("85000.00"))
    o3 = order(3, price=D("80000"), created_ms=T0 + 11_000, updated_ms=T0 + 11_000)
    liq = fill(5, 4, side=Side.SELL, price=D("79000"), quantity=D("0.2"), fee=D("0"), role=LiquidityRole.TAKER,
               realized_pnl=D("-1000.00"), ts_ms=T0 + 30_000, is_liquidation=True)
    return [
        AccountOpened(s, T0, D("10000")),
        LeverageChanged(s + 1, T0, SYMBOL, 20),
        OrderAccepted(s + 2, T0 + 1_000, o1),
        OrderFilled(s + 3, T0 + 2_000, o1_part, fill(1, 1, quantity=D("0.004"), fee=D("0.06720008"),
                                                     ts_ms=T0 + 2_000)),
        OrderFilled(s + 4, T0 + 3_000, o1_full, fill(2, 1, quantity=D("0.006"), fee=D("0.10080012"),
                                                     ts_ms=T0 + 3_000)),
        OrderRejected(s + 5, T0 + 4_000, OrderRequest.limit(SYMBOL, Side.BUY, D("100"), D("84000")),
                      ErrorCode.MARGIN_NOT_SUFFICIENT, "Margin is insufficient."),
        FundingSettled(s + 6, T0 + 8 * 3_600_000, SYMBOL, D("0.0001"), D("84100"), D("0.010"), D("-0.0841")),
        OrderAccepted(s + 7, T0 + 10_000, o2),
        OrderFilled(s + 8, T0 + 10_000, o2_done, fill(3, 2, side=Side.SELL, price=D("85000.00"), fee=D("0.425"),
                                                      role=LiquidityRole.TAKER, realized_pnl=D("9.99900"),
                                                      ts_ms=T0 + 10_000)),
        OrderAccepted(s + 9, T0 + 11_000, o3),
        OrderCanceled(s + 10, T0 + 12_000, o3.evolve(status=OrderStatus.CANCELED, updated_ms=T0 + 12_000)),
        PositionLiquidated(s + 11, T0 + 30_000, SYMBOL, MarginMode.ISOLATED, Side.BUY, D("0.2"), D("84000"),
                           D("79100"), D("79000"), D("0"), D("1000.00"), D("0"), liq),
    ]
