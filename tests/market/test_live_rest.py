"""REST backfill against the fake server (pagination, weights, 429/418 with Retry-After) and the pieces underneath:
the candle book's merge by open time, frame checks, settings from the environment."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal as D

import pytest

from hexdesk.market.binance import CandleBook, KlineFetcher, LiveSettings, RestError
from hexdesk.market.binance.frames import FrameError, KlineUpdate, MarkPriceUpdate, ServerShutdown, parse_frame
from hexdesk.market.binance.rest import request_weight
from hexdesk.market.candles import Candle
from tests.market.fake_binance import MIN, FakeBinance, make_rows, settings_for

T0 = 1_740_787_200_000  # 2025-03-01 00:00:00 UTC


def test_request_weights_follow_the_reference_table() -> None:
    # §4.3: 1 for limit < 100; 2 for < 500; 5 for <= 1000; 10 above 1000
    assert [request_weight(n) for n in (1, 99, 100, 499, 500, 1000, 1001, 1500)] == [1, 1, 2, 2, 5, 5, 10, 10]


def test_history_is_paginated_1500_a_request_without_hole_or_duplicate() -> None:
    async def main() -> None:
        async with FakeBinance() as fake:
            fake.put("BTCUSDT", "1m", make_rows(T0, 3_200))
            fetcher = KlineFetcher(settings_for(fake))
            now = T0 + 3_200 * MIN  # every candle closed
            candles = await fetcher.history("BTCUSDT", "1m", T0, now, now_ms=now)
            await fetcher.aclose()
        assert [k.open_time_ms for k in candles] == [T0 + m * MIN for m in range(3_200)]
        assert all(k.closed for k in candles)
        # 3,200 candles: 1,500 + 1,500 + 200; every request at the maximum limit (weight 10 each)
        assert [q["limit"] for _, q in fake.requests] == ["1500"] * 3
        assert [int(q["startTime"]) for _, q in fake.requests] == [T0, T0 + 1_500 * MIN, T0 + 3_000 * MIN]
        assert fake.used_weight == 30 and fetcher.requests == 3

    asyncio.run(main())


def test_the_forming_candle_of_a_rest_answer_is_not_closed() -> None:
    async def main() -> None:
        async with FakeBinance() as fake:
            fake.put("BTCUSDT", "1m", make_rows(T0, 10))
            fetcher = KlineFetcher(settings_for(fake))
            candles = await fetcher.recent("BTCUSDT", "1m", 5, now_ms=T0 + 9 * MIN + 30_000)
            await fetcher.aclose()
        assert [k.open_time_ms for k in candles] == [T0 + m * MIN for m in range(5, 10)]
        assert [k.closed for k in candles] == [True] * 4 + [False]  # 00:09 closes at 00:09:59.999 > now

    asyncio.run(main())


@pytest.mark.parametrize("status", [429, 418])
def test_429_and_418_wait_as_retry_after_says(status: int) -> None:
    async def main() -> None:
        async with FakeBinance() as fake:
            fake.put("BTCUSDT", "1m", make_rows(T0, 10))
            fake.failures = [(status, "0.3")]
            fetcher = KlineFetcher(settings_for(fake))
            candles = await fetcher.history("BTCUSDT", "1m", T0, T0 + 10 * MIN, now_ms=T0 + 10 * MIN)
            await fetcher.aclose()
        assert len(candles) == 10
        (t1, _), (t2, q2) = fake.requests
        assert t2 - t1 >= 0.3  # the second request came only after Retry-After
        assert fetcher.retries == 1 and fetcher.waited_s == pytest.approx(0.3)
        assert int(q2["startTime"]) == T0  # the same request again

    asyncio.run(main())


def test_a_client_error_is_not_retried_and_too_many_limits_give_up() -> None:
    async def main() -> None:
        async with FakeBinance() as fake:
            fake.put("BTCUSDT", "1m", make_rows(T0, 10))
            fetcher = KlineFetcher(settings_for(fake, max_retries=2))
            with pytest.raises(RestError) as bad:
                await fetcher.get_klines("NOPEUSDT", "1m", now_ms=T0)
            assert (bad.value.status, bad.value.code) == (400, -1121) and len(fake.requests) == 1
            fake.failures = [(429, "0"), (429, "0"), (429, "0")]
            with pytest.raises(RestError) as limited:
                await fetcher.get_klines("BTCUSDT", "1m", now_ms=T0)
            assert limited.value.status == 429 and len(fake.requests) == 4  # 1 + the first try + 2 retries
            await fetcher.aclose()

    asyncio.run(main())


def test_settings_from_the_environment_point_at_another_server() -> None:
    s = LiveSettings.from_env({"HEXDESK_WS_URL": "ws://127.0.0.1:5/market", "HEXDESK_REST_URL": "http://127.0.0.1:6"})
    assert s.stream_url(["btcusdt@kline_1m", "btcusdt@markPrice@1s"]) == (
        "ws://127.0.0.1:5/market/stream?streams=btcusdt@kline_1m/btcusdt@markPrice@1s"
    )
    assert s.rest_url == "http://127.0.0.1:6"
    default = LiveSettings.from_env({})
    assert default.stream_url(["btcusdt@kline_1m", "btcusdt@markPrice@1s"]) == (
        "wss://fstream.binance.com/market/stream?streams=btcusdt@kline_1m/btcusdt@markPrice@1s"  # §4.2, since 2026
    )
    assert default.rest_url == "https://fapi.binance.com"
    assert default.max_connection_s < 24 * 3600  # reconnect before Binance's 24 h cut


def _k(m: int, close: str, closed: bool = True, v: str = "1.5") -> Candle:
    c = D(close)
    return Candle("BTCUSDT", "1m", T0 + m * MIN, c, c + 1, c - 1, c, D(v), closed)


def test_book_merges_by_open_time_closed_wins_and_the_forming_candle_is_replaced_in_place() -> None:
    book = CandleBook("BTCUSDT", "1m")
    assert book.merge([_k(0, "10"), _k(1, "11"), _k(2, "12", closed=False)]) == 2
    book.merge([_k(2, "12.5", closed=False)])
    assert book.forming is not None and book.forming.close == D("12.5") and len(book) == 2
    book.merge([_k(1, "11"), _k(2, "12.7"), _k(3, "13", closed=False)])  # an overlapping backfill
    assert [k.open_time_ms for k in book.series()] == [T0, T0 + MIN, T0 + 2 * MIN]
    assert book.series().candle(-1).close == D("12.7") and book.forming.close == D("13")
    book.merge([_k(2, "99", closed=False)])  # a late forming update of a closed candle changes nothing
    assert book.series().candle(-1).close == D("12.7")
    book.merge([_k(5, "15"), _k(4, "14.25")])  # out of order, more decimals: appended exactly
    s = book.series()
    assert [k.close for k in s] == [D("10"), D("11"), D("12.7"), D("14.25"), D("15")]
    assert book.missing() == 1  # minute 3 never closed in this book
    book.merge([_k(3, "13.5")])
    s = book.series()
    assert [k.close for k in s] == [D("10"), D("11"), D("12.7"), D("13.5"), D("14.25"), D("15")]
    assert book.missing() == 0 and book.forming is None


def test_parse_frame_reads_the_reference_payloads_exactly() -> None:
    symbols = {"BTCUSDT"}
    mark = {"e": "markPriceUpdate", "E": 1562305380000, "s": "BTCUSDT", "p": "11794.15000000",
            "i": "11784.62659091", "P": "11784.25641265", "r": "0.00038167", "T": 1562306400000}  # §4.2 sample
    u = parse_frame(json.dumps({"stream": "btcusdt@markPrice@1s", "data": mark}), symbols)
    assert isinstance(u, MarkPriceUpdate)
    assert (u.mark, u.index, u.settle, u.funding_rate, u.next_funding_ms) == (
        D("11794.15000000"), D("11784.62659091"), D("11784.25641265"), D("0.00038167"), 1562306400000)
    k = {"t": 1672515780000, "T": 1672515839999, "s": "BTCUSDT", "i": "1m", "f": 100, "L": 200, "o": "0.0010",
         "c": "0.0020", "h": "0.0025", "l": "0.0015", "v": "1000", "n": 100, "x": False, "q": "1.0000",
         "V": "500", "Q": "0.500", "B": "123456"}  # the §4.1 sample on a futures symbol

    def kline(**changes: object) -> str:
        data = {"e": "kline", "E": 1672515782136, "s": "BTCUSDT", "k": {**k, **changes}}
        return json.dumps({"stream": "btcusdt@kline_1m", "data": data})

    # The documentation's sample is not a possible candle (its low 0.0015 is above its open 0.0010): refused.
    with pytest.raises(FrameError) as impossible:
        parse_frame(kline(), symbols)
    assert impossible.value.reason == "bad_price"
    kl = parse_frame(kline(l="0.0009"), symbols)
    assert isinstance(kl, KlineUpdate)
    assert (kl.candle.open, kl.candle.high, kl.candle.low, kl.candle.close, kl.candle.volume, kl.candle.closed) == (
        D("0.0010"), D("0.0025"), D("0.0009"), D("0.0020"), D("1000"), False)
    assert (kl.event_ms, kl.candle.open_time_ms, kl.candle.close_time_ms) == (1672515782136, 1672515780000,
                                                                              1672515839999)
    assert isinstance(parse_frame('{"e":"serverShutdown","E":1}', symbols), ServerShutdown)
    with pytest.raises(FrameError) as e:
        parse_frame(json.dumps({"stream": "btcusdt@markPrice@1s", "data": {**mark, "p": "0"}}), symbols)
    assert e.value.reason == "bad_price"


def test_why_not_live_says_none_when_binance_answers_and_why_when_not() -> None:
    async def main() -> None:
        from hexdesk.market.binance import why_not_live

        async with FakeBinance() as fake:
            fake.put("BTCUSDT", "1m", make_rows(T0, 3))
            assert await why_not_live(settings_for(fake), timeout_s=2.0) is None
            assert fake.requests[-1][1]["limit"] == "1"  # the cheapest question: weight 1
            fake.failures = [(418, "120")]
            refused = await why_not_live(settings_for(fake), timeout_s=2.0)
            assert refused is not None and "418" in refused
            down = await why_not_live(settings_for(fake, ws_url="ws://127.0.0.1:9/market"), timeout_s=2.0)
            assert down is not None and "market streams" in down

    asyncio.run(main())
