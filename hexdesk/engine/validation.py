"""Order validation: Binance's checks on ``POST /fapi/v1/order``, in Binance's order, with Binance's codes.

The Exchange calls :func:`validate` before it changes any state; ``None`` means the order is accepted. The checks
run in the order of the reference's "Suggested check order" (§3.4), and the first failing check decides:

1. Request shape: symbol (-1121), side (-1117), type (-1116), timeInForce (-1115), workingType (-1130);
   closePosition rules (-1130 on a type other than STOP_MARKET / TAKE_PROFIT_MARKET, -4137 with a quantity, -1130
   ``reduceOnly`` with reduceOnly: §3.1 "no quantity and no reduceOnly allowed with it"; -4138's text says the
   opposite, so it is not used); mandatory parameters per type (-1102); a parameter the type does not take
   (price on a market type, stopPrice on LIMIT / MARKET: -1130, Binance's -1106 "sent when not required");
   non-finite or non-positive prices (-1102 "malformed"); quantity <= 0 (-4003); GTX on a market type (-1115).
2. Precision (-1111): more decimals than pricePrecision (price, stopPrice, take-profit, stop-loss) or
   quantityPrecision (quantity). So on BTCUSDT (pricePrecision 2, tick 0.10) 60000.05 passes this stage and fails
   the tick grid (-4014), 60000.051 fails here.
3. PRICE_FILTER on price, stopPrice, take-profit, stop-loss (in that order): -4013, -4002, -4014.
4. LOT_SIZE for LIMIT / STOP / TAKE_PROFIT, MARKET_LOT_SIZE for MARKET / STOP_MARKET / TAKE_PROFIT_MARKET:
   -4004, -4005, -4023.
5. PERCENT_PRICE on the limit price: -4016 / -4024. LIMIT compares with the mark price; STOP / TAKE_PROFIT
   (stop-limit) compare with their stopPrice, the mark they will meet when they trigger, so a stop-limit can be
   parked more than 5% away (a choice: the reference does not say which mark a conditional limit meets).
6. MIN_NOTIONAL unless reduceOnly / closePosition: -4164. Notional = quantity × price for orders with a limit
   price, quantity × mark for MARKET and the *_MARKET types.
7. reduceOnly / closePosition sanity: -2022 with no position or on the side that would increase it.
8. Leverage cap (-2027), skipped for reduce-only / closePosition orders. The position the order's side could
   reach is ``max(0, side·position + same-side open orders' remaining qty + quantity)`` (same-side, not
   reduce-only, not closePosition, conditional ones included, as Binance counts every open order for the
   position limit), valued like MIN_NOTIONAL at the order's limit price, or the mark price for MARKET and the
   *_MARKET types; it must not exceed ``instrument.max_notional_for_leverage(leverage)``.
9. Cost (-2019), see "Margin rule" below.
10. Would immediately trigger (-2021), then attached take-profit / stop-loss on the wrong side of the entry.
11. Max open orders (-2025): the symbol already holds ``max_num_orders`` open orders.

GTX (-5022) and FOK (-5021) are decided by the Exchange at matching time; :func:`would_take` is its GTX test.

Margin rule (check 9, approximating Binance's one-way-mode order margin):

- The margin price of an order is the price it is expected to execute at: the limit price for LIMIT / STOP /
  TAKE_PROFIT, the stopPrice for STOP_MARKET / TAKE_PROFIT_MARKET, the **last price** for MARKET (a market order
  takes the book, which trades around the last price, not the mark). Open loss (§1.5) is measured against the
  mark price, except for a conditional order, which is valued as at its trigger (mark := stopPrice, last :=
  stopPrice), so a STOP_MARKET has no open loss and a stop-limit has open loss only for a limit worse than its
  stop.
- **A market short** (MARKET, STOP_MARKET, TAKE_PROFIT_MARKET on the SELL side) has no order price: its cost uses
  the price of Binance's 2024 cost formula (§1.5), ``max(last × (1 + 0.15%), mark)`` (:func:`cost_price`), so
  its open loss against the mark is 0 and its initial margin is never below the mark's. A market BUY follows the
  rest of §1.5 unchanged: initial margin at the last price plus the open loss ``qty × max(0, last − mark)``.
  Orders with a price (limits, stop-limits) keep §1.5's own example: IM at the order price plus open loss.
- Only the part of the order that opens or increases exposure needs margin. The part that can reduce the current
  position is free, but the reduce capacity is first used up by open orders already queued on the same side
  (LIMIT orders and triggered conditional orders, reduce-only or not; untriggered conditionals and closePosition
  orders hold no queue place): ``capacity = max(0, opposite position − queued)``, ``opening = max(0, qty −
  capacity)``.
- Open orders on the other side get no credit: Binance nets the two sides' order margin, but ``available_balance``
  is computed by the Exchange, which reserves each resting order's own margin, so the new order is charged its own
  opening cost in full (conservative: it never lets available balance go negative).
- cost = ``margin.order_cost(side, opening, cost price, mark, leverage)``; reduce-only and closePosition orders
  cost 0. Reject when cost > ``available_balance``.
- **Isolated**: the initial margin is moved out of the cross wallet when the order fills, and unrealized profit is
  not money that can be moved (§1.2: an isolated wallet is margin allocated to it). So an isolated order is also
  rejected (-2019) when ``cost + fee`` exceeds ``cross_wallet_free`` (cross wallet + cross unrealized *loss* −
  cross maintenance margin − initial margin reserved by isolated resting orders, computed by the Exchange). The
  fee is the opening part's notional at the cost price times the taker rate, or the maker rate for a limit that
  would rest (:func:`would_take` false). An order that closes the position before it opens the other way (a
  flip) is credited with what the close gives back to the cross wallet first: its share of the isolated wallet
  plus the realized PnL at the margin price, less the closing fee (``isolated_wallet`` / ``entry_price``).
- Conditional orders are checked at placement (Binance itself only checks when they trigger): the trainer would
  rather refuse a stop it could never afford. The Exchange checks the triggered child again with
  :func:`cost_rejection` (the child as a MARKET / LIMIT request, at the trigger's last and mark prices).

Everything is Decimal and pure: no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from hexdesk.engine import margin
from hexdesk.engine.enums import MarginMode, OrderType, Side, TimeInForce, WorkingType
from hexdesk.engine.errors import ErrorCode, Rejection
from hexdesk.engine.instruments import Instrument
from hexdesk.engine.orders import Order, OrderRequest
from hexdesk.engine.values import quick_init

# Enum members read as module constants: in Python 3.11 an Enum class attribute (OrderType.MARKET) goes
# through EnumType.__getattr__'s slow lookup hook (~0.1 µs; gone in 3.12), and the order path reads dozens.
_BUY = Side.BUY
_GTX = TimeInForce.GTX
_ISOLATED = MarginMode.ISOLATED
_LIMIT = OrderType.LIMIT
_MARKET = OrderType.MARKET
_MARK_PRICE = WorkingType.MARK_PRICE
_SELL = Side.SELL
_STOP = OrderType.STOP
_STOP_MARKET = OrderType.STOP_MARKET
_TAKE_PROFIT_MARKET = OrderType.TAKE_PROFIT_MARKET

__all__ = [
    "MARKET_SELL_PRICE_BUFFER",
    "OrderContext",
    "cost_price",
    "cost_rejection",
    "format_decimal",
    "margin_price",
    "opening_fee",
    "opening_quantity",
    "required_margin",
    "validate",
    "would_take",
]

ZERO = Decimal(0)
ONE = Decimal(1)
#: Binance's 2024 cost formula prices a short without an order price at max(last × (1 + 0.15%), mark) (§1.5).
MARKET_SELL_PRICE_BUFFER = Decimal("0.0015")
_SELL_PRICE_FACTOR = ONE + MARKET_SELL_PRICE_BUFFER

_MARKET_TYPES = frozenset({_MARKET, _STOP_MARKET, _TAKE_PROFIT_MARKET})
_CLOSE_POSITION_TYPES = frozenset({_STOP_MARKET, _TAKE_PROFIT_MARKET})
_STOP_TYPES = frozenset({_STOP, _STOP_MARKET})
_DECIMAL_PLACES = tuple(Decimal(1).scaleb(-places) for places in range(19))  # 1, 0.1, ... 1E-18
_SIDES = frozenset(Side)
_ORDER_TYPES = frozenset(OrderType)
_TIME_IN_FORCES = frozenset(TimeInForce)
_WORKING_TYPES = frozenset(WorkingType)


def _side(value: Side | str) -> Side:
    """The Side member of a member or its Binance string (requests may carry either); cheap for a member."""
    return value if type(value) is Side else Side(value)


def _order_type(value: OrderType | str) -> OrderType:
    return value if type(value) is OrderType else OrderType(value)


def _is_member(value: object, members: frozenset[object]) -> bool:
    """``value`` is one of ``members`` (or its string): what ``value in Enum.__members__.values()`` says."""
    try:
        return value in members
    except TypeError:  # unhashable: no member
        return False


@quick_init
@dataclass(frozen=True, slots=True)
class OrderContext:
    """What validation needs to know about the market and the account, computed by the Exchange."""

    instrument: Instrument
    last_price: Decimal
    mark_price: Decimal
    position_qty: Decimal  # signed, + long / − short
    leverage: int
    margin_mode: MarginMode
    available_balance: Decimal  # what new initial margin may use now
    open_orders: tuple[Order, ...]  # this symbol's open orders
    # What the cross wallet can hand to a new isolated position (no unrealized profit, see "Margin rule");
    # None: not checked (a context built without an account).
    cross_wallet_free: Decimal | None = None
    isolated_wallet: Decimal = ZERO  # the position's isolated wallet (isolated mode)
    entry_price: Decimal = ZERO


def format_decimal(d: Decimal) -> str:
    """A Decimal as Binance prints it in messages: plain notation, no trailing zeros (50, 5, 0.001)."""
    text = format(d.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def would_take(side: Side, price: Decimal, last_price: Decimal) -> bool:
    """True when a limit order at ``price`` would execute at once against the last price (so a GTX is rejected).

    Without a book the last price stands for the opposite best price: a BUY at or above it, or a SELL at or below
    it, crosses. Touching counts as crossing, so a post-only order is never filled as a taker.
    """
    return price >= last_price if _side(side) is _BUY else price <= last_price


def margin_price(request: OrderRequest, ctx: OrderContext) -> Decimal:
    """The price the order is expected to execute at: limit price, stopPrice (*_MARKET) or last (MARKET)."""
    order_type = _order_type(request.type)
    if request.price is not None and order_type.has_limit_price:
        return request.price
    if request.stop_price is not None and order_type.is_conditional:
        return request.stop_price
    return ctx.last_price


def cost_price(request: OrderRequest, ctx: OrderContext) -> Decimal:
    """The price an order's cost (§1.5) is computed at: :func:`margin_price`, except that a market short (no
    order price) uses Binance's ``max(last × (1 + 0.15%), mark)``; a conditional one as at its trigger, where
    last and mark are its stopPrice."""
    order_type = _order_type(request.type)
    price = margin_price(request, ctx)
    if _side(request.side) is not _SELL or order_type.has_limit_price:
        return price
    if order_type.is_conditional and request.stop_price is not None:
        last = mark = request.stop_price
    else:
        last, mark = ctx.last_price, ctx.mark_price
    return max(last * _SELL_PRICE_FACTOR, mark)


def opening_quantity(request: OrderRequest, ctx: OrderContext) -> Decimal:
    """The part of the order's quantity that opens or increases exposure (the rest reduces the position)."""
    if request.reduce_only or request.close_position or not request.quantity:
        return ZERO
    side = _side(request.side)
    opposite = max(ZERO, -side.sign * ctx.position_qty)
    if not opposite:  # nothing to reduce: all of it opens (the same Decimal as below with capacity 0)
        return max(ZERO, request.quantity - ZERO)
    queued = sum(
        (
            o.remaining_qty
            for o in ctx.open_orders
            if o.is_open and o.side == side and not o.close_position and (not o.type.is_conditional or o.triggered)
        ),
        ZERO,
    )
    capacity = max(ZERO, opposite - queued)
    return max(ZERO, request.quantity - capacity)


