"""The path walk of a tick's slow path: everything the price segment reaches acts in path order.

:class:`PathWalk` is a mixin of :class:`hexdesk.engine.exchange.Exchange`, used by ``Exchange._tick_slow`` once a
gate has been reached. ``path.PricePath`` holds the geometry and the heap; this module decides what acts where:
resting limits fill, conditionals trigger, a position is liquidated where the mark meets its LP (isolated: its own;
cross: the account's, recomputed along the walk with the other cross positions at their marks).
"""

from __future__ import annotations

import heapq
from decimal import Decimal

from hexdesk.engine.account import SymbolState
from hexdesk.engine.book import rests_as_limit
from hexdesk.engine.core import ZERO, ExchangeCore
from hexdesk.engine.enums import LiquidityRole, Side, WorkingType
from hexdesk.engine.orders import Order
from hexdesk.engine.path import LIMIT, TRIGGER, PricePath, t_at


class PathWalk(ExchangeCore):
    """Walks one symbol's price segment (``Exchange._tick_slow``)."""

    def _walk_segment(
        self, st: SymbolState, l0: Decimal, l1: Decimal, m0: Decimal, m1: Decimal, volume: Decimal | None
    ) -> None:
        """Act on everything the path reaches, in the order it reaches it (then by order id).

        Limits fill and conditionals trigger at their place on the path; a liquidation happens where the mark
        path meets the liquidation price, so a stop placed before the liquidation price wins and one placed beyond
        it does not. Isolated: the position's LP. Cross: the mark of this symbol at which the whole cross account
        reaches margin ratio 100%, the other cross positions at their current marks; it moves with fills, fees and
        the wallet, so it is recomputed at every step of the walk. A cross liquidation closes every cross position
        at the account's bankruptcy point (``liquidation.cross_close_prices``) with this symbol at the crossing
        mark. Orders placed during the walk (attached TP/SL, triggered stop-limits) join it.
        """
        walk = self._start_walk(st, l0, l1, m0, m1, volume)
        book = st.book
        self._walk = walk
        try:
            while True:
                t_liq = None
                if st.qty:
                    lp = st.liq_price if st.is_isolated else self._cross_liquidation_price(st)
                    t_liq = walk.liquidation_t(st.qty, lp)
                nxt = walk.heap[0] if walk.heap else None
                if t_liq is not None and (nxt is None or t_liq <= nxt[0]):
                    walk.t = t_liq
                    if st.is_isolated:
                        self._liquidate_isolated(st, walk.mark_at(t_liq))
                    else:
                        self._liquidate_cross(st, walk.mark_at(t_liq))  # type: ignore[attr-defined]
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

    def _start_walk(
        self, st: SymbolState, l0: Decimal, l1: Decimal, m0: Decimal, m1: Decimal, volume: Decimal | None
    ) -> PricePath:
        """The segment's path with every order it reaches at its start already on the heap."""
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
        return walk

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
