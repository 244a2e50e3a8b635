"""Live or replay at start (issue 8.5): the fake Binance on 127.0.0.1 answers -> live, shown in the status bar and
journaled as live; an unreachable URL -> replay with the reason shown; ``--live`` unreachable -> exit 2, one line."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hexdesk.market.binance import ConnectionState
from hexdesk.service import modes
from hexdesk.storage.journal import Journal
from tests.market.fake_binance import MIN, FakeBinance, make_rows, settings_for, until

DEAD = "127.0.0.1:9"  # the discard port: nothing listens there, a connection is refused at once


class ThreadedFake:
    """The fake Binance on its own event loop in a thread (the app under test runs its own loop), with 50 closed
    1-minute candles up to now and a forming candle pushed every 0.2 s."""

    def __init__(self) -> None:
        self.fake = FakeBinance()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._main, daemon=True)

    def __enter__(self) -> ThreadedFake:
        self.thread.start()
        assert self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self._stop.set)  # type: ignore[union-attr]
        self.thread.join(5)

    def _main(self) -> None:
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        now = int(time.time() * 1000) // MIN * MIN
        rows = make_rows(now - 50 * MIN, 51)  # 50 closed minutes and the one forming now
        for sym in ("BTCUSDT", "ETHUSDT"):
            self.fake.put(sym, "1m", rows)
        async with self.fake:
            self._ready.set()
            while not self._stop.is_set():
                ms = int(time.time() * 1000)
                for sym in ("BTCUSDT", "ETHUSDT"):
                    await self.fake.send_kline(sym, "1m", rows[-1], closed=False, event_ms=ms)
                    await self.fake.send_mark(sym, rows[-1].c, rate="0.0001", next_funding_ms=ms + 3_600_000,
                                              event_ms=ms)  # fmt: skip
                with __import__("contextlib").suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 0.2)

    def env(self) -> dict[str, str]:
        return {"HEXDESK_WS_URL": self.fake.ws_url, "HEXDESK_REST_URL": self.fake.rest_url}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEXDESK_") and k != "QT_QPA_PLATFORM"}
    return {**env, "QT_QPA_PLATFORM": "offscreen", "HEXDESK_DATA_DIR": str(tmp_path / "data"), **extra}


def test_the_mode_request_follows_the_command_line() -> None:
    assert modes.mode_request(False, False) is modes.ModeRequest.AUTO
    assert modes.mode_request(True, False) is modes.ModeRequest.OFFLINE
    assert modes.mode_request(False, False, ["BTCUSDT-2025-03"]) is modes.ModeRequest.OFFLINE
    assert modes.mode_request(False, True) is modes.ModeRequest.LIVE
    # --offline asks nobody
    assert modes.start_probe(modes.ModeRequest.OFFLINE) is None
    assert modes.choose_mode(modes.ModeRequest.OFFLINE, None) == modes.ModeChoice(modes.Mode.REPLAY)


def test_auto_is_live_when_the_fake_answers_and_replay_with_the_reason_when_nothing_does() -> None:
    with ThreadedFake() as fake:
        settings = settings_for(fake.fake)
        choice = modes.choose_mode(modes.ModeRequest.AUTO, modes.start_probe(modes.ModeRequest.AUTO, settings))
        assert choice.mode is modes.Mode.LIVE and choice.reason is None
    dead = settings_for(fake.fake, ws_url=f"ws://{DEAD}/market", rest_url=f"http://{DEAD}")
    t0 = time.monotonic()
    choice = modes.choose_mode(modes.ModeRequest.AUTO, modes.start_probe(modes.ModeRequest.AUTO, dead))
    assert time.monotonic() - t0 < 2.0  # a refused connection does not wait for the 3 s timeout
    assert choice.mode is modes.Mode.REPLAY
    assert DEAD in choice.reason and choice.status_note.startswith("live unavailable: ")
    with pytest.raises(modes.LiveUnavailable, match=r"^--live: .*127\.0\.0\.1:9"):
        modes.choose_mode(modes.ModeRequest.LIVE, modes.start_probe(modes.ModeRequest.LIVE, dead))


def test_a_live_window_shows_live_and_follows_the_connection_state(qtbot, tmp_path) -> None:
    """Built as app.py builds it: modes.open_live -> MainWindow -> app._show_mode; the feed on an asyncio loop."""
    from hexdesk import app
    from hexdesk.ui.main_window import MainWindow

    with ThreadedFake() as fake:
        session = modes.open_live(
            Journal.in_memory(), settings=settings_for(fake.fake, history_candles=100), data_dir=tmp_path / "d"
        )
        window = MainWindow(session.desk)
        qtbot.addWidget(window)
        app._show_mode(window, None, session)
        status = window.mode_status
        assert status.text() == "Live · Binance USDⓈ-M futures · connecting"
        # live: the replay controls do not apply, hidden and disabled
        assert not window.replay_bar.playButton.isEnabled() and not window.replay_bar.speedInput.isEnabled()
        assert "replay sessions only" in window.replay_bar.playButton.toolTip()

        shown: list[str] = []
        set_text = status.setText
        status.setText = lambda text: (shown.append(text), set_text(text))  # every line the status bar showed

        async def run() -> None:
            task = asyncio.create_task(session.run())
            await until(lambda: session.feed.state is ConnectionState.LIVE, what="LIVE")
            await until(lambda: session.desk.last_price("BTCUSDT") is not None, what="a live price")
            fake.loop.call_soon_threadsafe(fake.fake.drop)  # the server drops the connection: the client reconnects
            await until(lambda: session.feed.market.reconnects >= 1, what="a reconnect")
            await until(lambda: session.feed.state is ConnectionState.LIVE, what="LIVE again")
            await session.feed.stop()
            await asyncio.wait_for(task, 3)

        asyncio.run(run())
        prefix = "Live · Binance USDⓈ-M futures · "
        assert prefix + "connected" in shown
        assert prefix + "reconnecting (attempt 1)" in shown
        assert shown.index(prefix + "reconnecting (attempt 1)") > shown.index(prefix + "connected")
        assert shown[-2] == prefix + "connected"  # connected again, then stopped
        # the status line ends "offline" once stopped
        assert status.state is ConnectionState.OFFLINE
        assert status.text() == "Live · Binance USDⓈ-M futures · offline"
        assert len(session.desk.history("BTCUSDT")) == 50  # the backfill reached the window's desk
        j = session.desk.journal
        assert j.session(session.desk.session_id).mode.value == "live"  # journaled like a replay session


def test_status_line_of_a_reconnection_numbers_the_attempt(qtbot) -> None:
    from hexdesk.ui.status import live_text

    assert live_text(ConnectionState.LIVE) == "Live · Binance USDⓈ-M futures · connected"
    assert live_text(ConnectionState.RECONNECTING, 3) == "Live · Binance USDⓈ-M futures · reconnecting (attempt 3)"
    assert live_text(ConnectionState.OFFLINE) == "Live · Binance USDⓈ-M futures · offline"


def test_hexdesk_screenshot_pointed_at_the_fake_starts_live_and_journals_a_live_session(tmp_path) -> None:
    db = tmp_path / "j.db"
    shot = tmp_path / "live.png"
    with ThreadedFake() as fake:
        proc = subprocess.run(
            [sys.executable, "-m", "hexdesk", "--screenshot", str(shot), "--replay-seconds", "1.5", "--db", str(db)],
            capture_output=True, text=True, timeout=90, env=_env(tmp_path, **fake.env()),
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert shot.stat().st_size > 10_000
    with Journal.open(db) as j:
        (s,) = j.sessions()
        assert s.mode.value == "live"


def test_hexdesk_live_unreachable_exits_2_with_one_line(tmp_path) -> None:
    env = _env(tmp_path, HEXDESK_WS_URL=f"ws://{DEAD}/market", HEXDESK_REST_URL=f"http://{DEAD}")
    proc = subprocess.run([sys.executable, "-m", "hexdesk", "--live", "--db", str(tmp_path / "j.db")],
                          capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and "propagateSizeHints" not in ln]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("hexdesk: --live: ") and DEAD in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "j.db").exists()  # refused before any journal was opened


def test_hexdesk_unreachable_falls_back_to_replay(tmp_path) -> None:
    env = _env(tmp_path, HEXDESK_WS_URL=f"ws://{DEAD}/market", HEXDESK_REST_URL=f"http://{DEAD}")
    db = tmp_path / "j.db"
    proc = subprocess.run(
        [sys.executable, "-m", "hexdesk", "--screenshot", str(tmp_path / "r.png"), "--replay-seconds", "0.5",
         "--no-demo-trade", "--db", str(db)],
        capture_output=True, text=True, timeout=90, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with Journal.open(db) as j:
        (s,) = j.sessions()
        assert s.mode.value == "replay"


def test_live_and_offline_together_are_refused(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-m", "hexdesk", "--live", "--offline"], capture_output=True, text=True,
                          timeout=60, env=_env(tmp_path))  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("hexdesk: --live: cannot be combined")


def test_a_live_run_records_its_candles_into_the_data_library_and_exits_cleanly(tmp_path) -> None:
    """The real start path (no --screenshot): live against the fake, closed after 3 s by --close-after; the session's
    end flushes the recorder, so the data folder then lists a replayable ``…-live`` dataset with the 50 minutes."""
    from hexdesk.market.library import dataset_names, load_dataset

    db = tmp_path / "j.db"
    with ThreadedFake() as fake:
        proc = subprocess.run(
            [sys.executable, "-m", "hexdesk", "--close-after", "3", "--db", str(db)],
            capture_output=True, text=True, timeout=90, env=_env(tmp_path, **fake.env()),
        )  # fmt: skip
        served = [r.open_ms for r in fake.fake.series("BTCUSDT", "1m")]
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    with Journal.open(db) as j:
        (s,) = j.sessions()
        assert s.mode == "live"
    names = [n for n in dataset_names(tmp_path / "data") if n.startswith("BTCUSDT-") and n.endswith("-live")]
    assert names, dataset_names(tmp_path / "data")
    recorded = [int(t) for n in names for t in load_dataset(n, tmp_path / "data").series.open_time_ms]
    # the 50 closed minutes the fake served, once each and in order (a month boundary may split them), plus the one
    # that may close while the 3 s run lasts: no hole, no duplicate, nothing the fake did not serve
    assert len(recorded) in (50, 51) and recorded == served[: len(recorded)]
