"""A new session's defaults, in a module of their own: the start (hexdesk/app.py, ui/startup.py) reads them before
the first frame is painted, when importing the desk (numpy, the engine) would cost more than the frame itself."""

from __future__ import annotations

from decimal import Decimal

DEFAULT_DATASETS = ("BTCUSDT-2025-03", "ETHUSDT-2025-03")
DEFAULT_BALANCE = Decimal("10000")
DEFAULT_SPEED = 60.0  # replay seconds per wall second: one 1-minute candle a second
DEFAULT_FUNDING_RATE = Decimal("0.0001")  # 0.01% per 8 h: the interest-rate baseline a calm market settles at (§2)
HISTORY_MS = 24 * 60 * 60 * 1000  # the first day of a dataset is shown as history, the replay starts after it
