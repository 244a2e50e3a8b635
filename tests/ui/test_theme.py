"""The light theme beside the dark one (issue 10.7), switched on a built window, and the chart at device pixel
ratio 2 (QT_SCALE_FACTOR=2, in a child process: the scale factor is read once, when Qt starts)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette

from hexdesk.ui import theme
from hexdesk.ui.main_window import MainWindow
from hexdesk.ui.tables import ButtonDelegate
from tests.ui.fake_desk import FakeDesk

LIGHT = theme.PALETTES["light"]
DARK = theme.PALETTES["dark"]


@pytest.fixture
def window(qtbot):
    w = MainWindow(FakeDesk())
    qtbot.addWidget(w)
    w.show()
    yield w
    theme.switch(w, "dark")


def test_light_theme_applies_and_dark_comes_back(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert theme.current_name() == "light"
    assert window.desktop.theme_action.isChecked()
    assert window.palette().color(QPalette.ColorRole.Window) == QColor(LIGHT["BG"])
    assert LIGHT["PANEL"] in window.styleSheet() and DARK["BG"] not in window.styleSheet()
    assert LIGHT["GREEN"] == theme.GREEN  # what tables and lines read when they next refresh
    view = window.chart.price_view.scene().views()[0]
    assert view.backgroundBrush().color() == QColor(theme.CHART["light"]["background"])
    # colours a widget took when it was built follow too: the disabled Buy button, the table buttons
    assert LIGHT["PANEL_ALT"] in window.ticket.buyButton.styleSheet()
    close = window.positions_table.itemDelegateForColumn(window.positions_table.rows_model.columnCount() - 2)
    assert isinstance(close, ButtonDelegate) and close.colour == QColor(LIGHT["TEXT"])
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert theme.current_name() == "dark"
    assert window.palette().color(QPalette.ColorRole.Window) == QColor(DARK["BG"])
    assert DARK["PANEL_ALT"] in window.ticket.buyButton.styleSheet()
    assert close.colour == QColor(DARK["TEXT"])


def test_light_palette_keeps_every_meaning():
    assert set(LIGHT) == set(DARK)  # every named colour has its light counterpart
    assert len(set(LIGHT.values())) == len(LIGHT)  # distinct: a switch can translate built-in colours back


SCRIPT = """
from PySide6.QtWidgets import QApplication
app = QApplication([])
from hexdesk.ui.main_window import MainWindow
from tests.ui.fake_desk import FakeDesk
w = MainWindow(FakeDesk()); w.resize(1024, 768); w.show()
for _ in range(5): app.processEvents()
w.refresh_now()
pm = w.chart.grab()
print(w.devicePixelRatioF(), pm.devicePixelRatio(), pm.width(), w.chart.width(), pm.height(), w.chart.height())
"""


def test_chart_paints_at_device_pixel_ratio_2():
    env = {**os.environ, "QT_SCALE_FACTOR": "2", "QT_QPA_PLATFORM": "offscreen", "QT_API": "pyside6",
           "PYQTGRAPH_QT_LIB": "PySide6", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    ratio, pixmap_ratio, pw, w, ph, h = (float(x) for x in out.stdout.split()[-6:])
    assert ratio == 2.0 and pixmap_ratio == 2.0
    assert (pw, ph) == (2 * w, 2 * h)  # every logical pixel painted as 2x2 device pixels: crisp, not upscaled
