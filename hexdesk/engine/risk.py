"""Risk first: size a position from the risk you accept, and preview an order before it is sent.

Pure functions on top of :mod:`hexdesk.engine.margin` and the fill model:

- :func:`preview_order` shows what an order would do to the position: its expected fills and slippage, margin,
  cost, fees, the resulting entry and liquidation price, the loss at the stop and at liquidation, the
  reward-to-risk, and warnings. The fills come from the Exchange's own fill model with the symbol's current
  liquidity estimate (``PreviewContext.fill_model`` / ``.liquidity``), so a market order's preview is what
  ``submit`` would fill at that moment.
- :func:`size_order` turns "I risk 1% of my equity with a stop at X" into a quantity (rounded DOWN to the step
  size) whose preview's maximum loss at the stop, slippage and both fees included, is at most the risk asked
  for. :func:`size_position` is the same for a market entry from a flat account.

Conventions (kept in step with the Exchange, see docs/engine.md):

- Fees are paid from the wallet (the cross wallet / available balance), not from an isolated position's
  margin: an isolated position's wallet is its initial margin. In cross mode the cross wallet that backs the
  position is the wallet *after* the entry fee has been paid.
- Entries by MARKET, STOP_MARKET, TAKE_PROFIT_MARKET and stop/take-profit limit orders are charged the taker fee
  (a triggered stop-limit usually takes liquidity); a LIMIT order pays the maker fee unless it is marketable at
  the last price. Exits at the stop-loss or take-profit are STOP_MARKET / TAKE_PROFIT_MARKET: taker.
- Losses include slippage: the entry's from the fill model now, the stop's exit as a market order from the stop
  price, with the same liquidity (``loss_at_stop``, expected) or at the fill model's bound (``max_loss_at_stop``,
  whatever the liquidity then; what the sizer keeps within the risk). Only a gap through the stop fills worse
  than the bound (see docs/fill-model.md). Funding is not included.
- Losses are falls in equity from now: a position already open counts from the current mark.
- Loss at liquidation: when the mark price reaches the liquidation price LP the position has lost
  ``Q·|EP − LP|``; the liquidation then charges the clearance fee ``liquidationFee × Q × LP``, capped by the
  margin balance left (the maintenance margin; in cross also that of the other positions). Isolated, this adds
  up to the position's margin (plus the entry fee); cross, it can be most of the cross wallet.
- Distances are in percent of the order's assumed price (the entry), not of the current price.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum

from hexdesk.engine.account import money
from hexdesk.engine.enums import MarginMode, OrderType, Side, TimeInForce
from hexdesk.engine.errors import Rejection
from hexdesk.engine.fill_model import DefaultFillModel, FillModel, levels_within
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
#: The fill model a preview uses when it is not given the Exchange's.
DEFAULT_FILL_MODEL = DefaultFillModel()

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
    "size_order",
    "size_position",
]


class RiskWarning(StrEnum):
    """Something a trader should read before sending the order. ``.message`` says it in words."""

    STOP_BEYOND_LIQUIDATION = "STOP_BEYOND_LIQUIDATION"
    OPEN_POSITION_EXCEEDS_RISK = "OPEN_POSITION_EXCEEDS_RISK"
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
    RiskWarning.OPEN_POSITION_EXCEEDS_RISK: (
        "The position already open costs more than this risk (held to the stop, or closed first when this order "
        "is against it), so nothing can be sized: move the stop closer or reduce the position first."
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


# -- the order preview -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PreviewContext:
    """The account as it stands for the order's symbol, as the Exchange reports it.

    ``position_qty`` is signed (+ long, − short), ``entry_price`` its entry (any value when flat),
    ``isolated_wallet`` the position's isolated wallet (0 under cross). ``other_maintenance`` / ``other_upnl`` are
    TMM1 / UPNL1: the maintenance margin and unrealized PnL of the OTHER cross positions (0 under isolated).
    ``fill_model`` and ``liquidity`` are the Exchange's own fill model and the symbol's current liquidity estimate
    (base volume per minute from closed candles, see fill_model), so the preview prices an order exactly as
    ``submit`` would fill it now.
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
    fill_model: FillModel = DEFAULT_FILL_MODEL
    liquidity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderPreview:
    """What an order would do, computed before it is sent (USDT unless noted), slippage and fees included.

    ``quantity`` is what would trade (a reduce-only order is capped at the position). ``fills`` are the executions
    the fill model gives it now (a market order: exactly what ``submit`` would fill; a resting limit: its price;
    a stop-market entry: the fill model at its stop price), ``fill_price`` their average and ``slippage`` what
    they cost against ``assumed_price`` (the last price, or the stop price that triggers the order; a resting
    limit has none). ``initial_margin``, ``open_loss`` and ``cost`` (Binance's cost to open, §1.5) concern only the
    part that opens or increases a position; ``total_cost`` = ``cost`` + ``entry_fee``, what the available balance
    drops by when it fills.

    ``resulting_*`` and the liquidation figures describe the position after the fills. ``loss_at_stop`` is what the
    equity falls by, from now, if the attached stop-loss closes that whole resulting position: this order's
    slippage and taker/maker entry fee, the stop's own slippage (a STOP_MARKET fills as a market order from the
    stop price, ``exit_price_at_stop``) and its taker fee, and the move to the stop; a position already open counts
    from the current mark (its profit so far is part of the equity at risk). Negative: the stop locks in a gain.
    ``max_loss_at_stop`` is the same with the stop's exit (and a stop-market entry) at the fill model's bounded
    worst price: the most the stop-out can cost whatever the liquidity when it triggers, which the sizer keeps
    within the risk. ``loss_at_liquidation`` is the fall in equity if the mark reaches the liquidation price (the
    clearance fee included); ``profit_at_take_profit`` / ``r_multiple`` the net gain at the take-profit and its
    ratio to ``loss_at_stop``. A gap through the stop fills worse than ``exit_price_at_stop``; funding is not
    included. ``rejection`` is set by ``Exchange.preview``: the Binance error the same request would get if it were
    sent now (the same checks ``submit`` runs), so the ticket never shows a trade the exchange would refuse.
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
    fills: tuple[tuple[Decimal, Decimal], ...]
    fill_price: Decimal
    slippage: Decimal
    slippage_pct: Decimal
    total_cost: Decimal
    exit_price_at_stop: Decimal | None
    exit_slippage_at_stop: Decimal | None
    max_loss_at_stop: Decimal | None
    profit_at_take_profit: Decimal | None
    liquidity: Decimal | None
    rejection: Rejection | None = None  # what Exchange.submit would answer now (None: it would be accepted)


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


@dataclass(frozen=True, slots=True)
class _Execution:
    """One expected execution of the order: price, quantity, fee rate, and the price its slippage counts from."""

    price: Decimal
    qty: Decimal
    rate: Decimal
    reference: Decimal


def _worst_liquidity(ctx: PreviewContext) -> Decimal | None:
    """The liquidity that makes the fill model charge its bound (0: no sign of liquidity); None stays None (no
    volume model: the Exchange never charges more than the spread then)."""
    return None if ctx.liquidity is None else ZERO


def _expected_fills(
    request: OrderRequest, ctx: PreviewContext, quantity: Decimal, price: Decimal, worst: bool = False
) -> list[_Execution]:
    """The executions of ``quantity`` as the Exchange would make them now (order_handling ``_start`` / ``_trigger``).

    MARKET: the fill model at the last price (taker). STOP_MARKET / TAKE_PROFIT_MARKET: the fill model at the stop
    price, where it triggers (taker; ``worst``: at the model's bounded worst price, since the liquidity when it
    triggers is not known yet). LIMIT: a resting one at its price (maker); a marketable one takes the fill
    model's levels within its price (taker) and the rest rests at its price (maker; IOC / FOK: the rest does not
    trade). STOP / TAKE_PROFIT: at the limit price, taker (a triggered stop-limit usually takes liquidity).
    """
    if quantity <= 0:
        return []
    inst, model, liq, side = ctx.instrument, ctx.fill_model, ctx.liquidity, request.side
    taker, maker = inst.taker_fee, inst.maker_fee
    t = request.type
    if t in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET) and worst:
        liq = _worst_liquidity(ctx)
    if t is OrderType.MARKET or t in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET):
        return [_Execution(p, q, taker, price) for p, q in model.market_fills(inst, side, quantity, price, liq)]
    if t is OrderType.LIMIT:
        tif = request.time_in_force
        marketable = price >= ctx.last_price if side is Side.BUY else price <= ctx.last_price
        if tif is TimeInForce.GTX or not marketable:
            return [_Execution(price, quantity, maker, price)]
        last = ctx.last_price
        out = [_Execution(p, q, taker, last) for p, q in levels_within(model, inst, side, price, quantity, last, liq)]
        rest = quantity - sum((e.qty for e in out), ZERO)
        if rest > 0 and tif not in (TimeInForce.IOC, TimeInForce.FOK):
            out.append(_Execution(price, rest, maker, price))
        return out
    return [_Execution(price, quantity, taker, price)]


def _fee(fills: Iterable[tuple[Decimal, Decimal]], rate: Decimal) -> Decimal:
    """Fees as the ledger charges them: each execution's fee rounded to 8 dp (account.money)."""
    return sum((money(p * q * rate) for p, q in fills), ZERO)


