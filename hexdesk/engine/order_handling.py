"""Order handling: submit, cancel, amend and preview; triggering, execution, expiry; attached TP/SL.

:class:`OrderHandling` is a mixin of :class:`hexdesk.engine.exchange.Exchange`. Executions hand the money side
(position, wallets, fees) to ``ledger.Ledger._apply_fill``; orders created while a tick walks its price path
(triggered stop-limits, attached TP/SL) are scheduled on that walk (``walk.PathWalk._schedule``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal

from hexdesk.engine import guards
from hexdesk.engine.account import SymbolState, money
from hexdesk.engine.core import ZERO, ExchangeCore
from hexdesk.engine.enums import LiquidityRole, OrderStatus, OrderType, Side, TimeInForce
from hexdesk.engine.errors import BinanceError, ErrorCode, Rejection
from hexdesk.engine.events import (
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderTriggered,
)
from hexdesk.engine.fills import Fill
from hexdesk.engine.orders import Order, OrderRequest
from hexdesk.engine.result import Result
from hexdesk.engine.risk import OrderPreview, PositionSizing, PreviewContext, preview_order, size_order
from hexdesk.engine.validation import OrderContext, cost_rejection, validate, would_take

# Enum members read as module constants: in Python 3.11 an Enum class attribute (OrderType.MARKET) goes
# through EnumType.__getattr__'s slow lookup hook (~0.1 µs; gone in 3.12), and the order path reads dozens.
_BUY = Side.BUY
_CANCELED = OrderStatus.CANCELED
_EXPIRED = OrderStatus.EXPIRED
_FILLED = OrderStatus.FILLED
_FOK = TimeInForce.FOK
_GTC = TimeInForce.GTC
_GTX = TimeInForce.GTX
_IOC = TimeInForce.IOC
_LIMIT = OrderType.LIMIT
_MAKER = LiquidityRole.MAKER
_MARKET = OrderType.MARKET
_NEW = OrderStatus.NEW
_PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED
_STOP_MARKET = OrderType.STOP_MARKET
_TAKER = LiquidityRole.TAKER
_TAKE_PROFIT_MARKET = OrderType.TAKE_PROFIT_MARKET


class OrderHandling(ExchangeCore):
    """The order side of the Exchange: requests in, executions and order events out."""

    # ---------------------------------------------------------------------------------- requests

    def submit(self, request: OrderRequest) -> Result:
        """Validate, accept and execute a new order (reference §3). A rejected order changes nothing else.

        All or nothing: a request the door refuses (hexdesk.engine.guards: unknown symbol, a value that is not a
        finite number of sane magnitude, an enum or flag of the wrong type) is answered with its Rejection and
        leaves no event at all; one Binance refuses is logged as OrderRejected; an accepted one whose execution
        fails half-way (a fill model that raises) is rolled back, state and log, and answered -2010.
        """
        try:
            request, st = guards.order_request(request, self._state)
        except BinanceError as exc:
            return Result(False, None, exc.rejection)
        self._settle_due_funding()  # type: ignore[attr-defined]
        if st.last is None or st.mark is None:
            return self._reject(
                request, Rejection(ErrorCode.INVALID_PARAMETER, f"No market price for {request.symbol} yet.")
            )
        saved = self._savepoint(st)
        try:
            fills = None
            ctx = self._order_context(st)
            rejection = validate(request, ctx) or self._matching_rejection(st, request)
            if rejection is None:
                fills = self._isolated_taker_fills(st, request)
                if fills is not None and not self._can_post_isolated(
                    st, request.side, fills, st.instrument.taker_fee, free=ctx.cross_wallet_free
                ):  # (nothing has changed since the context was made: its free cross wallet is this state's)
                    rejection = Rejection.of(ErrorCode.MARGIN_NOT_SUFFICIENT)
            if rejection is not None:
                return self._reject(request, rejection)
            order = self._new_order(st, request)
            self._emit(OrderAccepted, order, request.take_profit, request.stop_loss)
            if request.take_profit is not None or request.stop_loss is not None:
                self._attached[order.order_id] = (request.take_profit, request.stop_loss, request.working_type)
            # A MARKET order's fills were just priced and their margin checked: nothing changed since that
            # matters to either (the order id and the OrderAccepted event do not), so they are used as they are.
            order = self._start(st, order, fills if order.type is _MARKET else None)
            self._check_isolated(st)
            self._check_cross()
        except (ArithmeticError, ValueError) as exc:
            self._rollback(saved)
            return Result(False, None, Rejection(ErrorCode.NEW_ORDER_REJECTED, f"NEW_ORDER_REJECTED: {exc}"))
        except BaseException:
            self._rollback(saved)
            raise
        final = st.book.orders.get(order.order_id) or order
        return Result(True, final, None, self._flush())

    def _reject(self, request: OrderRequest, rejection: Rejection) -> Result:
        self._emit(OrderRejected, request, rejection.code, rejection.msg)
        return Result(False, None, rejection, self._flush())

    def _matching_rejection(self, st: SymbolState, request: OrderRequest) -> Rejection | None:
        """What only the matching engine can decide: post-only that would take (-5022), FOK not fillable (-5021)."""
        if request.type is not _LIMIT or request.price is None or request.quantity is None:
            return None
        if request.time_in_force is _GTX and would_take(request.side, request.price, st.last):
            return Rejection.of(ErrorCode.GTX_ORDER_REJECT)
        if request.time_in_force is _FOK:
            qty = request.quantity
            if request.reduce_only:
                qty = min(qty, self._reducible(st, request.side))
            levels = self._takeable(st, request.side, request.price, qty, st.last) if qty > 0 else []
            if sum((q for _, q in levels), ZERO) < request.quantity:
                return Rejection.of(ErrorCode.FOK_ORDER_REJECT)
        return None

    def _fill_margin_rejection(self, st: SymbolState, request: OrderRequest) -> Rejection | None:
        """-2019 when what an isolated order takes at once (a MARKET, or a marketable limit's takeable levels, at
        the fill model's actual prices) needs more initial margin plus fees than the cross wallet can post
        (``Ledger._can_post_isolated``). Validation priced it at the last price; slippage can cost more."""
        fills = self._isolated_taker_fills(st, request)
        if fills is not None and not self._can_post_isolated(st, request.side, fills, st.instrument.taker_fee):
            return Rejection.of(ErrorCode.MARGIN_NOT_SUFFICIENT)
        return None

    def _isolated_taker_fills(self, st: SymbolState, request: OrderRequest) -> list[tuple[Decimal, Decimal]] | None:
        """What an isolated order that may open takes at once (a MARKET's fills, a marketable limit's takeable
        levels), for the check of :meth:`_fill_margin_rejection`; None when there is nothing to check."""
        if not st.is_isolated or request.reduce_only or request.close_position or request.quantity is None:
            return None
        assert st.last is not None
        if request.type is _MARKET:
            return self._fill_model.market_fills(st.instrument, request.side, request.quantity, st.last, st.bar_volume)
        if (
            request.type is _LIMIT
            and request.price is not None
            and request.time_in_force is not _GTX
            and would_take(request.side, request.price, st.last)
        ):
            return self._takeable(st, request.side, request.price, request.quantity, st.last)
        return None

    def _new_order(self, st: SymbolState, request: OrderRequest) -> Order:
        oid = self._next_order_id
        self._next_order_id += 1
        return Order.from_request(request, oid, f"hexdesk-{oid}", self._now)

    def cancel(self, symbol: str, order_id: int) -> Result:
        try:
            st = guards.symbol_state(self._state, symbol)
            guards.order_id(order_id)
        except BinanceError as exc:
            return Result(False, None, exc.rejection)
        order = st.book.get(order_id)
        if order is None:
            return Result(False, None, Rejection.of(ErrorCode.UNKNOWN_ORDER))
        self._settle_due_funding()  # type: ignore[attr-defined]
        order = self._cancel_order(st, order, "user")
        st.refresh_gates()
        return Result(True, order, None, self._flush())

    def cancel_all(self, symbol: str) -> Result:
        try:
            st = guards.symbol_state(self._state, symbol)
        except BinanceError as exc:
            return Result(False, None, exc.rejection)
        self._settle_due_funding()  # type: ignore[attr-defined]
        for order in list(st.book):
            self._cancel_order(st, order, "user")
        st.refresh_gates()
        return Result(True, None, None, self._flush())

    def amend(
        self, symbol: str, order_id: int, quantity: Decimal | None = None, price: Decimal | None = None
    ) -> Result:
        """Change a resting LIMIT order's price and/or total quantity (Binance's modify order), keeping its id.

        Re-validated as a new order for the remaining quantity; a price that became marketable takes at once.
        Values the door refuses (see ``submit``) answer a Rejection and change nothing; a failure half-way is
        rolled back.
        """
        try:
            st = guards.symbol_state(self._state, symbol)
            guards.order_id(order_id)
            guards.amend_values(quantity, price)
        except BinanceError as exc:
            return Result(False, None, exc.rejection)
        order = st.book.get(order_id)
        if order is None:
            return Result(False, None, Rejection.of(ErrorCode.UNKNOWN_ORDER))
        if order.type is not _LIMIT:
            return Result(False, order, Rejection.of(ErrorCode.INVALID_ORDER_TYPE))
        self._settle_due_funding()  # type: ignore[attr-defined]
        order = st.book.get(order_id)
        if order is None:  # gone with a liquidation the funding caused
            return Result(False, None, Rejection.of(ErrorCode.UNKNOWN_ORDER), self._flush())
        new_qty = order.quantity if quantity is None else quantity
        new_price = order.price if price is None else price
        rejection = self._amend_rejection(st, order, new_qty, new_price)
        if rejection is not None:
            return Result(False, order, rejection, self._flush())
        saved = self._savepoint(st)
        try:
            order = order.evolve(quantity=new_qty, price=new_price, updated_ms=self._now)
            st.book.remove(order_id)
            self._emit(OrderAmended, order)
            order = self._take_then_rest(st, order, st.last, None)
            self._check_isolated(st)
            self._check_cross()
        except (ArithmeticError, ValueError) as exc:
            self._rollback(saved)
            return Result(False, st.book.get(order_id), Rejection(ErrorCode.NEW_ORDER_REJECTED, str(exc)))
        except BaseException:
            self._rollback(saved)
            raise
        return Result(True, st.book.get(order_id) or order, None, self._flush())

    def _amend_rejection(
        self, st: SymbolState, order: Order, new_qty: Decimal, new_price: Decimal
    ) -> Rejection | None:
        """Why the amended order would be refused: validated as a new order for the remaining quantity (its own
        reserved margin released), plus GTX that would now take (-5022)."""
        if new_qty <= order.executed_qty:
            return Rejection.of(ErrorCode.INVALID_PARAMETER, "quantity")
        request = OrderRequest(
            st.symbol, order.side, _LIMIT, quantity=new_qty - order.executed_qty, price=new_price,
            time_in_force=order.time_in_force, reduce_only=order.reduce_only, client_order_id=order.client_order_id,
        )
        rejection = validate(request, self._order_context(st, exclude=order.order_id))
        if rejection is None and order.time_in_force is _GTX and would_take(order.side, new_price, st.last):
            rejection = Rejection.of(ErrorCode.GTX_ORDER_REJECT)
        return rejection

    def preview(self, request: OrderRequest) -> OrderPreview:
        """What ``request`` would cost and risk now (hexdesk.engine.risk.preview_order on this account), priced by
        this Exchange's fill model with the symbol's current liquidity estimate: a market order's preview shows
        the fills ``submit`` would make at this moment, and ``rejection`` the Binance error submit would give.

        Raises BinanceError (a ValueError) for what the door refuses, before the symbol has a price (-1130), and
        for a request the preview cannot make sense of; changes nothing.
        """
        request, st = guards.order_request(request, self._state)
        if st.last is None or st.mark is None:
            raise BinanceError(Rejection(ErrorCode.INVALID_PARAMETER, f"No market price for {request.symbol} yet."))
        try:
            return self._preview(st, request)
        except BinanceError:
            raise
        except (ArithmeticError, ValueError) as exc:
            raise BinanceError(Rejection(ErrorCode.INVALID_PARAMETER, str(exc))) from exc

    def _preview(self, st: SymbolState, request: OrderRequest) -> OrderPreview:
        preview = preview_order(request, self._preview_context(st))
        rejection = (
            validate(request, self._order_context(st))
            or self._matching_rejection(st, request)
            or self._fill_margin_rejection(st, request)
        )
        return preview if rejection is None else replace(preview, rejection=rejection)

    def size_order(self, request: OrderRequest, risk_pct: Decimal, leverage: int | None = None) -> PositionSizing:
        """The largest quantity of ``request`` (side, type, prices, stop_loss, take_profit; its quantity is
        ignored) whose stop-out loses at most ``risk_pct`` % of the equity, slippage and fees included, counting
        the position already open (hexdesk.engine.risk.size_order). ``leverage`` overrides the symbol's for a
        what-if (the ticket's leverage before it is applied)."""
        st = self._symbol(request.symbol)
        if st.last is None or st.mark is None:
            raise ValueError(f"no market price for {request.symbol} yet")
        if leverage is not None and not 1 <= leverage <= st.instrument.max_leverage:
            raise ValueError(f"leverage must be between 1 and {st.instrument.max_leverage}x, got {leverage}")
        return size_order(request, self._preview_context(st, leverage), risk_pct)

    def _preview_context(self, st: SymbolState, leverage: int | None = None) -> PreviewContext:
        assert st.last is not None and st.mark is not None
        others = [s for s in self._cross_open.values() if s is not st]
        account = self.account()
        return PreviewContext(
            instrument=st.instrument,
            last_price=st.last,
            mark_price=st.mark,
            position_qty=st.qty,
            entry_price=st.entry,
            isolated_wallet=st.iso_wallet,
            leverage=st.leverage if leverage is None else leverage,
            margin_mode=st.margin_mode,
            cross_wallet_balance=self._cross_wallet,
            other_maintenance=sum((s.mm for s in others), ZERO) if not st.is_isolated else ZERO,
            other_upnl=sum((s.upnl for s in others), ZERO) if not st.is_isolated else ZERO,
            available_balance=(
                min(account.available_balance, max(ZERO, self._cross_wallet_free()))
                if st.is_isolated
                else account.available_balance
            ),
            equity=account.margin_balance,
            fill_model=self._fill_model,
            liquidity=st.bar_volume,
        )

    def _order_context(
        self, st: SymbolState, exclude: int | None = None, last: Decimal | None = None, mark: Decimal | None = None
    ) -> OrderContext:
        assert st.last is not None and st.mark is not None
        return OrderContext(  # (positional, in field order: this runs for every request)
            st.instrument,
            st.last if last is None else last,
            st.mark if mark is None else mark,
            st.qty,
            st.leverage,
            st.margin_mode,
            self._available(exclude),
            tuple(st.book) if exclude is None else tuple(o for o in st.book if o.order_id != exclude),
            self._cross_wallet_free(exclude) if st.is_isolated else None,
            st.iso_wallet,
            st.entry,
        )

    # --------------------------------------------------------------------------------- execution

    def _start(self, st: SymbolState, order: Order, checked: list[tuple[Decimal, Decimal]] | None = None) -> Order:
        """Immediate execution by type: MARKET takes, a marketable LIMIT takes up to its price, the rest rests.

        ``checked``: a MARKET order's fills for its whole quantity, already priced by the fill model and found
        affordable (``_can_post_isolated``) in this state."""
        if order.type is _MARKET:
            if checked is not None:
                return self._finish_market(st, self._execute(st, order, checked, _TAKER, checked=True))
            qty = self._executable(st, order, order.quantity)
            if qty <= 0:
                return self._expire(st, order, "reduce_only")
            fills = self._fill_model.market_fills(st.instrument, order.side, qty, st.last, st.bar_volume)
            return self._finish_market(st, self._execute(st, order, fills, _TAKER))
        if order.type is _LIMIT:
            return self._take_then_rest(st, order, st.last, None)
        st.book.add(order)
        st.refresh_gates()
        return order

    def _finish_market(self, st: SymbolState, order: Order) -> Order:
        """What a MARKET order did not fill expires (a reduce-only capped to the position)."""
        if order.is_open:
            order = self._expire(st, order, "reduce_only")
        return order

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
        order = self._execute(st, order, fills, _TAKER)
        if order.is_open:
            self._expire(st, order, "reduce_only")
        st.refresh_gates()

    def _affordable_at_trigger(self, st: SymbolState, order: Order, qty: Decimal, ref: Decimal, mark: Decimal) -> bool:
        """Binance checks a conditional order's margin when it triggers; so does HexDesk (validation's rule: the
        available balance, and for isolated what the cross wallet can post without unrealized profit)."""
        if order.reduce_only or order.close_position:
            return True
        request = OrderRequest(
            st.symbol,
            order.side,
            _LIMIT if order.type.has_limit_price else _MARKET,
            quantity=qty,
            price=order.price if order.type.has_limit_price else None,
            time_in_force=_GTC if order.type.has_limit_price else None,
        )
        ctx = self._order_context(st, exclude=order.order_id, last=ref, mark=mark)
        return cost_rejection(request, ctx) is None

    def _take_then_rest(self, st: SymbolState, order: Order, ref: Decimal, t: Decimal | None) -> Order:
        """A limit order meets the market at ``ref``: the part the book gives within its price fills as taker; the
        rest rests (GTC/GTX) or expires (IOC, and reduce-only with nothing left to reduce)."""
        qty = self._executable(st, order, order.remaining_qty)
        if qty > 0 and would_take(order.side, order.price, ref):
            levels = self._takeable(st, order.side, order.price, qty, ref)
            if levels:
                order = self._execute(st, order, levels, _TAKER)
        if not order.is_open:
            return order
        if order.time_in_force in (_IOC, _FOK):
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
            if (price > limit) if side is _BUY else (price < limit):
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

    def _execute(
        self, st: SymbolState, order: Order, fills: Iterable[tuple[Decimal, Decimal]], role: LiquidityRole,
        checked: bool = False,
    ) -> Order:
        """Apply executions of ``order``: fee, position, wallet; one OrderFilled per execution, then the position.
        ``checked``: the cross wallet was just found able to post these fills (``_can_post_isolated``)."""
        inst = st.instrument
        rate = inst.maker_fee if role is _MAKER else inst.taker_fee
        fills = list(fills)
        if not checked and not self._can_post_isolated(st, order.side, fills, rate, exclude=order.order_id):
            # The fill-time margin check: the cross wallet (unrealized profit not counted) can no longer post
            # this isolated order's initial margin and fees. Binance reserves a resting order's margin when it is
            # placed; here the account may have lost it since, so the order expires rather than fill short of
            # margin (docs/engine.md, "Margin that is there").
            return self._expire(st, order, "margin_insufficient")
        filled_any = False
        for price, qty in fills:
            if qty > 0:
                filled_any = True
                order = self._fill_once(st, order, price, qty, rate, role)
        if not filled_any:
            return order
        if order.order_id in st.book.orders:
            if order.is_open:
                st.book.update_in_place(order)
            else:
                st.book.remove(order.order_id)
        self._position_changed(st, refresh_gates=False)  # (_after_position_change ends by refreshing them)
        self._after_position_change(st, order)
        return order

    def _fill_once(
        self, st: SymbolState, order: Order, price: Decimal, qty: Decimal, rate: Decimal, role: LiquidityRole
    ) -> Order:
        """One execution of ``order``: the ledger moves position and money, then its OrderFilled is emitted."""
        fee = money(price * qty * rate)
        realized = self._apply_fill(st, order.side.sign, qty, price, fee)
        executed = order.executed_qty + qty
        avg = (order.avg_price * order.executed_qty + price * qty) / executed
        status = _FILLED if executed >= order.quantity else _PARTIALLY_FILLED
        order = order.executed(executed, avg, status, self._now)
        fill = Fill(
            self._next_trade_id, order.order_id, st.symbol, order.side, price, qty, fee,
            st.instrument.quote_asset, role, realized, self._now,
        )
        self._next_trade_id += 1
        self._emit(OrderFilled, order, fill)
        return order

    def _expire(self, st: SymbolState, order: Order, reason: str) -> Order:
        st.book.remove(order.order_id)
        self._attached.pop(order.order_id, None)
        order = order.ended(_EXPIRED, self._now)
        self._emit(OrderExpired, order, reason)
        st.refresh_gates()
        return order

    def _cancel_order(self, st: SymbolState, order: Order, reason: str) -> Order:
        st.book.remove(order.order_id)
        self._attached.pop(order.order_id, None)
        order = order.ended(_CANCELED, self._now)
        self._emit(OrderCanceled, order, reason)
        return order

    # ---------------------------------------------------------------------------- attached TP/SL

    def _after_position_change(self, st: SymbolState, order: Order) -> None:
        """Reduce-only orders with nothing left to reduce expire; attached TP/SL follow the position."""
        for other in list(st.book) if st.book.orders else ():
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
            (take_profit, _TAKE_PROFIT_MARKET, "tp"),
            (stop_loss, _STOP_MARKET, "sl"),
        ):
            if stop is None:
                continue
            oid = self._next_order_id
            self._next_order_id += 1
            child = Order(  # (positional, in field order: triggered False, then the parent)
                oid, f"{parent.client_order_id}-{tag}", st.symbol, side, order_type, ZERO, ZERO, stop,
                _GTC, True, True, working_type, False, _NEW, ZERO, ZERO,
                self._now, self._now, False, parent.order_id,
            )
            self._emit(OrderAccepted, child)
            st.book.add(child)
            walk = self._walk
            if walk is not None and walk.st is st:
                self._schedule(walk, child, walk.t)
        # (the caller, _after_position_change, refreshes the gates)
