"""Order handling through the Exchange: execution per type and time in force, resting limits and triggers on
the price path, reduce-only and closePosition, attached TP/SL, amend and cancel."""

from __future__ import annotations

from hexdesk.engine import (
    DefaultFillModel,
    ErrorCode,
    Exchange,
    LiquidityRole,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderRequest,
    OrderStatus,
    OrderTriggered,
    OrderType,
    PositionChanged,
    Side,
    TimeInForce,
    WorkingType,
    rebuild,
)
from tests.engine._exchange_helpers import BTC, D, exact_exchange, names, of_type


def ready(wallet: str = "100000") -> Exchange:
    ex = exact_exchange(wallet)
    ex.on_tick(BTC, 1_000, D("60000"))
    return ex


def buy(ex: Exchange, qty: str) -> None:
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D(qty))).ok


def test_events_are_numbered_from_one_and_returned() -> None:
    ex = ready()
    seen = []
    unsubscribe = ex.subscribe(seen.append)
    result = ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.01")))
    assert [e.seq for e in ex.events] == list(range(1, len(ex.events) + 1))
    assert ex.events[0].seq == 1 and names(ex.events[:1]) == ["AccountOpened"]
    assert tuple(seen) == result.events
    unsubscribe()
    ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.01")))
    assert tuple(seen) == result.events


def test_rejected_order_changes_nothing_but_the_log() -> None:
    ex = ready()
    before = ex.state()
    result = ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.0001")))  # too many decimals
    assert not result.ok and result.rejection is not None
    assert result.rejection.code is ErrorCode.BAD_PRECISION
    assert names(result.events) == ["OrderRejected"]
    assert ex.state() == before
    unknown = ex.submit(OrderRequest.market("NOPEUSDT", Side.BUY, D("1")))
    assert unknown.rejection is not None and unknown.rejection.code is ErrorCode.BAD_SYMBOL


def test_market_order_is_taker_with_fee() -> None:
    ex = Exchange(wallet_balance=D("100000"))  # default fill model: one tick of spread
    ex.on_tick(BTC, 1_000, D("60000"))
    result = ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.1")))
    fill = of_type(result.events, OrderFilled)[0].fill
    assert fill.role is LiquidityRole.TAKER and fill.price == D("60000.1")
    assert fill.fee == (D("6000.01") * D("0.0005")).quantize(D("1e-8"))
    assert result.order is not None and result.order.status is OrderStatus.FILLED


def test_resting_limit_fills_as_maker_when_traded_through() -> None:
    ex = ready()
    result = ex.submit(OrderRequest.limit(BTC, Side.BUY, D("0.5"), D("59000")))
    assert result.order is not None and result.order.status is OrderStatus.NEW
    assert ex.on_tick(BTC, 2_000, D("59000")) == ()  # a touch does not fill
    events = ex.on_tick(BTC, 3_000, D("58900"))
    fill = of_type(events, OrderFilled)[0].fill
    assert (fill.price, fill.quantity, fill.role) == (D("59000"), D("0.5"), LiquidityRole.MAKER)
    assert fill.fee == D("59000") * D("0.5") * D("0.0002")
    assert ex.position(BTC).entry_price == D("59000")


def test_partial_fills_by_participation() -> None:
    ex = ready()
    ex.submit(OrderRequest.limit(BTC, Side.BUY, D("1"), D("59000")))
    # 4 BTC a minute of liquidity, segments one minute long: 10% of 4 = 0.4 per segment that trades through
    events = ex.on_tick(BTC, 61_000, D("58900"), bar_volume=D("4"))
    assert of_type(events, OrderFilled)[0].order.status is OrderStatus.PARTIALLY_FILLED
    assert ex.position(BTC).quantity == D("0.4")
    ex.on_tick(BTC, 121_000, D("59100"), bar_volume=D("4"))  # 58,900 -> 59,100 still trades below 59,000
    assert ex.position(BTC).quantity == D("0.8")
    ex.on_tick(BTC, 136_000, D("59200"), bar_volume=D("4"))  # above the bid: nothing
    ex.on_tick(BTC, 151_000, D("58800"), bar_volume=D("4"))  # 15 s: a quarter of 4 BTC, 10% of it = 0.1
    assert ex.position(BTC).quantity == D("0.9")
    ex.on_tick(BTC, 211_000, D("58900"), bar_volume=D("4"))
    assert ex.position(BTC).quantity == D("1")
    assert ex.open_orders() == ()


