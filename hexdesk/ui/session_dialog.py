"""Practice sessions: start a new one, or open, rename, reset or delete a stored one (issue 7.2).

The dialog works against a session manager (``hexdesk.service.sessions.SessionManager``: ``list()``, ``new(spec)``,
``open(id)``, ``rename(id, name)``, ``reset(id)``, ``delete(id)``); it never builds a desk itself. When the manager
hands back a desk (new, open, reset) the dialog emits ``deskOpened(desk)`` and closes: the window switches to it
and the app closes the old one.

``WipeOutOffer`` is the small non-blocking prompt shown when a liquidation has left the wallet near zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from decimal import ROUND_DOWN, Decimal
from typing import Any, Protocol

from PySide6.QtCore import QDateTime, Qt, QTimeZone, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hexdesk.market.candles import BundledDataset, list_bundled
from hexdesk.service import DEFAULT_BALANCE, DEFAULT_DATASETS, DEFAULT_FUNDING_RATE, DEFAULT_SPEED, SessionSpec
from hexdesk.storage.views import SessionStatus, SessionSummary
from hexdesk.ui import format as fmt
from hexdesk.ui import theme
from hexdesk.ui.number_field import NumberField
from hexdesk.ui.replay_bar import SPEEDS

MAX_BALANCE = Decimal("1000000000")  # as the command line: 1e9 USDT
MAX_FUNDING_PCT = Decimal("0.3")  # ±0.3% per 8 h: Binance's cap on BTCUSDT / ETHUSDT
DAY_MS = 24 * 60 * 60 * 1000


class SessionManagerLike(Protocol):
    """What the dialog needs of ``hexdesk.service.sessions.SessionManager``."""

    def list(self) -> Sequence[Any]: ...
    def new(self, spec: Any) -> Any: ...
    def open(self, session_id: int) -> Any: ...
    def rename(self, session_id: int, name: str) -> None: ...
    def reset(self, session_id: int) -> Any: ...
    def delete(self, session_id: int) -> None: ...


@dataclass(frozen=True, slots=True)
class NewSessionSpec:
    """What the New tab asks for; handed to the manager as its ``SessionSpec`` (see :func:`make_spec`).

    ``start_ms`` None = start after the first day (the first day is shown as history); ``blind`` with no
    ``start_ms``: the session manager draws the start at random (``SessionSpec``'s rule, one source of truth).
    """

    name: str
    balance: Decimal
    datasets: tuple[str, ...]
    start_ms: int | None = None
    blind: bool = False
    speed: float = DEFAULT_SPEED
    funding_rate: Decimal = DEFAULT_FUNDING_RATE


def make_spec(spec: NewSessionSpec) -> SessionSpec:
    """The service's ``SessionSpec`` built from the dialog's values."""
    return SessionSpec(
        name=spec.name, balance=spec.balance, datasets=spec.datasets, start_ms=spec.start_ms, blind=spec.blind,
        speed=spec.speed, funding_rate=spec.funding_rate,
    )


def balance_rule(value: Decimal) -> str | None:
    """A starting balance as the command line accepts it: above 0, at most 1e9, at most 8 decimals."""
    if value <= 0:
        return "The starting balance must be above 0 USDT."
    if value > MAX_BALANCE:
        return f"At most {MAX_BALANCE:,} USDT."
    if fmt.decimals_of(value) > 8:
        return "At most 8 decimals."
    return None


def funding_rule(value: Decimal) -> str | None:
    if abs(value) > MAX_FUNDING_PCT:
        return f"Binance caps funding at ±{MAX_FUNDING_PCT}% per 8 h."
    if fmt.decimals_of(value) > 4:
        return "At most 4 decimals (0.0001%)."
    return None


def count_round_trips(fills: Sequence[Any]) -> int:
    """Round trips opened by ``fills`` (in order): each fill that takes a symbol's position away from flat, or
    through zero, opens one (the contract's trade_key is that fill's trade id)."""
    held: dict[str, Decimal] = {}
    opened = 0
    for f in fills:
        before = held.get(f.symbol, Decimal(0))
        after = before + f.side.sign * f.quantity
        held[f.symbol] = after
        if after and (not before or (before > 0) != (after > 0)):
            opened += 1
    return opened


def _trade_count(manager: Any, summary: Any) -> int | None:
    """The session's round trips, counted from the journal's fills (a summary may carry its own count)."""
    count = getattr(summary, "trade_count", None)  # the UI tests' stand-in summaries carry it; the journal's do not
    if count is not None:
        return int(count)
    try:
        return count_round_trips(manager.journal.fills(summary.id))
    except Exception:  # a session the journal cannot read is listed all the same
        return None


def _summary_text(summary: SessionSummary, trades: int | None = None) -> dict[str, str]:
    """One session list row from a ``SessionSummary``."""
    start = Decimal(summary.start_balance)
    net = Decimal(summary.net_pnl)
    balance = start + net
    trades_text = f"{summary.fill_count} fills" if trades is None else str(trades)
    last = summary.last_used_at or summary.started_at
    last_text = last.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    status = "imported" if summary.journal_only else str(summary.status)
    return {
        "id": str(summary.id),
        "name": summary.name,
        "status": str(status),
        "balance": fmt.usdt(balance),
        "pnl": fmt.usdt(net, sign=True),
        "trades": trades_text,
        "last": last_text,
        "net": str(net),
    }


# The theme styles check boxes only; radio buttons and list check boxes would be invisible on its dark panels.
INDICATORS = f"""
QRadioButton {{ background: transparent; }}
QRadioButton::indicator {{ width: 12px; height: 12px; border: 1px solid {theme.MUTED}; border-radius: 7px; }}
QRadioButton::indicator:checked {{ background: {theme.ACCENT}; border-color: {theme.ACCENT}; }}
QListWidget::indicator {{ width: 12px; height: 12px; border: 1px solid {theme.MUTED}; border-radius: 2px; }}
QListWidget::indicator:checked {{ background: {theme.ACCENT}; border-color: {theme.ACCENT}; }}
"""

COLUMNS = (("id", "#"), ("name", "Name"), ("status", "Status"), ("balance", "Balance"), ("pnl", "P&L"),
           ("trades", "Trades"), ("last", "Last used (UTC)"))


class SessionDialog(QDialog):
    """Sessions tab (the stored ones) and New tab (start one). ``deskOpened`` carries the desk to switch to."""

    deskOpened = Signal(object)

    def __init__(
        self,
        manager: SessionManagerLike,
        current_id: int | None = None,
        parent: QWidget | None = None,
        *,
        datasets: Sequence[BundledDataset] | None = None,
    ) -> None:
        super().__init__(parent)
        self.manager = manager
        self.current_id = current_id
        self.desk: Any = None  # the desk opened by the last successful action
        self.summaries: list[SessionSummary] = []  # filled by reload()
        self.datasets = list(datasets) if datasets is not None else list_bundled()
        self.setObjectName("sessionDialog")
        self.setWindowTitle("Sessions — HexDesk")
        theme.apply(self)
        self.setStyleSheet(self.styleSheet() + INDICATORS)
        self.resize(760, 480)
        self.tabs = QTabWidget(objectName="sessionTabs")
        self.tabs.addTab(self._build_list(), "Sessions")
        self.tabs.addTab(self._build_new(), "New session")
        col = QVBoxLayout(self)
        col.addWidget(self.tabs)
        self.reload()

    # --- sessions tab ----------------------------------------------------------------------------------

    def _build_list(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        self.table = QTableWidget(0, len(COLUMNS), objectName="sessionTable")
        self.table.setHorizontalHeaderLabels([title for _, title in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.open_selected())
        col.addWidget(self.table, 1)
        self.listMessage = QLabel("", objectName="listMessage", wordWrap=True)
        col.addWidget(self.listMessage)
        row = QHBoxLayout()
        self.openButton = QPushButton("Open", objectName="openButton")
        self.renameButton = QPushButton("Rename…", objectName="renameButton")
        self.resetButton = QPushButton("Reset…", objectName="resetButton")
        self.resetButton.setToolTip("Start this session again from its beginning; the old one is kept, archived "
                                    "and read-only")
        self.deleteButton = QPushButton("Delete…", objectName="deleteButton")
        self.openButton.clicked.connect(self.open_selected)
        self.renameButton.clicked.connect(lambda: self.rename_selected())
        self.resetButton.clicked.connect(self.reset_selected)
        self.deleteButton.clicked.connect(self.delete_selected)
        for b in (self.openButton, self.renameButton, self.resetButton, self.deleteButton):
            row.addWidget(b)
        row.addStretch(1)
        col.addLayout(row)
        return page

    def reload(self) -> None:
        """Re-read the manager's list, keeping the selection."""
        keep = self.selected_id()
        self.summaries = list(self.manager.list())
        self.table.setRowCount(len(self.summaries))
        for r, summary in enumerate(self.summaries):
            texts = _summary_text(summary, _trade_count(self.manager, summary))
            for c, (key, _title) in enumerate(COLUMNS):
                item = QTableWidgetItem(texts[key])
                if key in ("balance", "pnl", "trades", "id"):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if key == "pnl":
                    item.setForeground(QColor(theme.pnl_color(Decimal(texts["net"]))))
                if summary.id == self.current_id and key == "name":
                    item.setText(f"{texts[key]}  (open now)")
                self.table.setItem(r, c, item)
        for r, summary in enumerate(self.summaries):
            if summary.id == keep:
                self.table.selectRow(r)
        self._update_buttons()

    def selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.summaries else []
        return self.summaries[rows[0].row()].id if rows else None

    def select_session(self, session_id: int) -> None:
        for r, summary in enumerate(self.summaries):
            if summary.id == session_id:
                self.table.selectRow(r)

    def _selected(self) -> Any | None:
        sid = self.selected_id()
        return next((s for s in self.summaries if s.id == sid), None)

    def _update_buttons(self) -> None:
        s = self._selected()
        archived = s is not None and s.status == SessionStatus.ARCHIVED
        read_only = s is not None and s.read_only
        current = s is not None and s.id == self.current_id
        self.openButton.setEnabled(s is not None and not current and not read_only)
        self.openButton.setToolTip(
            "Kept read-only (archived by a reset, or imported real trades): nothing can be traded in it"
            if read_only else ""
        )
        self.renameButton.setEnabled(s is not None)
        self.resetButton.setEnabled(s is not None and not archived)
        self.deleteButton.setEnabled(s is not None and not current)
        self.deleteButton.setToolTip("The session open now cannot be deleted: open another first" if current else "")

    def _say(self, text: str, error: bool = False) -> None:
        self.listMessage.setText(text)
        self.listMessage.setStyleSheet(f"color: {theme.RED if error else theme.MUTED};")

    def _attempt(self, what: str, action: Callable[[], Any]) -> Any:
        """Run a manager call; a failure is said in the dialog (and None returned), never raised at the user."""
        try:
            return action()
        except Exception as exc:  # the manager's failure is shown, the dialog stays usable
            self._say(f"Could not {what}: {exc}", error=True)
            return None

    def confirm(self, title: str, text: str) -> bool:
        """Ask yes / no (tests replace this)."""
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def ask_name(self, current: str) -> str | None:
        """Ask for a new name (tests replace this)."""
        name, ok = QInputDialog.getText(self, "Rename session", "Name:", QLineEdit.EchoMode.Normal, current)
        return name if ok else None

    def open_selected(self) -> None:
        s = self._selected()
        if s is None or s.id == self.current_id:
            return
        desk = self._attempt(f"open “{s.name}”", lambda: self.manager.open(s.id))
        if desk is not None:
            self._opened(desk)

    def rename_selected(self, name: str | None = None) -> None:
        s = self._selected()
        if s is None:
            return
        name = self.ask_name(s.name) if name is None else name
        if name is None or not name.strip() or name.strip() == s.name:
            return
        self._attempt("rename", lambda: self.manager.rename(s.id, name.strip()))
        self.reload()

    def reset_selected(self) -> None:
        s = self._selected()
        if s is None or not self.confirm(
            "Reset session",
            f"Start “{s.name}” again from its beginning?\n\nThe session as it stands is kept, archived and "
            "read-only; a fresh copy with the same settings is opened.",
        ):
            return
        desk = self._attempt(f"reset “{s.name}”", lambda: self.manager.reset(s.id))
        if desk is not None:
            self._opened(desk)

    def delete_selected(self) -> None:
        s = self._selected()
        if s is None or s.id == self.current_id or not self.confirm(
            "Delete session",
            f"Delete the session “{s.name}” (#{s.id}) for good?\n\nIts trades, orders, notes and screenshots "
            "are removed from the journal. This cannot be undone.",
        ):
            return
        self._attempt(f"delete “{s.name}”", lambda: self.manager.delete(s.id))
        self._say(f"Deleted “{s.name}”.")
        self.reload()

    def _opened(self, desk: Any) -> None:
        self.desk = desk
        self.deskOpened.emit(desk)
        self.accept()

    # --- new tab ---------------------------------------------------------------------------------------

    def _build_new(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.nameInput = QLineEdit(objectName="nameInput", placeholderText="e.g. March breakouts")
        form.addRow("Name", self.nameInput)

        self.balanceInput = NumberField("balanceInput", "a starting balance", required=True, rule=balance_rule,
                                        places=2)
        self.balanceInput.setValue(DEFAULT_BALANCE)
        form.addRow("Starting balance (USDT)", self.balanceInput)
        form.addRow("", self.balanceInput.message_label)

        self.datasetList = QListWidget(objectName="datasetList")
        self.datasetList.setMaximumHeight(96)
        for d in self.datasets:
            item = QListWidgetItem(f"{d.name}   ({fmt.utc_clock(d.first_open_ms)[:10]} to "
                                   f"{fmt.utc_clock(d.last_open_ms)[:10]})")
            item.setData(Qt.ItemDataRole.UserRole, d.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if d.name in DEFAULT_DATASETS else Qt.CheckState.Unchecked)
            self.datasetList.addItem(item)
        self.datasetList.itemChanged.connect(lambda _i: self._datasets_changed())
        form.addRow("Datasets (one per symbol)", self.datasetList)

        self.startAfterFirstDay = QRadioButton("After the first day (shown as history)", objectName="startFirstDay")
        self.startAtDate = QRadioButton("At a date:", objectName="startAtDate")
        self.startBlind = QRadioButton("At a random moment, blind", objectName="startBlind")
        self.startBlind.setToolTip("The start is drawn at random within the data, and the session is marked blind "
                                   "so its dates can be kept from you: practise without knowing what came next")
        self.startAfterFirstDay.setChecked(True)
        self.startGroup = QButtonGroup(self)
        for b in (self.startAfterFirstDay, self.startAtDate, self.startBlind):
            self.startGroup.addButton(b)
        self.startDate = QDateTimeEdit(objectName="startDate")
        self.startDate.setTimeZone(QTimeZone.utc())
        self.startDate.setDisplayFormat("yyyy-MM-dd HH:mm 'UTC'")
        self.startDate.setCalendarPopup(True)
        self.startDate.dateTimeChanged.connect(lambda _d: self.startAtDate.setChecked(True))
        start_col = QVBoxLayout()
        start_col.setSpacing(2)
        start_col.addWidget(self.startAfterFirstDay)
        at_row = QHBoxLayout()
        at_row.addWidget(self.startAtDate)
        at_row.addWidget(self.startDate)
        at_row.addStretch(1)
        start_col.addLayout(at_row)
        start_col.addWidget(self.startBlind)
        form.addRow("Start", start_col)

        self.speedInput = QComboBox(objectName="newSpeedInput")
        self.speedInput.addItems(list(SPEEDS))
        self.speedInput.setCurrentText(next((k for k, v in SPEEDS.items() if v == DEFAULT_SPEED), "60x"))
        form.addRow("Speed", self.speedInput)
        self.fundingInput = NumberField("fundingInput", "a funding rate", required=True, rule=funding_rule, places=2)
        self.fundingInput.setValue(DEFAULT_FUNDING_RATE * 100)
        self.fundingInput.hint = "Per 8 h, in %: 0.01 is Binance's baseline; longs pay when positive"
        self.fundingInput.setToolTip(self.fundingInput.hint)
        form.addRow("Funding rate (% per 8 h)", self.fundingInput)
        form.addRow("", self.fundingInput.message_label)

        self.newMessage = QLabel("", objectName="newMessage", wordWrap=True)
        self.newMessage.setStyleSheet(f"color: {theme.RED};")
        self.createButton = QPushButton("Start session", objectName="createButton")
        self.createButton.setDefault(True)
        self.createButton.clicked.connect(self.create)
        buttons = QHBoxLayout()
        buttons.addWidget(self.newMessage, 1)
        buttons.addWidget(self.createButton)
        form.addRow(buttons)
        self._datasets_changed()
        return page

    def checked_datasets(self) -> tuple[str, ...]:
        items = (self.datasetList.item(i) for i in range(self.datasetList.count()))
        return tuple(i.data(Qt.ItemDataRole.UserRole) for i in items if i.checkState() == Qt.CheckState.Checked)

    def set_datasets(self, names: Sequence[str]) -> None:
        for i in range(self.datasetList.count()):
            item = self.datasetList.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in names
                               else Qt.CheckState.Unchecked)

    def _span(self) -> tuple[int, int] | None:
        """(first open, last open) shared by the chosen datasets."""
        chosen = [d for d in self.datasets if d.name in self.checked_datasets()]
        if not chosen:
            return None
        return min(d.first_open_ms for d in chosen), max(d.last_open_ms for d in chosen)

    def _datasets_changed(self) -> None:
        span = self._span()
        if span is None:
            return
        first, last = span
        was = self.startDate.blockSignals(True)
        try:
            self.startDate.setMinimumDateTime(QDateTime.fromMSecsSinceEpoch(first + 60_000, QTimeZone.utc()))
            self.startDate.setMaximumDateTime(QDateTime.fromMSecsSinceEpoch(last, QTimeZone.utc()))
            self.startDate.setDateTime(QDateTime.fromMSecsSinceEpoch(first + DAY_MS, QTimeZone.utc()))
        finally:
            self.startDate.blockSignals(was)

    def spec_problem(self) -> str | None:
        """Why the New tab cannot start a session now (None when it can)."""
        problem = self.balanceInput.problem()
        if problem:
            return f"Starting balance: {problem}"
        problem = self.fundingInput.problem()
        if problem:
            return f"Funding rate: {problem}"
        names = self.checked_datasets()
        if not names:
            return "Choose at least one dataset."
        symbols: dict[str, str] = {}
        for name in names:
            symbol = name.split("-", 1)[0]
            if symbol in symbols:
                return f"{symbols[symbol]} and {name} both replay {symbol}: choose one dataset per symbol."
            symbols[symbol] = name
        return None

    def spec(self) -> NewSessionSpec:
        """The session the New tab describes (call :meth:`spec_problem` first)."""
        names = self.checked_datasets()
        start_ms: int | None = None
        blind = self.startBlind.isChecked()
        if self.startAtDate.isChecked():
            start_ms = self.startDate.dateTime().toMSecsSinceEpoch()
            start_ms -= start_ms % 60_000
        balance = self.balanceInput.value()
        funding = self.fundingInput.value()
        assert balance is not None and funding is not None
        name = self.nameInput.text().strip() or ("Blind session" if blind else f"Replay · {', '.join(names)}")
        return NewSessionSpec(
            name=name,
            balance=balance,
            datasets=names,
            start_ms=start_ms,
            blind=blind,
            speed=SPEEDS[self.speedInput.currentText()],
            funding_rate=funding / 100,
        )

    def create(self) -> None:
        """Start the session the New tab describes and switch to it."""
        problem = self.spec_problem()
        self.newMessage.setText(problem or "")
        if problem:
            return
        spec = make_spec(self.spec())
        try:
            desk = self.manager.new(spec)
        except Exception as exc:  # shown in the dialog
            self.newMessage.setText(f"Could not start the session: {exc}")
            return
        self._opened(desk)


class WipeOutOffer(QWidget):
    """"The wallet is nearly empty: start a new session?" A small non-modal panel; it never stops the replay."""

    newSessionRequested = Signal()

    def __init__(self, equity: Decimal, start_balance: Decimal, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Tool)
        self.setObjectName("wipeOutOffer")
        self.setWindowTitle("Start again?")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        theme.apply(self)
        pct = (equity / start_balance * 100).quantize(Decimal("0.01"), ROUND_DOWN) if start_balance else Decimal(0)
        self.text = QLabel(
            f"The liquidation left {fmt.usdt(equity)} USDT, {pct}% of the {fmt.usdt(start_balance)} USDT you "
            "started with. Little can be practised with what is left: start a new session? (This one stays in "
            "the journal.)",
            objectName="wipeOutText", wordWrap=True,
        )
        self.newButton = QPushButton("New session…", objectName="wipeOutNew")
        self.newButton.setDefault(True)
        self.laterButton = QPushButton("Not now", objectName="wipeOutLater")
        self.newButton.clicked.connect(self._new)
        self.laterButton.clicked.connect(self.close)
        col = QVBoxLayout(self)
        col.addWidget(self.text)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.laterButton)
        row.addWidget(self.newButton)
        col.addLayout(row)
        self.setFixedWidth(420)

    def _new(self) -> None:
        self.newSessionRequested.emit()
        self.close()
