"""The trade journal: notes, setup, tags, mistakes, emotion and rating of one trade, a note for the session day, and
the chart screenshots taken at the trade's entry and exit (issue 7.4).

Edits save as they are typed: every change restarts a ~300 ms timer whose end writes the trade's fields through
``desk.save_trade_note`` (one journal transaction, committed before it returns), and leaving a field, switching
trade or closing the window writes at once. So a crash loses at most the last 300 ms of typing.

A trade is named by its ``trade_key`` (``"BTCUSDT:17"``: symbol and the engine trade id of the fill that opened it);
``show_trade(key)`` is what the Trades tab calls when a row is selected.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from hexdesk.ui import theme

if TYPE_CHECKING:
    from hexdesk.service import TradingDesk

SAVE_DELAY_MS = 300
RETRY_MS = 2_000  # while the journal cannot write, pending edits are tried again this often
EMOTIONS = ("", "calm", "confident", "patient", "anxious", "fearful", "greedy", "impatient", "bored", "frustrated",
            "FOMO", "revenge")
RATINGS = ("", "1", "2", "3", "4", "5")
THUMB_W, THUMB_H = 128, 72  # two side by side fit the panel's right column on a 1280-wide window


def parse_tags(text: str) -> tuple[str, ...]:
    """Comma-separated tags, trimmed, blanks dropped, each once (first spelling kept), in typed order."""
    seen: dict[str, str] = {}
    for raw in text.split(","):
        tag = " ".join(raw.split())
        if tag and tag.casefold() not in seen:
            seen[tag.casefold()] = tag
    return tuple(seen.values())


def day_of(ts_ms: int) -> str:
    """The UTC day of a replay time, as the journal keys day notes: ``2025-03-02``."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d")