def _average(fills: Sequence[tuple[Decimal, Decimal]], default: Decimal) -> Decimal:
    total = sum((q for _, q in fills), ZERO)
    return sum((p * q for p, q in fills), ZERO) / total if total else default


def _exit_fills(
    ctx: PreviewContext, resulting_qty: Decimal, trigger: Decimal, worst: bool = False
) -> list[tuple[Decimal, Decimal]]:
    """A STOP_MARKET / TAKE_PROFIT_MARKET closing the whole resulting position, triggered at ``trigger``: a market
    order through the fill model from that price, with the liquidity known now (``worst``: at the model's bounded
    worst price, whatever the liquidity will be)."""
    if resulting_qty == 0:
        return []
    side = Side.SELL if resulting_qty > 0 else Side.BUY
    liq = _worst_liquidity(ctx) if worst else ctx.liquidity
    return ctx.fill_model.market_fills(ctx.instrument, side, abs(resulting_qty), trigger, liq)


def _pnl_from_now(ctx: PreviewContext, signed_traded: Decimal, fill_price: Decimal, exit_price: Decimal) -> Decimal:
    """The change in equity, before fees, from now until the resulting position is closed at ``exit_price``.

    The position already open counts from the current mark (equity values it there), the order from its fill:
    ``P·(X − mark) + q·(X − fill)``. It holds for adding, reducing and flipping alike: the part the order closes
    is bought or sold at ``fill``, the rest of the resulting position ``P + q`` at ``X``.
    """
    return ctx.position_qty * (exit_price - ctx.mark_price) + signed_traded * (exit_price - fill_price)


