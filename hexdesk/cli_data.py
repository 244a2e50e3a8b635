"""``hexdesk data ...``: the data library from the command line (no Qt: quick, and works on a headless machine).

    hexdesk data download BTCUSDT 2024-12      klines 1m, mark-price klines 1m and funding rates of one month
    hexdesk data import FILE                   a Binance archive file (.zip or .csv) already on disk
    hexdesk data list                          what can be replayed: bundled months and the library

``--data-dir DIR`` (or ``HEXDESK_DATA_DIR``) chooses the library folder; ``HEXDESK_ARCHIVE_URL`` or ``--base-url``
the archive server. An error is one line on stderr and exit status 2; nothing is half-written.
"""

from __future__ import annotations

import argparse
import re
import sys
from types import ModuleType
from typing import NoReturn


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad value in ONE line (no usage block) and exits 2."""

    def error(self, message: str) -> NoReturn:
        message = re.sub(r"^argument (\S+?)(?:/\S+)?: ", r"\1 ", message)
        self.exit(2, f"{self.prog}: {message}\n")


def _parser() -> _Parser:
    from hexdesk.market.library import KINDS

    p = _Parser(prog="hexdesk data", description="The HexDesk data library: Binance archives for offline replay.")
    p.add_argument("--data-dir", metavar="DIR", help="library folder (default: HEXDESK_DATA_DIR or the user data dir)")
    sub = p.add_subparsers(dest="command", metavar="{download,import,list,path}", parser_class=_Parser)
    sub.required = True
    d = sub.add_parser("download", help="fetch one month of Binance USDⓈ-M archives (sha256-checked)")
    d.add_argument("symbol", help="e.g. BTCUSDT")
    d.add_argument("month", help="e.g. 2024-12")
    d.add_argument(
        "--kind",
        action="append",
        choices=KINDS,
        help="only this archive, repeatable (default: klines, markPriceKlines and fundingRate)",
    )
    d.add_argument("--base-url", help="archive server (default: HEXDESK_ARCHIVE_URL or https://data.binance.vision)")
    d.add_argument("--timeout", type=float, default=60.0, help=argparse.SUPPRESS)
    i = sub.add_parser("import", help="import a Binance kline or funding-rate archive (.zip or .csv)")
    i.add_argument("file")
    i.add_argument("--kind", choices=KINDS, help="what the file holds (default: recognised from the file)")
    i.add_argument("--symbol", help="the symbol (default: from a Binance file name, e.g. BTCUSDT-1m-2024-12.zip)")
    i.add_argument("--market", choices=("futures", "spot"), help="futures or spot (default: spot for µs times)")
    sub.add_parser("list", help="the datasets replay can use, and the funding months")
    sub.add_parser("path", help="print the library folder")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``hexdesk data``; returns the exit status (0 done, 2 refused)."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    from hexdesk.market import library

    try:
        if args.command == "download":
            return _download(library, args)
        if args.command == "import":
            return _import(library, args)
        if args.command == "list":
            return _list(library, args)
        print(library.data_dir(args.data_dir))
        return 0
    except library.LibraryError as exc:
        print(f"hexdesk data: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a data folder that cannot be written, a full disk
        print(f"hexdesk data: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2


def _download(library: ModuleType, args: argparse.Namespace) -> int:
    kinds = tuple(args.kind or library.KINDS)
    paths = library.download(
        args.symbol, args.month, kinds, base_url=args.base_url, directory=args.data_dir, timeout=args.timeout
    )
    for path in paths:
        print(f"wrote {path}")
    symbol, month = library.check_symbol(args.symbol), library.check_month(args.month)
    from hexdesk.engine.instruments import default_instruments

    traded = default_instruments()
    if symbol not in traded:
        rules = ", ".join(traded)
        print(f"note: stored, but the engine has trading rules for {rules} only: {symbol} cannot be replayed yet")
    elif "klines" in kinds:
        print(f"replay it with: hexdesk --dataset {library.dataset_name(symbol, month)}")
    return 0


def _import(library: ModuleType, args: argparse.Namespace) -> int:
    result = library.import_file(
        args.file, kind=args.kind, symbol=args.symbol, market=args.market, directory=args.data_dir
    )
    if result.note:
        print(f"note: {result.note}")
    for path in result.paths:
        print(f"wrote {path}")
    what = {"fundingRate": "funding rates", "markPriceKlines": "mark-price candles"}.get(result.kind, "candles")
    print(f"imported {result.rows:,} {what} into {result.name}")
    return 0


def _list(library: ModuleType, args: argparse.Namespace) -> int:
    print(f"data library: {library.data_dir(args.data_dir)}")
    print("datasets (hexdesk --dataset NAME):")
    problems: list[str] = []
    for info in library.list_datasets(args.data_dir, problems):
        print(f"  {info.describe()}")
    for problem in problems:
        print(f"hexdesk data: {problem}", file=sys.stderr)
    months = library.funding_months(args.data_dir)
    if months:
        print("funding history (real rates used by any replay of these months):")
        for symbol, items in sorted(months.items()):
            print(f"  {symbol}: " + ", ".join(f"{m} ({src})" for m, src in items))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
