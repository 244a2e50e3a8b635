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

from collections.abc import Callable, Iterator, Mapping, MutableSequence, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hexdesk.engine import margin
from hexdesk.engine.enums import MarginMode, OrderStatus, OrderType, Side, TimeInForce, WorkingType
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

__all__ = [
    "EventLog",
    "EventLogGap",
    "MarketState",
    "SymbolMarket",
    "capture_account",
    "capture_market",
    "restore_exchange",
]

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
    *,
    checkpoint: Mapping[str, Any] | None = None,
    log: MutableSequence[Event] | None = None,
) -> Exchange:
    """A live Exchange in the state ``events`` (a whole log, from its AccountOpened) and ``market`` define.

    With a ``checkpoint`` (``capture_account`` of the same account at seq S), ``events`` are only those after S:
    the state starts from the checkpoint and folds them on top (what makes resuming a long session cheap). ``log``
    is the event log the Exchange keeps (default: ``events``; an :class:`EventLog` reads old events lazily).

    Without ``market`` the symbols have no price yet (the first tick after the restore starts their path), and
    ``funding_rates`` (if given) sets the rates. Raises :class:`EventLogGap` for a log that skips a seq.
    """
    events = list(events)
    first_seq = 1 if checkpoint is None else int(checkpoint["seq"]) + 1
    if checkpoint is None and (not events or not isinstance(events[0], AccountOpened)):
        raise EventLogGap("the event log must start with AccountOpened at seq 1")
    for expected, ev in enumerate(events, start=first_seq):
        if ev.seq != expected:
            raise EventLogGap(f"the event log skips from seq {expected - 1} to seq {ev.seq}")
    instruments = default_instruments() if instruments is None else instruments
    if checkpoint is None:
        opened = events[0]
        assert isinstance(opened, AccountOpened)
        ex = Exchange(
            wallet_balance=opened.wallet_balance,
            instruments=instruments,
            fill_model=fill_model,
            default_leverage=opened.default_leverage,
            default_margin_mode=opened.default_margin_mode,
            start_ms=opened.ts_ms,
        )
        fold = _Fold()
    else:
        ex = Exchange(instruments=instruments, fill_model=fill_model)
        fold = _Fold.from_checkpoint(ex, checkpoint)
    fold.apply(ex, events)
    fold.finish(ex)
    if log is None:
        log = events
    ex._events = log  # type: ignore[assignment]
    ex._seq = first_seq - 1 + len(events)  # (never reads the log: an EventLog would load its stored part)
    if len(log) != ex._seq:
        raise EventLogGap(f"the log holds {len(log)} events, the account is at seq {ex._seq}")
    ex._pending = []
    if market is not None:
        _apply_market(ex, market)
    elif funding_rates:
        for s, rate in funding_rates.items():
            ex.set_funding_rate(s, rate)
    _refresh_caches(ex)
    return ex


def capture_account(exchange: Exchange) -> dict[str, Any]:
    """The account part of ``exchange``'s state at its last event, JSON-safe: a checkpoint ``restore_exchange``
    can start from instead of folding the whole log (its ``seq`` says which event it follows)."""
    ex = exchange

    def dec(v: Decimal | None) -> str | None:
        return None if v is None else str(v)

    return {
        "seq": ex._seq,
        "cross_wallet": str(ex._cross_wallet),
        "insurance_cover": str(ex._insurance_cover),
        "next_order_id": ex._next_order_id,
        "next_trade_id": ex._next_trade_id,
        "attached": [[oid, dec(tp), dec(sl), wt.value] for oid, (tp, sl, wt) in ex._attached.items()],
        "open": list(ex._open_positions),
        "symbols": {
            s: [str(st.qty), str(st.entry), str(st.iso_wallet), st.leverage, st.margin_mode.value]
            for s, st in ex._state.items()
        },
        "orders": [_order_json(o) for st in ex._state.values() for o in st.book.orders.values()],
    }


_ORDER_DECIMALS = ("quantity", "price", "stop_price", "executed_qty", "avg_price")


def _order_json(o: Order) -> list[Any]:
    return [
        o.order_id, o.client_order_id, o.symbol, o.side.value, o.type.value, str(o.quantity), str(o.price),
        str(o.stop_price), o.time_in_force.value, o.reduce_only, o.close_position, o.working_type.value,
        o.price_protect, o.status.value, str(o.executed_qty), str(o.avg_price), o.created_ms, o.updated_ms,
        o.triggered, o.parent_order_id,
    ]


