"""The replay path: four points per candle in the standard order, a forming candle that never shows the future,
one shared timeline for several symbols, gaps skipped and counted."""

from __future__ import annotations

import itertools
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hexdesk.market.candles import Candle, CandleSeries, load_bundled
from hexdesk.market.replay import PriceTick, Replay

from .conftest import MIN, T0, make_series, simple_rows

DAY = 24 * 60 * MIN


def _one(o: str, h: str, lo: str, c: str, v: str) -> list[PriceTick]:
    return list(Replay([make_series("FOO", [(0, o, h, lo, c, v)])]).ticks())


def test_bullish_candle_goes_open_low_high_close() -> None:
    ticks = _one("100", "110", "95", "105", "10.00000")
    assert [t.price for t in ticks] == [D(100), D(95), D(110), D(105)]
    assert [t.ts_ms - T0 for t in ticks] == [0, 20_000, 40_000, 59_999]
    assert [t.step for t in ticks] == [0, 1, 2, 3]
    assert [t.candle.closed for t in ticks] == [False, False, False, True]
    assert [(t.candle.high, t.candle.low) for t in ticks] == [
        (D(100), D(100)),
        (D(100), D(95)),
        (D(110), D(95)),
        (D(110), D(95)),
    ]
    assert [t.candle.close for t in ticks] == [t.price for t in ticks]
    assert [t.candle.volume for t in ticks] == [D(0), D("3.33333"), D("6.66667"), D(10)]
    assert {t.candle.open_time_ms for t in ticks} == {T0} and {t.candle.open for t in ticks} == {D(100)}


def test_bearish_candle_goes_open_high_low_close() -> None:
    ticks = _one("100", "110", "95", "99.5", "0.3")
    assert [t.price for t in ticks] == [D(100), D(110), D(95), D("99.5")]
    assert [(t.candle.high, t.candle.low) for t in ticks] == [
        (D(100), D(100)),
        (D(110), D(100)),
        (D(110), D(95)),
        (D(110), D(95)),
    ]
    assert [t.candle.volume for t in ticks] == [D(0), D("0.1"), D("0.2"), D("0.3")]
    last = ticks[-1].candle
    assert (last.open, last.high, last.low, last.close, last.volume, last.closed) == (
        D(100),
        D(110),
        D(95),
        D("99.5"),
        D("0.3"),
        True,
    )


def test_doji_counts_as_bullish_and_volume_rounds_to_its_exponent() -> None:
    ticks = _one("100", "101", "99", "100", "0.00002")
    assert [t.price for t in ticks] == [D(100), D(99), D(101), D(100)]
    # 0.00002 / 3 = 0.0000066.. -> 0.00001; 2/3 -> 0.0000133.. -> 0.00001
    assert [t.candle.volume for t in ticks] == [D(0), D("0.00001"), D("0.00001"), D("0.00002")]


candle_values = st.tuples(
    st.integers(1, 10_000),  # open
    st.integers(1, 10_000),  # close
    st.integers(0, 500),  # high above max(open, close)
    st.integers(0, 500),  # low below min(open, close)
    st.integers(0, 10**9),  # volume
    st.integers(1, 3),  # minutes since the previous candle (2+ is a gap)
)


@settings(max_examples=60, deadline=None)
@given(st.lists(candle_values, min_size=1, max_size=30))
def test_forming_candle_never_reveals_a_future_value(rows: list[tuple[int, int, int, int, int, int]]) -> None:
    candles, minute = [], 0
    for o, c, up, down, v, step in rows:
        minute += step
        hi, lo = max(o, c) + up, max(0, min(o, c) - down)
        candles.append(
            Candle("FOO", "1m", T0 + minute * MIN, D(o) / 100, D(hi) / 100, D(lo) / 100, D(c) / 100, D(v) / 1000)
        )
    series = CandleSeries.from_candles(candles)
    replay = Replay([series])
    ticks = list(replay.ticks())
    assert len(ticks) == 4 * len(candles)
    for i, real in enumerate(candles):
        path = ticks[4 * i : 4 * i + 4]
        seen: list[D] = []
        prev_volume = D(-1)
        for k, t in enumerate(path):
            seen.append(t.price)
            f = t.candle
            assert t.step == k and f.open_time_ms == real.open_time_ms
            assert real.open_time_ms <= t.ts_ms <= real.close_time_ms
            assert f.open == real.open and f.close == t.price
            assert f.high == max(seen) <= real.high and f.low == min(seen) >= real.low
            assert prev_volume <= f.volume <= real.volume
            prev_volume = f.volume
            assert f.closed == (k == 3)
        assert path[-1].candle == real  # at the close, the forming candle is the real one
    assert all(a.ts_ms < b.ts_ms for a, b in itertools.pairwise(ticks))
    expected_gaps = sum(1 for r in rows[1:] if r[5] > 1)
    assert replay.gaps == expected_gaps
    assert replay.missing_candles == sum(r[5] - 1 for r in rows[1:])


