"""The trade journal: fields saved as typed (debounced, on leaving, on switching trade, on close), the day note,
and the chart screenshots taken at each trade's entry and exit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtGui import QPixmap

from hexdesk.engine.enums import Side
from hexdesk.engine.orders import OrderRequest
from hexdesk.ui.journal_panel import SAVE_DELAY_MS, JournalPanel, day_of, parse_tags
from hexdesk.ui.main_window import MainWindow
from tests.ui.fake_desk import FakeDesk

D = Decimal


@pytest.fixture
def desk() -> FakeDesk:
    return FakeDesk()


@pytest.fixture
def panel(qtbot, desk) -> JournalPanel:
    p = JournalPanel(desk)
    qtbot.addWidget(p)
    p.show()
    return p


@pytest.fixture
def window(qtbot, desk) -> MainWindow:
    w = MainWindow(desk)
    qtbot.addWidget(w)
    w.show()
    return w


def test_parse_tags():
    assert parse_tags(" breakout, A+ ,,Breakout,  news  day ") == ("breakout", "A+", "news day")
    assert parse_tags("") == ()


def test_nothing_to_edit_until_a_trade_is_shown(panel):
    assert not panel.notesInput.isEnabled() and not panel.ratingInput.isEnabled()
    assert panel.dayNoteInput.isEnabled()  # the day is there from the start


def test_typing_saves_once_after_the_pause_and_reads_back(qtbot, panel, desk):
    panel.show_trade("BTCUSDT:7")
    qtbot.keyClicks(panel.notesInput, "Entered on the retest")
    assert desk.note_saves == []  # not on every key
    qtbot.wait(SAVE_DELAY_MS + 150)
    assert len(desk.note_saves) == 1  # one save for the whole burst of typing
    assert desk.trade_note("BTCUSDT:7").notes == "Entered on the retest"


def test_every_field_is_saved(qtbot, panel, desk):
    panel.show_trade("ETHUSDT:3")
    panel.setupInput.setEditText("")
    qtbot.keyClicks(panel.setupInput.lineEdit(), "range fade")
    qtbot.keyClicks(panel.tagsInput, "fade, asia,  fade")
    qtbot.keyClicks(panel.mistakesInput, "moved the stop")
    panel.emotionInput.setCurrentText("impatient")
    panel.ratingInput.setCurrentText("2")
    qtbot.waitUntil(lambda: not panel.pending, timeout=2000)
    note = desk.trade_note("ETHUSDT:3")
    assert (note.setup, note.tags, note.mistakes, note.emotion, note.rating) == (
        "range fade", ("fade", "asia"), "moved the stop", "impatient", 2)


def test_a_stored_note_is_shown_and_the_sessions_setups_offered(qtbot, panel, desk):
    desk.save_trade_note("BTCUSDT:1", setup="breakout", notes="first", tags=("a", "b"), rating=4, emotion="calm")
    desk.save_trade_note("BTCUSDT:5", setup="Pullback")
    panel.show_trade("BTCUSDT:1")
    assert panel.notesInput.toPlainText() == "first"
    assert panel.tagsInput.text() == "a, b"
    assert (panel.ratingInput.currentText(), panel.emotionInput.currentText()) == ("4", "calm")
    assert panel.setupInput.currentText() == "breakout"
    offered = [panel.setupInput.itemText(i) for i in range(panel.setupInput.count())]
    assert offered == ["", "breakout", "Pullback"]
    saves = len(desk.note_saves)
    qtbot.wait(SAVE_DELAY_MS + 100)
    assert len(desk.note_saves) == saves  # showing a note is not an edit


def test_switching_trade_saves_the_pending_edit_first(qtbot, panel, desk):
    panel.show_trade("BTCUSDT:1")
    qtbot.keyClicks(panel.notesInput, "held too long")
    panel.show_trade("BTCUSDT:9")  # before the pause ends
    assert desk.trade_note("BTCUSDT:1").notes == "held too long"
    assert panel.notesInput.toPlainText() == ""
    qtbot.wait(SAVE_DELAY_MS + 100)
    assert desk.trade_note("BTCUSDT:9") is None  # the empty new one was not saved


def test_leaving_a_field_saves_at_once(qtbot, panel, desk):
    panel.show_trade("BTCUSDT:1")
    panel.activateWindow()
    panel.mistakesInput.setFocus()
    qtbot.keyClicks(panel.mistakesInput, "chased")
    panel.tagsInput.setFocus()
    qtbot.waitUntil(lambda: desk.trade_note("BTCUSDT:1") is not None, timeout=SAVE_DELAY_MS // 2)
    assert desk.trade_note("BTCUSDT:1").mistakes == "chased"


def test_closing_the_window_saves_what_was_typed(qtbot, window, desk):
    window.show_trade_journal("BTCUSDT:4", reveal=True)
    assert window.tabs.currentWidget() is window.journal_panel
    qtbot.keyClicks(window.journal_panel.notesInput, "x")
    window.close()
    assert desk.trade_note("BTCUSDT:4").notes == "x"


def test_the_day_note_is_keyed_by_the_replay_day(qtbot, panel, desk):
    day = day_of(desk.clock_ms)
    assert panel.dayCaption.text() == f"Day note · {day}"
    qtbot.keyClicks(panel.dayNoteInput, "CPI at 14:30, stayed flat")
    qtbot.wait(SAVE_DELAY_MS + 150)
    assert desk.day_note(day) == "CPI at 14:30, stayed flat"
    # the replay moves into the next day: the old day's note stays, the new day starts blank
    desk._clock += 24 * 3_600_000
    panel.refresh_day()
    assert panel.dayNoteInput.toPlainText() == ""
    assert desk.day_note(day) == "CPI at 14:30, stayed flat"


# --- screenshots at entry and exit ---------------------------------------------------------------------------


def shots(desk: FakeDesk, key: str) -> list[str]:
    return [s.kind for s in desk.screenshots(key)]


def test_entry_and_exit_are_photographed_with_the_trade_key(qtbot, window, desk):
    desk.push_tick("BTCUSDT", D("84950.1"))
    desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.100")))
    key = f"BTCUSDT:{desk.fills()[0].trade_id}"  # the contract: the opening fill's engine trade id
    qtbot.waitUntil(lambda: shots(desk, key) == ["entry"])
    png = desk.screenshot_png(desk.screenshots(key)[0].sha256)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = QPixmap()
    assert image.loadFromData(png, "PNG")
    assert (image.width(), image.height()) == (window.chart.width(), window.chart.height())
    assert window.journal_panel.trade_key == key  # the trade just opened is ready to journal
    assert window.open_trades == {"BTCUSDT": key}

    desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.050")))  # adding is neither entry nor exit
    qtbot.wait(100)
    assert shots(desk, key) == ["entry"]
    desk.close_position("BTCUSDT")
    qtbot.waitUntil(lambda: shots(desk, key) == ["entry", "exit"])
    assert window.open_trades == {}
    qtbot.waitUntil(lambda: len(window.journal_panel.thumbnails) == 2)
    assert [t.property("kind") for t in window.journal_panel.thumbnails] == ["entry", "exit"]
    thumb = window.journal_panel.thumbnails[0]
    assert thumb.pixmap().width() <= 144
    viewer = thumb.open_viewer()  # a click shows it full size
    assert viewer.pixmap().size() == image.size()
    viewer.close()


def test_a_reversal_is_an_exit_and_an_entry(qtbot, window, desk):
    desk.push_tick("BTCUSDT", D("84950.1"))
    desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.100")))
    first = f"BTCUSDT:{desk.fills()[0].trade_id}"
    desk.submit(OrderRequest.market("BTCUSDT", Side.SELL, D("0.300")))  # long 0.1 -> short 0.2
    second = f"BTCUSDT:{desk.fills()[1].trade_id}"
    qtbot.waitUntil(lambda: shots(desk, first) == ["entry", "exit"] and shots(desk, second) == ["entry"])
    assert window.open_trades == {"BTCUSDT": second}


def test_a_fill_off_the_chart_is_not_photographed(qtbot, window, desk):
    desk.push_tick("ETHUSDT", D("2200.00"))
    desk.submit(OrderRequest.market("ETHUSDT", Side.BUY, D("1.000")))  # the chart shows BTCUSDT
    key = f"ETHUSDT:{desk.fills()[0].trade_id}"
    qtbot.wait(150)
    assert window.open_trades == {"ETHUSDT": key}  # followed all the same: its exit is known
    assert desk.screenshots(key) == []


def test_a_resumed_open_trade_is_known_from_the_fills(qtbot):
    desk = FakeDesk()
    desk.push_tick("BTCUSDT", D("84950.1"))
    desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.100")))
    key = f"BTCUSDT:{desk.fills()[0].trade_id}"
    window = MainWindow(desk)  # a window opened on a session with the trade already open
    qtbot.addWidget(window)
    assert window.open_trades == {"BTCUSDT": key}
    assert window.journal_panel.trade_key == key
    desk.close_position("BTCUSDT")
    qtbot.waitUntil(lambda: shots(desk, key) == ["exit"])


def test_the_journal_tab_is_last_and_labelled(window):
    assert window.tabs.tabText(window.tabs.count() - 1) == "Journal"
    assert window.tabs.widget(window.tabs.count() - 1) is window.journal_panel
    assert window.journal_panel.notesInput.placeholderText()


def test_a_desk_without_a_journal_offers_nothing_to_type_into(qtbot):
    desk = FakeDesk(session_id=None)  # a desk started without a journal has no session id
    panel = JournalPanel(desk)
    qtbot.addWidget(panel)
    panel.show_trade("BTCUSDT:1")
    assert not panel.notesInput.isEnabled() and not panel.dayNoteInput.isEnabled()
    assert "keeps no journal" in panel.tradeLabel.text()


def test_while_the_journal_cannot_write_the_edit_waits_and_says_so(qtbot, panel, desk):
    panel.show_trade("BTCUSDT:1")
    desk.journal_available = False
    desk.journal_problem = "The journal cannot be written: disk full."
    qtbot.keyClicks(panel.notesInput, "kept")
    qtbot.wait(SAVE_DELAY_MS + 150)
    assert desk.trade_note("BTCUSDT:1") is None and panel.pending
    assert panel.saveStatus.isVisible() and "disk full" in panel.saveStatus.text()
    desk.journal_available = True
    panel.flush()  # the retry timer's turn
    assert desk.trade_note("BTCUSDT:1").notes == "kept"
    assert not panel.pending and not panel.saveStatus.isVisible()


def test_a_real_desk_keeps_the_notes_in_its_journal(qtbot):
    from hexdesk.service import open_replay_session
    from hexdesk.storage.journal import Journal

    journal = Journal.in_memory()
    desk = open_replay_session(journal, ("BTCUSDT-2025-03",), paused=True)
    panel = JournalPanel(desk)
    qtbot.addWidget(panel)
    panel.show_trade("BTCUSDT:5")
    qtbot.keyClicks(panel.notesInput, "via the journal")
    qtbot.keyClicks(panel.dayNoteInput, "day")
    panel.flush()
    assert journal.trade_note(desk.session_id, "BTCUSDT:5").notes == "via the journal"
    assert journal.day_notes(desk.session_id) == {panel.day: "day"}
    desk.close()
    journal.close()
