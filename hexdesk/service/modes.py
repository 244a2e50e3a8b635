"""Live or replay? The choice ``hexdesk`` makes at start (issue 8.5), Qt-free.

``hexdesk`` starts live when Binance answers within a few seconds (``why_not_live``: one weight-1 klines request and
a stream handshake) and replays otherwise; ``--offline`` (or an explicit ``--dataset``) replays without asking,
``--live`` insists and fails with the reason. The question is asked on a thread as soon as the command line is read
(:func:`start_probe`), so it runs while Qt starts and the journal opens: without a network it usually fails at once
(no DNS), and it never delays a replay start by more than ``timeout_s``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from hexdesk.service.defaults import DEFAULT_BALANCE

if TYPE_CHECKING:  # the live client (httpx, websockets) and the journal load when needed, not at start (issue 10.3)
    import concurrent.futures

    from hexdesk.market.binance import LiveSettings
    from hexdesk.market.recorder import LiveRecorder
    from hexdesk.service.desk import TradingDesk
    from hexdesk.service.live import LiveFeed
    from hexdesk.storage.journal import Journal

__all__ = [
    "DEFAULT_LIVE_SYMBOLS",
    "PROBE_TIMEOUT_S",
    "LiveSession",
    "LiveUnavailable",
    "Mode",
    "ModeChoice",
    "ModeRequest",
    "choose_mode",
    "open_live",
    "start_probe",
]

PROBE_TIMEOUT_S = 3.0
"""How long Binance has to answer before ``hexdesk`` replays instead."""
DEFAULT_LIVE_SYMBOLS = ("BTCUSDT", "ETHUSDT")
"""The symbols a live session watches (the engine's instrument table, as the default replay)."""


class Mode(enum.Enum):
    LIVE = "live"
    REPLAY = "replay"


class ModeRequest(enum.Enum):
    """What the command line asked for: ``--live``, ``--offline`` (or a ``--dataset``), or nothing (auto)."""

    AUTO = "auto"
    LIVE = "live"
    OFFLINE = "offline"


class LiveUnavailable(RuntimeError):
    """``--live`` was asked and Binance cannot be had; the message is the one line shown to the trader."""


@dataclass(frozen=True, slots=True)
class ModeChoice:
    """The mode chosen and, for a replay chosen because live failed, why live was not possible."""

    mode: Mode
    reason: str | None = None

    @property
    def status_note(self) -> str:
        """What the status bar adds after a replay's label: why it is not live (empty when replay was asked)."""
        return f"live unavailable: {self.reason}" if self.mode is Mode.REPLAY and self.reason else ""


def mode_request(offline: bool, live: bool, datasets: Sequence[str] | None = None) -> ModeRequest:
    """The command line's wish: ``--live`` wins over nothing, ``--offline`` or a ``--dataset`` mean replay."""
    if live:
        return ModeRequest.LIVE
    if offline or datasets:
        return ModeRequest.OFFLINE
    return ModeRequest.AUTO


def start_probe(
    request: ModeRequest, settings: LiveSettings | None = None, timeout_s: float = PROBE_TIMEOUT_S
) -> concurrent.futures.Future[str | None] | None:
    """Ask Binance on a worker thread now (None when the answer is not needed: ``--offline``)."""
    if request is ModeRequest.OFFLINE:
        return None
    import asyncio
    import concurrent.futures

    from hexdesk.market.binance import why_not_live

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="hexdesk-probe")
    future = pool.submit(lambda: asyncio.run(why_not_live(settings, timeout_s=timeout_s)))
    pool.shutdown(wait=False)
    return future


def choose_mode(
    request: ModeRequest,
    probe: concurrent.futures.Future[str | None] | None,
    timeout_s: float = PROBE_TIMEOUT_S,
) -> ModeChoice:
    """Wait for the probe (at most a little over ``timeout_s``) and decide. ``--live`` that cannot be live raises
    :class:`LiveUnavailable` with one line saying why."""
    if request is ModeRequest.OFFLINE or probe is None:
        return ModeChoice(Mode.REPLAY)
    import concurrent.futures

    try:
        reason = probe.result(timeout=timeout_s + 1.0)
    except concurrent.futures.TimeoutError:
        reason = f"Binance did not answer within {timeout_s:g} s"
    except Exception as exc:  # a probe that breaks must not take the start with it: replay, and say why
        reason = f"{type(exc).__name__}: {exc}"
    if reason is None:
        return ModeChoice(Mode.LIVE)
    if request is ModeRequest.LIVE:
        raise LiveUnavailable(f"--live: {reason}")
    return ModeChoice(Mode.REPLAY, reason)


@dataclass
class LiveSession:
    """A live desk, its feed and its recorder: ``await run()`` streams until cancelled, recording as it goes."""

    desk: TradingDesk
    feed: LiveFeed
    recorder: LiveRecorder | None

    async def run(self) -> None:
        import asyncio

        flusher = asyncio.create_task(self.recorder.run()) if self.recorder is not None else None
        try:
            await self.feed.run()
        finally:
            if flusher is not None:
                flusher.cancel()
                await asyncio.gather(flusher, return_exceptions=True)
            if self.recorder is not None:
                self.recorder.flush()  # what the session saw stays in the library, whatever ended it
            await self.feed.stop()


def open_live(
    journal: Journal | None,
    symbols: Sequence[str] = DEFAULT_LIVE_SYMBOLS,
    *,
    settings: LiveSettings | None = None,
    balance: Decimal = DEFAULT_BALANCE,
    data_dir: str | Path | None = None,
    record: bool = True,
    clock_ms: Callable[[], int] | None = None,
) -> LiveSession:
    """A journaled live session on 1-minute candles whose history starts from what was recorded before (the REST
    backfill then loads only the gap) and whose closed candles and mark prices are recorded to the data library."""
    from hexdesk.market.recorder import LiveRecorder, seed_from_recording
    from hexdesk.service.live import open_live_session

    desk, feed = open_live_session(
        journal, tuple(symbols), "1m", settings=settings, balance=balance, clock_ms=clock_ms
    )
    recorder = None
    if record:
        recorder = LiveRecorder(feed.market, data_dir)
        seed_from_recording(feed.market, data_dir, recorder)
        feed.sync_history()
        desk.subscribe(recorder.on_change)
    return LiveSession(desk, feed, recorder)
