"""Round trips ("trades") built from fills: what a trader reviews, one line per position from flat to flat.

Pure and Qt-free: the inputs are small frozen records (``TradeFill``) built by adapters from either the engine's
events (``OrderFilled`` carries the fill and its order) or the journal's rows (``FillRow`` + ``OrderRow``, so a
journal-only session of imported real trades gets the same list). A trade is keyed by
``trade_key = f"{symbol}:{first_trade_id}"`` (the wave-2 contract): notes, tags and screenshots refer to it.

How fills become trades (per symbol, in time order), documented with the formulas in docs/statistics.md:
- a fill from flat opens a trade; a fill in the same direction adds to it;
- a fill against it reduces it (a partial close) or closes it (back to flat);
- a fill larger than the position is a reversal: split into the part that closes this trade and the part that
  opens the next one (fee split pro rata by quantity; the realized PnL all belongs to the closing part);
- a liquidation fill is an exit like any other, with exit reason ``liquidation``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from hexdesk.engine.enums import MarginMode, OrderType, Side
from hexdesk.engine.events import (
    AccountOpened,
    Event,
    FundingSettled,
    LeverageChanged,
    MarginModeChanged,
    OrderAccepted,
    OrderFilled,
    PositionChanged,
)

ZERO = Decimal(0)
QUOTE_ASSET = "USDT"

PriceRange = Callable[[str, int, int], "tuple[Decimal, Decimal] | None"]
"""``price_range(symbol, start_ms, end_ms) -> (low, high)`` of the traded price over that span (None: unknown)."""


class ExitReason(StrEnum):
    """Why a trade ended, read off the order type of the fill that brought it back to flat."""

    TAKE_PROFIT = "take-profit"
    STOP_LOSS = "stop-loss"
    MANUAL = "manual"
    LIQUIDATION = "liquidation"
    OPEN = "open"


@dataclass(frozen=True, slots=True)
class TradeFill:
    """One execution with what the trade builder needs of its order (type, reduce-only, parent)."""

    trade_id: int
    order_id: int
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_asset: str
    realized_pnl: Decimal
    ts_ms: int
    is_liquidation: bool = False
    order_type: OrderType | None = None
    reduce_only: bool = False
    close_position: bool = False
    parent_order_id: int | None = None


@dataclass(frozen=True, slots=True)
class SymbolSetting:
    """A leverage and/or margin-mode setting of a symbol from ``ts_ms`` on (None: unchanged)."""

    ts_ms: int
    symbol: str | None  # None: the account default for every symbol (AccountOpened)
    leverage: int | None = None
    margin_mode: MarginMode | None = None


class StopOrderLike(Protocol):
    """The parts of an order (engine ``Order`` or journal ``OrderRow``) that tell a stop-loss."""

    order_id: Any
    symbol: str
    side: Side
    type: OrderType
    stop_price: Decimal | None
    created_ms: int
    reduce_only: bool
    close_position: bool
    parent_order_id: int | None


class FundingLike(Protocol):
    """``FundingSettled`` event or journal ``FundingRow``: amount > 0 received, < 0 paid."""

    symbol: str
    ts_ms: int
    position_qty: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Trade:
    """One round trip of a symbol, from flat to flat (or still open).

    Money is USDT. ``fees`` sums the USDT fees only; a fee paid in another asset (BNB) is kept in ``other_fees``
    and flagged by ``has_foreign_fee``, never added. ``realized_pnl`` excludes fees (as Binance reports it);
    ``net_pnl = realized_pnl - fees + funding``. ``risk`` = |entry - initial stop| x entry size (None without a
    stop); ``r_multiple = net_pnl / risk``. ``mae`` <= 0 <= ``mfe`` in USDT over the price path while open.
    """

    trade_key: str
    symbol: str
    side: Side  # BUY = long, SELL = short
    first_trade_id: int
    opened_ms: int
    closed_ms: int | None
    max_size: Decimal
    entry_qty: Decimal
    entry_avg: Decimal
    exit_qty: Decimal
    exit_avg: Decimal | None
    fees: Decimal
    other_fees: tuple[tuple[str, Decimal], ...]
    funding: Decimal
    realized_pnl: Decimal
    exit_reason: ExitReason
    entry_order_id: int
    exit_order_id: int | None
    fill_count: int
    leverage: int | None = None
    margin_mode: MarginMode | None = None
    stop_price: Decimal | None = None
    risk: Decimal | None = None
    mae: Decimal | None = None
    mfe: Decimal | None = None
    trade_ids: tuple[int, ...] = field(default=(), compare=False)

    @property
    def is_open(self) -> bool:
        return self.closed_ms is None

    @property
    def is_long(self) -> bool:
        return self.side is Side.BUY

    @property
    def net_pnl(self) -> Decimal:
        return self.realized_pnl - self.fees + self.funding

    @property
    def has_foreign_fee(self) -> bool:
        return bool(self.other_fees)

    @property
    def is_liquidation(self) -> bool:
        return self.exit_reason is ExitReason.LIQUIDATION

    @property
    def duration_ms(self) -> int | None:
        return None if self.closed_ms is None else self.closed_ms - self.opened_ms

    @property
    def r_multiple(self) -> Decimal | None:
        return None if not self.risk else self.net_pnl / self.risk

    @property
    def mae_r(self) -> Decimal | None:
        return None if not self.risk or self.mae is None else self.mae / self.risk

    @property
    def mfe_r(self) -> Decimal | None:
        return None if not self.risk or self.mfe is None else self.mfe / self.risk


# ---------------------------------------------------------------------------------------------- adapters


def fill_from_engine(fill: Any, order: Any) -> TradeFill:
    """From the engine's ``Fill`` and the ``Order`` it executed (both carried by ``OrderFilled``)."""
    return TradeFill(
        fill.trade_id, fill.order_id, fill.symbol, fill.side, fill.price, fill.quantity, fill.fee, fill.fee_asset,
        fill.realized_pnl, fill.ts_ms, fill.is_liquidation,
        order.type if order is not None else None,
        bool(order.reduce_only) if order is not None else False,
        bool(order.close_position) if order is not None else False,
        order.parent_order_id if order is not None else None,
    )


