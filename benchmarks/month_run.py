"""The month run a user waits for: ``.venv/bin/python benchmarks/month_run.py [--repeat 7]``.

One SMA(20/50) cross strategy over the bundled March 2025 BTCUSDT month (44,640 one-minute candles), starting from
the loaded candles, run by HexDesk and by backtesting.py (the ``bench`` extra: ``pip install -e .[bench]``) in the
same process on the same data; each timed whole, medians of ``--repeat`` runs, and the ratio.

HexDesk's run is the whole job: the replay's 4-point path (``replay.scaled_path``: 178,560 ticks with their
liquidity estimates), the indicators, and every tick through the Exchange (``Exchange.on_ticks`` between the
strategy's decisions), with Binance's fees, the fill model, funding instants and the attached stop-losses walked
along the path. backtesting.py's run is the DataFrame from the same candles (floats), ``FractionalBacktest`` and
``run()``.

The strategy, as alike as the two allow:

- both: SMA(20) and SMA(50) of the closes; at a cross, close the position and open 0.05 BTC the cross's way with
  a stop-loss 1% away; 10,000 USDT, 10x (backtesting.py ``margin=0.1``), 0.05% taker fee;
- differences: HexDesk decides at the candle's close and fills there (the close tick, plus the fill model's
  spread and size cost); backtesting.py with ``trade_on_close=True`` fills at the close price with no slippage.
  HexDesk takes a cross on the sign of SMA20 - SMA50 (exact integers), backtesting.py's ``crossover`` on floats
  (a tie is no cross there). HexDesk's stop is a STOP_MARKET walked through the candle's 4-point path, with
  funding settled every 8 h; backtesting.py checks its stop against the bar's high/low and has no funding.
"""

from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

# Run from a checkout without installing, and without benchmarks/ first on the path: benchmarks/statistics.py
# would hide the standard library's statistics module (hexdesk.market.liquidity needs it).
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from hexdesk.engine import Exchange, OrderFilled, OrderRequest, Side  # noqa: E402
from hexdesk.market.candles import CandleSeries, load_bundled  # noqa: E402
from hexdesk.market.replay import candle_ticks, scaled_path  # noqa: E402

DATASET = "BTCUSDT-2025-03"
FAST, SLOW = 20, 50
QTY = Decimal("0.05")
STOP = Decimal("0.01")
WALLET = Decimal("10000")
LEVERAGE = 10
D = Decimal


def cross_candles(closes: np.ndarray) -> list[tuple[int, bool]]:
    """(candle index, up) of every SMA(FAST)/SMA(SLOW) cross: the sign of 50*sum20 - 20*sum50 (exact in
    integers, the sign of SMA20 - SMA50) changes between one closed candle and the next (0 counts as not above)."""
    c = closes.astype(np.int64)
    csum = np.concatenate(([0], np.cumsum(c)))
    k = np.arange(SLOW - 1, len(c))  # candles with a full slow window
    fast = csum[k + 1] - csum[k + 1 - FAST]
    slow = csum[k + 1] - csum[k + 1 - SLOW]
    above = (SLOW * fast - FAST * slow) > 0
    flips = np.flatnonzero(above[1:] != above[:-1]) + 1
    return [(int(k[i]), bool(above[i])) for i in flips]


def hexdesk_run(series: CandleSeries, parts: dict[str, float] | None = None) -> Exchange:
    """The whole job from the loaded candles: path, signals, engine. ``parts``: add the seconds spent building the
    path, in ``on_ticks`` and in ``submit`` (an untimed run, for the breakdown)."""
    clock = time.perf_counter
    t0 = clock()
    path = scaled_path(series)
    if parts is not None:
        parts["path"] = parts.get("path", 0.0) + clock() - t0
    symbol, ts, prices, pd, liq = path.symbol, path.ts_ms, path.prices, path.price_decimals, path.liquidity
    ex = Exchange(wallet_balance=WALLET)
    ex.set_leverage(symbol, LEVERAGE)
    tick_size = ex.instruments[symbol].tick_size
    done = 0
    for k, up in cross_candles(series.scaled()[3]):
        end = 4 * k + 4  # through the close of candle k
        t0 = clock()
        ex.on_ticks(symbol, ts[done:end], prices[done:end], pd, liq[done:end])
        t1 = clock()
        done = end
        price = ex.last_price(symbol)
        assert price is not None
        side = Side.BUY if up else Side.SELL
        pos = ex.position(symbol).quantity
        if pos:
            ex.submit(OrderRequest.market(symbol, side, abs(pos), reduce_only=True))
        stop = (price * (1 - STOP) if up else price * (1 + STOP)) // tick_size * tick_size  # on the tick grid
        ex.submit(OrderRequest.market(symbol, side, QTY, stop_loss=stop))
        if parts is not None:
            parts["ticks"] = parts.get("ticks", 0.0) + t1 - t0
            parts["orders"] = parts.get("orders", 0.0) + clock() - t1
    ex.on_ticks(symbol, ts[done:], prices[done:], pd, liq[done:])
    return ex