def test_marketable_limit_takes_then_rests() -> None:
    ex = Exchange(wallet_balance=D("100000"), fill_model=DefaultFillModel(spread_ticks=0, max_impact=D("0.002")))
    ex.on_tick(BTC, 1_000, D("60000"), bar_volume=D("10"))
    # 5 BTC against 10 BTC of volume walks the book; only the levels within 60,030 fill now.
    result = ex.submit(OrderRequest.limit(BTC, Side.BUY, D("5"), D("60030")))
    fills = [e.fill for e in of_type(result.events, OrderFilled)]
    assert fills and all(f.price <= D("60030") and f.role is LiquidityRole.TAKER for f in fills)
    assert result.order is not None and result.order.status is OrderStatus.PARTIALLY_FILLED
    assert ex.open_orders(BTC)[0].remaining_qty == D("5") - sum(f.quantity for f in fills)


def test_ioc_remainder_expires_and_fok_gtx_reject() -> None:
    ex = Exchange(wallet_balance=D("100000"), fill_model=DefaultFillModel(spread_ticks=0))
    ex.on_tick(BTC, 1_000, D("60000"), bar_volume=D("10"))
    ioc = ex.submit(OrderRequest.limit(BTC, Side.BUY, D("5"), D("60030"), TimeInForce.IOC))
    assert names(ioc.events)[-1] == "OrderExpired" and ioc.order is not None
    assert ioc.order.status is OrderStatus.EXPIRED and 0 < ioc.order.executed_qty < 5
    before = ex.state()
    fok = ex.submit(OrderRequest.limit(BTC, Side.BUY, D("5"), D("60030"), TimeInForce.FOK))
    assert fok.rejection is not None and fok.rejection.code is ErrorCode.FOK_ORDER_REJECT
    gtx = ex.submit(OrderRequest.limit(BTC, Side.BUY, D("0.1"), D("60000"), TimeInForce.GTX))
    assert gtx.rejection is not None and gtx.rejection.code is ErrorCode.GTX_ORDER_REJECT
    assert names(fok.events) == names(gtx.events) == ["OrderRejected"]
    assert ex.state() == before
    ok = ex.submit(OrderRequest.limit(BTC, Side.BUY, D("0.1"), D("59000"), TimeInForce.GTX))
    assert ok.ok and ok.order is not None and ok.order.status is OrderStatus.NEW
    fok_ok = ex.submit(OrderRequest.limit(BTC, Side.BUY, D("0.1"), D("60100"), TimeInForce.FOK))
    assert fok_ok.order is not None and fok_ok.order.status is OrderStatus.FILLED


def test_flip_closes_then_opens_the_rest() -> None:
    ex = ready()
    buy(ex, "1")
    ex.on_tick(BTC, 2_000, D("61000"))
    result = ex.submit(OrderRequest.market(BTC, Side.SELL, D("3")))
    fill = of_type(result.events, OrderFilled)[0].fill
    assert fill.realized_pnl == D("1000")
    pos = ex.position(BTC)
    assert pos.quantity == D("-2") and pos.entry_price == D("61000")
    assert pos.isolated_wallet == D("2") * D("61000") / 20


def test_weighted_entry_and_partial_close_release_margin() -> None:
    ex = ready()
    buy(ex, "1")
    ex.on_tick(BTC, 2_000, D("62000"))
    buy(ex, "1")
    pos = ex.position(BTC)
    assert pos.entry_price == D("61000") and pos.isolated_wallet == D("3000") + D("3100")
    result = ex.submit(OrderRequest.market(BTC, Side.SELL, D("0.5")))
    assert of_type(result.events, OrderFilled)[0].fill.realized_pnl == D("500")
    assert ex.position(BTC).isolated_wallet == D("6100") * D("0.75")