def _order_from_json(v: Sequence[Any]) -> Order:
    return Order(
        int(v[0]), v[1], v[2], Side(v[3]), OrderType(v[4]), Decimal(v[5]), Decimal(v[6]), Decimal(v[7]),
        TimeInForce(v[8]), bool(v[9]), bool(v[10]), WorkingType(v[11]), bool(v[12]), OrderStatus(v[13]),
        Decimal(v[14]), Decimal(v[15]), int(v[16]), int(v[17]), bool(v[18]), v[19],
    )


class _Fold:
    """The account as the log defines it, folded event by event (``rebuild``'s rules plus the ids and the TP/SL
    still attached); positions go straight into the Exchange's symbol states."""

    def __init__(self) -> None:
        self.wallet = ZERO
        self.cover = ZERO
        self.orders: dict[int, Order] = {}
        self.attached: dict[int, tuple[Decimal | None, Decimal | None, WorkingType]] = {}
        self.max_order = 0
        self.max_trade = 0
        self.opened: dict[str, None] = {}  # symbols with a position, in the order they opened (the engine's order)

    @classmethod
    def from_checkpoint(cls, ex: Exchange, ck: Mapping[str, Any]) -> _Fold:
        fold = cls()
        for s, (qty, entry, iso, leverage, mode) in ck["symbols"].items():
            st = ex._state[s]
            st.qty, st.entry, st.iso_wallet = Decimal(qty), Decimal(entry), Decimal(iso)
            st.leverage, st.margin_mode = int(leverage), MarginMode(mode)
        isolated = sum((st.iso_wallet for st in ex._state.values()), ZERO)
        fold.wallet = Decimal(ck["cross_wallet"]) + isolated
        fold.cover = Decimal(ck["insurance_cover"])
        fold.orders = {o.order_id: o for o in map(_order_from_json, ck["orders"])}
        fold.attached = {
            int(oid): (None if tp is None else Decimal(tp), None if sl is None else Decimal(sl), WorkingType(wt))
            for oid, tp, sl, wt in ck["attached"]
        }
        fold.max_order = int(ck["next_order_id"]) - 1
        fold.max_trade = int(ck["next_trade_id"]) - 1
        fold.opened = dict.fromkeys(ck["open"])
        return fold

    def apply(self, ex: Exchange, events: Sequence[Event]) -> None:
        state = ex._state
        orders, attached, opened = self.orders, self.attached, self.opened
        wallet, cover = self.wallet, self.cover
        max_order, max_trade = self.max_order, self.max_trade
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
        self.wallet, self.cover, self.max_order, self.max_trade = wallet, cover, max_order, max_trade

    def finish(self, ex: Exchange) -> None:
        state = ex._state
        for order in sorted(self.orders.values(), key=lambda o: o.order_id):
            state[order.symbol].book.add(order)
        ex._cross_wallet = self.wallet - sum((st.iso_wallet for st in state.values()), ZERO)
        ex._insurance_cover = self.cover
        ex._attached = self.attached
        ex._next_order_id = self.max_order + 1
        ex._next_trade_id = self.max_trade + 1
        ex._open_positions = {s: state[s] for s in self.opened}


class EventLog(MutableSequence[Event]):
    """A restored Exchange's event log: the ``stored`` events already in the journal are read (``loader``) only
    when someone looks at them; the events emitted since are kept as usual. Rolling back (``del log[n:]``) never
    reaches below the restore point: nothing stored is ever undone."""

    def __init__(self, stored: int, loader: Callable[[], Sequence[Event]]) -> None:
        self._stored = stored
        self._loader = loader
        self._head: list[Event] | None = None if stored else []
        self._tail: list[Event] = []

    def _load(self) -> list[Event]:
        if self._head is None:
            head = list(self._loader())
            if len(head) != self._stored:
                raise EventLogGap(f"expected {self._stored} stored events, read {len(head)}")
            self._head = head
        return self._head

    def __len__(self) -> int:
        return self._stored + len(self._tail)

    def __getitem__(self, index: Any) -> Any:
        n = self._stored
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step == 1 and start >= n:
                return self._tail[start - n : max(stop - n, 0)]
            return (self._load() + self._tail)[index]
        i = index + len(self) if index < 0 else index
        if not 0 <= i < len(self):
            raise IndexError("event log index out of range")
        return self._tail[i - n] if i >= n else self._load()[i]

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError("the event log is append-only")

    def __delitem__(self, index: Any) -> None:
        n = self._stored
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step == 1 and start >= n:
                del self._tail[start - n : max(stop - n, 0)]
                return
        raise TypeError("only events emitted since the restore can be rolled back")

    def insert(self, index: int, value: Event) -> None:
        if index != len(self):
            raise TypeError("the event log is append-only")
        self._tail.append(value)

    def append(self, value: Event) -> None:
        self._tail.append(value)

    def __iter__(self) -> Iterator[Event]:
        yield from self._load()
        yield from self._tail

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


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

