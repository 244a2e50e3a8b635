"""UI test setup: headless Qt, PySide6 binding, set at import time before any test module imports Qt."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from hexdesk.ui import qt_compat  # noqa: F401  (pins PySide6 for pyqtgraph before any test imports it)


def shown_chart(qtbot, interval: float, **kwargs):  # -> CandleChart
    """A CandleChart shown at 900x500 (exposed, so its items paint and its labels follow), with its interval set:
    what the chart tests' fixtures start from."""
    from hexdesk.ui.chart import CandleChart

    w = CandleChart(**kwargs)
    qtbot.addWidget(w)
    w.resize(900, 500)
    w.show()
    qtbot.waitExposed(w)
    w.set_interval(interval)
    return w
