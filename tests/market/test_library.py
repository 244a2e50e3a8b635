"""The data library against a local stand-in for data.binance.vision: download, checksum, import, list."""

from __future__ import annotations

import zipfile
from decimal import Decimal as D
from pathlib import Path

import pytest

from hexdesk.market import library
from hexdesk.market.library import ChecksumError, LibraryError
from tests.market.archive_server import KLINE_HEADER, ArchiveServer, kline_rows, zip_csv

DEC1 = 1_733_011_200_000  # 2024-12-01 00:00 UTC
PRICES = [("96000.1", "96050.0", "95990.5", "96010.2", "12.345"), ("96010.2", "96020.0", "95900.0", "95950.0", "8.5")]
MARKS = [("96001.0", "96040.0", "95995.0", "96008.0", "0"), ("96008.0", "96015.0", "95880.0", "95940.0", "0")]
FUNDING = ["1733011200000,8,0.00010000", "1733040000004,8,-1.4E-7", "1733068800000,8,0.00003100"]


@pytest.fixture
def server():
    s = ArchiveServer()
    yield s
    s.close()


@pytest.fixture
def lib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "lib"
    monkeypatch.setenv("HEXDESK_DATA_DIR", str(d))
    return d


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_download_checks_converts_and_lists(server: ArchiveServer, lib: Path) -> None:
    server.put_month("BTCUSDT", "2024-12", kline_rows(DEC1, PRICES), kline_rows(DEC1, MARKS), FUNDING)
    written = library.download("BTCUSDT", "2024-12", base_url=server.base_url)
    assert sorted(str(p.relative_to(lib)) for p in written) == [
        "fundingRate/BTCUSDT-fundingRate-2024-12.csv",
        "klines/BTCUSDT-2024-12-futures.npz",
        "markPriceKlines/BTCUSDT-2024-12-futures.npz",
    ]
    assert (lib / "README.md").is_file()  # the folder says what it is, for whoever copies it
    assert not [p for p in _files(lib) if p.endswith(".tmp")]
    # every checksum was fetched beside its zip
    assert sum(r.endswith(".CHECKSUM") for r in server.requests) == 3
    ds = library.load_dataset("BTCUSDT-2024-12-futures")
    assert ds.info.market == "futures" and ds.info.source == "library"
    first = ds.series.candle(0)
    assert (first.open_time_ms, first.open, first.high, first.low, first.close, first.volume) == (
        DEC1, D("96000.1"), D("96050.0"), D("95990.5"), D("96010.2"), D("12.345")
    )  # fmt: skip
    assert ds.mark is not None and ds.mark.candle(1).low == D("95880.0")
    hist = library.funding_history("BTCUSDT")
    r = hist.at(1_733_040_000_000)  # calc_time ...004 is the 08:00 settlement; -1.4E-7 read exactly
    assert r is not None and r.rate == D("-1.4E-7")
    info = {d.name: d for d in library.list_datasets()}["BTCUSDT-2024-12-futures"]
    assert info.mark_path is not None and info.rows == 2
    assert "USDⓈ-M futures" in info.describe() and "mark-price klines" in info.describe()
    # bundled months are listed too, honestly as spot
    assert {d.market for d in library.list_datasets() if d.source == "bundled"} == {"spot"}


def test_a_wrong_checksum_is_refused_and_nothing_is_written(server: ArchiveServer, lib: Path) -> None:
    server.put_month("BTCUSDT", "2024-12", kline_rows(DEC1, PRICES), kline_rows(DEC1, MARKS), FUNDING)
    path = "data/futures/um/monthly/markPriceKlines/BTCUSDT/1m/BTCUSDT-1m-2024-12.zip"
    server.put(path, server.files[f"/{path}"], sha_of=b"something else")  # the second of three archives
    with pytest.raises(ChecksumError, match=r"BTCUSDT-1m-2024-12\.zip: sha256 .* does not match .*nothing was written"):
        library.download("BTCUSDT", "2024-12", base_url=server.base_url)
    assert _files(lib) == []  # not even the klines that checked out


