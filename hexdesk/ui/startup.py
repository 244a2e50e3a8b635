"""What the start guesses before anything heavy is imported (issue 10.3): the session the app will most likely
show, from the command line or from what the last run remembered, and what a run leaves for the next start.

Qt's core and the standard library only: the first frame (ui/first_frame.py) is painted from this guess before
numpy, pyqtgraph, the engine or the journal's libraries load; the start-up shell (ui/shell.py) then opens the same
guess on a desk that holds orders until the journal is open.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from hexdesk.market.candle_tail import CandleTail, bundled_tail
from hexdesk.service.defaults import DEFAULT_DATASETS, HISTORY_MS
from hexdesk.ui.chart_look import VISIBLE_BARS

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings

__all__ = [
    "BLIND_KEY", "CHART_RECT_KEY", "CLOCK_KEY", "DATASETS_KEY", "OPENING", "PRICE_DECIMALS_KEY", "SYMBOL_KEY",
    "ShellGuess", "chart_margins", "connecting_label", "first_tail", "guess", "opening_label", "price_decimals",
    "remember_session",
]

OPENING = "Opening the journal… orders are accepted as soon as it is open."

#: QSettings keys (ui/settings.py's file) of what the last run showed, read by the next start.
DATASETS_KEY = "startup/datasets"
CLOCK_KEY = "startup/clockMs"
BLIND_KEY = "startup/blind"
#: Where the chart sat in the window when it last closed: its distance from the left, top, right and bottom edges.
CHART_RECT_KEY = "startup/chartRect"
PRICE_DECIMALS_KEY = "startup/priceDecimals"  # the chart's price decimals (its symbol's tick size) at close
SYMBOL_KEY = "ticket/symbol"  # the ticket's symbol, which the chart follows (ui/settings.py)


@dataclass(frozen=True, slots=True)
class ShellGuess:
    """What the start shows first: the datasets and the replay clock the chart stops at (None: the default start)."""

    datasets: tuple[str, ...]
    clock_ms: int | None = None


class _Clocked(Protocol):
    @property
    def clock_ms(self) -> int | None: ...


def opening_label(shown: ShellGuess) -> str:
    """What the window says while the journal opens (the shell desk's mode label, the first frame's title)."""
    return f"Opening the journal… · {', '.join(shown.datasets)}"


def connecting_label(shown: ShellGuess) -> str:
    """What the first frame says while Binance is asked whether live prices can be had (no mode asked for)."""
    return f"Connecting to Binance… (no answer: replay of {', '.join(shown.datasets)})"


def guess(args: argparse.Namespace, settings: QSettings | None) -> ShellGuess | None:
    """What the app will most likely show for this command line: ``--dataset`` (a new session from its start), a
    new session of the default datasets, or the last session as the last run left it (``settings``). None when the
    start must not guess: a live session, or a blind one (its datasets and dates must never be shown)."""
    if getattr(args, "live", False):
        return None
    if args.dataset:
        return ShellGuess(tuple(dict.fromkeys(args.dataset)))
    fresh = args.new_session or args.balance is not None or args.funding_rate is not None
    if fresh or settings is None:
        return ShellGuess(DEFAULT_DATASETS)
    if str(settings.value(BLIND_KEY, "false")).lower() == "true":
        return None
    remembered = settings.value(DATASETS_KEY)
    if isinstance(remembered, str):  # QSettings gives a one-item list back as a string
        remembered = [remembered]
    if not isinstance(remembered, list) or not remembered or not all(isinstance(n, str) for n in remembered):
        return ShellGuess(DEFAULT_DATASETS)
    try:
        clock = int(str(settings.value(CLOCK_KEY)))
    except (TypeError, ValueError):
        clock = None
    return ShellGuess(tuple(remembered), clock)


def remember_session(desk: _Clocked, settings: QSettings, datasets: Sequence[str], *, blind: bool) -> None:
    """Keep what ``desk`` shows for the next start (called when the window closes)."""
    settings.setValue(DATASETS_KEY, list(datasets))
    settings.setValue(BLIND_KEY, blind)
    clock = desk.clock_ms
    if clock is not None:
        settings.setValue(CLOCK_KEY, int(clock))
    else:
        settings.remove(CLOCK_KEY)


def first_tail(shown: ShellGuess, settings: QSettings | None) -> CandleTail | None:
    """The candles the first frame paints for ``shown``: the remembered symbol's (the chart follows the ticket's
    symbol), else the first dataset's, up to the guessed clock. None when none is a bundled month read cleanly (a
    recorded or imported dataset: the start then goes on without a first frame)."""
    symbol = settings.value(SYMBOL_KEY) if settings is not None else None
    first = None
    for name in shown.datasets:
        try:
            tail = bundled_tail(name, VISIBLE_BARS, shown.clock_ms, HISTORY_MS)  # the chart's default view
        except ValueError:
            continue
        if tail.symbol == symbol:
            return tail if len(tail) else None
        first = first or tail
    return first if first is not None and len(first) else None


def chart_margins(settings: QSettings | None) -> tuple[int, int, int, int] | None:
    """The chart's remembered distances from the window's edges (:data:`CHART_RECT_KEY`), if a run left them."""
    value = settings.value(CHART_RECT_KEY) if settings is not None else None
    try:
        left, top, right, bottom = (int(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    return (left, top, right, bottom) if min(left, top, right, bottom) >= 0 else None


def price_decimals(settings: QSettings | None, tail: CandleTail) -> int:
    """Decimals for the first frame's prices: the chart's when the last run closed on the same symbol (its tick
    size: the engine is not loaded yet to say), else the file's."""
    if settings is not None and settings.value(SYMBOL_KEY) == tail.symbol:
        try:
            return max(0, min(int(str(settings.value(PRICE_DECIMALS_KEY))), tail.price_decimals))
        except (TypeError, ValueError):
            pass
    return tail.price_decimals