def fills_from_events(events: Iterable[Event]) -> list[TradeFill]:
    """Every fill in an event log once (a liquidation's fill is carried by OrderFilled and PositionLiquidated)."""
    seen: set[int] = set()
    out: list[TradeFill] = []
    for ev in events:
        if isinstance(ev, OrderFilled) and ev.fill.trade_id not in seen:
            seen.add(ev.fill.trade_id)
            out.append(fill_from_engine(ev.fill, ev.order))
    return out


def fills_from_rows(fills: Iterable[Any], orders: Iterable[Any]) -> list[TradeFill]:
    """From the journal's ``FillRow`` and ``OrderRow`` views (an imported fill may have no order row)."""
    by_id = {o.order_id: o for o in orders if o.order_id is not None}
    return [fill_from_engine(_RowFill(f), by_id.get(f.order_id)) for f in fills]


class _RowFill:
    """A ``FillRow`` seen as an engine ``Fill`` (they differ only in the seq)."""

    __slots__ = ("_row",)

    def __init__(self, row: Any) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


def orders_from_events(events: Iterable[Event]) -> list[Any]:
    """The orders as accepted (their stop prices and parents): where initial stops are read from."""
    return [ev.order for ev in events if isinstance(ev, OrderAccepted)]


def settings_from_events(events: Iterable[Event]) -> list[SymbolSetting]:
    """Leverage and margin mode over time, from the account's defaults and every change of them."""
    out: list[SymbolSetting] = []
    for ev in events:
        if isinstance(ev, AccountOpened):
            out.append(SymbolSetting(ev.ts_ms, None, ev.default_leverage, ev.default_margin_mode))
        elif isinstance(ev, LeverageChanged):
            out.append(SymbolSetting(ev.ts_ms, ev.symbol, leverage=ev.leverage))
        elif isinstance(ev, MarginModeChanged):
            out.append(SymbolSetting(ev.ts_ms, ev.symbol, margin_mode=ev.margin_mode))
        elif isinstance(ev, PositionChanged):
            p = ev.position
            out.append(SymbolSetting(ev.ts_ms, p.symbol, p.leverage, p.margin_mode))
    return out