def hexdesk_reference_run(series: CandleSeries) -> Exchange:
    """The same run through the replay's tick objects (``candle_ticks``: PriceTick, Candle, Decimals) and
    ``Exchange.on_tick`` one tick at a time: the way before ``scaled_path`` / ``on_ticks``, the same events."""
    ex = Exchange(wallet_balance=WALLET)
    ex.set_leverage(series.symbol, LEVERAGE)
    tick_size = ex.instruments[series.symbol].tick_size
    signals = dict(cross_candles(series.scaled()[3]))
    on_tick = ex.on_tick
    for k, t in enumerate(candle_ticks(series)):
        on_tick(t.symbol, t.ts_ms, t.price, mark=t.mark, bar_volume=t.liquidity)
        up = signals.get(k // 4) if t.step == 3 else None
        if up is None:
            continue
        side = Side.BUY if up else Side.SELL
        pos = ex.position(t.symbol).quantity
        if pos:
            ex.submit(OrderRequest.market(t.symbol, side, abs(pos), reduce_only=True))
        stop = (t.price * (1 - STOP) if up else t.price * (1 + STOP)) // tick_size * tick_size
        ex.submit(OrderRequest.market(t.symbol, side, QTY, stop_loss=stop))
    return ex


def backtesting_run(series: CandleSeries) -> object:
    """backtesting.py on the same candles: DataFrame, FractionalBacktest (0.05 BTC in satoshis), run()."""
    import pandas as pd
    from backtesting import Strategy
    from backtesting.lib import FractionalBacktest, crossover
    from backtesting.test import SMA

    o, h, lo, c, v = series.scaled()
    ps, vs = 10.0**-series.price_decimals, 10.0**-series.volume_decimals
    frame = pd.DataFrame(
        {"Open": o * ps, "High": h * ps, "Low": lo * ps, "Close": c * ps, "Volume": v * vs},
        index=pd.to_datetime(series.open_time_ms, unit="ms"),
    )
    unit = 1e-8
    size = round(float(QTY) / unit)
    stop = float(STOP)

    class SmaCross(Strategy):
        def init(self) -> None:
            self.fast = self.I(SMA, self.data.Close, FAST)
            self.slow = self.I(SMA, self.data.Close, SLOW)

        def next(self) -> None:
            if crossover(self.fast, self.slow):
                self.position.close()
                self.buy(size=size, sl=self.data.Close[-1] * (1 - stop))
            elif crossover(self.slow, self.fast):
                self.position.close()
                self.sell(size=size, sl=self.data.Close[-1] * (1 + stop))

    bt = FractionalBacktest(
        frame,
        SmaCross,
        cash=float(WALLET),
        commission=0.0005,
        margin=1 / LEVERAGE,
        trade_on_close=True,
        fractional_unit=unit,
    )
    return bt.run()


def _median_ms(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times)), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="runs of each, the median is printed (default 7)")
    args = parser.parse_args()
    series = load_bundled(DATASET)
    hx_ms, ex = _median_ms(lambda: hexdesk_run(series), args.repeat)
    assert isinstance(ex, Exchange)
    fills = sum(isinstance(e, OrderFilled) for e in ex.events)
    print(
        f"HexDesk        {DATASET}, {4 * len(series):,} path ticks: {hx_ms:8.1f} ms "
        f"({fills} fills, wallet {ex.account().wallet_balance:.2f} USDT)"
    )
    parts: dict[str, float] = {}
    hexdesk_run(series, parts)
    crosses = len(cross_candles(series.scaled()[3]))
    print(
        f"  of one run: path {parts['path'] * 1000:.0f} ms, ticks (on_ticks) {parts['ticks'] * 1000:.0f} ms, "
        f"orders (position + 2 submits a cross) {parts['orders'] * 1000:.0f} ms "
        f"({parts['orders'] / crosses * 1e6:.0f} µs a cross, {crosses} crosses)"
    )
    ref_ms, ref = _median_ms(lambda: hexdesk_reference_run(series), args.repeat)
    assert isinstance(ref, Exchange)
    same = [repr(e) for e in ref.events] == [repr(e) for e in ex.events]
    print(
        f"  the same through PriceTick + on_tick per tick:    {ref_ms:8.1f} ms "
        f"({'identical events' if same else 'EVENTS DIFFER'}; {ref_ms / hx_ms:.1f}x slower)"
    )
    try:
        import backtesting
    except ImportError:
        print("backtesting.py not installed: pip install -e '.[bench]' for the comparison")
        return
    bt_ms, stats = _median_ms(lambda: backtesting_run(series), args.repeat)
    print(
        f"backtesting.py {backtesting.__version__}, {len(series):,} bars:       {bt_ms:8.1f} ms "
        f"({stats['# Trades']} trades, equity {stats['Equity Final [$]']:.2f} USD)"  # type: ignore[index]
    )
    verdict = "met" if bt_ms / hx_ms >= 2 else "NOT met"
    print(
        f"HexDesk is {bt_ms / hx_ms:.2f}x as fast as backtesting.py (target: >= 2x, {verdict}), "
        f"medians of {args.repeat} runs each, in this one process"
    )


if __name__ == "__main__":
    main()
