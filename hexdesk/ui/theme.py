"""The workstation look: one palette of named colours and one stylesheet, dark by default, light beside it.

Colours carry meaning on a trading screen (green long / profit, red short / loss, orange liquidation), so widgets
take them from here by name instead of spelling hex codes, and the chart's lines match the tables' text.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

BG = "#0f1217"  # window background, behind the chart
PANEL = "#161a21"  # panels: ticket, tables, account strip
PANEL_ALT = "#1b2029"  # alternate table rows, inputs
BORDER = "#262c36"
TEXT = "#d7dce3"
MUTED = "#7d8795"
ACCENT = "#f0b90b"  # Binance yellow: focus, selected tab
GREEN = "#0ecb81"  # long, buy, profit
RED = "#f6465d"  # short, sell, loss
ORANGE = "#ff9f1a"  # liquidation
BLUE = "#4c9ffe"  # resting orders
GREEN_DARK = "#0a9e65"
RED_DARK = "#c8374a"

MONO = "'DejaVu Sans Mono', 'Menlo', 'Consolas', monospace"


def pnl_color(value: Decimal | None) -> str:
    """Green for a gain, red for a loss, muted for nothing."""
    if value is None or value == 0:
        return MUTED
    return GREEN if value > 0 else RED


def _stylesheet() -> str:
    return f"""
QWidget {{
    background: {BG};
    color: {TEXT};
    font-size: 12px;
}}
QMainWindow::separator {{ background: {BORDER}; width: 1px; height: 1px; }}
QFrame#panel, QWidget#orderTicket, QWidget#accountPanel, QWidget#replayBar {{
    background: {PANEL};
}}
QLabel, QCheckBox {{ background: transparent; }}
QLabel#muted, QLabel[role="caption"] {{ color: {MUTED}; }}
QLabel[role="caption"] {{ font-size: 11px; }}
QLabel[role="figure"] {{ font-family: {MONO}; font-size: 13px; }}
QLabel[role="section"] {{
    color: {MUTED}; font-size: 11px; font-weight: bold; letter-spacing: 1px;
    border-bottom: 1px solid {BORDER}; padding-bottom: 2px;
}}
QLabel#warnings {{ color: {RED}; }}
QLabel#statusLabel {{ color: {TEXT}; }}
QLabel#statusLabel[tone="error"] {{ color: {RED}; }}
QLabel#statusLabel[tone="ok"] {{ color: {GREEN}; }}
QLabel#modeLabel {{ color: {ACCENT}; font-weight: bold; }}
QLabel#clockLabel {{ font-family: {MONO}; }}

QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox {{
    background: {PANEL_ALT};
    border: 1px solid {BORDER};
    border-radius: 3px;
    padding: 3px 6px;
    min-height: 20px;
    font-family: {MONO};
    selection-background-color: {ACCENT};
    selection-color: #000;
}}
QComboBox {{ font-family: inherit; }}
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {{ width: 0; border: none; }}
QLineEdit:focus, QSpinBox:focus, QDoubleSpinBox:focus, QComboBox:focus {{ border-color: {ACCENT}; }}
QLineEdit[invalid="true"] {{ border-color: {RED}; }}
QLineEdit:disabled {{ color: {MUTED}; background: {PANEL}; }}
QComboBox QAbstractItemView {{ background: {PANEL_ALT}; selection-background-color: {BORDER}; }}

QPushButton {{
    background: {PANEL_ALT};
    border: 1px solid {BORDER};
    border-radius: 3px;
    padding: 4px 10px;
}}
QPushButton:hover {{ border-color: {MUTED}; }}
QPushButton:checked {{ background: {BORDER}; color: {ACCENT}; border-color: {ACCENT}; }}
QPushButton:disabled {{ color: {MUTED}; }}
QPushButton#buyButton, QPushButton#sellButton {{
    color: #ffffff; font-size: 14px; font-weight: bold; padding: 9px 6px; border: none;
}}
QPushButton#buyButton {{ background: {GREEN_DARK}; }}
QPushButton#buyButton:hover {{ background: {GREEN}; }}
QPushButton#sellButton {{ background: {RED_DARK}; }}
QPushButton#sellButton:hover {{ background: {RED}; }}

QCheckBox::indicator {{ width: 13px; height: 13px; border: 1px solid {MUTED}; border-radius: 2px; }}
QCheckBox::indicator:checked {{ background: {ACCENT}; border-color: {ACCENT}; }}

QTabWidget::pane {{ border: none; border-top: 1px solid {BORDER}; background: {PANEL}; }}
QTabBar::tab {{
    background: transparent; color: {MUTED}; padding: 6px 14px; border: none;
    border-bottom: 2px solid transparent;
}}
QTabBar::tab:selected {{ color: {TEXT}; border-bottom-color: {ACCENT}; }}
QTabBar::tab:hover {{ color: {TEXT}; }}

