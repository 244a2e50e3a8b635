"""Price tags: the labels of the chart's price lines (last price, position entry, liquidation, TP / SL / limits).

Why not pyqtgraph's ``InfLineLabel``: each one places itself on its own line, so two close prices (the last price
and the position's entry, a stop next to the liquidation) printed one tag over the other; and it is a
``QGraphicsTextItem`` whose text change relays out a QTextDocument, the costliest part of a tick. Here every tag is a
filled box with one line of text drawn with ``QPainter.drawText``, and :func:`place_tags` puts all tags of a pane
at once: each at the right edge on its own line's height, the last-price tag first; a tag that would overlap an
already placed one moves left beside it, on the same height, so no two tags ever overlap and each stays on its line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hexdesk.ui.qt_compat import QtCore, QtGui, QtWidgets, pg

__all__ = ["TAG_GAP_PX", "CornerText", "PriceTag", "place_tags"]

TAG_GAP_PX = 3.0  # horizontal gap between tags placed side by side
_PAD_X = 4.0
_PAD_Y = 1.0
_LEFT = QtCore.Qt.AlignmentFlag.AlignVCenter | QtCore.Qt.AlignmentFlag.AlignLeft


def place_tags(
    sizes: Sequence[tuple[float, float] | None], centres_y: Sequence[float], right: float
) -> list[QtCore.QRectF | None]:
    """Rectangles for tags of ``sizes`` (width, height; None: not shown) centred on ``centres_y``, in priority order.

    Each tag goes to the right edge (``right``) at its own height; if it would overlap a tag placed before it, it
    moves left until its right side is ``TAG_GAP_PX`` left of everything it hit. Greedy and deterministic: the first
    tag never moves, and no two returned rectangles intersect.
    """
    placed: list[QtCore.QRectF] = []
    out: list[QtCore.QRectF | None] = []
    for size, cy in zip(sizes, centres_y, strict=True):
        if size is None:
            out.append(None)
            continue
        w, h = size
        edge = right
        while True:
            rect = QtCore.QRectF(edge - w, cy - h / 2, w, h)
            hits = [r for r in placed if r.intersects(rect)]
            if not hits:
                break
            edge = min(r.left() for r in hits) - TAG_GAP_PX
        placed.append(rect)
        out.append(rect)
    return out


class PriceTag(QtWidgets.QGraphicsObject):
    """The label of one price line, a child of the ViewBox (so its coordinates are the pane's pixels).

    Keeps the small part of ``InfLineLabel``'s interface the chart and the drag preview use: ``format`` (a
    ``str.format`` pattern, ``{value}`` being the line's price), ``setFormat``, ``setColor``, ``toPlainText``.
    The owner places it (``set_rect``) whenever its text, its line or the view changes (``on_change``).
    """

    def __init__(self, line: pg.InfiniteLine, view: pg.ViewBox, fmt: str, on_change: Callable[[], None]) -> None:
        super().__init__(view)
        self._line = line
        self._on_change = on_change
        self.format = fmt
        self._fill = QtGui.QBrush(QtGui.QColor("#363a45"))
        self._color = QtGui.QColor("#ffffff")
        self._font = QtGui.QFont()
        self._metrics = QtGui.QFontMetricsF(self._font)
        self._text = ""
        self._rect = QtCore.QRectF()
        self.setZValue(8)
        self.setVisible(False)
        line.sigPositionChanged.connect(self._value_changed)
        self._refresh_text()

    # ---- InfLineLabel-like interface ------------------------------------------------------------------------

    def setFormat(self, fmt: str) -> None:  # (InfLineLabel's name)
        self.format = fmt
        self._value_changed()

    def setColor(self, color: QtGui.QColor | str) -> None:
        self._color = QtGui.QColor(color)
        self.update()

    def set_fill(self, brush: QtGui.QBrush) -> None:
        self._fill = QtGui.QBrush(brush)
        self.update()

    def toPlainText(self) -> str:
        return self._text

    # ---- geometry --------------------------------------------------------------------------------------------

    @property
    def line(self) -> pg.InfiniteLine:
        return self._line

    def size(self) -> tuple[float, float]:
        """(width, height) of the tag for its current text."""
        return (self._metrics.horizontalAdvance(self._text) + 2 * _PAD_X, self._metrics.height() + 2 * _PAD_Y)

    def set_rect(self, rect: QtCore.QRectF | None) -> None:
        """Show the tag at ``rect`` (pane pixels), or hide it (None)."""
        if rect is None:
            self.setVisible(False)
            return
        if rect.size() != self._rect.size():
            self.prepareGeometryChange()
            self._rect = QtCore.QRectF(0, 0, rect.width(), rect.height())
        if self.pos() != rect.topLeft():
            self.setPos(rect.topLeft())
        self.setVisible(True)

    def scene_rect(self) -> QtCore.QRectF:
        """Where the tag is drawn, in scene coordinates (tests check that no two intersect)."""
        return self.mapRectToScene(self._rect)

    def boundingRect(self) -> QtCore.QRectF:
        return QtCore.QRectF(self._rect)

    def paint(self, p: QtGui.QPainter, opt: object, widget: object = None) -> None:
        p.fillRect(self._rect, self._fill)
        p.setFont(self._font)
        p.setPen(self._color)
        p.drawText(self._rect, QtCore.Qt.AlignmentFlag.AlignCenter, self._text)

    # ---- text ------------------------------------------------------------------------------------------------

    def _refresh_text(self) -> bool:
        text = self.format.format(value=float(self._line.value()))
        if text == self._text:
            return False
        self._text = text
        self.update()
        return True

    def _value_changed(self, *_: object) -> None:
        self._refresh_text()
        self._on_change()


class CornerText(QtWidgets.QGraphicsObject):
    """One line of text at a fixed place of its parent (the O H L C V line in the price pane's corner).

    pyqtgraph's ``TextItem`` re-lays out a QTextDocument on every ``setText``: ~0.1 ms, once a tick for this line.
    This measures the text with cached font metrics and draws it with one ``drawText``.
    """

    def __init__(self, parent: QtWidgets.QGraphicsItem, color: str) -> None:
        super().__init__(parent)
        self._color = QtGui.QColor(color)
        self._font = QtGui.QFont()
        self._metrics = QtGui.QFontMetricsF(self._font)
        self._text = ""
        self._rect = QtCore.QRectF()
        self.setZValue(8)

    def setText(self, text: str) -> None:  # (TextItem's name)
        if text == self._text:
            return
        self._text = text
        rect = QtCore.QRectF(0, 0, self._metrics.horizontalAdvance(text) + 2 * _PAD_X, self._metrics.height() + 4)
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        self.update()

    def setColor(self, color: QtGui.QColor | str) -> None:
        self._color = QtGui.QColor(color)
        self.update()

    def toPlainText(self) -> str:
        return self._text

    @property
    def textItem(self) -> CornerText:
        return self

    def boundingRect(self) -> QtCore.QRectF:
        return QtCore.QRectF(self._rect)

    def paint(self, p: QtGui.QPainter, opt: object, widget: object = None) -> None:
        p.setFont(self._font)
        p.setPen(self._color)
        p.drawText(self._rect.adjusted(_PAD_X, 0, 0, 0), _LEFT, self._text)
