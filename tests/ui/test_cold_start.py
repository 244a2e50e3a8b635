"""Cold start (issue 10.3): the window is painted on a shell desk before the journal is open, and no order can be
sent until it is: B, Buy, Enter and the chart's right-click all say why instead; once the journal's session is
handed to the window, the same keys trade and the order is journaled. The shell guesses what the last run showed.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication

from hexdesk.engine.enums import OrderType, Side
from hexdesk.engine.orders import OrderRequest
from hexdesk.market.candles import load_bundled
from hexdesk.service import DEFAULT_DATASETS, SessionManager, SessionSpec
from hexdesk.storage.journal import Journal
from hexdesk.ui import settings, shell
from hexdesk.ui.main_window import MainWindow
from hexdesk.ui.ticket import OrderTicket

DAY_MS = 24 * 60 * 60 * 1000


def _args(*argv: str) -> argparse.Namespace:
    from hexdesk.app import parse_args

    return parse_args(list(argv))


@pytest.fixture
def shell_window(qtbot) -> MainWindow:
    desk = shell.open_shell(shell.ShellGuess(DEFAULT_DATASETS))
    assert desk is not None
    w = MainWindow(desk)
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: isinstance(w.ticket, OrderTicket))  # the shell's ticket comes after its first paint
    w.activateWindow()
    w.chart.setFocus()  # not a text field: B, S and Enter are shortcuts
    return w


def press(qtbot, window: MainWindow, key: Qt.Key) -> None:
    qtbot.keyClick(QApplication.focusWidget() or window, key)


def right_click_menu(window: MainWindow) -> list[str]:
    """A real context-menu event on the chart at the middle of the price pane; the menu's entries."""
    chart = window.chart
    (x0, x1), (y0, y1) = chart.price_view.viewRange()
    view = window.desktop.chart_trading.graphics_view
    pos = view.mapFromScene(chart.price_view.mapViewToScene(QPointF((x0 + x1) / 2, (y0 + y1) / 2)))
    QApplication.sendEvent(view.viewport(), QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos,
                                                             view.viewport().mapToGlobal(pos)))
    menu = window.desktop.chart_trading.menu
    assert menu is not None
    return [a.text() for a in menu.actions() if a.isEnabled()] + [f"(off) {a.text()}" for a in menu.actions()
                                                                  if not a.isEnabled()]


def test_the_shell_shows_the_first_day_of_the_default_session_and_holds_orders(shell_window):
    w = shell_window
    btc = load_bundled("BTCUSDT-2025-03")
    # a new session starts one day after the data's first candle: the shell shows that day, 1440 one-minute candles
    assert w.chart.candle_count == 1440
    assert w.chart.candle_at_index(1439).t == (btc.first_open_ms + DAY_MS - 60_000) / 1000
    assert w.orders_held == shell.OPENING
    # said by the title, the replay bar and the status bar; not by the red line, which would shift the window down
    # (under the chart the first frame drew in place) and up again a second later
    assert not w.journal_banner.isVisible()
    assert "Opening the journal" in w.replay_bar.modeLabel.text() and "Opening the journal" in w.mode_status.text()
    assert not w.ticket.isEnabled() and w.ticket.toolTip() == shell.OPENING
    assert "Opening the journal" in w.windowTitle()
    assert not w.replay_bar.playButton.isHidden()  # a shell is a replay waiting for its journal, not a live desk
    for control in (w.replay_bar.playButton, w.replay_bar.stepButton, w.replay_bar.speedInput):
        assert not control.isEnabled() and control.toolTip() == shell.OPENING  # nothing plays before it is open


def test_the_shell_paints_the_remembered_symbol_then_brings_its_ticket_held(qtbot):
    desk = shell.open_shell(shell.ShellGuess(DEFAULT_DATASETS))
    w = MainWindow(desk)
    qtbot.addWidget(w)
    assert not isinstance(w.ticket, OrderTicket)  # nothing of the ticket is built before the first paint
    w.ticket.set_symbol("ETHUSDT")  # what settings.restore does with the remembered symbol
    assert w.chart_symbol == "ETHUSDT"
    w.show()
    qtbot.waitUntil(lambda: isinstance(w.ticket, OrderTicket))
    assert w.ticket.symbol == "ETHUSDT" and w.ticket_scroll.widget() is w.ticket
    assert not w.ticket.isEnabled() and w.ticket.toolTip() == shell.OPENING
    w.chart_toolbar.symbolChosen.emit("BTCUSDT")  # the toolbar drives the real ticket now, and the chart follows
    assert w.ticket.symbol == "BTCUSDT" and w.chart_symbol == "BTCUSDT"


