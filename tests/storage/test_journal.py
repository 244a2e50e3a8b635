from __future__ import annotations

import csv
import dataclasses
import json
import threading
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from hexdesk.engine.enums import LiquidityRole, MarginMode, OrderStatus, OrderType, Side, TimeInForce
from hexdesk.engine.errors import ErrorCode
from hexdesk.engine.events import AccountOpened, OrderAccepted, OrderFilled
from hexdesk.storage.errors import JournalClosed, UnknownSession
from hexdesk.storage.journal import Journal
from hexdesk.storage.views import FillRow, OrderRow, SessionMode, SessionSummary
from tests.storage.samples import T0, fill, one_of_each, order, trading_story


def _start(j: Journal, name: str = "morning") -> int:
    return j.start_session(name, "replay", "BTCUSDT-2025-03", D("10000.00"), {"leverage": 20, "fee": D("0.0002")})


def test_start_and_end_session(journal: Journal) -> None:
    sid = _start(journal)
    s = journal.session(sid)
    assert isinstance(s, SessionSummary)
    assert (s.name, s.mode, s.dataset, s.start_balance) == ("morning", SessionMode.REPLAY, "BTCUSDT-2025-03",
                                                            D("10000.00"))
    assert s.started_at == datetime(2025, 3, 1, 12, 0, 1, tzinfo=UTC)
    assert s.ended_at is None and s.is_active
    assert s.settings == {"leverage": 20, "fee": "0.0002"}  # Decimals in settings come back as exact strings
    assert s.app_version == "0.1.0"
    assert (s.event_count, s.last_seq, s.order_count, s.fill_count, s.liquidation_count) == (0, 0, 0, 0, 0)
    assert s.realized_pnl == s.fees == s.funding == s.net_pnl == 0

    journal.end_session(sid)
    ended = journal.session(sid).ended_at
    assert ended == datetime(2025, 3, 1, 12, 0, 2, tzinfo=UTC)
    journal.end_session(sid)  # idempotent: keeps the first end time
    assert journal.session(sid).ended_at == ended


def test_sessions_newest_first(journal: Journal) -> None:
    a = _start(journal, "a")
    b = journal.start_session("b", SessionMode.LIVE, "BTCUSDT-live", D("500"), {})
    assert [s.id for s in journal.sessions()] == [b, a]
    assert journal.sessions()[0].mode is SessionMode.LIVE


def test_bad_session_arguments(journal: Journal) -> None:
    with pytest.raises(ValueError):
        journal.start_session("x", "paper", "d", D(1), {})
    with pytest.raises(TypeError):
        journal.start_session("x", "live", "d", 1000.0, {})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        journal.start_session("x", "live", "d", D(1), {"bad": object()})
    assert journal.sessions() == []


def test_unknown_session(journal: Journal) -> None:
    for call in (journal.session, journal.end_session, journal.events, journal.orders, journal.fills,
                 journal.liquidations, journal.funding):
        with pytest.raises(UnknownSession):
            call(42)
    with pytest.raises(UnknownSession):
        journal.record(42, [AccountOpened(1, T0, D(1))])


def test_events_round_trip_in_seq_order(journal: Journal) -> None:
    sid = _start(journal)
    evs = one_of_each()
    journal.record(sid, reversed(evs[:9]))  # any iterable, any order
    journal.record(sid, evs[9:])
    assert journal.events(sid) == evs
    assert journal.events(sid, after_seq=15) == evs[15:]
    s = journal.session(sid)
    assert (s.event_count, s.last_seq) == (len(evs), evs[-1].seq)


def test_record_is_idempotent_per_seq(journal: Journal) -> None:
    sid = _start(journal)
    story = trading_story()
    journal.record(sid, story[:6])
    journal.record(sid, story)  # overlapping batch: the first six are ignored
    journal.record(sid, story[3:5] * 3)  # duplicates within a batch too
    journal.record(sid, [])
    assert journal.events(sid) == story
    s = journal.session(sid)
    assert (s.event_count, s.order_count, s.fill_count, s.liquidation_count) == (12, 4, 4, 1)
    assert s.fees == D("0.5930002")  # each fill counted once


