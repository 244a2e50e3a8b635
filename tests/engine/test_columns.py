"""``TickVolumes``: liquidity estimates checked once (their few distinct levels) and read per tick as a view; and
``Exchange.on_ticks`` given one behaves exactly as given the same volumes in a list."""

from __future__ import annotations

import array
from decimal import Decimal

import pytest

from hexdesk.engine import Exchange, OrderRequest, Side
from hexdesk.engine.columns import TickPrices, TickTimes, TickVolumes, valid_volumes

D = Decimal
BTC = "BTCUSDT"


class _Dec(Decimal):
    """A Decimal subclass: the tick door takes exact Decimals only."""


def test_each_tick_reads_its_level() -> None:
    """levels (0, 5, 7.5), picks (2, 0, 1) repeated twice: ticks 7.5 7.5 0 0 5 5, the same objects."""
    levels = [D(0), D(5), D("7.5")]
    v = TickVolumes(levels, [2, 0, 1], 2)
    assert len(v) == 6
    assert list(v) == [D("7.5"), D("7.5"), D(0), D(0), D(5), D(5)]
    assert v[0] is levels[2] and v[5] is levels[1] and v[-1] is levels[1] and v[-6] is levels[2]
    with pytest.raises(IndexError):
        v[6]
    with pytest.raises(IndexError):
        v[-7]


def test_a_slice_is_a_view_over_the_same_levels() -> None:
    v = TickVolumes([D(1), D(2), D(3), D(4)], [0, 1, 2, 3], 4)  # 16 ticks: 1 x4, 2 x4, 3 x4, 4 x4
    ticks = list(v)
    for a, b in [(0, 16), (3, 9), (5, 5), (9, 3), (-6, -1), (-100, 100), (15, 16)]:
        part = v[a:b]
        assert type(part) is TickVolumes
        assert list(part) == ticks[a:b]
        assert len(part) == len(ticks[a:b])
    inner = v[3:13][2:7]  # a slice of a slice: ticks 5..9
    assert type(inner) is TickVolumes and list(inner) == ticks[5:10] and inner[-1] == ticks[9]
    every_other = v[::2]  # not a run of ticks: a plain tuple (on_ticks then checks it itself)
    assert type(every_other) is tuple and list(every_other) == ticks[::2]


@pytest.mark.parametrize(
    "bad",
    [D("NaN"), D("sNaN"), D("Infinity"), D(-1), D("1e-9"), D("1.000000000000000001e18"), 5, 5.0, _Dec(5)],
)
def test_a_level_the_tick_door_refuses_is_refused(bad: object) -> None:
    assert not valid_volumes([D(1), bad, D(2)])
    with pytest.raises(ValueError, match="tick volume"):
        TickVolumes([D(1), bad], [0, 1], 4)  # type: ignore[list-item]


def test_the_ends_of_the_range_and_zero_are_levels() -> None:
    assert valid_volumes([D(0), D("1e-8"), D("1e18"), D("0E-8")])
    assert list(TickVolumes([D(0), D("1e-8"), D("1e18")], [2, 1, 0])) == [D("1e18"), D("1e-8"), D(0)]


@pytest.mark.parametrize("picks", [[0, 2], [-1], [0, True], [0, 1.0], [0, "1"]])
def test_a_pick_that_is_not_the_int_index_of_a_level_is_refused(picks: list[object]) -> None:
    with pytest.raises(ValueError, match="pick"):
        TickVolumes([D(1), D(2)], picks)  # type: ignore[arg-type]


@pytest.mark.parametrize("repeat", [0, -1, 1.0, True])
def test_repeat_must_be_a_positive_int(repeat: object) -> None:
    with pytest.raises(ValueError, match="repeat"):
        TickVolumes([D(1)], [0], repeat)  # type: ignore[arg-type]


def _stop_account() -> Exchange:
    """Long 0.01 BTC at 60,000.0 (10x isolated) with its stop-loss at 59,900.0 resting."""
    ex = Exchange(wallet_balance=D("10000"))
    ex.set_leverage(BTC, 10)
    ex.on_tick(BTC, 1_000, D("60000.0"), bar_volume=D("50"))
    assert ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.010"), stop_loss=D("59900.0"))).ok
    return ex