def funding_from_events(events: Iterable[Event]) -> list[FundingSettled]:
    return [ev for ev in events if isinstance(ev, FundingSettled)]


def trades_from_events(events: Sequence[Event], price_range: PriceRange | None = None) -> list[Trade]:
    """The trades of an engine event log (a live desk's, or one read back from the journal)."""
    return build_trades(
        fills_from_events(events),
        orders=orders_from_events(events),
        funding=funding_from_events(events),
        settings=settings_from_events(events),
        price_range=price_range,
    )


# ---------------------------------------------------------------------------------------------- builder


@dataclass
class _Open:
    """A trade being built."""

    symbol: str
    side: Side
    first: TradeFill
    entry_order_id: int
    qty: Decimal = ZERO  # current size (> 0)
    max_size: Decimal = ZERO
    entry_qty: Decimal = ZERO
    entry_cost: Decimal = ZERO
    first_order_qty: Decimal = ZERO
    first_order_cost: Decimal = ZERO
    exit_qty: Decimal = ZERO
    exit_cost: Decimal = ZERO
    fees: Decimal = ZERO
    other_fees: dict[str, Decimal] = field(default_factory=dict)
    realized: Decimal = ZERO
    trade_ids: list[int] = field(default_factory=list)
    last: TradeFill | None = None
    low: Decimal | None = None
    high: Decimal | None = None

    def fee(self, asset: str, amount: Decimal) -> None:
        if asset == QUOTE_ASSET:
            self.fees += amount
        elif amount:
            self.other_fees[asset] = self.other_fees.get(asset, ZERO) + amount

    def saw(self, f: TradeFill) -> None:
        self.low = f.price if self.low is None else min(self.low, f.price)
        self.high = f.price if self.high is None else max(self.high, f.price)
        if not self.trade_ids or self.trade_ids[-1] != f.trade_id:
            self.trade_ids.append(f.trade_id)


def build_trades(
    fills: Iterable[TradeFill],
    *,
    orders: Iterable[StopOrderLike] = (),
    funding: Iterable[FundingLike] = (),
    settings: Iterable[SymbolSetting] = (),
    sizer_risk: Mapping[int, Decimal] | None = None,
    price_range: PriceRange | None = None,
    now_ms: int | None = None,
) -> list[Trade]:
    """Round trips from fills, oldest first (by opening time, then first trade id).

    ``orders``: orders as placed, where the initial stop-loss is found (the STOP_MARKET attached to the entry
    order, else the first reduce-only / closePosition stop placed while the trade was open). ``sizer_risk``:
    entry order id -> the USDT risk handed to the sizer, used when no stop is found. ``settings``: leverage and
    margin mode over time. ``price_range``: the price path for MAE/MFE (fill prices alone without it), up to
    ``now_ms`` for a trade still open (else up to its last fill).
    """
    by_symbol: dict[str, list[TradeFill]] = {}
    for f in fills:
        by_symbol.setdefault(f.symbol, []).append(f)
    built: list[tuple[_Open, TradeFill | None]] = []
    for symbol_fills in by_symbol.values():
        symbol_fills.sort(key=lambda f: (f.ts_ms, f.trade_id))
        built.extend(_round_trips(symbol_fills))

    stops = _stops_by_symbol(orders)
    funding_by_symbol: dict[str, list[FundingLike]] = {}
    for fr in funding:
        if fr.position_qty:
            funding_by_symbol.setdefault(fr.symbol, []).append(fr)
    at = _Settings(settings)
    trades = [
        _finish(o, exit_fill, stops.get(o.symbol), funding_by_symbol.get(o.symbol, ()), at,
                sizer_risk or {}, price_range, now_ms)
        for o, exit_fill in built
    ]
    trades.sort(key=lambda t: (t.opened_ms, t.first_trade_id))
    return trades


