"""``Exchange.on_ticks`` keeps the tick door's guarantees: a value on_tick refuses is refused in a batch too, as
BinanceError, counted in ``rejected_ticks``, with the ticks before it applied and those after it not."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hexdesk.engine import BinanceError, Exchange, OrderRequest, Side

BTC = "BTCUSDT"
D = Decimal


def _exchange() -> Exchange:
    ex = Exchange(wallet_balance=D("10000"))
    ex.on_tick(BTC, 1_000, D("60000"))
    return ex


@pytest.mark.parametrize(
    ("bad_price", "bad_volume"),
    [
        (True, D("5")),  # a bool is not a price
        (6_000_010.0, D("5")),  # nor a float
        ("6000010", D("5")),  # nor a string
        (0, D("5")),  # below the tick size
        (-6_000_000, D("5")),
        (10**60, D("5")),  # beyond any price
        (6_000_010, D("NaN")),
        (6_000_010, D("Infinity")),
        (6_000_010, D("-1")),
        (6_000_010, D("1e-30")),  # finer than any volume
    ],
)
def test_a_refused_tick_stops_the_batch_after_applying_the_ones_before(bad_price: object, bad_volume: D) -> None:
    ex = _exchange()
    ts = list(range(2_000, 2_000 + 40_000, 1_000))
    prices: list[object] = [6_000_000 + i for i in range(40)]  # 60000.00 .. 60000.39 at 2 decimals
    volumes = [D("5")] * 40
    prices[25], volumes[25] = bad_price, bad_volume
    with pytest.raises(BinanceError):
        ex.on_ticks(BTC, ts, prices, 2, volumes)  # type: ignore[arg-type]
    assert ex.rejected_ticks == 1
    assert ex.last_price(BTC) == D("60000.24")  # tick 24 applied, 25 refused, 26.. not applied
    assert ex.now_ms == ts[24]


@pytest.mark.parametrize("bad_volume", [D("-1"), D("1e-30"), D("2e18"), D("NaN")])
def test_a_bad_volume_among_zero_volumes_is_refused(bad_volume: D) -> None:
    """Volume 0 (no liquidity estimate yet, the replay's first candle) is allowed, so the batch check looks past the
    zeros: a volume out of range among them is still refused at its tick."""
    ex = _exchange()
    ts = list(range(2_000, 2_000 + 40_000, 1_000))
    prices = [6_000_000 + i for i in range(40)]
    volumes = [D(0)] * 20 + [D("5")] * 20
    volumes[25] = bad_volume
    with pytest.raises(BinanceError):
        ex.on_ticks(BTC, ts, prices, 2, volumes)
    assert ex.rejected_ticks == 1
    assert ex.last_price(BTC) == D("60000.24")


def test_zero_and_in_range_volumes_are_taken_in_one_quiet_run() -> None:
    """0 and the range's own ends (1e-8 and 1e18) are valid volumes: the batch is applied whole, the last tick's
    volume is the symbol's liquidity from then on."""
    ex = _exchange()
    ts = [2_000, 3_000, 4_000, 5_000]
    ex.on_ticks(BTC, ts, [6_000_000, 6_000_001, 6_000_002, 6_000_003], 2, [D(0), D("1e-8"), D("1e18"), D("7")])
    assert ex.rejected_ticks == 0
    assert ex.last_price(BTC) == D("60000.03") and ex.now_ms == 5_000
    assert ex._state[BTC].bar_volume == D("7")


def test_unknown_symbol_and_mismatched_lengths_are_refused() -> None:
    ex = _exchange()
    with pytest.raises(BinanceError):
        ex.on_ticks("NOPEUSDT", [2_000, 3_000], [6_000_000, 6_000_001], 2)
    with pytest.raises(BinanceError):
        ex.on_ticks(BTC, [2_000, 3_000], [6_000_000], 2)
    assert ex.last_price(BTC) == D("60000")


def test_a_batch_through_a_resting_limit_fills_it_where_the_path_crosses() -> None:
    """A buy limit at 59990 and a batch falling from 60000 to 59980 by 1 USDT a tick: one fill, at the tick that
    trades through 59990 (the 11th, 59989: touching is not enough, docs/engine.md), exactly as on_tick one by
    one."""
    events = []
    for batched in (True, False):
        ex = _exchange()
        ex.submit(OrderRequest.limit(BTC, Side.BUY, D("0.01"), D("59990")))
        ts = [2_000 + 1_000 * i for i in range(20)]
        prices = [6_000_000 - 100 * (i + 1) for i in range(20)]  # 59999 .. 59980
        if batched:
            ex.on_ticks(BTC, ts, prices, 2)
        else:
            for t, p in zip(ts, prices, strict=True):
                ex.on_tick(BTC, t, D(f"{p}e-2"))  # as the replay makes prices: 59989.00
        fills = [e for e in ex.events if type(e).__name__ == "OrderFilled"]
        assert len(fills) == 1 and fills[0].ts_ms == ts[10]
        events.append([repr(e) for e in ex.events])
    assert events[0] == events[1]