def test_the_shell_has_the_bottom_tabs_titles_and_builds_their_tables_once_the_session_is_open(
    shell_window, tmp_path
):
    w = shell_window
    titles = ["Positions", "Open orders", "Fills", "Trades", "Journal"]
    assert [w.tabs.tabText(i) for i in range(w.tabs.count())] == titles  # the layout the session will have
    assert w.tables_deferred and not hasattr(w, "positions_table")  # empty pages: nothing built for the shell
    journal = Journal.open(tmp_path / "j.db")
    try:
        sessions = SessionManager(journal)
        w.open_desk(sessions.new(SessionSpec()), sessions)
        assert not w.tables_deferred
        pages = [w.positions_table, w.orders_table, w.fills_table, w.trades_tab, w.journal_panel]
        assert [w.tabs.widget(i) for i in range(w.tabs.count())] == pages
        assert [w.tabs.tabText(i) for i in range(w.tabs.count())] == titles
    finally:
        w.close()
        journal.close()


def test_the_trades_service_loads_its_storage_code_only_when_asked():
    """``hexdesk.service.trades`` (the window's imports) must not bring the round trips and statistics of storage
    before the first paint; they come when a screen asks for trades."""
    code = (
        "import sys\n"
        "import hexdesk.service.trades as t\n"
        "print(sorted(m for m in ('hexdesk.storage.statistics', 'hexdesk.storage.trades') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[0] == "[]"


def test_nothing_is_sent_before_the_journal_is_open_and_the_reason_is_shown(qtbot, shell_window):
    w = shell_window
    desk = w.desk
    ticket = w.ticket
    press(qtbot, w, Qt.Key.Key_B)
    assert ticket.chosen_side is None  # B did not pick a side
    assert w.message.text() == shell.OPENING and w.message.isVisible()
    w.message.clear()
    qtbot.mouseClick(ticket.buyButton, Qt.MouseButton.LeftButton)  # the button is disabled: the click does nothing
    press(qtbot, w, Qt.Key.Key_Return)
    assert w.message.text() == shell.OPENING
    assert right_click_menu(w) == [f"(off) {shell.OPENING}"]  # no "Buy limit at …"
    assert desk.open_orders() == [] and desk.fills() == [] and not desk.position("BTCUSDT").is_open
    # whatever path reaches the shell desk, it refuses and says why
    refused = desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, Decimal("0.01")))
    assert not refused.ok and refused.rejection.msg == shell.OPENING
    assert desk.set_leverage("BTCUSDT", 5) is not None and desk.leverage("BTCUSDT") != 5
    assert not desk.cancel("BTCUSDT", 1).ok and not desk.close_position("BTCUSDT").ok


def test_once_the_journal_is_open_the_same_keys_trade_and_the_order_is_journaled(qtbot, shell_window, tmp_path):
    w = shell_window
    journal = Journal.open(tmp_path / "j.db")
    try:
        sessions = SessionManager(journal)
        desk = sessions.new(SessionSpec())
        desk.pause()
        desk.feed(list(itertools.islice(desk.replay.ticks(), 4)))  # a price to trade at
        w.open_desk(desk, sessions)
        assert w.desk is desk and w.sessions is sessions and w.orders_held is None
        assert w.ticket.isEnabled() and not w.journal_banner.isVisible()
        assert w.replay_bar.playButton.isEnabled() and w.replay_bar.speedInput.isEnabled()
        assert "Opening the journal" not in w.windowTitle()
        w.chart.setFocus()
        assert any(t.startswith("Buy limit at") or t.startswith("Sell limit at") for t in right_click_menu(w))
        w.desktop.chart_trading.menu.close()
        w.ticket.sizeByRisk.setChecked(False)
        w.ticket.orderTypeInput.setCurrentText("Market")
        w.chart.setFocus()
        press(qtbot, w, Qt.Key.Key_B)
        assert w.ticket.chosen_side is Side.BUY
        qtbot.keyClicks(w.ticket.quantityInput, "0.010")
        qtbot.keyClick(w.ticket.quantityInput, Qt.Key.Key_Return)
        assert [(f.side, f.quantity) for f in desk.fills()] == [(Side.BUY, Decimal("0.010"))]
        assert [(f.side, f.quantity) for f in journal.fills(desk.session_id)] == [(Side.BUY, Decimal("0.010"))]
        assert desk.open_orders() == [] and desk.position("BTCUSDT").quantity == Decimal("0.010")
        assert all(o.type is OrderType.MARKET for o in journal.orders(desk.session_id))
    finally:
        w.close()
        journal.close()


