"""The chart's look in one light module: what ui/chart.py draws with pyqtgraph and what the first frame
(ui/first_frame.py) draws with QPainter before pyqtgraph is even imported, so the two are the same picture."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PRICE_AXIS_WIDTH", "RIGHT_MARGIN_BARS", "VISIBLE_BARS", "ChartTheme"]

VISIBLE_BARS = 150  # the default view: this many candle slots...
RIGHT_MARGIN_BARS = 5  # ...the newest candle this many empty slots (plus its own) from the right edge
PRICE_AXIS_WIDTH = 78  # px: the price axis on the right (fixed: the plot does not jump as prices widen)


@dataclass(frozen=True, slots=True)
class ChartTheme:
    """Colours of the chart (Binance/TradingView dark)."""

    background: str = "#0e1117"
    foreground: str = "#8b949e"
    grid: str = "#1b2029"
    up: str = "#26a69a"
    down: str = "#ef5350"
    volume_up: str = "#26a69a80"  # #RRGGBBAA is not Qt's order; converted in _qcolor_rgba
    volume_down: str = "#ef535080"
    crosshair: str = "#9598a1"
    label_text: str = "#d1d4dc"
    liquidation: str = "#ff9800"
