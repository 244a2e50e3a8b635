"""hexdesk.service.transfer: export from a desk, backup/restore, Binance trade history into a journal-only session
(written through the real journal, in one transaction, so rollback is exercised for real)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest

from hexdesk.engine.enums import Side
from hexdesk.engine.orders import OrderRequest
from hexdesk.service import (
    TradingDesk,
    TransferError,
    export_session,
    import_binance_trades,
    import_file,
    open_replay_session,
    restore_backup,
)
from hexdesk.storage.journal import Journal
from tests.storage.test_binance_import import API, VARIANTS, WEB_BASIC

BNB_HISTORY = """Date(UTC),Symbol,Side,Price,Quantity,Amount,Fee,Fee Coin,Realized Profit,Quote Asset
2025-03-01 14:05:09,BTCUSDT,SELL,85000.00,0.010,850.00,0.00063750,BNB,9.999,USDT
2025-03-01 12:00:01,BTCUSDT,BUY,84000.10,0.010,840.001,0.4200005,USDT,0,USDT
"""


@pytest.fixture
def importing(tmp_path: Path) -> Iterator[Journal]:
    j = Journal.open(tmp_path / "j.db")
    yield j
    j.close()


def _write(tmp_path: Path, text: str, name: str = "history.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text", list(VARIANTS.values()), ids=list(VARIANTS))
def test_binance_history_becomes_a_journal_only_session(importing: Journal, tmp_path: Path,
                                                        text: str) -> None:
    outcome = import_binance_trades(importing, _write(tmp_path, text), "Real March")
    assert outcome.kind == "binance" and outcome.count == 2 and outcome.name == "Real March"
    s = importing.session(outcome.session_id)
    assert s.journal_only
    assert s.name == "Real March" and s.start_balance == 0
    assert s.settings["fee_totals"] == {"USDT": "0.8450005"} and s.settings["symbols"] == ["BTCUSDT"]
    buy, sell = importing.fills(outcome.session_id)
    assert (buy.side, buy.price, buy.fee, buy.ts_ms) == (Side.BUY, D("84000.10"), D("0.4200005"), 1_740_830_401_000)
    assert (sell.side, sell.realized_pnl) == (Side.SELL, D("9.999"))


def test_bnb_fee_stays_in_bnb(importing: Journal, tmp_path: Path) -> None:
    outcome = import_binance_trades(importing, _write(tmp_path, BNB_HISTORY))
    _, sell = importing.fills(outcome.session_id)
    assert (sell.fee, sell.fee_asset) == (D("0.00063750"), "BNB")
    assert outcome.fee_totals == {"USDT": D("0.4200005"), "BNB": D("0.00063750")}
    assert "0.00063750 BNB" in outcome.message and "0.4200005 USDT" in outcome.message
    assert importing.session(outcome.session_id).settings["other_asset_fee_fills"] == [2]  # line 2 of the file
    assert any("BNB" in w for w in outcome.warnings)


def test_malformed_row_imports_nothing(importing: Journal, tmp_path: Path) -> None:
    bad = WEB_BASIC + "2025-03-01 15:00:00,BTCUSDT,BUY,84000,oops,1,0.1,0\n"
    with pytest.raises(TransferError, match=r"line 4: quantity 'oops' is not a number.*nothing was imported"):
        import_binance_trades(importing, _write(tmp_path, bad))
    assert importing.sessions() == []


def test_duplicate_rows_are_reported(importing: Journal, tmp_path: Path) -> None:
    lines = API.splitlines()
    outcome = import_binance_trades(importing, _write(tmp_path, "\n".join([*lines, lines[2]]) + "\n"))
    assert outcome.count == 2 and outcome.duplicates == ("line 4 repeats line 3 (trade id 7002)",)
    assert "1 repeated row(s) skipped" in outcome.message


def test_a_failing_write_leaves_no_session(importing: Journal, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(session_id: int, fills: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(importing, "record_imported_fills", fail)
    with pytest.raises(OSError):
        import_binance_trades(importing, _write(tmp_path, WEB_BASIC))
    assert importing.sessions() == []


# ------------------------------------------------------------------------------------ export from a desk


@pytest.fixture
def desk() -> Iterator[TradingDesk]:
    journal = Journal.in_memory()
    desk = open_replay_session(journal, ("BTCUSDT-2025-03",), paused=True)
    gen = desk.replay.ticks()
    desk.feed([next(gen) for _ in range(5)])
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.010"))).ok
    desk.feed([next(gen) for _ in range(5)])
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.SELL, D("0.010"))).ok
    assert not desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("500"))).ok  # rejected: kept in orders
    yield desk
    journal.close()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_export_fills_and_orders_and_read_back(desk: TradingDesk, tmp_path: Path) -> None:
    assert export_session(desk, "fills", tmp_path / "f.csv") == 2
    fills = _rows(tmp_path / "f.csv")
    assert [r["side"] for r in fills] == ["BUY", "SELL"]
    assert [D(r["price"]) for r in fills] == [f.price for f in desk.fills()]
    assert D(fills[1]["realized_pnl"]) == desk.fills()[1].realized_pnl  # a plain number, maybe negative
    assert export_session(desk, "orders", tmp_path / "o.csv") == 3
    assert [r["status"] for r in _rows(tmp_path / "o.csv")] == ["FILLED", "FILLED", "REJECTED"]


def test_export_trades_uses_the_desk_trade_list(desk: TradingDesk, tmp_path: Path) -> None:
    if not callable(getattr(desk, "trades", None)):
        with pytest.raises(TransferError, match="trade list"):
            export_session(desk, "trades", tmp_path / "t.csv")
        return
    n = export_session(desk, "trades", tmp_path / "t.csv")
    assert n == len(desk.trades()) == len(_rows(tmp_path / "t.csv")) == 1  # type: ignore[attr-defined]


def test_backup_from_the_desk_restores_into_a_new_session(desk: TradingDesk, tmp_path: Path) -> None:
    n = export_session(desk, "backup", tmp_path / "b.json")
    journal = desk.journal
    assert journal is not None and desk.session_id is not None
    outcome = import_file(journal, tmp_path / "b.json")  # recognised as a backup by its content
    assert outcome.kind == "backup" and outcome.count == n
    assert journal.events(outcome.session_id) == journal.events(desk.session_id)
    assert journal.fills(outcome.session_id) == journal.fills(desk.session_id)

    (tmp_path / "bad.json").write_text((tmp_path / "b.json").read_text().replace('"OrderFilled"', '"Foo"', 1))
    before = journal.sessions()
    with pytest.raises(TransferError, match=r"bad.json: event #\d+ \(seq \d+\): unknown event type 'Foo'"):
        restore_backup(journal, tmp_path / "bad.json")
    assert journal.sessions() == before


def test_export_without_a_journal(tmp_path: Path) -> None:
    desk = open_replay_session(None, ("BTCUSDT-2025-03",), paused=True)
    gen = desk.replay.ticks()
    desk.feed([next(gen) for _ in range(5)])
    desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.010")))
    assert export_session(desk, "fills", tmp_path / "f.csv") == 1  # what this run has seen
    with pytest.raises(TransferError, match="no journal"):
        export_session(desk, "orders", tmp_path / "o.csv")
    with pytest.raises(ValueError):
        export_session(desk, "positions", tmp_path / "x.csv")  # type: ignore[arg-type]
