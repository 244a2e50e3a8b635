"""Pin the Qt binding to PySide6 before anything imports pyqtgraph.

pyqtgraph picks its binding from ``PYQTGRAPH_QT_LIB`` (and qasync/qtpy-style libraries from ``QT_API``) the first
time it is imported, falling back to whichever binding happens to be installed first. HexDesk only ships and tests
PySide6, so UI modules take pyqtgraph and the Qt modules from here, which keeps the order right whatever an import
sorter does to their import blocks::

    from hexdesk.ui.qt_compat import QtCore, QtGui, QtWidgets, pg

(``from hexdesk.ui import qt_compat  # noqa: F401`` before ``import pyqtgraph`` works too, but isort/ruff put
third-party imports before first-party ones and would silently undo it.)

``setdefault`` keeps an explicit environment override possible for debugging, but importing PySide6 here makes a
missing binding fail here, loudly, instead of deep inside pyqtgraph.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_API", "pyside6")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pyqtgraph as pg
import PySide6
from PySide6 import QtCore, QtGui, QtWidgets

PYSIDE_VERSION: str = PySide6.__version__

if pg.Qt.QT_LIB != "PySide6":  # pyqtgraph was imported (with another binding) before this module
    raise ImportError(f"pyqtgraph is bound to {pg.Qt.QT_LIB}; import hexdesk.ui.qt_compat before pyqtgraph")

__all__ = ["PYSIDE_VERSION", "QtCore", "QtGui", "QtWidgets", "pg"]
