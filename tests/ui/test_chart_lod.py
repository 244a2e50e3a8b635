"""The chart's level-of-detail pyramid against brute force: every bucket's extremes, sums, ranges and tail syncs."""

from __future__ import annotations

import numpy as np
import pytest

from hexdesk.ui.chart import CandleChart
from hexdesk.ui.chart_lod import BarLevels, merge_bars
from tests.ui.conftest import shown_chart

IV = 60.0
T0 = 1_740_830_400.0


def walk(n: int, seed: int = 11) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    t = T0 + IV * np.arange(n)
    c = 85_000 + np.cumsum(rng.normal(0, 20, n))
    o = np.r_[c[0], c[:-1]]
    h = np.maximum(o, c) + rng.exponential(10, n)
    low = np.minimum(o, c) - rng.exponential(10, n)
    v = rng.exponential(5, n)
    return [t, o, h, low, c, v]


def assert_level_is_brute_force(levels: BarLevels, cols: list[np.ndarray], k: int) -> None:
    got = levels.bars(k)
    want = merge_bars(*cols, k)
    assert len(got) == len(want)
    for name in ("t", "tl", "o", "h", "l", "c"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=f"k={k} {name}")
    np.testing.assert_allclose(got.v, want.v, rtol=1e-12, err_msg=f"k={k} v")


def test_every_level_holds_exactly_the_brute_force_buckets():
    cols = walk(10_007)  # not a power of two: every level ends in a partial bucket
    levels = BarLevels()
    levels.set(*cols)
    # built coarse first (from the base), then finer levels (also from the base), then coarser from the finer
    for k in (512, 2, 8, 4096, 64, 16_384, 1):
        assert_level_is_brute_force(levels, cols, k)


def test_appends_and_late_corrections_keep_every_level_exact():
    cols = walk(3_000)
    levels = BarLevels()
    n0 = 2_000
    levels.set(*(c[:n0] for c in cols))
    for k in (2, 16, 256):
        levels.bars(k)  # levels exist before the appends: they must catch up, not rebuild
    rng = np.random.default_rng(5)
    for i in range(n0, 3_000):
        levels.append(tuple(float(c[i]) for c in cols))
        if i % 5 == 0:  # the last bar's final update arrives late: a higher high, a lower low, more volume
            cols[2][i] += rng.exponential(30)
            cols[3][i] -= rng.exponential(30)
            cols[5][i] += 1.0
            levels.replace_last(tuple(float(c[i]) for c in cols))
        if i % 97 == 0:
            for k in (2, 16, 256, 1024):
                assert_level_is_brute_force(levels, [c[: i + 1] for c in cols], k)
    for k in (2, 4, 16, 256, 1024, 4096):
        assert_level_is_brute_force(levels, cols, k)
    assert levels.rebuild_count == 1


def test_a_new_candle_resyncs_only_the_last_bucket_of_each_level():
    cols = walk(100_001)
    levels = BarLevels()
    levels.set(*(c[:100_000] for c in cols))
    ks = (2, 4, 64, 1024, 16_384)
    for k in ks:
        levels.bars(k)
    before = levels.synced_buckets
    levels.append(tuple(float(c[100_000]) for c in cols))
    assert levels.synced_buckets == before  # the append itself is O(1): nothing recomputed yet
    for k in ks:
        levels.bars(k)
    # each level recomputes its old last bucket and, at most, a new one; 100,000 bars are never revisited
    assert levels.synced_buckets - before <= 2 * len(ks)
    for k in ks:
        assert_level_is_brute_force(levels, cols, k)


@pytest.mark.parametrize("n", [1, 7, 5_000, 300_000])
def test_low_high_of_any_range_is_the_brute_force_min_and_max(n):
    cols = walk(n)
    levels = BarLevels()
    levels.set(*cols)
    rng = np.random.default_rng(n)
    ranges = [(0, n), (n - 1, n)] + [tuple(sorted(rng.integers(0, n + 1, 2))) for _ in range(40)]
    for i0, i1 in ranges:
        if i1 <= i0:
            assert levels.low_high(i0, i1) is None
            continue
        assert levels.low_high(i0, i1) == (cols[3][i0:i1].min(), cols[2][i0:i1].max())


def test_extent_follows_appends_and_a_correction_that_lowers_the_high():
    cols = walk(1_000)
    levels = BarLevels()
    levels.set(*cols)
    lo, hi, vmax = levels.extent()
    assert (lo, hi, vmax) == (cols[3].min(), cols[2].max(), cols[5].max())
    t = float(cols[0][-1]) + IV
    levels.append((t, hi, hi + 50.0, lo - 40.0, hi, vmax + 1.0))  # a new extreme on every side
    assert levels.extent() == (lo - 40.0, hi + 50.0, vmax + 1.0)
    levels.replace_last((t, hi, hi + 1.0, lo + 1.0, hi, 0.5))  # corrected: no longer the extreme anywhere
    assert levels.extent() == (lo, hi + 1.0, vmax)


