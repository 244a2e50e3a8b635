"""Positions, open orders and fills tables: formatted values from the desk, and Close / Cancel clicks."""

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from hexdesk.engine.enums import Side
from hexdesk.engine.orders import OrderRequest
from hexdesk.ui import theme
from hexdesk.ui.tables import DeskTable, FillsTable, OpenOrdersTable, PositionsTable
from tests.ui.fake_desk import FakeDesk


@pytest.fixture
def desk() -> FakeDesk:
    d = FakeDesk()
    d.push_tick("BTCUSDT", Decimal("84950.1"))
    d.set_leverage("BTCUSDT", 10)
    d.submit(OrderRequest.market("BTCUSDT", Side.BUY, Decimal("0.100"), stop_loss=Decimal("83000")))
    d.push_tick("BTCUSDT", Decimal("85100.0"))  # +14.99 USDT on 0.1 BTC
    return d


def cells(table: DeskTable, row: int = 0) -> dict[str, str]:
    m = table.rows_model
    return {m.columns[c].title or f"#{c}": m.index(row, c).data() for c in range(m.columnCount())}


def click_button(qtbot, table: DeskTable, row: int = 0) -> None:
    column = next(i for i, c in enumerate(table.rows_model.columns) if c.button)
    rect = table.visualRect(table.rows_model.index(row, column))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_positions_table_formats_the_position(qtbot, desk):
    table = PositionsTable(desk)
    qtbot.addWidget(table)
    table.refresh()
    row = cells(table)
    liq = desk.position("BTCUSDT").liquidation_price
    assert row["Symbol"] == "BTCUSDT  10x"
    assert row["Side"] == "Long"
    assert row["Size"] == "0.100"
    assert row["Entry"] == "84,950.1"
    assert row["Mark"] == "85,100.0"
    assert row["Liq. price"] == f"{liq.quantize(Decimal('0.1')):,}"
    assert row["Margin"] == "Isolated 849.50"
    assert row["PnL (ROE %)"] == "+14.99 (+1.76%)"
    pnl = table.rows_model.index(0, 8).data(Qt.ItemDataRole.ForegroundRole)
    assert pnl.color() == QColor(theme.GREEN)


def test_close_button_closes_the_position_through_the_desk(qtbot, desk):
    table = PositionsTable(desk)
    qtbot.addWidget(table)
    table.resize(1200, 200)
    table.show()
    table.refresh()
    with qtbot.waitSignal(table.status) as status:
        click_button(qtbot, table)
    assert desk.closed == ["BTCUSDT"]
    assert status.args == ["Closed BTCUSDT", "ok"]
    table.refresh()
    assert table.rows_model.rowCount() == 0


def test_a_moving_mark_updates_rows_in_place(qtbot, desk):
    table = PositionsTable(desk)
    qtbot.addWidget(table)
    table.refresh()
    table.selectRow(0)
    resets: list[int] = []
    table.rows_model.modelReset.connect(lambda: resets.append(1))
    desk.push_tick("BTCUSDT", Decimal("84000.0"))
    table.refresh()
    assert resets == []
    assert table.selectionModel().isRowSelected(0)
    assert cells(table)["PnL (ROE %)"].startswith("-95.01")


def test_open_orders_show_the_attached_stop_and_cancel_it(qtbot, desk):
    table = OpenOrdersTable(desk)
    qtbot.addWidget(table)
    table.resize(1200, 200)
    table.show()
    table.refresh()
    row = cells(table)
    assert (row["Type"], row["Side"], row["Trigger"], row["Amount"]) == (
        "Stop Market", "Sell", "83,000.0", "Close position"
    )
    order_id = desk.open_orders()[0].order_id
    click_button(qtbot, table)
    assert desk.canceled == [("BTCUSDT", order_id)]


def test_fills_newest_first_with_fee_and_realized_pnl(qtbot, desk):
    desk.close_position("BTCUSDT")
    table = FillsTable(desk)
    qtbot.addWidget(table)
    table.refresh()
    newest, oldest = cells(table, 0), cells(table, 1)
    assert (newest["Side"], newest["Price"], newest["Qty"]) == ("Sell", "85,100.0", "0.100")
    assert newest["Realized PnL"] == "+14.99"
    assert newest["Fee"] == "4.26 USDT"
    assert oldest["Side"] == "Buy" and oldest["Realized PnL"] == "0.00"
    assert newest["Net PnL"] == "+10.74"  # realized 0.100 x (85,100.0 - 84,950.1) = 14.99, less the fee 4.255
    assert newest["#8"] == ""  # not a liquidation
