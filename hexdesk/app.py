"""Composition root: market feed -> engine -> journal -> UI, on one qasync event loop.

``hexdesk`` opens the workstation replaying bundled Binance candles (live streams come in a later step);
``hexdesk --screenshot PATH`` renders the window offscreen after a few seconds of replay and exits.

Start-up (issue 10.3, docs/architecture.md "Start-up"): Qt, the window and the chart of the session the app will
most likely show are painted first (hexdesk/ui/shell.py), with orders held; the journal (sqlmodel, SQLAlchemy,
Alembic: imported only then) is opened right after the first paint, the session is resumed or started from it and
handed to the window, which then takes orders. ``HEXDESK_EXIT_AFTER_FIRST_PAINT=1`` (benchmarks/cold_start.py)
prints when the chart was first painted and when orders were accepted, and exits there.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from hexdesk import __version__

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Awaitable, Callable
    from concurrent.futures import Future

    from PySide6.QtWidgets import QApplication, QWidget

    from hexdesk.service import TradingDesk
    from hexdesk.service.modes import LiveSession, ModeChoice, ModeRequest
    from hexdesk.storage.journal import Journal
    from hexdesk.ui.first_frame import FirstFrame, FramePaint
    from hexdesk.ui.main_window import MainWindow
    from hexdesk.ui.shell import FirstPaint
    from hexdesk.ui.startup import ShellGuess

os.environ.setdefault("QT_API", "pyside6")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

PROBE_ENV = "HEXDESK_EXIT_AFTER_FIRST_PAINT"  # benchmarks/cold_start.py: report the start-up times, then exit
PROBE_PREFIX = "HEXDESK_COLD_START"


MAX_BALANCE = Decimal("1000000000")  # 1e9 USDT: beyond any account a trainer needs, far below absurd magnitudes
MAX_FUNDING_RATE = Decimal("0.003")  # ±0.3% per 8 h: Binance's BTCUSDT / ETHUSDT funding-rate cap and floor


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad value in ONE line (no usage block) and exits 2: "hexdesk: --speed 0: ..."."""

    def error(self, message: str) -> NoReturn:
        message = re.sub(r"^argument (\S+?)(?:/\S+)?: ", r"\1 ", message)
        self.exit(2, f"{self.prog}: {message}\n")


def _dataset(text: str) -> str:
    from hexdesk.market.library import dataset_names

    names = dataset_names()  # bundled, then the data library's (hexdesk data list)
    if text not in names:
        raise argparse.ArgumentTypeError(f"{text}: not a dataset (hexdesk data list); choose one of {', '.join(names)}")
    return text


def _finite_decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except ArithmeticError:
        return None
    return value if value.is_finite() else None


def _balance(text: str) -> Decimal:
    value = _finite_decimal(text)
    if value is None or not 0 < value <= MAX_BALANCE or value != value.quantize(Decimal("1e-8")):
        raise argparse.ArgumentTypeError(
            f"{text}: not a starting balance; give USDT above 0 and at most {MAX_BALANCE:,}, e.g. 10000"
        )
    return value


def _speed(text: str) -> float:
    from hexdesk.market.replay import MAX_SPEED

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_SPEED:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(
            f"{text}: not a replay speed; give replay seconds per second above 0 and at most {MAX_SPEED:,.0f}, "
            "e.g. 60"
        )
    return value


def _funding_rate(text: str) -> Decimal:
    value = _finite_decimal(text)
    if value is None or abs(value) > MAX_FUNDING_RATE:
        raise argparse.ArgumentTypeError(
            f"{text}: not a funding rate; give a rate per 8 h from -{MAX_FUNDING_RATE} to {MAX_FUNDING_RATE} "
            "(Binance's cap), e.g. 0.0001 = 0.01%"
        )
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 86_400:
        raise argparse.ArgumentTypeError(f"{text}: give seconds from 0 to 86400")
    return value


