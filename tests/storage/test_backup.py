"""Session backup (versioned JSON) and its all-or-nothing import into a new session."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from hexdesk.engine import OrderRequest, Side
from hexdesk.engine.rebuild import rebuild
from hexdesk.storage.backup import FORMAT, VERSION, BackupError, import_backup, session_backup, write_backup
from hexdesk.storage.binance_import import parse_trade_history, to_fill_rows
from hexdesk.storage.journal import Journal
from tests.engine._exchange_helpers import BTC, H, exact_exchange

DAY = 86_400_000
START = 20_000 * DAY  # 2024-10-04, a funding instant (00:00 UTC)


def _traded_events() -> list:
    """A real engine session: buy 0.1 BTC at 60,000, a resting limit sell, funding, a partial close, more ticks."""
    ex = exact_exchange(start_ms=START)
    ex.set_funding_rate(BTC, D("0.0001"))
    ex.on_tick(BTC, START + 1_000, D("60000"))
    ex.submit(OrderRequest.market(BTC, Side.BUY, D("0.100")))
    ex.submit(OrderRequest.limit(BTC, Side.SELL, D("0.050"), D("61000")))
    for i in range(1, 40):  # up and down through 61,000 and past two funding instants; a few scalps on the way
        ex.on_tick(BTC, START + i * H // 2, D("60000") + D(50 * (i % 25)))
        if i % 6 == 0:
            ex.submit(OrderRequest.market(BTC, Side.SELL if i % 12 else Side.BUY, D("0.010")))
    ex.submit(OrderRequest.limit(BTC, Side.SELL, D("0.010"), D("65000")))  # stays open
    return list(ex.events)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Journal]:
    j = Journal.open(tmp_path / "j.db")
    yield j
    j.close()


@pytest.fixture
def source(db: Journal) -> int:
    events = _traded_events()
    sid = db.start_session("Morning drill", "replay", "BTCUSDT-2025-03", D("10000"), {"speed": 60})
    db.record(sid, events)
    return sid


def test_events_are_a_real_story(db: Journal, source: int) -> None:
    s = db.session(source)
    assert s.fill_count >= 2 and s.funding != 0 and s.event_count > 20
    state = rebuild(db.events(source))
    assert BTC in state.positions and len(state.open_orders) == 1


def test_round_trip_gives_an_equal_session(db: Journal, source: int, tmp_path: Path) -> None:
    path = tmp_path / "backup.json"
    n = write_backup(db, source, path)
    doc = json.loads(path.read_text())
    assert (doc["format"], doc["version"]) == (FORMAT, VERSION) and n == len(doc["events"])
    assert [e["seq"] for e in doc["events"]] == list(range(1, n + 1))

    new = import_backup(db, path)
    assert new != source
    old_s, new_s = db.session(source), db.session(new)
    assert new_s.name == "Morning drill (imported)" and new_s.settings == {"speed": 60}
    assert (new_s.realized_pnl, new_s.fees, new_s.funding, new_s.event_count, new_s.fill_count) == (
        old_s.realized_pnl, old_s.fees, old_s.funding, old_s.event_count, old_s.fill_count)
    assert db.events(new) == db.events(source)
    assert db.fills(new) == db.fills(source) and db.orders(new) == db.orders(source)
    assert rebuild(db.events(new)) == rebuild(db.events(source))
    assert import_backup(db, path, name="Copy") and db.sessions()[0].name == "Copy"


def _doc(db: Journal, sid: int) -> dict[str, Any]:
    return json.loads(json.dumps(session_backup(db, sid)))


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def _drop_event(doc: dict[str, Any]) -> None:
    del doc["events"][9]


def _swap_times(doc: dict[str, Any]) -> None:
    doc["events"][12]["ts_ms"] = doc["events"][11]["ts_ms"] - 1


def _bad_fill_price(doc: dict[str, Any]) -> None:
    first_fill = next(e for e in doc["events"] if e["type"] == "OrderFilled")
    first_fill["fill"]["price"] = "sixty thousand"


def _reorder(doc: dict[str, Any]) -> None:
    doc["events"][3], doc["events"][4] = doc["events"][4], doc["events"][3]


CORRUPTIONS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "unknown type": (_set(("events", 6, "type"), "Foo"), r"^event #7 \(seq 7\): unknown event type 'Foo'"),
    "missing event": (_drop_event, r"^event #10 \(seq 11\): expected seq 10"),
    "reordered": (_reorder, r"^event #4 \(seq 5\): expected seq 4"),
    "time backwards": (_swap_times, r"^event #13 \(seq 13\): time .* is before the previous event's"),
    "bad number": (_bad_fill_price, r"^event #\d+ \(seq \d+\): OrderFilled.fill: .*price"),
    "unknown field": (_set(("events", 1, "colour"), "red"), r"^event #2 \(seq 2\): .* has no field\(s\) \['colour'\]"),
    "not an object": (_set(("events", 2), 42), r"^event #3: not an object"),
    "wallet edited": (_set(("account", "wallet_balance"), "99999"), r"^account: the events rebuild a wallet of"),
    "start balance": (_set(("session", "start_balance"), "5000"),
                      r"^event #1 \(seq 1\): the account opens with 10000(\.0+)? but the session's start balance "
                      r"is 5000"),
    "no account": (_set(("account",), None), r"^account: missing"),
    "fees edited": (_set(("session", "fees"), "0"), r"^session: fees is 0 but the events add up to"),
    "newer version": (_set(("version",), 2), r"written by a newer HexDesk"),
    "other format": (_set(("format",), "something-else"), r"not a HexDesk session backup"),
    "bad mode": (_set(("session", "mode"), "paper"), r"^session: mode 'paper'"),
    "bad rating": (_set(("notes",), {"BTCUSDT:1": {"rating": 9}}), r"^note 'BTCUSDT:1': rating 9 is not 1..5"),
    "bad day": (_set(("day_notes",), {"2025-02-30": "x"}), r"^day note '2025-02-30': not a YYYY-MM-DD day"),
    "bad cursor": (_set(("resume",), {"market": None, "cursor": ["12:00", "BTCUSDT"]}), r"^resume: cursor"),
    "bad market": (_set(("resume",), {"market": {"now_ms": 1}, "cursor": None}), r"^resume: the market view"),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_corrupt_backup_is_refused_naming_the_record_and_nothing_is_imported(
    case: str, db: Journal, source: int, tmp_path: Path
) -> None:
    mutate, message = CORRUPTIONS[case]
    doc = _doc(db, source)
    mutate(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    before = db.sessions()
    with pytest.raises(BackupError, match=message):
        import_backup(db, path)
    assert db.sessions() == before  # nothing imported: no session, no event


def test_truncated_file_is_refused(db: Journal, source: int, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    write_backup(db, source, path)
    path.write_text(path.read_text()[:2000])
    with pytest.raises(BackupError, match=r"not valid JSON: .* at line \d+ column \d+"):
        import_backup(db, path)
    assert len(db.sessions()) == 1


def test_a_failure_while_writing_rolls_everything_back(db: Journal, source: int, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation passed, then the disk fails half-way: the session row written before is rolled back too."""
    path = tmp_path / "b.json"
    write_backup(db, source, path)
    before = db.sessions()

    def failing_record(session_id: int, events: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(db, "record", failing_record)
    with pytest.raises(OSError, match="disk full"):
        import_backup(db, path)
    monkeypatch.undo()
    assert db.sessions() == before
    reopened = Journal.open(db.path)  # and on disk, as another connection sees it
    try:
        assert [s.id for s in reopened.sessions()] == [source]
    finally:
        reopened.close()


def test_notes_and_day_notes_round_trip(db: Journal, source: int, tmp_path: Path) -> None:
    db.save_trade_note(source, "BTCUSDT:1", notes="chased the move", setup="breakout", rating=2,
                       tags=("fomo", "late"))
    day = "2024-10-04"
    db.save_day_note(source, day, "=tired, slept badly")
    path = tmp_path / "b.json"
    write_backup(db, source, path)
    new = import_backup(db, path)
    note = db.trade_note(new, "BTCUSDT:1")
    assert (note.notes, note.setup, note.rating, set(note.tags)) == ("chased the move", "breakout", 2,
                                                                    {"fomo", "late"})
    assert db.day_note(new, day) == "=tired, slept badly"


def test_backup_document_is_stable(db: Journal, source: int) -> None:
    a, b = session_backup(db, source), session_backup(db, source)
    a.pop("exported_at"), b.pop("exported_at")
    assert a == b and copy.deepcopy(a)["account"]["open_orders"]


def test_journal_only_session_round_trips_its_imported_fills(db: Journal, tmp_path: Path) -> None:
    history = parse_trade_history(
        "Date(UTC),Symbol,Side,Price,Quantity,Amount,Fee,Fee Coin,Realized Profit\n"
        "2025-03-01 14:05:09,BTCUSDT,SELL,85000.00,0.010,850.00,0.00063750,BNB,9.999\n"
        "2025-03-01 12:00:01,BTCUSDT,BUY,84000.10,0.010,840.001,0.4200005,USDT,0\n"
    )
    sid = db.start_session("Real", "live", "binance:h.csv", D(0), {}, journal_only=True)
    db.record_imported_fills(sid, to_fill_rows(history))
    path = tmp_path / "real.json"
    write_backup(db, sid, path)
    new = import_backup(db, path)
    assert db.fills(new) == db.fills(sid) and db.fills(new)[1].fee_asset == "BNB"
    assert db.session(new).journal_only
