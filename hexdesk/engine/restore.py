"""Build a live :class:`Exchange` from a stored event log: a session resumes exactly where it stood.

The event log defines the account (``rebuild``): wallet, positions, open orders, leverage, margin mode, the
attached TP/SL of entries still waiting (``OrderAccepted.take_profit`` / ``stop_loss``), the next order and trade
ids. What the log cannot hold is the market the engine last saw: a quiet tick emits nothing, yet it moves the
last and mark prices, the liquidity estimate and the engine clock, and the next tick's price path starts there.
:class:`MarketState` is that part; the app stores it with every committed batch (``capture_market``), in the same
transaction as the batch's events. ``restore_exchange(events, market)`` then yields an Exchange whose every later
behaviour equals the never-stopped one: same ticks in, same events out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hexdesk.engine import margin
from hexdesk.engine.enums import MarginMode
from hexdesk.engine.events import (
    AccountOpened,
    Event,
    FundingSettled,
    InsuranceFundCovered,
    LeverageChanged,
    MarginModeChanged,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderTriggered,
    PositionChanged,
)
from hexdesk.engine.exchange import Exchange
from hexdesk.engine.fill_model import FillModel
from hexdesk.engine.instruments import Instrument, default_instruments
from hexdesk.engine.orders import Order

__all__ = ["EventLogGap", "MarketState", "SymbolMarket", "capture_market", "restore_exchange"]

ZERO = Decimal(0)


class EventLogGap(ValueError):
    """The log does not start with AccountOpened at seq 1 or skips a seq: it cannot define an account."""


@dataclass(frozen=True, slots=True)
class SymbolMarket:
    """What the engine last saw of one symbol (None prices: no tick yet)."""

    last: Decimal | None
    mark: Decimal | None
    bar_volume: Decimal | None  # the liquidity estimate of the latest tick
    tick_ms: int
    funding_rate: Decimal
    next_funding_ms: int


@dataclass(frozen=True, slots=True)
class MarketState:
    """The engine's market view at a commit: clock, per-symbol prices, liquidity estimate and funding schedule."""

    now_ms: int
    symbols: Mapping[str, SymbolMarket]
    rejected_ticks: int = 0

    def to_json(self) -> dict[str, Any]:
        """JSON-safe (Decimals as exact text)."""

        def dec(v: Decimal | None) -> str | None:
            return None if v is None else str(v)

        return {
            "now_ms": self.now_ms,
            "rejected_ticks": self.rejected_ticks,
            "symbols": {
                s: {
                    "last": dec(m.last),
                    "mark": dec(m.mark),
                    "bar_volume": dec(m.bar_volume),
                    "tick_ms": m.tick_ms,
                    "funding_rate": str(m.funding_rate),
                    "next_funding_ms": m.next_funding_ms,
                }
                for s, m in self.symbols.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MarketState:
        def dec(v: str | None) -> Decimal | None:
            return None if v is None else Decimal(v)

        return cls(
            now_ms=int(data["now_ms"]),
            rejected_ticks=int(data.get("rejected_ticks", 0)),
            symbols={
                s: SymbolMarket(
                    dec(m["last"]), dec(m["mark"]), dec(m["bar_volume"]), int(m["tick_ms"]),
                    Decimal(m["funding_rate"]), int(m["next_funding_ms"]),
                )
                for s, m in data["symbols"].items()
            },
        )


def capture_market(exchange: Exchange) -> MarketState:
    """The market part of ``exchange``'s state (cheap: a few attributes per symbol)."""
    return MarketState(
        now_ms=exchange._now,
        rejected_ticks=exchange.rejected_ticks,
        symbols={
            s: SymbolMarket(st.last, st.mark, st.bar_volume, st.tick_ms, st.funding_rate, st.next_funding_ms)
            for s, st in exchange._state.items()
        },
    )


_ORDER_VALUE_EVENTS = (OrderAccepted, OrderTriggered, OrderAmended, OrderFilled)
_ORDER_END_EVENTS = (OrderCanceled, OrderExpired)


def restore_exchange(
    events: Sequence[Event],
    market: MarketState | None = None,
    instruments: Mapping[str, Instrument] | None = None,
    fill_model: FillModel | None = None,
    funding_rates: Mapping[str, Decimal] | None = None,
) -> Exchange:
    """A live Exchange in the state ``events`` (a whole log, from its AccountOpened) and ``market`` define.

    Without ``market`` the symbols have no price yet (the first tick after the restore starts their path), and
    ``funding_rates`` (if given) sets the rates. Raises :class:`EventLogGap` for a log that skips a seq.
    """
    events = list(events)
    if not events or not isinstance(events[0], AccountOpened) or events[0].seq != 1:
        raise EventLogGap("the event log must start with AccountOpened at seq 1")
    for expected, ev in enumerate(events, start=1):
        if ev.seq != expected:
            raise EventLogGap(f"the event log skips from seq {expected - 1} to seq {ev.seq}")
    opened = events[0]
    assert isinstance(opened, AccountOpened)
    instruments = default_instruments() if instruments is None else instruments
    ex = Exchange(
        wallet_balance=opened.wallet_balance,
        instruments=instruments,
        fill_model=fill_model,
        default_leverage=opened.default_leverage,
        default_margin_mode=opened.default_margin_mode,
        start_ms=opened.ts_ms,
    )
    _fold(ex, events)
    if market is not None:
        _apply_market(ex, market)
    elif funding_rates:
        for s, rate in funding_rates.items():
            ex.set_funding_rate(s, rate)
    _refresh_caches(ex)
    return ex


def _fold(ex: Exchange, events: list[Event]) -> None:
    """One pass over the log: the account (as ``rebuild`` folds it) plus the ids and the TP/SL still attached."""
    wallet = cover = ZERO
    orders: dict[int, Order] = {}
    attached: dict[int, tuple[Decimal | None, Decimal | None, Any]] = {}
    max_order = max_trade = 0
    state = ex._state
    opened: dict[str, None] = {}  # symbols with a position, in the order they opened (the engine's dict order)
    for event in events:
        if isinstance(event, _ORDER_VALUE_EVENTS):
            order = event.order
            oid = order.order_id
            if oid > max_order:
                max_order = oid
            if order.is_open:
                orders[oid] = order
            else:
                orders.pop(oid, None)
            if isinstance(event, OrderFilled):
                fill = event.fill
                wallet += fill.realized_pnl - fill.fee
                if fill.trade_id > max_trade:
                    max_trade = fill.trade_id
            elif isinstance(event, OrderAccepted):
                if event.take_profit is not None or event.stop_loss is not None:
                    attached[oid] = (event.take_profit, event.stop_loss, order.working_type)
                if order.parent_order_id is not None:
                    attached.pop(order.parent_order_id, None)  # the entry filled: its TP/SL are placed
        elif isinstance(event, _ORDER_END_EVENTS):
            orders.pop(event.order.order_id, None)
            attached.pop(event.order.order_id, None)
        elif isinstance(event, PositionChanged):
            p = event.position
            st = state[p.symbol]
            st.qty, st.entry = p.quantity, p.entry_price
            st.leverage, st.margin_mode = p.leverage, p.margin_mode
            if p.margin_mode is MarginMode.ISOLATED:  # a cross snapshot says 0; the engine keeps what it had
                st.iso_wallet = p.isolated_wallet
            if p.quantity:
                opened.setdefault(p.symbol, None)
            else:
                opened.pop(p.symbol, None)
        elif isinstance(event, FundingSettled):
            wallet += event.amount
        elif isinstance(event, InsuranceFundCovered):
            wallet += event.amount
            cover += event.amount
        elif isinstance(event, LeverageChanged):
            state[event.symbol].leverage = event.leverage
        elif isinstance(event, MarginModeChanged):
            state[event.symbol].margin_mode = event.margin_mode
        elif isinstance(event, AccountOpened):
            wallet = event.wallet_balance
    for order in sorted(orders.values(), key=lambda o: o.order_id):
        state[order.symbol].book.add(order)
    ex._cross_wallet = wallet - sum((st.iso_wallet for st in state.values()), ZERO)
    ex._insurance_cover = cover
    ex._attached = attached
    ex._next_order_id = max_order + 1
    ex._next_trade_id = max_trade + 1
    ex._events = events
    ex._seq = events[-1].seq
    ex._pending = []
    ex._open_positions = {s: state[s] for s in opened}


def _apply_market(ex: Exchange, market: MarketState) -> None:
    ex._now = market.now_ms
    ex.rejected_ticks = market.rejected_ticks
    for symbol, m in market.symbols.items():
        st = ex._state.get(symbol)
        if st is None:
            continue
        st.last, st.mark, st.bar_volume, st.tick_ms = m.last, m.mark, m.bar_volume, m.tick_ms
        st.funding_rate, st.next_funding_ms = m.funding_rate, m.next_funding_ms


def _refresh_caches(ex: Exchange) -> None:
    """The caches ``ExchangeCore._position_changed`` keeps, computed from the restored positions (no event)."""
    ex._cross_open = {}
    for st in ex._state.values():
        st.cross_open = False
        st.liq_price = None
    for symbol, st in ex._open_positions.items():
        if st.qty:
            if st.is_isolated:
                st.liq_price = margin.liquidation_price(st.instrument, st.qty, st.entry, st.iso_wallet)
            else:
                st.cross_open = True
                ex._cross_open[symbol] = st
    for st in ex._state.values():
        st.refresh_gates()
    if ex._cross_open and any(st.mark is None for st in ex._cross_open.values()):
        raise EventLogGap("a cross position without a mark price: the market state is missing")
    ex._resync_cross()
    ex._next_funding_ms = ex._earliest_funding()