def _session_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: not a session id; give the number the session list shows, e.g. 3")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; a bad value ends the program here with one line on stderr and exit status 2."""
    p = _Parser(prog="hexdesk", description="HexDesk: practise Binance USDⓈ-M futures safely.")
    p.add_argument("--version", action="version", version=f"hexdesk {__version__}")
    p.add_argument("--offline", action="store_true", help="replay bundled candles (the default without internet)")
    p.add_argument("--live", action="store_true", help="Binance's live prices, or exit 2 saying why not")  # 8.5
    p.add_argument("--db", metavar="PATH", help="journal SQLite file (default: HEXDESK_DB or the user data dir)")
    p.add_argument(
        "--dataset",
        action="append",
        type=_dataset,
        metavar="NAME",
        help="bundled dataset to replay, repeatable, one per symbol (default: BTCUSDT-2025-03 and ETHUSDT-2025-03)",
    )
    p.add_argument("--speed", type=_speed, default=None, help="replay speed, replay seconds per second (default 60)")
    p.add_argument(
        "--funding-rate",
        type=_funding_rate,
        default=None,
        help="replay funding rate per 8 h, e.g. 0.0001 = 0.01%% (default); longs pay when positive",
    )
    p.add_argument("--balance", type=_balance, default=None, help="starting balance in USDT (default 10000)")
    p.add_argument("--screenshot", metavar="PATH", help="render the window offscreen to PATH (PNG) and exit")
    p.add_argument(
        "--replay-seconds", type=_seconds, default=3.0, help="with --screenshot: seconds of replay first"
    )
    p.add_argument(
        "--no-demo-trade",
        action="store_true",
        help="with --screenshot: do not open the demonstration position",
    )
    p.add_argument("--close-after", type=_seconds, default=None, help=argparse.SUPPRESS)  # tests: close the window
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--session", type=_session_id, metavar="ID", help="open practice session ID of the journal (resumes it)"
    )
    which.add_argument(
        "--new-session",
        action="store_true",
        help="start a new practice session instead of resuming the last one",
    )
    p.set_defaults(resumed=False)  # set by _open_desk: the session shown was resumed, not started
    args = p.parse_args(argv)
    if args.live and (args.offline or args.dataset):
        p.error("--live: cannot be combined with --offline or --dataset (those replay)")
    if args.dataset:
        _check_one_per_symbol(p, args.dataset)
    return args


def _check_one_per_symbol(p: argparse.ArgumentParser, datasets: list[str]) -> None:
    """Two months of one symbol cannot share one replay clock (the engine has one market per symbol)."""
    seen: dict[str, str] = {}
    for name in datasets:
        symbol = name.split("-", 1)[0]
        if symbol in seen and seen[symbol] != name:
            p.error(f"--dataset {name}: {seen[symbol]} already replays {symbol}; choose one dataset per symbol")
        seen[symbol] = name


