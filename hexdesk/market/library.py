"""The data library: Binance's public monthly archives downloaded once, checked, converted, usable offline.

An instructor runs ``hexdesk data download BTCUSDT 2024-12`` on a machine with internet and copies the data folder
to the lab machines (same place, or anywhere with ``HEXDESK_DATA_DIR`` pointing at it). The folder holds only files
HexDesk wrote, each complete (written to a temporary name, then renamed over the final one):

    <data dir>/README.md                                  what the folder is (written with the first dataset)
    <data dir>/klines/BTCUSDT-2024-12-futures.npz          last-price 1m candles, the bundled .npz format
    <data dir>/markPriceKlines/BTCUSDT-2024-12-futures.npz mark-price 1m candles, same format
    <data dir>/fundingRate/BTCUSDT-fundingRate-2024-12.csv the month's real funding rates (archive layout)

The data dir is ``--data-dir``, else ``$HEXDESK_DATA_DIR``, else ``<user data dir>/data`` (e.g.
``~/.local/share/HexDesk/data`` on Linux, beside the journal). Archives come from ``https://data.binance.vision``
(``$HEXDESK_ARCHIVE_URL`` or ``base_url=`` for a mirror or a test server): ``futures/um`` monthly ``klines`` 1m,
``markPriceKlines`` 1m and ``fundingRate`` (reference §4.5-4.6). Each zip is checked against its ``.CHECKSUM``
(sha256) and parsed whole before anything is written: a bad checksum, a bad row or a missing file leaves the folder
as it was. Plain ``urllib``: a handful of files, once, from a CLI.
"""

from __future__ import annotations

import calendar
import hashlib
import os
import re
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from hexdesk.market import funding as funding_csv
from hexdesk.market.archive import ArchiveError, parse_klines
from hexdesk.market.candles import CandleSeries, list_bundled, load_npz, save_npz
from hexdesk.market.funding import FundingFileError, FundingHistory, FundingRate
from hexdesk.market.paths import FUNDING, KLINES

