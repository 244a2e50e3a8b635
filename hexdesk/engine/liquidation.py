"""Liquidation (reference §1.4): the clearance fee, the prices a cross liquidation closes at, and
:class:`Liquidations`, the Exchange mixin that checks and carries out isolated and cross liquidations.

HexDesk always closes a liquidated position fully at its bankruptcy price (see docs/engine.md): the trader loses
exactly the margin that backed it (the isolated wallet, or the cross wallet), never more; the insurance fund
takes over the position at that price and keeps or loses the difference to the market.
"""

from __future__ import annotations

from decimal import Decimal

from hexdesk.engine import margin
from hexdesk.engine.account import SymbolState, money
from hexdesk.engine.core import ExchangeCore
from hexdesk.engine.enums import LiquidityRole, MarginMode, OrderStatus, OrderType, Side, TimeInForce, WorkingType
from hexdesk.engine.events import OrderFilled, PositionLiquidated
from hexdesk.engine.fills import Fill
from hexdesk.engine.orders import Order

ZERO = Decimal(0)


def clearance_fee(liquidation_fee_rate: Decimal, size: Decimal, mark: Decimal, margin_left: Decimal) -> Decimal:
    """``liquidationFee × liquidated notional`` (at the mark), capped by the margin balance left (never < 0).

    Part of the margin the trader loses, not on top of it: it is the share of the lost margin that the
    insurance fund collects as clearance fee rather than as price movement.
    """
    return money(max(ZERO, min(liquidation_fee_rate * size * mark, margin_left)))


def cross_close_prices(
    positions: list[tuple[Decimal, Decimal, Decimal]], cross_wallet: Decimal
) -> list[tuple[Decimal, Decimal, Decimal]]:
    """Close prices, realized PnL and share of the margin left for a cross liquidation of ``(qty, entry, mark)``.

    The margin balance left at the marks, ``MB = cross wallet + Σ UPNL``, is shared among the positions in
    proportion to their notional; each closes ``share / qty`` beyond its mark, so together they close at the
    account's bankruptcy point: Σ realized = −cross wallet and the cross wallet ends at exactly 0 (the last
    position absorbs the rounding of the others to 8 decimals). With MB < 0 (a gap past bankruptcy) the shares
    are negative: the positions close better than the mark and the insurance fund carries the gap.
    """
    upnl = sum((q * (m - e) for q, e, m in positions), ZERO)
    margin_left = cross_wallet + upnl
    total_notional = sum((abs(q) * m for q, _, m in positions), ZERO)
    out: list[tuple[Decimal, Decimal, Decimal]] = []
    realized_so_far = ZERO
    for i, (q, e, m) in enumerate(positions):
        share = margin_left * abs(q) * m / total_notional if total_notional else ZERO
        price = m - share / q
        last = i == len(positions) - 1
        realized = -cross_wallet - realized_so_far if last else money(q * (price - e))
        realized_so_far += realized
        out.append((price, realized, share))
    return out


class Liquidations(ExchangeCore):
    """Mixin of :class:`hexdesk.engine.exchange.Exchange`: when a position is liquidated, and how."""

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

    def _liquidate_cross(self, at: SymbolState | None = None, at_mark: Decimal | None = None) -> None:
        """Cross margin ratio reached 100%: every cross position closes, together at the account's bankruptcy
        point (the cross wallet ends at 0, the insurance fund takes the rest); isolated positions are untouched.

        ``at`` / ``at_mark``: the symbol whose price path reached the liquidation point, and its mark there (the
        walk's crossing point); the others are valued at their current marks.
        """
        states = sorted(self._cross_open.values(), key=lambda s: s.symbol)
        for st in states:
            for order in list(st.book):
                self._cancel_order(st, order, "liquidation")
        marks = [at_mark if st is at and at_mark is not None else st.mark for st in states]
        positions = [(s.qty, s.entry, m) for s, m in zip(states, marks, strict=True)]
        closes = cross_close_prices(positions, self._cross_wallet)
        for st, mark, (price, realized, share) in zip(states, marks, closes, strict=True):
            qty, entry = st.qty, st.entry
            size = abs(qty)
            fee = clearance_fee(st.instrument.liquidation_fee, size, mark, share)
            self._cross_wallet += realized
            fill = self._close_by_liquidation(st, price, realized)
            self._position_changed(st)
            self._emit(
                PositionLiquidated, st.symbol, MarginMode.CROSS, Side.BUY if qty > 0 else Side.SELL, size, entry,
                mark, price, fee, -realized, ZERO, fill,
            )
        # No insurance-fund cover here: cross_close_prices makes Σ realized = −cross wallet exactly, so the cross
        # wallet ends at 0; the gap beyond bankruptcy is the fund's own P&L (the negative shares), not cover.