@dataclass
class Startup:
    """What the start learns on its way to the running session, handed from step to step (issue 10.3): the command
    line, the mode chosen, the first frame and the start-up shell while they are shown, then the session opened."""

    args: argparse.Namespace
    request: ModeRequest  # issue 8.5: what the command line asked for (live, offline, or auto: ask Binance)...
    probe: Future[str | None] | None = None  # ...and Binance's answer coming on a worker thread (None: not asked)
    mode: ModeChoice | None = None  # issue 8.5: live or replay (None until Binance answered, if it was asked)
    guess: ShellGuess | None = None  # the replay session the start shows first (ui/startup.py)
    frame: FirstFrame | None = None  # the first frame (ui/first_frame.py), until a window has replaced it
    frame_painted: FramePaint | None = None  # when the first frame was painted, and what was loaded then
    first_paint: FirstPaint | None = None  # the real chart's first paint: the shell's, else the session window's
    shell: bool = False  # the start-up shell (ui/shell.py) was painted before the journal was opened
    closed_at_start: bool = False  # the trader closed the frame or the shell while the journal opened
    live: LiveSession | None = None  # issue 8.5: the live session, when the mode chosen is live
    resumed: bool = False  # the session shown was resumed (a screenshot never trades in it)
    opened_desk: TradingDesk | None = None  # the desk opened for the window...
    run: Callable[[], Awaitable[None]] | None = None  # ...and what runs it: its replay, or the live feed

    def ask_binance(self) -> None:
        """Start asking Binance whether live prices can be had, once, when the command line left it open."""
        from hexdesk.service import modes

        if self.probe is None:
            self.probe = modes.start_probe(self.request)

    def mode_chosen(self) -> None:
        """The mode is known: a first frame painted while Binance was asked now says the replay's journal opens."""
        from hexdesk.service import modes
        from hexdesk.ui import startup

        replay = self.mode is not None and self.mode.mode is modes.Mode.REPLAY
        if self.frame is not None and self.guess is not None and replay:
            self.frame.set_note(startup.opening_label(self.guess))

    def drop_frame(self) -> None:
        """A real window is painted: the first frame goes (hidden, not closed: a close is the trader's)."""
        if self.frame is not None:
            self.frame_painted = self.frame.painted
            self.frame.hide()
            self.frame.deleteLater()
            self.frame = None

    def place_like_frame(self, window: QWidget) -> None:
        """Put ``window`` exactly where the first frame is now (the trader may have moved it); a maximized or full
        screen frame leaves the window's restored state alone (it was restored from the same settings)."""
        from PySide6.QtCore import Qt

        if self.frame is None:
            return
        if self.frame.windowState() & (Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen):
            window.setWindowState(self.frame.windowState())
        else:
            window.setGeometry(self.frame.geometry())

    def first_painted(self) -> float:
        """When the first chart was on screen (monotonic): the first frame's paint, else the real chart's; nan if
        neither was painted."""
        painted = self.frame.painted if self.frame is not None else self.frame_painted
        if painted is not None:
            return painted.at
        return self.first_paint.wait() if self.first_paint is not None else math.nan


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hexdesk`` command."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["data"]:  # the data library CLI: no Qt, no journal (hexdesk/cli_data.py)
        from hexdesk import cli_data

        return cli_data.main(argv[1:])
    if argv[:1] == ["class"] or any(a == "--scenario" or a.startswith("--scenario=") for a in argv):  # issue 9
        from hexdesk import cli_class  # the classroom pack: hexdesk class check|grade, hexdesk --scenario FILE

        return cli_class.main(argv[1:]) if argv[:1] == ["class"] else cli_class.run_scenario(argv)
    args = parse_args(argv)
    from hexdesk.service import modes  # (light: the live client loads only when Binance is asked)

    start = Startup(args, _mode_request(args))
    if start.request is not modes.ModeRequest.AUTO:
        start.ask_binance()  # issue 8.5: --live asks Binance on a worker thread while Qt starts
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtWidgets import QApplication

    # Qt first: a machine without a usable display aborts here, before the journal is touched.
    from hexdesk.ui import dpi

    dpi.prepare()  # issue 10.7: fractional high-DPI scale factors unrounded (before the QApplication)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("HexDesk")
    # The session, not Qt, decides when the program ends (see _run_gui); so does the start: closing the shell while
    # the journal opens ends the program once it is open (``closed_at_start``), not Qt's loop under it.
    app.setQuitOnLastWindowClosed(False)
    # issue 10.3: the candles, before numpy, pyqtgraph and the engine load. With no mode asked for, before Binance
    # answers too: a machine whose firewall drops the probe would show nothing for its whole timeout (3 s).
    start.frame = _paint_first_frame(start)
    start.ask_binance()  # (after the first frame: the live client's imports on the probe's thread would slow it)
    start.mode = _choose_mode(start)  # issue 8.5: live or replay; None: --live cannot be had
    if start.mode is None:
        start.drop_frame()
        return 2
    start.mode_chosen()
    window = _paint_shell(start)  # then the window and its chart, orders held, before the journal is opened
    start.shell = window is not None
    opened = _open_journal_and_desk(start)
    if isinstance(opened, int):
        start.drop_frame()
        if window is not None:
            window.close()  # the shell goes: nothing was shown as opened, nothing is remembered from it
            window.deleteLater()
        return opened
    journal, desk = opened
    try:
        if start.closed_at_start:  # the trader closed the frame or the shell while the journal opened
            start.drop_frame()
            desk.close()
            return 0
        return _run_gui(app, start, desk, window)
    finally:
        journal.close()


