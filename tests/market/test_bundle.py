"""The bundled datasets are the recorded Binance candles, exactly; the converter is reproducible and strict."""

from __future__ import annotations

import csv
from decimal import Decimal as D
from pathlib import Path

import numpy as np
import pytest

from hexdesk.market import bundle
from hexdesk.market.candles import list_bundled, load_bundled, load_npz, save_npz, scaled_to_decimal
from hexdesk.market.paths import KLINES, RESOURCES

from .conftest import make_series

EXPECTED = {
    "BTCUSDT-2022-06": ("BTCUSDT_1m_2022-06.csv", "BTCUSDT", 50_000),
    "BTCUSDT-2025-03": ("BTCUSDT_1m_2025-03.csv", "BTCUSDT", 44_640),
    "ETHUSDT-2025-03": ("ETHUSDT_1m_2025-03.csv", "ETHUSDT", 44_640),
}


def test_resources_path_points_at_the_repository_folder() -> None:
    assert Path(__file__).resolve().parents[2] / "resources" == RESOURCES
    assert KLINES.is_dir()


def test_list_bundled_describes_every_dataset_without_loading_it() -> None:
    found = {d.name: d for d in list_bundled()}
    assert set(found) == set(EXPECTED)
    for name, (_csv, symbol, rows) in EXPECTED.items():
        d = found[name]
        assert (d.symbol, d.interval, d.rows) == (symbol, "1m", rows)
        assert d.last_open_ms - d.first_open_ms == (rows - 1) * 60_000  # no gaps in the recordings
    assert found["BTCUSDT-2025-03"].first_open_ms == 1_740_798_000_000  # 2025-03-01 03:00 UTC


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled_file_equals_the_csv_exactly(name: str, shared_klines: Path) -> None:
    csv_name, symbol, rows = EXPECTED[name]
    series = load_bundled(name)
    assert (series.symbol, series.interval, len(series)) == (symbol, "1m", rows)
    with open(shared_klines / csv_name, newline="") as fh:
        reader = csv.reader(fh)
        assert next(reader) == ["open_time_ms", "open", "high", "low", "close", "volume"]
        source = list(reader)
    assert len(source) == rows
    pd, vd = series.price_decimals, series.volume_decimals
    times = series.open_time_ms.tolist()
    cols = [a.tolist() for a in series.scaled()]
    for i, row in enumerate(source):
        assert times[i] == int(row[0])
        for k in range(5):
            value = scaled_to_decimal(cols[k][i], pd if k < 4 else vd)
            assert value == D(row[k + 1]), (name, i, k, value, row)


def test_candle_and_drawing_arrays_agree() -> None:
    s = load_bundled("ETHUSDT-2025-03")
    k = s.candle(1)
    assert (k.open, k.high, k.low, k.close, k.volume) == (
        D("2256.19"),
        D("2258.3"),
        D("2255.21"),
        D("2257.59"),
        D("187.198"),
    )
    assert s.open[1] == pytest.approx(2256.19) and s.volume[1] == pytest.approx(187.198)
    assert s.low.min() <= s.open.min() and s.high.max() >= s.close.max()


def test_bundled_readme_keeps_the_provenance_and_documents_the_format() -> None:
    text = (KLINES / "README.md").read_text(encoding="utf-8")
    assert "Benicio1007/Bot_trading" in text
    assert "price_decimals" in text and "volume_decimals" in text


def test_load_bundled_unknown_name_lists_the_available_ones() -> None:
    with pytest.raises(ValueError, match="BTCUSDT-2025-03"):
        load_bundled("DOGEUSDT-1999-01")


def _write_csv(path: Path, rows: list[str]) -> None:
    path.write_text("open_time_ms,open,high,low,close,volume\n" + "\n".join(rows) + "\n")


def test_converter_round_trips_exactly_and_is_byte_for_byte_reproducible(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    rows = [
        "1740787200000,100,101.5,99.25,100.125,0.00000001",
        "1740787260000,100.125,100.2,100.0,100.1,123456789.5",  # 123456789.5e8 needs int64
        "1740787320000,100.1,100.1,100.1,100.1,0",
    ]
    _write_csv(src / "FOOUSDT_1m_2025-03.csv", rows)
    (src / "README.md").write_text("# provenance\n")
    assert bundle.main([str(src), str(tmp_path / "a")]) == 0
    assert bundle.main([str(src), str(tmp_path / "b")]) == 0
    a, b = tmp_path / "a" / "FOOUSDT-2025-03.npz", tmp_path / "b" / "FOOUSDT-2025-03.npz"
    assert a.read_bytes() == b.read_bytes()
    s = load_npz(a)
    assert (s.symbol, s.interval, s.price_decimals, s.volume_decimals) == ("FOOUSDT", "1m", 3, 8)
    got = [(k.open_time_ms, k.open, k.high, k.low, k.close, k.volume) for k in s]
    want = [(int(r.split(",")[0]), *(D(x) for x in r.split(",")[1:])) for r in rows]
    assert got == want
    with np.load(a) as z:  # plain numpy can read it; narrow columns where the values allow
        assert z["open"].dtype == np.int32 and z["volume"].dtype == np.int64
    assert bundle.main([str(src), str(tmp_path / "c"), "--compress"]) == 0
    c = tmp_path / "c" / "FOOUSDT-2025-03.npz"
    assert c.stat().st_size < a.stat().st_size and list(load_npz(c)) == list(s)
    readme = (tmp_path / "a" / "README.md").read_text()
    assert readme.startswith("# provenance") and "Bundled format" in readme


def test_converter_refuses_a_malformed_row(tmp_path: Path) -> None:
    _write_csv(tmp_path / "FOOUSDT_1m_2025-03.csv", ["1740787200000,100,99,98,100,1"])  # high below open
    with pytest.raises(ValueError, match="malformed"):
        bundle.convert(tmp_path, tmp_path / "out")


def test_converter_rejects_unexpected_file_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SYMBOL_INTERVAL_PERIOD"):
        bundle.dataset_name(tmp_path / "btc.csv")


def test_save_and_load_a_hand_made_series_with_a_gap(tmp_path: Path) -> None:
    s = make_series("FOO", [(0, "1.5", "2", "1", "1.75", "3"), (5, "1.75", "1.8", "1.7", "1.7", "0.001")])
    save_npz(s, tmp_path / "x.npz")
    back = load_npz(tmp_path / "x.npz")
    assert list(back) == list(s)
    assert back.open_time_ms.tolist() == s.open_time_ms.tolist()