def _loss_at_trigger(
    ctx: PreviewContext,
    signed_traded: Decimal,
    fill_price: Decimal,
    entry_fee: Decimal,
    trigger: Decimal,
    worst: bool = False,
) -> tuple[Decimal, Decimal | None, Decimal, Decimal]:
    """Closing the resulting position at a stop / take-profit that triggers at ``trigger``: (loss from now, fees
    and slippage included; the exit's average price; its fee; its slippage)."""
    resulting = ctx.position_qty + signed_traded
    exits = _exit_fills(ctx, resulting, trigger, worst)
    exit_price = _average(exits, trigger)
    exit_fee = _fee(exits, ctx.instrument.taker_fee)
    slip = sum((q * abs(p - trigger) for p, q in exits), ZERO)
    loss = -_pnl_from_now(ctx, signed_traded, fill_price, exit_price) + entry_fee + exit_fee
    return loss, (exit_price if exits else None), exit_fee, slip


@dataclass(slots=True)
class _Position:
    """The symbol's position as the ledger would leave it after the expected executions (ledger._apply_fill)."""

    qty: Decimal
    entry: Decimal
    iso_wallet: Decimal
    realized: Decimal = ZERO
    posted: Decimal = ZERO
    opening: Decimal = ZERO
    opening_notional: Decimal = ZERO

    def fill(self, sign: int, qty: Decimal, price: Decimal, leverage: int, isolated: bool) -> None:
        pos = self.qty
        if pos == 0 or (pos > 0) == (sign > 0):
            self._increase(sign, qty, price, leverage, isolated)
            return
        size = abs(pos)
        closing = min(qty, size)
        realized = money(closing * (price - self.entry) * (1 if pos > 0 else -1))
        self.realized += realized
        if isolated:
            release = self.iso_wallet if closing == size else money(self.iso_wallet * closing / size)
            self.iso_wallet -= release
            back = release + realized
            if back < 0:  # a loss beyond the released share comes from the margin of what remains
                self.iso_wallet -= min(-back, self.iso_wallet)
        self.qty = pos + sign * closing
        if not self.qty:
            self.entry = ZERO
        if qty > closing:
            self._increase(sign, qty - closing, price, leverage, isolated)

    def _increase(self, sign: int, qty: Decimal, price: Decimal, leverage: int, isolated: bool) -> None:
        size = abs(self.qty)
        self.entry = price if size == 0 else (size * self.entry + qty * price) / (size + qty)
        self.qty += sign * qty
        self.opening += qty
        self.opening_notional += qty * price
        if isolated:
            posted = money(qty * price / leverage)
            self.iso_wallet += posted
            self.posted += posted


