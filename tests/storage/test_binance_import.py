"""Binance Futures "Export Trade History" CSV: every header variant of binance-futures.md §4.6, bad rows, BNB fees.

The sample trade (hand-computed): BUY 0.010 BTCUSDT at 84,000.10 -> amount 840.001, taker fee 0.05% = 0.4200005;
SELL 0.010 at 85,000.00 -> amount 850.00, fee 0.425, realized (85,000.00 - 84,000.10) x 0.010 = 9.999.
The website's files list the newest row first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from hexdesk.engine.enums import LiquidityRole, Side
from hexdesk.storage.binance_import import (
    TradeHistoryError,
    parse_trade_history,
    read_trade_history,
    to_fill_rows,
)

WEB_BASIC = """Date(UTC),Symbol,Side,Price,Quantity,Amount,Fee,Realized Profit
2025-03-01 14:05:09,BTCUSDT,SELL,85000.00,0.010,850.00,0.425,9.999
2025-03-01 12:00:01,BTCUSDT,BUY,84000.10,0.010,840.001,0.4200005,0
"""
WEB_FEE_COIN = """Date(UTC),Symbol,Side,Price,Quantity,Amount,Fee,Fee Coin,Realized Profit
2025-03-01 14:05:09,BTCUSDT,SELL,85000.00,0.010,850.00,0.425,USDT,9.999
2025-03-01 12:00:01,BTCUSDT,BUY,84000.10,0.010,840.001,0.4200005,USDT,0
"""
WEB_QUOTE_ASSET = """Date(UTC),Symbol,Side,Price,Quantity,Amount,Fee,Fee Coin,Realized Profit,Quote Asset
2025-03-01 14:05:09,BTCUSDT,SELL,85000.00,0.010,850.00,0.425,USDT,9.999,USDT
2025-03-01 12:00:01,BTCUSDT,BUY,84000.10,0.010,840.001,0.4200005,USDT,0,USDT
"""
WEB_TOTAL = """Date(UTC),Symbol,Side,Price,Quantity,Total,Fee,Realized Profit
2025-03-01 14:05:09,BTCUSDT,SELL,85000.00,0.010,850.00,0.425,9.999
2025-03-01 12:00:01,BTCUSDT,BUY,84000.10,0.010,840.001,0.4200005,0
"""
# GET /fapi/v1/userTrades saved as CSV: oldest first, epoch ms (1740830401000 = 2025-03-01 12:00:01 UTC)
API = """symbol,id,orderId,side,price,qty,realizedPnl,quoteQty,commission,commissionAsset,time,positionSide,maker
BTCUSDT,7001,5001,BUY,84000.10,0.010,0,840.001,0.4200005,USDT,1740830401000,BOTH,false
BTCUSDT,7002,5002,SELL,85000.00,0.010,9.999,850.00,0.425,USDT,1740837909000,BOTH,true
"""
VARIANTS = {"basic": WEB_BASIC, "fee coin": WEB_FEE_COIN, "quote asset": WEB_QUOTE_ASSET, "total": WEB_TOTAL,
            "api": API}


@pytest.mark.parametrize("text", list(VARIANTS.values()), ids=list(VARIANTS))
def test_every_header_variant_reads_the_same_trade(text: str) -> None:
    h = parse_trade_history(text)
    buy, sell = h.fills  # chronological whatever the file's order
    assert buy.time == datetime(2025, 3, 1, 12, 0, 1, tzinfo=UTC) and buy.ts_ms == 1_740_830_401_000
    assert (buy.symbol, buy.side, buy.price, buy.quantity) == ("BTCUSDT", Side.BUY, D("84000.10"), D("0.010"))
    assert (buy.quote_qty, buy.fee, buy.fee_asset, buy.realized_pnl) == (D("840.001"), D("0.4200005"), "USDT", 0)
    assert sell.time == datetime(2025, 3, 1, 14, 5, 9, tzinfo=UTC)
    assert (sell.side, sell.price, sell.realized_pnl, sell.fee) == (Side.SELL, D("85000.00"), D("9.999"), D("0.425"))
    assert not buy.fee_in_other_asset and not sell.fee_in_other_asset
    assert h.fee_totals == {"USDT": D("0.8450005")}  # 0.4200005 + 0.425
    assert h.duplicates == () and h.warnings == ()


def test_api_variant_keeps_ids_side_and_maker() -> None:
    buy, sell = parse_trade_history(API).fills
    assert (buy.trade_id, buy.order_id, buy.position_side, buy.maker) == (7001, 5001, "BOTH", False)
    assert (sell.trade_id, sell.order_id, sell.maker) == (7002, 5002, True)
    rows = to_fill_rows(parse_trade_history(API))
    assert [(r.seq, r.trade_id, r.order_id, r.role) for r in rows] == [
        (1, 7001, 5001, LiquidityRole.TAKER), (2, 7002, 5002, LiquidityRole.MAKER)]


def test_web_export_without_ids_numbers_fills_in_time_order() -> None:
    rows = to_fill_rows(parse_trade_history(WEB_BASIC))
    assert [(r.seq, r.trade_id, r.order_id, r.side) for r in rows] == [(1, 1, 1, Side.BUY), (2, 2, 2, Side.SELL)]
    assert rows[1].realized_pnl == D("9.999") and rows[1].ts_ms == 1_740_837_909_000 and not rows[1].is_liquidation


def test_bnb_fee_is_kept_in_bnb_and_flagged() -> None:
    text = """Date(UTC),Symbol,Side,Price,Quantity,Amount,Fee,Fee Coin,Realized Profit
