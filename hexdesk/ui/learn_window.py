"""The Learn window: the concept library (hexdesk.service.lessons) and the liquidation post-mortems, searchable.

A filter box over a list of pages grouped as the library groups them; the page shows in a QTextBrowser from
Markdown. Keyboard: type to filter, Down/Up move into and through the list, Enter opens the page and moves focus to
it, Esc goes back to the filter. Links between terms (``lesson:ID``) open the other page; ``postmortem:N`` opens
the N-th liquidation's post-mortem. The Practice button asks for the page's exercise (``practiceRequested``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from hexdesk.service.lessons import Lesson, RenderedLesson, context_from_price, load_lessons, render, search
from hexdesk.ui import theme

if TYPE_CHECKING:
    from hexdesk.service import TradingDesk
    from hexdesk.service.lesson_examples import ExampleContext

POSTMORTEM_GROUP = "Why was I liquidated"
_ID = Qt.ItemDataRole.UserRole


class LearnWindow(QWidget):
    """The concept library as a window (non-modal, one per main window)."""

    practiceRequested = Signal(str)  # the exercise id of the page shown
    postmortemRequested = Signal(int)  # index into desk.liquidation_reports

    def __init__(self, desk: TradingDesk | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.desk = desk
        self.setObjectName("learnWindow")
        self.setWindowTitle("Learn · HexDesk")
        self.lessons = load_lessons()
        self._titles = {x.id: x.title for x in self.lessons}
        self.current: RenderedLesson | None = None
        self._rendered: dict[tuple[str, object], RenderedLesson] = {}
        self._charts = tempfile.TemporaryDirectory(prefix="hexdesk-learn-")  # post-mortem images, removed with us
        self.destroyed.connect(lambda _=None, d=self._charts: d.cleanup())

        self.filter = QLineEdit(placeholderText="Search concepts…  (↓ to the list, Enter to open)")
        self.filter.setObjectName("learnFilter")
        self.filter.setClearButtonEnabled(True)
        self.list = QListWidget(objectName="learnList")
        self.browser = QTextBrowser(objectName="learnPage")
        self.browser.setOpenLinks(False)
        self.browser.setOpenExternalLinks(False)
        self.browser.document().setDocumentMargin(18)
        self.practice_button = QPushButton("Practice the concept", objectName="learnPractice")
        self.practice_button.setToolTip("A guided exercise on real bundled data with 10,000 USDT of virtual balance")
        self.source = QLabel(objectName="learnSource")
        self.source.setStyleSheet(f"color: {theme.MUTED};")

        left = QWidget()
        lcol = QVBoxLayout(left)
        lcol.setContentsMargins(0, 0, 0, 0)
        lcol.addWidget(self.filter)
        lcol.addWidget(self.list, 1)
        right = QWidget()
        rcol = QVBoxLayout(right)
        rcol.setContentsMargins(0, 0, 0, 0)
        rcol.addWidget(self.browser, 1)
        row = QHBoxLayout()
        row.addWidget(self.source, 1)
        row.addWidget(self.practice_button)
        rcol.addLayout(row)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([260, 700])
        col = QVBoxLayout(self)
        col.addWidget(split)

        self.filter.textChanged.connect(self._refill)
        self.filter.installEventFilter(self)
        self.list.installEventFilter(self)
        self.list.currentItemChanged.connect(lambda cur, _prev: self._open_item(cur))
        self.browser.anchorClicked.connect(self._follow)
        self.practice_button.clicked.connect(self._practice)
        theme.apply(self)
        pal = self.browser.palette()  # after the theme: links in the accent colour on the panel
        pal.setColor(QPalette.ColorRole.Link, QColor(theme.ACCENT))
        pal.setColor(QPalette.ColorRole.Base, QColor(theme.PANEL))
        pal.setColor(QPalette.ColorRole.Text, QColor(theme.TEXT))
        self.browser.setPalette(pal)
        self._refill()
        self.resize(1000, 720)

    # --- the list -----------------------------------------------------------------------------------------

    def _reports(self) -> list:
        return list(getattr(self.desk, "liquidation_reports", []) or [])

    def _refill(self) -> None:
        """Rebuild the list for the filter text: group headings (not selectable), then the matching pages."""
        query = self.filter.text()
        hits = search(query, self.lessons)
        keep = self.current.lesson.id if self.current is not None else None
        self.list.blockSignals(True)
        self.list.clear()
        group = None
        for lesson in sorted(hits, key=lambda x: self.lessons.index(x)):
            if lesson.group != group:
                group = lesson.group
                self._heading(group)
            item = QListWidgetItem(lesson.title)
            item.setData(_ID, f"lesson:{lesson.id}")
            self.list.addItem(item)
        reports = self._reports()
        if reports and (not query or any(w in POSTMORTEM_GROUP.lower() for w in query.lower().split())):
            self._heading(POSTMORTEM_GROUP)
            for i, r in enumerate(reports):
                names = ", ".join(p.symbol for p in r.positions)
                item = QListWidgetItem(f"{names} ({r.margin_mode.value.lower()})")
                item.setData(_ID, f"postmortem:{i}")
                self.list.addItem(item)
        self.list.blockSignals(False)
        if query.strip() and hits:  # a search selects its best match (titles first)
            keep = hits[0].id
        target = self._row_of(f"lesson:{keep}") if keep else -1
        if target < 0:
            target = self._first_page_row()
        if target >= 0:
            self.list.setCurrentRow(target)
            if self.current is None:
                self._open_item(self.list.item(target))

    def _heading(self, text: str) -> None:
        head = QListWidgetItem(text.upper())
        head.setFlags(Qt.ItemFlag.NoItemFlags)
        head.setForeground(QColor(theme.MUTED))
        self.list.addItem(head)

    def _first_page_row(self) -> int:
        for i in range(self.list.count()):
            if self.list.item(i).data(_ID):
                return i
        return -1

    def _row_of(self, key: str) -> int:
        for i in range(self.list.count()):
            if self.list.item(i).data(_ID) == key:
                return i
        return -1

    def page_titles(self) -> list[str]:
        """The titles listed now (pages and post-mortems, no headings): for tests and accessibility."""
        return [self.list.item(i).text() for i in range(self.list.count()) if self.list.item(i).data(_ID)]

    # --- pages --------------------------------------------------------------------------------------------

    def _context(self) -> ExampleContext | None:
        """The desk's current BTCUSDT price when it has one (the examples then use what the trader sees)."""
        desk = self.desk
        if desk is None:
            return None
        for symbol in ("BTCUSDT", *getattr(desk, "symbols", ())):
            try:
                price = desk.last_price(symbol)
            except KeyError:
                continue
            if price is not None:
                return context_from_price(symbol, price, desk.exchange.now_ms)
        return None

    def _open_item(self, item: QListWidgetItem | None) -> None:
        key = item.data(_ID) if item is not None else None
        if not key:
            return
        kind, _, ident = key.partition(":")
        if kind == "lesson":
            self.open_lesson(ident)
        else:
            self.postmortemRequested.emit(int(ident))
            self.show_postmortem(int(ident))

    def open_lesson(self, lesson_id: str) -> RenderedLesson:
        """Show a page, its examples computed now by the engine; selects it in the list if it is listed."""
        lesson = next(x for x in self.lessons if x.id == lesson_id)
        ctx = self._context()
        key = (lesson.id, None if ctx is None else (ctx.symbol, ctx.price))
        page = self._rendered.get(key)
        if page is None:
            page = self._rendered[key] = render(lesson, ctx, self._titles)
        self.current = page
        self._show_markdown(page.markdown)
        self.practice_button.setEnabled(lesson.practice is not None)
        self.practice_button.setVisible(True)
        self.source.setText(f"Examples: {page.context.symbol} {page.context.price} · {page.context.source}")
        row = self._row_of(f"lesson:{lesson_id}")
        if row >= 0 and self.list.currentRow() != row:
            self.list.blockSignals(True)
            self.list.setCurrentRow(row)
            self.list.blockSignals(False)
        return page

    def show_postmortem(self, index: int) -> str:
        """Show the post-mortem of the desk's ``index``-th liquidation (Markdown from hexdesk.service.postmortem)."""
        from hexdesk.service.postmortem import path_candles, postmortem_markdown, stop_for_chart
        from hexdesk.ui.postmortem_chart import render_path_png

        report = self._reports()[index]
        chart = None
        found = path_candles(self.desk, report) if self.desk is not None else None
        if found is not None:
            start, end, series = found
            i, j = series.index_at(start), series.index_at(end)
            closes = [float(c) for c in series.close[max(0, i - 5) : j + 1]]
            p = report.positions[0]
            lines = [("entry", p.entry_price, theme.BLUE), ("liquidated", p.mark_price, theme.ORANGE),
                     ("1% stop", stop_for_chart(self.desk, report), theme.GREEN)]
            if len(closes) > 1:
                chart = render_path_png(closes, lines, Path(self._charts.name) / f"postmortem-{index}.png")
        md = postmortem_markdown(report, self.desk, chart_path=chart)
        self.current = None
        self._show_markdown(md)
        row = self._row_of(f"postmortem:{index}")
        if row >= 0:
            self.list.blockSignals(True)
            self.list.setCurrentRow(row)
            self.list.blockSignals(False)
        self.practice_button.setEnabled(True)
        self.source.setText("Post-mortem: every number from the engine's liquidation events")
        self._practice_id = "liquidation-watch"
        return md

    def _show_markdown(self, md: str) -> None:
        """Markdown into the browser, links recoloured in the theme's accent (Qt's importer paints them the
        application palette's link blue, unreadable on the dark panel)."""
        self.browser.setMarkdown(md)
        doc = self.browser.document()
        accent = QTextCharFormat()
        accent.setForeground(QColor(theme.ACCENT))
        block = doc.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                if frag.isValid() and frag.charFormat().isAnchor():
                    cur = QTextCursor(doc)
                    cur.setPosition(frag.position())
                    cur.setPosition(frag.position() + frag.length(), QTextCursor.MoveMode.KeepAnchor)
                    cur.mergeCharFormat(accent)
                it += 1
            block = block.next()

    def lesson(self) -> Lesson | None:
        return self.current.lesson if self.current is not None else None

    def _follow(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("lesson:"):
            self.open_lesson(text.removeprefix("lesson:"))
        elif text.startswith("postmortem:"):
            self.show_postmortem(int(text.removeprefix("postmortem:")))

    def _practice(self) -> None:
        lesson = self.lesson()
        exercise = lesson.practice if lesson is not None else getattr(self, "_practice_id", None)
        if exercise:
            self.practiceRequested.emit(exercise)

    def refresh(self) -> None:
        """Re-list (new liquidations appear under "Why was I liquidated")."""
        self._refill()

    # --- keyboard -----------------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        key = event.key()
        if watched is self.filter and key in (Qt.Key.Key_Down, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.list.setFocus()
            if key != Qt.Key.Key_Down:
                self._open_item(self.list.currentItem())
                self.browser.setFocus()
            return True
        if watched is self.list:
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._open_item(self.list.currentItem())
                self.browser.setFocus()
                return True
            if key == Qt.Key.Key_Escape:
                self.filter.setFocus()
                self.filter.selectAll()
                return True
        return False
