"""The last candles of a bundled month before a clock, read with the standard library alone (issue 10.3).

The first frame of the window (hexdesk/ui/first_frame.py) paints the candles the session will open on before numpy,
pyqtgraph or the engine are imported: importing those costs more than the half second the whole start may take. A
bundled month is an .npz (``candles.save_npz``): a zip of .npy members, integer columns scaled by
``10**price_decimals``. Those are simple enough to read here (a fixed header, then the raw little-endian array), and
the tail the frame needs is a few hundred rows. Anything unexpected (another .npy version, dtype or byte order, a
damaged file) raises :class:`ValueError`: the frame is then skipped, and the real loader reports the file.
"""

from __future__ import annotations

import array
import re
import sys
import zipfile
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path

from hexdesk.market.paths import KLINES

__all__ = ["CandleTail", "bundled_tail", "read_tail"]

_MAGIC = b"\x93NUMPY"
_HEADER = re.compile(r"'descr':\s*'([<>|=])(\w\d*)'.*'fortran_order':\s*False.*'shape':\s*\(([\d,\s]*)\)", re.S)
_TYPECODES = {"i4": "i", "i8": "q", "f8": "d"}  # the dtypes save_npz writes for numbers, and their array codes
_COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True, slots=True)
class CandleTail:
    """The ``count`` candles opening before ``before_ms`` (oldest first), prices and volumes as floats: for drawing
    only, never for money. ``total`` is how many candles open before ``before_ms`` in the whole file."""

    symbol: str
    interval: str
    before_ms: int
    total: int
    open_time_ms: tuple[int, ...]
    open: tuple[float, ...]
    high: tuple[float, ...]
    low: tuple[float, ...]
    close: tuple[float, ...]
    volume: tuple[float, ...]
    price_decimals: int

    def __len__(self) -> int:
        return len(self.open_time_ms)


def bundled_tail(name: str, count: int, before_ms: int | None, history_ms: int) -> CandleTail:
    """:func:`read_tail` of the bundled dataset ``name`` (e.g. ``"BTCUSDT-2025-03"``); ValueError if none is."""
    path = KLINES / f"{name}.npz"
    if not path.is_file():
        raise ValueError(f"no bundled dataset {name!r}")
    return read_tail(path, count, before_ms, history_ms)


def read_tail(path: Path, count: int, before_ms: int | None, history_ms: int) -> CandleTail:
    """The last ``count`` candles of the .npz at ``path`` opening before ``before_ms``; None for ``before_ms`` is a
    session's start: the file's first open + ``history_ms`` (the first day is history, the replay starts after it).
    """
    try:
        with zipfile.ZipFile(path) as zf:
            times = _member(zf, "open_time_ms")
            if not times:
                raise ValueError(f"{path}: no candles")
            before = times[0] + history_ms if before_ms is None else before_ms
            end = bisect_left(times, before)
            start = max(0, end - count)
            decimals = int(_member(zf, "price_decimals")[0])
            volume_decimals = int(_member(zf, "volume_decimals")[0])
            cols = {name: _member(zf, name)[start:end] for name in _COLUMNS}
            symbol, interval = _text(zf, "symbol"), _text(zf, "interval")
    except (OSError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    price, vol = 10.0**decimals, 10.0**volume_decimals
    return CandleTail(
        symbol, interval, int(before), end, tuple(times[start:end]),
        *(tuple(x / price for x in cols[name]) for name in _COLUMNS[:4]),
        tuple(x / vol for x in cols["volume"]), decimals,
    )


def _raw(zf: zipfile.ZipFile, name: str) -> tuple[str, str, tuple[int, ...], bytes]:
    """(byte order, dtype, shape, data) of the member ``name``.npy."""
    raw = zf.read(f"{name}.npy")
    if raw[:6] != _MAGIC:
        raise ValueError(f"{name}.npy is not an .npy array")
    size = 2 if raw[6] == 1 else 4
    length = int.from_bytes(raw[8 : 8 + size], "little")
    header = raw[8 + size : 8 + size + length].decode("latin-1")
    found = _HEADER.search(header)
    if found is None:
        raise ValueError(f"{name}.npy: unsupported header {header.strip()!r}")
    order, dtype, dims = found.groups()
    shape = tuple(int(d) for d in dims.replace(",", " ").split())
    return order, dtype, shape, raw[8 + size + length :]


def _member(zf: zipfile.ZipFile, name: str) -> array.array:
    """A numeric member as an array (a 0-d one holds its one value)."""
    order, dtype, _shape, data = _raw(zf, name)
    code = _TYPECODES.get(dtype)
    if code is None or (order == ">" and sys.byteorder == "little") or (order == "<" and sys.byteorder == "big"):
        raise ValueError(f"{name}.npy: dtype {order}{dtype} is not one the bundled format writes")
    out = array.array(code)
    out.frombytes(data)
    return out


def _text(zf: zipfile.ZipFile, name: str) -> str:
    """A 0-d unicode member (numpy's ``<U``: UTF-32, padded with NULs)."""
    order, dtype, _shape, data = _raw(zf, name)
    if not dtype.startswith("U"):
        raise ValueError(f"{name}.npy: dtype {order}{dtype} is not text")
    return data.decode("utf-32-le" if order in "<|=" else "utf-32-be").rstrip("\x00")
