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
import sys
import types

os.environ.setdefault("QT_API", "pyside6")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import PySide6
from PySide6 import QtCore, QtGui, QtWidgets


class _LazyQtModule(types.ModuleType):
    """pyqtgraph's ``pyqtgraph.Qt.QtCore`` (QtGui, QtWidgets): each name taken from PySide6 the first time it is
    asked for, then kept."""

    def __init__(self, name: str, source: types.ModuleType) -> None:
        super().__init__(name)
        self.__source = source

    def __getattr__(self, attr: str) -> object:
        if attr == "_LazyQtModule__source":  # not set yet: never look it up in itself
            raise AttributeError(attr)
        value = getattr(self.__source, attr)
        setattr(self, attr, value)
        return value

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(dir(self.__source)))


def _import_pyqtgraph() -> types.ModuleType:
    """``import pyqtgraph``, minus its biggest start-up cost (issue 10.3).

    pyqtgraph's Qt shim copies every name of PySide6's QtCore, QtGui and QtWidgets into its own (empty) modules of
    those names when it is imported. PySide6 creates its classes lazily, on first use; touching all ~1,500 at once
    costs 140-300 ms, a third of HexDesk's cold start. So pyqtgraph is given those three modules already made,
    each looking a name up in PySide6 when it is first used, and the copy loop finds nothing to copy (PySide6's
    modules list no names while pyqtgraph is imported). Should either library change so that this does not hold,
    the plain import is used.
    """
    if "pyqtgraph" in sys.modules or os.environ.get("PYQTGRAPH_QT_LIB", "PySide6") != "PySide6":
        import pyqtgraph

        return pyqtgraph
    sources = {"QtCore": QtCore, "QtGui": QtGui, "QtWidgets": QtWidgets}
    listings = {name: src.__dict__.get("__dir__") for name, src in sources.items()}
    if any(listing is None for listing in listings.values()):  # not PySide6's lazy modules: nothing to gain
        import pyqtgraph

        return pyqtgraph
    for name, src in sources.items():
        sys.modules[f"pyqtgraph.Qt.{name}"] = _LazyQtModule(f"pyqtgraph.Qt.{name}", src)
        src.__dict__["__dir__"] = list
    try:
        import pyqtgraph
    finally:
        for name, src in sources.items():
            src.__dict__["__dir__"] = listings[name]
    return pyqtgraph


pg = _import_pyqtgraph()

PYSIDE_VERSION: str = PySide6.__version__

if pg.Qt.QT_LIB != "PySide6":  # pyqtgraph was imported (with another binding) before this module
    raise ImportError(f"pyqtgraph is bound to {pg.Qt.QT_LIB}; import hexdesk.ui.qt_compat before pyqtgraph")

__all__ = ["PYSIDE_VERSION", "QtCore", "QtGui", "QtWidgets", "pg"]
