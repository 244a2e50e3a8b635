"""Composition root: market feed -> engine -> journal -> UI, on one qasync event loop.

``hexdesk`` opens the workstation replaying bundled Binance candles (live streams come in a later step);
``hexdesk --screenshot PATH`` renders the window offscreen after a few seconds of replay and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from hexdesk import __version__

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtWidgets import QApplication, QWidget

    from hexdesk.service import TradingDesk
    from hexdesk.ui.main_window import MainWindow

os.environ.setdefault("QT_API", "pyside6")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")


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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; a bad value ends the program here with one line on stderr and exit status 2."""
    p = _Parser(prog="hexdesk", description="HexDesk: practise Binance USDⓈ-M futures safely.")
    p.add_argument("--version", action="version", version=f"hexdesk {__version__}")
    p.add_argument("--offline", action="store_true", help="replay bundled candles (the default without internet)")
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
    args = p.parse_args(argv)
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hexdesk`` command."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["data"]:  # the data library CLI: no Qt, no journal (hexdesk/cli_data.py)
        from hexdesk import cli_data

        return cli_data.main(argv[1:])
    args = parse_args(argv)
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtWidgets import QApplication

    from hexdesk.storage.paths import resolve_db_path

    # Qt first: a machine without a usable display aborts here, before the journal is touched.
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("HexDesk")
    return _run_gui(app, args, _db_path(args, resolve_db_path))


def _db_path(args: argparse.Namespace, resolve_db_path: Callable[[str | None], Path]) -> Path:
    """A screenshot run writes to a throwaway journal unless a --db is given: demos never pollute real ones."""
    if args.screenshot and not args.db:
        return Path(tempfile.mkdtemp(prefix="hexdesk-shot-")) / "hexdesk.db"
    return resolve_db_path(args.db)


def _run_gui(app: QApplication, args: argparse.Namespace, db_path: Path) -> int:
    import qasync

    from hexdesk.service import (
        DEFAULT_BALANCE,
        DEFAULT_DATASETS,
        DEFAULT_FUNDING_RATE,
        DEFAULT_SPEED,
        open_replay_session,
    )
    from hexdesk.ui.main_window import MainWindow

    desk = open_replay_session(
        None,
        tuple(dict.fromkeys(args.dataset or DEFAULT_DATASETS)),
        defer_journal=True,  # opened right after the first paint: _open_journal_after_first_paint
        balance=args.balance or DEFAULT_BALANCE,
        speed=args.speed or DEFAULT_SPEED,
        funding_rate=DEFAULT_FUNDING_RATE if args.funding_rate is None else args.funding_rate,
    )
    # The session, not Qt, decides when the program ends: with Qt quitting on the last window, app.exec() returned
    # before the session coroutine could finish and qasync raised "Event loop stopped before Future completed."
    app.setQuitOnLastWindowClosed(False)
    window = MainWindow(desk)
    if not args.screenshot:
        _fit_to_screen(window)
    window.show()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        # asyncio.run(..., loop_factory=) needs Python 3.12; this is its 3.11 equivalent.
        session = loop.create_task(_session(app, desk, window, args, db_path))
        session.add_done_callback(lambda _task: loop.stop())
        loop.run_forever()
        if not session.done():  # Qt was told to quit from elsewhere (app.quit(), the session manager): wind down
            session.cancel()
            return loop.run_until_complete(_settled(session))
        return session.result()
    finally:
        desk.close()
        if desk.journal is not None:
            desk.journal.close()
        asyncio.set_event_loop(None)
        loop.close()


def _fit_to_screen(window: MainWindow) -> None:
    """The default 1600x960 would hang off a 1280x720 screen: never open larger than the screen's free area."""
    screen = window.screen()
    if screen is None:
        return
    free = screen.availableGeometry()
    if window.width() > free.width() or window.height() > free.height():
        window.resize(min(window.width(), free.width()), min(window.height(), free.height()))
        window.move(free.topLeft())


async def _session(
    app: QApplication, desk: TradingDesk, window: MainWindow, args: argparse.Namespace, db_path: Path
) -> int:
    """Open the journal once the window has painted, then run the replay until the window closes, or until the
    screenshot is taken."""
    replay = asyncio.create_task(desk.run())
    try:
        refused = await _open_journal_after_first_paint(desk, window, db_path)
        if refused is not None:
            return refused
        if args.screenshot:
            return await _screenshot(desk, window, args)
        closed = asyncio.Event()
        window.closed.connect(closed.set)
        app.aboutToQuit.connect(closed.set)
        if args.close_after is not None:
            asyncio.get_running_loop().call_later(args.close_after, window.close)
        await closed.wait()
        return 0
    finally:
        replay.cancel()
        await asyncio.gather(replay, return_exceptions=True)


# --- cold start (issue 10.3): paint first, open the journal right after ---------------------------------------------

EXIT_AFTER_PAINT = "HEXDESK_EXIT_AFTER_PAINT"
"""Set (to anything) to exit once the journal is open, printing when the chart first painted and when the journal
opened, in seconds since the interpreter started (benchmarks/cold_start.py)."""


def _since_start() -> float:
    """Seconds since this process started (Linux /proc; elsewhere since hexdesk.app was imported)."""
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return time.perf_counter() - _IMPORTED


_IMPORTED = time.perf_counter()


async def _first_paint(widget: QWidget, timeout_s: float = 5.0) -> None:
    """Wait until ``widget`` or one of its children has painted (at most ``timeout_s``: a hidden window never
    paints, and the journal must open anyway)."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication, QWidget

    painted = asyncio.Event()

    class _Watch(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and isinstance(obj, QWidget) and (
                obj is widget or widget.isAncestorOf(obj)
            ):
                painted.set()
            return False

    app = QApplication.instance()
    watch = _Watch()
    app.installEventFilter(watch)
    try:
        await asyncio.wait_for(painted.wait(), timeout_s)
    except TimeoutError:
        pass
    finally:
        app.removeEventFilter(watch)


async def _open_journal_after_first_paint(desk: TradingDesk, window: MainWindow, db_path: Path) -> int | None:
    """The startup order that halves the cold start: the chart paints before SQLAlchemy is even imported, then
    the journal opens and the ticket takes orders (until then it shows "Opening the journal…" and the desk
    refuses orders, so no order ever exists that the journal could miss). An exit code if the program must end
    (a corrupt journal, or HEXDESK_EXIT_AFTER_PAINT), else None."""
    await _first_paint(window.chart)
    painted = _since_start()
    from hexdesk.storage.journal import Journal, JournalCorrupt  # SQLAlchemy + alembic: ~0.5 s, after the paint

    try:
        journal = Journal.open(db_path)
    except JournalCorrupt as exc:
        print(f"hexdesk: {exc}\nThe file was left untouched. Move it aside or pass --db NEW_PATH.", file=sys.stderr)
        return 2
    desk.open_journal(journal)
    window.ticket.journal_opened()
    if os.environ.get(EXIT_AFTER_PAINT):
        print(f"first paint {painted:.3f} s, journal open {_since_start():.3f} s (since the interpreter started)")
        return 0
    return None


async def _settled(session: asyncio.Task[int]) -> int:
    """Wait for a cancelled session to finish its clean-up (it stops the replay task)."""
    await asyncio.gather(session, return_exceptions=True)
    return 0


async def _screenshot(desk: TradingDesk, window: MainWindow, args: argparse.Namespace) -> int:
    """Let the replay run, open a demonstration position (so its lines show), render the window to PNG."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(args.replay_seconds, 0.5)
    symbol = desk.symbols[0]
    traded = args.no_demo_trade
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
