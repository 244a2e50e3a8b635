"""End to end as a trader uses it: bundled candles replay, a click on Buy, and the fill is in the SQLite file."""

import os
import subprocess
import sys
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from hexdesk.engine.enums import Side
from hexdesk.engine.orders import OrderRequest
from hexdesk.service import open_replay_session
from hexdesk.storage.journal import Journal
from hexdesk.ui.main_window import MainWindow


def test_click_buy_then_position_in_window_and_fill_in_database(qtbot, tmp_path):
    db = tmp_path / "journal.db"
    journal = Journal.open(db)
    desk = open_replay_session(journal, ("BTCUSDT-2025-03", "ETHUSDT-2025-03"), paused=True)
    window = MainWindow(desk)
    qtbot.addWidget(window)
    window.show()
    ticks = desk.replay.ticks()
    desk.feed([next(ticks) for _ in range(16)])

    window.ticket.leverageInput.setValue(10)
    window.ticket.quantityInput.setText("0.250")
    qtbot.mouseClick(window.ticket.buyButton, Qt.MouseButton.LeftButton)

    model = window.positions_table.rows_model
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    position = desk.position("BTCUSDT")
    row = [model.data(model.index(0, c)) for c in range(model.columnCount())]
    assert "BTCUSDT" in row[0]
    assert "0.250" in row
    assert f"{position.liquidation_price:,.1f}" in row  # the liquidation price as the table shows it
    assert window.chart.price_line("liq") is not None

    # The fill reached the file before the window showed it: read it back through a second connection.
    session_id = desk.session_id
    desk.close()
    journal.close()
    reopened = Journal.open(db)
    fills = reopened.fills(session_id)
    assert [(f.symbol, f.side.value, f.quantity) for f in fills] == [("BTCUSDT", "BUY", Decimal("0.250"))]
    assert fills[0].price == position.entry_price
    reopened.close()


def test_screenshot_command_renders_the_window(tmp_path):
    out = tmp_path / "shot.png"
    proc = subprocess.run(
        [sys.executable, "-m", "hexdesk", "--offline", "--screenshot", str(out), "--replay-seconds", "1.5"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "HEXDESK_DB": str(tmp_path / "never.db"), **_base_env()},
    )
    assert proc.returncode == 0, proc.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1600, 960)
    assert not (tmp_path / "never.db").exists()  # a screenshot run never writes to the user's journal


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "HEXDESK_DB")}


def test_a_corrupt_journal_is_reported_and_left_untouched(tmp_path):
    db = tmp_path / "hexdesk.db"
    garbage = b"this is not a database" * 100
    db.write_bytes(garbage)
    proc = subprocess.run(
        [sys.executable, "-m", "hexdesk", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"QT_QPA_PLATFORM": "offscreen", **_base_env()},
    )
    assert proc.returncode == 2
    assert "left untouched" in proc.stderr
    assert db.read_bytes() == garbage
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hexdesk.db"]


def test_a_frame_brings_the_chart_readout_to_the_newest_candle(qtbot):
    desk = open_replay_session(None, ("BTCUSDT-2025-03",), paused=True)
    window = MainWindow(desk)
    qtbot.addWidget(window)
    ticks = desk.replay.ticks()
    batch = [next(ticks) for _ in range(4 * 90 + 1)]  # ninety candles, then the open of the next
    desk.feed(batch)
    window.refresh_now()
    shown = window.chart._ohlc_label.textItem.toPlainText()  # what is painted, without asking the chart to flush
    newest = window.chart.candle_at_index(-1)
    assert shown.startswith(window.chart._fmt_time(newest.t))
    assert newest.t * 1000 == batch[-1].candle.open_time_ms


def test_an_isolated_liquidation_is_announced_with_what_it_cost(qtbot):
    desk = open_replay_session(None, ("BTCUSDT-2022-06",), paused=True)  # the June 2022 crash
    window = MainWindow(desk)
    qtbot.addWidget(window)
    ticks = desk.replay.ticks()
    desk.feed([next(ticks) for _ in range(4)])
    desk.set_leverage("BTCUSDT", 100)
    wallet = desk.account().wallet_balance
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, Decimal("0.100"))).ok
    margin = desk.position("BTCUSDT").isolated_wallet
    while desk.position("BTCUSDT").is_open:
        desk.feed([next(ticks) for _ in range(200)])
    window.refresh_now()
    text = window.message.text()
    assert text.startswith("LIQUIDATED BTCUSDT long 0.100")
    assert f"lost {margin:,.2f} USDT, its isolated margin, nothing else" in text
    fee = wallet - desk.account().wallet_balance - margin  # the opening fee and any funding: nothing more
    assert Decimal(0) < fee < Decimal("5")
