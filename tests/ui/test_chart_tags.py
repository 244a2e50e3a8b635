"""Price tags never overlap (issue 10.2 point 3), a tick repaints only what it changed, the forming candle paints
exactly its OHLC."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hexdesk.ui.chart import LAST_PRICE_KEY, CandleChart
from hexdesk.ui.chart_tags import TAG_GAP_PX, PriceTag, place_tags
from hexdesk.ui.qt_compat import QtCore, QtGui, QtWidgets
from tests.ui.conftest import shown_chart

T0 = 1_740_830_400.0  # 2025-03-01 12:00:00 UTC
IV = 60.0
UP = (0x26, 0xA6, 0x9A)


def flat_history(n: int, price: float = 85_000.0) -> tuple[np.ndarray, ...]:
    """Candles oscillating +-50 around ``price``: every price line below sits inside the visible range."""
    t = T0 + IV * np.arange(n)
    c = price + 50 * np.sin(np.arange(n) / 7)
    o = np.r_[c[0], c[:-1]]
    return t, o, np.maximum(o, c) + 5, np.minimum(o, c) - 5, c, np.full(n, 2.0)


@pytest.fixture
def chart(qtbot) -> CandleChart:
    return shown_chart(qtbot, IV, price_decimals=1)


# ---- placement rule -----------------------------------------------------------------------------------------


def test_place_tags_keeps_the_first_at_the_edge_and_moves_only_what_would_overlap():
    # three tags whose heights overlap (centres 4 px apart, 16 px tall) and one far away
    rects = place_tags([(60, 16), (100, 16), (50, 16), (70, 16)], [200, 204, 196, 400], right=800)
    first, second, third, far = rects
    assert first.right() == 800 and first.center().y() == 200  # the last price never moves
    assert second.right() == pytest.approx(800 - 60 - TAG_GAP_PX)  # beside it, on its own height
    assert second.center().y() == 204
    assert third.right() == pytest.approx(second.left() - TAG_GAP_PX) and third.center().y() == 196
    assert far.right() == 800  # nothing in its way: stays at the edge
    for a, b in itertools.combinations(rects, 2):
        assert not a.intersects(b)


def test_place_tags_skips_hidden_tags():
    rects = place_tags([None, (60, 16)], [100, 100], right=500)
    assert rects[0] is None and rects[1].right() == 500


# ---- on the chart -----------------------------------------------------------------------------------------


def test_close_prices_give_tags_that_never_overlap(chart, qtbot):
    chart.set_history(*flat_history(300))
    chart.grab()
    last = chart.candle_at_index(-1).c
    # the position entry, its liquidation, a take-profit, a stop-loss and a limit all within a few ticks of the last
    # price: pyqtgraph's labels printed each on its line, one over the other
    chart.set_price_line("entry", last + 0.4, "#f0b90b", "Long 0.582 @ 85,000.4  +0.23", "solid")
    chart.set_price_line("liq", last - 0.3, "#ff9800", "Liq")
    chart.set_price_line("tp", last + 1.1, "#26a69a", "TP")
    chart.set_price_line("sl", last - 0.9, "#ef5350", "SL")
    chart.set_price_line("order:7", last + 0.1, "#2962ff", "Buy limit 0.100")
    chart.grab()
    rects = chart.tag_rects()
    assert set(rects) == {LAST_PRICE_KEY, "entry", "liq", "tp", "sl", "order:7"}  # all shown
    for (ka, a), (kb, b) in itertools.combinations(rects.items(), 2):
        assert not a.intersects(b), f"{ka} tag overlaps {kb} tag"
    view = chart.price_view.sceneBoundingRect()
    assert rects[LAST_PRICE_KEY].right() == pytest.approx(view.right(), abs=1)  # the last price keeps the edge
    for key, rect in rects.items():  # each tag still sits on its own line
        y = chart.price_view.mapViewToScene(QtCore.QPointF(0, chart.price_line(key)[0])).y()
        assert rect.top() <= y <= rect.bottom()
        assert view.contains(rect)


def test_tags_are_re_placed_when_the_last_price_moves_onto_another_line(chart, qtbot):
    chart.set_history(*flat_history(300))
    chart.grab()
    last = chart.candle_at_index(-1)
    far = last.c + 30
    chart.set_price_line("entry", far, "#f0b90b", "Long 0.582 @ entry", "solid")
    chart.grab()
    view = chart.price_view.sceneBoundingRect()
    assert chart.tag_rects()["entry"].right() == pytest.approx(view.right(), abs=1)  # alone: at the edge
    chart.update_forming(last.t, last.o, max(last.h, far), last.l, far, last.v)  # the price reaches the entry
    chart.grab()
    rects = chart.tag_rects()
    assert not rects["entry"].intersects(rects[LAST_PRICE_KEY])
    assert rects["entry"].right() < rects[LAST_PRICE_KEY].left()  # moved beside the last price, not over it
    assert chart.price_line(LAST_PRICE_KEY)[1] == chart.format_price(far)  # the tag shows the new last price


def test_removed_line_takes_its_tag_away(chart):
    chart.set_history(*flat_history(100))
    chart.set_price_line("tp", chart.candle_at_index(-1).c, "#26a69a", "TP")
    chart.grab()  # the first frame fits the price range; a tag shows once its line is inside it
    assert "tp" in chart.tag_rects()
    def tags() -> int:
        return sum(isinstance(i, PriceTag) for i in chart.price_view.scene().items())

    before = tags()
    chart.set_price_line("tp", None, "#26a69a")
    assert "tp" not in chart.tag_rects()
    assert tags() == before - 1


# ---- a tick repaints only what it changed ---------------------------------------------------------------------


class _PaintRegions(QtCore.QObject):
    def __init__(self) -> None:
        super().__init__()
        self.regions: list[QtGui.QRegion] = []

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.Paint:
            self.regions.append(QtGui.QRegion(event.region()))
        return False


def _area(region: QtGui.QRegion) -> int:
    return sum(r.width() * r.height() for r in region)


def test_a_tick_inside_the_candle_repaints_a_small_part_of_the_pane(chart, qtbot):
    chart.set_history(*flat_history(300))
    for _ in range(3):
        QtWidgets.QApplication.processEvents()
    viewport = chart.price_view.scene().views()[0].viewport()
    spy = _PaintRegions()
    viewport.installEventFilter(spy)
    last = chart.candle_at_index(-1)
    chart.update_forming(last.t, last.o, last.h, last.l, (last.h + last.l) / 2, last.v)  # inside the range
    chart.flush_labels()
    qtbot.waitUntil(lambda: bool(spy.regions), timeout=2000)
    QtWidgets.QApplication.processEvents()
    painted = sum(_area(r) for r in spy.regions)
    pane = chart.price_view.sceneBoundingRect()
    # the candle, the last-price line's old and new strips and tag, the corner line: well under a fifth of the pane
    # (pyqtgraph re-fitted the range on every bounds report and repainted all of it)
    assert 0 < painted < 0.2 * pane.width() * pane.height()
    y_before = chart.price_view.viewRange()[1]
    spy.regions.clear()
    chart.update_forming(last.t, last.o, last.h + 500, last.l, last.h + 500, last.v)  # a new high: the range grows
    chart.flush_labels()
    qtbot.waitUntil(lambda: chart.price_view.viewRange()[1][1] >= last.h + 500, timeout=2000)
    assert chart.price_view.viewRange()[1] != y_before


# ---- the forming candle paints exactly its OHLC ------------------------------------------------------------


def _up_rows(image: QtGui.QImage, x: int) -> list[int]:
    img = image.convertToFormat(QtGui.QImage.Format.Format_RGB32)
    arr = np.frombuffer(img.constBits(), dtype=np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    col = arr[:, x, 2::-1]
    return [int(y) for y in np.nonzero(np.all(col == UP, axis=-1))[0]]


def test_forming_candle_paints_its_new_high_low_open_and_close(chart, qtbot):
    chart.set_history(*flat_history(120))
    chart.show_last_price = False
    chart.set_last_price(None)
    last = chart.candle_at_index(-1)
    o, h, low, c = last.l + 2, last.h + 20, last.l - 20, last.h + 10  # an up candle reaching past the old range
    chart.update_forming(last.t, o, h, low, c, last.v)
    chart.grab()
    vb = chart.price_view

    def device(x: float, y: float) -> QtCore.QPointF:
        return vb.mapViewToScene(QtCore.QPointF(x, y))

    wick_x = int(np.floor(device(last.t + IV / 2, c).x()))
    rows = _up_rows(chart.grab().toImage(), wick_x)
    assert rows, "no up-coloured pixel in the forming candle's wick column"
    assert min(rows) == pytest.approx(device(0, h).y(), abs=1.5)  # wick top at the high
    assert max(rows) == pytest.approx(device(0, low).y(), abs=1.5)  # wick bottom at the low
    body_x = wick_x + 1  # beside the wick (bodies are odd widths centred on it): only the body is up-coloured
    body = _up_rows(chart.grab().toImage(), body_x)
    assert min(body) == pytest.approx(device(0, c).y(), abs=1.5)
    assert max(body) == pytest.approx(device(0, o).y(), abs=1.5)


# ---- panes without PlotItem -----------------------------------------------------------------------------------


def test_theme_recolours_every_axis_of_the_chart(chart):
    from hexdesk.ui import theme

    axes = chart.axes()
    assert len(axes) == 3  # the price axes of both panes and the date axis
    try:
        theme.style_chart(chart, "light")
        want = QtGui.QColor(theme.CHART["light"]["foreground"])
        assert all(a.pen().color() == want and a.textPen().color() == want for a in axes)
    finally:
        theme.style_chart(chart, "dark")
    assert all(a.pen().color() == QtGui.QColor(theme.CHART["dark"]["foreground"]) for a in axes)


def test_history_bounds_follow_the_view_so_loading_scans_no_extremes(chart):
    t, o, h, low, c, v = flat_history(5_000)
    h[10] = 200_000.0  # far above everything, far left of the first view
    chart.set_history(t, o, h, low, c, v)
    chart.grab()
    levels, item = chart.history_levels, chart.history_item
    assert levels.extent_scans == 0  # no min / max over every candle before the first frame
    (_, _), (y0, y1) = chart.price_view.viewRange()
    bounds = item.boundingRect()
    assert (bounds.top(), bounds.bottom()) == pytest.approx((y0, y1))  # the visible prices: clipped beyond
    assert bounds.left() == t[0]
    chart.price_view.setXRange(t[0], t[-1], padding=0)  # zoom out to the spike
    chart.grab()
    assert chart.price_view.viewRange()[1][1] >= 200_000
    assert item.boundingRect().bottom() >= 200_000  # the bounds grew with the view: the spike is painted


def _specs(specs):
    axis, ticks, texts = specs
    return (
        (axis[1].x(), axis[1].y(), axis[2].x(), axis[2].y()),
        [(pen.color().rgba(), a.x(), a.y(), b.x(), b.y()) for pen, a, b in ticks],
        [(r.x(), r.y(), r.width(), r.height(), int(f), s) for r, f, s in texts],
    )


@pytest.mark.parametrize("span", [0.5, 37.0, 900.0, 25_000.0])
def test_price_axis_lays_out_exactly_what_pyqtgraph_would(chart, span):
    from hexdesk.ui.qt_compat import pg

    chart.set_history(*flat_history(300))
    chart.grab()
    for axis in chart.axes()[:2]:  # the price and the volume pane's axes (the date axis is pyqtgraph's own)
        axis.linkedView().setYRange(85_000.0, 85_000.0 + span, padding=0)
        chart.grab()
        picture = QtGui.QPicture()
        painter = QtGui.QPainter(picture)
        try:
            ours = _specs(axis.generateDrawSpecs(painter))
            theirs = _specs(pg.AxisItem.generateDrawSpecs(axis, painter))
        finally:
            painter.end()
        assert ours[1] and ours[2]  # ticks and labels were laid out
        assert ours == theirs
