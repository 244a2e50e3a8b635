"""TradingDesk.amend and TradingDesk.transfer_margin (issue 10.6): a limit is modified in place (Binance's modify
keeps the id), a stop or stop-loss is replaced (Binance has no modify for them) only once the new one is accepted,
and a margin transfer answers Binance's refusal like set_leverage does."""

from decimal import Decimal

from hexdesk.engine import Exchange
from hexdesk.engine.enums import MarginMode, OrderType, Side
from hexdesk.engine.events import OrderAmended
from hexdesk.engine.orders import OrderRequest
from hexdesk.service import TradingDesk

SYMBOL = "BTCUSDT"


def desk() -> TradingDesk:
    exchange = Exchange(wallet_balance=Decimal("10000"), start_ms=1_740_787_200_000)
    exchange.on_tick(SYMBOL, 1_740_787_200_000, Decimal("85000.0"))
    d = TradingDesk(exchange, None, None, None)
    d.set_margin_mode(SYMBOL, MarginMode.ISOLATED)
    d.set_leverage(SYMBOL, 10)
    return d


def test_amend_moves_a_limit_in_place_and_publishes_it():
    d = desk()
    seen = []
    d.subscribe(lambda change: seen.extend(change.events))
    order = d.submit(OrderRequest.limit(SYMBOL, Side.BUY, Decimal("0.010"), Decimal("84000.0"))).order
    result = d.amend(SYMBOL, order.order_id, Decimal("84100.0"))
    assert result.ok
    (resting,) = d.open_orders()
    assert (resting.order_id, resting.price) == (order.order_id, Decimal("84100.0"))
    assert any(isinstance(e, OrderAmended) for e in seen)


def test_amend_replaces_a_stop_loss_and_keeps_it_closing_the_position():
    d = desk()
    assert d.submit(OrderRequest.market(SYMBOL, Side.BUY, Decimal("0.100"), stop_loss=Decimal("84000.0"))).ok
    (stop,) = d.open_orders()
    result = d.amend(SYMBOL, stop.order_id, Decimal("83500.0"))
    assert result.ok
    (moved,) = d.open_orders()
    assert moved.order_id != stop.order_id
    assert (moved.type, moved.side, moved.stop_price, moved.close_position) == (
        OrderType.STOP_MARKET, Side.SELL, Decimal("83500.0"), True)


def test_a_refused_stop_price_leaves_the_old_stop_working():
    d = desk()
    assert d.submit(OrderRequest.market(SYMBOL, Side.BUY, Decimal("0.100"), stop_loss=Decimal("84000.0"))).ok
    (stop,) = d.open_orders()
    result = d.amend(SYMBOL, stop.order_id, Decimal("86000.0"))  # a sell stop above the last price: -2021
    assert not result.ok and result.rejection.code == -2021
    assert d.open_orders() == [stop]


def test_transfer_margin_adds_and_refuses_with_2019():
    d = desk()
    assert d.submit(OrderRequest.market(SYMBOL, Side.BUY, Decimal("0.100"))).ok
    before = d.position(SYMBOL).isolated_wallet
    assert d.transfer_margin(SYMBOL, Decimal("100")) is None
    assert d.position(SYMBOL).isolated_wallet == before + Decimal("100")
    rejection = d.transfer_margin(SYMBOL, Decimal("20000"))  # twice the wallet
    assert rejection is not None and rejection.code == -2019
    assert d.position(SYMBOL).isolated_wallet == before + Decimal("100")