@pytest.fixture
def chart(qtbot) -> CandleChart:
    return shown_chart(qtbot, IV)


def test_zoomed_out_chart_draws_exactly_the_brute_force_buckets(chart, qtbot):
    cols = walk(200_001)
    chart.set_history(*cols)
    chart.price_view.setXRange(T0, T0 + IV * 200_001, padding=0)
    chart.grab()
    item = chart.history_item
    k = item.last_merge_factor
    assert k >= 256  # 200k candles in < 900 px
    drawn = item.last_drawn
    want = merge_bars(*(c[:200_000] for c in cols), k)  # the last candle is the forming one
    g0 = int(np.searchsorted(want.t, drawn.t[0]))
    sl = slice(g0, g0 + len(drawn))
    np.testing.assert_array_equal(drawn.h, want.h[sl])
    np.testing.assert_array_equal(drawn.l, want.l[sl])
    np.testing.assert_array_equal(drawn.o, want.o[sl])
    np.testing.assert_array_equal(drawn.c, want.c[sl])
    assert g0 == 0 and g0 + len(drawn) == len(want.t)  # everything is visible
    # y fits the whole history (the forming candle included)
    (_, _), (y0, y1) = chart.price_view.viewRange()
    assert y0 <= cols[3].min() and y1 >= cols[2].max()


def test_a_new_candle_while_zoomed_out_updates_only_the_tail_of_the_drawn_level(chart, qtbot):
    cols = walk(50_000)
    chart.set_history(*cols)
    chart.price_view.setXRange(T0, T0 + IV * 50_010, padding=0)
    chart.grab()
    levels = chart.history_levels
    before_sync, before_rebuild = levels.synced_buckets, levels.rebuild_count
    last = chart.candle_at_index(-1)
    chart.update_forming(last.t + IV, last.c, last.c + 500.0, last.c - 1, last.c, 1.0)  # closes a candle
    chart.grab()
    assert levels.rebuild_count == before_rebuild
    assert 0 < levels.synced_buckets - before_sync <= 2 * 12  # one or two buckets per level in use
    item = chart.history_item
    want = merge_bars(*(c[:50_000] for c in cols), item.last_merge_factor)
    assert last.t in (want.t[-1], *item.last_drawn.t) or item.last_drawn.tl[-1] == last.t  # closed into the tail
    assert item.last_drawn.h[-1] == want.h[-1] and item.last_drawn.l[-1] == want.l[-1]


def test_set_history_adopts_the_arrays_and_the_first_new_candle_copies_them(chart):
    cols = walk(1_000)
    originals = [c.copy() for c in cols]
    chart.set_history(*cols)
    base = chart.history_levels.base
    assert not base.owned  # no copy before the first frame
    assert np.shares_memory(base.h, cols[2])
    last = chart.candle_at_index(-1)
    chart.update_forming(last.t + IV, last.c, last.c + 1, last.c - 1, last.c, 1.0)
    chart.update_forming(last.t + IV, last.c, last.c + 2, last.c - 2, last.c, 2.0)
    chart.update_forming(last.t, last.o, last.h + 5, last.l, last.c, last.v)  # a late correction of the closed one
    assert base.owned and not np.shares_memory(base.h, cols[2])
    for got, want in zip(cols, originals, strict=True):
        np.testing.assert_array_equal(got, want)  # the caller's arrays were never written
    assert chart.candle_count == 1_001
    assert chart.candle_at_index(-2).h == last.h + 5


def test_date_axis_labels_survive_zooming_out_and_back_in(chart):
    cols = walk(20_000)
    chart.set_history(*cols)
    axis = chart._date_axis
    for x0 in (T0, T0 + IV * 19_800, T0, T0 + IV * 19_800):  # memoised tick placement, changing zoom levels
        chart.price_view.setXRange(x0, T0 + IV * 20_005, padding=0)
        chart.grab()
        lo, hi = chart.price_view.viewRange()[0]
        ticks = axis.tickValues(lo, hi, chart.price_view.width())
        spacing, values = next((sp, vals) for sp, vals in ticks if len(vals))
        assert all(s for s in axis.tickStrings(values, 1.0, spacing))  # labels from the zoom level just chosen


def test_the_adopted_history_is_copied_shortly_after_loading(chart, qtbot):
    cols = walk(1_000)
    chart.set_history(*cols)
    base = chart.history_levels.base
    assert not base.owned
    qtbot.waitUntil(lambda: base.owned, timeout=2_000)  # after the first frame, before any live candle
    assert not np.shares_memory(base.h, cols[2])
    np.testing.assert_array_equal(base.h, cols[2][:-1])