def test_a_truncated_zip_with_a_matching_checksum_is_still_refused(server: ArchiveServer, lib: Path) -> None:
    server.put_month("BTCUSDT", "2024-12", kline_rows(DEC1, PRICES), None, None)
    path = "data/futures/um/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-12.zip"
    server.put(path, server.files[f"/{path}"][:40])
    with pytest.raises(LibraryError, match="not a zip archive"):
        library.download("BTCUSDT", "2024-12", ("klines",), base_url=server.base_url)
    assert _files(lib) == []


def test_a_missing_month_and_an_unreachable_server_are_one_line_errors(server: ArchiveServer, lib: Path) -> None:
    with pytest.raises(LibraryError, match=r"BTCUSDT-1m-2019-01\.zip: not on the archive \(HTTP 404\)"):
        library.download("BTCUSDT", "2019-01", base_url=server.base_url)
    with pytest.raises(LibraryError, match=r"cannot download http://127\.0\.0\.1:9/"):
        library.download("BTCUSDT", "2019-01", base_url="http://127.0.0.1:9", timeout=5)
    with pytest.raises(LibraryError, match="not a month"):
        library.download("BTCUSDT", "2024-13", base_url=server.base_url)
    assert _files(lib) == []


def test_the_archive_url_and_the_data_dir_are_settings(
    server: ArchiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEXDESK_ARCHIVE_URL", server.base_url)
    monkeypatch.setenv("HEXDESK_DATA_DIR", str(tmp_path / "env"))
    server.put_month("ETHUSDT", "2024-12", None, None, FUNDING)
    library.download("ETHUSDT", "2024-12", ("fundingRate",))  # from the env URL into the env folder
    assert _files(tmp_path / "env") == ["README.md", "fundingRate/ETHUSDT-fundingRate-2024-12.csv"]
    library.download("ETHUSDT", "2024-12", ("fundingRate",), directory=tmp_path / "opt")  # --data-dir wins
    assert (tmp_path / "opt" / "fundingRate" / "ETHUSDT-fundingRate-2024-12.csv").is_file()
    monkeypatch.delenv("HEXDESK_DATA_DIR")
    assert library.data_dir().parts[-2:] == ("HexDesk", "data")


@pytest.mark.parametrize(("header", "micro"), [(True, False), (False, False), (True, True), (False, True)])
def test_import_reads_the_archive_layouts(tmp_path: Path, lib: Path, header: bool, micro: bool) -> None:
    rows = kline_rows(DEC1, PRICES, micro=micro)
    head = ["open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,"
            "taker_buy_quote_volume,ignore"] if header else []  # fmt: skip
    src = tmp_path / "BTCUSDT-1m-2024-12.csv"
    src.write_text("\n".join(head + rows) + "\n")
    result = library.import_file(src)
    market = "spot" if micro else "futures"  # only spot archives write µs
    assert (result.kind, result.name, result.rows) == ("klines", f"BTCUSDT-2024-12-{market}", 2)
    s = library.load_dataset(f"BTCUSDT-2024-12-{market}").series
    assert s.open_time_ms.tolist() == [DEC1, DEC1 + 60_000]  # µs became ms
    assert s.candle(1).close == D("95950.0")


def test_import_of_a_zip_with_all_zero_volumes_is_mark_klines(tmp_path: Path, lib: Path) -> None:
    src = tmp_path / "BTCUSDT-1m-2024-12.zip"
    src.write_bytes(zip_csv("BTCUSDT-1m-2024-12.csv", "\n".join(kline_rows(DEC1, MARKS)) + "\n"))
    result = library.import_file(src)
    assert result.kind == "markPriceKlines" and "volume is 0" in result.note
    assert (lib / "markPriceKlines" / "BTCUSDT-2024-12-futures.npz").is_file()


def test_import_of_a_funding_file(tmp_path: Path, lib: Path) -> None:
    src = tmp_path / "ETHUSDT-fundingRate-2024-12.csv"
    src.write_text("calc_time,funding_interval_hours,last_funding_rate\n" + "\n".join(FUNDING) + "\n")
    result = library.import_file(src)
    assert (result.kind, result.name, result.rows) == ("fundingRate", "ETHUSDT", 3)
    assert [r.instant_ms for r in library.funding_history("ETHUSDT")][:3] == [
        1_733_011_200_000, 1_733_040_000_000, 1_733_068_800_000
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("1733011260000,96010.2,96020.0,95900.0,95950.0,8.5,1733011319999,0,0,0", "expected 12 columns"),
        ("1733011260000,96010.2,96000.0,95900.0,96050.0,8.5,1733011319999,0,0,0,0,0", "high/low do not contain"),
        ("1733011260000,96010.2,abc,95900.0,95950.0,8.5,1733011319999,0,0,0,0,0", "is not a number"),
        ("2024-12-01,96010.2,96020.0,95900.0,95950.0,8.5,1733011319999,0,0,0,0,0", "not a UTC timestamp"),
        ("1733011200000,96010.2,96020.0,95900.0,95950.0,8.5,1733011259999,0,0,0,0,0", "not after the previous"),
    ],
)
def test_import_names_the_first_bad_line_and_writes_nothing(tmp_path: Path, lib: Path, line: str, why: str) -> None:
    rows = kline_rows(DEC1, PRICES[:1])
    src = tmp_path / "BTCUSDT-1m-2024-12.csv"
    src.write_text("\n".join([KLINE_HEADER, *rows, line, *rows]) + "\n")
    with pytest.raises(LibraryError, match=rf"BTCUSDT-1m-2024-12\.csv line 3: [^;]*{why}.*nothing was imported"):
        library.import_file(src)
    assert _files(lib) == []


