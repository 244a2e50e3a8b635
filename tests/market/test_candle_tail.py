"""The first frame's candles (issue 10.3) are read from a bundled month without numpy: they must be exactly the
candles the real loader gives for the same clock, and a file this reader cannot read is refused, never guessed."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from hexdesk.market.candle_tail import bundled_tail, read_tail
from hexdesk.market.candles import load_bundled, save_npz
from hexdesk.market.paths import KLINES

DAY_MS = 24 * 60 * 60 * 1000


@pytest.mark.parametrize("name", ["BTCUSDT-2025-03", "ETHUSDT-2025-03", "BTCUSDT-2022-06"])
def test_the_tail_is_the_loaders_candles_before_the_session_start(name):
    series = load_bundled(name)
    tail = bundled_tail(name, 150, None, DAY_MS)  # a new session: the first day is history
    end = series.index_at(series.first_open_ms + DAY_MS)
    assert (tail.symbol, tail.interval, tail.total, len(tail)) == (series.symbol, series.interval, end, 150)
    assert tail.open_time_ms == tuple(int(t) for t in series.open_time_ms[end - 150 : end])
    for column in ("open", "high", "low", "close", "volume"):
        assert getattr(tail, column) == tuple(float(x) for x in getattr(series, column)[end - 150 : end]), column


def test_a_remembered_clock_cuts_the_tail_there_and_early_clocks_give_what_there_is():
    series = load_bundled("ETHUSDT-2025-03")
    clock = series.first_open_ms + 2 * 60 * 60_000 + 30_000  # two hours and half a minute in: 121 candles opened
    tail = bundled_tail("ETHUSDT-2025-03", 150, clock, DAY_MS)
    assert tail.total == len(tail) == 121 and tail.before_ms == clock
    assert tail.close[-1] == float(series.close[120]) and tail.open_time_ms[0] == series.first_open_ms
    assert len(bundled_tail("ETHUSDT-2025-03", 150, series.first_open_ms, DAY_MS)) == 0  # nothing before the start


def test_unknown_or_damaged_files_are_refused_and_left_as_they_were(tmp_path):
    with pytest.raises(ValueError, match="no bundled dataset 'NOSUCH-2025-03'"):
        bundled_tail("NOSUCH-2025-03", 150, None, DAY_MS)
    cut = tmp_path / "cut.npz"
    whole = (KLINES / "BTCUSDT-2025-03.npz").read_bytes()
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=r"cut\.npz"):
        read_tail(cut, 150, None, DAY_MS)
    assert cut.read_bytes() == whole[: len(whole) // 2]


def test_a_column_in_a_dtype_the_format_never_writes_is_refused_not_misread(tmp_path):
    series = load_bundled("BTCUSDT-2025-03").slice(0, 10)
    path = tmp_path / "odd.npz"
    save_npz(series, path)
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    odd = tmp_path / "odd.npy"
    np.save(odd, np.asarray(series.close, dtype=np.float32))  # 4-byte floats would read as int32 garbage
    members["close.npy"] = odd.read_bytes()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(ValueError, match=r"close\.npy: dtype <f4"):
        read_tail(path, 5, None, 0)


def test_reading_a_tail_imports_neither_numpy_nor_the_engine():
    code = (
        "import sys\n"
        "from hexdesk.market.candle_tail import bundled_tail\n"
        "t = bundled_tail('BTCUSDT-2025-03', 150, None, 86_400_000)\n"
        "print(len(t), [m for m in ('numpy', 'hexdesk.engine', 'hexdesk.market.candles') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["150", "[]"]
