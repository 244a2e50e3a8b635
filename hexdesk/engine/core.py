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

from hexdesk.engine import margin
from hexdesk.engine.account import SymbolState
from hexdesk.engine.enums import WorkingType
from hexdesk.engine.errors import BinanceError, ErrorCode, Rejection
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
        """Call ``handler`` with every new event (after the call that caused it completes); returns unsubscribe."""
        self._handlers.append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    def _emit(self, cls: type[Event], *fields: object) -> None:
        self._emit_at(self._now, cls, *fields)

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

    def _position_changed(self, st: SymbolState) -> None:
        """Refresh the caches that depend on the position (liquidation price, gates, cross totals) and emit it."""
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
        st.refresh_gates()
        self._resync_cross()
        self._emit(PositionChanged, self._snapshot(st))

    def _resync_cross(self) -> None:
        """Recompute the cross running totals from scratch (after any position change; ticks apply deltas)."""
        upnl = mm = ZERO
        for s in self._cross_open.values():
            s.upnl = s.qty * (s.mark - s.entry)
            s.mm = s.maintenance_at(s.mark)
            upnl += s.upnl
            mm += s.mm
        self._cross_upnl, self._cross_mm = upnl, mm

    def _snapshot(self, st: SymbolState) -> Position:
        return position_snapshot(st, self._cross_open.values(), self._cross_wallet)

    def _symbol(self, symbol: str) -> SymbolState:
        st = self._state.get(symbol)
        if st is None:
            raise BinanceError(Rejection.of(ErrorCode.BAD_SYMBOL))
        return st
