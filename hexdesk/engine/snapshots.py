"""Position and account snapshots: the positions table and the account panel, valued at the mark, computed fresh.

These run on queries and on ``PositionChanged``, never on a quiet tick, so they recompute from the positions rather
than read the Exchange's running totals.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from hexdesk.engine import margin
from hexdesk.engine.account import SymbolState
from hexdesk.engine.positions import AccountSnapshot, Position

ZERO = Decimal(0)


def position_snapshot(st: SymbolState, cross_open: Iterable[SymbolState], cross_wallet: Decimal) -> Position:
    """``st``'s position at its mark. Isolated: margin ratio and LP from its own wallet. Cross: the account's
    cross ratio, and the LP with TMM1 / UPNL1 of the *other* open cross positions (§1.2)."""
    qty = st.qty
    mark = st.mark if st.mark is not None else st.entry
    if not qty:
        return Position(
            st.symbol, st.margin_mode, st.leverage, ZERO, ZERO, mark, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, None, None
        )
    inst = st.instrument
    notional = abs(qty) * mark
    upnl = qty * (mark - st.entry)
    bracket = inst.bracket_for_notional(notional)  # margin.maintenance_margin, for a notional already >= 0
    mm = notional * bracket.maint_margin_ratio - bracket.cum
    if st.is_isolated:
        ratio = margin.margin_ratio(mm, st.iso_wallet + upnl)
        liq = st.liq_price
        bkr = margin.bankruptcy_price(qty, st.entry, st.iso_wallet)
    else:
        others = [s for s in cross_open if s is not st]
        other_mm = sum((s.mm for s in others), ZERO)
        other_upnl = sum((s.upnl for s in others), ZERO)
        ratio = margin.margin_ratio(other_mm + mm, cross_wallet + other_upnl + upnl)
        liq = margin.liquidation_price(inst, qty, st.entry, cross_wallet, other_mm, other_upnl)
        bkr = margin.bankruptcy_price(qty, st.entry, cross_wallet, other_upnl)
    return Position(
        st.symbol, st.margin_mode, st.leverage, qty, st.entry, mark, st.iso_wallet if st.is_isolated else ZERO,
        upnl, notional, notional / st.leverage, mm, ratio, liq, bkr,
    )


def account_snapshot(
    cross_wallet: Decimal,
    isolated_wallets: Decimal,
    open_positions: Iterable[SymbolState],
    cross_open: Iterable[SymbolState],
    available: Decimal,
    open_order_margin: Decimal,
    insurance_cover: Decimal,
) -> AccountSnapshot:
    """The account panel. Wallet = cross wallet + isolated wallets; margin balance adds all unrealized PnL."""
    positions = list(open_positions)
    cross = list(cross_open)
    wallet = cross_wallet + isolated_wallets
    upnl = sum((s.qty * (s.mark - s.entry) for s in positions), ZERO)
    position_im = sum((abs(s.qty) * s.mark / s.leverage for s in positions), ZERO)
    cross_upnl = sum((s.qty * (s.mark - s.entry) for s in cross), ZERO)
    cross_mm = sum((margin.maintenance_margin(s.instrument, abs(s.qty) * s.mark) for s in cross), ZERO)
    return AccountSnapshot(
        wallet_balance=wallet,
        unrealized_pnl=upnl,
        margin_balance=wallet + upnl,
        available_balance=available,
        position_initial_margin=position_im,
        open_order_initial_margin=open_order_margin,
        cross_wallet_balance=cross_wallet,
        cross_unrealized_pnl=cross_upnl,
        cross_maintenance_margin=cross_mm,
        cross_margin_ratio=margin.margin_ratio(cross_mm, cross_wallet + cross_upnl),
        insurance_fund_cover=insurance_cover,
    )
