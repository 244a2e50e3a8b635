"""Trading statistics over closed trades: what a trainer reads to learn from a session (docs/statistics.md).

Pure and Qt-free. Two steps so that a filter change costs milliseconds even over 100,000 trades:

1. ``TradeTable.build(trades, notes)`` turns closed ``storage.trades.Trade`` values into numpy columns, sorted by
   closing time, with each trade's setup and tags from the caller's notes (``trade_key -> TradeNote``, as
   ``Journal.trade_notes(session_id)`` returns them). Built once when the trades change (the desk caches it);
   tables of several sessions are joined with ``TradeTable.concat``.
2. ``compute(table, filter, start_balance)`` selects rows with a ``TradeFilter`` and computes every figure with
   vectorised numpy: no Python loop over trades.

Figures are float64 (statistics, rounded for display); each trade's own money stays exact (Decimal) in ``Trade``.
A trade counts on its closing instant (UTC): its day, hour, weekday and place on the equity curve.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

import numpy as np

from hexdesk.engine.enums import MarginMode, Side
from hexdesk.storage.trades import Trade

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
R_BIN = 0.5  # width of the R histogram's bins
R_CLIP = 10.0  # R beyond +-10 counts in the outermost bins
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MODES = (None, MarginMode.ISOLATED, MarginMode.CROSS)


class NoteLike(Protocol):
    """What statistics read of a trade note (``storage.views.TradeNote``)."""

    setup: str | None
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TradeFilter:
    """Which closed trades to count. Empty sets and None mean "any"; dates are UTC closing days, inclusive."""

    symbols: frozenset[str] = frozenset()
    side: Side | None = None  # BUY = longs, SELL = shorts
    margin_mode: MarginMode | None = None
    tags: frozenset[str] = frozenset()  # a trade with any of these tags
    setups: frozenset[str] = frozenset()
    start: date | None = None
    end: date | None = None
    session_ids: frozenset[int] = frozenset()

    @property
    def is_empty(self) -> bool:
        return self == TradeFilter()


@dataclass(frozen=True, eq=False)  # numpy columns: compared by identity
class TradeTable:
    """Closed trades as columns, in closing order (ties by opening, then first trade id): the input of ``compute``."""

    keys: tuple[str, ...]
    session_id: np.ndarray  # int64
    closed_ms: np.ndarray  # int64
    opened_ms: np.ndarray  # int64
    net: np.ndarray  # float64, USDT
    fees: np.ndarray
    funding: np.ndarray
    r: np.ndarray  # NaN without a risk
    liquidated: np.ndarray  # bool
    foreign_fee: np.ndarray  # bool
    side: np.ndarray  # int8: +1 long, -1 short
    mode: np.ndarray  # int8: 0 unknown, 1 isolated, 2 cross
    symbol: np.ndarray  # int32 codes into symbols
    symbols: tuple[str, ...]
    setup: np.ndarray  # int32 codes into setups, -1 none
    setups: tuple[str, ...]
    tag_masks: Mapping[str, np.ndarray] = field(default_factory=dict)
    open_count: int = 0

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def build(
        cls, trades: Iterable[Trade], notes: Mapping[str, NoteLike] | None = None, session_id: int = 0
    ) -> TradeTable:
        """Columns of the closed trades; open ones are only counted (they have no result yet)."""
        notes = notes or {}
        all_trades = list(trades)
        closed = sorted((t for t in all_trades if t.closed_ms is not None),
                        key=lambda t: (t.closed_ms, t.opened_ms, t.first_trade_id))
        n = len(closed)
        symbols: dict[str, int] = {}
        setups: dict[str, int] = {}
        tag_rows: dict[str, list[int]] = {}
        setup_codes = np.full(n, -1, np.int32)
        for i, t in enumerate(closed):
            note = notes.get(t.trade_key)
            if note is None:
                continue
            if note.setup:
                setup_codes[i] = setups.setdefault(note.setup, len(setups))
            for tag in note.tags or ():
                tag_rows.setdefault(tag, []).append(i)
        tag_masks: dict[str, np.ndarray] = {}
        for tag, rows in tag_rows.items():
            mask = np.zeros(n, bool)
            mask[rows] = True
            tag_masks[tag] = mask
        return cls(
            keys=tuple(t.trade_key for t in closed),
            session_id=np.full(n, session_id, np.int64),
            closed_ms=np.fromiter((t.closed_ms for t in closed), np.int64, n),  # type: ignore[misc]
            opened_ms=np.fromiter((t.opened_ms for t in closed), np.int64, n),
            net=np.array([float(t.net_pnl) for t in closed], np.float64),
            fees=np.array([float(t.fees) for t in closed], np.float64),
            funding=np.array([float(t.funding) for t in closed], np.float64),
            r=np.array([math.nan if not t.risk else float(t.net_pnl / t.risk) for t in closed], np.float64),
            liquidated=np.fromiter((t.is_liquidation for t in closed), bool, n),
            foreign_fee=np.fromiter((t.has_foreign_fee for t in closed), bool, n),
            side=np.fromiter((t.side.sign for t in closed), np.int8, n),
            mode=np.fromiter((_MODES.index(t.margin_mode) for t in closed), np.int8, n),
            symbol=np.fromiter((symbols.setdefault(t.symbol, len(symbols)) for t in closed), np.int32, n),
            symbols=tuple(symbols),
            setup=setup_codes,
            setups=tuple(setups),
            tag_masks=tag_masks,
            open_count=len(all_trades) - n,
        )

    @classmethod
    def concat(cls, tables: Sequence[TradeTable]) -> TradeTable:
        """Several sessions' tables as one, in closing order (the sessions' own ``session_id`` columns kept)."""
        if not tables:
            return cls.build(())
        symbols = tuple(dict.fromkeys(s for t in tables for s in t.symbols))
        setups = tuple(dict.fromkeys(s for t in tables for s in t.setups))
        tags = tuple(dict.fromkeys(g for t in tables for g in t.tag_masks))

        def recode(codes: np.ndarray, names: tuple[str, ...], into: tuple[str, ...]) -> np.ndarray:
            lookup = np.array([into.index(s) for s in names] + [-1], np.int32)
            return lookup[codes]  # -1 picks the trailing -1

        closed = np.concatenate([t.closed_ms for t in tables])
        order = np.lexsort((np.concatenate([t.opened_ms for t in tables]), closed))  # by closing, then opening
        keys = [k for t in tables for k in t.keys]

        def cat(name: str) -> np.ndarray:
            return np.concatenate([getattr(t, name) for t in tables])[order]

        masks = {
            g: np.concatenate([t.tag_masks.get(g, np.zeros(len(t), bool)) for t in tables])[order] for g in tags
        }
        return cls(
            keys=tuple(keys[i] for i in order),
            session_id=cat("session_id"),
            closed_ms=closed[order],
            opened_ms=cat("opened_ms"),
            net=cat("net"), fees=cat("fees"), funding=cat("funding"), r=cat("r"),
            liquidated=cat("liquidated"), foreign_fee=cat("foreign_fee"), side=cat("side"), mode=cat("mode"),
            symbol=np.concatenate([recode(t.symbol, t.symbols, symbols) for t in tables])[order],
            symbols=symbols,
            setup=np.concatenate([recode(t.setup, t.setups, setups) for t in tables])[order],
            setups=setups,
            tag_masks=masks,
            open_count=sum(t.open_count for t in tables),
        )

    def mask(self, f: TradeFilter | None) -> np.ndarray:
        """The rows ``f`` selects."""
        m = np.ones(len(self), bool)
        if f is None or f.is_empty:
            return m
        if f.symbols:
            codes = [i for i, s in enumerate(self.symbols) if s in f.symbols]
            m &= np.isin(self.symbol, codes)
        if f.side is not None:
            m &= self.side == f.side.sign
        if f.margin_mode is not None:
            m &= self.mode == _MODES.index(f.margin_mode)
        if f.tags:
            any_tag = np.zeros(len(self), bool)
            for tag in f.tags:
                if tag in self.tag_masks:
                    any_tag |= self.tag_masks[tag]
            m &= any_tag
        if f.setups:
            codes = [i for i, s in enumerate(self.setups) if s in f.setups]
            m &= np.isin(self.setup, codes)
        if f.start is not None:
            m &= self.closed_ms >= _day_ms(f.start)
        if f.end is not None:
            m &= self.closed_ms < _day_ms(f.end) + DAY_MS
        if f.session_ids:
            m &= np.isin(self.session_id, list(f.session_ids))
        return m


@dataclass(frozen=True, slots=True)
class GroupRow:
    """One line of the per-tag (or per-setup) table: the sample size first, so a 2-trade "edge" reads as such."""

    name: str
    count: int
    win_rate: float | None
    net_pnl: float
    expectancy: float | None
    expectancy_r: float | None
    r_count: int


@dataclass(frozen=True, eq=False)  # numpy columns: compared by identity
class Statistics:
    """Every figure of docs/statistics.md for the selected closed trades. None = undefined (e.g. no losses)."""

    start_balance: float
    trade_count: int
    open_count: int
    wins: int
    losses: int
    breakeven: int
    win_rate: float | None
    gross_profit: float
    gross_loss: float  # <= 0
    net_pnl: float
    average_win: float | None
    average_loss: float | None  # < 0
    expectancy: float | None  # USDT per trade
    expectancy_r: float | None  # R per trade, over trades with a stop
    r_count: int
    profit_factor: float | None
    max_drawdown: float  # USDT, >= 0
    max_drawdown_pct: float  # % of the peak it fell from
    longest_losing_streak: int
    fees: float  # USDT paid
    funding: float  # received > 0, paid < 0
    foreign_fee_trades: int  # trades with a fee in another asset (BNB), not in ``fees``
    liquidations: int
    liquidation_cost: float  # what the liquidated trades lost, >= 0
    pnl_by_hour: tuple[float, ...]  # 24, UTC hour of closing
    trades_by_hour: tuple[int, ...]
    pnl_by_weekday: tuple[float, ...]  # 7, Monday first
    trades_by_weekday: tuple[int, ...]
    tags: tuple[GroupRow, ...]
    setups: tuple[GroupRow, ...]
    equity_ms: np.ndarray = field(repr=False)  # the start (the first selected trade's opening) then every close
    equity: np.ndarray = field(repr=False)
    drawdown: np.ndarray = field(repr=False)  # USDT below the running peak, >= 0
    daily_pnl: tuple[tuple[date, float], ...] = ()
    r_edges: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    r_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)


def compute(table: TradeTable, trade_filter: TradeFilter | None = None, start_balance: float = 0.0) -> Statistics:
    """The statistics of the rows of ``table`` that ``trade_filter`` selects (docs/statistics.md)."""
    m = table.mask(trade_filter)
    net = table.net[m]
    closed = table.closed_ms[m]
    r = table.r[m]
    n = int(net.size)
    win, loss = net > 0, net < 0
    wins, losses = int(win.sum()), int(loss.sum())
    gross_profit = float(net[win].sum())
    gross_loss = float(net[loss].sum())
    total = float(net.sum())
    has_r = ~np.isnan(r)
    r_count = int(has_r.sum())

    start = float(start_balance)
    equity = start + np.cumsum(net)
    peaks = np.maximum.accumulate(np.concatenate(([start], equity)))[1:]
    drawdown = peaks - equity
    with np.errstate(divide="ignore", invalid="ignore"):
        dd_pct = np.where(peaks > 0, drawdown / peaks * 100.0, 0.0)

    hours = (closed // HOUR_MS) % 24
    weekdays = (closed // DAY_MS + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    days, inverse = np.unique(closed // DAY_MS, return_inverse=True)
    daily = np.bincount(inverse, weights=net, minlength=days.size) if n else np.zeros(0)
    epoch = date(1970, 1, 1)

    liq = table.liquidated[m]
    edges, counts = _r_histogram(r[has_r])
    first = int(table.opened_ms[m].min()) if n else 0
    return Statistics(
        start_balance=start,
        trade_count=n,
        open_count=table.open_count,
        wins=wins,
        losses=losses,
        breakeven=n - wins - losses,
        win_rate=wins / n if n else None,
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        net_pnl=total,
        average_win=gross_profit / wins if wins else None,
        average_loss=gross_loss / losses if losses else None,
        expectancy=total / n if n else None,
        expectancy_r=float(r[has_r].mean()) if r_count else None,
        r_count=r_count,
        profit_factor=gross_profit / -gross_loss if losses else None,
        max_drawdown=float(drawdown.max()) if n else 0.0,
        max_drawdown_pct=float(dd_pct.max()) if n else 0.0,
        longest_losing_streak=_longest_run(loss),
        fees=float(table.fees[m].sum()),
        funding=float(table.funding[m].sum()),
        foreign_fee_trades=int(table.foreign_fee[m].sum()),
        liquidations=int(liq.sum()),
        liquidation_cost=0.0 - float(net[liq].sum()),  # 0.0 - : never a "-0.00"
        pnl_by_hour=tuple(np.bincount(hours, weights=net, minlength=24).tolist()),
        trades_by_hour=tuple(np.bincount(hours, minlength=24).tolist()),
        pnl_by_weekday=tuple(np.bincount(weekdays, weights=net, minlength=7).tolist()),
        trades_by_weekday=tuple(np.bincount(weekdays, minlength=7).tolist()),
        tags=tuple(_group(name, mask[m], net, r) for name, mask in sorted(table.tag_masks.items())),
        setups=tuple(_group(name, table.setup[m] == i, net, r) for i, name in sorted(enumerate(table.setups),
                                                                                    key=lambda x: x[1])),
        equity_ms=np.concatenate(([first], closed)),
        equity=np.concatenate(([start], equity)),
        drawdown=np.concatenate(([0.0], drawdown)),
        daily_pnl=tuple((epoch + timedelta(days=int(d)), float(v)) for d, v in zip(days, daily, strict=True)),
        r_edges=edges,
        r_counts=counts,
    )


def compute_for(
    trades: Iterable[Trade],
    notes: Mapping[str, NoteLike] | None = None,
    trade_filter: TradeFilter | None = None,
    start_balance: float = 0.0,
) -> Statistics:
    """One session's statistics straight from its trades (builds the table; cache it for repeated filters)."""
    return compute(TradeTable.build(trades, notes), trade_filter, start_balance)