def test_same_seq_in_another_session_is_not_a_duplicate(journal: Journal) -> None:
    a, b = _start(journal, "a"), _start(journal, "b")
    journal.record(a, trading_story())
    journal.record(b, trading_story())
    assert journal.events(a) == journal.events(b) == trading_story()
    assert len(journal.fills(b)) == 4


def test_orders_projection(journal: Journal) -> None:
    sid = _start(journal)
    journal.record(sid, trading_story())
    rows = journal.orders(sid)
    assert all(isinstance(r, OrderRow) for r in rows)
    by_id = {r.order_id: r for r in rows}
    assert set(by_id) == {1, 2, 3, None}

    o1 = by_id[1]
    assert o1.status is OrderStatus.FILLED and o1.executed_qty == D("0.010") and o1.avg_price == D("84000.10")
    assert o1.price == D("84000.10") and str(o1.quantity) == "0.010"  # exact text, trailing zero kept
    assert o1.updated_ms == T0 + 3_000 and o1.created_ms == T0 and o1.last_seq == 5
    assert o1.time_in_force is TimeInForce.GTC and o1.reject_code is None

    assert by_id[3].status is OrderStatus.CANCELED and by_id[3].end_reason == "user"

    rej = by_id[None]
    assert rej.status is OrderStatus.REJECTED
    assert rej.reject_code is ErrorCode.MARGIN_NOT_SUFFICIENT and rej.reject_msg == "Margin is insufficient."
    assert (rej.side, rej.type, rej.quantity, rej.price) == (Side.BUY, OrderType.LIMIT, D("100"), D("84000"))
    assert rej.created_ms == T0 + 4_000 and rej.executed_qty == 0

    assert [r.order_id for r in rows] == [1, None, 2, 3]  # placement order


def test_an_older_order_event_never_overwrites_a_newer_state(journal: Journal) -> None:
    sid = _start(journal)
    filled = order(status=OrderStatus.FILLED, executed_qty=D("0.010"), updated_ms=T0 + 5)
    journal.record(sid, [OrderFilled(2, T0 + 5, filled, fill()), OrderAccepted(1, T0, order())])  # listed late
    (row,) = journal.orders(sid)
    assert row.status is OrderStatus.FILLED and row.last_seq == 2


def test_fills_liquidations_funding_and_totals(journal: Journal) -> None:
    sid = _start(journal)
    journal.record(sid, trading_story())
    fills = journal.fills(sid)
    assert all(isinstance(f, FillRow) for f in fills)
    assert [f.trade_id for f in fills] == [1, 2, 3, 5]
    assert fills[0].fee == D("0.06720008") and fills[0].role is LiquidityRole.MAKER
    assert fills[2].realized_pnl == D("9.99900") and str(fills[2].realized_pnl) == "9.99900"
    assert fills[3].is_liquidation and fills[3].seq == 12

    (liq,) = journal.liquidations(sid)
    assert (liq.symbol, liq.margin_mode, liq.side, liq.quantity) == ("BTCUSDT", MarginMode.ISOLATED, Side.BUY, D("0.2"))
    assert liq.bankruptcy_price == D("79000") and liq.margin_lost == D("1000.00") and liq.trade_id == 5

    (fund,) = journal.funding(sid)
    assert fund.amount == D("-0.0841") and fund.funding_rate == D("0.0001")

    s = journal.session(sid)
    assert s.realized_pnl == D("-990.001")
    assert s.fees == D("0.5930002")
    assert s.funding == D("-0.0841")
    assert s.net_pnl == D("-990.001") - D("0.5930002") - D("0.0841")
    assert (s.order_count, s.fill_count, s.liquidation_count) == (4, 4, 1)


def test_a_fill_carried_by_two_events_is_stored_once(journal: Journal) -> None:
    sid = _start(journal)
    evs = one_of_each()
    liq = evs[12]
    same_fill = OrderFilled(14, liq.ts_ms, order(5, status=OrderStatus.FILLED), liq.fill)  # type: ignore[attr-defined]
    journal.record(sid, evs[:12])
    before = journal.fills(sid)
    journal.record(sid, [liq])
    journal.record(sid, [same_fill])
    assert [f.trade_id for f in journal.fills(sid)] == [f.trade_id for f in before] + [9]
    assert liq.seq == 13


