"""File > Export… / Import… as a user runs them: a real desk and window, CSV read back, bad files refused by name."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from hexdesk.engine.enums import Side
from hexdesk.engine.orders import OrderRequest
from hexdesk.service import ImportOutcome, TradingDesk, open_replay_session
from hexdesk.storage.journal import Journal
from hexdesk.ui import import_export
from hexdesk.ui.main_window import MainWindow
from tests.storage.test_binance_import import WEB_BASIC
from tests.test_service_transfer import BNB_HISTORY


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    j = Journal.open(tmp_path / "j.db")
    yield j
    j.close()


@pytest.fixture
def desk(journal: Journal) -> TradingDesk:
    desk = open_replay_session(journal, ("BTCUSDT-2025-03",), paused=True, name="Drill")
    ticks = desk.replay.ticks()
    desk.feed([next(ticks) for _ in range(5)])
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.010"))).ok
    desk.feed([next(ticks) for _ in range(5)])
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.SELL, D("0.010"))).ok
    return desk


@pytest.fixture
def window(qtbot, desk: TradingDesk) -> MainWindow:
    w = MainWindow(desk)
    qtbot.addWidget(w)
    w.show()
    return w


def _boxes(window: MainWindow) -> list[QMessageBox]:
    return [b for b in window.findChildren(QMessageBox) if b.isVisible()]


def test_export_fills_then_read_them_back(window: MainWindow, desk: TradingDesk, tmp_path: Path) -> None:
    path = tmp_path / "fills.csv"
    assert import_export.export_dialog(window, desk, "fills", path) == 2
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["side"], D(r["quantity"])) for r in rows] == [("BUY", D("0.010")), ("SELL", D("0.010"))]
    assert [D(r["price"]) for r in rows] == [f.price for f in desk.fills()]
    assert window.message.text() == "Exported 2 fills to fills.csv"


def test_export_asks_what_and_where(window: MainWindow, desk: TradingDesk, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    asked: dict[str, object] = {}

    def get_item(parent, title, label, items, current, editable):
        asked["items"] = list(items)
        return import_export.KIND_LABELS["orders"], True

    def get_save(parent, caption, directory, filt):
        asked["default"], asked["filter"] = directory, filt
        return str(tmp_path / "orders.csv"), filt

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(get_item))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(get_save))
    assert import_export.export_dialog(window, desk) == 2
    assert asked["items"] == [import_export.KIND_LABELS[k] for k in ("trades", "fills", "orders", "backup")]
    assert asked["default"] == f"hexdesk-session-{desk.session_id}-orders.csv"
    assert (tmp_path / "orders.csv").exists() and window.message.text() == "Exported 2 orders to orders.csv"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: ("", "")))
    assert import_export.export_dialog(window, desk, "fills") is None  # cancelled: nothing written, no message


def test_export_failure_is_shown(window: MainWindow, desk: TradingDesk, tmp_path: Path) -> None:
    assert import_export.export_dialog(window, desk, "fills", tmp_path / "missing-dir" / "f.csv") is None
    (box,) = _boxes(window)
    assert box.windowTitle() == "Export failed" and "missing-dir" in box.text()


def test_backup_then_import_it_as_a_new_session(window: MainWindow, desk: TradingDesk, journal: Journal,
                                                tmp_path: Path) -> None:
    path = tmp_path / "drill.json"
    n = import_export.export_dialog(window, desk, "backup", path)
    assert n == desk.journal.session(desk.session_id).event_count and window.message.text().startswith("Backed up")
    opened: list[ImportOutcome] = []
    outcome = import_export.import_dialog(window, journal, path, on_imported=opened.append)
    assert outcome is not None and opened == [outcome]
    assert journal.events(outcome.session_id) == journal.events(desk.session_id)
    assert window.message.text() == outcome.message and "Drill (imported)" in outcome.message


def test_corrupt_backup_is_refused_naming_the_record(window: MainWindow, desk: TradingDesk, journal: Journal,
                                                     tmp_path: Path) -> None:
    path = tmp_path / "drill.json"
    import_export.export_to(desk, path, "backup")
    doc = json.loads(path.read_text())
    doc["events"][4]["type"] = "Foo"
    path.write_text(json.dumps(doc))
    before = journal.sessions()
    opened: list[ImportOutcome] = []
    assert import_export.import_dialog(window, journal, path, on_imported=opened.append) is None
    (box,) = _boxes(window)
    assert box.windowTitle() == "Import failed"
    assert "event #5 (seq 5): unknown event type 'Foo'" in box.text() and "Nothing was imported" in box.text()
    assert journal.sessions() == before and opened == []


def test_import_a_binance_history_with_a_bnb_fee(window: MainWindow, journal: Journal, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "history.csv"
    path.write_text(BNB_HISTORY)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a: (str(path), "")))
    outcome = import_export.import_dialog(window, journal)
    assert outcome is not None and outcome.kind == "binance" and outcome.count == 2
    assert [f.fee_asset for f in journal.fills(outcome.session_id)] == ["USDT", "BNB"]
    (box,) = _boxes(window)  # the BNB fee is said, not hidden
    assert box.windowTitle() == "Imported, with notes" and "BNB" in box.detailedText()


def test_malformed_binance_row_is_named(window: MainWindow, journal: Journal, tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(WEB_BASIC + "2025-03-01 15:00:00,BTCUSDT,BUY,84000,0.010,1,0.1\n")
    before = journal.sessions()
    assert import_export.import_dialog(window, journal, path) is None
    (box,) = _boxes(window)
    assert "line 4: 7 cells, the header has 8" in box.text() and "nothing was imported" in box.text()
    assert journal.sessions() == before


def test_import_without_a_journal(window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(WEB_BASIC)
    assert import_export.import_dialog(window, None, path) is None
    (box,) = _boxes(window)
    assert "no journal" in box.text()
