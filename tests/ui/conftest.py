"""UI test setup: headless Qt, PySide6 binding, set at import time before any test module imports Qt."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from hexdesk.ui import qt_compat  # noqa: F401  (pins PySide6 for pyqtgraph before any test imports it)
