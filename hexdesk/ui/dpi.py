"""High-DPI (issue 10.7): Qt 6 scales by the screen's device pixel ratio; this keeps fractional ratios (125 %,
150 % laptop screens) exact instead of rounding them, so text and the chart's one-pixel lines stay crisp.

Must run before the QApplication exists (app.py calls it); QtGui only, so it costs nothing at start-up.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication


def prepare() -> None:
    """Pass fractional scale factors through unrounded (a no-op once the application exists)."""
    if QGuiApplication.instance() is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
