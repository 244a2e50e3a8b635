"""Cold start (issue 10.3): the window paints before the journal opens, and no order is accepted until it has.

The desk is built with ``defer_journal=True`` as the app builds it; until ``open_journal`` the ticket's Buy / Sell
are disabled with "Opening the journal…" and the desk itself refuses an order (a second line of defence: a
keyboard shortcut or a script cannot slip one in). Once the journal is open, what happened before (the account
opening, a leverage change) is in it, and orders go through and are journaled.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton

from hexdesk.engine.enums import Side
from hexdesk.engine.events import AccountOpened, LeverageChanged, OrderFilled
from hexdesk.engine.orders import OrderRequest
from hexdesk.service import open_replay_session
from hexdesk.service.desk import JOURNAL_NOT_OPEN
from hexdesk.storage.journal import Journal
from hexdesk.ui.ticket import OrderTicket

BTC = "BTCUSDT"


def test_orders_wait_for_the_journal_and_nothing_is_lost(qtbot, tmp_path: Path) -> None:
    desk = open_replay_session(None, ("BTCUSDT-2025-03",), defer_journal=True)
    assert desk.replay is not None
    ticks = []
    for t in desk.replay.ticks():  # a price for the ticket
        ticks.append(t)
        if len(ticks) == 4:
            break
    desk.feed(ticks)
    ticket = OrderTicket(desk)
    qtbot.addWidget(ticket)
    ticket.show()
    edit = ticket.findChild(QLineEdit, "quantityInput")
    edit.clear()
    qtbot.keyClicks(edit, "0.01")
    buy = ticket.findChild(QPushButton, "buyButton")

    assert not desk.journal_open
    assert not buy.isEnabled()
    assert JOURNAL_NOT_OPEN in ticket.findChild(QLabel, "blockedLabel").text()
    qtbot.mouseClick(buy, Qt.MouseButton.LeftButton)
    refused = desk.submit(OrderRequest.market(BTC, Side.BUY, Decimal("0.01")))
    assert not refused.ok and refused.rejection is not None and refused.rejection.msg == JOURNAL_NOT_OPEN
    assert not any(type(e).__name__ == "OrderAccepted" for e in desk.exchange.events)
    assert desk.set_leverage(BTC, 7) is None  # settings may change meanwhile: they are journaled on opening

    journal = Journal.open(tmp_path / "j.db")
    try:
        desk.open_journal(journal)
        ticket.journal_opened()
        assert desk.journal_open and buy.isEnabled()
        qtbot.mouseClick(buy, Qt.MouseButton.LeftButton)
        assert desk.session_id is not None
        logged = journal.events(desk.session_id)
        kinds = [type(e) for e in logged]
        assert kinds[0] is AccountOpened and LeverageChanged in kinds and OrderFilled in kinds
        assert [e.seq for e in logged] == [e.seq for e in desk.exchange.events]  # every event, once, in order
    finally:
        desk.close()
        journal.close()