def test_reduce_only_is_capped_and_never_increases() -> None:
    ex = ready()
    rejected = ex.submit(OrderRequest.market(BTC, Side.SELL, D("1"), reduce_only=True))
    assert rejected.rejection is not None and rejected.rejection.code is ErrorCode.REDUCE_ONLY_REJECT
    buy(ex, "0.5")
    resting = ex.submit(OrderRequest.limit(BTC, Side.SELL, D("0.5"), D("62000"), reduce_only=True))
    assert resting.ok
    result = ex.submit(OrderRequest.market(BTC, Side.SELL, D("1"), reduce_only=True))
    assert sum(e.fill.quantity for e in of_type(result.events, OrderFilled)) == D("0.5")
    assert ex.position(BTC).quantity == 0
    expired = of_type(result.events, OrderExpired)
    assert {e.reason for e in expired} == {"reduce_only"}
    assert ex.open_orders() == ()  # the resting reduce-only expired with the position


def test_close_position_stop_closes_everything_at_trigger() -> None:
    ex = ready()
    buy(ex, "0.3")
    stop = ex.submit(OrderRequest.stop_market(BTC, Side.SELL, D("59000"), close_position=True))
    assert stop.ok and stop.order is not None and stop.order.quantity == 0
    buy(ex, "0.2")
    events = ex.on_tick(BTC, 2_000, D("58500"))
    triggered = of_type(events, OrderTriggered)[0].order
    assert triggered.quantity == D("0.5") and triggered.triggered
    fill = of_type(events, OrderFilled)[0].fill
    assert fill.price == D("59000") and fill.quantity == D("0.5")  # triggered at the stop, filled there
    assert ex.position(BTC).quantity == 0


def test_stop_fills_at_its_trigger_when_the_tick_overshoots() -> None:
    ex = ready()
    buy(ex, "0.1")
    ex.submit(OrderRequest.stop_market(BTC, Side.SELL, D("59000"), D("0.1"), reduce_only=True))
    ex.on_tick(BTC, 2_000, D("59100"))
    events = ex.on_tick(BTC, 3_000, D("58000"))
    assert of_type(events, OrderFilled)[0].fill.price == D("59000")


def test_attached_take_profit_and_stop_loss_follow_the_entry() -> None:
    ex = ready()
    result = ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.2"), take_profit=D("63000"), stop_loss=D("58000")))
    children = [e.order for e in of_type(result.events, OrderAccepted)][1:]
    assert [(c.type, c.stop_price, c.close_position, c.reduce_only) for c in children] == [
        (OrderType.TAKE_PROFIT_MARKET, D("63000"), True, True),
        (OrderType.STOP_MARKET, D("58000"), True, True),
    ]
    assert all(c.parent_order_id == result.order.order_id for c in children)  # type: ignore[union-attr]
    events = ex.on_tick(BTC, 2_000, D("63500"))
    assert of_type(events, OrderFilled)[0].fill.price == D("63000")
    canceled = of_type(events, OrderCanceled)
    assert [(c.order.type, c.reason) for c in canceled] == [(OrderType.STOP_MARKET, "position_closed")]
    assert ex.open_orders() == () and ex.position(BTC).quantity == 0


def test_attached_orders_wait_for_a_resting_entry() -> None:
    ex = ready()
    result = ex.submit(OrderRequest.limit(BTC, Side.BUY, D("0.2"), D("59000"), stop_loss=D("57000")))
    assert names(result.events) == ["OrderAccepted"]
    # One segment: the entry fills at 59,000 on the way down, then the path reaches the stop-loss at 57,000.
    events = ex.on_tick(BTC, 2_000, D("56000"))
    fills = [e.fill.price for e in of_type(events, OrderFilled)]
    assert fills == [D("59000"), D("57000")]
    assert ex.position(BTC).quantity == 0


