"""``hexdesk data ...`` as a user runs it: a subprocess, a local archive server, exit codes and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.market.archive_server import ArchiveServer, kline_rows

DEC1 = 1_733_011_200_000  # 2024-12-01 00:00 UTC
PRICES = [("96000.1", "96050.0", "95990.5", "96010.2", "12.345"), ("96010.2", "96020.0", "95900.0", "95950.0", "8.5")]
MARKS = [("96001.0", "96040.0", "95995.0", "96008.0", "0"), ("96008.0", "96015.0", "95880.0", "95940.0", "0")]
FUNDING = ["1733011200000,8,0.00010000", "1733040000000,8,0.00004000"]


@pytest.fixture
def server():
    s = ArchiveServer()
    s.put_month("BTCUSDT", "2024-12", kline_rows(DEC1, PRICES), kline_rows(DEC1, MARKS), FUNDING)
    yield s
    s.close()


def _run(tmp_path: Path, *args: str, url: str = "http://127.0.0.1:9") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEXDESK_")}
    env.update(HEXDESK_DATA_DIR=str(tmp_path / "lib"), HEXDESK_ARCHIVE_URL=url, HEXDESK_DB=str(tmp_path / "j.db"))
    return subprocess.run(
        [sys.executable, "-m", "hexdesk", "data", *args], capture_output=True, text=True, timeout=60, env=env
    )


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_download_then_list(tmp_path: Path, server: ArchiveServer) -> None:
    proc = _run(tmp_path, "download", "BTCUSDT", "2024-12", url=server.base_url)
    assert proc.returncode == 0, proc.stderr
    assert "klines/BTCUSDT-2024-12-futures.npz" in proc.stdout
    assert "hexdesk --dataset BTCUSDT-2024-12-futures" in proc.stdout
    listed = _run(tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    row = next(ln for ln in lines if ln.strip().startswith("BTCUSDT-2024-12-futures"))
    assert "USDⓈ-M futures" in row and "mark-price klines" in row and "(library)" in row
    bundled = next(ln for ln in lines if ln.strip().startswith("BTCUSDT-2025-03 "))
    assert "Binance spot" in bundled and "real funding" in bundled  # bundled months say what they are
    assert any("2024-12 (library)" in ln for ln in lines)
    assert not (tmp_path / "j.db").exists()  # the data CLI never opens the journal


def test_a_wrong_checksum_exits_2_with_one_line_and_writes_nothing(tmp_path: Path, server: ArchiveServer) -> None:
    path = "data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-12.zip"
    server.put(path, server.files[f"/{path}"], sha_of=b"tampered")
    proc = _run(tmp_path, "download", "BTCUSDT", "2024-12", url=server.base_url)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("hexdesk data: BTCUSDT-fundingRate-2024-12.zip: sha256 ")
    assert "nothing was written" in proc.stderr
    assert _files(tmp_path / "lib") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("download", "BTCUSDT", "2024-1"), "hexdesk data: '2024-1' is not a month such as 2024-12"),
        (("download", "BTCUSDT"), "hexdesk data download: the following arguments are required: month"),
        (("download", "BTCUSDT", "2024-12"), "hexdesk data: cannot download http://127.0.0.1:9/"),
        (("import", "nope.csv"), "hexdesk data: nope.csv: no such file"),
        (("frobnicate",), "hexdesk data: {download,import,list,path} invalid choice: 'frobnicate'"),
    ],
)
def test_errors_are_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    proc = _run(tmp_path, *args)
    assert proc.returncode == 2, proc.stdout
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith(message), proc.stderr


def test_import_names_the_first_bad_line(tmp_path: Path) -> None:
    src = tmp_path / "BTCUSDT-1m-2024-12.csv"
    good = kline_rows(DEC1, PRICES)
    src.write_text("\n".join([good[0], "1733011260000,1,2,3", good[1]]) + "\n")  # no header, line 2 is short
    proc = _run(tmp_path, "import", str(src))
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "hexdesk data: BTCUSDT-1m-2024-12.csv line 2: expected 12 columns (or 6), got 4: 1733011260000,1,2,3; "
        "nothing was imported"
    ]
    src.write_text("\n".join(good) + "\n")
    ok = _run(tmp_path, "import", str(src))
    assert ok.returncode == 0, ok.stderr
    assert "imported 2 candles into BTCUSDT-2024-12-futures" in ok.stdout


def test_the_data_command_never_imports_qt(tmp_path: Path) -> None:
    code = (
        "import sys; from hexdesk.app import main; rc = main(['data', 'list']); "
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'qasync'))], 'Qt imported'; "
        "sys.exit(rc)"
    )
    env = {**os.environ, "HEXDESK_DATA_DIR": str(tmp_path / "lib")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
