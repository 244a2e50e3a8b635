"""Read Binance's own USDⓈ-M Futures "Export Trade History" CSV into fills, refusing the whole file on a bad row.

The layouts (binance-futures.md §4.6): the website's export has the header
``Date(UTC),Symbol,Side,Price,Quantity,Amount,Fee,Realized Profit``; variants add ``Fee Coin`` (USDT or BNB) and
``Quote Asset``, or call ``Amount`` ``Total``. The API's ``GET /fapi/v1/userTrades`` saved as CSV has ``symbol, id,
orderId, side, price, qty, realizedPnl, quoteQty, commission, commissionAsset, time, positionSide, maker``. Columns
are matched by name, case and spacing ignored, in any order; unknown columns are ignored and listed.

One row is one fill. Rows may come newest first; the result is in time order (ties keep the file's chronological
order). Rules, each tested:

* A malformed row (wrong cell count, empty required cell, a number that is not a number, a bad date, a side that is
  not BUY/SELL, a price or quantity <= 0) raises ``TradeHistoryError`` naming its line and the reason; nothing is
  returned, so nothing is imported. Every problem is collected (``.problems``); the message names the first.
* A fee paid in another coin (``Fee Coin`` BNB, or a fee cell like ``0.0012 BNB``) is kept in that coin with its
  asset, and the fill is flagged (``fee_in_other_asset``): it is never added to the USDT fees.
* Without a fee-coin column or suffix the fee is in the quote asset (``Quote Asset`` column, else the symbol's quote
  suffix: USDT, USDC, BUSD, FDUSD; else USDT).
* Two rows with the same trade id: the same fill twice (an overlap between two downloads) is reported in
  ``duplicates`` and kept once; two different fills with one id is a malformed file. Without trade ids (the
  website's export) identical rows may be two real fills in the same second, so they are kept and only warned about.
* Dates are ``YYYY-MM-DD HH:MM:SS`` (also ``YYYY-MM-DDTHH:MM:SS[.fff][Z]``) in UTC, or epoch milliseconds (API).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from hexdesk.engine.enums import LiquidityRole, Side
from hexdesk.storage.views import FillRow

SOURCE = "binance-futures-trade-history"
QUOTE_ASSETS = ("USDT", "USDC", "FDUSD", "BUSD")

# canonical field -> the header names it is known by (normalised: lower case, no spaces, _ or -)
_ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("date(utc)", "time(utc)", "date", "time", "datetime", "datetime(utc)"),
    "symbol": ("symbol", "pair", "contract"),
    "side": ("side", "direction"),
    "price": ("price",),
    "quantity": ("quantity", "qty", "executed", "size"),
    "quote_qty": ("amount", "total", "quoteqty"),
    "fee": ("fee", "commission"),
    "fee_asset": ("feecoin", "feeasset", "commissionasset"),
    "realized_pnl": ("realizedprofit", "realizedpnl", "realizedprofit(usdt)"),
    "quote_asset": ("quoteasset",),
    "order_id": ("orderid", "orderno", "orderno."),
    "trade_id": ("id", "tradeid", "tradeno", "tradeno."),
    "position_side": ("positionside",),
    "maker": ("maker", "ismaker"),
}
_REQUIRED = ("time", "symbol", "side", "price", "quantity", "fee", "realized_pnl")
_LOOKUP = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}

_NUMBER = re.compile(r"\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*([A-Za-z]{2}[A-Za-z0-9]{0,10})?\s*")
_SYMBOL = re.compile(r"[A-Z0-9]{2,30}")
_ASSET = re.compile(r"[A-Z0-9]{2,12}")
_MAX_PROBLEMS = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ImportedFill:
    """One real fill as Binance reported it. Money is Decimal; the fee is in ``fee_asset`` (maybe not USDT)."""

    line: int  # line of the file it came from (1 = the header)
    time: datetime  # aware, UTC
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    quote_qty: Decimal
    fee: Decimal
    fee_asset: str
    realized_pnl: Decimal  # in the quote asset, fees excluded (as Binance reports it)
    quote_asset: str
    order_id: int | None = None
    trade_id: int | None = None
    position_side: str | None = None  # BOTH / LONG / SHORT (API export)
    maker: bool | None = None  # None: the file does not say

    @property
    def ts_ms(self) -> int:
        return (self.time - _EPOCH) // timedelta(milliseconds=1)  # exact: no float on the way

    @property
    def fee_in_other_asset(self) -> bool:
        """The fee was paid in a coin other than the quote asset (BNB): keep it apart, never add it to USDT."""
        return self.fee_asset != self.quote_asset


@dataclass(frozen=True, slots=True)
class TradeHistory:
    """A parsed trade-history file: its fills in time order and what the reader noticed."""

    fills: tuple[ImportedFill, ...]
    columns: tuple[str, ...]  # the canonical fields found, in file order
    ignored_columns: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()  # "line 9 repeats line 4 (trade id 7001)": dropped, kept once
    warnings: tuple[str, ...] = ()
    fee_totals: dict[str, Decimal] = field(default_factory=dict)  # per asset; never summed across assets

    @property
    def other_asset_fee_fills(self) -> tuple[ImportedFill, ...]:
        return tuple(f for f in self.fills if f.fee_in_other_asset)


class TradeHistoryError(ValueError):
    """The file cannot be imported. ``problems`` lists every problem found ("line 7: price 'abc' is not a number")."""

    def __init__(self, path: Path | str | None, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        first = self.problems[0] if self.problems else "unreadable"
        more = f" (and {len(self.problems) - 1} more problem(s))" if len(self.problems) > 1 else ""
        where = f"{path}: " if path is not None else ""
        super().__init__(f"{where}{first}{more}; nothing was imported")


def _norm(header: str) -> str:
    return re.sub(r"[\s_\-]", "", header.strip().lstrip("\ufeff")).lower()


class _RowError(Exception):
    pass


def _number(value: str, what: str) -> tuple[Decimal, str | None]:
    """A number and its optional unit suffix ("0.0012 BNB", "12.5USDT")."""
    m = _NUMBER.fullmatch(value)
    if m is None:
        raise _RowError(f"{what} {value!r} is not a number")
    try:
        number = Decimal(m.group(1))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only valid decimals
        raise _RowError(f"{what} {value!r} is not a number") from exc
    unit = m.group(2).upper() if m.group(2) else None
    return number, unit


def _time(value: str) -> datetime:
    text = value.strip()
    if text.isdigit():
        if len(text) not in (13, 10):
            raise _RowError(f"time {value!r} is neither 'YYYY-MM-DD HH:MM:SS' nor epoch milliseconds")
        ms = int(text) * (1000 if len(text) == 10 else 1)
        return _EPOCH + timedelta(milliseconds=ms)
    if text.endswith("Z"):
        text = text[:-1]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _RowError(f"date {value!r} is not 'YYYY-MM-DD HH:MM:SS'") from None
    if len(text) < 19:  # a date without a time of day is not one fill's time
        raise _RowError(f"date {value!r} has no time of day ('YYYY-MM-DD HH:MM:SS')")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)  # the export is in UTC
    return parsed.astimezone(UTC)


def _int(value: str, what: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    if not text.isdigit():
        raise _RowError(f"{what} {value!r} is not a whole number")
    return int(text)


def _quote_of(symbol: str, quote_asset: str | None) -> str:
    if quote_asset:
        return quote_asset
    for q in QUOTE_ASSETS:
        if symbol.endswith(q) and len(symbol) > len(q):
            return q
    return "USDT"


def _parse_row(cells: dict[str, str], line: int) -> ImportedFill:
    def required(name: str) -> str:
        value = cells.get(name, "").strip()
        if not value:
            raise _RowError(f"{name.replace('_', ' ')} is empty")
        return value

    when = _time(required("time"))
    symbol = required("symbol").upper()
    if not _SYMBOL.fullmatch(symbol):
        raise _RowError(f"symbol {cells['symbol']!r} is not a Binance symbol")
    side_text = required("side").upper()
    if side_text not in ("BUY", "SELL"):
        raise _RowError(f"side {cells['side']!r} is not BUY or SELL")
    side = Side(side_text)
    price, _ = _number(required("price"), "price")
    quantity, _ = _number(required("quantity"), "quantity")
    if price <= 0:
        raise _RowError(f"price {cells['price']!r} is not above 0")
    if quantity <= 0:
        raise _RowError(f"quantity {cells['quantity']!r} is not above 0")
    quote_asset_cell = cells.get("quote_asset", "").strip().upper() or None
    if quote_asset_cell is not None and not _ASSET.fullmatch(quote_asset_cell):
        raise _RowError(f"quote asset {cells['quote_asset']!r} is not an asset code")
    quote_text = cells.get("quote_qty", "").strip()
    if quote_text:
        quote_qty, quote_unit = _number(quote_text, "amount")
        quote_asset_cell = quote_asset_cell or quote_unit
    else:
        quote_qty = price * quantity
    quote_asset = _quote_of(symbol, quote_asset_cell)
    fee, fee_unit = _number(required("fee"), "fee")
    fee_asset_cell = cells.get("fee_asset", "").strip().upper() or None
    if fee_asset_cell is not None and not _ASSET.fullmatch(fee_asset_cell):
        raise _RowError(f"fee coin {cells['fee_asset']!r} is not an asset code")
    if fee_asset_cell and fee_unit and fee_asset_cell != fee_unit:
        raise _RowError(f"fee {cells['fee']!r} is in {fee_unit} but the fee coin says {fee_asset_cell}")
    fee_asset = fee_asset_cell or fee_unit or quote_asset
    realized, _ = _number(required("realized_pnl"), "realized profit")
    maker_text = cells.get("maker", "").strip().lower()
    if maker_text not in ("", "true", "false"):
        raise _RowError(f"maker {cells['maker']!r} is not true or false")
    position_side = cells.get("position_side", "").strip().upper() or None
    return ImportedFill(
        line=line,
        time=when,
        symbol=symbol,
        side=side,
        price=price,
        quantity=quantity,
        quote_qty=quote_qty,
        fee=fee,
        fee_asset=fee_asset,
        realized_pnl=realized,
        quote_asset=quote_asset,
        order_id=_int(cells.get("order_id", ""), "order id"),
        trade_id=_int(cells.get("trade_id", ""), "trade id"),
        position_side=position_side,
        maker=None if not maker_text else maker_text == "true",
    )


def _same_fill(a: ImportedFill, b: ImportedFill) -> bool:
    """The same fill (everything but the line it was read from)."""
    return replace(a, line=b.line) == b


def parse_trade_history(text: str, *, source: Path | str | None = None) -> TradeHistory:
    """Parse the CSV text of a trade-history export. Raises ``TradeHistoryError`` naming every bad line."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    problems: list[str] = []
    header: list[str] | None = None
    header_line = 0
    for row in reader:
        if any(c.strip() for c in row):
            header, header_line = row, reader.line_num
            break
    if header is None:
        raise TradeHistoryError(source, ["the file is empty (no header row)"])
    columns: list[str | None] = []
    ignored: list[str] = []
    seen: set[str] = set()
    for name in header:
        canonical = _LOOKUP.get(_norm(name))
        if canonical is not None and canonical in seen:
            raise TradeHistoryError(source, [f"line {header_line}: column {name.strip()!r} appears twice"])
        if canonical is None and name.strip():
            ignored.append(name.strip())
        if canonical is not None:
            seen.add(canonical)
        columns.append(canonical)
    missing = [c for c in _REQUIRED if c not in seen]
    if missing:
        names = ", ".join(_ALIASES[c][0] for c in missing)
        raise TradeHistoryError(
            source,
            [f"line {header_line}: not a Binance futures trade history (no column for {names}; header was "
             f"{','.join(h.strip() for h in header)!r})"],
        )

    fills: list[ImportedFill] = []
    for row in reader:
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue  # blank lines (a trailing newline, Excel's empty rows)
        if len(row) != len(header):
            problems.append(f"line {line}: {len(row)} cells, the header has {len(header)}")
        else:
            cells = {c: v for c, v in zip(columns, row, strict=True) if c is not None}
            try:
                fills.append(_parse_row(cells, line))
            except _RowError as exc:
                problems.append(f"line {line}: {exc}")
        if len(problems) >= _MAX_PROBLEMS:
            break
    if problems:
        raise TradeHistoryError(source, problems)
    if not fills:
        raise TradeHistoryError(source, [f"no trades after the header (line {header_line})"])

    # duplicates: by trade id when the file has ids; identical rows without ids are only warned about
    duplicates: list[str] = []
    warnings: list[str] = []
    kept: list[ImportedFill] = []
    by_id: dict[int, ImportedFill] = {}
    by_content: dict[tuple[object, ...], ImportedFill] = {}
    for f in fills:
        if f.trade_id is not None:
            prior = by_id.get(f.trade_id)
            if prior is not None:
                if _same_fill(prior, f):
                    duplicates.append(f"line {f.line} repeats line {prior.line} (trade id {f.trade_id})")
                    continue
                raise TradeHistoryError(
                    source, [f"line {f.line}: trade id {f.trade_id} is already used by a different fill on line "
                             f"{prior.line}"]
                )
            by_id[f.trade_id] = f
        else:
            key = (f.time, f.symbol, f.side, f.price, f.quantity, f.fee, f.fee_asset, f.realized_pnl, f.order_id)
            prior_row = by_content.get(key)
            if prior_row is not None:
                warnings.append(f"line {f.line} is identical to line {prior_row.line}: kept both (no trade id to "
                                "tell a repeated row from two fills in the same second)")
            by_content[key] = f
        kept.append(f)
    if kept[0].time > kept[-1].time:
        kept.reverse()  # newest first: chronological, ties keep their true order
    kept.sort(key=lambda f: f.time)

    fee_totals: dict[str, Decimal] = {}
    for f in kept:
        fee_totals[f.fee_asset] = fee_totals.get(f.fee_asset, Decimal(0)) + f.fee
    other = [f for f in kept if f.fee_in_other_asset]
    if other:
        assets = sorted({f.fee_asset for f in other})
        warnings.append(f"{len(other)} fill(s) paid the fee in {', '.join(assets)}: kept in that coin, not added to "
                        f"the {kept[0].quote_asset} fees")
    return TradeHistory(
        fills=tuple(kept),
        columns=tuple(c for c in columns if c is not None),
        ignored_columns=tuple(ignored),
        duplicates=tuple(duplicates),
        warnings=tuple(warnings),
        fee_totals=fee_totals,
    )


