"""Money handling: fills against the position and the wallets, fees, isolated margin, insurance-fund cover,
margin transfers, funding settlement, and the available balance.

:class:`Ledger` is a mixin of :class:`hexdesk.engine.exchange.Exchange`. Every amount is rounded with
``account.money`` when it moves (docs/engine.md, "Rounding"), so balances are exact sums of 8-dp amounts.
"""

from __future__ import annotations

from decimal import Decimal

from hexdesk.engine.account import SymbolState, money
from hexdesk.engine.book import rests_as_limit
from hexdesk.engine.core import ZERO, ExchangeCore
from hexdesk.engine.enums import Side
from hexdesk.engine.errors import BinanceError, ErrorCode, Rejection
from hexdesk.engine.events import Event, FundingSettled, InsuranceFundCovered, MarginTransferred
from hexdesk.engine.funding import funding_amount


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

    # ----------------------------------------------------------------------------------- funding

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