def test_record_is_all_or_nothing(journal: Journal) -> None:
    sid = _start(journal)

    bad = AccountOpened(2, T0, D(1))
    object.__setattr__(bad, "wallet_balance", 1.5)  # a float cannot be stored losslessly
    with pytest.raises(ValueError):
        journal.record(sid, [AccountOpened(1, T0, D(1)), bad])
    assert journal.events(sid) == []
    with pytest.raises(TypeError):
        journal.record(sid, [AccountOpened(1, T0, D(1)), "nope"])  # type: ignore[list-item]
    assert journal.session(sid).event_count == 0


def test_export_csv(journal: Journal, tmp_path: Path) -> None:
    sid = _start(journal)
    journal.record(sid, trading_story())

    n = journal.export_csv(sid, "fills", tmp_path / "fills.csv")
    with (tmp_path / "fills.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert n == len(rows) == 4
    assert list(rows[0]) == [f.name for f in dataclasses.fields(FillRow)]
    assert rows[0]["fee"] == "0.06720008" and rows[0]["side"] == "BUY" and rows[0]["is_liquidation"] == "false"
    assert rows[2]["realized_pnl"] == "9.99900"

    journal.export_csv(sid, "orders", tmp_path / "orders.csv")
    with (tmp_path / "orders.csv").open(newline="") as fh:
        orders = list(csv.DictReader(fh))
    assert [o["status"] for o in orders] == ["FILLED", "REJECTED", "FILLED", "CANCELED"]
    assert orders[1]["order_id"] == "" and orders[1]["reject_code"] == "-2019"

    journal.export_csv(sid, "events", tmp_path / "events.csv")
    with (tmp_path / "events.csv").open(newline="") as fh:
        evs = list(csv.DictReader(fh))
    assert [int(e["seq"]) for e in evs] == list(range(1, 13))
    assert json.loads(evs[0]["payload"])["wallet_balance"] == "10000"
    assert not list(tmp_path.glob("*.part"))

    with pytest.raises(ValueError):
        journal.export_csv(sid, "positions", tmp_path / "x.csv")  # type: ignore[arg-type]


def test_export_uses_plain_decimal_notation(journal: Journal, tmp_path: Path) -> None:
    sid = _start(journal)
    tiny = fill(1, 1, fee=D("1E-8"), price=D("1.5E+5"))
    journal.record(sid, [OrderFilled(1, T0, order(status=OrderStatus.FILLED), tiny)])
    assert journal.fills(sid)[0].fee == D("1E-8")
    journal.export_csv(sid, "fills", tmp_path / "f.csv")
    with (tmp_path / "f.csv").open(newline="") as fh:
        (row,) = csv.DictReader(fh)
    assert row["fee"] == "0.00000001" and row["price"] == "150000"


def test_closed_journal_refuses_calls() -> None:
    j = Journal.in_memory()
    j.close()
    j.close()
    with pytest.raises(JournalClosed):
        j.sessions()
    with pytest.raises(JournalClosed):
        j.record(1, [])


def test_context_manager_and_repr(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "a" / "b" / "j.db") as j:
        assert j.path == tmp_path / "a" / "b" / "j.db"
        assert "j.db" in repr(j)
    assert "closed" in repr(j)
    assert (tmp_path / "a" / "b" / "j.db").is_file()


def test_concurrent_writers_from_threads(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.db") as j:
        sids = [_start(j) for _ in range(4)]

        def write(sid: int) -> None:
            for seq in range(1, 51):
                j.record(sid, [AccountOpened(seq, T0 + seq, D(seq))])

        threads = [threading.Thread(target=write, args=(sid,)) for sid in sids]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for sid in sids:
            assert [e.seq for e in j.events(sid)] == list(range(1, 51))


def test_views_are_frozen(journal: Journal) -> None:
    sid = _start(journal)
    journal.record(sid, trading_story())
    with pytest.raises(dataclasses.FrozenInstanceError):
        journal.fills(sid)[0].fee = D(0)  # type: ignore[misc]
