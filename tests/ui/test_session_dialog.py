"""The session dialog (list, new, open, rename, reset, delete), switching the window to another desk, and the offer
of a new session after a wipe-out. Against a fake session manager (the contract's methods) and FakeDesks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QDateTime, QTimeZone

from hexdesk.engine.enums import MarginMode, Side
from hexdesk.engine.events import PositionLiquidated
from hexdesk.engine.fills import Fill
from hexdesk.market.candles import BundledDataset
from hexdesk.service import DeskChange
from hexdesk.ui.main_window import MainWindow
from hexdesk.ui.session_dialog import DAY_MS, NewSessionSpec, SessionDialog
from tests.ui.fake_desk import FakeDesk
from tests.ui.fake_sessions import FakeSessionManager, FakeSummary

D = Decimal
MAR_1 = 1740787200000  # 2025-03-01 00:00 UTC


def summaries() -> list[FakeSummary]:
    used = datetime(2026, 11, 28, 18, 30, tzinfo=UTC)
    return [
        FakeSummary(1, "March breakouts", D("10000"), D("10250.5"), trade_count=7, last_used_at=used),
        FakeSummary(2, "Scalping drill", D("5000"), D("4100"), trade_count=3),
        FakeSummary(3, "Old try", D("10000"), D("120"), status="archived", trade_count=12),
    ]


@pytest.fixture
def manager() -> FakeSessionManager:
    return FakeSessionManager(summaries())


@pytest.fixture
def dialog(qtbot, manager) -> SessionDialog:
    d = SessionDialog(manager, current_id=1)
    qtbot.addWidget(d)
    d.show()
    return d


def row_texts(dialog: SessionDialog, row: int) -> list[str]:
    return [dialog.table.item(row, c).text() for c in range(dialog.table.columnCount())]


def test_the_list_shows_balance_pnl_trades_last_use_and_status(dialog):
    assert dialog.table.rowCount() == 3
    # balance = start + P&L: 10,000 + 250.50; P&L signed
    assert row_texts(dialog, 0) == ["1", "March breakouts  (open now)", "active", "10,250.50", "+250.50", "7",
                                    "2026-11-28 18:30"]
    assert row_texts(dialog, 1)[2:6] == ["active", "4,100.00", "-900.00", "3"]
    assert row_texts(dialog, 2)[2] == "archived"


def test_buttons_follow_the_selection(dialog):
    dialog.select_session(1)  # the session open now: no open, no delete
    assert not dialog.openButton.isEnabled() and not dialog.deleteButton.isEnabled()
    assert dialog.resetButton.isEnabled() and dialog.renameButton.isEnabled()
    dialog.select_session(3)  # archived: read-only, no open, no reset
    assert not dialog.openButton.isEnabled() and not dialog.resetButton.isEnabled()
    assert "read-only" in dialog.openButton.toolTip()
    assert dialog.deleteButton.isEnabled()


def test_open_hands_the_desk_to_whoever_listens(qtbot, dialog, manager):
    dialog.select_session(2)
    with qtbot.waitSignal(dialog.deskOpened) as opened:
        dialog.openButton.click()
    assert manager.calls == [("open", 2)]
    assert opened.args[0] is manager.desks[2]
    assert opened.args[0].balance == D("4100")
    assert not dialog.isVisible()


def test_rename(dialog, manager):
    dialog.select_session(2)
    dialog.ask_name = lambda current: f"  {current} v2 "
    dialog.renameButton.click()
    assert manager.calls == [("rename", 2, "Scalping drill v2")]
    assert row_texts(dialog, 1)[1] == "Scalping drill v2"
    assert dialog.selected_id() == 2  # the selection survives the reload


def test_reset_asks_first_then_archives_the_old_one_and_opens_a_copy(qtbot, dialog, manager):
    asked: list[str] = []
    dialog.select_session(2)
    dialog.confirm = lambda title, text: asked.append(text) or False
    dialog.resetButton.click()
    assert manager.calls == [] and "archived and read-only" in asked[0]
    dialog.confirm = lambda title, text: True
    with qtbot.waitSignal(dialog.deskOpened) as opened:
        dialog.resetButton.click()
    assert manager.calls == [("reset", 2)]
    statuses = {s.id: s.status for s in manager.list()}
    assert statuses[2] == "archived"  # kept, not deleted
    new = manager.list()[-1]
    assert (new.archived_from_id, new.start_balance, new.balance) == (2, D("5000"), D("5000"))
    assert opened.args[0] is manager.desks[new.id]


def test_delete_names_the_session_and_needs_a_yes(dialog, manager):
    asked: list[str] = []
    dialog.select_session(3)
    dialog.confirm = lambda title, text: asked.append(text) or False
    dialog.deleteButton.click()
    assert "“Old try” (#3)" in asked[0] and "cannot be undone" in asked[0]
    assert [s.id for s in manager.list()] == [1, 2, 3]
    dialog.confirm = lambda title, text: True
    dialog.deleteButton.click()
    assert manager.calls == [("delete", 3)]
    assert dialog.table.rowCount() == 2
    assert dialog.isVisible()  # deleting switches nothing


def test_the_open_session_cannot_be_deleted(dialog, manager):
    dialog.select_session(1)
    dialog.confirm = lambda title, text: True
    dialog.delete_selected()
    assert manager.calls == []


def test_a_manager_failure_is_said_in_the_dialog(dialog, manager):
    dialog.select_session(2)
    manager.fail_next = OSError("disk full")
    dialog.open_selected()
    assert dialog.isVisible() and dialog.desk is None
    assert dialog.listMessage.text() == "Could not open “Scalping drill”: disk full"


# --- the New tab ------------------------------------------------------------------------------------------


def test_new_session_with_a_typed_balance_is_exact(qtbot, dialog, manager):
    dialog.tabs.setCurrentIndex(1)
    dialog.nameInput.setText("Five grand")
    dialog.balanceInput.clear()
    qtbot.keyClicks(dialog.balanceInput, "5000.01")
    dialog.fundingInput.clear()
    qtbot.keyClicks(dialog.fundingInput, "0.02")
    dialog.speedInput.setCurrentText("300x")
    dialog.set_datasets(["BTCUSDT-2025-03"])
    with qtbot.waitSignal(dialog.deskOpened) as opened:
        dialog.createButton.click()
    (kind, spec), = manager.calls
    assert kind == "new"
    assert spec.name == "Five grand"
    assert spec.balance == D("5000.01")  # typed, not a float's 5000.0100000000002
    assert spec.datasets == ("BTCUSDT-2025-03",)
    assert spec.start_ms is None and not spec.blind  # after the first day, the default
    assert spec.speed == 300.0
    assert spec.funding_rate == D("0.0002")  # 0.02 % per 8 h
    assert opened.args[0].balance == D("5000.01")


@pytest.mark.parametrize(("typed", "reason"), [("0", "above 0"), ("abc", ""), ("2000000000", "At most 1,000,000,000")])
def test_a_bad_balance_starts_nothing(qtbot, dialog, manager, typed, reason):
    dialog.balanceInput.clear()
    qtbot.keyClicks(dialog.balanceInput, typed)
    dialog.createButton.click()
    assert manager.calls == []
    assert dialog.newMessage.text().startswith("Starting balance:")
    assert reason in dialog.newMessage.text()


def test_start_at_a_chosen_date(qtbot, dialog, manager):
    dialog.set_datasets(["BTCUSDT-2025-03", "ETHUSDT-2025-03"])
    when = MAR_1 + 10 * DAY_MS + 14 * 3_600_000 + 30 * 60_000  # 2025-03-11 14:30 UTC
    dialog.startDate.setDateTime(QDateTime.fromMSecsSinceEpoch(when, QTimeZone.utc()))
    assert dialog.startAtDate.isChecked()  # picking a date picks "at a date"
    dialog.createButton.click()
    spec = manager.calls[0][1]
    assert spec.start_ms == when and not spec.blind


def test_a_blind_start_leaves_the_draw_to_the_session_manager(dialog, manager):
    dialog.startBlind.setChecked(True)
    dialog.createButton.click()
    spec = manager.calls[0][1]
    assert spec.blind and spec.start_ms is None  # SessionSpec: blind without start_ms = a random start
    assert spec.name == "Blind session"


def test_two_months_of_one_symbol_are_refused(qtbot, manager):
    fake = [BundledDataset("BTCUSDT-2022-06", "BTCUSDT", "1m", MAR_1, MAR_1 + 9 * DAY_MS, 1, Path("x")),
            BundledDataset("BTCUSDT-2025-03", "BTCUSDT", "1m", MAR_1, MAR_1 + 9 * DAY_MS, 1, Path("y"))]
    d = SessionDialog(manager, datasets=fake)
    qtbot.addWidget(d)
    d.set_datasets(["BTCUSDT-2022-06", "BTCUSDT-2025-03"])
    d.createButton.click()
    assert manager.calls == []
    assert "choose one dataset per symbol" in d.newMessage.text()
    d.set_datasets([])
    d.createButton.click()
    assert d.newMessage.text() == "Choose at least one dataset."


def test_spec_defaults_match_the_command_line_defaults(dialog):
    spec = dialog.spec()
    assert spec == NewSessionSpec(name="Replay · BTCUSDT-2025-03, ETHUSDT-2025-03", balance=D("10000"),
                                  datasets=("BTCUSDT-2025-03", "ETHUSDT-2025-03"))


# --- switching the window to another desk -----------------------------------------------------------------


def test_switch_session_rebinds_every_panel(qtbot):
    old, new = FakeDesk(history_len=600), FakeDesk(history_len=300, balance=D("5000"), mode_label="Replay · two")
    window = MainWindow(old)
    qtbot.addWidget(window)
    window.show()
    switched = []
    window.session_switched.connect(lambda a, b: switched.append((a, b)))
    assert old.subscriber_count == 1

    window.switch_session(new)

    assert switched == [(old, new)]
    assert (old.subscriber_count, new.subscriber_count) == (0, 1)
    for panel in (window.ticket, window.replay_bar, window.account_panel, window.positions_table,
                  window.orders_table, window.fills_table, window.journal_panel):
        assert panel.desk is new
    assert window.windowTitle() == "HexDesk — Replay · two"
    assert window.chart.candle_count == 300  # the new desk's history
    assert window.account_panel.figures["wallet"].value.text() == "5,000.00 USDT"

    # the old desk no longer reaches the window; the new one does
    before = window.chart.candle_count
    old.feed([old.next_tick() for _ in range(8)])
    qtbot.wait(60)
    assert window.chart.candle_count == before
    new.feed([new.next_tick() for _ in range(8)])
    qtbot.waitUntil(lambda: window.chart.candle_count == before + 2)
    # and the ticket sends orders to the new desk
    window.ticket.quantityInput.setText("0.010")
    window.ticket.buyButton.click()
    assert len(new.submitted) == 1 and old.submitted == []


def test_switch_writes_pending_journal_edits_to_the_old_desk(qtbot):
    old, new = FakeDesk(), FakeDesk()
    window = MainWindow(old)
    qtbot.addWidget(window)
    window.show_trade_journal("BTCUSDT:1")
    qtbot.keyClicks(window.journal_panel.notesInput, "late exit")
    window.switch_session(new)  # before the 300 ms debounce
    assert old.trade_note("BTCUSDT:1").notes == "late exit"
    assert new.trade_note("BTCUSDT:1") is None
    assert window.journal_panel.trade_key is None


def test_a_dialog_opened_desk_becomes_the_windows(qtbot, manager):
    window = MainWindow(FakeDesk(session_id=1), sessions=manager)
    qtbot.addWidget(window)
    dialog = window.open_sessions("list")
    assert dialog is not None and dialog.tabs.currentIndex() == 0
    dialog.select_session(2)
    with qtbot.waitSignal(window.session_switched):
        dialog.openButton.click()
    assert window.desk is manager.desks[2]


# --- the offer after a wipe-out ----------------------------------------------------------------------------


def liquidate(desk: FakeDesk, wallet_left: Decimal) -> None:
    """Publish a liquidation that left ``wallet_left`` in the wallet."""
    desk._wallet = wallet_left
    fill = Fill(99, 98, "BTCUSDT", Side.SELL, D("80000"), D("1.000"), D("0"), "USDT", None, D("-9500"),
                desk.clock_ms, True)
    event = PositionLiquidated(50, desk.clock_ms, "BTCUSDT", MarginMode.CROSS, Side.BUY, D("1.000"), D("90000"),
                               D("80500"), D("80000"), D("400"), D("9500"), D("0"), fill)
    desk.publish(DeskChange((), (event,)))


def test_a_wipe_out_offers_a_new_session_that_opens_the_new_tab(qtbot, manager):
    desk = FakeDesk(session_id=1, start_balance=D("10000"))
    window = MainWindow(desk, sessions=manager)
    qtbot.addWidget(window)
    window.show()
    liquidate(desk, D("499.99"))  # 4.99999 % of 10,000: below 5 %
    qtbot.waitUntil(lambda: window.wipe_out_offer is not None)
    offer = window.wipe_out_offer
    assert offer.isVisible() and not offer.isModal()
    assert "499.99 USDT, 4.99% of the 10,000.00 USDT" in offer.text.text()
    offer.newButton.click()
    qtbot.waitUntil(lambda: window.session_dialog is not None)
    assert window.session_dialog.tabs.currentIndex() == 1  # the New tab


def test_no_offer_while_enough_is_left(qtbot):
    desk = FakeDesk(start_balance=D("10000"))
    window = MainWindow(desk)
    qtbot.addWidget(window)
    liquidate(desk, D("500"))  # exactly 5 %: still enough to practise with
    qtbot.wait(100)
    assert window.wipe_out_offer is None


def test_the_spec_is_handed_over_as_the_services_session_spec():
    from hexdesk.service import SessionSpec
    from hexdesk.ui.session_dialog import make_spec

    ours = NewSessionSpec("n", D("5000.5"), ("BTCUSDT-2025-03",), blind=True, speed=4.0, funding_rate=D("0.0002"))
    assert make_spec(ours) == SessionSpec(name="n", balance=D("5000.5"), datasets=("BTCUSDT-2025-03",), blind=True,
                                          speed=4.0, funding_rate=D("0.0002"))


def test_trades_are_counted_from_the_journals_fills_when_the_summary_has_no_count(qtbot):
    from types import SimpleNamespace

    from hexdesk.ui.session_dialog import count_round_trips

    def fill(symbol, side, qty):
        return SimpleNamespace(symbol=symbol, side=side, quantity=D(qty))

    fills = [
        fill("BTCUSDT", Side.BUY, "0.1"), fill("BTCUSDT", Side.BUY, "0.1"),  # open, add: 1
        fill("ETHUSDT", Side.SELL, "1"),  # another symbol: 2
        fill("BTCUSDT", Side.SELL, "0.5"),  # long 0.2 -> short 0.3, a reversal: 3
        fill("BTCUSDT", Side.BUY, "0.3"), fill("ETHUSDT", Side.BUY, "1"),  # both flat
        fill("BTCUSDT", Side.BUY, "0.1"),  # 4
    ]
    assert count_round_trips(fills) == 4

    from datetime import UTC, datetime

    from hexdesk.storage.views import SessionMode, SessionSummary

    manager = FakeSessionManager()
    manager.summaries = [SessionSummary(1, "from the journal", SessionMode.REPLAY, "BTCUSDT-2025-03",
                                        datetime(2026, 11, 1, tzinfo=UTC), None, D("100"), "test", {}, fill_count=7)]
    manager.journal = SimpleNamespace(fills=lambda sid: fills if sid == 1 else [])
    d = SessionDialog(manager)
    qtbot.addWidget(d)
    assert d.table.item(0, 5).text() == "4"
    del manager.journal  # no journal to count from: the fill count says what is known
    d.reload()
    assert d.table.item(0, 5).text() == "7 fills"
