"""Composition root: market feed -> engine -> journal -> UI, on one qasync event loop.

``hexdesk`` opens the workstation replaying bundled Binance candles (live streams come in a later step);
``hexdesk --screenshot PATH`` renders the window offscreen after a few seconds of replay and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from hexdesk import __version__

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtWidgets import QApplication

    from hexdesk.service import TradingDesk
    from hexdesk.storage.journal import Journal
    from hexdesk.ui.main_window import MainWindow

os.environ.setdefault("QT_API", "pyside6")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="hexdesk", description="HexDesk: practise Binance USDⓈ-M futures safely.")
    p.add_argument("--version", action="version", version=f"hexdesk {__version__}")
    p.add_argument("--offline", action="store_true", help="replay bundled candles (the default without internet)")
    p.add_argument("--db", metavar="PATH", help="journal SQLite file (default: HEXDESK_DB or the user data dir)")
    p.add_argument(
        "--dataset",
        action="append",
        metavar="NAME",
        help="bundled dataset to replay, repeatable (default: BTCUSDT-2025-03 and ETHUSDT-2025-03)",
    )
    p.add_argument("--speed", type=float, default=None, help="replay speed, replay seconds per second (default 60)")
    p.add_argument(
        "--funding-rate",
        type=Decimal,
        default=None,
        help="replay funding rate per 8 h, e.g. 0.0001 = 0.01%% (default); longs pay when positive",
    )
    p.add_argument("--balance", type=Decimal, default=None, help="starting balance in USDT (default 10000)")
    p.add_argument("--screenshot", metavar="PATH", help="render the window offscreen to PATH (PNG) and exit")
    p.add_argument("--replay-seconds", type=float, default=3.0, help="with --screenshot: seconds of replay first")
    p.add_argument(
        "--no-demo-trade",
        action="store_true",
        help="with --screenshot: do not open the demonstration position",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hexdesk`` command."""
    args = parse_args(argv)
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtWidgets import QApplication

    from hexdesk.storage.journal import Journal, JournalCorrupt
    from hexdesk.storage.paths import resolve_db_path

    # Qt first: a machine without a usable display aborts here, before the journal is touched.
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("HexDesk")
    db_path = _db_path(args, resolve_db_path)
    try:
        journal = Journal.open(db_path)
    except JournalCorrupt as exc:
        print(f"hexdesk: {exc}\nThe file was left untouched. Move it aside or pass --db NEW_PATH.", file=sys.stderr)
        return 2
    try:
        return _run_gui(app, args, journal)
    finally:
        journal.close()


def _db_path(args: argparse.Namespace, resolve_db_path: Callable[[str | None], Path]) -> Path:
    """A screenshot run writes to a throwaway journal unless a --db is given: demos never pollute real ones."""
    if args.screenshot and not args.db:
        return Path(tempfile.mkdtemp(prefix="hexdesk-shot-")) / "hexdesk.db"
    return resolve_db_path(args.db)


def _run_gui(app: QApplication, args: argparse.Namespace, journal: Journal) -> int:
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
        journal,
        tuple(args.dataset or DEFAULT_DATASETS),
        balance=args.balance or DEFAULT_BALANCE,
        speed=args.speed or DEFAULT_SPEED,
        funding_rate=DEFAULT_FUNDING_RATE if args.funding_rate is None else args.funding_rate,
    )
    window = MainWindow(desk)
    window.show()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        # asyncio.run(..., loop_factory=) needs Python 3.12; this is its 3.11 equivalent.
        return loop.run_until_complete(_session(app, desk, window, args))
    finally:
        desk.close()
        asyncio.set_event_loop(None)
        loop.close()


async def _session(app: QApplication, desk: TradingDesk, window: MainWindow, args: argparse.Namespace) -> int:
    """Run the replay until the window closes, or until the screenshot is taken."""
    replay = asyncio.create_task(desk.run())
    try:
        if args.screenshot:
            return await _screenshot(desk, window, args)
        quit_event = asyncio.Event()
        app.aboutToQuit.connect(quit_event.set)
        app.lastWindowClosed.connect(quit_event.set)
        await quit_event.wait()
        return 0
    finally:
        replay.cancel()
        await asyncio.gather(replay, return_exceptions=True)


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
