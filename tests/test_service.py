"""The walking skeleton without a display: bundled candles -> engine -> journal, through the app service."""

from decimal import Decimal

import pytest

from hexdesk.engine.enums import OrderStatus, OrderType, Side
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
    # BTCUSDT-2025-03 replays with Binance's real funding history (resources/funding/): the rate settled on
    # 2025-03-02 08:00 UTC (calc_time 1740902400000) was -0.00002783, so the long receives; --funding-rate is only
    # the fallback for instants without a real rate.
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
    assert eight == 1_740_902_400_000 and funding.funding_rate == Decimal("-0.00002783")
    assert funding.amount > 0  # a negative rate: the long receives
    assert abs(funding.amount - funding.mark_price * Decimal("0.100") * Decimal("0.00002783")) < Decimal("1E-8")
    assert funding.ts_ms >= eight
    assert desk.account().wallet_balance > wallet_before
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


def test_a_market_order_at_a_candle_open_is_priced_with_the_closed_candles_liquidity():
    # Issue 6.3: BTCUSDT 2025-03-02 04:40 UTC opens at 85,625.98; its forming candle has traded nothing yet.
    from hexdesk.market.candles import load_bundled

    start = int(load_bundled("BTCUSDT-2025-03").open_time_ms[1540])
    desk = open_replay_session(None, ("BTCUSDT-2025-03",), start_ms=start, paused=True)
    tick = feed(desk, 1)[0]
    assert (tick.step, tick.price, tick.candle.volume) == (0, Decimal("85625.98"), 0)
    result = desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, Decimal("0.010")))
    assert result.ok, result.rejection
    fill = next(e.fill for e in result.events if isinstance(e, OrderFilled))
    # Median volume of the 15 candles closed before it (04:25-04:39): 11.57153 BTC a minute. Impact
    # 0.005 × 0.01 / 11.57153 × 85,625.98 = 0.36998, + 0.1 spread -> 85,626.44998 -> up to the tick: 85,626.5
    # (priced against the forming candle's 0 it paid the 0.2% cap: 85,797.4).
    assert fill.price == Decimal("85626.5")
    assert fill.fee == Decimal("0.42813250")  # 85,626.5 × 0.01 × 0.05%


def _stop_out(start_offset_min: int, side: Side, stop_pct: str) -> tuple:
    """Replay BTCUSDT March 2025 from the given minute after the first day: size 1% with a stop ``stop_pct`` away,
    send a market order with that stop attached, replay until the stop closes it. Returns (equity before, the
    sizing, the preview, the loss: -realized PnL + all fees - funding, the exit fills)."""
    from hexdesk.engine.events import FundingSettled
    from hexdesk.market.candles import load_bundled

    first = int(load_bundled("BTCUSDT-2025-03").open_time_ms[0])
    desk = open_replay_session(None, ("BTCUSDT-2025-03",), start_ms=first + 86_400_000 + start_offset_min * 60_000,
                               paused=True)
    gen = desk.replay.ticks()
    desk.feed([next(gen) for _ in range(4)])
    last = desk.last_price("BTCUSDT")
    move = last * Decimal(stop_pct) / 100
    stop = (last - move if side is Side.BUY else last + move).quantize(Decimal("0.1"))
    equity = desk.account().margin_balance
    sizing = desk.size_position("BTCUSDT", last, stop, Decimal("1"), 20)
    request = OrderRequest.market("BTCUSDT", side, sizing.quantity, stop_loss=stop)
    preview = desk.preview(request)
    assert desk.submit(request).ok
    before = desk.last_price("BTCUSDT")
    while desk.position("BTCUSDT").is_open:
        before = desk.last_price("BTCUSDT")
        desk.feed([next(gen)])
    # Where the stop triggered: at its price when the path reached it, at the segment's start if that was already
    # beyond it (a gap through the stop: the only case the loss may exceed the risk, by quantity × the gap).
    beyond = before <= stop if side is Side.BUY else before >= stop
    trigger = before if beyond else stop
    gap = sizing.quantity * abs(stop - trigger)
    events = desk.exchange.events
    fills = [e.fill for e in events if isinstance(e, OrderFilled)]
    funding = sum((e.amount for e in events if isinstance(e, FundingSettled)), Decimal(0))
    loss = -sum((f.realized_pnl for f in fills), Decimal(0)) + sum((f.fee for f in fills), Decimal(0)) - funding
    return equity, sizing, preview, loss, gap, fills[len(preview.fills):]


