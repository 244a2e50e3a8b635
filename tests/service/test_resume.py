"""Resume exactly, the session manager, and a journal that cannot write (issue 7.1, 7.2, 7.8)."""

from __future__ import annotations

import os
import sqlite3
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import event

from hexdesk.engine import Exchange
from hexdesk.engine.enums import MarginMode, OrderType, Side, TimeInForce
from hexdesk.engine.events import OrderAccepted
from hexdesk.engine.orders import OrderRequest
from hexdesk.engine.restore import EventLogGap, capture_market, restore_exchange
from hexdesk.service import SessionManager, SessionReadOnly, SessionSpec
from hexdesk.service.desk import TradingDesk
from hexdesk.storage.journal import Journal
from hexdesk.storage.views import SessionStatus
from tests.service.resume_driver import DATASETS, START_MS

BTC = "BTCUSDT"


def _exchange_with_everything() -> Exchange:
    """A BTC long with TP/SL placed, an ETH entry still waiting with its TP/SL attached, a cross symbol."""
    ex = Exchange(D("10000"), start_ms=1_000)
    ex.set_funding_rate(BTC, D("0.0002"))
    ex.on_tick(BTC, 1_000, D("84000"), bar_volume=D("50"))
    ex.on_tick("ETHUSDT", 1_000, D("2200"), bar_volume=D("900"))
    ex.set_leverage(BTC, 10)
    ex.set_margin_mode("ETHUSDT", MarginMode.CROSS)
    ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.05"), take_profit=D("85000"), stop_loss=D("83000")))
    ex.submit(
        OrderRequest(
            "ETHUSDT", Side.BUY, OrderType.LIMIT, quantity=D("1"), price=D("2150"),
            time_in_force=TimeInForce.GTC, take_profit=D("2300"), stop_loss=D("2100"),
        )
    )
    ex.on_tick(BTC, 61_000, D("84100"), bar_volume=D("55"))  # a quiet tick: no event, the market moved
    return ex


def test_restore_equals_the_live_exchange_and_behaves_the_same() -> None:
    live = _exchange_with_everything()
    assert live._attached  # the ETH entry waits with its TP/SL
    copy = restore_exchange(list(live.events), capture_market(live))
    assert copy.state() == live.state()
    assert copy._attached == live._attached
    assert (copy._next_order_id, copy._next_trade_id) == (live._next_order_id, live._next_trade_id)
    assert capture_market(copy) == capture_market(live)
    # the same market from here on gives the same events: the ETH entry fills and its TP/SL are placed
    for ex in (live, copy):
        ex.on_tick("ETHUSDT", 62_000, D("2140"), bar_volume=D("900"))
        ex.on_tick(BTC, 63_000, D("82900"), bar_volume=D("55"))  # BTC's stop-loss
        ex.on_tick(BTC, 8 * 3_600_000 + 5, D("83000"), bar_volume=D("55"))  # funding at 08:00
    assert copy.events == live.events
    assert any(isinstance(e, OrderAccepted) and e.order.parent_order_id is not None for e in copy.events[-12:])


def test_restore_refuses_a_log_with_a_gap() -> None:
    events = list(_exchange_with_everything().events)
    with pytest.raises(EventLogGap, match="skips from seq 3 to seq 5"):
        restore_exchange(events[:3] + events[4:])


def _ticks(desk: TradingDesk, n: int) -> None:
    assert desk.replay is not None
    it = desk.replay.ticks()
    desk.feed([next(it) for _ in range(n)])


