"""Binance's margin arithmetic as pure functions (reference §1): maintenance margin from brackets,
initial margin, the cost to open, bankruptcy and liquidation prices with the tier re-check.

Everything is Decimal and unrounded: rounding is for display, never for the money itself.
"""

from __future__ import annotations

from decimal import Decimal

from hexdesk.engine.instruments import Bracket, Instrument

ZERO = Decimal(0)
ONE = Decimal(1)


def maintenance_margin(instrument: Instrument, notional: Decimal) -> Decimal:
    """MM = notional × MMR(tier) − cum(tier), notional at the mark price (continuous across tiers)."""
    b = instrument.bracket_for_notional(abs(notional))
    return abs(notional) * b.maint_margin_ratio - b.cum


def initial_margin(notional: Decimal, leverage: int) -> Decimal:
    """IM = notional / leverage."""
    return abs(notional) / leverage


def unrealized_pnl(quantity: Decimal, entry_price: Decimal, mark_price: Decimal) -> Decimal:
    """Signed quantity × (mark − entry): positive when the position is in profit."""
    return quantity * (mark_price - entry_price)


def open_loss(side_sign: int, quantity: Decimal, order_price: Decimal, mark_price: Decimal) -> Decimal:
    """Binance's open loss (§1.5): what the order would lose at once against the mark price."""
    return abs(quantity) * abs(min(ZERO, side_sign * (mark_price - order_price)))


def order_cost(
    side_sign: int, quantity: Decimal, order_price: Decimal, mark_price: Decimal, leverage: int
) -> Decimal:
    """Cost to open (§1.5) = initial margin at the order price + open loss."""
    return initial_margin(quantity * order_price, leverage) + open_loss(
        side_sign, quantity, order_price, mark_price
    )


def _solve(
    bracket: Bracket, side: int, size: Decimal, entry: Decimal, wallet: Decimal,
    other_maintenance: Decimal, other_upnl: Decimal,
) -> Decimal:
    """The one-way liquidation formula (§1.2) with one tier's MMR and cum."""
    num = wallet - other_maintenance + other_upnl + bracket.cum - side * size * entry
    den = size * bracket.maint_margin_ratio - side * size
    return num / den


def liquidation_price(
    instrument: Instrument,
    quantity: Decimal,
    entry_price: Decimal,
    wallet_balance: Decimal,
    other_maintenance: Decimal = ZERO,
    other_upnl: Decimal = ZERO,
) -> Decimal | None:
    """The mark price at which margin ratio reaches 100%, or None when there is none (Binance's "--").

    Isolated: ``wallet_balance`` is the position's isolated wallet, the others are 0. Cross:
    ``wallet_balance`` is the cross wallet, ``other_maintenance`` (TMM1) and ``other_upnl`` (UPNL1) are
    those of the other cross positions at their mark prices.

    Tier re-check (§1.2): the formula is first solved with the tier at the entry notional; if the
    notional at that price falls in another tier, the tier whose own solution lies inside it is used.
    Margin balance − MM is strictly monotone in price, so exactly one tier is consistent.
    """
    if quantity == 0:
        return None
    side = 1 if quantity > 0 else -1
    size = abs(quantity)
    first = instrument.bracket_for_notional(size * entry_price)
    price = _solve(first, side, size, entry_price, wallet_balance, other_maintenance, other_upnl)
    # (``is``: bracket_for_notional returns one of the table's own brackets, and no two tiers are alike)
    if price > 0 and instrument.bracket_for_notional(size * price) is first:
        return price  # the usual case: the tier at the entry notional is the consistent one
    for bracket in instrument.brackets:
        if bracket is first:
            continue
        price = _solve(bracket, side, size, entry_price, wallet_balance, other_maintenance, other_upnl)
        if price <= 0:
            # Not this tier's price. Another tier's (a lower cum) may still be positive and consistent: a long is
            # liquidatable unless no tier gives a positive consistent price (its margin covers the notional).
            continue
        if instrument.bracket_for_notional(size * price) is bracket:
            return price
    return None


def bankruptcy_price(
    quantity: Decimal,
    entry_price: Decimal,
    wallet_balance: Decimal,
    other_upnl: Decimal = ZERO,
) -> Decimal | None:
    """The price at which margin balance is exactly zero: where the liquidation engine closes (§1.4)."""
    if quantity == 0:
        return None
    price = entry_price - (wallet_balance + other_upnl) / quantity
    return price if price > 0 else None


def margin_ratio(maintenance: Decimal, margin_balance: Decimal) -> Decimal:
    """Maintenance margin / margin balance; 100% or more means liquidation (infinite if balance <= 0)."""
    if margin_balance <= 0:
        return Decimal("Infinity") if maintenance > 0 else ZERO
    return maintenance / margin_balance