def _group(name: str, sel: np.ndarray, net: np.ndarray, r: np.ndarray) -> GroupRow:
    g = net[sel]
    gr = r[sel]
    gr = gr[~np.isnan(gr)]
    n = int(g.size)
    return GroupRow(
        name=name,
        count=n,
        win_rate=float((g > 0).sum()) / n if n else None,
        net_pnl=float(g.sum()),
        expectancy=float(g.mean()) if n else None,
        expectancy_r=float(gr.mean()) if gr.size else None,
        r_count=int(gr.size),
    )


def _longest_run(flags: np.ndarray) -> int:
    """Length of the longest run of True (consecutive losing trades; a breakeven trade ends a run)."""
    if not flags.any():
        return 0
    padded = np.concatenate(([0], flags.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[0::2]).max())


def _r_histogram(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts of R in bins of ``R_BIN`` aligned on 0, from the lowest to the highest R (clipped to +-R_CLIP)."""
    if r.size == 0:
        return np.zeros(0), np.zeros(0, np.int64)
    clipped = np.clip(r, -R_CLIP, R_CLIP)
    lo = math.floor(float(clipped.min()) / R_BIN) * R_BIN
    hi = math.floor(float(clipped.max()) / R_BIN) * R_BIN + R_BIN
    edges = np.arange(lo, hi + R_BIN / 2, R_BIN)
    counts, _ = np.histogram(clipped, bins=edges)
    return edges, counts.astype(np.int64)


def _day_ms(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)
