"""Money handling: fills against the position and the wallets, fees, isolated margin, insurance-fund cover,
margin transfers, funding settlement, and the available balance.

:class:`Ledger` is a mixin of :class:`hexdesk.engine.exchange.Exchange`. Every amount is rounded with
``account.money`` when it moves (docs/engine.md, "Rounding"), so balances are exact sums of 8-dp amounts.
"""

from __future__ import annotations

from decimal import Decimal

from hexdesk.engine import margin
from hexdesk.engine.account import SymbolState, money
from hexdesk.engine.book import rests_as_limit
from hexdesk.engine.core import ZERO, ExchangeCore
from hexdesk.engine.enums import Side
from hexdesk.engine.errors import BinanceError, ErrorCode, Rejection
from hexdesk.engine.events import Event, FundingSettled, InsuranceFundCovered, MarginTransferred
from hexdesk.engine.funding import funding_amount

# Enum members read as module constants: in Python 3.11 an Enum class attribute (OrderType.MARKET) goes
# through EnumType.__getattr__'s slow lookup hook (~0.1 µs; gone in 3.12), and the order path reads dozens.
_BUY = Side.BUY
_SELL = Side.SELL


class Ledger(ExchangeCore):
    """The money side of the Exchange: the cross wallet, the isolated wallets and the insurance fund."""

    # ------------------------------------------------------------------------------------- fills

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
        """Open or add: weighted entry; isolated posts notional / leverage from the cross wallet, in full.

        Whether the cross wallet can post it is decided before the fill (validation's cost check at placement
        and trigger, :meth:`_can_post_isolated` at every execution), so the position always carries the margin
        its leverage says it has.
        """
        size = abs(st.qty)
        st.entry = price if size == 0 else (size * st.entry + qty * price) / (size + qty)
        st.qty += sign * qty
        if st.is_isolated:
            posted = money(qty * price / st.leverage)
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

    # ---------------------------------------------------------------------------- insurance fund

    def _cover_cross_shortfall(self, symbol: str, reason: str) -> None:
        if self._cross_wallet < 0:
            short = -self._cross_wallet
            self._cross_wallet = ZERO
            self._cover(symbol, short, reason)

    def _cover(self, symbol: str, amount: Decimal, reason: str) -> None:
        """Record the insurance fund paying ``amount`` (the caller has already put it where it belongs)."""
        self._insurance_cover += amount
        self._emit(InsuranceFundCovered, symbol, amount, reason)

    # ------------------------------------------------------------------------------------ margin

    def _available(self, exclude: int | None = None) -> Decimal:
        """Available balance: cross wallet + cross UPNL − cross position margin − resting orders' margin (≥ 0)."""
        return max(ZERO, self._available_raw(exclude))

    def _available_raw(self, exclude: int | None = None) -> Decimal:
        """The available balance before it is floored at 0 (negative: the margin in use exceeds the balance)."""
        cross = self._cross_open
        cross_im = sum((abs(s.qty) * s.mark / s.leverage for s in cross.values()), ZERO) if cross else ZERO
        return self._cross_wallet + self._cross_upnl - cross_im - self._open_order_margin(exclude)

    def _cross_wallet_free(self, exclude: int | None = None) -> Decimal:
        """What the cross wallet can hand to isolated margin (a transfer in, or a fill of an isolated order):
        cross wallet + cross unrealized loss − cross maintenance margin − the initial margin isolated resting
        orders will take from it when they fill. Unrealized profit is not money yet, so it is not counted; the
        cross positions keep their maintenance margin, so moving this much never makes the cross account
        liquidatable or its wallet negative. May be negative (nothing can be moved)."""
        return (
            self._cross_wallet
            + min(ZERO, self._cross_upnl)
            - self._cross_mm
            - self._open_order_margin(exclude, isolated_only=True)
        )

    def _can_post_isolated(
        self, st: SymbolState, side: Side, fills: list[tuple[Decimal, Decimal]], fee_rate: Decimal,
        exclude: int | None = None, free: Decimal | None = None,
    ) -> bool:
        """Whether the cross wallet can post the initial margin (notional / leverage at each fill price) of the
        part of ``fills`` that opens or adds to an isolated position, plus the fills' fees. What a closing part
        hands back first (its share of the isolated wallet plus realized PnL, as ``_release_isolated`` moves it)
        counts toward it. True for cross positions and for fills that only reduce. ``free``: the caller's
        ``_cross_wallet_free(exclude)`` of this very state, if it has it already."""
        if not st.is_isolated:
            return True
        size = abs(st.qty) if st.qty * side.sign < 0 else ZERO
        if len(fills) == 1:  # (one level, the usual market order: no generator)
            total = fills[0][1] if fills[0][1] > 0 else ZERO
        else:
            total = sum((qty for _, qty in fills if qty > 0), ZERO)
        if total <= size:
            return True  # only reduces: nothing to post
        pos_sign = 1 if st.qty > 0 else -1
        wallet = st.iso_wallet
        need = back = ZERO
        opens = False
        for price, qty in fills:
            closing = min(qty, size)
            opening = qty - closing
            if closing > 0:
                release = wallet if closing == size else money(wallet * closing / size)
                wallet -= release
                size -= closing
                back += max(ZERO, release + money(closing * (price - st.entry) * pos_sign))
            if opening > 0:
                opens = True
                need += money(opening * price / st.leverage)
            need += money(qty * price * fee_rate)
        if not opens:
            return True
        return need - back <= (self._cross_wallet_free(exclude) if free is None else free)

    def _open_order_margin(self, exclude: int | None = None, isolated_only: bool = False) -> Decimal:
        """Initial margin reserved by resting limit orders: per symbol and side, only the part that would open
        exposure beyond what it can reduce of the current position, at the orders' prices (``isolated_only``:
        only isolated symbols' orders, the ones whose margin leaves the cross wallet when they fill)."""
        total = ZERO
        for st in self._state.values():
            book = st.book
            if not (book.buy_limits or book.sell_limits) or (isolated_only and not st.is_isolated):
                continue  # no order rests as a limit (the limit indices hold exactly those)
            for side in (_BUY, _SELL):
                qty = notional = ZERO
                for o in st.book.orders.values():
                    if o.side is side and o.order_id != exclude and rests_as_limit(o) and not o.reduce_only:
                        qty += o.remaining_qty
                        notional += o.remaining_qty * o.price
                if qty:
                    opening = max(ZERO, qty - self._reducible(st, side))
                    total += notional * opening / qty / st.leverage
        return total

    def transfer_margin(self, symbol: str, amount: Decimal) -> tuple[Event, ...]:
        """Add (> 0) or remove (< 0) isolated margin, as Binance allows it.

        Adding draws on :meth:`_cross_wallet_free` (never on unrealized profit), and never more than the
        available balance (-2019): the cross wallet cannot go negative by a transfer. Removing allows at most
        :meth:`_isolated_removable` (else -4051).
        """
        st = self._symbol(symbol)
        amount = money(amount)
        if not st.is_isolated or not st.qty or not amount:
            raise BinanceError(Rejection.of(ErrorCode.INVALID_PARAMETER, "amount" if st.qty else "symbol"))
        if amount > 0:
            if amount > self._available() or amount > self._cross_wallet_free():
                raise BinanceError(Rejection.of(ErrorCode.MARGIN_NOT_SUFFICIENT))
        elif -amount > self._isolated_removable(st):
            raise BinanceError(Rejection.of(ErrorCode.ISOLATED_BALANCE_INSUFFICIENT))
        self._cross_wallet -= amount
        st.iso_wallet += amount
        self._emit(MarginTransferred, symbol, amount, st.iso_wallet)
        self._position_changed(st)
        self._check_isolated(st)
        return self._flush()

    def _isolated_removable(self, st: SymbolState) -> Decimal:
        """Binance's maximum removable isolated margin: ``min(isolated wallet − MM, isolated wallet + UPNL −
        notional × IMR)``, notional at the mark, IMR = 1 / leverage (never below 0). Unrealized profit counts
        toward the initial margin the position keeps, but what leaves must stay above the maintenance margin."""
        assert st.mark is not None
        notional = abs(st.qty) * st.mark
        mm = margin.maintenance_margin(st.instrument, notional)
        upnl = st.qty * (st.mark - st.entry)
        return max(ZERO, min(st.iso_wallet - mm, st.iso_wallet + upnl - notional / st.leverage))

    # ---------------------------------------------------------------------------------- leverage

    def _leverage_rejection(self, st: SymbolState, leverage: int) -> Rejection | None:
        """Binance's checks on a leverage change beyond the valid range (the caller checks -4028 / -4161).

        -2027: what the position and its open orders could reach on either side (position at the mark, orders at
        their limit or stop price; reduce-only and closePosition orders excluded) must fit the new leverage's
        notional cap. -2028: a lower leverage needs more initial margin for the position (cross) and the resting
        orders; it is refused when the available balance cannot carry it, or, for an isolated symbol's resting
        orders, when the cross wallet without unrealized profit could no longer post their margin.
        """
        if self._reach_notional(st) > st.instrument.max_notional_for_leverage(leverage):
            return Rejection.of(ErrorCode.MAX_LEVERAGE_RATIO)
        if leverage >= st.leverage or not (st.book.orders or (st.qty and not st.is_isolated)):
            return None
        old = st.leverage
        before_available, before_free = self._available_raw(), self._cross_wallet_free()
        st.leverage = leverage
        try:
            after_available, after_free = self._available_raw(), self._cross_wallet_free()
        finally:
            st.leverage = old
        if (after_available < before_available and after_available < 0) or (
            after_free < before_free and after_free < 0
        ):
            return Rejection.of(ErrorCode.MIN_LEVERAGE_RATIO)
        return None

    def _reach_notional(self, st: SymbolState) -> Decimal:
        """The larger side's notional the position plus the open orders that could add to it would reach."""
        mark = st.mark if st.mark is not None else st.entry
        reach = ZERO
        for side in (_BUY, _SELL):
            notional = side.sign * st.qty * mark
            for o in st.book:
                if o.side is side and o.is_open and not o.reduce_only and not o.close_position:
                    price = o.price if o.type.has_limit_price else o.stop_price
                    notional += o.remaining_qty * price
            reach = max(reach, notional)
        return reach

    # ----------------------------------------------------------------------------------- funding

    def _settle_funding(self, st: SymbolState, at_ms: int) -> None:
        """Funding at a settlement instant for the position open at that instant, at the mark known then.

        Isolated: paid from / credited to the position's isolated wallet (it is part of what backs the position,
        §1.2); cross: the cross wallet. Called by the funding clock only for a priced symbol (so its mark is known)
        with a position and a rate; an amount that rounds to 0 moves nothing.
        """
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
