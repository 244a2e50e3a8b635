"""The liquidity estimate: the median volume per minute of the last closed candles, never the forming one's."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from hexdesk.market.candles import load_bundled
from hexdesk.market.liquidity import WINDOW, LiquidityEstimator
from hexdesk.market.replay import Replay, candle_ticks

from .conftest import MIN, make_series


def test_nothing_is_known_before_a_candle_closes() -> None:
    assert LiquidityEstimator().per_minute == 0


def test_median_of_the_last_window_candles() -> None:
    est = LiquidityEstimator(window=3)
    assert est.add_closed(D("5")) == D("5")
    assert est.add_closed(D("1")) == D("3")  # median of 5, 1: their mean
    assert est.add_closed(D("100")) == D("5")  # 1, 5, 100: a spike does not move the median
    assert est.add_closed(D("2")) == D("2")  # the 5 dropped out: 1, 100, 2 -> 2
    assert est.per_minute == D("2")


def test_other_intervals_are_volume_per_minute() -> None:
    est = LiquidityEstimator()
    assert est.add_closed(D("30"), 5 * MIN) == D("6")  # 30 BTC in 5 minutes: 6 a minute


@pytest.mark.parametrize("bad", [D("-1"), D("NaN")])
def test_bad_volumes_are_refused(bad: D) -> None:
    with pytest.raises(ValueError):
        LiquidityEstimator().add_closed(bad)
    with pytest.raises(ValueError):
        LiquidityEstimator(window=0)


def test_every_replayed_tick_carries_the_median_of_the_candles_closed_before_its_candle() -> None:
    volumes = ["4", "8", "1", "30", "2", "6", "7", "9", "3", "5", "11", "12", "13", "14", "10", "20", "0.5", "40"]
    rows = [(m, "100", "101", "99", "100.5", v) for m, v in enumerate(volumes)]
    ticks = list(Replay([make_series("FOO", rows)]).ticks())
    assert [t.liquidity for t in ticks[:4]] == [D(0)] * 4  # the first candle: nothing has closed yet
    assert {t.liquidity for t in ticks[4:8]} == {D(4)}  # the second: only the first candle is known
    assert {t.liquidity for t in ticks[8:12]} == {D(6)}  # median of 4, 8 (never the candle's own volume)
    # candle 16: the median of candles 1..15 (8, 1, 30, 2, 6, 7, 9, 3, 5, 11, 12, 13, 14, 10, 20) -> 9
    assert {t.liquidity for t in ticks[64:68]} == {D(9)}
    # candle 17: candles 2..16 (1, 30, 2, 6, 7, 9, 3, 5, 11, 12, 13, 14, 10, 20, 0.5) -> 9
    assert {t.liquidity for t in ticks[68:72]} == {D(9)}


def test_a_replay_started_later_knows_the_candles_before_its_start() -> None:
    btc = load_bundled("BTCUSDT-2025-03")
    first = next(iter(candle_ticks(btc, 1540, 1541)))
    # candles 1525..1539 (see docs/fill-model.md): median 11.57153 BTC a minute
    assert first.liquidity == D("11.57153")
    assert first.step == 0 and first.candle.volume == 0 and first.price == D("85625.98")
    assert WINDOW == 15


def test_the_estimate_never_uses_a_future_candle() -> None:
    btc = load_bundled("BTCUSDT-2025-03").slice(0, 200)
    ticks = list(candle_ticks(btc))
    est = LiquidityEstimator()
    for i in range(len(btc)):
        assert {t.liquidity for t in ticks[4 * i : 4 * i + 4]} == {est.per_minute}
        est.add_closed(btc.candle(i).volume)
