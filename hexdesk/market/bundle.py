"""Convert the recorded kline CSVs to the bundled .npz format: ``python -m hexdesk.market.bundle SRC_DIR DEST_DIR``.

CSV files named ``SYMBOL_INTERVAL_PERIOD.csv`` (e.g. ``BTCUSDT_1m_2025-03.csv``) become ``SYMBOL-PERIOD.npz``
(``BTCUSDT-2025-03.npz``). Bundled data must be exact and complete, so unlike an import a malformed row is an
error here, and every value is read back and compared with the CSV before the file counts as written.
The provenance README is copied next to the files with a paragraph on the format appended.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from decimal import Decimal
from pathlib import Path

from hexdesk.market.candles import load_csv, load_npz, save_npz

_NAME = re.compile(r"^(?P<symbol>[A-Z0-9]+)_(?P<interval>\d+[mhd])_(?P<period>[\w-]+)\.csv$")

FORMAT_NOTE = """
## Bundled format (written by `python -m hexdesk.market.bundle SRC_DIR resources/klines`)

Each CSV above is stored as `SYMBOL-PERIOD.npz` (e.g. `BTCUSDT-2025-03.npz`): a NumPy archive (zip, members stored
uncompressed so a month loads in a few ms; git compresses it anyway) of integer arrays `open_time_ms` (int64, UTC ms),
`open`, `high`, `low`, `close`, `volume` (int32 where every value fits, else int64), where a price is the integer
divided by `10**price_decimals` and a volume the integer divided by `10**volume_decimals` (both stored in the file:
the smallest powers of ten that keep every digit of the CSV), plus `symbol`, `interval` and `format_version`.
`numpy.load` reads it as is. The values are the CSV's exactly: a `Decimal` rebuilt from the integers equals the CSV
string numerically for every value of every row (checked by the converter and by `tests/market/test_bundle.py`).
Load with `hexdesk.market.candles.load_bundled`.

These are **spot** candles: the app labels them "spot" (mode label, `hexdesk data list`). Their replay settles
funding at the USDⓈ-M perpetual's real rates of the same months (`resources/funding/`, provenance there) and uses the
spot last price as the mark (no mark-price klines are bundled).
"""


def dataset_name(csv_path: Path) -> tuple[str, str, str]:
    """(dataset name, symbol, interval) from a ``SYMBOL_INTERVAL_PERIOD.csv`` file name."""
    m = _NAME.match(csv_path.name)
    if not m:
        raise ValueError(f"{csv_path.name}: expected SYMBOL_INTERVAL_PERIOD.csv, e.g. BTCUSDT_1m_2025-03.csv")
    return f"{m['symbol']}-{m['period']}", m["symbol"], m["interval"]


def verify(csv_path: Path, npz_path: Path) -> int:
    """Compare every value of the written file with the CSV text; returns the row count, raises on a difference."""
    series = load_npz(npz_path)
    with open(csv_path, newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        rows = list(reader)
    if len(rows) != len(series):
        raise ValueError(f"{npz_path.name}: {len(series)} rows, CSV has {len(rows)}")
    for i, row in enumerate(rows):
        k = series.candle(i)
        got = (k.open_time_ms, k.open, k.high, k.low, k.close, k.volume)
        want = (int(row[0]), *(Decimal(x) for x in row[1:6]))
        if got != want:
            raise ValueError(f"{npz_path.name} row {i}: {got} != CSV {want}")
    return len(rows)


def convert(src: Path, dest: Path, *, compress: bool = False) -> list[Path]:
    """Convert every CSV in ``src`` into ``dest``; copy the README with the format paragraph."""
    written = []
    for csv_path in sorted(src.glob("*.csv")):
        name, symbol, interval = dataset_name(csv_path)
        series, skipped = load_csv(csv_path, symbol, interval)
        if skipped:
            raise ValueError(f"{csv_path.name}: {skipped} malformed rows; bundled data must be clean")
        out = dest / f"{name}.npz"
        save_npz(series, out, compress=compress)
        rows = verify(csv_path, out)
        print(f"{csv_path.name} -> {out} ({rows} rows, {out.stat().st_size / 1e6:.2f} MB)")
        written.append(out)
    readme = src / "README.md"
    if readme.is_file():
        text = readme.read_text(encoding="utf-8").rstrip("\n") + "\n" + FORMAT_NOTE
        (dest / "README.md").write_text(text, encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hexdesk.market.bundle", description=__doc__.splitlines()[0])
    p.add_argument("src", type=Path, help="folder of SYMBOL_INTERVAL_PERIOD.csv files (and README.md)")
    p.add_argument("dest", type=Path, help="output folder, e.g. resources/klines")
    p.add_argument("--compress", action="store_true", help="deflate the members: ~40%% smaller, ~2x slower to load")
    args = p.parse_args(argv)
    if not convert(args.src, args.dest, compress=args.compress):
        print(f"no CSV files in {args.src}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
