"""The price path of one tick: last ``l0 → l1`` and mark ``m0 → m1``, both straight lines over the same t ∈ [0, 1].

The Exchange walks it in order of t: whatever the path reaches first acts first (a limit fills, a stop triggers, an
position is liquidated where the mark meets its liquidation price, isolated or cross).
"""

from __future__ import annotations

from decimal import Decimal

from hexdesk.engine.account import SymbolState

ZERO = Decimal(0)
ONE = Decimal(1)
TRIGGER, LIMIT = 0, 1


class PricePath:
    """The price path of one tick being walked: last ``l0 → l1`` and mark ``m0 → m1`` over the same t ∈ [0, 1].

    ``heap`` holds ``(t, order_id, kind, t_from, price)``: when along the path an order acts (kind TRIGGER: its
    stopPrice is reached at ``price``; kind LIMIT: the last price reaches its limit). ``done`` keeps limits that
    already had their one fill chance on this segment (the fill model caps fills per segment).
    """

    __slots__ = ("done", "heap", "l0", "l1", "m0", "m1", "st", "t", "volume")

    def __init__(self, st: SymbolState, l0: Decimal, l1: Decimal, m0: Decimal, m1: Decimal, volume: Decimal | None):
        self.st = st
        self.l0, self.l1, self.m0, self.m1 = l0, l1, m0, m1
        self.volume = volume
        self.t = ZERO
        self.heap: list[tuple[Decimal, int, int, Decimal, Decimal]] = []
        self.done: set[int] = set()

    def last_at(self, t: Decimal) -> Decimal:
        return self.l0 + (self.l1 - self.l0) * t if t else self.l0

    def mark_at(self, t: Decimal) -> Decimal:
        return self.m0 + (self.m1 - self.m0) * t if t else self.m0

    def liquidation_t(self, qty: Decimal, lp: Decimal | None) -> Decimal | None:
        """Where, from ``self.t`` on, the mark meets the liquidation price ``lp`` of a position of ``qty`` (None:
        not on this path, or no LP).

        The path is monotone, so the condition (long: mark <= LP, short: mark >= LP) holds either already at
        ``self.t`` or from the point where the path crosses the LP, or nowhere. The same holds for a cross LP: with
        the other symbols' marks fixed while this symbol's path is walked, the account's margin balance minus
        maintenance margin is monotone in this mark.
        """
        if lp is None or not qty:
            return None
        now = self.mark_at(self.t)
        if qty > 0:
            if now <= lp:
                return self.t
            return max(self.t, t_at(self.m0, self.m1, lp)) if self.m1 <= lp else None
        if now >= lp:
            return self.t
        return max(self.t, t_at(self.m0, self.m1, lp)) if self.m1 >= lp else None


def t_at(p0: Decimal, p1: Decimal, price: Decimal) -> Decimal:
    """Where ``price`` lies on the straight path p0 → p1, as t in [0, 1]."""
    if p1 == p0:
        return ZERO
    return min(ONE, max(ZERO, (price - p0) / (p1 - p0)))

