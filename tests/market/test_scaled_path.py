"""The batch path (``replay.scaled_path`` + ``Exchange.on_ticks``) is the replay path (``candle_ticks`` +
``Exchange.on_tick`` per tick) made cheap: the same ticks and, through the engine, the same events.

The reference here is the code every other test checks: ``candle_ticks`` and ``on_tick``. A day of the bundled
BTCUSDT March 2025 month is traded by a strategy that exercises what the batch must not skip: market entries with
attached stop-losses and take-profits (triggered inside candles), resting limits filled along the path, funding
instants (every 8 h), a cross position (the batch hands those to on_tick one by one) and the first candles, whose
liquidity is 0.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from hexdesk.engine import BinanceError, Exchange, MarginMode, OrderFilled, OrderRequest, OrderTriggered, Side
from hexdesk.engine.columns import TickVolumes
from hexdesk.market.candles import CandleSeries, load_bundled, scaled_to_decimal
from hexdesk.market.replay import candle_ticks, scaled_path

from .conftest import make_series

BTC = "BTCUSDT"
DAY = 1440


@pytest.fixture(scope="module")
def month() -> CandleSeries:
    return load_bundled("BTCUSDT-2025-03")


@pytest.mark.parametrize(("start", "stop"), [(0, 40), (3, 20), (500, 700), (44_600, None)])
def test_scaled_path_is_candle_ticks(month: CandleSeries, start: int, stop: int | None) -> None:
    """Same times, same prices (value and exponent), same liquidity objects' values, in the same order; the first
    candles of the month (liquidity 0, then a median of fewer than 15) included."""
    ref = list(candle_ticks(month, start, stop))
    path = scaled_path(month, start, stop)
    assert len(path) == len(ref)
    assert path.ts_ms == [t.ts_ms for t in ref]
    prices = [scaled_to_decimal(p, path.price_decimals) for p in path.prices]
    assert [str(p) for p in prices] == [str(t.price) for t in ref]
    assert [str(v) for v in path.liquidity] == [str(t.liquidity) for t in ref]


Decide = Callable[[Exchange, int, Decimal], None]


def _strategy(margin_mode: MarginMode) -> tuple[Exchange, Decide]:
    """An exchange and a decision taken at each candle close: a busy SMA(5/12)-ish cross on the close prices with
    stops and targets 0.3% away, and a resting limit 0.2% below the market every 7th candle."""
    ex = Exchange(wallet_balance=Decimal("10000"))
    if margin_mode is MarginMode.CROSS:
        ex.set_margin_mode(BTC, MarginMode.CROSS)
    ex.set_leverage(BTC, 10)
    tick = ex.instruments[BTC].tick_size
    closes: list[Decimal] = []
    above: list[bool] = []

    def decide(ex: Exchange, k: int, close: Decimal) -> None:
        closes.append(close)
        if len(closes) < 12:
            return
        now_above = sum(closes[-5:]) * 12 > sum(closes[-12:]) * 5
        if above and now_above != above[-1]:
            side = Side.BUY if now_above else Side.SELL
            pos = ex.position(BTC).quantity
            if pos:
                ex.submit(OrderRequest.market(BTC, side, abs(pos), reduce_only=True))
            sl = (close * (Decimal("0.997") if now_above else Decimal("1.003"))) // tick * tick
            tp = (close * (Decimal("1.003") if now_above else Decimal("0.997"))) // tick * tick
            ex.submit(OrderRequest.market(BTC, side, Decimal("0.01"), stop_loss=sl, take_profit=tp))
        above.append(now_above)
        if k % 7 == 0:
            if k % 70 == 0:
                ex.cancel_all(BTC)
            ex.submit(OrderRequest.limit(BTC, Side.BUY, Decimal("0.002"), close * Decimal("0.998") // tick * tick))

    return ex, decide


def _reference(series: CandleSeries, start: int, stop: int, margin_mode: MarginMode) -> Exchange:
    ex, decide = _strategy(margin_mode)
    for t in candle_ticks(series, start, stop):
        ex.on_tick(t.symbol, t.ts_ms, t.price, mark=t.mark, bar_volume=t.liquidity)
        if t.step == 3:
            decide(ex, (t.ts_ms - int(series.open_time_ms[start])) // 60_000, t.price)
    return ex


def _batched(series: CandleSeries, start: int, stop: int, margin_mode: MarginMode) -> Exchange:
    ex, decide = _strategy(margin_mode)
    path = scaled_path(series, start, stop)
    for k in range(stop - start):  # one on_ticks call per candle: the decisions fall between calls
        a, b = 4 * k, 4 * k + 4
        ex.on_ticks(BTC, path.ts_ms[a:b], path.prices[a:b], path.price_decimals, path.liquidity[a:b])
        last = ex.last_price(BTC)
        assert last is not None
        decide(ex, k, last)
    return ex


@pytest.mark.parametrize("margin_mode", [MarginMode.ISOLATED, MarginMode.CROSS])
def test_a_day_gives_the_same_events_batched_as_tick_by_tick(month: CandleSeries, margin_mode: MarginMode) -> None:
    start = 2 * DAY  # 2 March: funding at 00:00, 08:00, 16:00 inside the day
    ref = _reference(month, start, start + DAY, margin_mode)
    fast = _batched(month, start, start + DAY, margin_mode)
    assert sum(isinstance(e, OrderFilled) for e in ref.events) > 50  # the day is busy: the test means something
    assert sum(isinstance(e, OrderTriggered) for e in ref.events) > 5
    assert [repr(e) for e in fast.events] == [repr(e) for e in ref.events]
    assert fast.state() == ref.state()
    assert fast.now_ms == ref.now_ms and fast.last_price(BTC) == ref.last_price(BTC)


def test_long_batches_between_rare_decisions_give_the_same_events(month: CandleSeries) -> None:
    """The benchmark's shape: thousands of ticks per call, decisions only now and then (every 97th candle)."""
    start, stop = 0, DAY
    ex_ref, decide_ref = _strategy(MarginMode.ISOLATED)
    ex_fast, decide_fast = _strategy(MarginMode.ISOLATED)
    ticks = list(candle_ticks(month, start, stop))
    path = scaled_path(month, start, stop)
    done = 0
    for k in range(96, stop - start, 97):
        end = 4 * k + 4
        for t in ticks[done:end]:
            ex_ref.on_tick(BTC, t.ts_ms, t.price, bar_volume=t.liquidity)
        ex_fast.on_ticks(
            BTC, path.ts_ms[done:end], path.prices[done:end], path.price_decimals, path.liquidity[done:end]
        )
        done = end
        for _ in range(12):  # enough closes for a decision
            decide_ref(ex_ref, k, ticks[end - 1].price)
            decide_fast(ex_fast, k, ticks[end - 1].price)
    assert len(ex_ref.events) > 20
    assert [repr(e) for e in ex_fast.events] == [repr(e) for e in ex_ref.events]