def test_the_shell_guesses_what_the_last_run_showed(tmp_path):
    s = QSettings(str(tmp_path / "hexdesk.ini"), QSettings.Format.IniFormat)
    assert shell.guess(_args(), s) == shell.ShellGuess(DEFAULT_DATASETS)  # a first run: the default session
    s.setValue(shell.DATASETS_KEY, ["ETHUSDT-2025-03"])
    s.setValue(shell.CLOCK_KEY, 1_741_000_000_000)
    assert shell.guess(_args(), s) == shell.ShellGuess(("ETHUSDT-2025-03",), 1_741_000_000_000)
    assert shell.guess(_args("--session", "2"), s) == shell.ShellGuess(("ETHUSDT-2025-03",), 1_741_000_000_000)
    # a new session: the command line says what, from its start
    assert shell.guess(_args("--new-session"), s) == shell.ShellGuess(DEFAULT_DATASETS)
    assert shell.guess(_args("--dataset", "BTCUSDT-2025-03"), s) == shell.ShellGuess(("BTCUSDT-2025-03",))
    s.setValue(shell.BLIND_KEY, True)
    assert shell.guess(_args(), s) is None  # a blind session's data and dates are never shown as a guess
    assert shell.guess(_args("--live"), None) is None


def test_the_shell_stops_at_the_remembered_clock(tmp_path):
    eth = load_bundled("ETHUSDT-2025-03")
    clock = eth.first_open_ms + 2 * DAY_MS + 30 * 60_000  # two days and a half hour in
    desk = shell.open_shell(shell.ShellGuess(("ETHUSDT-2025-03",), clock))
    assert desk is not None and desk.symbols == ("ETHUSDT",)
    assert len(desk.history("ETHUSDT")) == 2 * 1440 + 30  # the candles closed before the clock, no later one
    assert desk.clock_ms == clock
    assert shell.open_shell(shell.ShellGuess(("NOSUCH-2025-03",))) is None  # unknown data: no shell, no crash


def test_closing_the_window_remembers_the_session_for_the_next_shell(qtbot, tmp_path):
    journal = Journal.open(tmp_path / "j.db")
    try:
        desk = SessionManager(journal).new(SessionSpec(datasets=("ETHUSDT-2025-03",)))
        w = MainWindow(desk)
        qtbot.addWidget(w)
        store = QSettings(str(tmp_path / "hexdesk.ini"), QSettings.Format.IniFormat)
        settings.save(w, store)
        assert shell.guess(_args(), store) == shell.ShellGuess(("ETHUSDT-2025-03",), desk.clock_ms)
    finally:
        journal.close()


