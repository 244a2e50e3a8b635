"""Trades and statistics of a practice session, as the desk exposes them (``TradingDesk.trades/statistics``).

The pure work is in ``hexdesk.storage.trades`` (round trips) and ``hexdesk.storage.statistics`` (figures); this
module feeds them: the journal's rows when the desk has a journal (so a resumed or imported, journal-only session
gets the same list), the engine's in-memory events otherwise; the candle history for MAE/MFE; the trade notes
(setup, tags) from ``journal.trade_notes(session_id)`` when the journal has that method. It caches: trades are
recomputed only when an event that can change them arrives (a fill, a funding settlement, an order placed, a
leverage or margin change), and the statistics' columns only when the trades or the notes change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hexdesk.engine.events import (
    AccountOpened,
    Event,
    FundingSettled,
    LeverageChanged,
    MarginModeChanged,
    OrderAccepted,
    OrderFilled,
)
from hexdesk.market.candles import CandleSeries, scaled_to_decimal

if TYPE_CHECKING:
    # The round trips and statistics (numpy columns, many dataclasses) are built only when a screen asks for them:
    # the window's first paint must not import them (issue 10.3). sqlmodel / SQLAlchemy load with the journal.
    from hexdesk.storage.journal import Journal
    from hexdesk.storage.statistics import Statistics, TradeFilter, TradeTable
    from hexdesk.storage.trades import PriceRange, Trade
    from hexdesk.storage.views import TradeNote

_CHANGES_TRADES = (OrderFilled, FundingSettled, OrderAccepted, LeverageChanged, MarginModeChanged)


def candle_price_range(history: Callable[[str], CandleSeries | None]) -> PriceRange:
    """``price_range`` from closed candles: the lowest low and highest high of the candles overlapping the span.

    One-minute resolution: the candle an entry fell in counts whole (a price a few seconds before the entry can
    count), documented in docs/statistics.md. Only closed candles: never a price the replay has not shown yet.
    """

    def price_range(symbol: str, start_ms: int, end_ms: int) -> tuple[Decimal, Decimal] | None:
        series = history(symbol)
        if series is None or not len(series):
            return None
        first = max(0, series.index_at(start_ms - series.interval_ms + 1))
        stop = series.index_at(end_ms + 1)
        if stop <= first:
            return None
        _, high, low, _, _ = series.scaled()
        d = series.price_decimals
        return scaled_to_decimal(int(low[first:stop].min()), d), scaled_to_decimal(int(high[first:stop].max()), d)

    return price_range


def session_trades(
    journal: Any,
    session_id: int,
    *,
    events: Sequence[Event] | None = None,
    price_range: PriceRange | None = None,
    now_ms: int | None = None,
) -> list[Trade]:
    """A journal session's trades from its fill, order and funding rows.

    Leverage and margin mode come from ``events`` (the desk's in-memory log) or else the journal's stored events
    (a journal-only session of imported trades has none: they stay blank).
    """
    from hexdesk.storage.trades import build_trades, fills_from_rows, settings_from_events

    orders = journal.orders(session_id)
    if events is None:
        events = journal.events(session_id)
    return build_trades(
        fills_from_rows(journal.fills(session_id), orders),
        orders=orders,
        funding=journal.funding(session_id),
        settings=settings_from_events(events),
        price_range=price_range,
        now_ms=now_ms,
    )


def session_notes(journal: Journal | None, session_id: int | None) -> Mapping[str, TradeNote]:
    """The session's trade notes (trade_key -> TradeNote); none for a desk without a journal."""
    if journal is None or session_id is None:
        return {}
    return journal.trade_notes(session_id)


def start_balance(events: Sequence[Event], journal: Any = None, session_id: int | None = None) -> Decimal:
    """Where the equity curve starts: the session's starting balance."""
    if journal is not None and session_id is not None:
        return journal.session(session_id).start_balance
    for ev in events:
        if isinstance(ev, AccountOpened):
            return ev.wallet_balance
    return Decimal(0)


def sessions_table(journal: Any, session_ids: Sequence[int]) -> tuple[TradeTable, float]:
    """The closed trades of several journal sessions as one table (in closing order, each row keeping its session
    id), and the balance their joined equity curve starts from: the first session's starting balance."""
    from hexdesk.storage.statistics import TradeTable

    tables = [
        TradeTable.build(session_trades(journal, sid), session_notes(journal, sid), session_id=sid)
        for sid in session_ids
    ]
    balance = float(journal.session(session_ids[0]).start_balance) if session_ids else 0.0
    return TradeTable.concat(tables), balance


def statistics_across(
    journal: Any, session_ids: Sequence[int], trade_filter: TradeFilter | None = None
) -> Statistics:
    """Statistics over several journal sessions: their trades joined in closing order, the equity curve chained
    from the first session's starting balance (docs/statistics.md)."""
    from hexdesk.storage.statistics import compute

    table, balance = sessions_table(journal, session_ids)
    return compute(table, trade_filter, balance)


@dataclass
class TradeBook:
    """The desk's cache of trades and statistics columns (one per desk)."""

    _seen_seq: int = -1
    _trades: list[Trade] = field(default_factory=list)
    _table: TradeTable | None = None
    _notes: Mapping[str, Any] | None = None

    def trades(self, desk: Any) -> list[Trade]:
        """This session's trades, recomputed only when an event that changes them has arrived since last time."""
        events: list[Event] = desk.exchange.events
        last = events[-1].seq if events else 0
        if self._seen_seq >= 0 and not _relevant_since(events, self._seen_seq):
            self._seen_seq = last
            return list(self._trades)
        from hexdesk.storage.trades import (
            build_trades,
            fills_from_events,
            funding_from_events,
            orders_from_events,
            settings_from_events,
        )

        price_range = candle_price_range(lambda s: _history(desk, s))
        now = desk.clock_ms
        if desk.journal is not None and desk.session_id is not None:
            trades = session_trades(desk.journal, desk.session_id, events=events, price_range=price_range,
                                    now_ms=now)
        else:
            trades = build_trades(
                fills_from_events(events), orders=orders_from_events(events), funding=funding_from_events(events),
                settings=settings_from_events(events), price_range=price_range, now_ms=now,
            )
        self._trades, self._seen_seq, self._table = trades, last, None
        return list(trades)

    def statistics(self, desk: Any, trade_filter: TradeFilter | None = None) -> Statistics:
        from hexdesk.storage.statistics import TradeTable, compute

        trades = self.trades(desk)
        notes = session_notes(desk.journal, desk.session_id)
        if self._table is None or notes != self._notes:
            self._table = TradeTable.build(trades, notes, session_id=desk.session_id or 0)
            self._notes = dict(notes)
        balance = start_balance(desk.exchange.events, desk.journal, desk.session_id)
        return compute(self._table, trade_filter, float(balance))


def _history(desk: Any, symbol: str) -> CandleSeries | None:
    """The desk's closed candles of ``symbol``, None when it has none (a live or journal-only desk)."""
    try:
        return desk.history(symbol)
    except (KeyError, AttributeError):
        return None


def _relevant_since(events: Sequence[Event], seq: int) -> bool:
    for ev in reversed(events):
        if ev.seq <= seq:
            return False
        if isinstance(ev, _CHANGES_TRADES):
            return True
    return False


__all__ = [
    "TradeBook",
    "candle_price_range",
    "session_notes",
    "session_trades",
    "sessions_table",
    "start_balance",
    "statistics_across",
]