class JournalPanel(QWidget):
    """One trade's journal entry and the session day's note, saved as typed."""

    saved = Signal(str)  # the trade_key whose note was just written

    def __init__(self, desk: TradingDesk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.store = DeskJournal(desk)
        self.setObjectName("journalPanel")
        self.trade_key: str | None = None
        self.day: str | None = None
        self._loading = False
        self._trade_dirty = False
        self._day_dirty = False
        self._save_timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.flush)
        self._build()
        self._set_trade_enabled(False)
        self.refresh_day()

    # --- layout ----------------------------------------------------------------------------------------

    def _build(self) -> None:
        # The fields sit in a scroll area: on a small window (800x600) the bottom tabs are short and narrow, and the
        # journal's natural size must not set the main window's minimum size; it scrolls instead.
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        body = QWidget(objectName="journalBody")
        scroll = QScrollArea(objectName="journalScroll")
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        outer.addWidget(scroll)
        row = QHBoxLayout(body)
        row.setContentsMargins(8, 6, 8, 6)
        row.setSpacing(10)

        form_box = QWidget()
        form = QFormLayout(form_box)
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(3)
        self.tradeLabel = QLabel("No trade selected", objectName="journalTrade")
        self.tradeLabel.setStyleSheet(f"color: {theme.MUTED};")
        self.setupInput = QComboBox(objectName="setupInput", editable=True)
        self.setupInput.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setupInput.lineEdit().setPlaceholderText("e.g. breakout retest")
        self.setupInput.setToolTip("The setup you traded: type a new one or pick one you named before")
        self.setupInput.lineEdit().setToolTip(self.setupInput.toolTip())
        self.tagsInput = QLineEdit(objectName="tagsInput", placeholderText="comma, separated")
        self.tagsInput.setToolTip("Tags for this trade, separated by commas (the statistics group trades by them)")
        self.mistakesInput = QLineEdit(objectName="mistakesInput", placeholderText="e.g. moved the stop")
        self.mistakesInput.setToolTip("What you did against your plan on this trade")
        self.emotionInput = QComboBox(objectName="emotionInput")
        self.emotionInput.setToolTip("How you felt while you took and managed the trade")
        self.emotionInput.addItems(list(EMOTIONS))
        self.ratingInput = QComboBox(objectName="ratingInput")
        self.ratingInput.addItems(list(RATINGS))
        self.ratingInput.setToolTip("How well you followed your plan, 1 (badly) to 5 (to the letter)")
        form.addRow("Trade", self.tradeLabel)
        form.addRow("Setup", self.setupInput)
        form.addRow("Tags", self.tagsInput)
        form.addRow("Mistakes", self.mistakesInput)
        form.addRow("Emotion", self.emotionInput)
        form.addRow("Rating", self.ratingInput)
        self.saveStatus = QLabel("", objectName="journalSaveStatus", wordWrap=True)
        self.saveStatus.setStyleSheet(f"color: {theme.RED};")
        self.saveStatus.hide()
        form.addRow(self.saveStatus)
        form_box.setMinimumWidth(200)  # 300 when there is room; less on a small window rather than a wider one
        form_box.setMaximumWidth(300)
        row.addWidget(form_box, 1)

        self.notesInput = QPlainTextEdit(objectName="notesInput")
        self.notesInput.setPlaceholderText("Why you took it, how you managed it, what you would do again…")
        self.notesInput.setMinimumWidth(160)  # narrower is unreadable: the panel scrolls sideways instead
        row.addWidget(_titled("Notes", self.notesInput), 1)

        right = QVBoxLayout()
        right.setSpacing(3)
        self.shotsBox = QWidget(objectName="screenshots")
        self.shotsRow = QHBoxLayout(self.shotsBox)
        self.shotsRow.setContentsMargins(0, 0, 0, 0)
        self.shotsRow.addStretch(1)
        shots_scroll = QScrollArea()
        shots_scroll.setWidget(self.shotsBox)
        shots_scroll.setWidgetResizable(True)
        shots_scroll.setFixedHeight(THUMB_H + 26)
        shots_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.shotsCaption = QLabel("Screenshots", objectName="shotsCaption")
        self.shotsCaption.setStyleSheet(f"color: {theme.MUTED};")
        right.addWidget(self.shotsCaption)
        right.addWidget(shots_scroll)
        self.dayCaption = QLabel("Day note", objectName="dayCaption")
        self.dayCaption.setStyleSheet(f"color: {theme.MUTED};")
        self.dayNoteInput = QPlainTextEdit(objectName="dayNoteInput")
        self.dayNoteInput.setPlaceholderText("The day: market mood, news, your state…")
        right.addWidget(self.dayCaption)
        right.addWidget(self.dayNoteInput, 1)
        right_box = QWidget()
        right_box.setLayout(right)
        row.addWidget(right_box, 1)
        self.thumbnails: list[QLabel] = []

        for edit in (self.tagsInput, self.mistakesInput, self.setupInput.lineEdit()):
            edit.textEdited.connect(self._trade_edited)
        self.notesInput.textChanged.connect(self._trade_edited)
        self.emotionInput.currentIndexChanged.connect(self._trade_edited)
        self.ratingInput.currentIndexChanged.connect(self._trade_edited)
        self.setupInput.currentIndexChanged.connect(self._trade_edited)
        self.dayNoteInput.textChanged.connect(self._day_edited)
        for w in (self.notesInput, self.tagsInput, self.mistakesInput, self.setupInput, self.emotionInput,
                  self.ratingInput, self.dayNoteInput):
            w.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusOut:
            self.flush()  # leaving a field writes at once
        return super().eventFilter(watched, event)

    def _set_trade_enabled(self, enabled: bool) -> None:
        for w in (self.setupInput, self.tagsInput, self.mistakesInput, self.emotionInput, self.ratingInput,
                  self.notesInput):
            w.setEnabled(enabled)

    # --- which trade / day -----------------------------------------------------------------------------

    def set_desk(self, desk: TradingDesk) -> None:
        """Journal another session: what was typed for the old one is written to it first."""
        self.flush()
        self.desk = desk
        self.store = DeskJournal(desk)
        self.trade_key = None
        self.day = None
        self._load_trade(None)
        self.refresh_day()

    def show_trade(self, trade_key: str | None) -> None:
        """Show (and edit) the journal entry of ``trade_key``; the previous trade's pending edits are saved."""
        if trade_key == self.trade_key:
            self.refresh_screenshots()
            return
        self.flush()
        self.trade_key = trade_key
        self._load_trade(trade_key)

    def _load_trade(self, trade_key: str | None) -> None:
        note = self.store.trade_note(trade_key) if trade_key is not None else None
        self._loading = True
        try:
            self._fill_setups()
            self.tradeLabel.setText(_trade_title(trade_key) if trade_key else "No trade selected")
            self.setupInput.setEditText(note.setup if note else "")
            self.tagsInput.setText(", ".join(note.tags if note else ()))
            self.mistakesInput.setText(note.mistakes if note else "")
            emotion = note.emotion if note else ""
            if emotion and self.emotionInput.findText(emotion) < 0:
                self.emotionInput.addItem(emotion)
            self.emotionInput.setCurrentText(emotion)
            rating = note.rating if note else None
            self.ratingInput.setCurrentText(str(rating) if rating else "")
            self.notesInput.setPlainText(note.notes if note else "")
        finally:
            self._loading = False
        self._trade_dirty = False
        writable = self.store.available
        self._set_trade_enabled(trade_key is not None and writable)
        if trade_key is not None and not writable:
            self.tradeLabel.setText(f"{_trade_title(trade_key)} (this session keeps no journal)")
        self.refresh_screenshots()

    def _fill_setups(self) -> None:
        """The setups used in this session so far, for the editable combo."""
        notes = self.store.trade_notes()
        setups = sorted({n.setup for n in notes.values() if n.setup}, key=str.casefold)
        text = self.setupInput.currentText()
        self.setupInput.blockSignals(True)
        self.setupInput.clear()
        self.setupInput.addItems(["", *setups])
        self.setupInput.setEditText(text)
        self.setupInput.blockSignals(False)

    def refresh_day(self) -> None:
        """Follow the replay clock's day: a new day saves the old day's note and loads the new one."""
        clock = self.desk.clock_ms
        day = day_of(clock) if clock is not None else None
        if day == self.day:
            return
        self._flush_day()
        self.day = day
        text = self.store.day_note(day) if day is not None else ""
        self._loading = True
        try:
            self.dayNoteInput.setPlainText(text)
        finally:
            self._loading = False
        self._day_dirty = False
        blind = bool(getattr(self.desk, "blind", False))
        self.dayCaption.setText("Day note" if day is None or blind else f"Day note · {day}")
        self.dayNoteInput.setEnabled(day is not None and self.store.available)

    # --- saving ----------------------------------------------------------------------------------------

    def _trade_edited(self, *_args: object) -> None:
        if self._loading or self.trade_key is None:
            return
        self._trade_dirty = True
        self._save_timer.start()

    def _day_edited(self) -> None:
        if self._loading or self.day is None:
            return
        self._day_dirty = True
        self._save_timer.start()

    def fields(self) -> dict[str, Any]:
        """The trade's fields as ``save_trade_note`` takes them: "" clears a text; a blank rating is None, which
        the contract reads as "leave unchanged" (a rating once given can be changed, not removed)."""
        rating = self.ratingInput.currentText()
        return {
            "notes": self.notesInput.toPlainText(),
            "setup": self.setupInput.currentText().strip(),
            "mistakes": self.mistakesInput.text().strip(),
            "emotion": self.emotionInput.currentText(),
            "rating": int(rating) if rating else None,
            "tags": parse_tags(self.tagsInput.text()),
        }

    def flush(self) -> None:
        """Write what is pending now (the debounce timer's end, leaving a field, switching trade, closing)."""
        self._save_timer.stop()
        if self._trade_dirty and self.trade_key is not None and self._write(
            lambda key=self.trade_key: self.store.save_trade_note(key, **self.fields())
        ):
            self._trade_dirty = False
            self.saved.emit(self.trade_key)
        self._flush_day()

    def _write(self, write: Callable[[], object]) -> bool:
        """Write through the journal; while it cannot write (disk full, read-only file) the edit stays pending
        (and is written by the next save) and the panel says so."""
        if not self.store.available:
            return False
        problem = self.store.problem()
        if problem is None:
            try:
                if write() is False:  # the desk could not write it (and now knows why)
                    problem = self.store.problem() or "the journal cannot write"
            except Exception as exc:  # the journal's write error: kept pending, said, retried
                problem = str(exc) or type(exc).__name__
        self.saveStatus.setText(f"Not saved yet: {problem}" if problem else "")
        self.saveStatus.setVisible(problem is not None)
        if problem is not None:
            self._save_timer.setInterval(RETRY_MS)
            self._save_timer.start()
        else:
            self._save_timer.setInterval(SAVE_DELAY_MS)
        return problem is None

    def _flush_day(self) -> None:
        if self._day_dirty and self.day is not None:
            day, text = self.day, self.dayNoteInput.toPlainText()
            if self._write(lambda: self.store.save_day_note(day, text)):
                self._day_dirty = False

    @property
    def pending(self) -> bool:
        """Edits typed but not written yet."""
        return self._trade_dirty or self._day_dirty

    # --- screenshots -----------------------------------------------------------------------------------

    def refresh_screenshots(self) -> None:
        """The selected trade's entry / exit screenshots as thumbnails (full size in the tooltip's size note)."""
        for label in self.thumbnails:
            self.shotsRow.removeWidget(label)
            label.deleteLater()
        self.thumbnails = []
        rows: Sequence[Any] = ()
        if self.trade_key is not None:
            rows = self.store.screenshots(self.trade_key)
        for row in rows:
            pixmap = QPixmap()
            data = self.store.png(row)
            if data is None or not pixmap.loadFromData(data, "PNG"):
                continue
            label = _Thumbnail(pixmap, objectName=f"thumb_{row.kind}")
            label.setPixmap(pixmap.scaled(THUMB_W, THUMB_H, Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.SmoothTransformation))
            label.setToolTip(f"{row.kind.title()}: click to see it full size")
            label.setProperty("kind", row.kind)
            self.shotsRow.insertWidget(self.shotsRow.count() - 1, label)
            self.thumbnails.append(label)
        n = len(self.thumbnails)
        kinds = " · ".join(r.kind.title() for r in rows)
        self.shotsCaption.setText(f"Screenshots ({kinds})" if n else "Screenshots: taken at entry and exit")


