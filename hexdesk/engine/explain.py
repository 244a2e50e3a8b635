"""Why a position was liquidated, in numbers a trader can check by hand (reference §1.1, §1.2, §1.4).

``explain_liquidation`` turns the ``PositionLiquidated`` events of one liquidation (one for an isolated position,
one per cross position for a cross liquidation, all from the same tick) and the instruments into a
:class:`LiquidationReport`: the mark, the tier the liquidated notional falls in (its maintenance margin rate and
maintenance amount), the maintenance margin, the margin balance at that moment, the margin lost and the clearance
fee. Pure and Qt-free: the desk builds it, the window only shows it.

The margin balance is rebuilt from the events alone, from two facts of the engine's liquidation (docs/engine.md):
an isolated position loses exactly its isolated wallet (``margin_lost`` = the wallet that backed it), and a cross
liquidation closes every cross position at the account's bankruptcy point, so the margins lost add up to the cross
wallet. Margin balance = that wallet + the unrealized PnL at the mark(s).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from hexdesk.engine.enums import MarginMode, Side
from hexdesk.engine.events import PositionLiquidated
from hexdesk.engine.instruments import Instrument
from hexdesk.engine.margin import margin_ratio

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class LiquidatedPosition:
    """One liquidated position valued at its mark when the liquidation engine took it over."""

    symbol: str
    side: Side  # BUY: it was a long
    quantity: Decimal  # size, > 0
    entry_price: Decimal
    mark_price: Decimal
    bankruptcy_price: Decimal
    notional: Decimal  # size × mark
    bracket: int  # the tier the notional falls in
    maint_margin_ratio: Decimal  # that tier's MMR
    maint_amount: Decimal  # that tier's cum ("maintenance amount")
    maintenance_margin: Decimal  # notional × MMR − cum
    unrealized_pnl: Decimal  # at the mark
    margin_lost: Decimal
    liquidation_fee: Decimal

    @property
    def is_long(self) -> bool:
        return self.side is Side.BUY


@dataclass(frozen=True, slots=True)
class LiquidationReport:
    """One liquidation: an isolated position, or every cross position that shared the cross wallet."""

    ts_ms: int
    margin_mode: MarginMode
    positions: tuple[LiquidatedPosition, ...]
    margin_balance: Decimal  # wallet that backed the position(s) + unrealized PnL at the mark(s)
    maintenance_margin: Decimal  # Σ of the positions' maintenance margins
    margin_lost: Decimal
    liquidation_fee: Decimal  # the part of the margin lost the insurance fund kept as clearance fee
    wallet_after: Decimal | None = None  # the account's wallet balance right after (what the desk saw)

    @property
    def margin_ratio(self) -> Decimal:
        """Maintenance margin / margin balance: 100% or more is what liquidates (∞ once the balance is gone)."""
        return margin_ratio(self.maintenance_margin, self.margin_balance)

    @property
    def wallet_before(self) -> Decimal | None:
        """The account's wallet balance before: after + what the liquidation took (no fee is charged on top)."""
        return None if self.wallet_after is None else self.wallet_after + self.margin_lost

    @property
    def isolated(self) -> bool:
        return self.margin_mode is MarginMode.ISOLATED


def explain_position(event: PositionLiquidated, instrument: Instrument) -> LiquidatedPosition:
    """The tier, maintenance margin and unrealized PnL of one liquidated position at its mark (§1.1)."""
    size = event.quantity
    notional = size * event.mark_price
    tier = instrument.bracket_for_notional(notional)
    sign = event.side.sign
    return LiquidatedPosition(
        symbol=event.symbol,
        side=event.side,
        quantity=size,
        entry_price=event.entry_price,
        mark_price=event.mark_price,
        bankruptcy_price=event.bankruptcy_price,
        notional=notional,
        bracket=tier.bracket,
        maint_margin_ratio=tier.maint_margin_ratio,
        maint_amount=tier.cum,
        maintenance_margin=notional * tier.maint_margin_ratio - tier.cum,
        unrealized_pnl=sign * size * (event.mark_price - event.entry_price),
        margin_lost=event.margin_lost,
        liquidation_fee=event.liquidation_fee,
    )


def explain_liquidation(
    events: Sequence[PositionLiquidated],
    instruments: Mapping[str, Instrument],
    wallet_after: Decimal | None = None,
) -> LiquidationReport:
    """The report of one liquidation from its events: one isolated event, or every cross event of that tick.

    ``wallet_after`` is the account's wallet balance right after the liquidation, if the caller knows it.
    """
    if not events:
        raise ValueError("a liquidation report needs at least one PositionLiquidated event")
    modes = {e.margin_mode for e in events}
    if len(modes) != 1 or (MarginMode.ISOLATED in modes and len(events) != 1):
        raise ValueError("one report is one isolated position or one cross liquidation")
    positions = tuple(explain_position(e, instruments[e.symbol]) for e in events)
    lost = sum((p.margin_lost for p in positions), ZERO)
    return LiquidationReport(
        ts_ms=events[0].ts_ms,
        margin_mode=events[0].margin_mode,
        positions=positions,
        margin_balance=lost + sum((p.unrealized_pnl for p in positions), ZERO),
        maintenance_margin=sum((p.maintenance_margin for p in positions), ZERO),
        margin_lost=lost,
        liquidation_fee=sum((p.liquidation_fee for p in positions), ZERO),
        wallet_after=wallet_after,
    )


def group_liquidations(events: Sequence[object]) -> list[list[PositionLiquidated]]:
    """The liquidations among ``events``, in order: each isolated one alone, the cross ones of one tick together."""
    groups: list[list[PositionLiquidated]] = []
    cross: dict[int, list[PositionLiquidated]] = {}
    for e in events:
        if not isinstance(e, PositionLiquidated):
            continue
        if e.margin_mode is MarginMode.CROSS:
            group = cross.get(e.ts_ms)
            if group is not None:
                group.append(e)
                continue
            group = cross[e.ts_ms] = []
            group.append(e)
            groups.append(group)
        else:
            groups.append([e])
    return groups
