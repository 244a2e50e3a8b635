"""The live feed through a real TradingDesk: the mark price stream is the engine's mark, funding comes from the
stream's rate ``r`` and is checked against its time ``T``, the history follows the client, the session is journaled.

Numbers are worked out by hand in the comments from binance-futures.md (§1.2 liquidation price, §2 funding).
"""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal as D

from hexdesk.engine.enums import OrderType, Side
from hexdesk.engine.events import FundingSettled, PositionLiquidated
from hexdesk.engine.orders import OrderRequest
from hexdesk.market.binance import ConnectionState
from hexdesk.service import LiveFeed, open_live_session
from hexdesk.storage.journal import Journal
from tests.market.fake_binance import MIN, FakeBinance, Row, make_rows, settings_for, until

HOUR = 60 * MIN
EIGHT = 1_740_816_000_000  # 2025-03-01 08:00:00 UTC, a funding instant of an 8-hour symbol
T0 = EIGHT - 30 * MIN  # 07:30 UTC


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def _flat(open_ms: int, price: str) -> Row:
    """A candle that stays at ``price`` (the last price, away from the mark the test moves)."""
    return Row(open_ms, price, price, price, price, "5.000")


async def _live(fake: FakeBinance, clock: Clock, journal: Journal | None = None):
    desk, feed = open_live_session(journal, ["BTCUSDT"], "1m", settings=settings_for(fake), clock_ms=clock)
    task = asyncio.create_task(feed.run())
    await until(lambda: feed.state is ConnectionState.LIVE, what="LIVE")
    return desk, feed, task


async def _stop(feed: LiveFeed, task: asyncio.Task) -> None:
    await feed.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)


def test_funding_rate_from_the_stream_settles_at_the_engine_instant_matching_T() -> None:
    async def main() -> None:
        async with FakeBinance() as fake:
            fake.put("BTCUSDT", "1m", [*make_rows(T0, 29), _flat(T0 + 29 * MIN, "100000.0")])
            clock = Clock(EIGHT - 30_000)  # 07:59:30, the 07:59 candle forming at 100000.0
            desk, feed, task = await _live(fake, clock)
            assert len(desk.history("BTCUSDT")) == 29  # 07:30..07:58 closed, from the REST backfill
            await fake.send_mark("BTCUSDT", "100010.0", rate="0.00025", next_funding_ms=EIGHT, event_ms=EIGHT - 29_000)
            await until(lambda: desk.exchange.funding_rate("BTCUSDT") == D("0.00025"), what="the stream's rate")
            assert feed.funding["BTCUSDT"].next_funding_ms == EIGHT
            assert desk.exchange.mark_price("BTCUSDT") == D("100010.0")
            assert desk.last_price("BTCUSDT") == D("100000.0")
            result = desk.submit(OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, quantity=D("0.010")))
            assert result.ok, result
            # 08:00:00.5: the next frame carries the next period's rate; 08:00 settles at the rate in force before it
            # and at the last mark before the instant: -0.010 × 100010.0 × 0.00025 = -0.250025 USDT (longs pay)
            await fake.send_mark("BTCUSDT", "100020.0", rate="0.00031", next_funding_ms=EIGHT + 8 * HOUR,
                                 event_ms=EIGHT + 500)  # fmt: skip
            await until(lambda: desk.exchange.funding_rate("BTCUSDT") == D("0.00031"), what="the next rate")
            settled = [e for e in desk.exchange.events if isinstance(e, FundingSettled)]
            assert len(settled) == 1
            f = settled[0]
            assert (f.ts_ms, f.funding_rate, f.mark_price, f.position_qty) == (EIGHT, D("0.00025"), D("100010.0"),
                                                                              D("0.010"))  # fmt: skip
            assert f.amount == D("-0.250025")
            assert feed.funding_schedule_mismatches["BTCUSDT"] == 0
            # a T off the engine's 8-hour schedule (a 4-hour symbol's 12:00) is counted, not silently trusted
            await fake.send_mark("BTCUSDT", "100020.0", rate="0.0001", next_funding_ms=EIGHT + 4 * HOUR,
                                 event_ms=EIGHT + 1_500)  # fmt: skip
            await until(lambda: feed.funding_schedule_mismatches["BTCUSDT"] == 1, what="the mismatch")
            await _stop(feed, task)

    asyncio.run(main())