def _open_journal_and_desk(start: Startup) -> tuple[Journal, TradingDesk] | int:
    """Open the journal (sqlmodel, SQLAlchemy and Alembic are imported here, after the first paint) and the session
    to show; the exit status 2 after one clear line on stderr when either cannot be had."""
    args = start.args
    from hexdesk.storage.errors import JournalError, JournalWriteError
    from hexdesk.storage.journal import Journal, JournalCorrupt
    from hexdesk.storage.paths import resolve_db_path

    db_path = _db_path(args, resolve_db_path)
    try:
        journal = Journal.open(db_path)
    except JournalCorrupt as exc:
        print(f"hexdesk: {exc}\nThe file was left untouched. Move it aside or pass --db NEW_PATH.", file=sys.stderr)
        return 2
    except JournalError as exc:
        print(f"hexdesk: {exc}\nPass --db with a file HexDesk can write.", file=sys.stderr)
        return 2
    try:
        desk = _open_desk(start, journal)
    except JournalWriteError as exc:
        print(
            f"hexdesk: the journal {db_path} cannot be written: {exc.reason} ({exc.detail}).\n"
            "Free some space or make the file writable, or pass --db with another file.",
            file=sys.stderr,
        )
        journal.close()
        return 2
    except (JournalError, LookupError, ValueError) as exc:
        print(f"hexdesk: {exc}", file=sys.stderr)
        journal.close()
        return 2
    return journal, desk


def _paint_first_frame(start: Startup) -> FirstFrame | None:
    """The first frame (ui/first_frame.py): the guessed replay session's candles painted with Qt and the standard
    library alone, at the window's remembered place. None when the shell would not guess (``--live``, a blind
    session), for a screenshot (a demo shows the real window only), or when the data is not a bundled month.
    Painted before the mode is known when none was asked for: it then says Binance is being asked first."""
    from hexdesk.ui import settings, startup

    args = start.args
    if args.screenshot:
        return None
    remembered = settings.store()
    start.guess = startup.guess(args, remembered)
    tail = startup.first_tail(start.guess, remembered) if start.guess is not None else None
    if tail is None:
        return None
    from hexdesk.service import modes
    from hexdesk.ui.first_frame import FirstFrame

    auto = start.request is modes.ModeRequest.AUTO and start.mode is None  # Binance is being asked: live, maybe
    note = startup.connecting_label(start.guess) if auto else startup.opening_label(start.guess)
    theme_name = remembered.value("view/theme")
    frame = FirstFrame(tail, note, startup.chart_margins(remembered),
                       theme_name if isinstance(theme_name, str) else None, startup.price_decimals(remembered, tail))
    frame.closed.connect(lambda: setattr(start, "closed_at_start", True))
    settings.place(frame, remembered)
    frame.show()
    frame.wait_painted()
    return frame


def _paint_shell(start: Startup) -> MainWindow | None:
    """The window on the start-up shell's desk (hexdesk/ui/shell.py), shown and painted, orders held; None when the
    shell must not guess (live, a blind session) or cannot (its data is missing): the journal then comes first.
    The first frame, if any, is replaced by it: same place and size, then hidden once the shell is painted.

    An interactive window gets its remembered geometry, splitters, theme and symbol now (nothing is saved from
    the shell: the settings are restored again, and saved on close, once the session is open)."""
    from hexdesk.service import modes
    from hexdesk.ui import shell

    args = start.args
    if start.closed_at_start or (start.mode is not None and start.mode.mode is modes.Mode.LIVE):
        return None  # (the trader closed the first frame: no window pops up in its place)
    remembered = None
    if not args.screenshot:  # a demo never depends on what this user's last run showed
        from hexdesk.ui import settings

        remembered = settings.store()
    shown = shell.guess(args, remembered)
    desk = shell.open_shell(shown) if shown is not None else None
    if desk is None:
        return None
    from hexdesk.ui.main_window import MainWindow

    window = MainWindow(desk)
    window.closed.connect(lambda: setattr(start, "closed_at_start", True))  # (the session's own handler comes later)
    start.first_paint = shell.FirstPaint(window.chart)
    if remembered is not None:
        _fit_to_screen(window)
        settings.restore(window, remembered)
        start.place_like_frame(window)
    window.show()
    start.first_paint.wait()
    start.drop_frame()
    return window