QTableView {{
    background: {PANEL};
    alternate-background-color: {PANEL_ALT};
    border: none;
    gridline-color: {BORDER};
    selection-background-color: {BORDER};
    selection-color: {TEXT};
    font-family: {MONO};
}}
QHeaderView::section {{
    background: {PANEL}; color: {MUTED}; border: none; border-bottom: 1px solid {BORDER};
    padding: 4px 6px; font-weight: normal;
}}
QScrollBar:vertical, QScrollBar:horizontal {{ background: {PANEL}; width: 10px; height: 10px; }}
QScrollBar::handle {{ background: {BORDER}; border-radius: 4px; min-height: 20px; min-width: 20px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QSplitter::handle {{ background: {BORDER}; }}
QToolTip {{ background: {PANEL_ALT}; color: {TEXT}; border: 1px solid {BORDER}; }}
"""


STYLESHEET = _stylesheet()


def apply(target: QApplication | QWidget) -> None:
    """Give an application (or one top-level widget, as in tests) the dark palette and stylesheet."""
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, BG),
        (QPalette.ColorRole.WindowText, TEXT),
        (QPalette.ColorRole.Base, PANEL),
        (QPalette.ColorRole.AlternateBase, PANEL_ALT),
        (QPalette.ColorRole.Text, TEXT),
        (QPalette.ColorRole.Button, PANEL_ALT),
        (QPalette.ColorRole.ButtonText, TEXT),
        (QPalette.ColorRole.Highlight, BORDER),
        (QPalette.ColorRole.HighlightedText, TEXT),
        (QPalette.ColorRole.PlaceholderText, MUTED),
    ):
        palette.setColor(role, QColor(colour))
    target.setPalette(palette)
    target.setStyleSheet(STYLESHEET)


# --- the light theme (issue 10.7) --------------------------------------------------------------------------

_NAMES = ("BG", "PANEL", "PANEL_ALT", "BORDER", "TEXT", "MUTED", "ACCENT", "GREEN", "RED", "ORANGE", "BLUE",
          "GREEN_DARK", "RED_DARK")
#: Each theme's colours by name. Light keeps the meanings (green long, red short, orange liquidation) in shades
#: dark enough to read on white (Binance's light trading screen).
PALETTES: dict[str, dict[str, str]] = {
    "dark": {name: globals()[name] for name in _NAMES},
    "light": {
        "BG": "#f5f6f8", "PANEL": "#ffffff", "PANEL_ALT": "#f0f2f5", "BORDER": "#d5d9e0", "TEXT": "#1e2329",
        "MUTED": "#707a8a", "ACCENT": "#c99400", "GREEN": "#03a66d", "RED": "#cf304a", "ORANGE": "#e07b00",
        "BLUE": "#1f6fd1", "GREEN_DARK": "#02875a", "RED_DARK": "#b0263c",
    },
}
#: The chart's colours per theme (fields of chart.ChartTheme that differ from the dark default).
CHART: dict[str, dict[str, str]] = {
    "dark": {"background": "#0e1117", "foreground": "#8b949e", "grid": "#1b2029", "label_text": "#d1d4dc"},
    "light": {"background": "#ffffff", "foreground": "#5e6673", "grid": "#eceff3", "label_text": "#1e2329"},
}
_current = "dark"


def current_name() -> str:
    return _current


def use(name: str) -> None:
    """Make ``name`` the palette every ``theme.X`` read returns from now on (widgets read colours when they paint
    or refresh, so the next frame follows) and rebuild the stylesheet from it."""
    global _current, STYLESHEET
    colours = PALETTES[name]
    globals().update(colours)
    STYLESHEET = _stylesheet()
    _current = name


def switch(window: Any, name: str) -> None:
    """Switch a built window to theme ``name``: palette, stylesheet, the chart's background, axes and grid."""
    before = PALETTES[_current]
    use(name)
    apply(window)
    translate_widgets(window, before, PALETTES[name])
    chart = getattr(window, "chart", None)
    if chart is not None:
        style_chart(chart, name)
    refresh = getattr(window, "refresh_now", None)
    if refresh is not None:
        refresh()


def style_chart(chart: Any, name: str) -> None:
    """The chart's colours for ``name`` through pyqtgraph's public items (chart.py keeps its own drawing)."""
    import pyqtgraph as pg

    colours = CHART[name]
    view = chart.price_view
    widget = view.scene().views()[0]
    widget.setBackground(colours["background"])
    pen = pg.mkPen(colours["foreground"])
    for axis in chart.axes():
        axis.setPen(pen)
        axis.setTextPen(pen)
    for grid in getattr(chart, "_grids", ()):  # guarded: chart internals may change under this
        pen = getattr(grid, "_pen", None)
        if pen is not None:
            pen.setColor(QColor(colours["grid"]))
            grid.update()
    corner = getattr(chart, "_ohlc_label", None)
    if corner is not None:
        corner.setColor(colours["label_text"])
    chart.theme = replace_theme(chart.theme, colours)


def replace_theme(chart_theme: Any, colours: dict[str, str]) -> Any:
    """The chart's theme dataclass with ``colours`` in place (kept for whatever chart.py reads later)."""
    from dataclasses import fields, replace

    known = {f.name for f in fields(chart_theme)}
    return replace(chart_theme, **{k: v for k, v in colours.items() if k in known})



def translate_widgets(root: Any, old: dict[str, str], new: dict[str, str]) -> None:
    """Colours widgets took from the palette when they were built (their own stylesheets, the tables' button
    delegates) follow a switch: every old palette colour becomes the same-named new one."""
    import re

    from PySide6.QtCore import QObject

    mapping = {old[k].lower(): new[k] for k in old if k in new}
    pattern = re.compile("|".join(re.escape(c) for c in mapping), re.IGNORECASE)
    for widget in [root, *root.findChildren(QWidget)]:
        sheet = widget.styleSheet()
        if sheet and sheet is not STYLESHEET and pattern.search(sheet) and widget is not root:
            widget.setStyleSheet(pattern.sub(lambda m: mapping[m.group(0).lower()], sheet))
    for obj in root.findChildren(QObject):
        colour = getattr(obj, "colour", None)
        if isinstance(colour, QColor) and colour.name().lower() in mapping:
            obj.colour = QColor(mapping[colour.name().lower()])