def test_the_mark_stream_liquidates_while_the_last_price_stays_away() -> None:
    async def main() -> None:
        async with FakeBinance() as fake:
            fake.put("BTCUSDT", "1m", [*make_rows(T0, 20), _flat(T0 + 20 * MIN, "100000.0")])
            clock = Clock(T0 + 20 * MIN + 10_000)
            desk, feed, task = await _live(fake, clock)
            assert desk.set_leverage("BTCUSDT", 100) is None
            await fake.send_mark("BTCUSDT", "100000.0", rate="0.0001", next_funding_ms=EIGHT, event_ms=clock.ms + 1)
            await until(lambda: desk.exchange.mark_price("BTCUSDT") == D("100000.0"))
            assert desk.submit(OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, quantity=D("0.010"))).ok
            entry = desk.position("BTCUSDT").entry_price
            assert D("100000") <= entry < D("100010")
            # isolated long, 100x: margin 0.010 × E / 100 ≈ 10 USDT; tier-1 MMR 0.4%, cum 0 (§1.2):
            # LP = (WB − qty·E) / (qty·MMR − qty) = (0.01·E − 10) / 0.00996 ≈ 99,397.6 for E = 100,000 (≤ 99,407.6
            # for E < 100,010). A mark of 99,500 stays above it; 99,000 is below.
            row = _flat(T0 + 20 * MIN, "100000.0")
            await fake.send_kline("BTCUSDT", "1m", row, closed=False, event_ms=clock.ms + 100)
            await fake.send_mark("BTCUSDT", "99500.0", rate="0.0001", next_funding_ms=EIGHT, event_ms=clock.ms + 200)
            await until(lambda: desk.exchange.mark_price("BTCUSDT") == D("99500.0"))
            assert desk.position("BTCUSDT").quantity == D("0.010")
            await fake.send_kline("BTCUSDT", "1m", row, closed=False, event_ms=clock.ms + 300)
            await fake.send_mark("BTCUSDT", "99000.0", rate="0.0001", next_funding_ms=EIGHT, event_ms=clock.ms + 400)
            await until(lambda: any(isinstance(e, PositionLiquidated) for e in desk.exchange.events))
            liq = next(e for e in desk.exchange.events if isinstance(e, PositionLiquidated))
            assert liq.mark_price <= D("99407.6") and liq.mark_price >= D("99000.0")
            assert desk.position("BTCUSDT").quantity == 0
            assert desk.last_price("BTCUSDT") == D("100000.0")  # the last price never came near the liquidation
            assert desk.liquidation_reports  # explained like a replay liquidation
            await _stop(feed, task)

    asyncio.run(main())


def test_live_session_is_journaled_and_the_desk_history_follows_the_client() -> None:
    async def main() -> None:
        async with FakeBinance() as fake:
            rows = make_rows(T0, 12)
            fake.put("BTCUSDT", "1m", rows[:11])
            fake.put("ETHUSDT", "1m", make_rows(T0, 11, base=3000))
            clock = Clock(T0 + 10 * MIN + 5_000)
            journal = Journal.in_memory()
            desk, feed, task = await _live(fake, clock, journal)
            assert desk.session_id is not None and desk.mode_label.startswith("Live")
            assert len(desk.history("BTCUSDT")) == 10
            await fake.send_kline("BTCUSDT", "1m", rows[10], closed=True, event_ms=T0 + 11 * MIN)
            await until(lambda: len(desk.history("BTCUSDT")) == 11, what="the closed candle in the desk's history")
            assert int(desk.history("BTCUSDT").open_time_ms[-1]) == T0 + 10 * MIN
            await feed.switch(["BTCUSDT", "ETHUSDT"])
            assert "ETHUSDT" in desk.symbols and len(desk.history("ETHUSDT")) == 10
            await _stop(feed, task)
        summaries = journal.sessions()
        assert [s.mode for s in summaries if s.id == desk.session_id] == ["live"]

    asyncio.run(main())


def test_a_stop_inside_an_outage_fills_when_the_reconnect_walks_the_missed_candles() -> None:
    """The connection drops; while away a candle dips through the stop and comes back. The backfill after the
    reconnect walks that candle (open, low, high, close) through the engine, so the stop fills inside it."""

    async def main() -> None:
        async with FakeBinance() as fake:
            fake.put("BTCUSDT", "1m", [*make_rows(T0, 10), _flat(T0 + 10 * MIN, "100000.0")])
            clock = Clock(T0 + 10 * MIN + 5_000)
            desk, feed, task = await _live(fake, clock)
            await fake.send_kline("BTCUSDT", "1m", _flat(T0 + 10 * MIN, "100000.0"), closed=False,
                                  event_ms=clock.ms + 1)  # fmt: skip
            await until(lambda: desk.last_price("BTCUSDT") == D("100000.0"))
            assert desk.submit(OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, quantity=D("0.010"))).ok
            stop = OrderRequest("BTCUSDT", Side.SELL, OrderType.STOP_MARKET, stop_price=D("99900.0"),
                                close_position=True)  # fmt: skip
            assert desk.submit(stop).ok
            fake.drop()
            # away: 00:10 closes flat; 00:11 dips to 99,800 and closes back at 100,000; 00:12 forming
            dip = Row(T0 + 11 * MIN, "100000.0", "100050.0", "99800.0", "100000.0", "7.000")
            fake.put("BTCUSDT", "1m", [_flat(T0 + 10 * MIN, "100000.0"), dip, _flat(T0 + 12 * MIN, "100000.0")])
            clock.ms = T0 + 12 * MIN + 10_000
            await fake.wait_connections(2)
            await until(lambda: desk.position("BTCUSDT").quantity == 0, what="the stop filled in the catch-up")
            exit_fill = desk.fills()[-1]
            assert exit_fill.side is Side.SELL and T0 + 11 * MIN <= exit_fill.ts_ms < T0 + 12 * MIN
            assert exit_fill.price < D("99900.1")  # the stop triggered on the way down to the low
            assert [int(t) for t in desk.history("BTCUSDT").open_time_ms[-3:]] == [T0 + 9 * MIN, T0 + 10 * MIN,
                                                                                  T0 + 11 * MIN]  # fmt: skip
            await _stop(feed, task)

    asyncio.run(main())