@pytest.mark.parametrize("column", [list, "view"])
def test_a_stop_fires_exactly_at_its_trigger_inside_a_batch(column: object) -> None:
    """Prices fall 10 USDT a tick from 59,990.0: the quiet runs before 59,900.0 skip ahead, and the stop triggers at
    the tick that reaches 59,900.0 exactly (the 10th, the same instant as tick by tick), whether the volumes come as
    a list or as a TickVolumes view of one level."""
    level = D("50")
    ts = [2_000 + 1_000 * i for i in range(30)]
    prices = [599_900 - 100 * i for i in range(30)]  # 59990.0, 59980.0, ... at 1 decimal
    volumes = [level] * 30 if column is list else TickVolumes([level], [0] * 30)
    runs = []
    for batched in (True, False):
        ex = _stop_account()
        if batched:
            ex.on_ticks(BTC, ts, prices, 1, volumes)
        else:
            for t, p in zip(ts, prices, strict=True):
                ex.on_tick(BTC, t, D(f"{p}e-1"), bar_volume=level)
        triggered = [e for e in ex.events if type(e).__name__ == "OrderTriggered"]
        assert len(triggered) == 1 and triggered[0].ts_ms == ts[9]  # 59990 - 9 x 10 = 59900
        assert ex.position(BTC).quantity == 0
        runs.append([repr(e) for e in ex.events])
    assert runs[0] == runs[1]


def test_on_ticks_checks_the_volumes_of_a_plain_list_itself() -> None:
    """Only a TickVolumes is taken as checked: a list is checked by on_ticks, its bad volume refused at its tick."""
    ex = Exchange(wallet_balance=D("10000"))
    ex.on_tick(BTC, 1_000, D("60000"))
    volumes: list[object] = [D(5)] * 10
    volumes[6] = D(-1)
    with pytest.raises(ValueError):
        ex.on_ticks(BTC, list(range(2_000, 12_000, 1_000)), [6_000_000 + i for i in range(10)], 2, volumes)  # type: ignore[arg-type]
    assert ex.rejected_ticks == 1 and ex.last_price(BTC) == D("60000.05")


def test_tick_times_are_the_opens_plus_the_offsets() -> None:
    """Opens 0, 60,000 and 180,000 (a missing candle between) with the 1m path offsets 0, 20,000, 40,000, 59,999."""
    offsets = (0, 20_000, 40_000, 59_999)
    t = TickTimes([0, 60_000, 180_000], offsets)
    expected = [0, 20_000, 40_000, 59_999, 60_000, 80_000, 100_000, 119_999, 180_000, 200_000, 220_000, 239_999]
    assert len(t) == 12 and list(t) == expected
    assert t[0] == 0 and t[7] == 119_999 and t[-1] == 239_999 and t[-12] == 0
    assert all(type(x) is int for x in t)
    for a, b in [(0, 12), (3, 9), (5, 5), (9, 3), (-5, -1), (-100, 100)]:
        part = t[a:b]
        assert type(part) is TickTimes and list(part) == expected[a:b] and len(part) == len(expected[a:b])
    assert list(t[2:11][3:6]) == expected[5:8]
    assert type(t[::3]) is tuple and list(t[::3]) == expected[::3]
    with pytest.raises(IndexError):
        t[12]


@pytest.mark.parametrize(
    ("opens", "offsets"),
    [
        ([0, 59_998], (0, 20_000, 40_000, 59_999)),  # the next candle opens before this one's last point
        ([60_000, 0], (0, 1)),  # out of order
        ([0, 0], (0, 1)),  # the same open twice (offsets spanning 1 ms)
        ([0, 60_000], (0, 40_000, 20_000)),  # offsets out of order
        ([0, 60_000], ()),
        ([0, 60_000.0], (0, 1)),  # a float
        ([0, True], (0,)),  # a bool is not a time
        ([0, 1], (0, 0.5)),
    ],
)
def test_tick_times_out_of_order_or_not_ints_are_refused(opens: list[object], offsets: tuple[object, ...]) -> None:
    with pytest.raises(ValueError):
        TickTimes(opens, offsets)  # type: ignore[arg-type]


def test_on_ticks_with_tick_times_is_on_ticks_with_the_list() -> None:
    """The same batch (the 08:00 funding with the long open, then its stop reached) through TickTimes and through
    the list of the same times: the same events, the same clock."""
    hour = 3_600_000
    opens = [8 * hour - 10 * 60_000 + 60_000 * m for m in range(60)]  # 07:50 .. 08:49: 08:00 is tick 40
    offsets = (0, 20_000, 40_000, 59_999)
    times = TickTimes(opens, offsets)
    prices = [599_900 - 10 * i for i in range(240)]  # 59,990.0 falling 1 USDT a tick: 59,900.0 at tick 90
    out = []
    for ts in (times, list(times)):
        ex = _stop_account()
        ex.set_funding_rate(BTC, D("0.0001"))
        ex.on_ticks(BTC, ts, prices, 1, [D("50")] * 240)
        names = [type(e).__name__ for e in ex.events]
        assert names.index("FundingSettled") < names.index("OrderTriggered")
        trigger = next(e for e in ex.events if type(e).__name__ == "OrderTriggered")
        assert trigger.ts_ms == opens[22] + 40_000  # tick 90 = candle 22's third point
        out.append(([repr(e) for e in ex.events], ex.now_ms))
    assert out[0] == out[1]
    assert out[0][1] == opens[-1] + 59_999