def _order_quantity(request: OrderRequest, ctx: PreviewContext) -> Decimal:
    """The quantity that would trade: reduce-only and closePosition orders are capped at the position."""
    pos = ctx.position_qty
    reduces = pos != 0 and (pos > 0) != (request.side.sign > 0)
    if request.quantity is not None:
        quantity = request.quantity
    elif request.close_position:
        quantity = abs(pos) if reduces else ZERO
    else:
        raise ValueError("the order has no quantity (and is not closePosition)")
    if quantity < 0:
        raise ValueError(f"quantity must not be negative, got {quantity}")
    if request.reduce_only or request.close_position:
        quantity = min(quantity, abs(pos)) if reduces else ZERO
    return quantity


def preview_order(request: OrderRequest, ctx: PreviewContext) -> OrderPreview:
    """Preview ``request`` against the account state ``ctx`` (see :class:`OrderPreview`)."""
    inst = ctx.instrument
    side = request.side
    sign = side.sign
    price = _assumed_price(request, ctx)
    if price <= 0:
        raise ValueError(f"the order's price must be positive, got {price}")
    pos = ctx.position_qty
    executions = _expected_fills(request, ctx, _order_quantity(request, ctx), price)
    fills = tuple((e.price, e.qty) for e in executions)
    quantity = sum((q for _, q in fills), ZERO)
    notional = sum((p * q for p, q in fills), ZERO)
    fill_price = notional / quantity if quantity else price
    entry_fee = sum((money(e.price * e.qty * e.rate) for e in executions), ZERO)
    slippage = sum((e.qty * (e.price - e.reference) * sign for e in executions if e.price != e.reference), ZERO)
    at_reference = sum((e.qty * e.reference for e in executions), ZERO)
    slippage_pct = slippage / at_reference * HUNDRED if at_reference else ZERO

    isolated = ctx.margin_mode is MarginMode.ISOLATED
    after = _Position(pos, ctx.entry_price if pos else ZERO, ctx.isolated_wallet if isolated else ZERO)
    for p, q in fills:
        after.fill(sign, q, p, ctx.leverage, isolated)
    new_qty, new_entry = after.qty, after.entry
    new_size = abs(new_qty)
    opening = after.opening
    margin = after.posted if isolated else initial_margin(after.opening_notional, ctx.leverage)
    open_price = after.opening_notional / opening if opening else fill_price
    o_loss = open_loss(sign, opening, open_price, ctx.mark_price)
    cost = margin + o_loss

    # The wallet that backs the resulting position.
    if isolated:
        wallet = after.iso_wallet  # read only when a position remains (the LP and bankruptcy price below)
        other_mm, other_upnl = ZERO, ZERO
    else:
        wallet = ctx.cross_wallet_balance + after.realized - entry_fee
        other_mm, other_upnl = ctx.other_maintenance, ctx.other_upnl

    liq = liquidation_price(inst, new_qty, new_entry, wallet, other_mm, other_upnl) if new_size else None
    bkr = bankruptcy_price(new_qty, new_entry, wallet, other_upnl) if new_size else None
    signed_traded = sign * quantity
    loss_liq = None
    if liq is not None:
        at_lp = new_size * liq
        clearance = min(inst.liquidation_fee * at_lp, max(ZERO, maintenance_margin(inst, at_lp) + other_mm))
        loss_liq = -_pnl_from_now(ctx, signed_traded, fill_price, liq) + entry_fee + clearance
    distance = _distance_pct(fill_price, liq)
    pos_sign = 1 if new_qty > 0 else -1

    stop = request.stop_loss
    exit_fee = loss_stop = max_loss_stop = exit_price = exit_slip = None
    if stop is not None and new_size:
        loss_stop, exit_price, exit_fee, exit_slip = _loss_at_trigger(ctx, signed_traded, fill_price, entry_fee, stop)
        max_loss_stop = _loss_for_quantity(request, ctx, price, quantity, worst=True)
    tp = request.take_profit
    profit_tp = r_multiple = None
    if tp is not None and new_size:
        profit_tp = -_loss_at_trigger(ctx, signed_traded, fill_price, entry_fee, tp)[0]
        if loss_stop is not None and loss_stop > 0:
            r_multiple = profit_tp / loss_stop

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
    own_loss_liq = loss_at_liquidation(inst, new_qty, new_entry, liq, entry_fee, other_mm)
    if (
        ctx.margin_mode is MarginMode.CROSS and opening and own_loss_liq is not None
        and own_loss_liq > position_margin + entry_fee
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
        if not request.reduce_only and quantity * price < inst.min_notional:
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
        fills=fills,
        fill_price=fill_price,
        slippage=slippage,
        slippage_pct=slippage_pct,
        total_cost=cost + entry_fee,
        exit_price_at_stop=exit_price,
        exit_slippage_at_stop=exit_slip,
        max_loss_at_stop=max_loss_stop,
        profit_at_take_profit=profit_tp,
        liquidity=ctx.liquidity,
    )