def test_owning_in_slices_then_appending_mid_copy_keeps_every_bar():
    from hexdesk.ui.chart_lod import OhlcvBuffer

    cols = walk(1_000)
    buf = OhlcvBuffer()
    buf.assign(tuple(cols))
    assert buf.own(300) is False and buf.own(300) is False  # 600 of 1,000 rows copied
    buf.append((cols[0][-1] + IV, 1.0, 2.0, 0.5, 1.5, 3.0))  # finishes the copy, then appends
    assert buf.owned and len(buf) == 1_001
    for got, want in zip((buf.t, buf.o, buf.h, buf.l, buf.c, buf.v), cols, strict=True):
        np.testing.assert_array_equal(got[:1_000], want)
    assert buf.row(-1) == (cols[0][-1] + IV, 1.0, 2.0, 0.5, 1.5, 3.0)


def test_volume_ceiling_leaves_at_most_an_eighth_of_headroom_and_moves_in_steps():
    from hexdesk.ui.chart_items import volume_ceiling

    for v in (0.001, 0.37, 1.0, 5.5, 31.9, 1234.5, 8.0e6):
        top = volume_ceiling(v)
        assert v <= top <= v * 1.125
    # 40 -> 44 (step 32/8 = 4): every volume in (40, 44] shares one ceiling, so the pane does not rescale per tick
    assert {volume_ceiling(v) for v in (40.5, 41.0, 42.7, 44.0)} == {44.0}
    assert volume_ceiling(44.01) == 48.0
    assert volume_ceiling(0.0) == 0.0


def test_growing_forming_volume_rescales_the_volume_pane_only_per_step(chart):
    cols = walk(2_000)
    cols[5][:] = 10.0  # flat history volume: the forming candle decides the pane's top
    chart.set_history(*cols)
    last = chart.candle_at_index(-1)

    def pane_top_after(volume: float) -> float:
        chart.update_forming(last.t, last.o, last.h, last.l, last.c, volume)
        chart.grab()
        return chart.volume_view.viewRange()[1][1]

    first = pane_top_after(41.0)
    assert pane_top_after(42.0) == first and pane_top_after(43.9) == first  # same step: no rescale
    higher = pane_top_after(90.0)
    assert higher > first and higher >= 90.0


def test_warm_builds_every_level_finest_first_and_each_is_the_brute_force_one():
    cols = walk(5_003)
    levels = BarLevels()
    levels.set(*cols)
    assert not levels.warmed
    steps = 0
    while not levels.warm():
        steps += 1
    assert levels.warmed
    assert steps == 12  # one level a call: k = 2 .. 4096, the levels with at least two buckets of 5,003 bars
    for k in (2, 16, 256, 4096):
        assert_level_is_brute_force(levels, cols, k)
    synced = levels.synced_buckets
    levels.bars(1024, 0, 5)
    assert levels.synced_buckets == synced  # a zoom-out after warming builds nothing


def test_the_chart_warms_its_levels_after_loading_and_stays_exact_after_appends(chart, qtbot):
    cols = walk(20_000)
    chart.set_history(*cols)
    qtbot.waitUntil(lambda: chart.history_levels.warmed, timeout=5000)
    assert len(chart.history_levels) == 19_999  # the last loaded candle is the forming one
    chart.update_forming(T0 + IV * 20_000, 1.0, 2.0, 0.5, 1.5, 3.0)  # closes it into the warmed history
    for k in (2, 64, 8192):
        assert_level_is_brute_force(chart.history_levels, cols, k)


def test_utc_date_axis_ticks_match_pyqtgraphs_utc_ticks_and_leave_its_zoom_levels_alone():
    from hexdesk.ui.chart_items import UtcDateAxis
    from hexdesk.ui.qt_compat import QtGui, pg

    ours, theirs = UtcDateAxis(), pg.DateAxisItem(utcOffset=0)
    for axis in (ours, theirs):
        axis.fontMetrics = QtGui.QFontMetrics(QtGui.QFont())
    for span in (3_600.0, 86_400.0, 7 * 86_400.0, 400 * 86_400.0, 1_000_000 * 60.0):
        got = ours.tickValues(T0, T0 + span, 1600)
        want = theirs.tickValues(T0, T0 + span, 1600)  # identical on a UTC machine, which this suite runs on
        assert [s for s, _ in got] == [s for s, _ in want]
        for (_, a), (_, b) in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)
    hourly = dict(ours.tickValues(T0, T0 + 86_400.0, 1600))[3_600]
    assert hourly and all(v % 3_600 == 0 for v in hourly)  # on UTC hours whatever the machine's zone
    assert all(type(z) is not type(o) for z, o in zip(ours.zoomLevels.values(), theirs.zoomLevels.values(),
                                                     strict=True))
