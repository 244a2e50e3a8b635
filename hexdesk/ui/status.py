"""The status bar's mode line: live or replay, always visible, and the live connection's state as it changes.

"Live · Binance USDⓈ-M futures · connected" / "… · reconnecting (attempt 3)" / "… · offline", or the replay's own
label ("Replay · BTCUSDT-2025-03, ETHUSDT-2025-03 (spot) · real funding"), followed, when ``hexdesk`` wanted live
and could not have it, by why not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QWidget

from hexdesk.ui import theme

if TYPE_CHECKING:  # the live client (httpx, websockets) loads with a live session, never before the first paint
    from hexdesk.market.binance import ConnectionState
    from hexdesk.service import LiveFeed, TradingDesk
    from hexdesk.ui.replay_bar import ReplayBar

__all__ = ["LIVE_PREFIX", "ModeStatus", "disable_replay_controls", "hold_replay_controls", "is_live", "live_text"]

LIVE_PREFIX = "Live · Binance USDⓈ-M futures"

# by ConnectionState.value (hexdesk.market.binance.client), so this module loads without the live client
_STATE_WORDS = {"connecting": "connecting", "live": "connected", "reconnecting": "reconnecting", "offline": "offline"}
_STATE_COLOURS = {"connecting": theme.MUTED, "live": theme.GREEN, "reconnecting": theme.ORANGE, "offline": theme.RED}


def is_live(desk: TradingDesk) -> bool:
    """A live desk has no replay to drive (``TradingDesk.replay`` is None; the start-up shell's has none either,
    and is no live desk: ui/shell.py)."""
    return getattr(desk, "replay", "none") is None and desk.opening is None


def live_text(state: ConnectionState, attempt: int = 0) -> str:
    """The status line of a live session in ``state``; ``attempt`` numbers a reconnection (0: not shown)."""
    words = _STATE_WORDS[state.value]
    if state.value == "reconnecting" and attempt > 0:
        words += f" (attempt {attempt})"
    return f"{LIVE_PREFIX} · {words}"


class ModeStatus(QLabel):
    """The mode line; a live window attaches its feed with :meth:`attach_feed`, a replay that fell back from live
    shows why with :meth:`set_note`."""

    def __init__(self, desk: TradingDesk, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="modeStatus")
        self.desk = desk
        self._note = ""
        self._state: ConnectionState | None = None
        self._attempt = 0
        self._detach: Callable[[], None] | None = None
        self._show()

    @property
    def state(self) -> ConnectionState | None:
        return self._state

    def attach_feed(self, feed: LiveFeed) -> None:
        """Follow ``feed``'s connection state from now on (the client reports every change)."""
        from hexdesk.market.binance import ConnectionState

        if self._detach is not None:
            self._detach()
        self._detach = feed.on_state(lambda state: self.set_connection(state, _attempt(feed)))
        state = feed.state
        if state is ConnectionState.OFFLINE and not feed.market.connections and not feed.market.reconnects:
            state = ConnectionState.CONNECTING  # not started yet: its first attempt is about to be made
        self.set_connection(state, _attempt(feed))

    def set_connection(self, state: ConnectionState, attempt: int = 0) -> None:
        self._state, self._attempt = state, attempt
        self._show()

    def set_note(self, note: str) -> None:
        """A few words after the mode (e.g. "live unavailable: <why>"); the whole line is also the tooltip."""
        self._note = note
        self._show()

    def _show(self) -> None:
        if self._state is not None:
            text = live_text(self._state, self._attempt)
            colour = _STATE_COLOURS[self._state.value]
        elif is_live(self.desk):
            from hexdesk.market.binance import ConnectionState

            text, colour = live_text(ConnectionState.CONNECTING), theme.MUTED
        else:
            text, colour = self.desk.mode_label, theme.MUTED
        if self._note:
            text += f" · {self._note}"
        self.setText(text)
        self.setToolTip(text)
        self.setStyleSheet(f"color: {colour}; padding: 0 8px;")


def _attempt(feed: LiveFeed) -> int:
    """The number of the reconnection under way: the client counts the drop itself as the first failure, and each
    failed reconnection after it, so the n-th reconnection is under way after n failures."""
    failures = getattr(feed.market, "_failures", 0)
    return max(int(failures), 1)


def disable_replay_controls(bar: ReplayBar) -> None:
    """Live prices cannot be paused, stepped, jumped or sped up: the replay controls are hidden and disabled, and
    say why (the bar's own refresh, which re-enables them for a replay, is replaced for this bar)."""
    why = "Live prices: the replay controls (play, step, jump, speed) apply to replay sessions only."

    def refresh() -> None:
        for w in (bar.playButton, bar.stepButton, bar.jumpHourButton, bar.jumpDayButton, bar.speedInput):
            w.setEnabled(False)
            w.setToolTip(why)
            w.setVisible(False)
        bar.clockLabel.setText("Live prices")
        bar.clockLabel.setToolTip(why)

    bar.refresh = refresh  # type: ignore[method-assign]
    refresh()


def hold_replay_controls(bar: ReplayBar, why: str) -> None:
    """The start-up shell's replay bar (ui/shell.py): nothing plays before the session is open, so the controls are
    disabled, in place (the bar keeps its layout), and say why; the session's own bar replaces this one."""

    def refresh() -> None:
        for w in (bar.playButton, bar.stepButton, bar.jumpHourButton, bar.jumpDayButton, bar.speedInput):
            w.setEnabled(False)
            w.setToolTip(why)

    bar.refresh = refresh  # type: ignore[method-assign]
    refresh()
