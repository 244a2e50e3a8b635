"""Practice sessions that survive: start, list, open (resume exactly), rename, reset, delete.

Resuming rebuilds the engine from the journal: the account from the session's events, the market the engine last
saw from the resume state stored with the last commit (``hexdesk.engine.restore``), and the replay goes on after
the last tick that commit included. Because the engine and the replay are deterministic, a session killed at any
moment and resumed gives the same events as one never stopped (tests/service/test_resume_kill.py).

The app owns the switch: ``SessionManager`` hands back a new ``TradingDesk`` and the app gives it to the window.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from hexdesk.engine.fills import Fill
from hexdesk.engine.restore import EventLog, MarketState, restore_exchange
from hexdesk.market.candles import CandleSeries
from hexdesk.market.replay import PriceTick, Replay
from hexdesk.service.desk import (
    DEFAULT_BALANCE,
    DEFAULT_DATASETS,
    DEFAULT_FUNDING_RATE,
    DEFAULT_SPEED,
    HISTORY_MS,
    TradingDesk,
    load_replay_data,
    open_replay_session,
)
from hexdesk.storage.views import SessionStatus, SessionSummary

if TYPE_CHECKING:  # sqlmodel / SQLAlchemy load with the journal, after the first paint (issue 10.3)
    from hexdesk.storage.journal import Journal

__all__ = ["SessionManager", "SessionReadOnly", "SessionSpec", "resume_session"]

DAY_MS = 24 * 60 * 60 * 1000


class SessionReadOnly(ValueError):
    """An archived session (kept by a reset) or an imported journal cannot be traded: open a copy instead."""


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """What a new practice session is made of (the session dialog's fields).

    ``start_ms`` None: the replay starts after the first day (shown as history); with ``blind`` and no
    ``start_ms`` the start is drawn at random (``seed``) so the trader cannot know the dates, which the UI hides.
    """

    name: str | None = None
    balance: Decimal = DEFAULT_BALANCE
    datasets: tuple[str, ...] = DEFAULT_DATASETS
    start_ms: int | None = None
    speed: float = DEFAULT_SPEED
    funding_rate: Decimal = DEFAULT_FUNDING_RATE
    blind: bool = False
    seed: int | None = None


def _random_start(series: Sequence[CandleSeries], seed: int | None) -> int:
    """A minute between one day after the data starts and one day before it ends (at least a day of history and
    a day to trade), drawn from ``seed``."""
    first = max(s.first_open_ms for s in series) + HISTORY_MS
    last = min(s.last_close_ms for s in series) - DAY_MS
    if last <= first:
        return first
    minute = 60_000
    return first + random.Random(seed).randrange((last - first) // minute) * minute


def _cursor_replay(
    series: Sequence[CandleSeries], ts_ms: int, symbol: str, marks: dict[str, CandleSeries] | None = None
) -> tuple[Replay, PriceTick | None]:
    """A replay that goes on right after the tick (``ts_ms``, ``symbol``): the ticks up to it are taken and the
    clock stands there. Returns the replay and that tick (None if it is not in the data)."""
    sym_series = next((s for s in series if s.symbol == symbol), series[0])
    interval = sym_series.interval_ms
    open_ms = ts_ms - (ts_ms - sym_series.first_open_ms) % interval
    replay = Replay(series, start_ms=open_ms, marks=marks)
    key = (ts_ms, symbol)
    applied: PriceTick | None = None
    nxt: PriceTick | None = None
    for tick in replay.ticks():
        if (tick.ts_ms, tick.symbol) > key:
            nxt = tick
            break
        applied = tick
    if applied is None:  # the cursor lies before the data: nothing was taken that should not have been
        return Replay(series, start_ms=open_ms, marks=marks), None
    replay.put_back([nxt] if nxt is not None else [], applied)
    return replay, applied


def _closed_counts(series: Sequence[CandleSeries], tick: PriceTick) -> dict[str, int]:
    """How many candles of each series had closed once ``tick`` was applied (a close tick is the candle's last
    millisecond; at the same millisecond symbols go in name order, as the replay merges them)."""
    out = {}
    for s in series:
        i = before = s.index_at(tick.ts_ms - s.interval_ms + 1)  # candles whose close tick came strictly earlier
        if i < len(s) and int(s.open_time_ms[i]) + s.interval_ms - 1 == tick.ts_ms and s.symbol <= tick.symbol:
            before += 1
        out[s.symbol] = before
    return out


def resume_session(journal: Journal, session_id: int, *, paused: bool = True) -> TradingDesk:
    """The desk of a stored session, exactly where its last commit left it (see the module docstring).

    ``paused``: the replay waits for Play (a trader coming back should not meet a market already moving).
    Raises SessionReadOnly for an archived or imported session, JournalGap if its log skips a seq.
    """
    summary = journal.session(session_id)
    if summary.read_only:
        raise SessionReadOnly(f"session {session_id} ({summary.name}) is read-only: {summary.status.value}")
    last_seq = summary.last_seq
    if last_seq == 0:
        raise SessionReadOnly(f"session {session_id} ({summary.name}) has no event: there is no account to resume")
    point = journal.resume_point(session_id)
    datasets = tuple(summary.dataset.split(","))
    settings = summary.settings
    funding_rate = Decimal(str(settings.get("funding_rate", DEFAULT_FUNDING_RATE)))
    blind_seed = settings.get("blind_seed") if summary.blind else None
    data = load_replay_data(datasets, funding_rate, blind_seed=None if blind_seed is None else int(blind_seed))
    series = data.series
    state = point.state or {}
    market = MarketState.from_json(state["market"]) if state.get("market") else None
    rates = None if market is not None else {s.symbol: funding_rate for s in series}
    checkpoint = state.get("account")
    if checkpoint is not None and int(checkpoint["seq"]) <= last_seq:
        # The account as of the last commit (written with it) plus any event after it: the old events are
        # decoded only if someone reads them (EventLog).
        at = int(checkpoint["seq"])
        tail = journal.events(session_id, after_seq=at)
        log = EventLog(at, lambda: journal.events(session_id, before_seq=at + 1))
        log.extend(tail)
        exchange = restore_exchange(tail, market, funding_rates=rates, checkpoint=checkpoint, log=log)
    else:
        exchange = restore_exchange(journal.events(session_id), market, funding_rates=rates)
    cursor = state.get("cursor")
    applied: PriceTick | None = None
    if cursor:
        replay, applied = _cursor_replay(series, int(cursor[0]), str(cursor[1]), data.marks)
    else:
        # No tick recorded yet (or a journal written before resume existed): the replay starts where the session
        # started, or, if events exist without a position (revision 0001), at the candle of the last event.
        start = int(settings.get("start_ms", min(s.first_open_ms for s in series) + HISTORY_MS))
        if last_seq > 1:
            last_ms = journal.events(session_id, after_seq=last_seq - 1)[0].ts_ms
            start = max(start, last_ms - last_ms % 60_000)
        replay = Replay(series, start_ms=start, marks=data.marks)
    replay.speed = point.speed or float(settings.get("speed", DEFAULT_SPEED))
    if paused:
        replay.pause()
    else:
        replay.resume()  # the cursor replay was put back paused (Replay.put_back): the caller wants it playing
    desk = TradingDesk(
        exchange, journal, session_id, replay, series, mode_label=data.label, _recorded_seq=last_seq,
        _last_tick=applied, funding=data.funding_feed(),
    )
    if applied is not None:
        for symbol, closed in _closed_counts(series, applied).items():
            desk._history[symbol].closed = closed
    fills = [
        Fill(f.trade_id, f.order_id, f.symbol, f.side, f.price, f.quantity, f.fee, f.fee_asset, f.role,
             f.realized_pnl, f.ts_ms, f.is_liquidation)
        for f in journal.fills(session_id)
    ]
    desk._load_history(fills, journal.events(session_id, types=["PositionLiquidated"]), last_seq)
    journal.touch_session(session_id)
    return desk


class SessionManager:
    """Sessions of one journal, for the app and the session dialog. Each method that yields a desk leaves the
    previous desk to the caller (close it: it stays resumable)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def list(self) -> list[SessionSummary]:
        """Every session, newest first (archived and imported ones included: the dialog greys them)."""
        return self.journal.sessions()

    def new(self, spec: SessionSpec | None = None) -> TradingDesk:
        spec = spec or SessionSpec()
        start = spec.start_ms
        seed = None
        if spec.blind:
            seed = spec.seed if spec.seed is not None else random.SystemRandom().randrange(1 << 31)
            if start is None:  # drawn in the disguised time the trader sees
                start = _random_start(load_replay_data(spec.datasets, spec.funding_rate, blind_seed=seed).series, seed)
        return open_replay_session(
            self.journal,
            spec.datasets,
            balance=spec.balance,
            speed=spec.speed,
            funding_rate=spec.funding_rate,
            start_ms=start,
            name=spec.name,
            blind=spec.blind,
            blind_seed=seed,
        )

    def open(self, session_id: int, *, paused: bool = True) -> TradingDesk:
        return resume_session(self.journal, session_id, paused=paused)

    def resume_last(self, *, paused: bool = True) -> TradingDesk | None:
        """The last used active session, resumed; None when there is none to resume."""
        while True:
            summary = self.journal.last_active_session()
            if summary is None:
                return None
            if summary.last_seq > 0:
                return self.open(summary.id, paused=paused)
            # Killed between creating the session and its first event: there is nothing in it to keep.
            self.journal.delete_session(summary.id)

    def rename(self, session_id: int, name: str) -> None:
        self.journal.rename_session(session_id, name)

    def reset(self, session_id: int) -> TradingDesk:
        """Archive the session (kept read-only, never deleted) and start a fresh copy of it: same name, balance,
        data, start, speed and funding."""
        old = self.journal.session(session_id)
        settings = old.settings
        spec = SessionSpec(
            name=old.name,
            balance=old.start_balance,
            datasets=tuple(old.dataset.split(",")),
            start_ms=settings.get("start_ms"),
            speed=float(settings.get("speed", DEFAULT_SPEED)),
            funding_rate=Decimal(str(settings.get("funding_rate", DEFAULT_FUNDING_RATE))),
            blind=old.blind,
            seed=settings.get("blind_seed"),  # the reset replays the same disguised data from the same start
        )
        self.journal.archive_session(session_id)
        desk = self.new(spec)
        assert desk.session_id is not None
        self.journal.set_archived_from(desk.session_id, session_id)
        return desk

    def delete(self, session_id: int) -> None:
        """Delete the session and all of it (the dialog asks for confirmation first)."""
        self.journal.delete_session(session_id)

    def status(self, session_id: int) -> SessionStatus:
        return self.journal.session(session_id).status

