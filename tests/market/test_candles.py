"""Candle series access, exact aggregation on UTC boundaries, and forgiving CSV import."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import numpy as np
import pytest

from hexdesk.market.candles import (
    INTERVAL_MS,
    Candle,
    CandleSeries,
    aggregate,
    load_bundled,
    load_csv,
    scaled_to_decimals,
)

from .conftest import MIN, T0, make_series, simple_rows

HOUR = 60 * MIN


def test_close_time_is_the_last_millisecond_of_the_interval() -> None:
    k = Candle("BTCUSDT", "1m", T0, D(1), D(1), D(1), D(1), D(0))
    assert k.close_time_ms == T0 + 59_999
    assert Candle("BTCUSDT", "1h", T0, D(1), D(1), D(1), D(1), D(0)).close_time_ms == T0 + HOUR - 1
    assert INTERVAL_MS["4h"] == 4 * HOUR and INTERVAL_MS["1d"] == 24 * HOUR


def test_series_access_is_exact_and_views_are_cheap() -> None:
    s = make_series("FOO", [(0, "85237.0", "85240", "85230.15", "85237.5", "1.5"), *simple_rows([0, 1, 2, 5])[1:]])
    assert len(s) == 4 and s.price_decimals == 2 and s.volume_decimals == 2
    k = s.candle(0)
    assert (k.open, k.high, k.low, k.close, k.volume) == (D("85237"), D("85240"), D("85230.15"), D("85237.5"), D("1.5"))
    assert s.candle(-1).open_time_ms == T0 + 5 * MIN
    with pytest.raises(IndexError):
        s.candle(4)
    assert s.open[0] == 85237.0 and s.low[0] == pytest.approx(85230.15)
    assert (s.first_open_ms, s.last_open_ms, s.last_close_ms) == (T0, T0 + 5 * MIN, T0 + 6 * MIN - 1)
    # index_at: first candle opening at or after ts (= count of candles before it)
    assert s.index_at(T0 - 1) == 0
    assert s.index_at(T0) == 0
    assert s.index_at(T0 + 1) == 1
    assert s.index_at(T0 + 3 * MIN) == 3  # inside the gap
    assert s.index_at(T0 + 99 * MIN) == 4
    part = s.slice(1, 3)
    assert len(part) == 2 and part.candle(0) == s.candle(1) and part.candle(1) == s.candle(2)
    assert np.shares_memory(part.open_time_ms, s.open_time_ms)
    assert len(s.slice(0, 0)) == 0
    with pytest.raises(ValueError):
        s.slice(0, 0).first_open_ms  # noqa: B018


def test_series_arrays_are_read_only_and_times_must_increase() -> None:
    s = make_series("FOO", simple_rows([0, 1]))
    with pytest.raises(ValueError):
        s.close[0] = 1.0
    with pytest.raises(ValueError):
        s.scaled()[0][0] = 1
    one = [1, 1]
    with pytest.raises(ValueError, match="increasing"):
        CandleSeries("FOO", "1m", [T0, T0], one, one, one, one, one, price_decimals=0, volume_decimals=0)
    with pytest.raises(ValueError, match="interval"):
        CandleSeries("FOO", "7m", [T0], [1], [1], [1], [1], [1], price_decimals=0, volume_decimals=0)


# --- aggregation -----------------------------------------------------------------------------------------

GAPPY = [
    # minute, open, high, low, close, volume
    (0, "10.0", "12.0", "9.5", "11.0", "1.0"),
    (1, "11.0", "13.5", "10.5", "13.0", "2.25"),
    (2, "13.0", "13.2", "8.75", "9.0", "0.5"),
    (3, "9.0", "9.5", "9.0", "9.25", "0.125"),
    (4, "9.25", "10", "9.1", "9.9", "3"),
    (5, "9.9", "10.1", "9.8", "10.0", "1"),  # 5m bucket 2: minutes 7 and 8 missing
    (6, "10.0", "10.05", "9.0", "9.05", "1"),
    (9, "9.1", "11", "9.1", "10.9", "0.5"),
    (21, "10.9", "10.95", "10.8", "10.85", "7"),  # buckets 10 and 15 absent; bucket 20 has one minute
]


def _ohlcv(k: Candle) -> tuple[int, D, D, D, D, D]:
    return k.open_time_ms, k.open, k.high, k.low, k.close, k.volume


def test_aggregate_5m_by_hand_with_gaps() -> None:
    agg = aggregate(make_series("FOO", GAPPY), "5m")
    assert agg.interval == "5m" and len(agg) == 3
    assert [_ohlcv(k) for k in agg] == [
        (T0, D("10.0"), D("13.5"), D("8.75"), D("9.9"), D("6.875")),
        (T0 + 5 * MIN, D("9.9"), D("11"), D("9.0"), D("10.9"), D("2.5")),
        (T0 + 20 * MIN, D("10.9"), D("10.95"), D("10.8"), D("10.85"), D("7")),
    ]
    assert agg.candle(0).close_time_ms == T0 + 5 * MIN - 1


def test_aggregate_1h_aligns_to_utc_hours_not_to_the_first_candle() -> None:
    # starts at 00:50 UTC: the first 1h bucket is 00:00-00:59 with ten minutes in it
    rows = [(50 + i, f"{100 + i}", f"{101 + i}", f"{99 + i}", f"{100.5 + i}", "0.1") for i in range(20)]
    agg = aggregate(make_series("FOO", rows), "1h")
    assert [k.open_time_ms for k in agg] == [T0, T0 + HOUR]
    assert _ohlcv(agg.candle(0)) == (T0, D(100), D(110), D(99), D("109.5"), D("1.0"))
    assert _ohlcv(agg.candle(1)) == (T0 + HOUR, D(110), D(120), D(109), D("119.5"), D("1.0"))


def test_aggregate_bundled_month_exactly() -> None:
    s = load_bundled("BTCUSDT-2025-03")
    hourly = aggregate(s, "1h")
    assert len(hourly) == 744 and bool(np.all(hourly.open_time_ms % HOUR == 0))
    for h in (0, 1, 200, 743):
        i0 = s.index_at(int(hourly.open_time_ms[h]))
        minutes = [s.candle(i) for i in range(i0, i0 + 60)]
        k = hourly.candle(h)
        assert k.open == minutes[0].open and k.close == minutes[-1].close
        assert k.high == max(m.high for m in minutes) and k.low == min(m.low for m in minutes)
        assert k.volume == sum((m.volume for m in minutes), D(0))
    daily = aggregate(s, "1d")
    # 2025-03-01 03:00 .. 2025-04-01 02:59 UTC: 32 calendar days, the first and last partial
    assert len(daily) == 32 and daily.first_open_ms == T0
    assert daily.candle(0).open == s.candle(0).open
    assert sum((k.volume for k in daily), D(0)) == sum((k.volume for k in hourly), D(0))
    assert aggregate(aggregate(s, "5m"), "1h").candle(5) == hourly.candle(5)


def test_aggregate_rejects_finer_or_misaligned_targets() -> None:
    five = aggregate(make_series("FOO", GAPPY), "5m")
    with pytest.raises(ValueError):
        aggregate(five, "1m")
    with pytest.raises(ValueError):
        aggregate(five, "3m")
    assert aggregate(five, "5m") is five


# --- CSV import ------------------------------------------------------------------------------------------

ROWS_MS = [
    f"{T0},85240.45,85278.16,85225.95,85237.0,10.64798",
    f"{T0 + MIN},85237.01,85289.99,85222.92,85289.99,13.01516",
    f"{T0 + 2 * MIN},85289.99,85300,85280.5,85281,0.5",
]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def _expected() -> list[tuple[int, D, D, D, D, D]]:
    return [(int(r.split(",")[0]), *(D(x) for x in r.split(",")[1:])) for r in ROWS_MS]


@pytest.mark.parametrize("header", [True, False])
def test_import_six_columns_with_or_without_header(tmp_path: Path, header: bool) -> None:
    lines = (["open_time_ms,open,high,low,close,volume"] if header else []) + ROWS_MS
    s, skipped = load_csv(_write(tmp_path / "k.csv", lines), "BTCUSDT")
    assert skipped == 0 and s.symbol == "BTCUSDT" and s.interval == "1m"
    assert [_ohlcv(k) for k in s] == _expected()


def _twelve(row: str, scale: int = 1) -> str:
    t, *values = row.split(",")
    open_t = int(t) * scale
    close_t = (int(t) + MIN - 1) * scale
    return ",".join([str(open_t), *values, str(close_t), "907512.9", "1823", "5.1", "435012.7", "0"])


def test_import_twelve_columns_with_microsecond_timestamps(tmp_path: Path) -> None:
    header = (
        "open_time,open,high,low,close,volume,close_time,"
        + "quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore"
    )
    lines = [header] + [_twelve(r, 1000) for r in ROWS_MS]
    assert len(lines[1].split(",")[0]) == 16
    s, skipped = load_csv(_write(tmp_path / "k.csv", lines), "BTCUSDT")
    assert skipped == 0 and [_ohlcv(k) for k in s] == _expected()


def test_import_twelve_columns_rest_layout_infers_the_interval(tmp_path: Path) -> None:
    lines = []
    for i in range(3):  # 5-minute candles, ms, no header: the interval comes from closeTime - openTime + 1
        t = T0 + i * 5 * MIN
        lines.append(f"{t},1.5,2.5,1.0,2.0,3,{t + 5 * MIN - 1},0,0,0,0,0")
    s, skipped = load_csv(_write(tmp_path / "k.csv", lines), "FOO")
    assert skipped == 0 and s.interval == "5m" and len(s) == 3
    assert s.candle(2).close_time_ms == T0 + 15 * MIN - 1


def test_import_skips_and_counts_malformed_rows(tmp_path: Path) -> None:
    lines = [
        "open_time_ms,open,high,low,close,volume",
        ROWS_MS[0],
        f"{T0 + MIN},1,2,3",  # too few columns
        "",  # blank lines are not rows
        f"{T0 + MIN},abc,2,1,1.5,1",  # not a number
        f"{T0 + MIN},1.5,1.4,1,1.2,1",  # high below open
        f"{T0 + MIN},1.5,2,1.6,1.8,1",  # low above open
        f"{T0 + MIN},1.5,2,1,1.8,-1",  # negative volume
        f"{T0 + MIN},1.5,2,1,1.8,NaN",  # not finite
        f"{T0 + MIN + 30_000},1.5,2,1,1.8,1",  # off the minute grid
        "2025-03-01,1.5,2,1,1.8,1",  # not a timestamp
        ROWS_MS[2],
        ROWS_MS[1],  # out of order: sorted, not an error
        ROWS_MS[1],  # duplicate open time
    ]
    s, skipped = load_csv(_write(tmp_path / "k.csv", lines), "BTCUSDT")
    assert skipped == 9
    assert [_ohlcv(k) for k in s] == _expected()


def test_import_of_an_unreadable_file_gives_an_empty_series(tmp_path: Path) -> None:
    s, skipped = load_csv(_write(tmp_path / "k.csv", ["open,high", "x,y", "1,2"]), "FOO", "1m")
    assert len(s) == 0 and skipped == 2


def test_import_seconds_timestamps_with_a_gap(tmp_path: Path) -> None:
    lines = [f"{(T0 + m * MIN) // 1000},1,2,0.5,1.5,1" for m in (0, 1, 2, 5, 6)]
    s, skipped = load_csv(_write(tmp_path / "k.csv", lines), "FOO")
    assert skipped == 0 and s.interval == "1m"
    assert s.open_time_ms.tolist() == [T0 + m * MIN for m in (0, 1, 2, 5, 6)]


def test_import_survives_garbage_bytes_oversized_fields_and_runaway_quotes(tmp_path: Path) -> None:
    path = tmp_path / "k.csv"
    path.write_bytes(
        b"\xff\xfe not utf-8 header\n"
        + f"{ROWS_MS[0]}\n".encode()
        + f'{T0 + MIN},1,2,0.5,1.5,"{"9" * 200_000}"\n'.encode()  # beyond csv's field size limit
        + b"\x00\x00,1,2\n"
        + f"{ROWS_MS[2]}\n".encode()
        + f'{T0 + 3 * MIN},"1,2\n'.encode()  # a quote that never closes swallows the end of the file
    )
    s, skipped = load_csv(path, "BTCUSDT")
    assert skipped == 3
    assert [_ohlcv(k) for k in s] == [_expected()[0], _expected()[2]]


def test_interval_inference_copes_with_only_gaps_between_rows(tmp_path: Path) -> None:
    lines = [f"{T0 + m * 5 * MIN},1,2,0.5,1.5,1" for m in (0, 2, 5, 7)]  # 10 and 15 minutes apart: a 5m file
    s, skipped = load_csv(_write(tmp_path / "k.csv", lines), "FOO")
    assert (s.interval, len(s), skipped) == ("5m", 4, 0)
    lines = [f"{T0 + h * HOUR},1,2,0.5,1.5,1" for h in (0, 2, 4, 5)]  # mostly 2 h apart, yet an hourly file
    assert load_csv(_write(tmp_path / "h.csv", lines), "FOO")[0].interval == "1h"
    with pytest.raises(ValueError, match="interval"):
        load_csv(_write(tmp_path / "j.csv", [f"{T0 + k * 7_000},1,2,0.5,1.5,1" for k in range(3)]), "FOO")


@pytest.mark.parametrize("decimals", [0, 1, 2, 3, 8, 18])
def test_scaled_to_decimals_are_the_exact_decimals_with_the_scale_as_exponent(decimals: int) -> None:
    """The batch conversion (scaleb) gives the Decimals a string ``"<int>e-<decimals>"`` gives: the same value and
    the same exponent, so they print alike (123450 at 3 decimals is 123.450, not 123.45), whatever the context."""
    values = [0, 1, -1, 5, 10, 123450, -987654321, 2**63 - 1, -(2**63)]
    got = scaled_to_decimals(values, decimals)
    assert [str(d) for d in got] == [str(D(f"{v}e-{decimals}")) for v in values]
    assert all(d.as_tuple().exponent == -decimals for d in got)
    assert got[5] == D(123450) / D(10) ** decimals  # the value, computed another way