def read_trade_history(path: Path | str) -> TradeHistory:
    """Read and parse a trade-history file (UTF-8, with or without a BOM)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TradeHistoryError(path, [f"cannot be read: {exc.strerror or exc}"]) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise TradeHistoryError(path, [f"line {line}: not UTF-8 text (is it the .xlsx export? save it as CSV)"]) \
            from exc
    return parse_trade_history(text, source=path)


def to_fill_rows(history: TradeHistory) -> list[FillRow]:
    """The fills as the journal stores them (``Journal.record_imported_fills``).

    ``seq`` numbers the fills 1..n in time order. ``trade_id``/``order_id`` are Binance's when the file has them,
    else numbered 1, 2, ... in time order (the website's export carries none; each fill then stands for its own
    order). The
    liquidity role is MAKER only when the file says so, else TAKER; ``is_liquidation`` is False (the export does not
    say). ``fee_asset`` is kept as given, BNB included.
    """
    rows: list[FillRow] = []
    next_id = max((f.trade_id for f in history.fills if f.trade_id is not None), default=0)
    for n, f in enumerate(history.fills, start=1):
        if f.trade_id is not None:
            trade_id = f.trade_id
        else:  # numbered after any real id, so a mixed file cannot collide
            next_id += 1
            trade_id = next_id
        rows.append(
            FillRow(
                seq=n,
                trade_id=trade_id,
                order_id=f.order_id if f.order_id is not None else trade_id,
                symbol=f.symbol,
                side=f.side,
                price=f.price,
                quantity=f.quantity,
                fee=f.fee,
                fee_asset=f.fee_asset,
                role=LiquidityRole.MAKER if f.maker else LiquidityRole.TAKER,
                realized_pnl=f.realized_pnl,
                ts_ms=f.ts_ms,
                is_liquidation=False,
            )
        )
    return rows