def test_import_of_a_funding_file_with_a_bad_rate_names_the_line(tmp_path: Path, lib: Path) -> None:
    src = tmp_path / "BTCUSDT-fundingRate-2024-12.csv"
    src.write_text("calc_time,funding_interval_hours,last_funding_rate\n1733011200000,8,0.0001\n1733040000000,8,x\n")
    with pytest.raises(LibraryError, match=r"line 3: last_funding_rate is not a number: 1733040000000,8,x"):
        library.import_file(src)
    assert _files(lib) == []


def test_import_without_a_symbol_in_the_name_asks_for_one(tmp_path: Path, lib: Path) -> None:
    src = tmp_path / "prices.csv"
    src.write_text("\n".join(kline_rows(DEC1, PRICES)) + "\n")
    with pytest.raises(LibraryError, match="--symbol"):
        library.import_file(src)
    assert library.import_file(src, symbol="ethusdt").name == "ETHUSDT-2024-12-futures"


def test_the_written_npz_is_the_bundled_format_plus_who_it_is(server: ArchiveServer, lib: Path) -> None:
    server.put_month("BTCUSDT", "2024-12", kline_rows(DEC1, PRICES), None, None, header=False)
    (path,) = library.download("BTCUSDT", "2024-12", ("klines",), base_url=server.base_url)
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    assert {"open_time_ms.npy", "open.npy", "price_decimals.npy", "market.npy", "kind.npy"} <= names


def test_a_damaged_library_file_is_reported_not_fatal(lib: Path) -> None:
    (lib / "klines").mkdir(parents=True)
    (lib / "klines" / "BTCUSDT-2024-11-futures.npz").write_bytes(b"half a copy")
    problems: list[str] = []
    names = [d.name for d in library.list_datasets(problems=problems)]
    assert "BTCUSDT-2025-03" in names and "BTCUSDT-2024-11-futures" not in names
    assert len(problems) == 1 and "BTCUSDT-2024-11-futures.npz: unreadable" in problems[0]
