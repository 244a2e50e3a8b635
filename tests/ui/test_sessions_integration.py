"""The window, the session dialog and the journal panel on a real TradingDesk, Journal and SessionManager."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from hexdesk.engine.enums import Side
from hexdesk.engine.orders import OrderRequest
from hexdesk.service import sessions
from hexdesk.storage.journal import Journal
from hexdesk.ui.journal_panel import SAVE_DELAY_MS
from hexdesk.ui.main_window import MainWindow


@pytest.fixture
def journal():
    j = Journal.in_memory()
    yield j
    j.close()


def test_new_session_typed_in_the_dialog_trade_journal_and_switch_back(qtbot, journal):
    manager = sessions.SessionManager(journal)
    first = manager.new(sessions.SessionSpec(name="first", datasets=("BTCUSDT-2025-03",)))
    first.pause()
    window = MainWindow(first, sessions=manager)
    qtbot.addWidget(window)
    window.show()

    dialog = window.open_sessions("new")
    dialog.nameInput.setText("five grand")
    dialog.balanceInput.clear()
    qtbot.keyClicks(dialog.balanceInput, "5000")
    dialog.set_datasets(["BTCUSDT-2025-03"])
    switched = []
    window.session_switched.connect(lambda old, new: switched.append((old, new)))
    dialog.createButton.click()
    (old, desk), = switched
    assert old is first and window.desk is desk
    summary = journal.session(desk.session_id)
    assert (summary.name, summary.start_balance) == ("five grand", Decimal("5000"))
    assert window.account_panel.figures["wallet"].value.text() == "5,000.00 USDT"
    assert window.start_balance() == Decimal("5000")  # what the wipe-out offer compares equity with
    first.close()

    desk.pause()
    desk.feed(list(itertools.islice(desk.replay.ticks(), 4)))  # a price, without the asyncio replay loop
    desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, Decimal("0.010")))
    key = window.open_trades["BTCUSDT"]
    assert key == f"BTCUSDT:{desk.fills()[0].trade_id}"
    assert [t.trade_key for t in desk.trades()] == [key]  # the Trades tab keys round trips the same way
    qtbot.waitUntil(lambda: [s.kind for s in journal.screenshots(desk.session_id, key)] == ["entry"])
    assert journal.screenshot_png(journal.screenshots(desk.session_id, key)[0].sha256).startswith(b"\x89PNG")

    assert window.journal_panel.trade_key == key
    qtbot.keyClicks(window.journal_panel.notesInput, "first real note")
    qtbot.keyClicks(window.journal_panel.tagsInput, "a, b")
    qtbot.wait(SAVE_DELAY_MS + 200)
    note = journal.trade_note(desk.session_id, key)
    assert note.notes == "first real note" and note.tags == ("a", "b")

    # back to the first session through the list
    dialog = window.open_sessions("list")
    dialog.select_session(first.session_id)
    dialog.openButton.click()
    assert window.desk is not desk and window.desk.session_id == first.session_id
    assert window.journal_panel.trade_key is None
