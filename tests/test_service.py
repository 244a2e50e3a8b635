"""The walking skeleton without a display: bundled candles -> engine -> journal, through the app service."""

from decimal import Decimal

import pytest

from hexdesk.engine.enums import OrderStatus, Side
from hexdesk.engine.events import OrderFilled, PositionChanged
from hexdesk.engine.orders import OrderRequest
from hexdesk.service import DeskChange, open_replay_session
from hexdesk.storage.journal import Journal


@pytest.fixture
def desk():
    journal = Journal.in_memory()
    desk = open_replay_session(journal, ("BTCUSDT-2025-03",), paused=True)
    yield desk
    journal.close()


def feed(desk, n: int) -> list:
    ticks = []
    gen = desk.replay.ticks()
    for _ in range(n):
        ticks.append(next(gen))
    desk.feed(ticks)
    return ticks


def test_market_buy_fills_at_replayed_price_and_is_journaled(desk):
    ticks = feed(desk, 8)
    last = ticks[-1].price
    changes: list[DeskChange] = []
    desk.subscribe(changes.append)

    result = desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, Decimal("0.100")))

    assert result.ok, result.rejection
    assert result.order.status is OrderStatus.FILLED
    pos = desk.position("BTCUSDT")
    assert pos.quantity == Decimal("0.100")
    # the fill is at the replayed last price plus the fill model's slippage, never better for the buyer
    assert pos.entry_price >= last
    assert pos.liquidation_price is not None and pos.liquidation_price < pos.entry_price
    assert any(isinstance(e, OrderFilled) for e in changes[-1].events)
    fills = desk.journal.fills(desk.session_id)
    assert [f.quantity for f in fills] == [Decimal("0.100")]
    assert fills[0].price == pos.entry_price


def test_rejected_order_is_journaled_with_binance_code_and_changes_nothing(desk):
    feed(desk, 4)
    before = desk.account()
    result = desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, Decimal("50")))
    assert not result.ok
    assert int(result.rejection.code) in (-2019, -2027)
    assert desk.account() == before
    assert not desk.position("BTCUSDT").is_open
    orders = desk.journal.orders(desk.session_id)
    assert orders[-1].reject_code == int(result.rejection.code)


def test_history_never_contains_a_future_candle(desk):
    start = desk.clock_ms
    h0 = desk.history("BTCUSDT")
    assert len(h0) > 0
    assert int(h0.open_time_ms[-1]) < start
    feed(desk, 4 * 3)  # three whole candles
    h1 = desk.history("BTCUSDT")
    assert len(h1) == len(h0) + 3
    assert int(h1.open_time_ms[-1]) < desk.clock_ms


def test_every_event_is_in_the_journal_in_order(desk):
    feed(desk, 4)
    desk.set_leverage("BTCUSDT", 10)
    desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, Decimal("0.050")))
    feed(desk, 40)
    desk.close_position("BTCUSDT")
    logged = desk.journal.events(desk.session_id)
    assert [e.seq for e in logged] == list(range(1, len(desk.exchange.events) + 1))
    assert logged == list(desk.exchange.events)
    assert any(isinstance(e, PositionChanged) and e.position.quantity == 0 for e in logged)


def test_replay_settles_funding_at_0800_utc_and_journals_it():
    journal = Journal.in_memory()
    desk = open_replay_session(journal, ("BTCUSDT-2025-03",), paused=True, funding_rate=Decimal("0.0003"))
    feed(desk, 4)
    desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, Decimal("0.100")))
    wallet_before = desk.account().wallet_balance
    gen = desk.replay.ticks()
    eight = desk.clock_ms - desk.clock_ms % (8 * 3600_000) + 8 * 3600_000  # the next settlement instant
    while desk.clock_ms is None or desk.clock_ms <= eight + 60_000:
        desk.feed([next(gen) for _ in range(400)])
    settled = [e for e in journal.events(desk.session_id) if type(e).__name__ == "FundingSettled"]
    assert len(settled) == 1
    funding = settled[0]
    assert funding.amount < 0  # a positive rate: the long pays
    assert abs(funding.amount + funding.mark_price * Decimal("0.100") * Decimal("0.0003")) < Decimal("1E-8")
    assert funding.ts_ms >= eight
    assert desk.account().wallet_balance < wallet_before
    journal.close()


def test_jump_runs_every_price_on_the_way_through_the_engine():
    desk = open_replay_session(None, ("BTCUSDT-2022-06",), paused=True)  # the June 2022 crash
    feed(desk, 4)
    desk.set_leverage("BTCUSDT", 50)
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, Decimal("0.100"))).ok
    start = desk.clock_ms
    desk.jump(24 * 60)
    for _ in range(10_000):
        if not desk.position("BTCUSDT").is_open:
            break
        desk.feed(desk.replay.poll())
    # the jump did not skip the path: a 50x long through the crash's first day was liquidated on the way,
    # and the liquidation stopped the jump there, paused
    assert not desk.position("BTCUSDT").is_open
    assert any(type(e).__name__ == "PositionLiquidated" for e in desk.exchange.events)
    assert desk.paused and start < desk.clock_ms < start + 24 * 3600_000
    desk.jump(24 * 60)  # the trader jumps on
    while desk.clock_ms < start + 24 * 3600_000:
        desk.feed(desk.replay.poll())
    assert len(desk.history("BTCUSDT")) >= 24 * 60 + 24 * 60  # the first day of history, then the jumped day