def required_margin(request: OrderRequest, ctx: OrderContext) -> Decimal:
    """The cost to open (§1.5) of the order's opening part, by the margin rule of the module docstring."""
    qty = opening_quantity(request, ctx)
    return _required_margin(request, ctx, qty, cost_price(request, ctx)) if qty > 0 else ZERO


def _required_margin(request: OrderRequest, ctx: OrderContext, qty: Decimal, price: Decimal) -> Decimal:
    """:func:`required_margin` of ``qty`` > 0 opening at the cost price ``price``."""
    order_type = _order_type(request.type)
    mark = request.stop_price if request.stop_price is not None and order_type.is_conditional else ctx.mark_price
    return margin.order_cost(_side(request.side).sign, qty, price, mark, ctx.leverage)


def opening_fee(request: OrderRequest, ctx: OrderContext) -> Decimal:
    """The fee of the order's opening part at its cost price: maker for a limit that would rest, else taker."""
    qty = opening_quantity(request, ctx)
    return _opening_fee(request, ctx, qty, cost_price(request, ctx)) if qty > 0 else ZERO


def _opening_fee(request: OrderRequest, ctx: OrderContext, qty: Decimal, price: Decimal) -> Decimal:
    """:func:`opening_fee` of ``qty`` > 0 opening at the cost price ``price``."""
    rests = _order_type(request.type) is _LIMIT and not would_take(request.side, price, ctx.last_price)
    rate = ctx.instrument.maker_fee if rests else ctx.instrument.taker_fee
    return qty * price * rate