@pytest.mark.parametrize(
    ("offset", "side", "stop_pct"),
    [
        (37, Side.BUY, "0.4"),  # 2025-03-02 00:37 UTC, a long stopped out the same hour
        (457, Side.SELL, "0.4"),  # 07:37, a short stopped out as the price rose
        (2137, Side.BUY, "0.15"),  # a tight stop: the exit's bounded slippage weighs most here
    ],
)
def test_a_one_percent_trade_stopped_out_in_replay_loses_at_most_one_percent(offset, side, stop_pct):
    equity, sizing, preview, loss, gap, exits = _stop_out(offset, side, stop_pct)
    assert sizing.quantity > 0 and preview == sizing.preview  # the hint and the preview are one computation
    assert sizing.max_loss_at_stop <= equity / 100
    # The documented tolerance is the gap through the stop (quantity × how far beyond it the path started). The
    # replay's path is continuous, so a stop resting before the move triggers at its own price: gap 0 here.
    assert gap == 0
    assert loss <= equity / 100 + gap
    assert loss > sizing.loss_at_stop / 2  # it did lose: the stop, not a take-profit, closed it
    assert len(exits) >= 1 and all(f.realized_pnl < 0 for f in exits)


def test_with_a_position_open_the_hint_and_the_preview_describe_the_same_position(desk):
    feed(desk, 8)
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, Decimal("0.100"))).ok
    feed(desk, 4)
    last = desk.last_price("BTCUSDT")
    stop = (last * Decimal("0.995")).quantize(Decimal("0.1"))
    sizing = desk.size_position("BTCUSDT", last, stop, Decimal("1"), desk.leverage("BTCUSDT"))
    preview = desk.preview(OrderRequest.market("BTCUSDT", Side.BUY, sizing.quantity, stop_loss=stop))
    assert preview == sizing.preview
    # the attached stop closes the whole position: the open 0.1 and the new order together risk the 1%
    assert sizing.resulting_qty == preview.resulting_qty == Decimal("0.100") + sizing.quantity
    assert preview.max_loss_at_stop == sizing.max_loss_at_stop <= desk.account().margin_balance / 100
    alone = desk.size_position("BTCUSDT", last, stop, Decimal("1"), desk.leverage("BTCUSDT"))
    assert alone == sizing  # deterministic: nothing moved in between
    flat_desk = open_replay_session(None, ("BTCUSDT-2025-03",), paused=True)
    gen = flat_desk.replay.ticks()
    flat_desk.feed([next(gen) for _ in range(12)])
    flat = flat_desk.size_position("BTCUSDT", last, stop, Decimal("1"), desk.leverage("BTCUSDT"))
    assert sizing.quantity < flat.quantity  # the open position already uses part of the risk


def test_a_limit_entry_is_sized_as_the_limit_order_the_ticket_sends(desk):
    feed(desk, 8)
    last = desk.last_price("BTCUSDT")
    entry = (last * Decimal("0.99")).quantize(Decimal("0.1"))
    stop = (entry * Decimal("0.99")).quantize(Decimal("0.1"))
    lev = desk.leverage("BTCUSDT")  # the preview uses the account's leverage; the sizer is told the same here
    sizing = desk.size_position("BTCUSDT", entry, stop, Decimal("1"), lev, order_type=OrderType.LIMIT)
    preview = desk.preview(OrderRequest.limit("BTCUSDT", Side.BUY, sizing.quantity, entry, stop_loss=stop))
    assert preview == sizing.preview
    assert preview.fills == ((entry, sizing.quantity),) and preview.slippage == 0  # a resting limit: maker
    assert preview.entry_fee == (entry * sizing.quantity * Decimal("0.0002")).quantize(Decimal("1E-8"))
    # without the order type an entry below the last price is taken for a resting limit too
    assert desk.size_position("BTCUSDT", entry, stop, Decimal("1"), lev) == sizing
