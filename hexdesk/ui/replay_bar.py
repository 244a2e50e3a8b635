"""Replay controls: play/pause, step, speed, the replay's UTC clock and which session this is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from hexdesk.ui import format as fmt

if TYPE_CHECKING:
    from hexdesk.service import TradingDesk

#: Replay seconds per wall second. "max" is as fast as the machine goes (the replay caps it).
SPEEDS: dict[str, float] = {
    "1x": 1.0,
    "10x": 10.0,
    "60x": 60.0,
    "300x": 300.0,
    "1000x": 1000.0,
    "3600x": 3600.0,
    "max": 100_000.0,
}


class ReplayBar(QWidget):
    """A slim bar: the desk owns the replay, the bar only asks it to play, pause, step or change speed."""

    def __init__(self, desk: TradingDesk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.setObjectName("replayBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 10, 4)
        row.setSpacing(8)
        self.playButton = QPushButton(objectName="playButton", checkable=True)
        self.playButton.setToolTip("Play / pause the replay (Space)")
        self.playButton.setMinimumWidth(78)
        self.stepButton = QPushButton("Step ▸|", objectName="stepButton")
        self.stepButton.setToolTip("Advance one price step while paused")
        self.jumpHourButton = QPushButton("+1h »", objectName="jumpHourButton")
        self.jumpHourButton.setToolTip("Jump an hour ahead: every price on the way still reaches your orders")
        self.jumpDayButton = QPushButton("+1d »", objectName="jumpDayButton")
        self.jumpDayButton.setToolTip("Jump a day ahead: every price on the way still reaches your orders")
        self.speedInput = QComboBox(objectName="speedInput")
        self.speedInput.addItems(list(SPEEDS))
        self.speedInput.setToolTip("Replay speed: replay seconds per second")
        self.clockLabel = QLabel(fmt.NONE, objectName="clockLabel")
        self.modeLabel = QLabel(desk.mode_label, objectName="modeLabel")
        for w in (self.playButton, self.stepButton, self.jumpHourButton, self.jumpDayButton, self.speedInput):
            row.addWidget(w)
        row.addSpacing(12)
        row.addWidget(self.clockLabel)
        row.addStretch(1)
        row.addWidget(self.modeLabel)

        self.playButton.clicked.connect(self.toggle)
        self.stepButton.clicked.connect(self.desk.step)
        self.jumpHourButton.clicked.connect(lambda: self.desk.jump(60))
        self.jumpDayButton.clicked.connect(lambda: self.desk.jump(24 * 60))
        self.speedInput.currentTextChanged.connect(lambda text: self.desk.set_speed(SPEEDS[text]))
        self._ended = False
        self._tips = {b: b.toolTip() for b in (self.playButton, self.stepButton, self.jumpHourButton,
                                                self.jumpDayButton)}
        self.refresh()

    def toggle(self) -> None:
        """Play if paused, pause if playing."""
        if self.desk.paused:
            self.desk.play()
        else:
            self.desk.pause()
        self.refresh()

    def refresh(self) -> None:
        paused = self.desk.paused
        ended = self.desk.finished
        self.playButton.setChecked(not paused)
        self.playButton.setText("■ Ended" if ended else "▶ Play" if paused else "❚❚ Pause")
        self.stepButton.setEnabled(paused and not ended)
        for button in (self.playButton, self.jumpHourButton, self.jumpDayButton):
            button.setEnabled(not ended)
        clock = fmt.utc_clock(self.desk.clock_ms)
        self.clockLabel.setText(f"{clock} · end of data" if ended else clock)
        if ended != self._ended:
            self._ended = ended
            why = "The replay's data has ended: nothing left to replay. Start a new session to replay again."
            for button, tip in self._tips.items():
                button.setToolTip(why if ended else tip)
        speed_text = _speed_text(self.desk.speed)
        if self.speedInput.currentText() != speed_text:
            self.speedInput.blockSignals(True)
            self.speedInput.setCurrentText(speed_text)
            self.speedInput.blockSignals(False)


def _speed_text(speed: float) -> str:
    """The selector entry closest to the desk's speed (the desk may start at a speed set on the command line)."""
    return min(SPEEDS, key=lambda k: abs(SPEEDS[k] - speed))
