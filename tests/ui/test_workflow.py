"""Issue 7 end to end, through the window on a real journal file: a new session with 5,000 USDT from the session
dialog, a trade, the desk closed, the session resumed by a fresh SessionManager with everything where it was;
File > Export read back; a Binance trade history imported and its statistics seen; a backup opened."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest

from hexdesk.engine.enums import OrderType, Side
from hexdesk.engine.orders import OrderRequest
from hexdesk.service import SessionManager, SessionSpec, TradingDesk, statistics_across
from hexdesk.storage.journal import Journal
from hexdesk.ui.main_window import MainWindow
from hexdesk.ui.statistics_view import ALL_SESSIONS

# binance-futures.md §4.6, the website's layout with a fee coin (newest row first). Hand-worked: BUY 0.010 BTCUSDT at
# 84,000.10, SELL 0.010 at 85,000.00: realized (85,000.00 - 84,000.10) x 0.010 = 9.999; fees 0.4200005 + 0.425 =
# 0.8450005 USDT; one round trip, net 9.999 - 0.8450005 = 9.1539995 USDT.
BINANCE_HISTORY = """Date(UTC),Symbol,Side,Price,Quantity,Amount,Fee,Fee Coin,Realized Profit
2025-03-01 14:05:09,BTCUSDT,SELL,85000.00,0.010,850.00,0.425,USDT,9.999
2025-03-01 12:00:01,BTCUSDT,BUY,84000.10,0.010,840.001,0.4200005,USDT,0
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "journal.db"


def _window(qtbot, desk: TradingDesk, manager: SessionManager) -> MainWindow:
    window = MainWindow(desk, sessions=manager)
    qtbot.addWidget(window)
    # what hexdesk.app does on a switch (without the asyncio replay task): the old desk is left resumable
    window.session_switched.connect(lambda old, new: old.close())
    window.show()
    return window


def _feed(desk: TradingDesk, n: int) -> None:
    """Prices without the asyncio replay loop: the next ``n`` ticks of the replay."""
    desk.feed(list(itertools.islice(desk.replay.ticks(), n)))


@pytest.fixture
def traded(qtbot, db: Path) -> Iterator[tuple[int, str]]:
    """A 5,000 USDT session made in the session dialog: a closed round trip with a note, a long still open and a
    resting limit buy; then the window is closed and the journal too. Yields (session id, closed trade's key)."""
    journal = Journal.open(db)
    manager = SessionManager(journal)
    first = manager.new(SessionSpec(name="warm-up", datasets=("BTCUSDT-2025-03",)))
    first.pause()
    window = _window(qtbot, first, manager)

    dialog = window.open_sessions("new")
    dialog.nameInput.setText("five grand")
    dialog.balanceInput.setValue(D("5000"))
    dialog.set_datasets(["BTCUSDT-2025-03"])
    dialog.create()
    desk = window.desk
    assert desk is not first and journal.session(desk.session_id).start_balance == D("5000")
    desk.pause()

    _feed(desk, 4)
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.010"))).ok
    _feed(desk, 4)
    assert desk.close_position("BTCUSDT").ok
    closed_key = f"BTCUSDT:{desk.fills()[0].trade_id}"
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.020"))).ok
    price = desk.last_price("BTCUSDT")
    assert price is not None
    limit = desk.instrument("BTCUSDT").round_price(price * D("0.9"))
    assert desk.submit(OrderRequest.limit("BTCUSDT", Side.BUY, D("0.010"), limit)).ok

    window.show_trade_journal(closed_key, reveal=True)
    qtbot.keyClicks(window.journal_panel.notesInput, "took profit too early")
    window.close()  # saves what was typed; the app then closes the shown desk
    window.desk.close()
    journal.close()
    yield desk.session_id, closed_key


@pytest.fixture
def reopened(qtbot, db: Path, traded: tuple[int, str]) -> Iterator[tuple[Journal, MainWindow]]:
    """The traded session opened again by a fresh journal and SessionManager, in a new window."""
    journal = Journal.open(db)
    manager = SessionManager(journal)
    window = _window(qtbot, manager.open(traded[0]), manager)
    yield journal, window
    window.close()
    window.desk.close()
    journal.close()