# -- position sizing ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PositionSizing:
    """The order :func:`size_order` proposes and what it implies (USDT unless noted).

    Every figure is the one :func:`preview_order` shows for that order (``preview``), so the sizer's hint and the
    order preview always describe the same position. With a position already open, ``quantity`` is the order and
    ``resulting_qty`` the position it leaves, whose whole loss at the stop is what the risk bounds.
    """

    side: Side
    quantity: Decimal  # the order's quantity, base asset, rounded down to the step size
    notional: Decimal  # what the order trades at its expected fills
    initial_margin: Decimal  # margin the order posts
    leverage_needed: int | None  # the smallest leverage whose margin fits the available balance (None: none does)
    risk_amount: Decimal  # equity × risk_pct / 100: the most the stop-out may lose
    loss_at_stop: Decimal  # the expected fall in equity at the stop, slippage (today's liquidity) and both fees
    fees: Decimal  # the entry fee and the stop exit's taker fee
    liquidation_price: Decimal | None
    loss_at_liquidation: Decimal | None
    r_multiple: Decimal | None  # net profit at take_profit / loss_at_stop
    warnings: tuple[RiskWarning, ...]
    max_loss_at_stop: Decimal = ZERO  # the most the stop-out can lose, whatever the liquidity then (<= risk_amount)
    resulting_qty: Decimal = ZERO  # signed: the position after the order
    preview: OrderPreview | None = None  # the preview of the sized order

    @property
    def risk_used_pct(self) -> Decimal:
        """How much of the risk budget the rounded-down quantity can use at most, in percent."""
        return self.max_loss_at_stop / self.risk_amount * HUNDRED if self.risk_amount else ZERO


