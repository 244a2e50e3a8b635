"""The path to a liquidation as a small PNG for the post-mortem page: closes from the entry to the liquidation, with
the entry, the liquidation mark and the 1% stop as horizontal lines. QPainter on a QImage: no window needed."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPolygonF

from hexdesk.ui import theme


def render_path_png(
    closes: list[float], lines: list[tuple[str, Decimal | None, str]], path: Path | None = None,
    size: tuple[int, int] = (640, 240),
) -> Path:
    """Draw ``closes`` (oldest first) and labelled horizontal ``lines`` (label, price, colour); returns the PNG path."""
    w, h = size
    img = QImage(w, h, QImage.Format.Format_ARGB32)
    img.fill(QColor(theme.PANEL))
    values = [*closes, *(float(p) for _, p, _ in lines if p is not None)]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    pad_l, pad_r, pad_y = 10, 150, 14

    def y(v: float) -> float:
        return pad_y + (hi - v) / span * (h - 2 * pad_y)

    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setFont(QFont("DejaVu Sans", 9))
    for label, price, color in lines:
        if price is None:
            continue
        p.setPen(QPen(QColor(color), 1, Qt.PenStyle.DashLine))
        yy = y(float(price))
        p.drawLine(QPointF(pad_l, yy), QPointF(w - pad_r + 4, yy))
        p.drawText(QPointF(w - pad_r + 8, yy + 4), f"{label} {float(price):,.2f}")
    n = max(len(closes) - 1, 1)
    pts = QPolygonF([QPointF(pad_l + i / n * (w - pad_l - pad_r), y(c)) for i, c in enumerate(closes)])
    p.setPen(QPen(QColor(theme.TEXT), 1.4))
    p.drawPolyline(pts)
    p.end()
    if path is None:
        path = Path(tempfile.mkstemp(prefix="hexdesk-postmortem-", suffix=".png")[1])
    img.save(str(path))
    return path