@pytest.mark.parametrize("margin_mode", [MarginMode.ISOLATED, MarginMode.CROSS])
def test_liquidations_inside_long_batches_are_the_same(month: CandleSeries, margin_mode: MarginMode) -> None:
    """100x positions with no stop, fed an hour per call: the mark reaches their liquidation prices inside the
    batches (isolated: the mark gate; cross: the account check the batch leaves to on_tick)."""
    start, stop = DAY, 2 * DAY

    def run(batched: bool) -> Exchange:
        ex = Exchange(wallet_balance=Decimal("500"))
        if margin_mode is MarginMode.CROSS:
            ex.set_margin_mode(BTC, MarginMode.CROSS)
        ex.set_leverage(BTC, 100)
        ticks = list(candle_ticks(month, start, stop))
        path = scaled_path(month, start, stop)
        for h in range(24):
            a, b = 240 * h, 240 * (h + 1)
            if batched:
                ex.on_ticks(BTC, path.ts_ms[a:b], path.prices[a:b], path.price_decimals, path.liquidity[a:b])
            else:
                for t in ticks[a:b]:
                    ex.on_tick(BTC, t.ts_ms, t.price, bar_volume=t.liquidity)
            if not ex.position(BTC).quantity:
                ex.submit(OrderRequest.market(BTC, Side.BUY if h % 2 else Side.SELL, Decimal("0.5")))
        return ex

    ref, fast = run(False), run(True)
    assert sum(type(e).__name__ == "PositionLiquidated" for e in ref.events) >= 1
    assert [repr(e) for e in fast.events] == [repr(e) for e in ref.events]


def test_the_month_liquidity_is_checked_once_as_levels(month: CandleSeries) -> None:
    """The month's 178,560 liquidity values are a view over far fewer checked Decimals (one per distinct median),
    so on_ticks skips its per-call check of them; a slice of it is one too."""
    path = scaled_path(month)
    assert type(path.liquidity) is TickVolumes
    assert len(path.liquidity) == len(path) == 4 * len(month)
    assert len(path.liquidity._levels) < len(month) // 2  # medians repeat: ~16,000 levels for 44,640 candles
    assert type(path.liquidity[400:800]) is TickVolumes


def test_a_volume_the_engine_refuses_is_refused_at_its_tick() -> None:
    """Candles of 1e-9 BTC: the second candle's liquidity (the first one's volume) is below the engine's smallest
    volume (1e-8), so the path keeps a plain list and on_ticks refuses that candle's first tick, as on_tick does;
    the first candle's four ticks (liquidity 0) are applied."""
    series = make_series(BTC, [(m, "60000", "60010", "59990", "60005", "0.000000001") for m in range(3)])
    path = scaled_path(series)
    assert type(path.liquidity) is list
    ex = Exchange(wallet_balance=Decimal("10000"))
    with pytest.raises(BinanceError):
        ex.on_ticks(BTC, path.ts_ms, path.prices, path.price_decimals, path.liquidity)
    assert ex.rejected_ticks == 1
    assert ex.now_ms == path.ts_ms[3] and ex.last_price(BTC) == Decimal("60005")