def validate(request: OrderRequest, ctx: OrderContext) -> Rejection | None:
    """Binance's rejection for this request in this context, or None when the order is accepted."""
    prices = _prices(request)
    rejection = _check_shape(request, prices, ctx)
    if rejection is not None:
        return rejection
    side, order_type = _side(request.side), _order_type(request.type)  # members from here on (shape checked)
    instrument = ctx.instrument
    return (
        _check_precision(request, prices, instrument)
        or _check_price_filter(prices, instrument)
        or _check_lot_size(request, order_type, instrument)
        or _check_percent_price(request, side, order_type, ctx)
        or _check_min_notional(request, order_type, ctx)
        or _check_reduce_only(request, side, ctx)
        or _check_leverage_cap(request, side, order_type, ctx)
        or cost_rejection(request, ctx)
        or _check_trigger(request, side, order_type, ctx)
        or _check_max_orders(ctx)
    )


# -- 1. request shape ------------------------------------------------------------------------------------


def _malformed(name: str) -> Rejection:
    return Rejection.of(ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED, name)


def _invalid(name: str) -> Rejection:
    return Rejection.of(ErrorCode.INVALID_PARAMETER, name)


def _is_number(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


def _prices(request: OrderRequest) -> list[tuple[str, Decimal]]:
    """The request's prices that are set, with their Binance names, in Binance's check order."""
    prices = []
    if request.price is not None:
        prices.append(("price", request.price))
    if request.stop_price is not None:
        prices.append(("stopPrice", request.stop_price))
    if request.take_profit is not None:
        prices.append(("takeProfit", request.take_profit))
    if request.stop_loss is not None:
        prices.append(("stopLoss", request.stop_loss))
    return prices


def _check_shape(request: OrderRequest, prices: list[tuple[str, Decimal]], ctx: OrderContext) -> Rejection | None:
    if request.symbol != ctx.instrument.symbol:
        return Rejection.of(ErrorCode.BAD_SYMBOL)
    # (a member is a member: the set is asked only about other values, such as Binance's strings)
    if type(request.side) is not Side and not _is_member(request.side, _SIDES):
        return Rejection.of(ErrorCode.INVALID_SIDE)
    if type(request.type) is not OrderType and not _is_member(request.type, _ORDER_TYPES):
        return Rejection.of(ErrorCode.INVALID_ORDER_TYPE)
    tif = request.time_in_force
    if tif is not None and type(tif) is not TimeInForce and not _is_member(tif, _TIME_IN_FORCES):
        return Rejection.of(ErrorCode.INVALID_TIF)
    if type(request.working_type) is not WorkingType and not _is_member(request.working_type, _WORKING_TYPES):
        return _invalid("workingType")
    order_type = _order_type(request.type)
    has_price, conditional = order_type.has_limit_price, order_type.is_conditional

    if request.close_position:
        if order_type not in _CLOSE_POSITION_TYPES:
            return _invalid("closePosition")
        if request.quantity is not None and request.quantity != 0:
            return Rejection.of(ErrorCode.QUANTITY_EXISTS_WITH_CLOSE_POSITION)
        if request.reduce_only:
            return _invalid("reduceOnly")

    # Mandatory parameters (reference §3.1), in Binance's listing order.
    if order_type is _LIMIT and request.time_in_force is None:
        return _malformed("timeInForce")
    if request.quantity is None and not request.close_position:
        return _malformed("quantity")
    if has_price and request.price is None:
        return _malformed("price")
    if conditional and request.stop_price is None:
        return _malformed("stopPrice")

    # Parameters the type does not take (Binance: -1106 "sent when not required").
    if not has_price and request.price is not None:
        return _invalid("price")
    if not conditional and request.stop_price is not None:
        return _invalid("stopPrice")

    # Malformed values.
    for name, value in prices:
        if not _is_number(value) or value <= 0:
            return _malformed(name)
    if request.quantity is not None:
        if not _is_number(request.quantity):
            return _malformed("quantity")
        if request.quantity <= 0 and not request.close_position:
            return Rejection.of(ErrorCode.QTY_LESS_THAN_ZERO)

    if tif is not None and tif == _GTX and order_type in _MARKET_TYPES:
        return Rejection.of(ErrorCode.INVALID_TIF)
    return None


# -- 2. precision ----------------------------------------------------------------------------------------


def _too_precise(value: Decimal, precision: int) -> bool:
    """More than ``precision`` decimals once trailing zeros are dropped (``60000.100`` has 1): rounding to
    ``precision`` decimals changes it."""
    if 0 <= precision < len(_DECIMAL_PLACES):
        try:
            return value.quantize(_DECIMAL_PLACES[precision]) != value
        except InvalidOperation:  # more digits than the context holds: count them
            pass
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite: checked by _check_shape
    return -exponent > precision


def _check_precision(
    request: OrderRequest, prices: list[tuple[str, Decimal]], instrument: Instrument
) -> Rejection | None:
    for _name, value in prices:
        if _too_precise(value, instrument.price_precision):
            return Rejection.of(ErrorCode.BAD_PRECISION)
    if request.quantity is not None and _too_precise(request.quantity, instrument.quantity_precision):
        return Rejection.of(ErrorCode.BAD_PRECISION)
    return None


# -- 3. PRICE_FILTER -------------------------------------------------------------------------------------


def _check_price_filter(prices: list[tuple[str, Decimal]], instrument: Instrument) -> Rejection | None:
    for _name, value in prices:
        if instrument.min_price and value < instrument.min_price:
            return Rejection.of(ErrorCode.PRICE_LESS_THAN_MIN_PRICE)
        if instrument.max_price and value > instrument.max_price:
            return Rejection.of(ErrorCode.PRICE_GREATER_THAN_MAX_PRICE)
        if instrument.tick_size and (value - instrument.min_price) % instrument.tick_size != 0:
            return Rejection.of(ErrorCode.PRICE_NOT_INCREASED_BY_TICK_SIZE)
    return None


# -- 4. LOT_SIZE / MARKET_LOT_SIZE -----------------------------------------------------------------------


def _check_lot_size(request: OrderRequest, order_type: OrderType, instrument: Instrument) -> Rejection | None:
    qty = request.quantity
    if qty is None or (request.close_position and qty == 0):
        return None
    if order_type in _MARKET_TYPES:
        step, low, high = instrument.market_step_size, instrument.market_min_qty, instrument.market_max_qty
    else:
        step, low, high = instrument.step_size, instrument.min_qty, instrument.max_qty
    if qty < low:
        return Rejection.of(ErrorCode.QTY_LESS_THAN_MIN_QTY)
    if high and qty > high:
        return Rejection.of(ErrorCode.QTY_GREATER_THAN_MAX_QTY)
    if step and (qty - low) % step != 0:
        return Rejection.of(ErrorCode.QTY_NOT_INCREASED_BY_STEP_SIZE)
    return None


# -- 5. PERCENT_PRICE ------------------------------------------------------------------------------------


def _check_percent_price(
    request: OrderRequest, side: Side, order_type: OrderType, ctx: OrderContext
) -> Rejection | None:
    if request.price is None or not order_type.has_limit_price:
        return None
    mark = request.stop_price if order_type.is_conditional and request.stop_price is not None else ctx.mark_price
    instrument = ctx.instrument
    if side is _BUY:
        if request.price > mark * instrument.multiplier_up:
            return Rejection.of(ErrorCode.PRICE_HIGHER_THAN_MULTIPLIER_UP)
    elif request.price < mark * instrument.multiplier_down:
        return Rejection.of(ErrorCode.PRICE_LOWER_THAN_MULTIPLIER_DOWN)
    return None


# -- 6. MIN_NOTIONAL -------------------------------------------------------------------------------------


def _notional_price(request: OrderRequest, order_type: OrderType, ctx: OrderContext) -> Decimal:
    """The price Binance values an order's notional at: its limit price, or the mark for market types."""
    if request.price is not None and order_type.has_limit_price:
        return request.price
    return ctx.mark_price


def _check_min_notional(request: OrderRequest, order_type: OrderType, ctx: OrderContext) -> Rejection | None:
    if request.reduce_only or request.close_position or request.quantity is None:
        return None
    minimum = ctx.instrument.min_notional
    if request.quantity * _notional_price(request, order_type, ctx) < minimum:
        return Rejection.of(ErrorCode.MIN_NOTIONAL, format_decimal(minimum))
    return None


# -- 7. reduceOnly ---------------------------------------------------------------------------------------


def _check_reduce_only(request: OrderRequest, side: Side, ctx: OrderContext) -> Rejection | None:
    if not (request.reduce_only or request.close_position):
        return None
    # A reducing order must be on the opposite side of a position: side.sign × position < 0.
    if side.sign * ctx.position_qty >= 0:
        return Rejection.of(ErrorCode.REDUCE_ONLY_REJECT)
    return None


# -- 8. leverage cap -------------------------------------------------------------------------------------


def _check_leverage_cap(
    request: OrderRequest, side: Side, order_type: OrderType, ctx: OrderContext
) -> Rejection | None:
    if request.reduce_only or request.close_position or request.quantity is None:
        return None
    same_side = ZERO
    for o in ctx.open_orders:
        if o.is_open and o.side == side and not o.reduce_only and not o.close_position:
            same_side += o.remaining_qty
    reach = max(ZERO, side.sign * ctx.position_qty + same_side + request.quantity)
    if reach * _notional_price(request, order_type, ctx) > ctx.instrument.max_notional_for_leverage(ctx.leverage):
        return Rejection.of(ErrorCode.MAX_LEVERAGE_RATIO)
    return None


# -- 9. cost ---------------------------------------------------------------------------------------------


def cost_rejection(request: OrderRequest, ctx: OrderContext) -> Rejection | None:
    """-2019 when the order's cost exceeds the available balance, or (isolated) when the cross wallet without
    unrealized profit cannot post its cost plus fee. Also the check at trigger (the Exchange's)."""
    opening = opening_quantity(request, ctx)
    price = cost_price(request, ctx) if opening > 0 else ZERO
    cost = _required_margin(request, ctx, opening, price) if opening > 0 else ZERO
    if cost > ctx.available_balance:
        return Rejection.of(ErrorCode.MARGIN_NOT_SUFFICIENT)
    if (
        cost > 0
        and ctx.cross_wallet_free is not None
        and (ctx.margin_mode is _ISOLATED or MarginMode(ctx.margin_mode) is _ISOLATED)
        and cost + _opening_fee(request, ctx, opening, price)
        > ctx.cross_wallet_free + _flip_release(request, ctx, opening)
    ):
        return Rejection.of(ErrorCode.MARGIN_NOT_SUFFICIENT)
    return None


def _flip_release(request: OrderRequest, ctx: OrderContext, opening: Decimal) -> Decimal:
    """What the closing part of an isolated flip hands back to the cross wallet before the opening part posts its
    margin: its share of the isolated wallet plus its realized PnL at the margin price (never below 0), less its
    fee. 0 for an order that does not both close and open."""
    qty = request.quantity
    pos = ctx.position_qty
    if not qty or opening <= 0 or opening >= qty or _side(request.side).sign * pos >= 0:
        return ZERO
    closing = qty - opening
    price = margin_price(request, ctx)
    sign = 1 if pos > 0 else -1
    back = max(ZERO, ctx.isolated_wallet * closing / abs(pos) + closing * (price - ctx.entry_price) * sign)
    return back - closing * price * ctx.instrument.taker_fee


# -- 10. would immediately trigger -----------------------------------------------------------------------


def _latest(working_type: WorkingType | str, ctx: OrderContext) -> Decimal:
    return ctx.mark_price if working_type == _MARK_PRICE else ctx.last_price


def _check_trigger(request: OrderRequest, side: Side, order_type: OrderType, ctx: OrderContext) -> Rejection | None:
    latest = _latest(request.working_type, ctx)
    if request.stop_price is not None and order_type.is_conditional:
        stop = request.stop_price
        # STOP buys above / sells below the market; TAKE_PROFIT the reverse (§3.1 trigger rules).
        fires_above = (order_type in _STOP_TYPES) == (side is _BUY)
        if (stop <= latest) if fires_above else (stop >= latest):
            return Rejection.of(ErrorCode.ORDER_WOULD_IMMEDIATELY_TRIGGER)
    # Attached take-profit / stop-loss close the position the entry opens: a long's take-profit must lie above
    # the entry and its stop-loss below (a short's the reverse), or they would trigger as soon as it fills.
    if request.take_profit is not None or request.stop_loss is not None:
        entry = margin_price(request, ctx) if order_type is not _MARKET else latest
        if request.take_profit is not None and side.sign * (request.take_profit - entry) <= 0:
            return Rejection.of(ErrorCode.ORDER_WOULD_IMMEDIATELY_TRIGGER)
        if request.stop_loss is not None and side.sign * (entry - request.stop_loss) <= 0:
            return Rejection.of(ErrorCode.ORDER_WOULD_IMMEDIATELY_TRIGGER)
    return None


# -- 11. max open orders ---------------------------------------------------------------------------------


def _check_max_orders(ctx: OrderContext) -> Rejection | None:
    if len(ctx.open_orders) < ctx.instrument.max_num_orders:
        return None  # fewer orders than the limit, whatever their status and symbol
    count = sum(1 for o in ctx.open_orders if o.is_open and o.symbol == ctx.instrument.symbol)
    if count >= ctx.instrument.max_num_orders:
        return Rejection.of(ErrorCode.MAX_OPEN_ORDER_EXCEEDED)
    return None
