"""CandleChart: real pixels, in-place forming updates, merge rule, price lines, crosshair text, follow mode."""

from __future__ import annotations

import numpy as np
import pytest

from hexdesk.ui.chart import LAST_PRICE_KEY, CandleChart
from hexdesk.ui.chart_items import BarLevels, merge_bars
from hexdesk.ui.qt_compat import QtGui, pg
from tests.ui.conftest import shown_chart

T0 = 1_740_830_400.0  # 2025-03-01 12:00:00 UTC
IV = 60.0
UP = (0x26, 0xA6, 0x9A)
DOWN = (0xEF, 0x53, 0x50)


def walk(n: int, seed: int = 3) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    t = T0 + IV * np.arange(n)
    c = 85_000 + np.cumsum(rng.normal(0, 20, n))
    o = np.r_[c[0], c[:-1]]
    h = np.maximum(o, c) + rng.exponential(10, n)
    low = np.minimum(o, c) - rng.exponential(10, n)
    v = rng.exponential(5, n)
    return t, o, h, low, c, v


@pytest.fixture
def chart(qtbot) -> CandleChart:
    return shown_chart(qtbot, IV)


def colour_counts(image: QtGui.QImage, x0: int, x1: int) -> tuple[int, int]:
    """Pixels exactly in the up / down colour in columns [x0, x1) of the image."""
    img = image.convertToFormat(QtGui.QImage.Format.Format_RGB32)
    arr = np.frombuffer(img.constBits(), dtype=np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    rgb = arr[:, x0:x1, 2::-1]  # BGRA in memory -> RGB
    up = np.all(rgb == UP, axis=-1).sum()
    down = np.all(rgb == DOWN, axis=-1).sum()
    return int(up), int(down)


# ---- merge rule ------------------------------------------------------------------------------------------------


def test_merge_bars_keeps_first_open_extremes_last_close_and_sums_volume():
    t, o, h, low, c, v = walk(10)
    m = merge_bars(t, o, h, low, c, v, 4)  # groups [0:4], [4:8], [8:10] (partial)
    assert len(m.t) == 3
    for g, (s, e) in enumerate([(0, 4), (4, 8), (8, 10)]):
        assert m.t[g] == t[s] and m.tl[g] == t[e - 1]
        assert m.o[g] == o[s] and m.c[g] == c[e - 1]
        assert m.h[g] == h[s:e].max() and m.l[g] == low[s:e].min()
        assert m.v[g] == pytest.approx(v[s:e].sum())


def test_merge_levels_cascade_equals_direct_merge_and_appends_only_touch_the_tail():
    t, o, h, low, c, v = walk(1001)
    levels = BarLevels()
    levels.set(t[:1000], o[:1000], h[:1000], low[:1000], c[:1000], v[:1000])
    lv8 = levels.level(8)  # built from level 4, itself from level 2
    direct = merge_bars(t[:1000], o[:1000], h[:1000], low[:1000], c[:1000], v[:1000], 8)
    np.testing.assert_array_equal(lv8.h, direct.h)
    np.testing.assert_array_equal(lv8.l, direct.l)
    np.testing.assert_allclose(lv8.v, direct.v)
    levels.append((t[1000], o[1000], h[1000], low[1000], c[1000], v[1000]))
    after = merge_bars(t, o, h, low, c, v, 8)
    for k in (2, 4, 8):
        got = levels.level(k)
        want = merge_bars(t, o, h, low, c, v, k)
        np.testing.assert_array_equal(got.t, want.t)
        np.testing.assert_array_equal(got.h, want.h)
        np.testing.assert_array_equal(got.c, want.c)
    np.testing.assert_array_equal(levels.level(8).l, after.l)
    assert levels.rebuild_count == 1


# ---- pixels ----------------------------------------------------------------------------------------------------


def test_bullish_then_bearish_candles_paint_up_colour_left_and_down_colour_right(chart):
    n = 40
    t = T0 + IV * np.arange(n)
    o = np.where(np.arange(n) < n // 2, 100.0 + np.arange(n), 140.0 - np.arange(n))
    c = np.where(np.arange(n) < n // 2, o + 5, o - 5)
    h, low, v = np.maximum(o, c) + 1, np.minimum(o, c) - 1, np.full(n, 10.0)
    chart.set_history(t, o, h, low, c, v)
    chart.price_view.setXRange(T0, T0 + IV * n, padding=0)
    chart.show_last_price = False
    chart.set_last_price(None)
    image = chart.grab().toImage()
    vb = chart.price_view.sceneBoundingRect()
    mid = int(vb.left() + vb.width() / 2)
    up_left, down_left = colour_counts(image, int(vb.left()), mid)
    up_right, down_right = colour_counts(image, mid, int(vb.right()))
    assert up_left > 200 and down_left == 0
    assert down_right > 200 and up_right == 0


def test_zoomed_out_history_merges_to_at_most_one_bar_per_pixel(chart):
    chart.set_history(*walk(50_000))
    chart.price_view.setXRange(T0, T0 + IV * 50_000, padding=0)
    chart.grab()
    item = chart.history_item
    assert item.last_merge_factor > 1
    assert 0 < item.last_drawn_bars <= chart.price_view.width()


def test_y_range_follows_the_visible_candles_only(chart):
    t, o, h, low, c, v = walk(1000)
    h[10] = 200_000.0  # a spike far outside the initially visible (last 150) candles
    chart.set_history(t, o, h, low, c, v)
    chart.grab()
    assert chart.price_view.viewRange()[1][1] < 100_000
    chart.price_view.setXRange(T0, T0 + IV * 1000, padding=0)
    chart.grab()
    assert chart.price_view.viewRange()[1][1] >= 200_000


# ---- forming candle --------------------------------------------------------------------------------------------


def test_update_forming_replaces_same_time_and_appends_later_time(chart):
    t, o, h, low, c, v = walk(300)
    chart.set_history(t, o, h, low, c, v)
    assert chart.candle_count == 300
    last_t = float(t[-1])
    chart.update_forming(last_t, o[-1], h[-1] + 5, low[-1], c[-1] + 1, v[-1] + 2)
    assert chart.candle_count == 300
    assert chart.candle_at_index(-1).h == pytest.approx(h[-1] + 5)
    chart.update_forming(last_t + IV, 1.0, 2.0, 0.5, 1.5, 3.0)
    assert chart.candle_count == 301
    closed = chart.candle_at_index(-2)
    assert (closed.t, closed.h, closed.v) == (last_t, pytest.approx(h[-1] + 5), pytest.approx(v[-1] + 2))
    assert chart.candle_at_index(-1) == chart.candle_at_time(last_t + IV + 1)
    with pytest.raises(ValueError):
        chart.update_forming(last_t - IV, 1.0, 2.0, 0.5, 1.5, 3.0)


def test_ticks_do_not_rebuild_or_reprepare_the_history(chart, qtbot):
    t, o, h, low, c, v = walk(2000)
    chart.set_history(t, o, h, low, c, v)
    chart.grab()
    item, levels = chart.history_item, chart.history_levels
    prepares, rebuilds = item.prepare_count, levels.rebuild_count
    last_t = float(t[-1])
    for i in range(50):  # trades inside the last candle's range: the scales stay put
        chart.update_forming(last_t, o[-1], h[-1], low[-1], low[-1] + (h[-1] - low[-1]) * (i % 10) / 10, v[-1])
    chart.grab()
    assert item.prepare_count == prepares  # cached geometry reused
    chart.update_forming(last_t + IV, c[-1], c[-1], c[-1], c[-1], 0.0)  # closes a candle: O(1) append
    assert levels.rebuild_count == rebuilds
    assert len(levels) == 2000


def test_many_ticks_between_frames_cause_one_repaint(chart, qtbot):
    chart.set_history(*walk(500))
    qtbot.wait(50)
    forming = chart.forming_item
    before = forming.paint_count
    last = chart.candle_at_index(-1)
    for i in range(100):
        chart.update_forming(last.t, last.o, last.h, last.l, last.l + (last.h - last.l) * (i % 10) / 10, last.v)
    assert forming.paint_count == before  # nothing painted synchronously
    qtbot.waitUntil(lambda: forming.paint_count > before, timeout=2000)
    qtbot.wait(50)
    assert forming.paint_count - before <= 2


# ---- price lines, crosshair, follow mode ----------------------------------------------------------------------


def test_price_lines_add_move_remove_and_ignore_autorange(chart):
    chart.set_history(*walk(300))
    chart.grab()
    y_before = chart.price_view.viewRange()[1]
    chart.set_price_line("liq", 10_000.0, "#ff9800", "Liq 10,000.0", "solid")
    chart.set_price_line("entry", 85_000.0, "#f0b90b", "Long 0.100 @ 85,000.0")
    assert chart.price_line("liq") == (10_000.0, "Liq 10,000.0")
    chart.set_price_line("entry", 85_100.0, "#f0b90b", "Long 0.200 @ 85,100.0")
    assert chart.price_line("entry") == (85_100.0, "Long 0.200 @ 85,100.0")
    chart.grab()
    assert chart.price_view.viewRange()[1] == pytest.approx(y_before)  # a far liquidation line does not rescale
    chart.set_price_line("liq", None, "#ff9800")
    assert chart.price_line("liq") is None
    assert "liq" not in chart.price_line_keys() and "entry" in chart.price_line_keys()
    shown = [i for i in chart.price_view.childGroup.childItems() if isinstance(i, pg.InfiniteLine) and i.isVisible()]
    assert sorted(float(i.value()) for i in shown) == pytest.approx(sorted([85_100.0, chart.candle_at_index(-1).c]))


def test_last_price_line_follows_the_forming_close(chart):
    t, o, h, low, c, v = walk(100)
    chart.set_history(t, o, h, low, c, v)
    chart.update_forming(float(t[-1]), o[-1], h[-1] + 50, low[-1], o[-1] + 42.5, v[-1])
    price, text = chart.price_line(LAST_PRICE_KEY)
    assert price == pytest.approx(o[-1] + 42.5)
    assert text == f"{o[-1] + 42.5:,.2f}"


def test_crosshair_text_shows_the_candle_under_the_cursor(chart):
    t = T0 + IV * np.arange(3)
    chart.set_price_decimals(1)
    chart.set_history(t, np.array([100.0, 101, 102]), np.array([110.0, 111, 112]), np.array([90.0, 91, 92]),
                      np.array([105.0, 99, 103]), np.array([1.5, 2.5, 3.5]))
    text = chart.crosshair_text(T0 + IV + 30)  # inside the second candle's minute
    assert text == "2025-03-01 12:01  O 101.0  H 111.0  L 91.0  C 99.0  V 2.500  -1.98%"
    assert chart.crosshair_text(T0 - 1) == ""
    chart.set_crosshair(T0 + 10, 105.0)
    assert chart.corner_text().startswith("2025-03-01 12:00  O 100.0")


def test_crosshair_price_label_reads_the_pointer_price(chart):
    """The label on the right axis says the price under the pointer: it once said 0.00 (set while hidden)."""
    t = T0 + IV * np.arange(3)
    chart.set_price_decimals(1)
    chart.set_history(t, np.array([100.0, 101, 102]), np.array([110.0, 111, 112]), np.array([90.0, 91, 92]),
                      np.array([105.0, 99, 103]), np.array([1.5, 2.5, 3.5]))
    chart.set_crosshair(T0 + 10, 104.25)
    assert chart._cross_h.label.toPlainText() == "104.2"  # 1 decimal, round half even as str.format
    chart.set_crosshair(T0 + 10, None)  # over the volume pane: no price
    chart.set_crosshair(T0 + IV + 10, 95.5)
    assert chart._cross_h.label.toPlainText() == "95.5"


def test_follow_mode_scrolls_with_new_candles_until_the_user_pans_back(chart):
    t, o, h, low, c, v = walk(500)
    chart.set_history(t, o, h, low, c, v)
    assert chart.is_following
    (x0, x1), _ = chart.price_view.viewRange()
    new_t = float(t[-1]) + IV
    chart.update_forming(new_t, c[-1], c[-1], c[-1], c[-1], 0.0)
    (y0, y1), _ = chart.price_view.viewRange()
    assert (y0 - x0, y1 - x1) == (pytest.approx(IV), pytest.approx(IV))  # same bar count, shifted one candle
    chart.price_view.setXRange(T0, T0 + 100 * IV, padding=0)  # the user pans back in time
    assert not chart.is_following
    chart.update_forming(new_t + IV, c[-1], c[-1], c[-1], c[-1], 0.0)
    assert chart.price_view.viewRange()[0] == pytest.approx([T0, T0 + 100 * IV])
    chart.scroll_to_end()
    assert chart.is_following
    (z0, z1), _ = chart.price_view.viewRange()
    assert z0 < new_t + IV < z1 and z1 - z0 == pytest.approx(100 * IV)


def test_pyqtgraph_is_bound_to_pyside6():
    assert pg.Qt.QT_LIB == "PySide6"
