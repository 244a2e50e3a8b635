"""The live recorder (issue 8.5): closed live candles and mark prices go to the data library in the bundled format,
a replay of the recorded dataset gives the same candles, and the next live session starts from the recording and
asks Binance only for the gap."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

from hexdesk.market.binance import ConnectionState
from hexdesk.market.candles import CandleSeries
from hexdesk.market.library import dataset_names, load_dataset
from hexdesk.market.recorder import merge_series, recorded_path
from hexdesk.service import modes, open_replay_session
from tests.market.fake_binance import MIN, FakeBinance, Row, make_rows, settings_for, until

T0 = 1_741_392_000_000  # 2025-03-08 00:00:00 UTC


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def _expected(rows: list[Row]) -> list[tuple[int, D, D, D, D, D]]:
    """The candles as the fake served them, read from its strings (not from anything HexDesk computed)."""
    return [(r.open_ms, D(r.o), D(r.h), D(r.low), D(r.c), D(r.v)) for r in rows]


def _tuples(series: CandleSeries) -> list[tuple[int, D, D, D, D, D]]:
    return [(k.open_time_ms, k.open, k.high, k.low, k.close, k.volume) for k in series]


async def _session(fake: FakeBinance, clock: Clock, tmp_path, **settings):
    s = modes.open_live(None, ["BTCUSDT"], settings=settings_for(fake, **settings), data_dir=tmp_path, clock_ms=clock)
    task = asyncio.create_task(s.run())
    await until(lambda: s.feed.state is ConnectionState.LIVE, what="LIVE")
    return s, task


def test_closed_live_candles_and_marks_are_recorded_and_replay_the_same(tmp_path) -> None:
    rows = make_rows(T0, 31)  # 00:00..00:29 closed by 00:30:10, 00:30 forming
    clock = Clock(T0 + 30 * MIN + 10_000)

    async def main() -> None:
        async with FakeBinance() as fake:
            fake.put("BTCUSDT", "1m", rows)
            s, task = await _session(fake, clock, tmp_path, history_candles=100)
            assert len(s.desk.history("BTCUSDT")) == 30
            # marks during 00:30: 100010.5, 100012.0 (high), 100008.25 (low), 100009.0 (close)
            for i, mark in enumerate(("100010.5", "100012.0", "100008.25", "100009.0")):
                await fake.send_mark("BTCUSDT", mark, rate="0.0001", next_funding_ms=T0 + 8 * 60 * MIN,
                                     event_ms=T0 + 30 * MIN + 11_000 + i * 1000)  # fmt: skip
            # the stream closes 00:30 (x = true): a 31st closed candle
            clock.ms = T0 + 31 * MIN + 500
            await fake.send_kline("BTCUSDT", "1m", rows[30], closed=True, event_ms=T0 + 31 * MIN + 100)
            await until(lambda: len(s.desk.history("BTCUSDT")) == 31, what="the closed 00:30 candle")
            await s.feed.stop()
            await asyncio.wait_for(task, 3)  # the session's end flushes the recorder

    asyncio.run(main())
    name = "BTCUSDT-2025-03-live"
    assert name in dataset_names(tmp_path)
    ds = load_dataset(name, tmp_path)
    assert ds.info.market == "futures"
    assert _tuples(ds.series) == _expected(rows)  # the 30 backfilled minutes and the one the stream closed
    assert ds.mark is not None
    assert _tuples(ds.mark) == [(T0 + 30 * MIN, D("100010.5"), D("100012.0"), D("100008.25"), D("100009.0"), D(0))]
    # a replay of the recorded dataset walks the same candles, and liquidates on the recorded mark where it has one
    desk = open_replay_session(None, [name], data_dir=tmp_path, start_ms=T0, paused=True)
    ticks = list(desk.replay.ticks())
    closed = [t.candle for t in ticks if t.candle.closed]
    assert [(k.open_time_ms, k.open, k.high, k.low, k.close, k.volume) for k in closed] == _expected(rows)
    marks = {t.mark for t in ticks if t.candle.open_time_ms == T0 + 30 * MIN}
    assert marks == {D("100010.5"), D("100012.0"), D("100008.25"), D("100009.0")}  # the recorded minute's marks
    assert {t.mark for t in ticks if t.candle.open_time_ms < T0 + 30 * MIN} == {None}  # none recorded: last price


def test_the_next_live_session_starts_from_the_recording_and_backfills_only_the_gap(tmp_path) -> None:
    rows = make_rows(T0, 61)
    first = Clock(T0 + 30 * MIN + 10_000)  # a first session sees 00:00..00:29 closed
    later = Clock(T0 + 60 * MIN + 10_000)  # the next one, half an hour later: 00:00..00:59 closed

    async def main() -> None:
        async with FakeBinance() as fake:
            fake.put("BTCUSDT", "1m", rows[:31])
            s, task = await _session(fake, first, tmp_path, history_candles=100)
            await s.feed.stop()
            await asyncio.wait_for(task, 3)
            assert recorded_path(tmp_path, "klines", "BTCUSDT", "2025-03").is_file()
            fake.put("BTCUSDT", "1m", rows)
            fake.requests.clear()
            s, task = await _session(fake, later, tmp_path, history_candles=100)
            history = s.desk.history("BTCUSDT")
            book = s.feed.market.book("BTCUSDT")
            await s.feed.stop()
            await asyncio.wait_for(task, 3)
            # one klines request, from the last recorded candle (00:29) on: the gap, not the last 100 minutes
            starts = [q.get("startTime") for _, q in fake.requests if q.get("symbol") == "BTCUSDT"]
            assert starts and starts[0] == str(T0 + 29 * MIN)
            assert _tuples(history) == _expected(rows[:60])  # 00:00..00:59, no hole, no duplicate
            assert book.missing() == 0

    asyncio.run(main())


def test_merge_series_keeps_the_newer_candle_at_the_same_open_time() -> None:
    from hexdesk.market.candles import Candle

    def series(*candles: tuple[int, str]) -> CandleSeries:
        return CandleSeries.from_candles(
            [Candle("BTCUSDT", "1m", t, D(p), D(p), D(p), D(p), D("1")) for t, p in candles], "BTCUSDT", "1m"
        )

    old = series((0, "10.0"), (MIN, "11.0"))
    new = series((MIN, "11.25"), (2 * MIN, "12.5"))
    merged = merge_series(old, new)
    assert [(k.open_time_ms, k.close) for k in merged] == [(0, D("10.0")), (MIN, D("11.25")), (2 * MIN, D("12.5"))]
