"""Liquidation arithmetic (reference §1.4): the clearance fee and the prices a cross liquidation closes at.

HexDesk always closes a liquidated position fully at its bankruptcy price (see docs/engine.md): the trader loses
exactly the margin that backed it (the isolated wallet, or the cross wallet), never more; the insurance fund
takes over the position at that price and keeps or loses the difference to the market.
"""

from __future__ import annotations

from decimal import Decimal

from hexdesk.engine.account import money

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
