"""Remembered settings (issue 10.4): a round trip through a temporary QSettings file, and a remembered geometry
that no longer fits the screen is clamped into its free area."""

from decimal import Decimal

import pytest
from PySide6.QtCore import QRect, QSettings
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from hexdesk.ui import settings, theme
from hexdesk.ui.main_window import MainWindow
from tests.ui.fake_desk import FakeDesk


@pytest.fixture
def store(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "hexdesk.ini"), QSettings.Format.IniFormat)


def make_window(qtbot) -> MainWindow:
    w = MainWindow(FakeDesk())
    qtbot.addWidget(w)
    w.show()
    return w


def test_settings_file_is_the_private_temporary_one():
    path = settings.store().fileName()
    assert "HexDesk" in path and "qsettings" in path  # tests/conftest.py moved the INI scope to a temp dir


def test_round_trip_of_window_ticket_leverage_and_splitters_but_not_the_sessions_speed(qtbot, store):
    first = make_window(qtbot)
    first.resize(770, 600)
    first.move(20, 30)
    first.ticket.set_symbol("ETHUSDT")
    first.ticket.orderTypeInput.setCurrentText("Limit")
    first.ticket.sizeByRisk.setChecked(False)
    first.ticket.riskInput.setValue(Decimal("0.75"))
    first.desk.set_leverage("ETHUSDT", 7)
    first.desk._speed = 300.0
    chart_splitter = first.notifications.parentWidget()  # chart pane, notices, tables
    chart_splitter.setSizes([300, 60, 200])
    wanted_sizes = chart_splitter.sizes()
    settings.save(first, store)

    second = make_window(qtbot)  # a fresh desk: every value below comes from the file
    assert second.ticket.symbol == "BTCUSDT" and second.desk.leverage("ETHUSDT") == 20
    settings.restore(second, store)
    assert (second.width(), second.height()) == (770, 600)
    assert second.ticket.symbol == "ETHUSDT"
    assert second.ticket.orderTypeInput.currentText() == "Limit"
    assert not second.ticket.sizeByRisk.isChecked()
    assert second.ticket.riskInput.value() == Decimal("0.75")
    assert second.desk.leverage("ETHUSDT") == 7
    assert second.ticket.leverageInput.value() == 7  # the ticket shows the restored leverage
    assert not any(c.startswith("speed") for c in second.desk.replay_calls)  # the speed is the session's own
    assert second.notifications.parentWidget().sizes() == wanted_sizes


def test_clamp_moves_and_shrinks_into_the_free_area():
    free = QRect(0, 0, 1280, 720)
    # saved on a 2560x1440 second monitor to the right: 1600x960 at x=2000
    assert settings.clamp_to(QRect(2000, 300, 1600, 960), free) == QRect(0, 0, 1280, 720)
    # partly below the screen: moved up so its bottom edge is the screen's (720 - 500 = 220)
    assert settings.clamp_to(QRect(100, 600, 800, 500), free) == QRect(100, 220, 800, 500)
    # left of the screen: moved right to x = 0
    assert settings.clamp_to(QRect(-900, 10, 800, 500), free) == QRect(0, 10, 800, 500)


def test_a_remembered_off_screen_geometry_is_clamped(qtbot, store):
    window = make_window(qtbot)
    window.resize(770, 500)
    window.move(5000, 4000)  # a monitor that is gone
    settings.save(window, store)
    again = make_window(qtbot)
    settings.restore(again, store)
    free = QApplication.primaryScreen().availableGeometry()
    assert free.contains(again.frameGeometry()), (again.frameGeometry(), free)
    assert (again.width(), again.height()) == (770, 500)


def test_first_run_fits_the_screen(qtbot, store):
    window = make_window(qtbot)
    settings.restore(window, store)  # nothing remembered: the default size, within the screen
    free = QApplication.primaryScreen().availableGeometry()
    assert window.frameGeometry().width() <= free.width()
    assert window.frameGeometry().height() <= max(free.height(), window.minimumSizeHint().height())


def test_theme_is_remembered(qtbot, store):
    window = make_window(qtbot)
    window.desktop.set_theme("light")
    settings.save(window, store)
    window.desktop.set_theme("dark")
    try:
        window.desktop.remember_from(store)
        assert theme.current_name() == "light"
        assert window.palette().color(QPalette.ColorRole.Window) == QColor("#f5f6f8")  # light BG
        assert window.desktop.theme_action.isChecked()
    finally:
        window.desktop.set_theme("dark")


def test_closing_a_remembering_window_saves_and_the_next_one_restores(qtbot, store):
    window = make_window(qtbot)
    window.desktop.remember_from(store)
    window.ticket.orderTypeInput.setCurrentText("Stop Market")
    window.close()  # the close event writes the file
    assert store.value("ticket/orderType") == "Stop Market"
    again = make_window(qtbot)
    again.desktop.remember_from(store)
    assert again.ticket.orderTypeInput.currentText() == "Stop Market"


def test_splitter_sizes_set_after_a_session_switch_come_back_in_the_next_window(qtbot, store):
    """The start-up shell's panels are rebuilt for the session (a switch) while the old ones await deletion: the
    sizes the trader set afterwards must be saved under the names the next start's window has."""
    first = make_window(qtbot)
    first.resize(900, 700)
    first.switch_session(FakeDesk())  # as MainWindow.open_desk does once the journal is open
    chart_splitter = first.notifications.parentWidget()
    chart_splitter.setSizes([250, 60, 250])
    wanted_sizes = chart_splitter.sizes()
    settings.save(first, store)
    assert sorted(k for k in store.allKeys() if k.startswith("splitters/")) == [
        "splitters/bodyAndTicket", "splitters/chartAndTables"]
    second = make_window(qtbot)
    second.resize(900, 700)
    settings.restore(second, store)
    assert second.notifications.parentWidget().sizes() == wanted_sizes