def _db_path(args: argparse.Namespace, resolve_db_path: Callable[[str | None], Path]) -> Path:
    """A screenshot run writes to a throwaway journal unless a --db is given: demos never pollute real ones."""
    if args.screenshot and not args.db:
        import tempfile  # (only for --screenshot: not on every start's path)

        return Path(tempfile.mkdtemp(prefix="hexdesk-shot-")) / "hexdesk.db"
    return resolve_db_path(args.db)


def _open_desk(start: Startup, journal: Journal) -> TradingDesk:
    """The session to show: ``--session ID``, a new one (``--new-session``, or session settings given on the command
    line, or none to resume), else the last active session resumed where it stood (with ``--screenshot`` too).

    A resumed session plays on (as a fresh start does); ``--speed`` given with it changes its speed.
    """
    from hexdesk.service import (
        DEFAULT_BALANCE,
        DEFAULT_DATASETS,
        DEFAULT_FUNDING_RATE,
        DEFAULT_SPEED,
        SessionManager,
        SessionSpec,
    )

    args = start.args
    start.live = _open_live(journal, start)  # issue 8.5: None unless the mode chosen is live
    if start.live is not None:
        return start.live.desk
    manager = SessionManager(journal)
    fresh_settings = args.dataset or args.balance is not None or args.funding_rate is not None
    desk = None
    if args.session is not None:
        desk = manager.open(args.session, paused=False)
    elif not args.new_session and not fresh_settings:
        desk = manager.resume_last(paused=False)
    start.resumed = desk is not None
    if desk is not None:
        if args.speed is not None:
            desk.set_speed(args.speed)
        return desk
    return manager.new(
        SessionSpec(
            datasets=tuple(dict.fromkeys(args.dataset or DEFAULT_DATASETS)),
            balance=args.balance or DEFAULT_BALANCE,
            speed=args.speed or DEFAULT_SPEED,
            funding_rate=DEFAULT_FUNDING_RATE if args.funding_rate is None else args.funding_rate,
        )
    )


def _run_gui(app: QApplication, start: Startup, desk: TradingDesk, window: MainWindow | None = None) -> int:
    """Show ``desk`` in ``window`` (the painted start-up shell, which then takes orders) or in a new window, and
    run its session on the qasync loop until the window closes."""
    from hexdesk.service import SessionManager
    from hexdesk.ui import shell

    args, live = start.args, start.live
    # The session, not Qt, decides when the program ends: with Qt quitting on the last window, app.exec() returned
    # before the session coroutine could finish and qasync raised "Event loop stopped before Future completed."
    app.setQuitOnLastWindowClosed(False)
    sessions = SessionManager(desk.journal) if desk.journal is not None else None
    if window is not None:
        window.open_desk(desk, sessions)  # the shell's panels rebuilt for the session: orders are accepted now
    else:
        from hexdesk.ui.main_window import MainWindow

        window = MainWindow(desk, sessions=sessions)
        if not args.screenshot:
            _fit_to_screen(window)
        start.first_paint = shell.FirstPaint(window.chart)
    _show_mode(window, start.mode, live)  # issue 8.5: the status bar follows the live connection / says why not
    start.run = live.run if live is not None else desk.run
    start.opened_desk = desk
    if not args.screenshot:
        window.desktop.remember()  # issue 10.4: remembered settings, saved again on close (ui/settings.py)
        start.place_like_frame(window)  # no shell came between: the window opens where the frame is
    window.show()
    if start.frame is not None:  # hidden once the window has painted; never waited for here: a live chart gets its
        from hexdesk.ui.first_frame import AfterPaint  # candles only once the session's loop runs

        AfterPaint(window.centralWidget(), start.drop_frame)
    if os.environ.get(PROBE_ENV):
        return _report_start(start, window)
    import asyncio  # (after the first paint: the replay's asyncio and qasync are not needed to paint)

    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        # asyncio.run(..., loop_factory=) needs Python 3.12; this is its 3.11 equivalent.
        session = loop.create_task(_session(app, window, start))
        session.add_done_callback(lambda _task: loop.stop())
        loop.run_forever()
        if not session.done():  # Qt was told to quit from elsewhere (app.quit(), the session manager): wind down
            session.cancel()
            return loop.run_until_complete(_settled(session))
        return session.result()
    finally:
        window.desk.close()  # the session shown at the end (File > Open may have switched it): resumable next time
        asyncio.set_event_loop(None)
        loop.close()