class _Thumbnail(QLabel):
    """A screenshot's thumbnail; a click shows the whole picture in a window of its own."""

    def __init__(self, full: QPixmap, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.full = full
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.viewer: QLabel | None = None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.open_viewer()
        super().mousePressEvent(event)

    def open_viewer(self) -> QLabel:
        viewer = QLabel(self.window(), Qt.WindowType.Window)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.setWindowTitle(f"{self.toolTip().split(':')[0]} screenshot")
        viewer.setPixmap(self.full)
        viewer.show()
        self.viewer = viewer
        return viewer


def _titled(title: str, widget: QWidget) -> QWidget:
    box = QWidget()
    col = QVBoxLayout(box)
    col.setContentsMargins(0, 0, 0, 0)
    col.setSpacing(3)
    caption = QLabel(title)
    caption.setStyleSheet(f"color: {theme.MUTED};")
    col.addWidget(caption)
    col.addWidget(widget, 1)
    return box


def _trade_title(trade_key: str) -> str:
    symbol, _, trade_id = trade_key.partition(":")
    return f"{symbol} · opened by trade #{trade_id}"


class DeskJournal:
    """The journal of the desk's session, for the UI (contract §3: ``desk.trade_note``, ``desk.save_trade_note``,
    ...). A desk with no session id keeps no journal: reads are empty and ``available`` is False."""

    def __init__(self, desk: Any) -> None:
        self.desk = desk

    @property
    def available(self) -> bool:
        """The session keeps a journal of trades (a desk without a journal file has no session id)."""
        return self.desk.session_id is not None

    def problem(self) -> str | None:
        """Why the journal cannot write just now (None: it can)."""
        if not self.available:
            return "this session keeps no journal"
        if not self.desk.journal_available:
            return self.desk.journal_problem or "the journal cannot write"
        return None

    def trade_note(self, trade_key: str) -> Any:
        return self.desk.trade_note(trade_key) if self.available else None

    def trade_notes(self) -> dict[str, Any]:
        return dict(self.desk.trade_notes()) if self.available else {}

    def save_trade_note(self, trade_key: str, **fields: Any) -> bool:
        """False when the desk could not write it (its ``journal_problem`` says why)."""
        return self.desk.save_trade_note(trade_key, **fields) is not False

    def day_note(self, day: str) -> str:
        return self.desk.day_note(day) if self.available else ""

    def save_day_note(self, day: str, text: str) -> bool:
        return self.desk.save_day_note(day, text) is not False

    def add_screenshot(self, trade_key: str, kind: str, png: bytes) -> None:
        self.desk.add_screenshot(trade_key, kind, png)

    def screenshots(self, trade_key: str) -> list[Any]:
        return list(self.desk.screenshots(trade_key)) if self.available else []

    def png(self, row: Any) -> bytes | None:
        """A stored screenshot's PNG bytes, asked of the desk by content hash (None if its file is gone)."""
        try:
            return self.desk.screenshot_png(row.sha256)
        except (OSError, KeyError, LookupError):
            return None
