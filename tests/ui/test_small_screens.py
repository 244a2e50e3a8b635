"""The window on small screens (issue 10.4): after the chart toolbar, status bar, journal and sessions merged in, the
window's minimum had grown to 882x682 px, past an 800x600 screen. These pin what a trader needs on such a screen."""

from PySide6.QtCore import QPoint, QRect

from hexdesk.ui.main_window import MainWindow
from tests.ui.fake_desk import FakeDesk


def make_window(qtbot, width: int, height: int) -> MainWindow:
    w = MainWindow(FakeDesk())
    qtbot.addWidget(w)
    w.show()
    w.resize(width, height)
    qtbot.wait(50)  # the layouts settle
    return w


def shown_rect(widget, window: MainWindow) -> QRect:
    """The part of ``widget`` not clipped by the scroll areas and panels around it, in window coordinates."""
    rect = widget.visibleRegion().boundingRect()
    return QRect(widget.mapTo(window, rect.topLeft()), rect.size())


def test_minimum_size_fits_an_800_by_600_screen(qtbot):
    window = make_window(qtbot, 800, 600)
    hint = window.minimumSizeHint()
    # 800 px screen less a window frame of a few pixels each side; 600 px less a title bar and a task bar (~100)
    assert hint.width() <= 780 and hint.height() <= 500, hint
    assert (window.width(), window.height()) == (800, 600)


def test_buy_and_sell_are_whole_on_an_800_by_600_window(qtbot):
    window = make_window(qtbot, 800, 600)
    for button in (window.ticket.buyButton, window.ticket.sellButton):
        shown = shown_rect(button, window)
        assert shown.size() == button.size(), (button.objectName(), shown, button.size())  # not clipped at all
        assert window.rect().contains(QRect(button.mapTo(window, QPoint(0, 0)), button.size()))


def test_buttons_follow_the_fields_on_a_tall_window(qtbot):
    """With room to spare the buttons sit right under the preview, not at the bottom of the column."""
    window = make_window(qtbot, 1600, 960)
    ticket = window.ticket
    # everything shows without scrolling, once the posted layout requests have run
    qtbot.waitUntil(lambda: ticket.fieldsScroll.verticalScrollBar().maximum() == 0, timeout=1000)
    fields_bottom = ticket.fieldsScroll.geometry().bottom()
    assert ticket.buyButton.mapTo(ticket, QPoint(0, 0)).y() - fields_bottom < 60
    assert ticket.buyButton.geometry().bottom() + 100 < ticket.height()  # room to spare stays below, not above