def _round_trips(fills: Sequence[TradeFill]) -> list[tuple[_Open, TradeFill | None]]:
    """Split one symbol's fills (in time order) into round trips; the second item is the closing fill."""
    out: list[tuple[_Open, TradeFill | None]] = []
    cur: _Open | None = None
    for f in fills:
        qty = f.qty
        if qty <= 0:
            continue
        if cur is None:
            cur = _open(f, qty, f.fee)
            continue
        cur.saw(f)
        if f.side is cur.side:  # an add
            cur.qty += qty
            cur.max_size = max(cur.max_size, cur.qty)
            cur.entry_qty += qty
            cur.entry_cost += qty * f.price
            if f.order_id == cur.entry_order_id:
                cur.first_order_qty += qty
                cur.first_order_cost += qty * f.price
            cur.fee(f.fee_asset, f.fee)
            cur.last = f
            continue
        closing = min(qty, cur.qty)
        closing_fee = f.fee if closing == qty else f.fee * closing / qty
        cur.qty -= closing
        cur.exit_qty += closing
        cur.exit_cost += closing * f.price
        cur.fee(f.fee_asset, closing_fee)
        cur.realized += f.realized_pnl
        cur.last = f
        if cur.qty == 0:
            out.append((cur, f))
            cur = None
            rest = qty - closing
            if rest > 0:  # a reversal: the rest opens the other way
                cur = _open(f, rest, f.fee - closing_fee)
    if cur is not None:
        out.append((cur, None))
    return out


def _open(f: TradeFill, qty: Decimal, fee: Decimal) -> _Open:
    o = _Open(f.symbol, f.side, f, f.order_id, qty=qty, max_size=qty, entry_qty=qty, entry_cost=qty * f.price,
              first_order_qty=qty, first_order_cost=qty * f.price, last=f)
    o.fee(f.fee_asset, fee)
    o.saw(f)
    return o


@dataclass
class _Stops:
    """One symbol's protective stops: by entry (parent) order, and in placing order for a bisect by time."""

    by_parent: dict[int, list[StopOrderLike]] = field(default_factory=dict)
    placed: list[StopOrderLike] = field(default_factory=list)
    times: list[int] = field(default_factory=list)


def _stops_by_symbol(orders: Iterable[StopOrderLike]) -> dict[str, _Stops]:
    out: dict[str, _Stops] = {}
    for o in orders:
        stop = o.type in (OrderType.STOP_MARKET, OrderType.STOP) and o.stop_price and o.order_id is not None
        if stop and (o.reduce_only or o.close_position or o.parent_order_id is not None):
            st = out.setdefault(o.symbol, _Stops())
            st.placed.append(o)
            if o.parent_order_id is not None:
                st.by_parent.setdefault(o.parent_order_id, []).append(o)
    for st in out.values():
        st.placed.sort(key=lambda o: (o.created_ms, o.order_id))
        st.times = [o.created_ms for o in st.placed]
    return out


def _initial_stop(o: _Open, closed_ms: int | None, stops: _Stops | None) -> Decimal | None:
    """The stop attached to the entry order, else the first protective stop placed while the trade was open."""
    if stops is None:
        return None
    exit_side = o.side.opposite
    for s in stops.by_parent.get(o.entry_order_id, ()):
        if s.side is exit_side:
            return s.stop_price
    for i in range(bisect_left(stops.times, o.first.ts_ms), len(stops.placed)):
        s = stops.placed[i]
        if closed_ms is not None and s.created_ms > closed_ms:
            break
        if s.side is exit_side:
            return s.stop_price
    return None


