"""What the desktop remembers between runs (issue 10.4): window geometry and state, splitter sizes, the ticket's
symbol, order type, size-by-risk and risk %, each symbol's leverage and the theme. The replay speed is not here:
it belongs to the session (journaled with its replay position and resumed with it; ``--speed`` and the session
dialog set it), so a speed left over from another session never slows or races the one on screen.

Kept with QSettings in an INI file under the organisation "HexDesk" (``~/.config/HexDesk/HexDesk.ini`` on Linux,
``%APPDATA%\\HexDesk`` on Windows), so it is one readable file on every platform; tests point
``QSettings.setPath`` at a temporary directory and never touch the user's. A remembered geometry is clamped to the
screen the window opens on: a window saved on a larger or a detached second monitor still opens whole and visible.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QPoint, QRect, QSettings, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QSplitter, QWidget

from hexdesk.ui import startup

if TYPE_CHECKING:
    from hexdesk.ui.main_window import MainWindow

ORGANISATION = "HexDesk"
APPLICATION = "HexDesk"
DEFAULT_SIZE = QSize(1600, 960)  # what a first run asks for, within the screen's free area


def store() -> QSettings:
    """HexDesk's settings file (INI in the user scope; ``QSettings.setPath`` moves it, as the tests do)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


def clamp_to(rect: QRect, free: QRect) -> QRect:
    """``rect`` moved (and shrunk if it must) to lie wholly within ``free``, the screen's available geometry."""
    width, height = min(rect.width(), free.width()), min(rect.height(), free.height())
    x = max(free.left(), min(rect.left(), free.left() + free.width() - width))
    y = max(free.top(), min(rect.top(), free.top() + free.height() - height))
    return QRect(x, y, width, height)


def available_geometry(rect: QRect) -> QRect | None:
    """The free area of the screen showing the middle of ``rect`` (the primary screen when none does)."""
    screen = QGuiApplication.screenAt(rect.center()) or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else None


def fit_window(window: QWidget) -> None:
    """Keep the window within its screen's free area: the frame (title bar included) inside, the size at most it."""
    free = available_geometry(window.frameGeometry())
    if free is None:
        return
    frame, inner = window.frameGeometry(), window.geometry()
    extra_w, extra_h = frame.width() - inner.width(), frame.height() - inner.height()
    fitted = clamp_to(frame, free)
    window.resize(max(fitted.width() - extra_w, window.minimumWidth()), max(fitted.height() - extra_h, 1))
    window.move(fitted.topLeft())


def splitters(window: MainWindow) -> list[QSplitter]:
    """The splitters of the window's panels (not those of panels a session switch replaced and Qt has yet to
    delete), each with an object name to remember its sizes under."""
    central = window.centralWidget()
    found = central.findChildren(QSplitter) if central is not None else []
    for i, splitter in enumerate(found):
        if not splitter.objectName():
            splitter.setObjectName(f"splitter{i}")
    return found


def save(window: MainWindow, settings: QSettings | None = None) -> None:
    """Write everything remembered about ``window`` (called when it closes)."""
    s = settings or store()
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/state", window.saveState())
    for splitter in splitters(window):
        s.setValue(f"splitters/{splitter.objectName()}", [int(x) for x in splitter.sizes()])
    ticket, desk = window.ticket, window.desk
    s.setValue(startup.SYMBOL_KEY, ticket.symbol)
    chart = QRect(window.chart.mapTo(window, QPoint(0, 0)), window.chart.size())  # for the next first frame
    right, bottom = window.width() - 1 - chart.right(), window.height() - 1 - chart.bottom()
    s.setValue(startup.CHART_RECT_KEY, [chart.left(), chart.top(), right, bottom])
    s.setValue(startup.PRICE_DECIMALS_KEY, window.chart.price_decimals)
    s.setValue("ticket/orderType", ticket.orderTypeInput.currentText())
    s.setValue("ticket/sizeByRisk", ticket.sizeByRisk.isChecked())
    risk = ticket.riskInput.value()
    if risk is not None:
        s.setValue("ticket/riskPct", str(risk))
    for symbol in desk.symbols:
        s.setValue(f"leverage/{symbol}", int(desk.leverage(symbol)))
    from hexdesk.ui import theme

    s.setValue("view/theme", theme.current_name())
    _remember_startup(desk, s)
    s.sync()


def _remember_startup(desk: object, s: QSettings) -> None:
    """The session's datasets, replay clock and blindness, for the next start's shell (ui/shell.py). A live desk
    (no replay) or one without a journal leaves the last ones."""
    journal, session_id = getattr(desk, "journal", None), getattr(desk, "session_id", None)
    if journal is None or session_id is None or getattr(desk, "replay", None) is None:
        return
    try:
        summary = journal.session(session_id)
    except Exception:  # a journal that cannot be read now: the next start guesses the defaults, nothing worse
        return
    startup.remember_session(desk, s, summary.dataset.split(","), blind=bool(summary.blind))  # type: ignore[arg-type]


def place(window: QWidget, settings: QSettings) -> None:
    """Give ``window`` the remembered geometry (a first run: the default size), within the screen's free area."""
    geometry = settings.value("window/geometry")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    else:
        window.resize(DEFAULT_SIZE)
    fit_window(window)


def restore(window: MainWindow, settings: QSettings | None = None) -> None:
    """Apply what was remembered; the window always ends up within the screen's free area."""
    s = settings or store()
    place(window, s)
    state = s.value("window/state")
    if isinstance(state, QByteArray) and not state.isEmpty():
        window.restoreState(state)
    for splitter in splitters(window):
        sizes = s.value(f"splitters/{splitter.objectName()}")
        if isinstance(sizes, list) and len(sizes) == splitter.count():
            with contextlib.suppress(TypeError, ValueError):
                splitter.setSizes([int(x) for x in sizes])
    _restore_trading(window, s)
    name = s.value("view/theme")
    if isinstance(name, str):
        from hexdesk.ui import theme

        if name in theme.PALETTES and name != theme.current_name():  # re-styling every widget costs ~0.1 s
            theme.switch(window, name)


def _restore_trading(window: MainWindow, s: QSettings) -> None:
    from hexdesk.ui.ticket import ORDER_TYPES  # (the ticket is not loaded before the first frame: ui/first_frame.py)

    ticket, desk = window.ticket, window.desk
    symbol = s.value(startup.SYMBOL_KEY)
    if isinstance(symbol, str) and symbol in desk.symbols:
        ticket.set_symbol(symbol)
    if getattr(window, "tables_deferred", False):  # the start-up shell: its symbol only, the rest once it is open
        return
    for symbol in desk.symbols:
        leverage = _int(s.value(f"leverage/{symbol}"))
        busy = desk.position(symbol).is_open or any(o.symbol == symbol for o in desk.open_orders())
        if leverage and leverage != desk.leverage(symbol) and not busy:  # a resumed session's positions keep theirs
            desk.set_leverage(symbol, leverage)
    ticket.sync_settings()
    order_type = s.value("ticket/orderType")
    if isinstance(order_type, str) and order_type in ORDER_TYPES:
        ticket.orderTypeInput.setCurrentText(order_type)
    by_risk = s.value("ticket/sizeByRisk")
    if by_risk is not None:
        ticket.sizeByRisk.setChecked(str(by_risk).lower() == "true")
    try:
        risk = Decimal(str(s.value("ticket/riskPct")))
    except InvalidOperation:
        risk = None
    if risk is not None and risk.is_finite():
        ticket.riskInput.setValue(risk)


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None