def test_trigger_on_last_versus_mark() -> None:
    ex = ready()
    buy(ex, "0.2")
    ex.submit(OrderRequest.stop_market(BTC, Side.SELL, D("59000"), D("0.1"), reduce_only=True))
    ex.submit(
        OrderRequest.stop_market(
            BTC, Side.SELL, D("59000"), D("0.1"), reduce_only=True, working_type=WorkingType.MARK_PRICE
        )
    )
    events = ex.on_tick(BTC, 2_000, D("58900"), mark=D("59500"))  # last crosses, mark does not
    triggered = [e.order.working_type for e in of_type(events, OrderTriggered)]
    assert triggered == [WorkingType.CONTRACT_PRICE]
    events = ex.on_tick(BTC, 3_000, D("58950"), mark=D("58990"))
    triggered = [e.order.working_type for e in of_type(events, OrderTriggered)]
    assert triggered == [WorkingType.MARK_PRICE]
    assert ex.position(BTC).quantity == 0


def test_stop_limit_triggers_then_rests_as_limit() -> None:
    ex = ready()
    result = ex.submit(
        OrderRequest(BTC, Side.BUY, OrderType.STOP, quantity=D("0.1"), price=D("61000"), stop_price=D("60500"),
                     time_in_force=TimeInForce.GTC)
    )
    assert result.ok
    events = ex.on_tick(BTC, 2_000, D("60600"))
    # Triggered at 60,500, the BUY limit at 61,000 is marketable: it takes at the trigger price.
    assert names(events)[:2] == ["OrderTriggered", "OrderFilled"]
    assert of_type(events, OrderFilled)[0].fill.price == D("60500")


def test_amend_and_cancel() -> None:
    ex = ready()
    placed = ex.submit(OrderRequest.limit(BTC, Side.BUY, D("0.1"), D("59000")))
    assert placed.order is not None
    oid = placed.order.order_id
    amended = ex.amend(BTC, oid, quantity=D("0.2"), price=D("59500"))
    assert amended.ok and amended.order is not None
    assert (amended.order.order_id, amended.order.quantity, amended.order.price) == (oid, D("0.2"), D("59500"))
    assert names(amended.events) == ["OrderAmended"]
    assert ex.on_tick(BTC, 2_000, D("59600")) == ()
    bad = ex.amend(BTC, oid, price=D("59500.05"))
    assert bad.rejection is not None and bad.rejection.code is ErrorCode.PRICE_NOT_INCREASED_BY_TICK_SIZE
    canceled = ex.cancel(BTC, oid)
    assert canceled.ok and canceled.order is not None and canceled.order.status is OrderStatus.CANCELED
    again = ex.cancel(BTC, oid)
    assert again.rejection is not None and again.rejection.code is ErrorCode.UNKNOWN_ORDER
    assert ex.amend(BTC, 999, price=D("1")).rejection.code is ErrorCode.UNKNOWN_ORDER  # type: ignore[union-attr]
    assert ex.on_tick(BTC, 3_000, D("58000")) == ()


def test_cancel_all() -> None:
    ex = ready()
    for price in ("59000", "58000", "57000"):
        ex.submit(OrderRequest.limit(BTC, Side.BUY, D("0.1"), D(price)))
    result = ex.cancel_all(BTC)
    assert names(result.events) == ["OrderCanceled"] * 3
    assert ex.open_orders() == ()


def test_amend_to_a_marketable_price_takes() -> None:
    ex = ready()
    placed = ex.submit(OrderRequest.limit(BTC, Side.BUY, D("0.1"), D("59000")))
    assert placed.order is not None
    result = ex.amend(BTC, placed.order.order_id, price=D("60100"))
    assert names(result.events) == ["OrderAmended", "OrderFilled", "PositionChanged"]
    assert ex.position(BTC).quantity == D("0.1")


def test_rejections_write_the_log_and_rebuild_matches() -> None:
    ex = ready()
    ex.submit(OrderRequest.stop_market(BTC, Side.SELL, D("61000"), D("0.1")))  # would trigger at once
    assert of_type(ex.events, OrderRejected)[-1].code is ErrorCode.ORDER_WOULD_IMMEDIATELY_TRIGGER
    buy(ex, "0.1")
    assert of_type(ex.events, PositionChanged)
    assert ex.state() == rebuild(ex.events)


def test_preview_uses_the_account() -> None:
    ex = ready()
    preview = ex.preview(OrderRequest.market(BTC, Side.BUY, D("1"), stop_loss=D("59000")))
    assert preview.initial_margin == D("3000")
    assert preview.liquidation_price is not None and preview.liquidation_price < D("59000")