class _Settings:
    """Leverage and margin mode of each symbol over time, looked up by bisect."""

    def __init__(self, settings: Iterable[SymbolSetting]) -> None:
        default: tuple[int | None, MarginMode | None] = (None, None)
        current: dict[str, tuple[int | None, MarginMode | None]] = {}
        self._default_times: list[int] = []
        self._defaults: list[tuple[int | None, MarginMode | None]] = []
        self._times: dict[str, list[int]] = {}
        self._values: dict[str, list[tuple[int | None, MarginMode | None]]] = {}
        for s in sorted(settings, key=lambda s: s.ts_ms):
            if s.symbol is None:
                default = (s.leverage if s.leverage is not None else default[0],
                           s.margin_mode if s.margin_mode is not None else default[1])
                self._default_times.append(s.ts_ms)
                self._defaults.append(default)
                continue
            lev, mode = current.get(s.symbol, default)
            state = (s.leverage if s.leverage is not None else lev,
                     s.margin_mode if s.margin_mode is not None else mode)
            current[s.symbol] = state
            self._times.setdefault(s.symbol, []).append(s.ts_ms)
            self._values.setdefault(s.symbol, []).append(state)

    def at(self, symbol: str, ts_ms: int) -> tuple[int | None, MarginMode | None]:
        times = self._times.get(symbol)
        if times:
            i = bisect_right(times, ts_ms)
            if i:
                return self._values[symbol][i - 1]
        i = bisect_right(self._default_times, ts_ms)
        return self._defaults[i - 1] if i else (None, None)


def _exit_reason(f: TradeFill | None) -> ExitReason:
    if f is None:
        return ExitReason.OPEN
    if f.is_liquidation:
        return ExitReason.LIQUIDATION
    if f.order_type in (OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_MARKET):
        return ExitReason.TAKE_PROFIT
    if f.order_type in (OrderType.STOP, OrderType.STOP_MARKET):
        return ExitReason.STOP_LOSS
    return ExitReason.MANUAL


def _finish(
    o: _Open,
    exit_fill: TradeFill | None,
    stops: _Stops | None,
    funding: Sequence[FundingLike],
    settings: _Settings,
    sizer_risk: Mapping[int, Decimal],
    price_range: PriceRange | None,
    now_ms: int | None,
) -> Trade:
    opened = o.first.ts_ms
    closed = exit_fill.ts_ms if exit_fill is not None else None
    sign = o.side.sign
    paid = sum(
        (fr.amount for fr in funding
         if opened <= fr.ts_ms and (closed is None or fr.ts_ms <= closed) and fr.position_qty * sign > 0),
        ZERO,
    )
    entry_avg = o.entry_cost / o.entry_qty
    first_avg = o.first_order_cost / o.first_order_qty
    stop = _initial_stop(o, closed, stops)
    risk: Decimal | None = None
    if stop is not None and (first_avg - stop) * sign > 0:
        risk = abs(first_avg - stop) * o.first_order_qty
    elif o.entry_order_id in sizer_risk and sizer_risk[o.entry_order_id] > 0:
        risk = sizer_risk[o.entry_order_id]
    low, high = o.low, o.high
    if price_range is not None:
        end = closed if closed is not None else max(now_ms or 0, o.last.ts_ms if o.last is not None else opened)
        span = price_range(o.symbol, opened, end)
        if span is not None:
            low = min(low, span[0]) if low is not None else span[0]
            high = max(high, span[1]) if high is not None else span[1]
    mae = mfe = None
    if low is not None and high is not None:
        worst, best = (low, high) if sign > 0 else (high, low)
        mae = min(ZERO, (worst - entry_avg) * sign * o.max_size)
        mfe = max(ZERO, (best - entry_avg) * sign * o.max_size)
    leverage, mode = settings.at(o.symbol, opened)
    return Trade(
        trade_key=f"{o.symbol}:{o.first.trade_id}",
        symbol=o.symbol,
        side=o.side,
        first_trade_id=o.first.trade_id,
        opened_ms=opened,
        closed_ms=closed,
        max_size=o.max_size,
        entry_qty=o.entry_qty,
        entry_avg=entry_avg,
        exit_qty=o.exit_qty,
        exit_avg=o.exit_cost / o.exit_qty if o.exit_qty else None,
        fees=o.fees,
        other_fees=tuple(sorted(o.other_fees.items())),
        funding=paid,
        realized_pnl=o.realized,
        exit_reason=_exit_reason(exit_fill),
        entry_order_id=o.entry_order_id,
        exit_order_id=exit_fill.order_id if exit_fill is not None else None,
        fill_count=len(o.trade_ids),
        leverage=leverage,
        margin_mode=mode,
        stop_price=stop,
        risk=risk,
        mae=mae,
        mfe=mfe,
        trade_ids=tuple(o.trade_ids),
    )