def test_two_symbols_share_one_timeline_in_time_then_symbol_order() -> None:
    btc = load_bundled("BTCUSDT-2025-03").slice(0, 120)
    eth = load_bundled("ETHUSDT-2025-03").slice(0, 120)
    ticks = list(Replay([eth, btc]).ticks())
    assert len(ticks) == 2 * 4 * 120
    keys = [(t.ts_ms, t.symbol) for t in ticks]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    for symbol, series in (("BTCUSDT", btc), ("ETHUSDT", eth)):
        own = [t for t in ticks if t.symbol == symbol]
        assert [t.step for t in own] == [0, 1, 2, 3] * 120
        closes = [t for t in own if t.step == 3]
        assert [t.candle for t in closes] == list(series)
        opens = [t for t in own if t.step == 0]
        for close, nxt in zip(closes, opens[1:], strict=False):
            assert nxt.ts_ms == close.ts_ms + 1  # the next candle opens right after the close


def test_gaps_are_skipped_in_time_and_counted_per_series() -> None:
    btc = make_series("BTC", simple_rows([0, 1, 4, 5, 9]))  # gaps: 2-3 and 6-8
    eth = make_series("ETH", simple_rows([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
    replay = Replay([btc, eth])
    ticks = list(replay.ticks())
    btc_opens = [t.ts_ms for t in ticks if t.symbol == "BTC" and t.step == 0]
    assert btc_opens == [T0 + m * MIN for m in (0, 1, 4, 5, 9)]
    assert (replay.gaps, replay.missing_candles) == (2, 5)
    assert len(ticks) == 4 * (5 + 10)


def test_start_and_history_before() -> None:
    btc = load_bundled("BTCUSDT-2025-03")
    eth = load_bundled("ETHUSDT-2025-03")
    start = btc.first_open_ms + DAY
    replay = Replay([btc, eth], start_ms=start)
    assert replay.position_ms == start and not replay.finished
    history = replay.history_before()
    assert [len(h) for h in history] == [1440, 1440]
    assert history[0].last_close_ms == start - 1 and history[1].symbol == "ETHUSDT"
    assert [len(h) for h in replay.history_before(start + 10 * MIN)] == [1450, 1450]
    ticks = replay.ticks()
    first = next(ticks)
    assert (first.ts_ms, first.symbol, first.step) == (start, "BTCUSDT", 0)
    assert first.candle.open == btc.candle(1440).open
    assert replay.position_ms == start


def test_ticks_move_the_clock_and_finish() -> None:
    replay = Replay([make_series("FOO", simple_rows([0, 1]))])
    out = list(replay.ticks())
    assert replay.finished and replay.position_ms == out[-1].ts_ms == T0 + 2 * MIN - 1
    assert replay.end_ms == T0 + 2 * MIN - 1
    assert list(replay.ticks()) == []


def test_replay_rejects_bad_inputs() -> None:
    s = make_series("FOO", simple_rows([0]))
    with pytest.raises(ValueError):
        Replay([])
    with pytest.raises(ValueError, match="one series per symbol"):
        Replay([s, s])
    replay = Replay([s])
    for bad in (0, -1, 100_001, float("nan")):
        with pytest.raises(ValueError):
            replay.speed = bad
    replay.speed = float("inf")
    assert replay.speed == float("inf")
