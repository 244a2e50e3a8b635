"""The first frame (issue 10.3): the session's candles painted before numpy, pyqtgraph and the engine load, where
the window's chart will be, in the trader's theme; replaced by the real window once that is painted; closing it ends
the program once the journal is open, as closing the shell does."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from PySide6.QtCore import QPoint, QPointF, QRect
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from hexdesk import app
from hexdesk.market.candle_tail import bundled_tail
from hexdesk.service import modes
from hexdesk.service.defaults import DEFAULT_DATASETS, HISTORY_MS
from hexdesk.storage.journal import Journal
from hexdesk.ui import settings, startup, theme
from hexdesk.ui.chart_look import PRICE_AXIS_WIDTH, VISIBLE_BARS
from hexdesk.ui.first_frame import DOWN, UP, FirstFrame
from hexdesk.ui.main_window import MainWindow


def _candle_columns(image: QImage, rect: QRect, rows: int = 1) -> list[int]:
    """x of every column inside ``rect`` with at least ``rows`` pixels of a candle's colour (3: a candle's wick or
    body, not the dashed last-price line crossing it)."""
    colours = {QColor(UP).rgb(), QColor(DOWN).rgb()}
    return [x for x in range(rect.left(), rect.right() + 1)
            if sum(image.pixel(x, y) in colours for y in range(rect.top(), rect.bottom() + 1)) >= rows]


def _volume_columns(image: QImage, area: QRect, background: str) -> list[int]:
    """x of every column of ``area``'s volume pane (its bottom fifth, above the time axis) holding a volume bar: a
    candle colour at half opacity over the chart's ``background`` (the last price's tag and line never go there)."""
    bg = QColor(background)
    bars = [QColor((c.red() + bg.red()) // 2, (c.green() + bg.green()) // 2, (c.blue() + bg.blue()) // 2)
            for c in (QColor(UP), QColor(DOWN))]

    def near(rgb: int) -> bool:
        px = QColor(rgb)
        return any(abs(px.red() - b.red()) + abs(px.green() - b.green()) + abs(px.blue() - b.blue()) <= 9 for b in bars)

    bottom = area.bottom() - 24  # above the time axis' labels
    return [x for x in range(area.left(), area.right() + 1)
            if any(near(image.pixel(x, y)) for y in range(bottom - 8, bottom))]


def _frame(qtbot, **kwargs) -> FirstFrame:
    tail = bundled_tail(DEFAULT_DATASETS[0], VISIBLE_BARS, None, HISTORY_MS)
    frame = FirstFrame(tail, "Opening…", **kwargs)
    qtbot.addWidget(frame)
    frame.resize(1200, 700)
    frame.show()
    assert frame.wait_painted() is not None
    return frame


def test_the_candles_are_drawn_in_the_chart_area_only_newest_at_the_right_margin(qtbot):
    frame = _frame(qtbot, chart_margins=(0, 100, 300, 150))
    image = frame.grab().toImage()
    area = frame.chart_area()
    assert area == QRect(0, 100, 900, 450)
    assert _candle_columns(image, QRect(0, 0, 1200, 99)) == []  # nothing above, below or right of the chart
    assert _candle_columns(image, QRect(0, 551, 1200, 149)) == []
    assert _candle_columns(image, QRect(901, 0, 299, 700)) == []
    slot = (900 - PRICE_AXIS_WIDTH) / VISIBLE_BARS  # the plot left of the price axis, 150 slots
    newest_x = (VISIBLE_BARS - 5 - 0.5) * slot  # the newest candle in the 6th slot from the right, as the chart has it
    volume = _volume_columns(image, area, theme.CHART["dark"]["background"])
    assert abs(max(volume) - newest_x) <= slot / 2 + 1
    assert min(volume) <= slot  # 150 candles before the session start fill the view from its left edge
    assert max(_candle_columns(image, area, rows=3)) < 900 - PRICE_AXIS_WIDTH  # and none over the price axis


def test_the_frame_paints_in_the_remembered_theme(qtbot):
    dark = _frame(qtbot, theme_name="dark").grab().toImage()
    light = _frame(qtbot, theme_name="light").grab().toImage()
    assert QColor(dark.pixel(5, 5)) == QColor(theme.PALETTES["dark"]["BG"])
    assert QColor(light.pixel(5, 5)) == QColor(theme.PALETTES["light"]["BG"])
    assert QColor(light.pixel(5, 300)) == QColor(theme.CHART["light"]["background"])


def test_the_first_frame_shows_the_remembered_symbol_at_its_remembered_clock(tmp_path):
    store = settings.store()
    store.setValue(startup.DATASETS_KEY, list(DEFAULT_DATASETS))
    store.setValue(startup.CLOCK_KEY, 1_740_900_000_000)
    store.setValue(startup.SYMBOL_KEY, "ETHUSDT")
    store.setValue(startup.PRICE_DECIMALS_KEY, 2)
    shown = startup.guess(app.parse_args([]), store)
    tail = startup.first_tail(shown, store)
    assert tail is not None and tail.symbol == "ETHUSDT" and tail.before_ms == 1_740_900_000_000
    assert startup.price_decimals(store, tail) == 2
    store.setValue(startup.SYMBOL_KEY, "SOLUSDT")  # not among the datasets: the first one's candles
    tail = startup.first_tail(shown, store)
    assert tail is not None and tail.symbol == "BTCUSDT"
    store.setValue(startup.DATASETS_KEY, ["NOSUCH-2025-03"])
    assert startup.first_tail(startup.guess(app.parse_args([]), store), store) is None  # no frame, no crash


def _close_windows() -> None:
    for w in QApplication.topLevelWidgets():
        if isinstance(w, MainWindow | FirstFrame):
            w.close()


def _shown_window() -> MainWindow:
    return next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())


def test_the_live_chart_replaces_the_frame_in_place_newest_candle_where_the_frame_drew_it(qapp, tmp_path, monkeypatch):
    """Second start: the frame at the remembered place with the chart where the last run had it; the window that
    replaces it has the same geometry, its chart the same rectangle, its newest candle within one candle."""
    seen: list[tuple[QRect, QRect, QImage, QRect, QRect, float]] = []
    drop = app.Startup.drop_frame

    def look(start: app.Startup) -> None:
        if start.frame is not None:
            w = _shown_window()
            middle = w.chart.candle_at_index(-1).t + 30  # the newest one-minute candle's middle (x is in seconds)
            view = w.chart.price_view.scene().views()[0]
            scene_x = w.chart.price_view.mapViewToScene(QPointF(middle, 0)).x()
            newest_x = view.mapTo(w.chart, view.mapFromScene(QPointF(scene_x, 0))).x()
            chart = QRect(w.chart.mapTo(w, QPoint(0, 0)), w.chart.size())
            seen.append((start.frame.geometry(), start.frame.chart_area(), start.frame.grab().toImage(),
                         w.geometry(), chart, newest_x))
        drop(start)

    monkeypatch.setattr(app.Startup, "drop_frame", look)
    monkeypatch.setenv(app.PROBE_ENV, "1")  # report the start and exit without running the session
    db = str(tmp_path / "j.db")
    try:
        assert app.main(["--offline", "--db", db]) == 0  # a first run: the default place and layout
        settings.save(_shown_window())  # what closing the window remembers
        _close_windows()
        assert app.main(["--offline", "--db", db]) == 0
    finally:
        _close_windows()
    assert len(seen) == 2
    geometry, area, image, window_geometry, chart, newest_x = seen[1]
    assert geometry == window_geometry
    # the chart's margins as the last run left them; the first run's window was taller here (the offscreen screen's
    # first placement), so the bottom area the splitter gives the tables may differ by a few pixels
    assert (area.left(), area.top(), area.width()) == (chart.left(), chart.top(), chart.width())
    assert abs(area.height() - chart.height()) <= 0.03 * chart.height()
    frame_x = max(_volume_columns(image, area, theme.CHART["dark"]["background"]))
    assert abs(frame_x - area.left() - newest_x) <= area.width() / VISIBLE_BARS
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, FirstFrame) and w.isVisible()]


@pytest.mark.parametrize("size", [(1024, 768), (1366, 740), (1600, 960)])
def test_a_first_runs_frame_draws_near_where_the_default_layout_puts_the_chart(qtbot, size):
    from hexdesk.ui import shell

    window = MainWindow(shell.open_shell(shell.ShellGuess(DEFAULT_DATASETS)))
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    chart = QRect(window.chart.mapTo(window, QPoint(0, 0)), window.chart.size())
    frame = _frame(qtbot)
    frame.resize(*size)
    area = frame.chart_area()
    assert (area.left(), area.top(), area.width()) == (chart.left(), chart.top(), chart.width())
    assert abs(area.height() - chart.height()) <= 0.06 * chart.height()


def test_closing_the_first_frame_while_the_session_opens_ends_the_program(qapp, tmp_path, monkeypatch):
    wait = FirstFrame.wait_painted

    def close_after_paint(self: FirstFrame, timeout_ms: int = 3000):
        painted = wait(self, timeout_ms)
        self.close()  # the trader closes the window in the first half second
        return painted

    monkeypatch.setattr(FirstFrame, "wait_painted", close_after_paint)
    shown: list[MainWindow] = []
    monkeypatch.setattr(MainWindow, "show", lambda self: shown.append(self))
    db = tmp_path / "j.db"
    try:
        assert app.main(["--offline", "--db", str(db)]) == 0
    finally:
        _close_windows()
    assert shown == []  # no window popped up in the closed frame's place
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow | FirstFrame) and w.isVisible()]
    with Journal.open(db) as j:
        (session,) = j.sessions()  # opened, then left where it stood: resumable next time
        assert session.is_active


@pytest.mark.parametrize("argv", [["--screenshot", "x.png"], ["--new-session", "--balance", "5000"]])
def test_no_first_frame_for_a_demo_and_one_for_a_new_session(argv, tmp_path):
    args = app.parse_args(["--offline", *argv])
    start = app.Startup(args, app._mode_request(args))
    frame = app._paint_first_frame(start)
    try:
        assert (frame is None) == ("--screenshot" in argv)
    finally:
        if frame is not None:
            frame.close()


def test_no_first_frame_for_a_blind_session(tmp_path):
    store = settings.store()
    store.setValue(startup.DATASETS_KEY, list(DEFAULT_DATASETS))
    store.setValue(startup.BLIND_KEY, True)  # its datasets and dates are never shown before it says so
    args = app.parse_args(["--offline"])
    assert app._paint_first_frame(app.Startup(args, app._mode_request(args))) is None


def test_a_maximized_frame_is_replaced_by_a_maximized_window(qapp, tmp_path, monkeypatch):
    states: list[tuple[bool, bool]] = []
    drop = app.Startup.drop_frame

    def look(start: app.Startup) -> None:
        if start.frame is not None:
            states.append((start.frame.isMaximized(), _shown_window().isMaximized()))
        drop(start)

    monkeypatch.setattr(app.Startup, "drop_frame", look)
    monkeypatch.setenv(app.PROBE_ENV, "1")
    db = str(tmp_path / "j.db")
    try:
        assert app.main(["--offline", "--db", db]) == 0
        window = _shown_window()
        window.showMaximized()
        settings.save(window)  # closed maximized
        _close_windows()
        assert app.main(["--offline", "--db", db]) == 0
    finally:
        _close_windows()
    assert states[-1] == (True, True)


def test_with_no_mode_asked_the_frame_comes_before_binance_answers_and_then_says_the_replay_opens(
    qapp, tmp_path, monkeypatch
):
    """``hexdesk`` alone asks Binance first (issue 8.5). A firewall that swallows the request would keep the window
    away for the probe's whole timeout: the frame is painted first and says so, then the replay's journal opens."""
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    port = silent.getsockname()[1]
    monkeypatch.setenv("HEXDESK_REST_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HEXDESK_WS_URL", f"ws://127.0.0.1:{port}/market")
    monkeypatch.setenv(app.PROBE_ENV, "1")
    painted: list[str] = []
    dropped: list[tuple[str, modes.ModeChoice | None]] = []
    wait, drop = FirstFrame.wait_painted, app.Startup.drop_frame

    def note_at_paint(self: FirstFrame, timeout_ms: int = 3000):
        result = wait(self, timeout_ms)
        painted.append(self.note)
        return result

    def note_at_drop(start: app.Startup) -> None:
        if start.frame is not None:
            dropped.append((start.frame.note, start.mode))
        drop(start)

    monkeypatch.setattr(FirstFrame, "wait_painted", note_at_paint)
    monkeypatch.setattr(app.Startup, "drop_frame", note_at_drop)
    try:
        assert app.main(["--db", str(tmp_path / "j.db")]) == 0
    finally:
        silent.close()
        _close_windows()
    assert painted == [f"Connecting to Binance… (no answer: replay of {', '.join(DEFAULT_DATASETS)})"]
    (note, mode), = dropped
    assert note == startup.opening_label(startup.ShellGuess(DEFAULT_DATASETS))
    assert mode is not None and mode.mode is modes.Mode.REPLAY and "did not answer" in (mode.reason or "")


def test_when_binance_answers_the_live_window_replaces_the_frame_and_the_session_runs(tmp_path):
    """Live wins: no shell (a live session is never guessed), the live window takes the frame's place, and the
    frame is hidden once it has painted, without holding the session's loop (a blocking wait there for a chart
    that gets its candles only from that loop once left the live start stuck)."""
    from tests.test_modes import ThreadedFake, _env

    env = {**_env(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    code = (
        "import sys\n"
        "from hexdesk import app\n"
        "from hexdesk.ui.first_frame import FirstFrame\n"
        "shown = []\n"
        "drop = app.Startup.drop_frame\n"
        "def seen(start):\n"
        "    if start.frame is not None:\n"
        "        shown.append((start.frame.note, start.mode.mode.value, start.frame.isVisible()))\n"
        "    drop(start)\n"
        "app.Startup.drop_frame = seen\n"
        "status = app.main(['--close-after', '2', '--db', sys.argv[1]])\n"
        "print('SEEN', status, shown)\n"
    )
    with ThreadedFake() as fake:
        proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "j.db")], capture_output=True, text=True,
                              timeout=60, env={**env, **fake.env()})
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("SEEN"))
    connecting = f"Connecting to Binance… (no answer: replay of {', '.join(DEFAULT_DATASETS)})"
    assert line == f"SEEN 0 [({connecting!r}, 'live', True)]"