2025-03-01 14:05:09,BTCUSDT,SELL,85000.00,0.010,850.00,0.00063750,BNB,9.999
2025-03-01 12:00:01,BTCUSDT,BUY,84000.10,0.010,840.001,0.4200005,USDT,0
"""
    h = parse_trade_history(text)
    buy, sell = h.fills
    assert (sell.fee, sell.fee_asset, sell.fee_in_other_asset) == (D("0.00063750"), "BNB", True)
    assert not buy.fee_in_other_asset
    assert h.other_asset_fee_fills == (sell,)
    assert h.fee_totals == {"USDT": D("0.4200005"), "BNB": D("0.00063750")}  # never 0.42063800 "USDT"
    assert any("BNB" in w and "not added" in w for w in h.warnings)
    rows = to_fill_rows(h)
    assert (rows[1].fee, rows[1].fee_asset) == (D("0.00063750"), "BNB")


def test_fee_with_a_unit_suffix_and_a_usdc_symbol() -> None:
    text = """Date(UTC),Symbol,Side,Price,Quantity,Amount,Fee,Realized Profit
2025-03-02 08:00:00,ETHUSDC,BUY,2000.5,1,2000.5 USDC,0.00075BNB,-3.25 USDC
"""
    (f,) = parse_trade_history(text).fills
    assert (f.quote_asset, f.fee_asset, f.fee, f.fee_in_other_asset) == ("USDC", "BNB", D("0.00075"), True)
    assert f.realized_pnl == D("-3.25")  # a losing close (a BUY closing a short)


@pytest.mark.parametrize(
    ("bad_row", "reason"),
    [
        ("2025-03-01 13:00:00,BTCUSDT,BUY,abc,0.010,1,0.1,0", "line 3: price 'abc' is not a number"),
        ("2025-03-01 13:00:00,BTCUSDT,LONG,84000,0.010,1,0.1,0", "line 3: side 'LONG' is not BUY or SELL"),
        ("2025-13-01 13:00:00,BTCUSDT,BUY,84000,0.010,1,0.1,0", "line 3: date '2025-13-01 13:00:00'"),
        ("2025-03-01 13:00:00,BTCUSDT,BUY,84000,0.010,1,0.1", "line 3: 7 cells, the header has 8"),
        ("2025-03-01 13:00:00,BTCUSDT,BUY,84000,0,1,0.1,0", "line 3: quantity '0' is not above 0"),
        ("2025-03-01 13:00:00,,BUY,84000,0.010,1,0.1,0", "line 3: symbol is empty"),
        ("2025-03-01 13:00:00,BTCUSDT,BUY,84000,0.010,1,,0", "line 3: fee is empty"),
        ("2025-03-01 13:00:00,BTCUSDT,BUY,84000,0.010,1,0.1,1e5", "line 3: realized profit '1e5' is not a number"),
    ],
)
def test_a_malformed_row_is_named_and_nothing_is_returned(bad_row: str, reason: str, tmp_path: Path) -> None:
    lines = WEB_BASIC.splitlines()
    text = "\n".join([lines[0], lines[1], bad_row, lines[2]]) + "\n"
    path = tmp_path / "history.csv"
    path.write_text(text)
    with pytest.raises(TradeHistoryError) as err:
        read_trade_history(path)
    assert reason in str(err.value) and "nothing was imported" in str(err.value)
    assert err.value.problems[0].startswith(reason)


def test_every_bad_line_is_listed_and_the_first_named() -> None:
    text = WEB_BASIC + "2025-03-01 15:00:00,BTCUSDT,HOLD,1,1,1,0,0\n\n2025-03-01 16:00:00,BTCUSDT,BUY,x,1,1,0,0\n"
    with pytest.raises(TradeHistoryError) as err:
        parse_trade_history(text)
    assert err.value.problems == ("line 4: side 'HOLD' is not BUY or SELL", "line 6: price 'x' is not a number")
    assert "(and 1 more problem(s))" in str(err.value)


def test_quoted_multiline_cell_counts_physical_lines() -> None:
    text = WEB_BASIC + '2025-03-01 15:00:00,"BTC\nUSDT",BUY,1,1,1,0,0\n2025-03-01 16:00:00,BTCUSDT,BUY,x,1,1,0,0\n'
    with pytest.raises(TradeHistoryError) as err:
        parse_trade_history(text)
    assert err.value.problems[0].startswith("line 5: symbol")  # the row spans lines 4-5
    assert err.value.problems[1].startswith("line 6: price 'x'")


def test_repeated_trade_id_is_reported_and_kept_once() -> None:
    lines = API.splitlines()
    h = parse_trade_history("\n".join([*lines, lines[1]]) + "\n")  # an overlap between two downloads
    assert [f.trade_id for f in h.fills] == [7001, 7002]
    assert h.duplicates == ("line 4 repeats line 2 (trade id 7001)",)


def test_one_trade_id_for_two_different_fills_is_refused() -> None:
    lines = API.splitlines()
    other = lines[1].replace("84000.10", "84000.20")
    with pytest.raises(TradeHistoryError, match=r"line 4: trade id 7001 is already used by a different fill on line 2"):
        parse_trade_history("\n".join([*lines, other]) + "\n")


def test_identical_rows_without_ids_are_kept_and_warned_about() -> None:
    lines = WEB_BASIC.splitlines()
    h = parse_trade_history("\n".join([*lines, lines[2]]) + "\n")
    assert len(h.fills) == 3
    assert any("line 4 is identical to line 3" in w for w in h.warnings)


def test_not_a_trade_history() -> None:
    klines = "open_time,open,high,low,close,volume\n1,2,3,4,5,6\n"
    with pytest.raises(TradeHistoryError, match="not a Binance futures trade history"):
        parse_trade_history(klines)
    with pytest.raises(TradeHistoryError, match="empty"):
        parse_trade_history("\n\n")
    with pytest.raises(TradeHistoryError, match="no trades"):
        parse_trade_history(WEB_BASIC.splitlines()[0] + "\n")


def test_bom_semicolons_and_header_case(tmp_path: Path) -> None:
    text = WEB_FEE_COIN.replace(",", ";").replace("Fee Coin", "FEE COIN")
    path = tmp_path / "h.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    h = read_trade_history(path)
    assert len(h.fills) == 2 and h.fills[0].side is Side.BUY


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"PK\x03\x04\xff\xfe garbage")
    with pytest.raises(TradeHistoryError, match="not UTF-8"):
        read_trade_history(path)