APP_NAME = "HexDesk"
DATA_DIR_ENV = "HEXDESK_DATA_DIR"
ARCHIVE_URL_ENV = "HEXDESK_ARCHIVE_URL"
DEFAULT_ARCHIVE_URL = "https://data.binance.vision"
KINDS = ("klines", "markPriceKlines", "fundingRate")
MARKETS = ("futures", "spot")
FUNDING_HEADER = ",".join(funding_csv.HEADER)
_SYMBOL = re.compile(r"^[A-Z0-9]{2,30}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_ARCHIVE_NAME = re.compile(r"^(?P<symbol>[A-Z0-9]{2,30})-(?P<what>1m|fundingRate)-(?P<month>\d{4}-\d{2})")
_HOUR_MS = 3_600_000

README = """# HexDesk data library

Market data HexDesk replays offline, written by `hexdesk data download` / `hexdesk data import`. Copy this whole
folder to another machine (to the same place, or anywhere and set `HEXDESK_DATA_DIR` to it, or pass
`hexdesk data --data-dir DIR ...`) and `hexdesk data list` there shows the same datasets.

- `klines/SYMBOL-YYYY-MM-MARKET.npz`: 1-minute candles (last price), MARKET `futures` (Binance USDⓈ-M) or `spot`.
- `markPriceKlines/SYMBOL-YYYY-MM-futures.npz`: the month's 1-minute mark-price candles; a replay of the dataset
  liquidates on them, as Binance does, instead of on the last price.
- `fundingRate/SYMBOL-fundingRate-YYYY-MM.csv`: the month's real funding rates and times; a replay settles funding
  with them instead of a flat rate.

The .npz format is the bundled one (integer columns and their decimal exponents; see resources/klines/README.md in
HexDesk). Source: https://data.binance.vision (Binance's public archives), each file checked against its sha256.
"""


class LibraryError(ValueError):
    """A download or import that cannot go on; the message is one line a user can act on."""


class ChecksumError(LibraryError):
    """A downloaded archive whose sha256 is not the one its ``.CHECKSUM`` file gives: nothing was written."""


# --- settings ----------------------------------------------------------------------------------------------


def data_dir(override: str | Path | None = None) -> Path:
    """The data library folder: ``override`` (the ``--data-dir`` option), else ``$HEXDESK_DATA_DIR``, else the
    per-user data dir + ``/data``. Not created here."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "data"


def archive_url(override: str | None = None) -> str:
    """The archive's base URL: ``override``, else ``$HEXDESK_ARCHIVE_URL``, else data.binance.vision."""
    return (override or os.environ.get(ARCHIVE_URL_ENV) or DEFAULT_ARCHIVE_URL).rstrip("/")


def archive_path(kind: str, symbol: str, month: str) -> str:
    """The archive file's path under the base URL (``data/futures/um/monthly/...``), reference §4.5-4.6."""
    if kind == "fundingRate":
        return f"data/futures/um/monthly/fundingRate/{symbol}/{symbol}-fundingRate-{month}.zip"
    if kind in ("klines", "markPriceKlines"):
        return f"data/futures/um/monthly/{kind}/{symbol}/1m/{symbol}-1m-{month}.zip"
    raise LibraryError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")


def check_symbol(symbol: str) -> str:
    s = symbol.strip().upper()
    if not _SYMBOL.match(s):
        raise LibraryError(f"{symbol!r} is not a Binance symbol such as BTCUSDT")
    return s


def check_month(month: str) -> str:
    m = _MONTH.match(month.strip())
    if not m or not 1 <= int(m[2]) <= 12 or int(m[1]) < 2017:
        raise LibraryError(f"{month!r} is not a month such as 2024-12")
    return m[0]


def month_bounds(month: str) -> tuple[int, int]:
    """[first ms, first ms of the next month) in UTC."""
    y, mo = int(month[:4]), int(month[5:7])
    start = calendar.timegm((y, mo, 1, 0, 0, 0)) * 1000
    ny, nm = (y + 1, 1) if mo == 12 else (y, mo + 1)
    return start, calendar.timegm((ny, nm, 1, 0, 0, 0)) * 1000


def month_of(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m")


def dataset_name(symbol: str, month: str, market: str = "futures") -> str:
    """A library dataset's name, ``BTCUSDT-2024-12-futures``: never the name of a bundled (spot) month."""
    return f"{symbol}-{month}-{market}"


# --- what is available -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """A replayable dataset: bundled in resources/ or in the data library."""

    name: str
    symbol: str
    market: str  # "spot" or "futures" (Binance USDⓈ-M)
    source: str  # "bundled" or "library"
    interval: str
    first_open_ms: int
    last_open_ms: int
    rows: int
    path: Path
    mark_path: Path | None
    funding_instants: int  # settlement instants inside the data that have a real rate
    total_instants: int  # settlement instants inside the data (8-hourly)

    @property
    def market_label(self) -> str:
        return "Binance spot" if self.market == "spot" else "Binance USDⓈ-M futures"

    @property
    def funding_label(self) -> str:
        if self.total_instants and self.funding_instants == self.total_instants:
            return "real funding"
        if self.funding_instants:
            return f"real funding at {self.funding_instants} of {self.total_instants} instants, else flat"
        return "flat funding rate"

    @property
    def mark_label(self) -> str:
        return "mark-price klines" if self.mark_path is not None else "mark = last price"

    def describe(self) -> str:
        """One line for ``hexdesk data list`` and the session picker."""
        first = datetime.fromtimestamp(self.first_open_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")
        last = datetime.fromtimestamp(self.last_open_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")
        return (
            f"{self.name}  {self.market_label} {self.interval} candles, {first} .. {last} UTC, {self.rows:,} rows; "
            f"{self.mark_label}; {self.funding_label} ({self.source})"
        )


@dataclass(frozen=True, slots=True)
class Dataset:
    """A loaded dataset: last-price candles and, when the dataset has them, mark-price candles."""

    info: DatasetInfo
    series: CandleSeries
    mark: CandleSeries | None


def _npz_str(path: Path, member: str) -> str | None:
    with np.load(path, allow_pickle=False) as z:
        return str(z[member]) if member in z.files else None


def _settlement_instants(first_open_ms: int, last_close_ms: int, hours: int = 8) -> range:
    period = hours * _HOUR_MS
    first = -(-first_open_ms // period) * period
    return range(first, last_close_ms + 1, period)


def _info(path: Path, source: str, market: str, mark_path: Path | None, history: FundingHistory) -> DatasetInfo:
    with np.load(path, allow_pickle=False) as z:
        t = z["open_time_ms"]
        symbol, interval = str(z["symbol"]), str(z["interval"])
        first, last, rows = int(t[0]), int(t[-1]), len(t)
    instants = _settlement_instants(first, last + 59_999)
    have = sum(1 for i in instants if history.at(i) is not None)
    return DatasetInfo(path.stem, symbol, market, source, interval, first, last, rows, path, mark_path, have,
                       len(instants))  # fmt: skip


def list_datasets(directory: str | Path | None = None, problems: list[str] | None = None) -> list[DatasetInfo]:
    """Every replayable dataset: the bundled months (Binance spot candles), then the library's, by name.

    A library file that cannot be read (damaged by a bad copy) is left out and described in ``problems``.
    """
    lib = data_dir(directory)
    histories: dict[str, FundingHistory] = {}
    out = []

    def history(symbol: str) -> FundingHistory:
        if symbol not in histories:
            histories[symbol] = funding_history(symbol, lib)
        return histories[symbol]

    for b in list_bundled(KLINES):
        out.append(_info(b.path, "bundled", _npz_str(b.path, "market") or "spot", None, history(b.symbol)))
    for path in sorted((lib / "klines").glob("*.npz")):
        mark = lib / "markPriceKlines" / path.name
        try:
            market = _npz_str(path, "market") or "futures"
            symbol = _npz_str(path, "symbol") or path.stem.split("-", 1)[0]
            out.append(_info(path, "library", market, mark if mark.is_file() else None, history(symbol)))
        except (OSError, ValueError, KeyError, IndexError, zipfile.BadZipFile) as exc:
            if problems is not None:
                problems.append(f"{path}: unreadable ({exc}); download or import it again")
    return out


def dataset_names(directory: str | Path | None = None) -> list[str]:
    """Names ``--dataset`` accepts: bundled first, then the library's."""
    return [d.name for d in list_datasets(directory)]


def load_dataset(name: str, directory: str | Path | None = None) -> Dataset:
    """Load a dataset by name: ``BTCUSDT-2025-03`` (bundled) or ``BTCUSDT-2024-12-futures`` (library)."""
    for info in list_datasets(directory):
        if info.name == name:
            mark = load_npz(info.mark_path) if info.mark_path is not None else None
            return Dataset(info, load_npz(info.path), mark)
    known = ", ".join(dataset_names(directory)) or "none"
    raise LibraryError(f"no dataset {name!r} (available: {known})")


def funding_files(symbol: str, directory: str | Path | None = None) -> list[tuple[Path, str]]:
    """(file, "bundled" | "library") for every monthly funding file of ``symbol``."""
    files = [(p, "bundled") for p in sorted(FUNDING.glob(f"{symbol}-fundingRate-*.csv"))]
    lib = data_dir(directory) / "fundingRate"
    files += [(p, "library") for p in sorted(lib.glob(f"{symbol}-fundingRate-*.csv"))]
    return files


def funding_history(symbol: str, directory: str | Path | None = None) -> FundingHistory:
    """Every real funding rate of ``symbol`` that HexDesk has (bundled months + library), by instant."""
    rates: list[FundingRate] = []
    for path, _source in funding_files(symbol, directory):
        rates.extend(funding_csv.read_funding_csv(path))
    return FundingHistory(symbol, rates)


def funding_months(directory: str | Path | None = None) -> dict[str, list[tuple[str, str]]]:
    """symbol -> [(month, source)] of the funding files available, for ``hexdesk data list``."""
    out: dict[str, list[tuple[str, str]]] = {}
    lib = data_dir(directory) / "fundingRate"
    for folder, source in ((FUNDING, "bundled"), (lib, "library")):
        for p in sorted(folder.glob("*-fundingRate-*.csv")):
            m = _ARCHIVE_NAME.match(p.name)
            if m:
                out.setdefault(m["symbol"], []).append((m["month"], source))
    return out


# --- writing -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Pending:
    """A file to write: its final path and a function that writes its complete content to a given path."""

    path: Path
    write: Callable[[Path], None]


def _fsync(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _commit(pending: Sequence[_Pending], root: Path) -> list[Path]:
    """Write every file under a temporary name first; only when all are complete rename them into place.

    A failure while writing (disk full, permission) removes the temporaries and leaves the folder as it was.
    """
    tmps: list[Path] = []
    try:
        for p in pending:
            p.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = p.path.with_name(f".{p.path.name}.{os.getpid()}.tmp")
            tmps.append(tmp)
            p.write(tmp)
            _fsync(tmp)
    except BaseException:
        for tmp in tmps:
            tmp.unlink(missing_ok=True)
        raise
    for p, tmp in zip(pending, tmps, strict=True):
        os.replace(tmp, p.path)
    readme = root / "README.md"
    if pending and not readme.exists():
        tmp = readme.with_name(f".README.md.{os.getpid()}.tmp")
        tmp.write_text(README, encoding="utf-8")
        os.replace(tmp, readme)
    return [p.path for p in pending]


def _write_npz(series: CandleSeries, market: str, kind: str) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        save_npz(series, tmp)
        with zipfile.ZipFile(tmp, "a", compression=zipfile.ZIP_STORED) as zf:  # who the candles are, beside them
            for member, value in (("market", market), ("kind", kind)):
                info = zipfile.ZipInfo(f"{member}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                with zf.open(info, "w") as fh:
                    np.lib.format.write_array(fh, np.array(value), allow_pickle=False)

    return write


def _write_funding(rates: Sequence[FundingRate]) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        lines = [FUNDING_HEADER, *(f"{r.instant_ms},{r.interval_hours},{r.rate}" for r in rates)]
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")

    return write


def _funding_by_month(symbol: str, rates: Iterable[FundingRate], root: Path) -> list[_Pending]:
    months: dict[str, list[FundingRate]] = {}
    for r in rates:
        months.setdefault(month_of(r.instant_ms), []).append(r)
    return [
        _Pending(root / "fundingRate" / f"{symbol}-fundingRate-{m}.csv", _write_funding(rs))
        for m, rs in sorted(months.items())
    ]


# --- download ----------------------------------------------------------------------------------------------

Fetch = Callable[[str, float], bytes]


def _fetch(url: str, timeout: float) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.read()
    except urllib.error.HTTPError as exc:
        what = "not on the archive" if exc.code == 404 else f"HTTP {exc.code} {exc.reason}"
        raise LibraryError(f"{url}: {what} (HTTP {exc.code})") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise LibraryError(f"cannot download {url}: {reason}") from None


def _check_sha256(blob: bytes, checksum_text: bytes, file_name: str, url: str) -> None:
    """The ``.CHECKSUM`` sidecar is ``<sha256>  <file name>``; the zip must hash to it."""
    parts = checksum_text.decode("ascii", "replace").split()
    if not parts or not re.fullmatch(r"[0-9a-fA-F]{64}", parts[0]):
        raise ChecksumError(f"{url}.CHECKSUM is not a sha256 checksum file; nothing was written")
    if len(parts) > 1 and parts[1].lstrip("*") != file_name:
        raise ChecksumError(f"{url}.CHECKSUM is for {parts[1]}, not {file_name}; nothing was written")
    got = hashlib.sha256(blob).hexdigest()
    if got != parts[0].lower():
        raise ChecksumError(
            f"{file_name}: sha256 {got} does not match the published {parts[0].lower()} (a corrupt or tampered "
            "download); nothing was written"
        )


def _zip_csv(blob: bytes, file_name: str) -> str:
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as zf:
            names = [n for n in zf.namelist() if n.lower().endswith(".csv")]
            if len(names) != 1:
                raise LibraryError(f"{file_name}: expected one CSV in the zip, found {len(names)}")
            return zf.read(names[0]).decode("utf-8-sig")
    except zipfile.BadZipFile:
        raise LibraryError(f"{file_name}: not a zip archive") from None


def download(
    symbol: str,
    month: str,
    kinds: Sequence[str] = KINDS,
    *,
    base_url: str | None = None,
    directory: str | Path | None = None,
    timeout: float = 60.0,
    fetch: Fetch = _fetch,
) -> list[Path]:
    """Fetch one month of ``symbol``'s USDⓈ-M archives, check, convert and store them; returns the files written.

    All-or-nothing: every archive is downloaded, checked against its sha256 and parsed before the first file is
    written. Raises LibraryError (ChecksumError for a bad checksum) with one line saying what went wrong.
    """
    symbol, month = check_symbol(symbol), check_month(month)
    kinds = tuple(dict.fromkeys(kinds))
    for kind in kinds:
        archive_path(kind, symbol, month)  # refuses an unknown kind before any download
    base, root = archive_url(base_url), data_dir(directory)
    start, end = month_bounds(month)
    name = dataset_name(symbol, month, "futures")
    pending: list[_Pending] = []
    for kind in kinds:
        url = f"{base}/{archive_path(kind, symbol, month)}"
        file_name = url.rsplit("/", 1)[1]
        blob = fetch(url, timeout)
        _check_sha256(blob, fetch(url + ".CHECKSUM", timeout), file_name, url)
        text = _zip_csv(blob, file_name)
        try:
            if kind == "fundingRate":
                rates = funding_csv.parse_rows(text.splitlines(), file_name)
                if not rates or any(not start <= r.instant_ms < end for r in rates):
                    raise LibraryError(f"{file_name}: funding rows outside {month} (or none)")
                pending.extend(_funding_by_month(symbol, rates, root))
            else:
                series, _micro = parse_klines(text, symbol, file_name)
                if series.interval != "1m":
                    raise LibraryError(f"{file_name}: {series.interval} candles, expected 1m")
                if series.first_open_ms < start or series.last_open_ms >= end:
                    raise LibraryError(f"{file_name}: candles outside {month}")
                pending.append(_Pending(root / kind / f"{name}.npz", _write_npz(series, "futures", kind)))
        except (ArchiveError, FundingFileError) as exc:
            raise LibraryError(f"{exc}; nothing was written") from None
    return _commit(pending, root)


# --- import ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportResult:
    kind: str
    name: str  # the dataset (klines) or the symbol (funding)
    rows: int
    paths: tuple[Path, ...]
    note: str = ""


def import_file(
    path: str | Path,
    *,
    kind: str | None = None,
    symbol: str | None = None,
    market: str | None = None,
    directory: str | Path | None = None,
) -> ImportResult:
    """Import a Binance archive file (``.zip`` or ``.csv``) into the data library.

    ``kind``: ``klines``, ``markPriceKlines`` or ``fundingRate``; by default a funding file is recognised by its
    header or name, and a kline file whose volumes are all 0 is read as mark-price klines (Binance's mark and index
    archives carry no volume). ``symbol``: by default the archive name's prefix (``BTCUSDT-1m-2024-12.zip``).
    ``market``: ``futures`` or ``spot``; by default ``spot`` when the times are in µs (only spot archives use them)
    else ``futures``. A bad row stops the import with its line number; nothing is written then.
    """
    src = Path(path).expanduser()
    if not src.is_file():
        raise LibraryError(f"{src}: no such file")
    if kind is not None and kind not in KINDS:
        raise LibraryError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if market is not None and market not in MARKETS:
        raise LibraryError(f"unknown market {market!r}; expected futures or spot")
    m = _ARCHIVE_NAME.match(src.name)
    if symbol is None:
        if m is None:
            raise LibraryError(f"{src.name}: cannot tell the symbol from the file name; pass --symbol BTCUSDT")
        symbol = m["symbol"]
    symbol = check_symbol(symbol)
    try:
        text = funding_csv.read_text_member(src)
    except (zipfile.BadZipFile, FundingFileError, UnicodeDecodeError, OSError) as exc:
        raise LibraryError(f"{src.name}: cannot read: {exc}") from None
    first_line = next((ln for ln in text.splitlines() if ln.strip()), "")
    if kind is None:
        is_funding = first_line.lower().startswith("calc_time") or (m is not None and m["what"] == "fundingRate")
        kind = "fundingRate" if is_funding else None
    root = data_dir(directory)
    try:
        if kind == "fundingRate":
            rates = funding_csv.parse_rows(text.splitlines(), src.name)
            if not rates:
                raise LibraryError(f"{src.name}: no funding rows")
            pending = _funding_by_month(symbol, rates, root)
            return ImportResult(kind, symbol, len(rates), tuple(_commit(pending, root)))
        series, micro = parse_klines(text, symbol, src.name)
    except (ArchiveError, FundingFileError) as exc:
        raise LibraryError(f"{exc}; nothing was imported") from None
    if series.interval != "1m":
        raise LibraryError(f"{src.name}: {series.interval} candles; the library holds 1-minute candles")
    note = ""
    if kind is None:
        _, _, _, _, volume = series.scaled()
        kind = "markPriceKlines" if not volume.any() else "klines"
        if kind == "markPriceKlines":
            note = "every volume is 0: read as mark-price klines (pass --kind klines to store them as prices)"
    market = market or ("spot" if micro else "futures")
    if kind == "markPriceKlines" and market != "futures":
        raise LibraryError("mark-price klines exist only for futures")
    name = dataset_name(symbol, month_of(series.first_open_ms), market)
    pending = [_Pending(root / kind / f"{name}.npz", _write_npz(series, market, kind))]
    return ImportResult(kind, name, len(series), tuple(_commit(pending, root)), note)
