"""The live client against the fake Binance: backfill, live candles, reconnects, faults, switching.

Times are on a fixed UTC grid (T0 = 2025-03-01 00:00 UTC) and the client's clock is the test's, so which candle is
closed is decided by the test, not by the wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from decimal import Decimal as D

from hexdesk.market.binance import BinanceLive, ConnectionState
from tests.market.fake_binance import MIN, FakeBinance, Sink, make_rows, settings_for, until

T0 = 1_740_787_200_000  # 2025-03-01 00:00:00 UTC


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


async def _start(fake: FakeBinance, clock: Clock, symbols=("BTCUSDT",), **kw):
    client = BinanceLive(list(symbols), "1m", settings_for(fake, **kw), clock_ms=clock)
    sink = Sink()
    states: list[ConnectionState] = []
    client.on_state(states.append)
    task = asyncio.create_task(client.run(sink))
    await until(lambda: client.state is ConnectionState.LIVE, what="LIVE")
    return client, sink, states, task


async def _finish(client: BinanceLive, task: asyncio.Task) -> None:
    await client.aclose()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)


def _open_times(client: BinanceLive, symbol: str = "BTCUSDT") -> list[int]:
    return [int(t) for t in client.history(symbol).open_time_ms]


def test_backfill_then_live_across_a_dropped_connection_has_no_gap_and_no_duplicate() -> None:
    async def main() -> None:
        async with FakeBinance() as fake:
            rows = make_rows(T0, 110)
            fake.put("BTCUSDT", "1m", rows[:101])  # minutes 0..99 closed, 100 forming at the start
            clock = Clock(T0 + 100 * MIN + 10_000)
            client, sink, states, task = await _start(fake, clock)
            # history_candles=50: minutes 51..100 asked for; 100 is still forming, so 51..99 are history
            assert _open_times(client) == [T0 + m * MIN for m in range(51, 100)]
            assert client.book("BTCUSDT").forming.open_time_ms == T0 + 100 * MIN
            # live: minute 100 forms and closes, 101 starts forming
            await fake.send_kline("BTCUSDT", "1m", rows[100], closed=False, event_ms=T0 + 100 * MIN + 20_000)
            await fake.send_kline("BTCUSDT", "1m", rows[100], closed=True, event_ms=T0 + 101 * MIN)
            await fake.send_kline("BTCUSDT", "1m", rows[101], closed=False, event_ms=T0 + 101 * MIN + 5_000)
            await until(lambda: len(sink.ticks) == 3, what="3 live ticks")
            assert _open_times(client)[-1] == T0 + 100 * MIN
            # the network fails; minutes 101..104 close while the client is away, 105 is forming
            fake.drop()
            fake.put("BTCUSDT", "1m", rows[101:106])
            clock.ms = T0 + 105 * MIN + 30_000
            await fake.wait_connections(2)
            await until(lambda: client.state is ConnectionState.LIVE and len(client.book("BTCUSDT")) == 54,
                        what="backfill after the reconnect")  # fmt: skip
            await fake.send_kline("BTCUSDT", "1m", rows[105], closed=False, event_ms=T0 + 105 * MIN + 31_000)
            await until(lambda: sink.ticks[-1].candle.open_time_ms == T0 + 105 * MIN, what="live after reconnect")
            # every minute 51..104 exactly once, each candle exactly as the server has it
            assert _open_times(client) == [T0 + m * MIN for m in range(51, 105)]
            assert client.book("BTCUSDT").missing() == 0
            for k in client.history("BTCUSDT"):
                r = rows[(k.open_time_ms - T0) // MIN]
                assert (k.open, k.high, k.low, k.close, k.volume) == (D(r.o), D(r.h), D(r.low), D(r.c), D(r.v))
            # the engine's ticks: in time order; 101's close, then 102..104 walked (4 points each), then 105 live
            ts = [t.ts_ms for t in sink.ticks]
            assert ts == sorted(ts)
            catch_up = [t for t in sink.ticks[3:-1]]
            assert [t.candle.open_time_ms for t in catch_up] == [T0 + 101 * MIN] + [
                T0 + m * MIN for m in (102, 103, 104) for _ in range(4)
            ]
            assert catch_up[0].price == D(rows[101].c) and catch_up[0].candle.closed
            assert [t.price for t in catch_up[-4:]][::3] == [D(rows[104].o), D(rows[104].c)]
            assert client.reconnects == 1 and client.connections == 2
            assert states[:2] == [ConnectionState.CONNECTING, ConnectionState.LIVE]
            assert ConnectionState.RECONNECTING in states and states[-1] is ConnectionState.LIVE
            # the reconnect asked for the history from the last closed candle on, not from scratch
            last_query = fake.requests[-1][1]
            assert int(last_query["startTime"]) == T0 + 100 * MIN
            await _finish(client, task)
            assert client.state is ConnectionState.OFFLINE

    asyncio.run(main())


def test_garbage_frames_are_skipped_counted_and_never_handed_on() -> None:
    async def main() -> None:
        async with FakeBinance() as fake:
            rows = make_rows(T0, 21)
            fake.put("BTCUSDT", "1m", rows[:20])
            clock = Clock(T0 + 20 * MIN + 1_000)
            client, sink, _, task = await _start(fake, clock)
            good = rows[20].kline("BTCUSDT", "1m", False)
            stream = "btcusdt@kline_1m"

            def frame(**k_changes) -> str:
                return json.dumps({"stream": stream, "data": {"e": "kline", "E": T0 + 20 * MIN + 2_000,
                                                              "s": "BTCUSDT", "k": {**good, **k_changes}}})  # fmt: skip

            garbage = [
                "not json at all {",  # not_json
                "[1, 2, 3]",  # not_object
                json.dumps({"stream": stream, "data": {"e": "depthUpdate", "s": "BTCUSDT"}}),  # unknown_event
                frame(c="NaN"),  # bad_price
                frame(c="-5"),  # bad_price
                frame(h="Infinity"),  # bad_price
                frame(l="100100"),  # bad_price: the low above the open and close
                frame(c=100001.5),  # bad_field: a float is not an exact price
                frame(T=T0 + 20 * MIN + 5),  # bad_time: close time is not open + 1m - 1
                frame(t=T0 + 20 * MIN + 7, T=T0 + 21 * MIN + 6),  # bad_time: off the minute grid
                frame(i="1x"),  # bad_interval
                frame(i="5m", t=T0 + 20 * MIN, T=T0 + 25 * MIN - 1),  # unknown_stream: not the interval we watch
                json.dumps({"stream": "foousdt@kline_1m", "data": {"e": "kline", "E": 1, "s": "FOOUSDT",
                                                                   "k": {**good, "s": "FOOUSDT"}}}),
                json.dumps({"stream": "btcusdt@markPrice@1s", "data": {"e": "markPriceUpdate", "E": 5, "s": "BTCUSDT",
                            "p": "1", "i": "1", "P": "1", "r": "x", "T": 1}}),
                json.dumps({"result": None, "id": 999}),  # a reply to nothing we asked
            ]
            for g in garbage:
                await fake.send_raw(g)
            await fake.send_kline("BTCUSDT", "1m", rows[20], closed=False, event_ms=T0 + 20 * MIN + 3_000)
            await until(lambda: len(sink.ticks) == 1, what="the valid frame")
            assert sum(client.skipped.values()) == len(garbage)
            assert client.skipped == {
                "not_json": 1, "not_object": 1, "unknown_event": 1, "bad_price": 4, "bad_field": 2, "bad_time": 2,
                "bad_interval": 1, "unknown_stream": 1, "unknown_symbol": 1, "unknown_reply": 1,
            }  # fmt: skip
            assert sink.ticks[0].price == D(rows[20].c)
            assert client.connections == 1 and client.state is ConnectionState.LIVE  # never fatal
            # a frame older than what the client already has is late, not news
            await fake.send_kline("BTCUSDT", "1m", rows[19], closed=False, event_ms=T0 + 20 * MIN + 4_000)
            await fake.send_kline("BTCUSDT", "1m", rows[20], closed=False, event_ms=T0 + 20 * MIN + 2_500)
            await fake.send_kline("BTCUSDT", "1m", rows[20], closed=False, event_ms=T0 + 20 * MIN + 5_000)
            await until(lambda: len(sink.ticks) == 2, what="the next valid frame")
            assert client.skipped["late"] == 1 and client.skipped["out_of_order"] == 1
            await _finish(client, task)

    asyncio.run(main())


def test_server_shutdown_and_a_stalled_feed_reconnect_without_a_hole() -> None:
    async def main() -> None:
        async with FakeBinance() as fake:
            rows = make_rows(T0, 40)
            fake.put("BTCUSDT", "1m", rows[:11])
            clock = Clock(T0 + 10 * MIN + 1_000)
            client, _sink, states, task = await _start(fake, clock, stale_after_s=0.5)
            await fake.send_shutdown(T0 + 10 * MIN + 2_000)
            fake.put("BTCUSDT", "1m", rows[11:13])
            clock.ms = T0 + 12 * MIN + 1_000
            await fake.wait_connections(2)
            await until(lambda: client.state is ConnectionState.LIVE and len(client.book("BTCUSDT")) == 12)
            assert client.reconnect_reasons["server_shutdown"] == 1
            # now the server stalls: nothing at all for longer than stale_after_s
            stale_before = client.reconnect_reasons["StaleFeed"]  # (0 unless the machine itself stalled)
            fake.stalled = True
            await until(lambda: client.reconnect_reasons["StaleFeed"] > stale_before, what="the stale feed noticed")
            fake.stalled = False
            fake.put("BTCUSDT", "1m", rows[13:15])
            clock.ms = T0 + 14 * MIN + 1_000
            await fake.wait_connections(3)
            await until(lambda: client.state is ConnectionState.LIVE and len(client.book("BTCUSDT")) == 14)
            assert _open_times(client) == [T0 + m * MIN for m in range(14)]
            assert client.reconnects >= 2 and states.count(ConnectionState.LIVE) >= 3
            await _finish(client, task)

    asyncio.run(main())


def test_pings_are_answered() -> None:
    async def main() -> None:
        async with FakeBinance() as fake:
            fake.put("BTCUSDT", "1m", make_rows(T0, 5))
            client, _, _, task = await _start(fake, Clock(T0 + 5 * MIN))
            assert await fake.ping(timeout=1.0) < 1.0  # the pong came back (the websockets library answers)
            await _finish(client, task)

    asyncio.run(main())


def test_subscribe_and_unsubscribe_on_the_open_connection_when_switching() -> None:
    async def main() -> None:
        async with FakeBinance() as fake:
            fake.put("BTCUSDT", "1m", make_rows(T0, 30))
            fake.put("ETHUSDT", "1m", make_rows(T0, 30, base=3000))
            fake.put("ETHUSDT", "5m", make_rows(T0, 30, base=3000, interval="5m"))
            clock = Clock(T0 + 30 * MIN)
            client, sink, _, task = await _start(fake, clock)
            assert fake.paths[0] == "/market/stream?streams=btcusdt@kline_1m/btcusdt@markPrice@1s"
            await client.switch(["BTCUSDT", "ETHUSDT"], "1m")
            assert fake.commands[-1]["method"] == "SUBSCRIBE"
            assert fake.commands[-1]["params"] == ["ethusdt@kline_1m", "ethusdt@markPrice@1s"]
            assert len(client.history("ETHUSDT")) == 30  # minutes 0..29 closed at minute 30
            await client.switch(["ETHUSDT"], "5m")
            unsub, sub = fake.commands[-2:]
            assert unsub["method"] == "UNSUBSCRIBE"
            assert unsub["params"] == ["btcusdt@kline_1m", "btcusdt@markPrice@1s", "ethusdt@kline_1m"]
            assert sub == {"method": "SUBSCRIBE", "params": ["ethusdt@kline_5m"], "id": sub["id"]}
            assert fake.conns[0].streams == {"ethusdt@kline_5m", "ethusdt@markPrice@1s"}
            assert client.history("ETHUSDT").interval == "5m" and len(client.history("ETHUSDT")) == 6
            assert client.connections == 1  # all on the one connection
            # a frame of a stream given up is skipped, one of the new stream goes through
            old = make_rows(T0, 31)[30]
            await fake.send_raw(json.dumps({"stream": "btcusdt@kline_1m", "data": {
                "e": "kline", "E": T0 + 30 * MIN + 1, "s": "BTCUSDT", "k": old.kline("BTCUSDT", "1m", False)}}))
            row = make_rows(T0, 7, base=3000, interval="5m")[6]
            await fake.send_kline("ETHUSDT", "5m", row, closed=False, event_ms=T0 + 30 * MIN + 2)
            await until(lambda: sink.ticks and sink.ticks[-1].candle.interval == "5m")
            assert client.skipped["unknown_stream"] == 1
            await _finish(client, task)

    asyncio.run(main())


def test_unreachable_server_backs_off_and_goes_offline() -> None:
    async def main() -> None:
        async with FakeBinance() as fake:
            settings = settings_for(fake, ws_url="ws://127.0.0.1:9/market", offline_after_failures=3)
        client = BinanceLive(["BTCUSDT"], "1m", settings, clock_ms=Clock(T0), rng=lambda: 1.0)
        states: list[ConnectionState] = []
        client.on_state(states.append)
        task = asyncio.create_task(client.run(Sink()))
        await until(lambda: client.reconnects >= 4, what="four failed attempts")
        assert ConnectionState.RECONNECTING in states and client.state is ConnectionState.OFFLINE
        assert ConnectionState.LIVE not in states
        assert client.last_error is not None and "Error" in client.last_error
        await _finish(client, task)

    asyncio.run(main())


def test_legacy_url_gets_no_klines_so_the_client_uses_the_market_path() -> None:
    """The fake behaves like Binance since 2026-04-23: /stream accepts but pushes no kline; /market/stream does."""

    async def main() -> None:
        async with FakeBinance() as fake:
            rows = make_rows(T0, 6)
            fake.put("BTCUSDT", "1m", rows[:5])
            client, sink, _, task = await _start(fake, Clock(T0 + 5 * MIN))
            assert fake.conns[0].path == "/market/stream"
            assert await fake.send_kline("BTCUSDT", "1m", rows[5], closed=False, event_ms=T0 + 5 * MIN + 1) == 1
            await until(lambda: len(sink.ticks) == 1)
            await _finish(client, task)

    asyncio.run(main())


def test_the_connection_is_renewed_before_its_lifetime_ends() -> None:
    """Binance cuts a connection at 24 h; the client renews it first (here the lifetime is shrunk to 0.15 s)."""

    async def main() -> None:
        async with FakeBinance() as fake:
            fake.put("BTCUSDT", "1m", make_rows(T0, 5))
            client, _, _, task = await _start(fake, Clock(T0 + 5 * MIN), max_connection_s=0.15, stale_after_s=5)
            await fake.wait_connections(3)
            assert client.reconnect_reasons["lifetime"] >= 2 and client.last_error is None
            assert _open_times(client) == [T0 + m * MIN for m in range(5)]
            await _finish(client, task)

    asyncio.run(main())