def test_session_manager_new_trade_quit_and_resume(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    with Journal.open(db) as j:
        m = SessionManager(j)
        desk = m.new(SessionSpec(name="five k", balance=D("5000"), datasets=DATASETS, start_ms=START_MS))
        _ticks(desk, 40)
        desk.set_leverage(BTC, 5)
        desk.submit(OrderRequest.market(BTC, Side.BUY, D("0.02"), stop_loss=D("80000")))
        price = desk.last_price(BTC)
        assert price is not None
        desk.submit(OrderRequest.limit(BTC, Side.BUY, D("0.01"), price - 500, take_profit=price + 800))
        _ticks(desk, 13)
        desk.set_speed(240.0)
        desk.close()
        before = (desk.exchange.state(), desk.account(), desk.open_orders(), desk.clock_ms, desk.fills())
        sid = desk.session_id
    with Journal.open(db) as j:
        m = SessionManager(j)
        again = m.resume_last()
        assert again is not None and again.session_id == sid
        assert (again.exchange.state(), again.account(), again.open_orders(), again.clock_ms, again.fills()) == before
        assert again.speed == 240.0 and again.paused
        assert again.leverage(BTC) == 5 and again.exchange._attached  # the waiting entry keeps its TP/SL
        assert len(again.history(BTC)) == len(desk.history(BTC))
        assert j.session(sid).start_balance == D("5000")


def test_reset_archives_and_copies_rename_and_delete(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.db") as j:
        m = SessionManager(j)
        desk = m.new(SessionSpec(name="mine", datasets=("BTCUSDT-2025-03",), start_ms=START_MS, speed=30.0))
        _ticks(desk, 5)
        old = desk.session_id
        assert old is not None
        fresh = m.reset(old)
        assert j.session(old).status is SessionStatus.ARCHIVED
        s = j.session(fresh.session_id)  # type: ignore[arg-type]
        assert (s.name, s.archived_from_id) == ("mine", old)
        assert (s.settings["start_ms"], s.settings["speed"]) == (START_MS, 30.0)
        with pytest.raises(SessionReadOnly):
            m.open(old)
        m.rename(old, "mine (before reset)")
        assert j.session(old).name == "mine (before reset)"
        m.delete(old)
        assert [x.id for x in m.list()] == [fresh.session_id]
        assert m.resume_last().session_id == fresh.session_id  # type: ignore[union-attr]


def test_blind_session_starts_at_a_seeded_random_minute(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.db") as j:
        m = SessionManager(j)
        a = m.new(SessionSpec(datasets=("BTCUSDT-2025-03",), blind=True, seed=3))
        b = m.new(SessionSpec(datasets=("BTCUSDT-2025-03",), blind=True, seed=3))
        assert a.clock_ms == b.clock_ms and a.clock_ms % 60_000 == 0
        assert j.session(a.session_id).blind  # type: ignore[arg-type]


def test_a_blind_session_hides_the_period_and_resumes_disguised_alike(tmp_path: Path) -> None:
    from hexdesk.market import blind
    from hexdesk.market.candles import load_bundled

    real = load_bundled("BTCUSDT-2025-03")
    with Journal.open(tmp_path / "j.db") as j:
        m = SessionManager(j)
        desk = m.new(SessionSpec(datasets=("BTCUSDT-2025-03",), blind=True, seed=7))
        seen = desk.history("BTCUSDT")
        # the first day becomes 2001-01-01 (00:00 UTC = 978,307,200,000 ms; the time of day is kept): the chart's
        # dates say nothing of March 2025
        day = 86_400_000
        assert seen.first_open_ms // day == 978_307_200_000 // day and desk.clock_ms < 1_000_000_000_000
        # every price x the seed's factor (0.500..2.000), rounded to the series' decimals: the first close by hand
        factor = blind.price_factor(7)
        assert seen.candle(0).close == (real.candle(0).close * factor).quantize(real.candle(0).close)
        assert "2025" not in desk.mode_label and "disguised" in desk.mode_label
        assert desk.funding is None  # the real funding history would give the month away
        gen = desk.replay.ticks()
        desk.feed([next(gen) for _ in range(8)])
        clock, last = desk.clock_ms, desk.last_price("BTCUSDT")
        desk.close()
        again = m.open(desk.session_id)  # type: ignore[arg-type]
        assert again.history("BTCUSDT").first_open_ms == seen.first_open_ms
        assert again.last_price("BTCUSDT") == last and again.clock_ms == clock


def test_a_session_resumed_to_play_plays_and_keeps_its_speed(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.db") as j:
        m = SessionManager(j)
        desk = m.new(SessionSpec(datasets=("BTCUSDT-2025-03",), speed=300.0))
        gen = desk.replay.ticks()
        desk.feed([next(gen) for _ in range(12)])  # three candles: the position is stored at each close
        desk.close()
        playing = m.open(desk.session_id, paused=False)  # type: ignore[arg-type]
        assert not playing.paused and playing.speed == 300.0  # as a start plays (the app's resume)
        playing.close()
        waiting = m.open(desk.session_id)  # type: ignore[arg-type]
        assert waiting.paused  # the session dialog's default: Play when ready


# --- the journal cannot write ----------------------------------------------------------------------------------


class _FullDisk:
    """Makes every write statement of a journal fail as SQLite does on a full disk, until ``ok`` is set."""

    def __init__(self, journal: Journal) -> None:
        self.failing = False
        event.listen(journal._engine, "before_cursor_execute", self._check)

    def _check(self, conn, cursor, statement: str, *args: object) -> None:
        if self.failing and statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            raise sqlite3.OperationalError("database or disk is full")


def test_a_failed_write_pauses_blocks_keeps_the_events_and_writes_them_later(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.db") as j:
        desk = SessionManager(j).new(SessionSpec(datasets=DATASETS, start_ms=START_MS))
        changes = []
        desk.subscribe(changes.append)
        desk.play()
        _ticks(desk, 20)
        disk = _FullDisk(j)
        disk.failing = True

        result = desk.submit(OrderRequest.market(BTC, Side.BUY, D("0.01")))  # written in memory only
        assert result.ok  # the first failure is found while writing this order's events
        assert not desk.journal_available and desk.paused
        problem = desk.journal_problem
        assert problem is not None and "the disk is full" in problem and "paused" in problem
        assert any(c.events == () and c.ticks == () for c in changes)  # the UI was told
        stored = j.session(desk.session_id).last_seq  # type: ignore[arg-type]
        assert stored < desk.exchange.events[-1].seq

        refused = desk.submit(OrderRequest.market(BTC, Side.BUY, D("0.01")))  # the ticket is blocked
        assert not refused.ok and refused.rejection is not None and "disk is full" in refused.rejection.msg
        assert desk.set_leverage(BTC, 3) is not None
        _ticks(desk, 30)  # ticks that still come (a step) are applied, their events kept in order
        assert not desk.retry_journal()

        disk.failing = False
        assert desk.retry_journal()
        assert desk.journal_available and desk.journal_problem is None
        assert j.events(desk.session_id) == desk.exchange.events  # type: ignore[arg-type]  # in order, no hole
        assert desk.submit(OrderRequest.market(BTC, Side.SELL, D("0.01"))).ok


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes read-only files anyway")
def test_a_read_only_journal_file_is_reported(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    with Journal.open(db) as j:
        desk = SessionManager(j).new(SessionSpec(datasets=DATASETS, start_ms=START_MS))
        j._engine.dispose()  # the next write opens the file again
        db.chmod(0o444)
        try:
            _ticks(desk, 20)
            desk.submit(OrderRequest.market(BTC, Side.BUY, D("0.01")))
            assert not desk.journal_available
            assert "read-only" in (desk.journal_problem or "") or "cannot" in (desk.journal_problem or "")
        finally:
            db.chmod(0o644)


def test_a_checkpoint_plus_the_later_events_restores_the_same_exchange_without_reading_the_old_log() -> None:
    from hexdesk.engine.restore import EventLog, capture_account

    live = _exchange_with_everything()
    checkpoint = capture_account(live)  # as the desk stores it with a commit
    at = checkpoint["seq"]
    live.on_tick("ETHUSDT", 62_000, D("2140"), bar_volume=D("900"))  # more events after the checkpoint
    live.set_leverage(BTC, 12)
    tail = list(live.events[at:])
    assert tail
    reads = []
    log = EventLog(at, lambda: reads.append(1) or list(live.events[:at]))
    log.extend(tail)
    copy = restore_exchange(tail, capture_market(live), checkpoint=checkpoint, log=log)
    assert reads == []  # the stored events were not decoded
    assert copy.state() == live.state() and copy._attached == live._attached
    ids = (live._next_order_id, live._next_trade_id, live._seq)
    assert (copy._next_order_id, copy._next_trade_id, copy._seq) == ids
    for ex in (live, copy):
        ex.on_tick(BTC, 63_000, D("82900"), bar_volume=D("55"))
    assert list(copy.events[at:]) == list(live.events[at:]) and reads == []
    assert list(copy.events) == list(live.events) and reads == [1]  # read once, when asked for
    with pytest.raises(TypeError):
        del copy.events[: at - 1]  # nothing stored is ever rolled back


def test_desk_notes_day_notes_and_screenshots_go_to_its_session(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.db") as j:
        desk = SessionManager(j).new(SessionSpec(datasets=("BTCUSDT-2025-03",), start_ms=START_MS))
        assert desk.trade_note("BTCUSDT:1") is None
        assert desk.save_trade_note("BTCUSDT:1", notes="patient entry", tags=["breakout"], rating=5)
        note = desk.trade_note("BTCUSDT:1")
        assert note is not None and (note.notes, note.tags, note.rating) == ("patient entry", ("breakout",), 5)
        assert desk.save_day_note("2025-03-02", "slept well") and desk.day_note("2025-03-02") == "slept well"
        sha = desk.add_screenshot("BTCUSDT:1", "entry", b"\x89PNG\r\n\x1a\nbody")
        (shot,) = j.screenshots(desk.session_id, "BTCUSDT:1")  # type: ignore[arg-type]
        assert shot.sha256 == sha and shot.ts_ms == desk.clock_ms
        assert [s.id for s in desk.sessions()] == [desk.session_id]
        disk = _FullDisk(j)
        disk.failing = True
        assert not desk.save_day_note("2025-03-02", "typed while the disk was full")
        assert not desk.journal_available and "disk is full" in (desk.journal_problem or "")
        disk.failing = False
        assert desk.retry_journal() and desk.save_day_note("2025-03-02", "typed again")


def test_a_session_killed_before_its_first_event_is_dropped_not_resumed(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.db") as j:
        kept = SessionManager(j).new(SessionSpec(datasets=("BTCUSDT-2025-03",), start_ms=START_MS))
        empty = j.start_session("killed at birth", "replay", "BTCUSDT-2025-03", D("10000"), {"start_ms": START_MS})
        again = SessionManager(j).resume_last()
        assert again is not None and again.session_id == kept.session_id
        assert empty not in {s.id for s in j.sessions()}