def _report_start(start: Startup, window: MainWindow) -> int:
    """benchmarks/cold_start.py: when the first chart was painted (the first frame, else the window's chart), when
    the window's own chart was, and when orders were accepted (CLOCK_MONOTONIC, comparable with the parent's
    clock), then exit without running the session."""
    import time

    accepted = time.monotonic()
    probe = start.first_paint
    assert probe is not None  # (set with every window: the shell's or the session's)
    window_painted = probe.wait()  # already painted when the shell was shown; else the window's first paint
    painted = start.first_painted()
    candles = window.chart.candle_count
    loaded = ",".join(probe.loaded) or "none"
    frame = start.frame_painted
    cpu = frame.cpu if frame is not None else (probe.cpu if probe.cpu is not None else math.nan)
    frame_loaded = (",".join(frame.loaded) or "none") if frame is not None else "-"
    print(f"{PROBE_PREFIX} first_paint={painted:.6f} window_paint={window_painted:.6f} orders_accepted={accepted:.6f} "
          f"cpu_at_paint={cpu:.6f} frame={int(frame is not None)} frame_loaded={frame_loaded} "
          f"candles={candles} candles_at_paint={probe.candles} shell={int(start.shell)} "
          f"session={window.desk.session_id} symbol={window.chart_symbol} loaded_before_paint={loaded}", flush=True)
    window.desk.close()
    return 0


# --- issue 8.5: live or replay (the choice itself is hexdesk/service/modes.py) -------------------------------


def _mode_request(args: argparse.Namespace) -> ModeRequest:
    """What the command line asks for: live, a replay, or auto (ask Binance). A screenshot or test run
    (``--screenshot``, ``--close-after``) stays a replay unless ``--live`` or HEXDESK_WS_URL / HEXDESK_REST_URL
    point somewhere: a demo never depends on the internet."""
    from hexdesk.service import modes

    request = modes.mode_request(args.offline, args.live, args.dataset)
    if request is modes.ModeRequest.AUTO and (args.screenshot or args.close_after is not None):
        from hexdesk.market.binance.settings import REST_URL_ENV, WS_URL_ENV  # (loads the live client: not offline)

        if not (os.environ.get(WS_URL_ENV) or os.environ.get(REST_URL_ENV)):
            request = modes.ModeRequest.OFFLINE
    return request


def _choose_mode(start: Startup) -> ModeChoice | None:
    """The mode; None after telling why ``--live`` cannot be had (one line). While Binance is asked, a first frame
    on screen keeps being painted and can be closed: Qt's pending events are processed every 20 ms, and in between
    this thread waits on the answer with the GIL released (a Qt event loop would hold it: the probe's thread then
    crawled, and could stall the start for good)."""
    import time
    from concurrent.futures import wait

    from hexdesk.service import modes

    if start.frame is not None and start.probe is not None:
        from PySide6.QtCore import QCoreApplication

        deadline = time.monotonic() + modes.PROBE_TIMEOUT_S + 1.0
        while not start.probe.done() and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            wait([start.probe], timeout=0.02)
    try:
        return modes.choose_mode(start.request, start.probe)
    except modes.LiveUnavailable as exc:
        print(f"hexdesk: {exc}", file=sys.stderr)
        return None


