"""Chart timeframes and symbol switch (issue 8.7): the chart's 5m candles are the desk's 1m candles aggregated on
UTC boundaries (checked by hand for one bucket), the forming 5m candle moves with 1m ticks, the engine stays on 1m,
and the chart's symbol selector switches the chart (and the ticket) to another symbol."""

from __future__ import annotations

import itertools
from decimal import Decimal as D

import pytest

from hexdesk.service import open_replay_session
from hexdesk.ui.chart_toolbar import TIMEFRAMES, Bar, FormingAggregator
from hexdesk.ui.main_window import MainWindow

FIVE = 5 * 60_000


@pytest.fixture
def window(qtbot):
    desk = open_replay_session(None, ["BTCUSDT-2025-03", "ETHUSDT-2025-03"], paused=True)
    w = MainWindow(desk)
    qtbot.addWidget(w)
    return w


def _by_hand(minutes) -> tuple[D, D, D, D, D]:
    """open of the first minute, highest high, lowest low, close of the last, summed volume."""
    return (minutes[0].open, max(k.high for k in minutes), min(k.low for k in minutes), minutes[-1].close,
            sum((k.volume for k in minutes), D(0)))  # fmt: skip


def test_the_toolbar_offers_binance_timeframes_and_the_desk_symbols(window) -> None:
    bar = window.chart_toolbar
    assert TIMEFRAMES == ("1m", "3m", "5m", "15m", "1h", "4h", "1d")
    assert list(bar.timeframe_buttons) == list(TIMEFRAMES)
    assert [bar.symbolInput.itemText(i) for i in range(bar.symbolInput.count())] == ["BTCUSDT", "ETHUSDT"]
    assert bar.timeframe == "1m" and bar.timeframe_buttons["1m"].isChecked()


def test_5m_candles_are_the_1m_candles_of_their_utc_bucket(window) -> None:
    desk, chart = window.desk, window.chart
    minutes = desk.history("BTCUSDT")
    window.chart_toolbar.choose_timeframe("5m")
    assert window.timeframe == "5m" and chart.interval == 300.0
    # the bucket before the newest one on the chart: complete, five minutes
    c = chart.candle_at_index(-2)
    t_ms = int(c.t * 1000)
    assert t_ms % FIVE == 0  # on a UTC 5-minute boundary
    in_bucket = [k for k in minutes if t_ms <= k.open_time_ms < t_ms + FIVE]
    assert len(in_bucket) == 5
    o, h, lo, cl, v = _by_hand(in_bucket)
    assert (c.o, c.h, c.l, c.c) == (float(o), float(h), float(lo), float(cl))
    assert c.v == pytest.approx(float(v), rel=1e-12)
    # every minute of the history is in exactly one 5m candle: no hole
    assert chart.candle_count == len({k.open_time_ms // FIVE for k in minutes})
    # the engine's history is untouched: still 1m
    assert desk.history("BTCUSDT").interval == "1m"


def test_the_forming_5m_candle_updates_from_1m_ticks(window) -> None:
    desk, chart = window.desk, window.chart
    window.chart_toolbar.choose_timeframe("5m")
    ticks = list(itertools.islice((t for t in desk.replay.ticks() if t.symbol == "BTCUSDT"), 4 * 3 + 2))
    for t in ticks:  # three whole minutes and two steps of a fourth, one tick at a time
        desk.feed([t])
        window.refresh_now()
        last = t.candle  # the forming 1m candle of this tick
        bucket = last.open_time_ms // FIVE * FIVE
        closed = [k for k in desk.history("BTCUSDT") if bucket <= k.open_time_ms < last.open_time_ms]
        o, h, lo, cl, v = _by_hand([*closed, last])
        c = chart.candle_at_index(-1)
        assert int(c.t * 1000) == bucket
        assert (c.o, c.h, c.l, c.c) == (float(o), float(h), float(lo), float(cl))
        assert c.v == pytest.approx(float(v), rel=1e-9)
        assert c.c == float(t.price)  # the newest candle moves with the tick


def test_switching_back_to_1m_reloads_the_minutes(window) -> None:
    window.chart_toolbar.choose_timeframe("1h")
    n_hours = window.chart.candle_count
    window.chart_toolbar.choose_timeframe("1m")
    minutes = window.desk.history("BTCUSDT")
    assert window.chart.candle_count == len(minutes) > n_hours
    assert window.chart.candle_at_index(-1).t * 1000 == minutes.last_open_ms


def test_the_chart_symbol_selector_switches_chart_and_ticket(window) -> None:
    window.chart_toolbar.choose_timeframe("15m")
    window.chart_toolbar.symbolInput.setCurrentText("ETHUSDT")
    assert window.chart_symbol == "ETHUSDT" and window.ticket.symbol == "ETHUSDT"
    eth = window.desk.history("ETHUSDT")
    last = window.chart.candle_at_index(-1)
    assert int(last.t * 1000) == eth.last_open_ms // (15 * 60_000) * (15 * 60_000)
    assert last.c == float(eth.close[-1])  # ETH's prices, not BTC's
    # the ticket's own selector moves the chart's selector too
    window.ticket.set_symbol("BTCUSDT")
    assert window.chart_toolbar.symbol == "BTCUSDT" and window.chart_symbol == "BTCUSDT"


def test_forming_aggregator_ignores_a_minute_older_than_the_one_being_built() -> None:
    agg = FormingAggregator("5m")
    assert agg.add(Bar(FIVE + 60_000, 10, 12, 9, 11, 1)) == Bar(FIVE, 10, 12, 9, 11, 1)
    assert agg.add(Bar(FIVE + 120_000, 11, 15, 10, 14, 2)) == Bar(FIVE, 10, 15, 9, 14, 3)
    assert agg.add(Bar(FIVE + 60_000, 0, 0, 0, 0, 0)) is None
    assert agg.add(Bar(2 * FIVE, 14, 14, 13, 13, 5)) == Bar(2 * FIVE, 14, 14, 13, 13, 5)  # a new bucket