def test_a_session_made_traded_and_closed_resumes_with_everything(qtbot, db: Path, traded: tuple[int, str]) -> None:
    session_id, closed_key = traded
    journal = Journal.open(db)
    manager = SessionManager(journal)
    desk = manager.resume_last()
    assert desk is not None and desk.session_id == session_id
    window = _window(qtbot, desk, manager)

    position = desk.position("BTCUSDT")
    assert position.quantity == D("0.020")
    (order,) = desk.open_orders()
    assert (order.type, order.side, order.quantity) == (OrderType.LIMIT, Side.BUY, D("0.010"))
    assert window.positions_table.rows_model.rowCount() == 1 and window.orders_table.rows_model.rowCount() == 1
    keys = [t.trade_key for t in window.trades_table.rows_model.rows]
    assert closed_key in keys and len(keys) == 2  # the closed round trip and the open one
    assert window.start_balance() == D("5000")

    window.trades_table.select_trade(closed_key)
    assert window.journal_panel.trade_key == closed_key
    assert window.journal_panel.notesInput.toPlainText() == "took profit too early"
    window.close()
    journal.close()


def test_export_from_the_window_reads_back(reopened: tuple[Journal, MainWindow], traded: tuple[int, str],
                                          tmp_path: Path) -> None:
    _, window = reopened
    _, closed_key = traded

    fills_csv = tmp_path / "fills.csv"
    assert window.export_session("fills", fills_csv) == 3
    with fills_csv.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["side"], D(r["quantity"])) for r in rows] == [("BUY", D("0.010")), ("SELL", D("0.010")),
                                                             ("BUY", D("0.020"))]
    trades_csv = tmp_path / "trades.csv"
    assert window.export_session("trades", trades_csv) == 2
    with trades_csv.open(newline="", encoding="utf-8") as fh:
        assert closed_key in {r["trade_key"] for r in csv.DictReader(fh)}


def test_imported_binance_trades_show_their_statistics(reopened: tuple[Journal, MainWindow],
                                                       traded: tuple[int, str], tmp_path: Path) -> None:
    journal, window = reopened
    session_id, _ = traded
    history = tmp_path / "binance.csv"
    history.write_text(BINANCE_HISTORY, encoding="utf-8")

    outcome = window.import_session(history)
    assert outcome is not None and outcome.kind == "binance" and outcome.count == 2
    summary = journal.session(outcome.session_id)
    assert summary.journal_only and summary.read_only
    assert window.desk.session_id == session_id  # nothing to replay: the practice session stays shown

    stats = statistics_across(journal, [outcome.session_id])
    assert stats.trade_count == 1
    assert stats.net_pnl == pytest.approx(9.1539995)
    view = window.statistics_view
    assert view is not None and view.isVisible() and view.scope_box.currentText() == ALL_SESSIONS
    both = statistics_across(journal, [session_id, outcome.session_id])
    assert both.trade_count == stats.trade_count + window.desk.statistics().trade_count
    assert window.session_dialog is not None and window.session_dialog.selected_id() == outcome.session_id
    window.session_dialog.close()


def test_an_imported_backup_can_be_opened_at_once(reopened: tuple[Journal, MainWindow], traded: tuple[int, str],
                                                  tmp_path: Path) -> None:
    _, window = reopened
    session_id, closed_key = traded
    backup = tmp_path / "backup.json"
    assert window.export_session("backup", backup)
    asked: list[str] = []
    window.confirm = lambda title, text: asked.append(text) or True  # "Open it now?" answered yes

    outcome = window.import_session(backup)
    assert outcome is not None and asked and outcome.name in asked[0]
    desk = window.desk
    assert desk.session_id == outcome.session_id != session_id
    assert desk.position("BTCUSDT").quantity == D("0.020") and len(desk.open_orders()) == 1
    assert desk.trade_note(closed_key).notes == "took profit too early"