def _probe(tmp_path: Path, *args: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HEXDESK_DB",)}
    env.update(QT_QPA_PLATFORM="offscreen", HEXDESK_EXIT_AFTER_FIRST_PAINT="1", XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    proc = subprocess.run([sys.executable, "-m", "hexdesk", *args], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("HEXDESK_COLD_START"))
    return dict(item.split("=", 1) for item in line.split()[1:])


def test_the_chart_is_painted_before_the_journal_libraries_are_even_imported(tmp_path):
    db = tmp_path / "j.db"
    first = _probe(tmp_path, "--offline", "--db", str(db))
    assert first["shell"] == "1" and first["candles"] == "1440"
    # no sqlmodel, SQLAlchemy, Alembic, httpx, websockets, qasync; no trades, statistics, tables or journal panel
    assert first["loaded_before_paint"] == "none"
    # before it, the first frame: painted before numpy, pyqtgraph, the engine or the desk were imported
    assert first["frame"] == "1" and first["frame_loaded"] == "none"
    assert float(first["first_paint"]) < float(first["window_paint"]) < float(first["orders_accepted"])
    with Journal.open(db) as j:
        (session,) = j.sessions()  # the journal was opened after the paint, and the session started in it
        assert session.is_active


def test_a_corrupt_journal_after_the_shell_is_reported_left_untouched_and_the_shell_closes(tmp_path, qapp, capsys):
    from hexdesk import app

    db = tmp_path / "j.db"
    db.write_bytes(b"not a journal" * 100)
    before = db.read_bytes()
    assert app.main(["--offline", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "not an SQLite database" in err and "left untouched" in err and "Traceback" not in err
    assert db.read_bytes() == before  # never overwritten
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]


def test_closing_the_shell_while_the_journal_opens_ends_the_program(tmp_path, qapp, monkeypatch):
    from hexdesk import app

    wait = shell.FirstPaint.wait

    def close_then_wait(self: shell.FirstPaint, timeout_ms: int = 3000) -> float:
        at = wait(self, timeout_ms)
        self.chart.window().close()  # the trader closes the window before the journal is open
        return at

    monkeypatch.setattr(shell.FirstPaint, "wait", close_then_wait)
    db = tmp_path / "j.db"
    assert app.main(["--offline", "--db", str(db)]) == 0
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    with Journal.open(db) as j:
        (session,) = j.sessions()  # opened, then left where it stood: resumable next time
        assert session.is_active


def test_a_wrong_guess_is_replaced_by_the_resumed_session(tmp_path):
    """The shell guessed ETHUSDT two hours in (a stale setting); the journal's last session is the default one:
    it is resumed, not replaced, and the chart is reloaded with its history."""
    db = tmp_path / "j.db"
    env = {k: v for k, v in os.environ.items() if k not in ("HEXDESK_DB",)}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    first = subprocess.run([sys.executable, "-m", "hexdesk", "--offline", "--db", str(db), "--close-after", "1"],
                           capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 0, first.stderr
    with Journal.open(db) as j:
        (session,) = j.sessions()
    ini = tmp_path / "cfg" / "HexDesk" / "HexDesk.ini"
    stale = QSettings(str(ini), QSettings.Format.IniFormat)
    eth = load_bundled("ETHUSDT-2025-03")
    stale.setValue(shell.DATASETS_KEY, ["ETHUSDT-2025-03"])
    stale.setValue(shell.CLOCK_KEY, eth.first_open_ms + 2 * 60 * 60_000)  # two hours in: 120 candles
    stale.setValue("ticket/symbol", "ETHUSDT")
    stale.sync()
    shown = _probe(tmp_path, "--offline", "--db", str(db))
    assert shown["shell"] == "1" and shown["candles_at_paint"] == "120"  # the guess was painted first
    assert shown["session"] == str(session.id)  # then the last session was resumed, not a new one started
    assert shown["symbol"] == "ETHUSDT" and int(shown["candles"]) >= 1440  # its chart: a day of history and more
    with Journal.open(db) as j:
        assert [s.id for s in j.sessions()] == [session.id]


def test_in_the_app_the_shell_builds_no_ticket_the_sessions_desk_comes_first(tmp_path, qapp, monkeypatch):
    """The app opens the journal right after the shell's first paint, before the event loop runs again: the shell's
    ticket (due SHELL_TICKET_DELAY_MS after its paint) is never built, only the session's."""
    from hexdesk import app
    from hexdesk.ui import ticket as ticket_module

    built: list[object] = []
    original = ticket_module.OrderTicket.__init__

    def counting(self, desk, *args, **kwargs) -> None:
        built.append(desk)
        original(self, desk, *args, **kwargs)

    monkeypatch.setattr(ticket_module.OrderTicket, "__init__", counting)
    monkeypatch.setenv(app.PROBE_ENV, "1")  # report the start and exit without running the session
    try:
        assert app.main(["--offline", "--db", str(tmp_path / "j.db")]) == 0
    finally:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, MainWindow):
                w.close()
    assert len(built) == 1 and not isinstance(built[0], shell.ShellDesk)
