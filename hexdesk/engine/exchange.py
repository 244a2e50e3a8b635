"""The simulated Binance USDⓈ-M exchange: one account, one-way mode, every state change an event.

``Exchange`` is the only stateful object of the engine. It owns the wallet, the positions and the open orders,
takes market input through :meth:`Exchange.on_tick` and requests through :meth:`Exchange.submit` and friends, and
reports everything that changed as frozen events (``hexdesk.engine.events``). See docs/engine.md for the rules it
follows where the reference leaves a choice, and for the performance design of the tick path.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType

from hexdesk.engine import margin
from hexdesk.engine.account import SymbolState, money
from hexdesk.engine.book import rests_as_limit
from hexdesk.engine.enums import LiquidityRole, MarginMode, OrderStatus, OrderType, Side, TimeInForce, WorkingType
from hexdesk.engine.errors import BinanceError, ErrorCode, Rejection
from hexdesk.engine.events import (
    AccountOpened,
    Event,
    FundingSettled,
    InsuranceFundCovered,
    LeverageChanged,
    MarginModeChanged,
    MarginTransferred,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderTriggered,
    PositionChanged,
    PositionLiquidated,
)
from hexdesk.engine.fill_model import DefaultFillModel, FillModel
from hexdesk.engine.fills import Fill
from hexdesk.engine.funding import clamp_rate, funding_amount, next_funding_ms
from hexdesk.engine.instruments import Instrument, default_instruments
from hexdesk.engine.liquidation import clearance_fee, cross_close_prices
from hexdesk.engine.orders import Order, OrderRequest
from hexdesk.engine.path import LIMIT, TRIGGER, PricePath, t_at
from hexdesk.engine.positions import AccountSnapshot, Position
from hexdesk.engine.rebuild import AccountState, PositionState
from hexdesk.engine.result import Result
from hexdesk.engine.risk import OrderPreview, PreviewContext, preview_order
from hexdesk.engine.snapshots import account_snapshot, position_snapshot
from hexdesk.engine.validation import OrderContext, required_margin, validate, would_take

ZERO = Decimal(0)
ONE = Decimal(1)
_NO_EVENTS: tuple[Event, ...] = ()

EventHandler = Callable[[Event], None]


class Exchange:
    """A simulated Binance USDⓈ-M account (one-way mode). Deterministic: time is the ``ts_ms`` of the ticks."""

    def __init__(
        self,
        wallet_balance: Decimal = Decimal("10000"),
        instruments: Mapping[str, Instrument] | None = None,
        fill_model: FillModel | None = None,
        default_leverage: int = 20,
        default_margin_mode: MarginMode = MarginMode.ISOLATED,
        start_ms: int = 0,
    ) -> None:
        if wallet_balance < 0:
            raise ValueError("the starting wallet balance cannot be negative")
        self._instruments = dict(default_instruments() if instruments is None else instruments)
        self._fill_model: FillModel = fill_model if fill_model is not None else DefaultFillModel()
        self._state = {
            s: SymbolState(inst, min(default_leverage, inst.max_leverage), default_margin_mode)
            for s, inst in self._instruments.items()
        }
        self._now = start_ms
        self._seq = 0
        self._events: list[Event] = []
        self._pending: list[Event] = []
        self._handlers: list[EventHandler] = []
        self._cross_wallet = money(wallet_balance)
        self._insurance_cover = ZERO
        self._cross_upnl = ZERO
        self._cross_mm = ZERO
        self._cross_open: dict[str, SymbolState] = {}
        self._open_positions: dict[str, SymbolState] = {}
        self._next_order_id = 1
        self._next_trade_id = 1
        self._attached: dict[int, tuple[Decimal | None, Decimal | None, WorkingType]] = {}
        self._walk: PricePath | None = None
        self._emit(AccountOpened, self._cross_wallet, "USDT", default_leverage, default_margin_mode)
        self._flush()

    # ================================================================================================ events

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
            return _NO_EVENTS
        events = tuple(self._pending)
        self._pending.clear()
        for handler in list(self._handlers):
            for event in events:
                handler(event)
        return events

    # ================================================================================================ market

    def on_tick(
        self, symbol: str, ts_ms: int, last: Decimal, mark: Decimal | None = None, bar_volume: Decimal | None = None
    ) -> tuple[Event, ...]:
        """A new last (and mark) price. The segment from the previous last price is the price path: resting limits
        it trades through fill, conditionals whose stopPrice lies on it trigger, then liquidation is checked.

        The quiet case (nothing reached) is a handful of comparisons and returns an empty tuple.
        """
        st = self._state[symbol]
        if ts_ms > self._now:
            self._now = ts_ms
        prev = st.last
        if prev is None or ts_ms >= st.next_funding_ms:
            return self._tick_slow(st, ts_ms, last, mark, bar_volume)
        if last < prev:
            lo, hi = last, prev
        else:
            lo, hi = prev, last
        if lo <= st.down_last or hi >= st.up_last:
            return self._tick_slow(st, ts_ms, last, mark, bar_volume)
        if mark is None:
            if lo <= st.down_mark or hi >= st.up_mark:
                return self._tick_slow(st, ts_ms, last, mark, bar_volume)
            mark = last
        else:
            prev_mark = st.mark
            if (mark if mark < prev_mark else prev_mark) <= st.down_mark or (
                mark if mark > prev_mark else prev_mark
            ) >= st.up_mark:
                return self._tick_slow(st, ts_ms, last, mark, bar_volume)
        st.bar_volume = bar_volume
        st.last = last
        st.mark = mark
        if st.cross_open:
            upnl = st.qty * (mark - st.entry)
            mm = st.maintenance_at(mark)
            self._cross_upnl += upnl - st.upnl
            self._cross_mm += mm - st.mm
            st.upnl = upnl
            st.mm = mm
            if self._cross_mm >= self._cross_wallet + self._cross_upnl:
                self._liquidate_cross()
                return self._flush()
        return _NO_EVENTS

    def _tick_slow(
        self, st: SymbolState, ts_ms: int, last: Decimal, mark: Decimal | None, bar_volume: Decimal | None
    ) -> tuple[Event, ...]:
        if mark is None:
            mark = last
        prev_last, prev_mark = st.last, st.mark
        st.bar_volume = bar_volume
        if prev_last is None or prev_mark is None:
            st.last, st.mark = last, mark
            st.next_funding_ms = next_funding_ms(ts_ms, st.instrument.funding_interval_hours)
            return self._flush()
        while ts_ms >= st.next_funding_ms:
            self._settle_funding(st, st.next_funding_ms)
            st.next_funding_ms = next_funding_ms(st.next_funding_ms, st.instrument.funding_interval_hours)
        st.last, st.mark = last, mark
        self._walk_segment(st, prev_last, last, prev_mark, mark, bar_volume)
        if st.cross_open:
            self._resync_cross()
        self._check_cross()
        return self._flush()

    def set_funding_rate(self, symbol: str, rate: Decimal) -> None:
        """The rate the next settlements of ``symbol`` use (clamped to the symbol's cap and floor, §2)."""
        st = self._symbol(symbol)
        inst = st.instrument
        st.funding_rate = clamp_rate(rate, inst.funding_rate_floor, inst.funding_rate_cap)

    def _settle_funding(self, st: SymbolState, at_ms: int) -> None:
        """Funding at a settlement instant for the position open at that instant, at the mark known then.

        Isolated: paid from / credited to the position's isolated wallet (it is part of what backs the position,
        §1.2); cross: the cross wallet.
        """
        if not st.qty or not st.funding_rate or st.mark is None:
            return
        amount = money(funding_amount(st.qty, st.mark, st.funding_rate))
        if not amount:
            return
        self._emit_at(at_ms, FundingSettled, st.symbol, st.funding_rate, st.mark, st.qty, amount)
        if st.is_isolated:
            st.iso_wallet += amount
            if st.iso_wallet < 0:
                short = -st.iso_wallet
                st.iso_wallet = ZERO
                self._cover(st.symbol, short, "funding")
            self._position_changed(st)
            self._check_isolated(st)
        else:
            self._cross_wallet += amount
            self._cover_cross_shortfall(st.symbol, "funding")

    # ------------------------------------------------------------------------------------------ the path walk

    def _walk_segment(
        self, st: SymbolState, l0: Decimal, l1: Decimal, m0: Decimal, m1: Decimal, volume: Decimal | None
    ) -> None:
        """Act on everything the path reaches, in the order it reaches it (then by order id).

        Limits fill and conditionals trigger at their place on the path; an isolated liquidation happens where
        the mark path meets the liquidation price, so a stop placed before the liquidation price wins and one
        placed beyond it does not. Orders placed during the walk (attached TP/SL, triggered stop-limits) join it.
        """
        walk = PricePath(st, l0, l1, m0, m1, volume)
        lo, hi = (l0, l1) if l0 <= l1 else (l1, l0)
        mlo, mhi = (m0, m1) if m0 <= m1 else (m1, m0)
        book = st.book
        candidates = (
            book.limit_candidates(lo, hi)
            + book.trigger_candidates(WorkingType.CONTRACT_PRICE, lo, hi)
            + book.trigger_candidates(WorkingType.MARK_PRICE, mlo, mhi)
        )
        for oid in candidates:
            self._schedule(walk, book.orders[oid], ZERO)
        self._walk = walk
        try:
            while True:
                t_liq = walk.liquidation_t(st) if st.qty and st.is_isolated else None
                nxt = walk.heap[0] if walk.heap else None
                if t_liq is not None and (nxt is None or t_liq <= nxt[0]):
                    walk.t = t_liq
                    self._liquidate_isolated(st, walk.mark_at(t_liq))
                    continue
                if nxt is None:
                    break
                t, oid, kind, t_from, price = heapq.heappop(walk.heap)
                order = book.get(oid)
                if order is None:
                    continue
                walk.t = max(walk.t, t)
                if kind == LIMIT and rests_as_limit(order) and oid not in walk.done:
                    self._fill_resting(st, walk, order, walk.last_at(t_from))
                elif kind == TRIGGER and order.type.is_conditional and not order.triggered:
                    self._on_trigger(st, walk, order, t, price)
        finally:
            self._walk = None

    def _schedule(self, walk: PricePath, order: Order, t_from: Decimal) -> None:
        """Put ``order`` on the walk if the rest of the path (from ``t_from``) reaches it."""
        if rests_as_limit(order):
            if order.order_id in walk.done:
                return
            start, end, limit = walk.last_at(t_from), walk.l1, order.price
            buy = order.side is Side.BUY
            at_start = start <= limit if buy else start >= limit
            if not at_start and not (end <= limit if buy else end >= limit):
                return
            t = t_from if at_start else t_at(walk.l0, walk.l1, limit)
            heapq.heappush(walk.heap, (max(t, t_from), order.order_id, LIMIT, t_from, limit))
            return
        mark_path = order.working_type is WorkingType.MARK_PRICE
        p0, p1 = (walk.m0, walk.m1) if mark_path else (walk.l0, walk.l1)
        start = walk.mark_at(t_from) if mark_path else walk.last_at(t_from)
        price = self._fill_model.trigger_price(order.side, order.type, order.stop_price, start, p1)
        if price is None:
            return
        t = t_from if price == start else max(t_from, t_at(p0, p1, price))
        heapq.heappush(walk.heap, (t, order.order_id, TRIGGER, t_from, price))

    def _fill_resting(self, st: SymbolState, walk: PricePath, order: Order, seg_from: Decimal) -> None:
        """A resting limit reached by the path: the fill model says how much fills (maker, at the limit price)."""
        walk.done.add(order.order_id)
        qty = self._fill_model.limit_fill_qty(
            st.instrument, order.side, order.price, order.remaining_qty, seg_from, walk.l1, walk.volume
        )
        if qty <= 0:
            return
        allowed = self._executable(st, order, qty)
        if allowed <= 0:
            self._expire(st, order, "reduce_only")
            return
        order = self._execute(st, order, [(order.price, allowed)], LiquidityRole.MAKER)
        if order.is_open and order.reduce_only and self._reducible(st, order.side) <= 0:
            self._expire(st, order, "reduce_only")

    def _on_trigger(self, st: SymbolState, walk: PricePath, order: Order, t: Decimal, price: Decimal) -> None:
        """A conditional's stopPrice was reached at ``t``: it becomes a MARKET or LIMIT order at once."""
        inst = st.instrument
        mark_t = walk.mark_at(t)
        last_t = price if order.working_type is WorkingType.CONTRACT_PRICE else walk.last_at(t)
        if order.price_protect and abs(mark_t - last_t) > mark_t * inst.trigger_protect:
            return  # priceProtect: mark and last too far apart, the trigger is ignored (§3.1)
        self._trigger(st, order, last_t, mark_t, t)

    def _trigger(self, st: SymbolState, order: Order, ref: Decimal, mark: Decimal, t: Decimal | None) -> None:
        quantity = order.quantity
        if order.close_position:
            quantity = self._reducible(st, order.side)
            if quantity <= 0:
                self._expire(st, order, "no_position")
                return
        elif order.reduce_only and self._reducible(st, order.side) <= 0:
            self._expire(st, order, "reduce_only")
            return
        if not self._affordable_at_trigger(st, order, quantity, ref, mark):
            self._expire(st, order, "margin_insufficient")
            return
        st.book.remove(order.order_id)
        order = order.evolve(triggered=True, quantity=quantity, updated_ms=self._now)
        self._emit(OrderTriggered, order)
        if order.type.has_limit_price:
            self._take_then_rest(st, order, ref, t)
            return
        qty = self._executable(st, order, order.remaining_qty)
        fills = self._fill_model.market_fills(st.instrument, order.side, qty, ref, st.bar_volume)
        order = self._execute(st, order, fills, LiquidityRole.TAKER)
        if order.is_open:
            self._expire(st, order, "reduce_only")
        st.refresh_gates()

    def _affordable_at_trigger(self, st: SymbolState, order: Order, qty: Decimal, ref: Decimal, mark: Decimal) -> bool:
        """Binance checks a conditional order's margin when it triggers; so does HexDesk (validation's rule)."""
        if order.reduce_only or order.close_position:
            return True
        request = OrderRequest(
            st.symbol,
            order.side,
            OrderType.LIMIT if order.type.has_limit_price else OrderType.MARKET,
            quantity=qty,
            price=order.price if order.type.has_limit_price else None,
            time_in_force=TimeInForce.GTC if order.type.has_limit_price else None,
        )
        ctx = self._order_context(st, exclude=order.order_id, last=ref, mark=mark)
        return required_margin(request, ctx) <= ctx.available_balance

    # ================================================================================================ orders

    def submit(self, request: OrderRequest) -> Result:
        """Validate, accept and execute a new order (reference §3). A rejected order changes nothing else."""
        st = self._state.get(request.symbol)
        if st is None:
            return self._reject(request, Rejection.of(ErrorCode.BAD_SYMBOL))
        if st.last is None or st.mark is None:
            return self._reject(
                request, Rejection(ErrorCode.INVALID_PARAMETER, f"No market price for {request.symbol} yet.")
            )
        rejection = validate(request, self._order_context(st)) or self._matching_rejection(st, request)
        if rejection is not None:
            return self._reject(request, rejection)
        order = self._new_order(st, request)
        self._emit(OrderAccepted, order)
        if request.take_profit is not None or request.stop_loss is not None:
            self._attached[order.order_id] = (request.take_profit, request.stop_loss, request.working_type)
        order = self._start(st, order)
        self._check_isolated(st)
        self._check_cross()
        final = st.book.get(order.order_id) or order
        return Result(True, final, None, self._flush())

    def _reject(self, request: OrderRequest, rejection: Rejection) -> Result:
        self._emit(OrderRejected, request, rejection.code, rejection.msg)
        return Result(False, None, rejection, self._flush())

    def _matching_rejection(self, st: SymbolState, request: OrderRequest) -> Rejection | None:
        """What only the matching engine can decide: post-only that would take (-5022), FOK not fillable (-5021)."""
        if request.type is not OrderType.LIMIT or request.price is None or request.quantity is None:
            return None
        if request.time_in_force is TimeInForce.GTX and would_take(request.side, request.price, st.last):
            return Rejection.of(ErrorCode.GTX_ORDER_REJECT)
        if request.time_in_force is TimeInForce.FOK:
            qty = request.quantity
            if request.reduce_only:
                qty = min(qty, self._reducible(st, request.side))
            levels = self._takeable(st, request.side, request.price, qty, st.last) if qty > 0 else []
            if sum((q for _, q in levels), ZERO) < request.quantity:
                return Rejection.of(ErrorCode.FOK_ORDER_REJECT)
        return None

    def _new_order(self, st: SymbolState, request: OrderRequest) -> Order:
        oid = self._next_order_id
        self._next_order_id += 1
        return Order.from_request(request, oid, f"hexdesk-{oid}", self._now)

    def _start(self, st: SymbolState, order: Order) -> Order:
        """Immediate execution by type: MARKET takes, a marketable LIMIT takes up to its price, the rest rests."""
        if order.type is OrderType.MARKET:
            qty = self._executable(st, order, order.quantity)
            if qty <= 0:
                return self._expire(st, order, "reduce_only")
            fills = self._fill_model.market_fills(st.instrument, order.side, qty, st.last, st.bar_volume)
            order = self._execute(st, order, fills, LiquidityRole.TAKER)
            if order.is_open:
                order = self._expire(st, order, "reduce_only")
            return order
        if order.type is OrderType.LIMIT:
            return self._take_then_rest(st, order, st.last, None)
        st.book.add(order)
        st.refresh_gates()
        return order

    def _take_then_rest(self, st: SymbolState, order: Order, ref: Decimal, t: Decimal | None) -> Order:
        """A limit order meets the market at ``ref``: the part the book gives within its price fills as taker; the
        rest rests (GTC/GTX) or expires (IOC, and reduce-only with nothing left to reduce)."""
        qty = self._executable(st, order, order.remaining_qty)
        if qty > 0 and would_take(order.side, order.price, ref):
            levels = self._takeable(st, order.side, order.price, qty, ref)
            if levels:
                order = self._execute(st, order, levels, LiquidityRole.TAKER)
        if not order.is_open:
            return order
        if order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            return self._expire(st, order, "ioc")
        if order.reduce_only and self._reducible(st, order.side) <= 0:
            return self._expire(st, order, "reduce_only")
        st.book.add(order)
        st.refresh_gates()
        if self._walk is not None and self._walk.st is st and t is not None:
            self._schedule(self._walk, order, t)
        return order

    def _takeable(
        self, st: SymbolState, side: Side, limit: Decimal, qty: Decimal, ref: Decimal
    ) -> list[tuple[Decimal, Decimal]]:
        """The fill model's taker levels for ``qty`` at ``ref`` that lie within ``limit``."""
        out: list[tuple[Decimal, Decimal]] = []
        for price, level_qty in self._fill_model.market_fills(st.instrument, side, qty, ref, st.bar_volume):
            if (price > limit) if side is Side.BUY else (price < limit):
                break
            out.append((price, level_qty))
        return out

    def _reducible(self, st: SymbolState, side: Side) -> Decimal:
        """How much an order on ``side`` can reduce the position (0 if it would increase it)."""
        return abs(st.qty) if st.qty * side.sign < 0 else ZERO

    def _executable(self, st: SymbolState, order: Order, qty: Decimal) -> Decimal:
        """Reduce-only orders never increase the position: their quantity is capped to it when executing."""
        if order.reduce_only or order.close_position:
            return min(qty, self._reducible(st, order.side))
        return qty

    def cancel(self, symbol: str, order_id: int) -> Result:
        st = self._state.get(symbol)
        order = st.book.get(order_id) if st is not None else None
        if st is None or order is None:
            return Result(False, None, Rejection.of(ErrorCode.UNKNOWN_ORDER))
        order = self._cancel_order(st, order, "user")
        st.refresh_gates()
        return Result(True, order, None, self._flush())

    def cancel_all(self, symbol: str) -> Result:
        st = self._state.get(symbol)
        if st is None:
            return Result(False, None, Rejection.of(ErrorCode.BAD_SYMBOL))
        for order in list(st.book):
            self._cancel_order(st, order, "user")
        st.refresh_gates()
        return Result(True, None, None, self._flush())

    def amend(
        self, symbol: str, order_id: int, quantity: Decimal | None = None, price: Decimal | None = None
    ) -> Result:
        """Change a resting LIMIT order's price and/or total quantity (Binance's modify order), keeping its id.

        Re-validated as a new order for the remaining quantity; a price that became marketable takes at once.
        """
        st = self._state.get(symbol)
        order = st.book.get(order_id) if st is not None else None
        if st is None or order is None:
            return Result(False, None, Rejection.of(ErrorCode.UNKNOWN_ORDER))
        if order.type is not OrderType.LIMIT:
            return Result(False, order, Rejection.of(ErrorCode.INVALID_ORDER_TYPE))
        new_qty = order.quantity if quantity is None else quantity
        new_price = order.price if price is None else price
        if new_qty <= order.executed_qty:
            return Result(False, order, Rejection.of(ErrorCode.INVALID_PARAMETER, "quantity"))
        request = OrderRequest(
            symbol, order.side, OrderType.LIMIT, quantity=new_qty - order.executed_qty, price=new_price,
            time_in_force=order.time_in_force, reduce_only=order.reduce_only, client_order_id=order.client_order_id,
        )
        rejection = validate(request, self._order_context(st, exclude=order_id))
        if rejection is None and order.time_in_force is TimeInForce.GTX and would_take(order.side, new_price, st.last):
            rejection = Rejection.of(ErrorCode.GTX_ORDER_REJECT)
        if rejection is not None:
            return Result(False, order, rejection)
        order = order.evolve(quantity=new_qty, price=new_price, updated_ms=self._now)
        st.book.remove(order_id)
        self._emit(OrderAmended, order)
        order = self._take_then_rest(st, order, st.last, None)
        self._check_isolated(st)
        self._check_cross()
        return Result(True, st.book.get(order_id) or order, None, self._flush())

    def preview(self, request: OrderRequest) -> OrderPreview:
        """What ``request`` would cost and risk now (hexdesk.engine.risk.preview_order on this account)."""
        st = self._symbol(request.symbol)
        if st.last is None or st.mark is None:
            raise ValueError(f"no market price for {request.symbol} yet")
        others = [s for s in self._cross_open.values() if s is not st]
        account = self.account()
        ctx = PreviewContext(
            instrument=st.instrument,
            last_price=st.last,
            mark_price=st.mark,
            position_qty=st.qty,
            entry_price=st.entry,
            isolated_wallet=st.iso_wallet,
            leverage=st.leverage,
            margin_mode=st.margin_mode,
            cross_wallet_balance=self._cross_wallet,
            other_maintenance=sum((s.mm for s in others), ZERO) if not st.is_isolated else ZERO,
            other_upnl=sum((s.upnl for s in others), ZERO) if not st.is_isolated else ZERO,
            available_balance=account.available_balance,
            equity=account.margin_balance,
        )
        return preview_order(request, ctx)

    # ----------------------------------------------------------------------------------------- order helpers

    def _order_context(
        self, st: SymbolState, exclude: int | None = None, last: Decimal | None = None, mark: Decimal | None = None
    ) -> OrderContext:
        assert st.last is not None and st.mark is not None
        return OrderContext(
            instrument=st.instrument,
            last_price=st.last if last is None else last,
            mark_price=st.mark if mark is None else mark,
            position_qty=st.qty,
            leverage=st.leverage,
            margin_mode=st.margin_mode,
            available_balance=self._available(exclude),
            open_orders=tuple(o for o in st.book if o.order_id != exclude),
        )

    def _expire(self, st: SymbolState, order: Order, reason: str) -> Order:
        st.book.remove(order.order_id)
        self._attached.pop(order.order_id, None)
        order = order.evolve(status=OrderStatus.EXPIRED, updated_ms=self._now)
        self._emit(OrderExpired, order, reason)
        st.refresh_gates()
        return order

    def _cancel_order(self, st: SymbolState, order: Order, reason: str) -> Order:
        st.book.remove(order.order_id)
        self._attached.pop(order.order_id, None)
        order = order.evolve(status=OrderStatus.CANCELED, updated_ms=self._now)
        self._emit(OrderCanceled, order, reason)
        return order

    def _execute(
        self, st: SymbolState, order: Order, fills: Iterable[tuple[Decimal, Decimal]], role: LiquidityRole
    ) -> Order:
        """Apply executions of ``order``: fee, position, wallet; one OrderFilled per execution, then the position."""
        inst = st.instrument
        rate = inst.maker_fee if role is LiquidityRole.MAKER else inst.taker_fee
        sign = order.side.sign
        filled_any = False
        for price, qty in fills:
            if qty <= 0:
                continue
            filled_any = True
            fee = money(price * qty * rate)
            realized = self._apply_fill(st, sign, qty, price, fee)
            executed = order.executed_qty + qty
            avg = (order.avg_price * order.executed_qty + price * qty) / executed
            status = OrderStatus.FILLED if executed >= order.quantity else OrderStatus.PARTIALLY_FILLED
            order = order.evolve(executed_qty=executed, avg_price=avg, status=status, updated_ms=self._now)
            fill = Fill(
                self._next_trade_id, order.order_id, st.symbol, order.side, price, qty, fee,
                inst.quote_asset, role, realized, self._now,
            )
            self._next_trade_id += 1
            self._emit(OrderFilled, order, fill)
        if not filled_any:
            return order
        if order.order_id in st.book.orders:
            if order.is_open:
                st.book.update_in_place(order)
            else:
                st.book.remove(order.order_id)
        self._position_changed(st)
        self._after_position_change(st, order)
        return order

    def _after_position_change(self, st: SymbolState, order: Order) -> None:
        """Reduce-only orders with nothing left to reduce expire; attached TP/SL follow the position."""
        for other in list(st.book):
            if other.order_id == order.order_id or not (other.reduce_only or other.close_position):
                continue
            if self._reducible(st, other.side) <= 0:
                if other.parent_order_id is not None:
                    self._cancel_order(st, other, "position_closed")
                else:
                    self._expire(st, other, "reduce_only")
        if order.order_id in self._attached and st.qty * order.side.sign > 0:
            self._place_attached(st, order)
        st.refresh_gates()

    def _place_attached(self, st: SymbolState, parent: Order) -> None:
        """The entry filled: its take-profit / stop-loss become reduce-only closePosition conditional orders."""
        take_profit, stop_loss, working_type = self._attached.pop(parent.order_id)
        side = parent.side.opposite
        for stop, order_type, tag in (
            (take_profit, OrderType.TAKE_PROFIT_MARKET, "tp"),
            (stop_loss, OrderType.STOP_MARKET, "sl"),
        ):
            if stop is None:
                continue
            oid = self._next_order_id
            self._next_order_id += 1
            child = Order(
                oid, f"{parent.client_order_id}-{tag}", st.symbol, side, order_type, ZERO, ZERO, stop,
                TimeInForce.GTC, True, True, working_type, False, OrderStatus.NEW, ZERO, ZERO,
                self._now, self._now, parent_order_id=parent.order_id,
            )
            self._emit(OrderAccepted, child)
            st.book.add(child)
            walk = self._walk
            if walk is not None and walk.st is st:
                self._schedule(walk, child, walk.t)
        st.refresh_gates()

    # ============================================================================================== money

    def _apply_fill(self, st: SymbolState, sign: int, qty: Decimal, price: Decimal, fee: Decimal) -> Decimal:
        """Update the position and the wallets for one execution; returns the realized PnL (8 dp)."""
        pos = st.qty
        realized = ZERO
        if pos == 0 or (pos > 0) == (sign > 0):
            self._increase(st, sign, qty, price)
        else:
            size = abs(pos)
            closing = min(qty, size)
            realized = money(closing * (price - st.entry) * (1 if pos > 0 else -1))
            if st.is_isolated:
                self._release_isolated(st, closing, size, realized)
            else:
                self._cross_wallet += realized
            st.qty = pos + sign * closing
            if not st.qty:
                st.entry = ZERO
            if qty > closing:
                self._increase(st, sign, qty - closing, price)
        self._pay(st, fee)
        self._cover_cross_shortfall(st.symbol, "loss")
        return realized

    def _increase(self, st: SymbolState, sign: int, qty: Decimal, price: Decimal) -> None:
        """Open or add: weighted entry; isolated posts notional / leverage from the cross wallet."""
        size = abs(st.qty)
        st.entry = price if size == 0 else (size * st.entry + qty * price) / (size + qty)
        st.qty += sign * qty
        if st.is_isolated:
            posted = min(money(qty * price / st.leverage), max(ZERO, self._cross_wallet))
            self._cross_wallet -= posted
            st.iso_wallet += posted

    def _release_isolated(self, st: SymbolState, closing: Decimal, size: Decimal, realized: Decimal) -> None:
        """A reduction releases its share of the isolated margin plus its PnL to the cross wallet. A loss beyond
        that share comes from the margin of what remains, then from the insurance fund: an isolated position
        never takes more than its own margin."""
        release = st.iso_wallet if closing == size else money(st.iso_wallet * closing / size)
        st.iso_wallet -= release
        back = release + realized
        if back < 0:
            take = min(-back, st.iso_wallet)
            st.iso_wallet -= take
            back += take
            if back < 0:
                self._cover(st.symbol, -back, "loss_beyond_margin")
                back = ZERO
        self._cross_wallet += back

    def _pay(self, st: SymbolState, fee: Decimal) -> None:
        """Fees come from the cross wallet (so an isolated position's wallet is its initial margin exactly); if
        that is empty, from the position's isolated wallet; the insurance fund covers anything beyond."""
        self._cross_wallet -= fee
        if self._cross_wallet < 0 and st.is_isolated and st.iso_wallet > 0:
            take = min(-self._cross_wallet, st.iso_wallet)
            st.iso_wallet -= take
            self._cross_wallet += take

    def _cover_cross_shortfall(self, symbol: str, reason: str) -> None:
        if self._cross_wallet < 0:
            short = -self._cross_wallet
            self._cross_wallet = ZERO
            self._cover(symbol, short, reason)

    def _cover(self, symbol: str, amount: Decimal, reason: str) -> None:
        """Record the insurance fund paying ``amount`` (the caller has already put it where it belongs)."""
        self._insurance_cover += amount
        self._emit(InsuranceFundCovered, symbol, amount, reason)

    def _available(self, exclude: int | None = None) -> Decimal:
        """Available balance: cross wallet + cross UPNL − cross position margin − resting orders' margin (≥ 0)."""
        cross_im = sum((abs(s.qty) * s.mark / s.leverage for s in self._cross_open.values()), ZERO)
        return max(ZERO, self._cross_wallet + self._cross_upnl - cross_im - self._open_order_margin(exclude))

    def _open_order_margin(self, exclude: int | None = None) -> Decimal:
        """Initial margin reserved by resting limit orders: per symbol and side, only the part that would open
        exposure beyond what it can reduce of the current position, at the orders' prices."""
        total = ZERO
        for st in self._state.values():
            if not st.book.orders:
                continue
            for side in (Side.BUY, Side.SELL):
                qty = notional = ZERO
                for o in st.book.orders.values():
                    if o.side is side and o.order_id != exclude and rests_as_limit(o) and not o.reduce_only:
                        qty += o.remaining_qty
                        notional += o.remaining_qty * o.price
                if qty:
                    opening = max(ZERO, qty - self._reducible(st, side))
                    total += notional * opening / qty / st.leverage
        return total

    # ========================================================================================= positions

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

    def _check_isolated(self, st: SymbolState) -> None:
        """Outside a tick (submit, funding, transfers): liquidate if the mark already is beyond the LP."""
        lp = st.liq_price
        if lp is None or not st.qty or not st.is_isolated or st.mark is None:
            return
        if (st.qty > 0 and st.mark <= lp) or (st.qty < 0 and st.mark >= lp):
            self._liquidate_isolated(st, st.mark)

    def _check_cross(self) -> None:
        if self._cross_open and self._cross_mm >= self._cross_wallet + self._cross_upnl:
            self._liquidate_cross()

    def _liquidation_order(self, st: SymbolState, side: Side, size: Decimal, price: Decimal) -> Order:
        oid = self._next_order_id
        self._next_order_id += 1
        return Order(
            oid, f"autoclose-{oid}", st.symbol, side, OrderType.MARKET, size, ZERO, ZERO, TimeInForce.IOC,
            True, False, WorkingType.MARK_PRICE, False, OrderStatus.FILLED, size, price, self._now, self._now,
        )

    def _close_by_liquidation(self, st: SymbolState, price: Decimal, realized: Decimal) -> Fill:
        """Emit the liquidation fill and zero the position (the caller has settled the wallets)."""
        size = abs(st.qty)
        side = Side.SELL if st.qty > 0 else Side.BUY
        order = self._liquidation_order(st, side, size, price)
        fill = Fill(
            self._next_trade_id, order.order_id, st.symbol, side, price, size, ZERO, st.instrument.quote_asset,
            LiquidityRole.TAKER, realized, self._now, is_liquidation=True,
        )
        self._next_trade_id += 1
        self._emit(OrderFilled, order, fill)
        st.qty = ZERO
        st.entry = ZERO
        return fill

    def _liquidate_isolated(self, st: SymbolState, mark: Decimal) -> None:
        """The mark reached an isolated position's LP: cancel its orders, close it fully at the bankruptcy price.

        The wallet loses exactly the isolated wallet (realized PnL = −isolated wallet, no fee on top); the
        clearance fee reported is the part of it the insurance fund keeps (§1.4, capped by the margin left).
        """
        for order in list(st.book):
            self._cancel_order(st, order, "liquidation")
        qty, entry, wallet = st.qty, st.entry, st.iso_wallet
        size = abs(qty)
        bkr = margin.bankruptcy_price(qty, entry, wallet) or mark
        fee = clearance_fee(st.instrument.liquidation_fee, size, mark, wallet + qty * (mark - entry))
        fill = self._close_by_liquidation(st, bkr, -wallet)
        st.iso_wallet = ZERO
        self._position_changed(st)
        self._emit(
            PositionLiquidated, st.symbol, MarginMode.ISOLATED, Side.BUY if qty > 0 else Side.SELL, size, entry,
            mark, bkr, fee, wallet, ZERO, fill,
        )

    def _liquidate_cross(self) -> None:
        """Cross margin ratio reached 100%: every cross position closes, together at the account's bankruptcy
        point (the cross wallet ends at 0, the insurance fund takes the rest); isolated positions are untouched."""
        states = sorted(self._cross_open.values(), key=lambda s: s.symbol)
        for st in states:
            for order in list(st.book):
                self._cancel_order(st, order, "liquidation")
        closes = cross_close_prices([(s.qty, s.entry, s.mark) for s in states], self._cross_wallet)
        for st, (price, realized, share) in zip(states, closes, strict=True):
            qty, entry, mark = st.qty, st.entry, st.mark
            size = abs(qty)
            fee = clearance_fee(st.instrument.liquidation_fee, size, mark, share)
            self._cross_wallet += realized
            fill = self._close_by_liquidation(st, price, realized)
            self._position_changed(st)
            self._emit(
                PositionLiquidated, st.symbol, MarginMode.CROSS, Side.BUY if qty > 0 else Side.SELL, size, entry,
                mark, price, fee, -realized, ZERO, fill,
            )
        self._cover_cross_shortfall(states[0].symbol if states else "", "liquidation")

    # ================================================================================ account operations

    def set_leverage(self, symbol: str, leverage: int) -> tuple[Event, ...]:
        """Binance's change-leverage: 1..bracket max (-4028); isolated with a position cannot lower it (-4161);
        the position's notional must fit the new leverage's cap (-2027)."""
        st = self._symbol(symbol)
        inst = st.instrument
        if not isinstance(leverage, int) or not 1 <= leverage <= inst.max_leverage:
            raise BinanceError(Rejection.of(ErrorCode.INVALID_LEVERAGE, leverage))
        if st.qty and st.is_isolated and leverage < st.leverage:
            raise BinanceError(Rejection.of(ErrorCode.ISOLATED_LEVERAGE_REJECT_WITH_POSITION))
        if st.qty and abs(st.qty) * (st.mark or st.entry) > inst.max_notional_for_leverage(leverage):
            raise BinanceError(Rejection.of(ErrorCode.MAX_LEVERAGE_RATIO))
        if leverage == st.leverage:
            return _NO_EVENTS
        st.leverage = leverage
        self._emit(LeverageChanged, symbol, leverage)
        if st.qty:
            self._emit(PositionChanged, self._snapshot(st))
        return self._flush()

    def set_margin_mode(self, symbol: str, mode: MarginMode) -> tuple[Event, ...]:
        """Binance's change-margin-type: -4046 same mode, -4047 open orders, -4048 open position."""
        st = self._symbol(symbol)
        mode = MarginMode(mode)
        if mode is st.margin_mode:
            raise BinanceError(Rejection.of(ErrorCode.NO_NEED_TO_CHANGE_MARGIN_TYPE))
        if st.book.orders:
            raise BinanceError(Rejection.of(ErrorCode.THERE_EXISTS_OPEN_ORDERS))
        if st.qty:
            raise BinanceError(Rejection.of(ErrorCode.THERE_EXISTS_QUANTITY))
        st.margin_mode = mode
        self._emit(MarginModeChanged, symbol, mode)
        return self._flush()

    def transfer_margin(self, symbol: str, amount: Decimal) -> tuple[Event, ...]:
        """Add (> 0) or remove (< 0) isolated margin. Removal keeps at least the initial margin requirement
        (notional at mark / leverage) after any unrealized loss (else -4051)."""
        st = self._symbol(symbol)
        amount = money(amount)
        if not st.is_isolated or not st.qty or not amount:
            raise BinanceError(Rejection.of(ErrorCode.INVALID_PARAMETER, "amount" if st.qty else "symbol"))
        if amount > 0:
            if amount > self._available():
                raise BinanceError(Rejection.of(ErrorCode.MARGIN_NOT_SUFFICIENT))
        else:
            assert st.mark is not None
            upnl = st.qty * (st.mark - st.entry)
            removable = st.iso_wallet + min(ZERO, upnl) - abs(st.qty) * st.mark / st.leverage
            if -amount > removable:
                raise BinanceError(Rejection.of(ErrorCode.ISOLATED_BALANCE_INSUFFICIENT))
        self._cross_wallet -= amount
        st.iso_wallet += amount
        self._emit(MarginTransferred, symbol, amount, st.iso_wallet)
        self._position_changed(st)
        self._check_isolated(st)
        return self._flush()

    # ============================================================================================ queries

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        return MappingProxyType(self._instruments)

    @property
    def now_ms(self) -> int:
        """The engine's clock: the latest tick time seen (or start_ms)."""
        return self._now

    def _symbol(self, symbol: str) -> SymbolState:
        st = self._state.get(symbol)
        if st is None:
            raise BinanceError(Rejection.of(ErrorCode.BAD_SYMBOL))
        return st

    def leverage(self, symbol: str) -> int:
        return self._symbol(symbol).leverage

    def margin_mode(self, symbol: str) -> MarginMode:
        return self._symbol(symbol).margin_mode

    def last_price(self, symbol: str) -> Decimal | None:
        return self._symbol(symbol).last

    def mark_price(self, symbol: str) -> Decimal | None:
        return self._symbol(symbol).mark

    def funding_rate(self, symbol: str) -> Decimal:
        return self._symbol(symbol).funding_rate

    def position(self, symbol: str) -> Position:
        """The position of ``symbol`` valued at the current mark (quantity 0 when flat)."""
        return self._snapshot(self._symbol(symbol))

    def positions(self) -> tuple[Position, ...]:
        """The open positions, by symbol."""
        return tuple(self._snapshot(self._open_positions[s]) for s in sorted(self._open_positions))

    def open_orders(self, symbol: str | None = None) -> tuple[Order, ...]:
        """Open orders (of one symbol, or all), by order id."""
        if symbol is not None:
            return tuple(self._symbol(symbol).book)
        every = (o for st in self._state.values() for o in st.book.orders.values())
        return tuple(sorted(every, key=lambda o: o.order_id))

    def _snapshot(self, st: SymbolState) -> Position:
        return position_snapshot(st, self._cross_open.values(), self._cross_wallet)

    def account(self) -> AccountSnapshot:
        """Balances (USDT) and the cross margin ratio, computed fresh from the positions."""
        return account_snapshot(
            self._cross_wallet,
            sum((s.iso_wallet for s in self._state.values() if s.iso_wallet), ZERO),
            self._open_positions.values(),
            self._cross_open.values(),
            self._available(),
            self._open_order_margin(),
            self._insurance_cover,
        )

    def state(self) -> AccountState:
        """The account as :func:`hexdesk.engine.rebuild.rebuild` reconstructs it from the event log."""
        return AccountState(
            wallet_balance=self._cross_wallet + sum((s.iso_wallet for s in self._state.values()), ZERO),
            insurance_fund_cover=self._insurance_cover,
            positions={
                s.symbol: PositionState(s.symbol, s.qty, s.entry, s.iso_wallet, s.leverage, s.margin_mode)
                for s in self._open_positions.values()
            },
            open_orders={o.order_id: o for o in self.open_orders()},
            leverage={s: st.leverage for s, st in self._state.items()},
            margin_mode={s: st.margin_mode for s, st in self._state.items()},
        )