def _open_live(journal: Journal, start: Startup) -> LiveSession | None:
    """A live session when the mode chosen is live, else None."""
    from hexdesk.service import DEFAULT_BALANCE, modes

    choice, args = start.mode, start.args
    if choice is None or choice.mode is not modes.Mode.LIVE:
        return None
    # a screenshot (a demo) records nothing into the data library, as it journals into a throwaway file
    return modes.open_live(journal, balance=args.balance or DEFAULT_BALANCE, record=not args.screenshot)


def _show_mode(window: MainWindow, choice: ModeChoice | None, live: LiveSession | None) -> None:
    if live is not None:
        window.mode_status.attach_feed(live.feed)
        return
    if choice is not None and choice.status_note:
        window.mode_status.set_note(choice.status_note)


def _fit_to_screen(window: MainWindow) -> None:
    """The default 1600x960 would hang off a 1280x720 screen: never open larger than the screen's free area."""
    screen = window.screen()
    if screen is None:
        return
    free = screen.availableGeometry()
    if window.width() > free.width() or window.height() > free.height():
        window.resize(min(window.width(), free.width()), min(window.height(), free.height()))
        window.move(free.topLeft())


async def _session(app: QApplication, window: MainWindow, start: Startup) -> int:
    """Run the shown desk's replay until the window closes, or until the screenshot is taken. A session switch
    (File > New / Open session, an imported backup opened) stops the old desk's replay, closes the old desk
    (it stays resumable) and runs the new one's."""
    import asyncio

    desk, args = window.desk, start.args
    opened = start.opened_desk or desk
    if desk is not opened:  # switched before this task began (a timer that fired first): that desk is shown
        opened.close()
        replay = asyncio.create_task(desk.run())
    else:
        replay = asyncio.create_task((start.run or desk.run)())  # the replay, or the live feed (issue 8.5)
    stopped: list[asyncio.Task[None]] = []

    def switched(old: TradingDesk, new: TradingDesk) -> None:
        nonlocal replay
        replay.cancel()
        stopped.append(replay)
        old.close()
        replay = asyncio.create_task(new.run())

    window.session_switched.connect(switched)
    try:
        if args.screenshot:
            return await _screenshot(desk, window, start)
        closed = asyncio.Event()
        window.closed.connect(closed.set)
        app.aboutToQuit.connect(closed.set)
        if args.close_after is not None:
            asyncio.get_running_loop().call_later(args.close_after, window.close)
        await closed.wait()
        return 0
    finally:
        window.session_switched.disconnect(switched)
        replay.cancel()
        await asyncio.gather(replay, *stopped, return_exceptions=True)


async def _settled(session: asyncio.Task[int]) -> int:
    """Wait for a cancelled session to finish its clean-up (it stops the replay task)."""
    import asyncio

    await asyncio.gather(session, return_exceptions=True)
    return 0


async def _screenshot(desk: TradingDesk, window: MainWindow, start: Startup) -> int:
    """Let the replay run, open a demonstration position (so its lines show), render the window to PNG."""
    import asyncio

    loop, args = asyncio.get_running_loop(), start.args
    deadline = loop.time() + max(args.replay_seconds, 0.5)
    symbol = desk.symbols[0]
    traded = args.no_demo_trade or start.resumed  # never trade in a session the trader resumed
    while loop.time() < deadline:
        await asyncio.sleep(0.05)
        if not traded and desk.last_price(symbol) is not None:
            _demo_trade(desk, symbol)
            traded = True
    window.refresh_now()
    out = Path(args.screenshot)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        print(f"hexdesk: could not write {out}", file=sys.stderr)
        return 1
    print(out)
    return 0


def _demo_trade(desk: TradingDesk, symbol: str) -> None:
    """A 10x long worth about half the balance: enough to show entry, margin and the liquidation line."""
    from hexdesk.engine.enums import Side
    from hexdesk.engine.orders import OrderRequest

    desk.set_leverage(symbol, 10)
    instrument = desk.instrument(symbol)
    price = desk.last_price(symbol)
    qty = instrument.round_qty(desk.account().available_balance * 5 / price)
    desk.submit(OrderRequest.market(symbol, Side.BUY, qty))


if __name__ == "__main__":
    sys.exit(main())
