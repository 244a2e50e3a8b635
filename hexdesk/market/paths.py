"""Where the bundled market data lives: ``resources/`` at the repository root (the app is installed editable)."""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
KLINES = RESOURCES / "klines"
FUNDING = RESOURCES / "funding"