def _loss_for_quantity(
    request: OrderRequest, ctx: PreviewContext, price: Decimal, quantity: Decimal, worst: bool
) -> Decimal:
    """``preview_order(request with quantity).loss_at_stop`` (``worst``: ``.max_loss_at_stop``) without the rest of
    the preview, and defined also when the order exactly closes an opposite position (then: what closing costs)."""
    assert request.stop_loss is not None
    executions = _expected_fills(request, ctx, quantity, price, worst)
    traded = sum((e.qty for e in executions), ZERO)
    fill_price = sum((e.price * e.qty for e in executions), ZERO) / traded if traded else price
    entry_fee = sum((money(e.price * e.qty * e.rate) for e in executions), ZERO)
    return _loss_at_trigger(ctx, request.side.sign * traded, fill_price, entry_fee, request.stop_loss, worst)[0]


def size_order(
    request: OrderRequest, ctx: PreviewContext, risk_pct: Decimal = Decimal("1"), *, bounded: bool = True
) -> PositionSizing:
    """The largest quantity of ``request`` (its quantity is ignored) whose stop-out loses at most ``risk_pct`` % of
    the equity, rounded down to the step size.

    The loss bounded is :class:`OrderPreview`'s ``max_loss_at_stop``: the entry's slippage and fee (a market entry
    as it would fill now), the move to the stop, and the stop's exit, a market order from the stop price, with its
    taker fee and the fill model's *bounded* slippage (0.2% + the spread by default). The liquidity when the stop
    triggers is not known when the order is sized; a replay of March 2025 showed it often thinner than at the
    entry (26 of 56 stop-outs sized with today's liquidity lost more than 1%, up to 1.06% before funding), so
    only the bound keeps the promise. The preview's ``loss_at_stop`` is the expected loss with today's liquidity;
    ``bounded=False`` sizes on it instead (closer to the risk on average, above it whenever the market thins).

    The attached stop closes the whole resulting position, so with a position already open the *combined*
    position's loss counts: adding to a position sizes only what the risk has left (nothing if the open position
    alone already loses more at that stop: OPEN_POSITION_EXCEEDS_RISK); an order against an open position first
    closes it, then opens the remainder. The quantity is found by bisection on the step grid over the function the
    preview uses, so the preview of the sized order shows exactly these losses.
    """
    stop = request.stop_loss
    if stop is None:
        raise ValueError("sizing by risk needs a stop-loss")
    numbers = (stop, risk_pct, request.price, request.stop_price, request.take_profit)
    if not all(isinstance(n, Decimal) and n.is_finite() for n in numbers if n is not None):
        raise ValueError("the stop, the prices and the risk must be finite numbers")
    if ctx.equity <= 0:
        raise ValueError(f"equity must be positive, got {ctx.equity}")
    if not ZERO < risk_pct <= HUNDRED:
        raise ValueError(f"risk_pct is a percentage of equity in (0, 100], got {risk_pct}")
    price = _assumed_price(request, ctx)
    if price <= 0 or stop <= 0:
        raise ValueError(f"entry and stop must be positive prices, got entry {price} and stop {stop}")
    sign = request.side.sign
    if (price - stop) * sign <= 0:
        where = "below" if sign > 0 else "above"
        raise ValueError(f"the stop must be {where} the entry for a {'long' if sign > 0 else 'short'}")
    inst = ctx.instrument
    market = request.type in (OrderType.MARKET, OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET)
    step = (inst.market_step_size if market else None) or inst.step_size
    risk = ctx.equity * risk_pct / HUNDRED
    pos = ctx.position_qty
    base = (abs(pos) / step).to_integral_value(rounding=ROUND_CEILING) if pos * sign < 0 else ZERO

    def loss(steps: Decimal) -> Decimal:
        return _loss_for_quantity(request, ctx, price, steps * step, worst=bounded)

    warnings: list[RiskWarning] = []
    lo = int(base)
    if loss(base) > risk:
        lo = 0
        warnings.append(RiskWarning.OPEN_POSITION_EXCEEDS_RISK)
    else:
        # Each further unit loses at least the distance to the stop: a first bound, doubled until it fails.
        room = (risk - loss(base)) / (abs(price - stop) * step)
        hi = lo + int(room.to_integral_value(rounding=ROUND_CEILING)) + 1
        while loss(Decimal(hi)) <= risk:
            hi = lo + 2 * (hi - lo)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if loss(Decimal(mid)) <= risk:
                lo = mid
            else:
                hi = mid
    quantity = lo * step
    p = preview_order(replace(request, quantity=quantity, reduce_only=False, close_position=False), ctx)
    needed: int | None = None
    if ctx.available_balance > 0:
        needed = max(1, int((p.notional / ctx.available_balance).to_integral_value(rounding=ROUND_CEILING)))
    fees = p.entry_fee + (p.exit_fee_at_stop or ZERO)
    if p.loss_at_stop is not None and p.max_loss_at_stop is not None:
        loss_stop, max_loss = p.loss_at_stop, p.max_loss_at_stop
    else:  # the order exactly closes an opposite position: what closing it costs
        loss_stop = _loss_for_quantity(request, ctx, price, quantity, worst=False)
        max_loss = _loss_for_quantity(request, ctx, price, quantity, worst=True)
    if risk_pct > MAX_RISK_PCT:
        warnings.append(RiskWarning.RISK_ABOVE_LIMIT)
    return PositionSizing(
        side=request.side,
        quantity=quantity,
        notional=p.notional,
        initial_margin=p.initial_margin,
        leverage_needed=needed,
        risk_amount=risk,
        loss_at_stop=loss_stop,
        max_loss_at_stop=max_loss,
        fees=fees,
        liquidation_price=p.liquidation_price,
        loss_at_liquidation=p.loss_at_liquidation,
        r_multiple=p.r_multiple,
        warnings=_ordered([*warnings, *p.warnings]),
        resulting_qty=p.resulting_qty,
        preview=p,
    )


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
    fill_model: FillModel = DEFAULT_FILL_MODEL,
    liquidity: Decimal | None = None,
) -> PositionSizing:
    """Size a market entry at ``entry`` from a flat account so a stop-out loses at most ``risk_pct`` % of
    ``equity``, slippage and fees included (:func:`size_order` with last = mark = ``entry``).

    A stop below the entry makes a long, above it a short. ``available_balance`` (default: equity) is what the
    margin must fit in; ``cross_wallet_balance`` (default: equity) backs a cross position; ``fill_model`` and
    ``liquidity`` price the slippage (default: HexDesk's model with no volume information, i.e. the spread only).
    Problems (stop beyond liquidation, too small to trade, not enough margin...) come back as warnings; only
    nonsensical inputs raise ValueError.
    """
    if equity <= 0:
        raise ValueError(f"equity must be positive, got {equity}")
    if entry <= 0 or stop <= 0:
        raise ValueError(f"entry and stop must be positive prices, got entry {entry} and stop {stop}")
    if stop == entry:
        raise ValueError("the stop must differ from the entry: with the stop at the entry there is no risk to size")
    if not 1 <= leverage <= instrument.max_leverage:
        raise ValueError(f"leverage must be between 1 and {instrument.max_leverage}x, got {leverage}")
    side = Side.BUY if stop < entry else Side.SELL
    if take_profit is not None and (take_profit - entry) * side.sign <= 0:
        where = "above" if side is Side.BUY else "below"
        raise ValueError(f"the take-profit must be {where} the entry for a {'long' if side is Side.BUY else 'short'}")
    ctx = PreviewContext(
        instrument=instrument,
        last_price=entry,
        mark_price=entry,
        position_qty=ZERO,
        entry_price=ZERO,
        isolated_wallet=ZERO,
        leverage=leverage,
        margin_mode=margin_mode,
        cross_wallet_balance=equity if cross_wallet_balance is None else cross_wallet_balance,
        other_maintenance=ZERO,
        other_upnl=ZERO,
        available_balance=equity if available_balance is None else available_balance,
        equity=equity,
        fill_model=fill_model,
        liquidity=liquidity,
    )
    request = OrderRequest(instrument.symbol, side, OrderType.MARKET, stop_loss=stop, take_profit=take_profit)
    return size_order(request, ctx, risk_pct)