def test_scaled_levels_read_as_the_decimals_of_their_strings() -> None:
    """Levels 12345 and 0 at 3 decimals after one Decimal level: ticks read 12.345 and 0.000 (the exponent of the
    file: what ``Decimal("12345e-3")`` gives), the same object each time a level is read again."""
    v = TickVolumes([D("7.5")], [1, 2, 0, 1], 2, scaled=[12_345, 0], decimals=3)
    assert [str(x) for x in v] == ["12.345", "12.345", "0.000", "0.000", "7.5", "7.5", "12.345", "12.345"]
    assert v[0] is v[7] and v[1:3][0] is v[0]
    assert v[2].as_tuple().exponent == -3


@pytest.mark.parametrize(
    ("scaled", "decimals"),
    [
        ([-1], 3),
        ([1], 9),  # 1e-9: finer than any volume the door takes
        ([10**21 + 1], 3),  # 1e18 + 0.001
        ([5, 5.0], 3),
        ([5, True], 3),
        ([5], 19),
        ([5], -1),
    ],
)
def test_a_scaled_level_the_tick_door_refuses_is_refused(scaled: list[object], decimals: int) -> None:
    with pytest.raises(ValueError):
        TickVolumes([], [0], scaled=scaled, decimals=decimals)  # type: ignore[arg-type]


def test_the_scaled_range_ends_are_levels() -> None:
    """1 at 8 decimals is 1e-8 and 10**26 at 8 decimals is 1e18: both taken, as the door takes them."""
    levels = TickVolumes([], [0, 1, 2], scaled=[0, 1, 10**26], decimals=8)
    assert list(levels) == [D(0), D("1e-8"), D("1e18")]
    assert [str(x) for x in levels] == ["0E-8", "1E-8", "1000000000000000000.00000000"]  # as "<int>e-8" prints


def test_tick_prices_from_64_bit_integers() -> None:
    """Native int64 words read back as the same ints (negative and the extremes included), sliced as views."""
    values = [6_000_000, -1, 0, 2**63 - 1, -(2**63), 6_000_001]
    prices = TickPrices.from_int64(array.array("q", values).tobytes())
    assert list(prices) == values and len(prices) == 6 and all(type(p) is int for p in prices)
    assert prices[3] == 2**63 - 1 and prices[-1] == 6_000_001
    part = prices[1:5]
    assert type(part) is TickPrices and list(part) == values[1:5] and part.ints() == values[1:5]
    assert list(part[1:3]) == values[2:4] and part[-1] == values[4]
    assert type(prices[::2]) is tuple and list(prices[::2]) == values[::2]


@pytest.mark.parametrize("bad", [True, 6_000_000.0, "6000000", None, D(6_000_000)])
def test_tick_prices_not_ints_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="int"):
        TickPrices([6_000_000, bad])  # type: ignore[list-item]


def test_a_price_out_of_range_in_tick_prices_is_refused_at_its_tick() -> None:
    """Type-checked is not range-checked: a 0 price (below BTCUSDT's tick size) in a TickPrices batch is refused at
    its tick, the ticks before it applied, as on_tick refuses it."""
    ex = Exchange(wallet_balance=D("10000"))
    ex.on_tick(BTC, 1_000, D("60000"))
    values = [6_000_000 + i for i in range(20)]
    values[12] = 0
    prices = TickPrices.from_int64(array.array("q", values).tobytes())
    with pytest.raises(ValueError):
        ex.on_ticks(BTC, TickTimes(range(2_000, 22_000, 1_000), (0,)), prices, 2, TickVolumes([D(5)], [0] * 20))
    assert ex.rejected_ticks == 1 and ex.last_price(BTC) == D("60000.11") and ex.now_ms == 2_000 + 11_000


def test_columns_equal_the_lists_of_their_values() -> None:
    times = TickTimes([0, 60_000], (0, 59_999))
    assert times == [0, 59_999, 60_000, 119_999] and times[1:3] == (59_999, 60_000) and times != [0, 59_999]
    assert times == TickTimes([0, 60_000], (0, 59_999)) and times != "0"
    prices = TickPrices([5, 6, 7])
    assert prices == [5, 6, 7] and prices[1:] == TickPrices([6, 7]) and prices != [5, 6]
    volumes = TickVolumes([D(1), D(2)], [1, 0], 2)
    assert volumes == [D(2), D(2), D(1), D(1)] and volumes[2:] == (D(1), D(1)) and volumes != [D(2)]
