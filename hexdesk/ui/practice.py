"""Practice dialogs: an exercise's brief with its goals checked live from the desk's engine events and a debrief,
and the isolated-vs-cross comparison side by side (hexdesk.service.exercises does every number)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from hexdesk.service.exercises import Exercise, ModeOutcome, compare_modes, debrief, goal_met, load_exercises
from hexdesk.service.lesson_examples import price, usdt
from hexdesk.ui import format as fmt
from hexdesk.ui import theme

if TYPE_CHECKING:
    from hexdesk.service import DeskChange, TradingDesk
    from hexdesk.ui.main_window import MainWindow


def comparison_markdown(exercise: Exercise, iso: ModeOutcome, cross: ModeOutcome) -> str:
    """The two outcomes side by side: isolated loses its margin and no more; cross shows how much of the wallet went."""

    def liq(o: ModeOutcome) -> str:
        return "not liquidated" if o.liquidated_ms is None else f"liquidated {fmt.utc_clock(o.liquidated_ms)}"

    rows = [
        ("Position", f"long {iso.quantity} at {price(iso.entry_price)}", f"long {cross.quantity} at "
         f"{price(cross.entry_price)}"),
        ("Initial margin", f"{usdt(iso.margin)} USDT", f"{usdt(cross.margin)} USDT (the whole wallet backs it)"),
        ("Liquidation price", price(iso.liquidation_price), price(cross.liquidation_price)),
        ("What happened", liq(iso), liq(cross)),
        ("Worst moment: equity", f"{usdt(iso.worst_equity)} USDT", f"{usdt(cross.worst_equity)} USDT"),
        ("Of the wallet, gone at worst", f"{usdt(iso.worst_loss)} USDT ({iso.worst_loss / iso.balance:.1%})",
         f"{usdt(cross.worst_loss)} USDT ({cross.worst_loss / cross.balance:.1%})"),
        ("Equity at the end of the run", f"{usdt(iso.wallet_end)} USDT", f"{usdt(cross.wallet_end)} USDT"),
    ]
    lines = [f"# {exercise.title}", "", exercise.intro, "",
             f"Data: {exercise.dataset}, from {fmt.utc_clock(exercise.start_ms)}"
             + (f" to {fmt.utc_clock(exercise.end_ms)}" if exercise.end_ms else "")
             + f"; balance {usdt(exercise.balance)} USDT.", "",
             "| | Isolated | Cross |", "|---|---:|---:|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines += ["", f"Isolated: the margin ({usdt(iso.margin)} USDT) and the fees were lost, and no more. Cross: the "
              f"position survived the fall that liquidated the isolated one, but at the worst moment "
              f"{usdt(cross.worst_loss)} USDT of the wallet was gone, and a deeper fall to "
              f"{price(cross.liquidation_price)} would have taken all of it."]
    return "\n".join(lines) + "\n"


class ComparisonDialog(QDialog):
    """The isolated-vs-cross exercise's outcome, computed headless on the bundled data when it opens."""

    def __init__(self, exercise: Exercise, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("practiceComparison")
        self.setWindowTitle(f"Practice · {exercise.title}")
        self.iso, self.cross = compare_modes(exercise)
        self.markdown = comparison_markdown(exercise, self.iso, self.cross)
        view = QTextBrowser()
        view.setMarkdown(self.markdown)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        col = QVBoxLayout(self)
        col.addWidget(view, 1)
        col.addWidget(buttons)
        theme.apply(self)
        self.resize(820, 480)


class PracticeDialog(QDialog):
    """An exercise: the brief (data, start, balance, suggested order), its goals ticked off from the desk's events
    as they happen, and the debrief with this session's numbers. Non-modal: the trader trades in the main window."""

    def __init__(
        self, exercise: Exercise, desk: TradingDesk | None, parent: QWidget | None = None, *, on_its_data: bool = False
    ) -> None:
        super().__init__(parent)
        self.setObjectName("practiceDialog")
        self.setModal(False)
        self.exercise = exercise
        self.desk = desk
        self.setWindowTitle(f"Practice · {exercise.title}")
        col = QVBoxLayout(self)
        brief = QLabel(
            f"<b>{exercise.title}</b><br>{exercise.intro}<br><br>"
            f"<span style='color:{theme.MUTED}'>Data</span> {exercise.dataset} from {fmt.utc_clock(exercise.start_ms)}"
            f" · <span style='color:{theme.MUTED}'>Balance</span> {usdt(exercise.balance)} USDT<br>"
            f"<span style='color:{theme.MUTED}'>Suggested order</span> {exercise.suggested_order()}"
        )
        brief.setWordWrap(True)
        brief.setTextFormat(Qt.TextFormat.RichText)
        col.addWidget(brief)
        self.status = QLabel(objectName="practiceGoals")
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setWordWrap(True)
        col.addWidget(self.status, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        self.start_button: QPushButton | None = None
        if not on_its_data:  # opened from the Learn window over some other session: offer the exercise's own data
            role = QDialogButtonBox.ButtonRole.ActionRole
            self.start_button = buttons.addButton(f"Start on {exercise.dataset}", role)
            self.start_button.setObjectName("practiceStart")
            self.start_button.clicked.connect(self._start)
        col.addWidget(buttons)
        self.started: tuple[MainWindow, PracticeDialog] | None = None
        self._unsubscribe = desk.subscribe(self._changed) if desk is not None else None
        self.finished.connect(lambda _=0: self._unsubscribe() if self._unsubscribe else None)
        theme.apply(self)
        self.refresh()
        self.resize(560, 360)

    def _start(self) -> None:
        self.started = start_exercise(self.exercise)
        self.close()

    def _changed(self, _change: DeskChange) -> None:
        self.refresh()

    def goals(self) -> list[tuple[str, bool]]:
        events = list(self.desk.exchange.events) if self.desk is not None else []
        return [(g.text, goal_met(g, events)) for g in self.exercise.goals]

    def refresh(self) -> None:
        events = list(self.desk.exchange.events) if self.desk is not None else []
        wallet = self.desk.account().wallet_balance if self.desk is not None else self.exercise.balance
        rows = debrief(self.exercise, events, wallet)
        html = "".join(
            f"<tr><td style='color:{theme.GREEN if v == 'met' else theme.TEXT}'>{k}</td><td>&nbsp;{v}</td></tr>"
            for k, v in rows
        )
        self.status.setText(f"<b>Goals and debrief</b><table>{html}</table>")


def start_exercise(exercise: Exercise) -> tuple[MainWindow, PracticeDialog]:
    """A practice window on the exercise's own data (dataset, start, balance; no journal) with its guide beside it.

    Inside the running application (qasync) the replay is driven like the main session's; without a running loop
    (tests) the caller feeds the desk."""
    from hexdesk.service import open_replay_session
    from hexdesk.ui.main_window import MainWindow

    desk = open_replay_session(None, (exercise.dataset,), balance=exercise.balance, start_ms=exercise.start_ms,
                               paused=True, name=f"Practice: {exercise.title}")
    window = MainWindow(desk)
    window.setWindowTitle(f"Practice · {exercise.title} · HexDesk")
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    task = None
    try:
        loop = asyncio.get_event_loop()
        if loop.is_running():
            task = loop.create_task(desk.run())
    except RuntimeError:
        loop = None

    def closed() -> None:
        if task is not None:
            task.cancel()
        desk.close()

    window.closed.connect(closed)
    window.show()
    guide = PracticeDialog(exercise, desk, window, on_its_data=True)
    guide.show()
    return window, guide


def open_practice(exercise_id: str, parent: QWidget | None = None) -> QDialog | None:
    """Open the exercise ``exercise_id``: the side-by-side comparison, or the guided exercise on the parent's desk."""
    exercise = load_exercises().get(exercise_id)
    if exercise is None:
        return None
    if any(g.kind == "compare_modes" for g in exercise.goals):
        dialog: QDialog = ComparisonDialog(exercise, parent)
    else:
        dialog = PracticeDialog(exercise, getattr(parent, "desk", None), parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    dialog.show()
    return dialog
