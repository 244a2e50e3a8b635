"""The state every part of the Exchange shares, the event log, and the position bookkeeping.

:class:`ExchangeCore` is the base of :class:`hexdesk.engine.exchange.Exchange` and of the mixins it is built from
(``order_handling``, ``walk``, ``ledger``, ``liquidation``). It declares the account's mutable state (set up by
``Exchange.__init__``), emits and flushes events, and keeps the caches that depend on a position (liquidation
price, gates, cross running totals) in step with it. The mixins call each other's methods through ``self``; each
method lives in the module named for what it handles (see the docstring of ``hexdesk.engine.exchange``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from hexdesk.engine import guards, margin
from hexdesk.engine.account import SymbolState
from hexdesk.engine.enums import WorkingType
from hexdesk.engine.errors import ErrorCode
from hexdesk.engine.events import Event, PositionChanged
from hexdesk.engine.fill_model import FillModel
from hexdesk.engine.instruments import Instrument
from hexdesk.engine.path import PricePath
from hexdesk.engine.positions import Position
from hexdesk.engine.snapshots import position_snapshot

ZERO = Decimal(0)
NO_EVENTS: tuple[Event, ...] = ()

EventHandler = Callable[[Event], None]


class ExchangeCore:
    """Shared state and plumbing of the Exchange (never instantiated on its own)."""

    _instruments: dict[str, Instrument]
    _fill_model: FillModel
    _state: dict[str, SymbolState]  # every symbol's market, settings, position and book
    _now: int  # the engine clock: the latest tick time seen
    _next_funding_ms: int  # the earliest next settlement instant over the symbols that have a price
    rejected_ticks: int  # market-data ticks refused at the door (bad price, volume, time or symbol)
    _seq: int
    _events: list[Event]  # the full log
    _pending: list[Event]  # emitted during the current call, not yet handed out
    _handlers: list[EventHandler]
    _cross_wallet: Decimal
    _insurance_cover: Decimal
    _cross_upnl: Decimal  # running totals over the cross positions (ticks apply deltas)
    _cross_mm: Decimal
    _cross_open: dict[str, SymbolState]  # symbols with an open cross position
    _open_positions: dict[str, SymbolState]  # symbols with any open position
    _next_order_id: int
    _next_trade_id: int
    _attached: dict[int, tuple[Decimal | None, Decimal | None, WorkingType]]  # entry id -> (TP, SL, working type)
    _walk: PricePath | None  # the price path being walked, if a tick is in its slow path

    # ------------------------------------------------------------------------------------ events

    @property
    def events(self) -> list[Event]:
        """Every event so far, in seq order (the live list: read it, do not change it)."""
        return self._events

    def subscribe(self, handler: EventHandler) -> Callable[[], None]:
        """Call ``handler`` with every new event (after the call that caused it completes); returns unsubscribe.
        A handler that cannot be called is refused (-1130) rather than failing every later call."""
        if not callable(handler):
            guards.fail(ErrorCode.INVALID_PARAMETER, "handler")
        self._handlers.append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    def _emit(self, cls: type[Event], *fields: object) -> None:
        self._seq += 1
        event = cls(self._seq, self._now, *fields)  # type: ignore[call-arg]
        self._events.append(event)
        self._pending.append(event)

    def _emit_at(self, ts_ms: int, cls: type[Event], *fields: object) -> None:
        self._seq += 1
        event = cls(self._seq, ts_ms, *fields)  # type: ignore[call-arg]
        self._events.append(event)
        self._pending.append(event)

    def _flush(self) -> tuple[Event, ...]:
        """End of a call: hand the new events to the subscribers and to the caller."""
        if not self._pending:
            return NO_EVENTS
        events = tuple(self._pending)
        self._pending.clear()
        for handler in list(self._handlers):
            for event in events:
                handler(event)
        return events

    # --------------------------------------------------------------------------------- positions

    def _position_changed(self, st: SymbolState, refresh_gates: bool = True) -> None:
        """Refresh the caches that depend on the position (liquidation price, gates, cross totals) and emit it.
        ``refresh_gates=False``: the caller refreshes this symbol's gates itself before the call returns (only a
        tick reads them)."""
        if not st.qty:
            st.entry = ZERO
            st.liq_price = None
            if st.is_isolated and st.iso_wallet:
                self._cross_wallet += st.iso_wallet  # rounding crumbs of a fully closed position go home
                st.iso_wallet = ZERO
            self._open_positions.pop(st.symbol, None)
        else:
            self._open_positions[st.symbol] = st
            if st.is_isolated:
                st.liq_price = margin.liquidation_price(st.instrument, st.qty, st.entry, st.iso_wallet)
            else:
                st.liq_price = None
        cross_open = bool(st.qty) and not st.is_isolated
        st.cross_open = cross_open
        if cross_open:
            self._cross_open[st.symbol] = st
        else:
            self._cross_open.pop(st.symbol, None)
        if refresh_gates:
            st.refresh_gates()
        self._resync_cross()
        self._emit(PositionChanged, self._snapshot(st))

    def _resync_cross(self) -> None:
        """Recompute the cross running totals from scratch (after any position change; ticks apply deltas), and
        every cross position's liquidation price with them, folded into its mark gates.

        A cross LP also moves when another symbol's mark moves, which a quiet tick does not recompute: the gate is
        then stale, but the tick's exact check of the running totals (``Exchange.on_tick``) still sends a tick
        that reaches the account's liquidation point to the slow path, where the walk recomputes the LP.
        """
        upnl = mm = ZERO
        cross = self._cross_open.values()
        for s in cross:
            s.upnl = s.qty * (s.mark - s.entry)
            s.mm = s.maintenance_at(s.mark)
            upnl += s.upnl
            mm += s.mm
        self._cross_upnl, self._cross_mm = upnl, mm
        for s in cross:
            s.liq_price = self._cross_liquidation_price(s)
            s.refresh_gates()

    def _cross_liquidation_price(self, st: SymbolState) -> Decimal | None:
        """The mark of ``st`` at which the cross account reaches margin ratio 100%, the other cross positions held
        at their current marks (§1.2 with TMM1 / UPNL1 of the others and WB = the cross wallet)."""
        return margin.liquidation_price(
            st.instrument, st.qty, st.entry, self._cross_wallet, self._cross_mm - st.mm, self._cross_upnl - st.upnl
        )

    def _snapshot(self, st: SymbolState) -> Position:
        return position_snapshot(st, self._cross_open.values(), self._cross_wallet)

    def _symbol(self, symbol: str) -> SymbolState:
        """The state of a known symbol, else BinanceError -1121 (whatever ``symbol`` is)."""
        return guards.symbol_state(self._state, symbol)

    # -------------------------------------------------------------------------------- savepoints

    def _savepoint(self, st: SymbolState) -> tuple[object, ...]:
        """Everything a request on ``st`` may change, so that a failure half-way can be undone (:meth:`_rollback`).

        Inputs are checked before anything is emitted (hexdesk.engine.guards); this covers what checking cannot,
        such as a fill model that fails. A request executes on its own symbol; beyond it, only the cross
        positions can change (cross totals, a cross liquidation), so those are saved with it: one copy of their
        slots and book containers.
        """
        cross = self._cross_open
        if cross:
            states = [(s, s.save()) for s in (st, *(s for s in cross.values() if s is not st))]
        else:
            states = [(st, st.save())]
        return (
            states,
            self._cross_wallet,
            self._insurance_cover,
            self._cross_upnl,
            self._cross_mm,
            dict(self._cross_open),
            dict(self._open_positions),
            self._next_order_id,
            self._next_trade_id,
            dict(self._attached),
            self._seq,
            len(self._events),
            len(self._pending),
            self._next_funding_ms,
        )

    def _rollback(self, saved: tuple[object, ...]) -> None:
        """Back to the savepoint: state, ids and the event log as they were (nothing was handed out yet)."""
        (
            states,
            self._cross_wallet,
            self._insurance_cover,
            self._cross_upnl,
            self._cross_mm,
            self._cross_open,
            self._open_positions,
            self._next_order_id,
            self._next_trade_id,
            self._attached,
            self._seq,
            n_events,
            n_pending,
            self._next_funding_ms,
        ) = saved  # type: ignore[misc]
        for st, values in states:  # type: ignore[attr-defined]
            st.restore(values)
        del self._events[n_events:]  # type: ignore[misc]
        del self._pending[n_pending:]  # type: ignore[misc]
        self._walk = None
