"""Risk first: size a position from the risk you accept, and preview an order before it is sent.

Two pure functions on top of :mod:`hexdesk.engine.margin`:

- :func:`size_position` turns "I risk 1% of my equity with a stop at X" into a quantity (rounded DOWN to the step
  size, so the loss at the stop, fees included, never exceeds the risk asked for), and says what that position
  costs, where it is liquidated and what is wrong with it.
- :func:`preview_order` shows what an order would do to the position: margin, cost, fees, the resulting entry
  and liquidation price, the loss at the stop and at liquidation, the reward-to-risk, and warnings.

Conventions (kept in step with the Exchange, see docs/engine.md):

- Fees are paid from the wallet (the cross wallet / available balance), not from an isolated position's
  margin: an isolated position's wallet is its initial margin. In cross mode the cross wallet that backs the
  position is the wallet *after* the entry fee has been paid.
- Entries by MARKET, STOP_MARKET, TAKE_PROFIT_MARKET and stop/take-profit limit orders are charged the taker fee
  (a triggered stop-limit usually takes liquidity); a LIMIT order pays the maker fee unless it is marketable at
  the last price. Exits at the stop-loss or take-profit are STOP_MARKET / TAKE_PROFIT_MARKET: taker.
- Losses exclude slippage: a stop that gaps fills worse (see docs/fill-model.md).
- Loss at liquidation: when the mark price reaches the liquidation price LP the position has lost
  ``Q·|EP − LP|``; the liquidation then charges the clearance fee ``liquidationFee × Q × LP``, capped by the
  margin balance left (the maintenance margin; in cross also that of the other positions). Isolated, this adds
  up to the position's margin (plus the entry fee); cross, it can be most of the cross wallet.
- Distances are in percent of the order's assumed price (the entry), not of the current price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum

from hexdesk.engine.enums import MarginMode, OrderType, Side, TimeInForce
from hexdesk.engine.instruments import Instrument
from hexdesk.engine.margin import (
    bankruptcy_price,
    initial_margin,
    liquidation_price,
    maintenance_margin,
    open_loss,
)
from hexdesk.engine.orders import OrderRequest

ZERO = Decimal(0)
HUNDRED = Decimal(100)

#: Above this leverage the preview and the sizer warn (HIGH_LEVERAGE).
HIGH_LEVERAGE_THRESHOLD = 20
#: A liquidation price within this many percent of the entry is "close" (LIQUIDATION_CLOSE).
LIQUIDATION_CLOSE_PCT = Decimal("2")
#: Risking more than this percent of equity on one trade is flagged (RISK_ABOVE_LIMIT).
MAX_RISK_PCT = Decimal("2")

__all__ = [
    "HIGH_LEVERAGE_THRESHOLD",
    "LIQUIDATION_CLOSE_PCT",
    "MAX_RISK_PCT",
    "OrderPreview",
    "PositionSizing",
    "PreviewContext",
    "RiskWarning",
    "loss_at_liquidation",
    "preview_order",
    "size_position",
]


class RiskWarning(StrEnum):
    """Something a trader should read before sending the order. ``.message`` says it in words."""

    STOP_BEYOND_LIQUIDATION = "STOP_BEYOND_LIQUIDATION"
    HIGH_LEVERAGE = "HIGH_LEVERAGE"
    LIQUIDATION_CLOSE = "LIQUIDATION_CLOSE"
    RISK_ABOVE_LIMIT = "RISK_ABOVE_LIMIT"
    NO_STOP_LOSS = "NO_STOP_LOSS"
    STOP_LOSS_WRONG_SIDE = "STOP_LOSS_WRONG_SIDE"
    TAKE_PROFIT_WRONG_SIDE = "TAKE_PROFIT_WRONG_SIDE"
    LOW_REWARD_TO_RISK = "LOW_REWARD_TO_RISK"
    CROSS_LOSS_EXCEEDS_MARGIN = "CROSS_LOSS_EXCEEDS_MARGIN"
    INSUFFICIENT_MARGIN = "INSUFFICIENT_MARGIN"
    ABOVE_MAX_POSITION = "ABOVE_MAX_POSITION"
    BELOW_MIN_QTY = "BELOW_MIN_QTY"
    ABOVE_MAX_QTY = "ABOVE_MAX_QTY"
    BELOW_MIN_NOTIONAL = "BELOW_MIN_NOTIONAL"

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES: dict[RiskWarning, str] = {
    RiskWarning.STOP_BEYOND_LIQUIDATION: (
        "The liquidation price is reached before your stop-loss: you would be liquidated (losing the whole margin "
        "and a liquidation fee) instead of stopped out. Lower the leverage or tighten the stop."
    ),
    RiskWarning.HIGH_LEVERAGE: (
        f"Leverage above {HIGH_LEVERAGE_THRESHOLD}x: a small move against you liquidates the position."
    ),
    RiskWarning.LIQUIDATION_CLOSE: (
        f"The liquidation price is within {LIQUIDATION_CLOSE_PCT}% of the entry: ordinary noise can liquidate you."
    ),
    RiskWarning.RISK_ABOVE_LIMIT: (
        f"This trade risks more than {MAX_RISK_PCT}% of your equity: a few losses in a row would hurt badly."
    ),
    RiskWarning.NO_STOP_LOSS: (
        "No stop-loss: your loss is limited only by liquidation (isolated) or by your whole cross wallet (cross)."
    ),
    RiskWarning.STOP_LOSS_WRONG_SIDE: (
        "The stop-loss is on the wrong side of the entry (above it for a long, below it for a short): "
        "it would trigger at once."
    ),
    RiskWarning.TAKE_PROFIT_WRONG_SIDE: (
        "The take-profit is on the wrong side of the entry (below it for a long, above it for a short)."
    ),
    RiskWarning.LOW_REWARD_TO_RISK: (
        "The take-profit earns less than the stop-loss loses (after fees): reward-to-risk below 1R."
    ),
    RiskWarning.CROSS_LOSS_EXCEEDS_MARGIN: (
        "Cross margin: the whole cross wallet backs this position, so at liquidation you lose far more than its "
        "initial margin."
    ),
    RiskWarning.INSUFFICIENT_MARGIN: (
        "The margin needed is more than your available balance: Binance would reject the order (-2019 Margin is "
        "insufficient). Raise the leverage or reduce the size."
    ),
    RiskWarning.ABOVE_MAX_POSITION: (
        "The position is larger than this leverage allows (-2027): lower the leverage or reduce the size."
    ),
    RiskWarning.BELOW_MIN_QTY: (
        "The quantity is below the symbol's minimum order quantity (-4004): the risk is too small to trade."
    ),
    RiskWarning.ABOVE_MAX_QTY: "The quantity is above the symbol's maximum order quantity (-4005).",
    RiskWarning.BELOW_MIN_NOTIONAL: (
        "The order's notional is below the symbol's minimum (-4164): Binance would reject it."
    ),
}


# -- shared arithmetic ------------------------------------------------------------------------------------


def loss_at_liquidation(
    instrument: Instrument,
    quantity: Decimal,
    entry_price: Decimal,
    liq_price: Decimal | None,
    entry_fee: Decimal = ZERO,
    other_maintenance: Decimal = ZERO,
) -> Decimal | None:
    """What the trader loses if the mark reaches ``liq_price``: ``Q·|EP − LP|`` + the clearance fee
    (``liquidationFee × Q × LP``, capped by the margin balance left at LP: the position's maintenance margin
    plus, in cross, ``other_maintenance``) + the entry fee. None without a liquidation price."""
    if liq_price is None or quantity == 0:
        return None
    size = abs(quantity)
    notional_at_lp = size * liq_price
    left = maintenance_margin(instrument, notional_at_lp) + other_maintenance
    clearance = min(instrument.liquidation_fee * notional_at_lp, max(ZERO, left))
    return size * abs(entry_price - liq_price) + clearance + entry_fee


def _stop_beyond_liquidation(sign: int, stop: Decimal, liq_price: Decimal | None) -> bool:
    """Long: the mark falls to LP before the stop (LP >= stop); short: rises to LP first (LP <= stop)."""
    if liq_price is None:
        return False
    return liq_price >= stop if sign > 0 else liq_price <= stop


def _distance_pct(price: Decimal, liq_price: Decimal | None) -> Decimal | None:
    if liq_price is None or price == 0:
        return None
    return abs(price - liq_price) / price * HUNDRED


def _ordered(warnings: list[RiskWarning]) -> tuple[RiskWarning, ...]:
    """Unique, in the order the enum lists them (most important first)."""
    present = set(warnings)
    return tuple(w for w in RiskWarning if w in present)


# -- position sizing ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PositionSizing:
    """The position :func:`size_position` proposes and what it implies (USDT unless noted)."""

    side: Side
    quantity: Decimal  # base asset, rounded down to the step size
    notional: Decimal  # quantity × entry
    initial_margin: Decimal  # notional / leverage
    leverage_needed: int | None  # the smallest leverage whose margin fits the available balance (None: none does)
    risk_amount: Decimal  # equity × risk_pct / 100: the most the trade may lose
    loss_at_stop: Decimal  # quantity × |entry − stop| + fees (<= risk_amount)
    fees: Decimal  # taker fee on the entry and on the stop exit
    liquidation_price: Decimal | None
    loss_at_liquidation: Decimal | None
    r_multiple: Decimal | None  # net profit at take_profit / loss_at_stop
    warnings: tuple[RiskWarning, ...]

    @property
    def risk_used_pct(self) -> Decimal:
        """How much of the risk budget the rounded-down quantity actually uses, in percent."""
        return self.loss_at_stop / self.risk_amount * HUNDRED if self.risk_amount else ZERO


def size_position(
    instrument: Instrument,
    equity: Decimal,
    entry: Decimal,
    stop: Decimal,
    *,
    risk_pct: Decimal = Decimal("1"),
    leverage: int,
    margin_mode: MarginMode = MarginMode.ISOLATED,
    take_profit: Decimal | None = None,
    available_balance: Decimal | None = None,
    cross_wallet_balance: Decimal | None = None,
) -> PositionSizing:
    """Size a position so that a stop-out loses at most ``risk_pct`` % of ``equity``, fees included.

    ``quantity = floor_step(risk / (|entry − stop| + takerFee × (entry + stop)))``. A stop below the entry makes a
    long, above it a short. ``available_balance`` (default: equity) is what the margin must fit in;
    ``cross_wallet_balance`` (default: equity) backs a cross position. Problems (stop beyond liquidation, too
    small to trade, not enough margin...) come back as warnings; only nonsensical inputs raise ValueError.
    """
    if equity <= 0:
        raise ValueError(f"equity must be positive, got {equity}")
    if entry <= 0 or stop <= 0:
        raise ValueError(f"entry and stop must be positive prices, got entry {entry} and stop {stop}")
    if stop == entry:
        raise ValueError("the stop must differ from the entry: with the stop at the entry there is no risk to size")
    if not ZERO < risk_pct <= HUNDRED:
        raise ValueError(f"risk_pct is a percentage of equity in (0, 100], got {risk_pct}")
    if not 1 <= leverage <= instrument.max_leverage:
        raise ValueError(f"leverage must be between 1 and {instrument.max_leverage}x, got {leverage}")
    side = Side.BUY if stop < entry else Side.SELL
    sign = side.sign
    if take_profit is not None and (take_profit - entry) * sign <= 0:
        where = "above" if side is Side.BUY else "below"
        raise ValueError(f"the take-profit must be {where} the entry for a {'long' if sign > 0 else 'short'}")
    available = equity if available_balance is None else available_balance
    cross_wallet = equity if cross_wallet_balance is None else cross_wallet_balance

    taker = instrument.taker_fee
    risk_amount = equity * risk_pct / HUNDRED
    per_unit = abs(entry - stop) + taker * (entry + stop)
    quantity = instrument.round_qty(risk_amount / per_unit)
    while quantity > 0 and quantity * per_unit > risk_amount:  # guard against division rounding up
        quantity -= instrument.step_size
    notional = quantity * entry
    margin = initial_margin(notional, leverage)
    entry_fee = taker * notional
    fees = entry_fee + taker * quantity * stop
    loss_stop = quantity * abs(entry - stop) + fees
    needed: int | None = None
    if available > 0:
        needed = max(1, int((notional / available).to_integral_value(rounding=ROUND_CEILING)))

    signed_qty = sign * quantity
    wallet = margin if margin_mode is MarginMode.ISOLATED else cross_wallet - entry_fee
    liq = liquidation_price(instrument, signed_qty, entry, wallet) if quantity else None
    loss_liq = loss_at_liquidation(instrument, signed_qty, entry, liq, entry_fee)

    r_multiple = None
    if take_profit is not None and loss_stop > 0:
        reward = quantity * abs(take_profit - entry) - entry_fee - taker * quantity * take_profit
        r_multiple = reward / loss_stop

    warnings: list[RiskWarning] = []
    if _stop_beyond_liquidation(sign, stop, liq):
        warnings.append(RiskWarning.STOP_BEYOND_LIQUIDATION)
    if leverage > HIGH_LEVERAGE_THRESHOLD:
        warnings.append(RiskWarning.HIGH_LEVERAGE)
    dist = _distance_pct(entry, liq)
    if dist is not None and dist < LIQUIDATION_CLOSE_PCT:
        warnings.append(RiskWarning.LIQUIDATION_CLOSE)
    if risk_pct > MAX_RISK_PCT:
        warnings.append(RiskWarning.RISK_ABOVE_LIMIT)
    if r_multiple is not None and r_multiple < 1:
        warnings.append(RiskWarning.LOW_REWARD_TO_RISK)
    if margin_mode is MarginMode.CROSS and loss_liq is not None and loss_liq > margin + entry_fee:
        warnings.append(RiskWarning.CROSS_LOSS_EXCEEDS_MARGIN)
    if margin > available:
        warnings.append(RiskWarning.INSUFFICIENT_MARGIN)
    if notional > instrument.max_notional_for_leverage(leverage):
        warnings.append(RiskWarning.ABOVE_MAX_POSITION)
    if quantity < instrument.min_qty:
        warnings.append(RiskWarning.BELOW_MIN_QTY)
    if quantity > instrument.max_qty:
        warnings.append(RiskWarning.ABOVE_MAX_QTY)
    if notional < instrument.min_notional:
        warnings.append(RiskWarning.BELOW_MIN_NOTIONAL)

    return PositionSizing(
        side=side,
        quantity=quantity,
        notional=notional,
        initial_margin=margin,
        leverage_needed=needed,
        risk_amount=risk_amount,
        loss_at_stop=loss_stop,
        fees=fees,
        liquidation_price=liq,
        loss_at_liquidation=loss_liq,
        r_multiple=r_multiple,
        warnings=_ordered(warnings),
    )


# -- order preview -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PreviewContext:
    """The account as it stands for the order's symbol, as the Exchange reports it.

    ``position_qty`` is signed (+ long, − short), ``entry_price`` its entry (any value when flat),
    ``isolated_wallet`` the position's isolated wallet (0 under cross). ``other_maintenance`` / ``other_upnl`` are
    TMM1 / UPNL1: the maintenance margin and unrealized PnL of the OTHER cross positions (0 under isolated).
    """

    instrument: Instrument
    last_price: Decimal
    mark_price: Decimal
    position_qty: Decimal
    entry_price: Decimal
    isolated_wallet: Decimal
    leverage: int
    margin_mode: MarginMode
    cross_wallet_balance: Decimal
    other_maintenance: Decimal
    other_upnl: Decimal
    available_balance: Decimal
    equity: Decimal


@dataclass(frozen=True, slots=True)
class OrderPreview:
    """What an order would do, computed before it is sent (USDT unless noted).

    ``quantity`` is what would trade (a reduce-only order is capped at the position); ``initial_margin``,
    ``open_loss`` and ``cost`` (Binance's cost to open, §1.5) concern only the part that opens or increases a
    position. ``resulting_*`` and the liquidation figures describe the position after the order fills at
    ``assumed_price``; ``loss_at_stop`` and ``r_multiple`` its exit at the attached stop-loss / take-profit (the
    attached orders close the whole resulting position). A negative ``loss_at_stop`` means the stop locks in a
    profit. Fees counted are this order's entry fee and the exit fee: fees paid earlier are sunk.
    """

    side: Side
    quantity: Decimal
    assumed_price: Decimal
    notional: Decimal
    initial_margin: Decimal
    open_loss: Decimal
    cost: Decimal
    entry_fee: Decimal
    exit_fee_at_stop: Decimal | None
    resulting_qty: Decimal
    resulting_entry_price: Decimal
    liquidation_price: Decimal | None
    bankruptcy_price: Decimal | None
    loss_at_stop: Decimal | None
    loss_at_liquidation: Decimal | None
    distance_to_liquidation_pct: Decimal | None
    r_multiple: Decimal | None
    warnings: tuple[RiskWarning, ...]


def _assumed_price(request: OrderRequest, ctx: PreviewContext) -> Decimal:
    """Market: the last price; limit: its limit price; stop-limit / take-profit-limit: the limit price;
    stop-market / take-profit-market: the stop price."""
    t = request.type
    if t is OrderType.MARKET:
        return ctx.last_price
    if t.has_limit_price:
        if request.price is None:
            raise ValueError(f"a {t} order needs a price")
        return request.price
    if request.stop_price is None:
        raise ValueError(f"a {t} order needs a stop_price")
    return request.stop_price


def _entry_fee_rate(request: OrderRequest, ctx: PreviewContext, price: Decimal) -> Decimal:
    inst = ctx.instrument
    if request.type is OrderType.LIMIT:
        if request.time_in_force is TimeInForce.GTX:
            return inst.maker_fee
        marketable = price >= ctx.last_price if request.side is Side.BUY else price <= ctx.last_price
        return inst.taker_fee if marketable else inst.maker_fee
    return inst.taker_fee


def preview_order(request: OrderRequest, ctx: PreviewContext) -> OrderPreview:
    """Preview ``request`` against the account state ``ctx`` (see :class:`OrderPreview`)."""
    inst = ctx.instrument
    side = request.side
    sign = side.sign
    price = _assumed_price(request, ctx)
    if price <= 0:
        raise ValueError(f"the order's price must be positive, got {price}")
    pos = ctx.position_qty
    pos_size = abs(pos)
    reduces = pos != 0 and (pos > 0) != (sign > 0)

    if request.quantity is not None:
        quantity = request.quantity
    elif request.close_position:
        quantity = pos_size if reduces else ZERO
    else:
        raise ValueError("the order has no quantity (and is not closePosition)")
    if quantity < 0:
        raise ValueError(f"quantity must not be negative, got {quantity}")
    closing = min(quantity, pos_size) if reduces else ZERO
    if request.reduce_only or request.close_position:
        quantity = closing
    opening = quantity - closing

    # The position after the fill.
    new_qty = pos + sign * quantity
    if new_qty == 0:
        new_entry = ZERO
    elif opening == 0:
        new_entry = ctx.entry_price  # only reduced
    elif reduces or pos == 0:
        new_entry = price  # opened from flat, or flipped: the remainder opens at this price
    else:
        new_entry = (pos_size * ctx.entry_price + opening * price) / (pos_size + opening)
    new_size = abs(new_qty)

    notional = quantity * price
    fee_rate = _entry_fee_rate(request, ctx, price)
    entry_fee = fee_rate * notional
    margin = initial_margin(opening * price, ctx.leverage)
    o_loss = open_loss(sign, opening, price, ctx.mark_price)
    cost = margin + o_loss
    realized = closing * (price - ctx.entry_price) * (1 if pos > 0 else -1) if closing else ZERO

    # The wallet that backs the resulting position.
    if ctx.margin_mode is MarginMode.ISOLATED:
        if new_size == 0:
            wallet = ZERO
        elif opening == 0:
            wallet = ctx.isolated_wallet * new_size / pos_size  # a reduction releases margin pro rata
        elif reduces:
            wallet = margin  # flipped: the old position's margin is released, the new part posts its own
        else:
            wallet = ctx.isolated_wallet + margin
        other_mm, other_upnl = ZERO, ZERO
    else:
        wallet = ctx.cross_wallet_balance + realized - entry_fee
        other_mm, other_upnl = ctx.other_maintenance, ctx.other_upnl

    liq = liquidation_price(inst, new_qty, new_entry, wallet, other_mm, other_upnl) if new_size else None
    bkr = bankruptcy_price(new_qty, new_entry, wallet, other_upnl) if new_size else None
    # Only this order's fee counts toward the loss: earlier fees are already paid.
    loss_liq = loss_at_liquidation(inst, new_qty, new_entry, liq, entry_fee, other_mm)
    distance = _distance_pct(price, liq)
    pos_sign = 1 if new_qty > 0 else -1

    stop = request.stop_loss
    exit_fee = loss_stop = None
    if stop is not None and new_size:
        exit_fee = inst.taker_fee * new_size * stop
        loss_stop = -(new_qty * (stop - new_entry)) + entry_fee + exit_fee
    r_multiple = None
    tp = request.take_profit
    if tp is not None and loss_stop is not None and loss_stop > 0:
        reward = new_qty * (tp - new_entry) - entry_fee - inst.taker_fee * new_size * tp
        r_multiple = reward / loss_stop

    warnings: list[RiskWarning] = []
    if stop is not None and new_size and _stop_beyond_liquidation(pos_sign, stop, liq):
        warnings.append(RiskWarning.STOP_BEYOND_LIQUIDATION)
    if ctx.leverage > HIGH_LEVERAGE_THRESHOLD and opening:
        warnings.append(RiskWarning.HIGH_LEVERAGE)
    if distance is not None and distance < LIQUIDATION_CLOSE_PCT:
        warnings.append(RiskWarning.LIQUIDATION_CLOSE)
    at_risk = loss_stop if stop is not None else loss_liq
    if opening and at_risk is not None and at_risk > ctx.equity * MAX_RISK_PCT / HUNDRED:
        warnings.append(RiskWarning.RISK_ABOVE_LIMIT)
    if opening and stop is None:
        warnings.append(RiskWarning.NO_STOP_LOSS)
    if stop is not None and new_size and (stop - price) * pos_sign >= 0:
        warnings.append(RiskWarning.STOP_LOSS_WRONG_SIDE)
    if tp is not None and new_size and (tp - price) * pos_sign <= 0:
        warnings.append(RiskWarning.TAKE_PROFIT_WRONG_SIDE)
    if r_multiple is not None and r_multiple < 1:
        warnings.append(RiskWarning.LOW_REWARD_TO_RISK)
    position_margin = initial_margin(new_size * new_entry, ctx.leverage)
    if (
        ctx.margin_mode is MarginMode.CROSS and opening and loss_liq is not None
        and loss_liq > position_margin + entry_fee
    ):
        warnings.append(RiskWarning.CROSS_LOSS_EXCEEDS_MARGIN)
    if opening and cost > ctx.available_balance:
        warnings.append(RiskWarning.INSUFFICIENT_MARGIN)
    if opening and new_size * new_entry > inst.max_notional_for_leverage(ctx.leverage):
        warnings.append(RiskWarning.ABOVE_MAX_POSITION)
    market = request.type in (OrderType.MARKET, OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET)
    min_qty = inst.market_min_qty if market else inst.min_qty
    max_qty = inst.market_max_qty if market else inst.max_qty
    if not request.close_position:
        if quantity < min_qty:
            warnings.append(RiskWarning.BELOW_MIN_QTY)
        if quantity > max_qty:
            warnings.append(RiskWarning.ABOVE_MAX_QTY)
        if not request.reduce_only and notional < inst.min_notional:
            warnings.append(RiskWarning.BELOW_MIN_NOTIONAL)

    return OrderPreview(
        side=side,
        quantity=quantity,
        assumed_price=price,
        notional=notional,
        initial_margin=margin,
        open_loss=o_loss,
        cost=cost,
        entry_fee=entry_fee,
        exit_fee_at_stop=exit_fee,
        resulting_qty=new_qty,
        resulting_entry_price=new_entry,
        liquidation_price=liq,
        bankruptcy_price=bkr,
        loss_at_stop=loss_stop,
        loss_at_liquidation=loss_liq,
        distance_to_liquidation_pct=distance,
        r_multiple=r_multiple,
        warnings=_ordered(warnings),
    )
