"""The fill model: what fills, when, and at what price, the same for live and replay.

The engine only sees last-price ticks. Between two ticks the price is taken to move in a straight line along
the *segment* ``seg_from → seg_to`` (replay feeds four points per 1-minute candle: open, the nearer extreme, the
other extreme, close). The model answers three questions about such a path; the Exchange decides what to do
with the answers. docs/fill-model.md is the trader's version of this text.

**Liquidity: known volume, never the forming candle's.** Every size-dependent answer is scaled by ``V``, the
*liquidity estimate*: the base-asset volume expected to trade in one minute, made only of what is already known
(the market side's ``hexdesk.market.liquidity``: the median volume per minute of the last 15 closed candles). The
Exchange receives it with each tick (``on_tick(..., bar_volume=V)``) and keeps the latest per symbol. The forming
candle's own volume is never used: at a candle's open it is 0, and in replay it is a share of the recorded candle's
final volume, a value from the future. ``V is None`` means no volume model at all (a feed without volumes, or a
test): sizes are not priced. ``V == 0`` means no sign of any liquidity (no candle closed yet, or none traded).

**Market orders (taker).** A market order of ``qty`` against a reference price ``P`` (the last price, or the
trigger price of a STOP_MARKET / TAKE_PROFIT_MARKET) walks a modelled book::

    levels      chunks of  c = max(step, floor_step(level_fraction × V))  (at most ``max_levels``; the last
                level takes the rest)
    impact_j  = min(max_impact, impact_k × Q_j / V)          Q_j = cumulative qty up to the end of level j
    price_j   = P ± spread_ticks × tick ± P × impact_j       + for BUY, − for SELL
                rounded onto the tick grid AGAINST the taker (BUY up, SELL down)

So the first chunk pays the half-spread plus a little impact, every further chunk pays more, and the worst level
pays ``impact_k × qty / V`` (bounded by ``max_impact``: 0.2% by default, the top of the seed product's 0.05–0.2%
range). Levels that round to the same price are merged. ``V is None`` → one level at ``P ± spread_ticks`` ticks.
``V == 0`` → one level at the bounded worst price ``P ± max_impact``.

**Resting limit orders (maker).** A BUY limit at ``L`` fills when the segment trades *through* it
(``min(seg) < L``), a SELL when ``max(seg) > L``. Trading exactly at ``L`` (a touch) does not fill: the queue
position is unknown and, on a touch, most of the queue usually is not reached. ``fill_on_touch=True`` fills on
``<=`` / ``>=`` instead. Per segment at most ``participation × v`` fills, where ``v`` is the segment's share of the
liquidity, ``V × duration / 1 minute`` (:func:`segment_volume`: a 20-second stretch of a replayed candle gets a
third of ``V``), rounded down to the step size (nothing if that is under one step); ``V is None`` → the whole
remainder fills. The fill price is always ``L`` (maker), even when the price gapped through it.

**Conditional orders (trigger).** Binance's rule (reference §3.1): STOP / STOP_MARKET BUY and TAKE_PROFIT(_MARKET)
SELL trigger when the price is ``>= stopPrice``; STOP / STOP_MARKET SELL and TAKE_PROFIT(_MARKET) BUY when it is
``<= stopPrice``. On a segment the trigger price is the *first point of the path where the condition holds*:
``seg_from`` if it already holds there (a gap opened beyond the stop), else ``stopPrice`` if ``seg_to`` satisfies it
(the path crossed or touched the stop on the way), else None. A triggered STOP_MARKET then takes liquidity through
``market_fills`` at that price, so a stop on a gapping open fills at (and slips from) the gap price.

Everything is Decimal and deterministic: no randomness, no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Protocol, runtime_checkable

from hexdesk.engine.enums import OrderType, Side
from hexdesk.engine.instruments import Instrument

# Enum members read as module constants: in Python 3.11 an Enum class attribute (OrderType.MARKET) goes
# through EnumType.__getattr__'s slow lookup hook (~0.1 µs; gone in 3.12), and the order path reads dozens.
_BUY = Side.BUY
_SELL = Side.SELL
_STOP = OrderType.STOP
_STOP_MARKET = OrderType.STOP_MARKET
_TAKE_PROFIT = OrderType.TAKE_PROFIT
_TAKE_PROFIT_MARKET = OrderType.TAKE_PROFIT_MARKET

ZERO = Decimal(0)
ONE = Decimal(1)

#: The liquidity estimate ``V`` is a volume per minute.
LIQUIDITY_PERIOD_MS = 60_000

__all__ = [
    "LIQUIDITY_PERIOD_MS",
    "DefaultFillModel",
    "FillModel",
    "average_price",
    "levels_within",
    "segment_volume",
    "trigger_fires_at_or_above",
]


@runtime_checkable
class FillModel(Protocol):
    """What the Exchange asks about fills. Implementations must be pure and deterministic."""

    def market_fills(
        self, instrument: Instrument, side: Side, quantity: Decimal, price: Decimal, liquidity: Decimal | None
    ) -> list[tuple[Decimal, Decimal]]:
        """Taker executions ``(price, qty)`` for a market order of ``quantity`` at reference ``price``, given the
        liquidity estimate (base volume per minute from closed candles; None: no volume model)."""
        ...

    def limit_fill_qty(
        self,
        instrument: Instrument,
        side: Side,
        limit_price: Decimal,
        remaining_qty: Decimal,
        seg_from: Decimal,
        seg_to: Decimal,
        volume: Decimal | None,
    ) -> Decimal:
        """The quantity of a resting limit order that fills (at ``limit_price``, maker) along the segment, given the
        segment's share of the liquidity estimate (:func:`segment_volume`)."""
        ...

    def trigger_price(
        self, side: Side, order_type: OrderType, stop_price: Decimal, seg_from: Decimal, seg_to: Decimal
    ) -> Decimal | None:
        """The price at which a conditional order triggers along the segment, or None."""
        ...


_STOP_TYPES = (_STOP, _STOP_MARKET)
_TAKE_PROFIT_TYPES = (_TAKE_PROFIT, _TAKE_PROFIT_MARKET)


def trigger_fires_at_or_above(side: Side, order_type: OrderType) -> bool:
    """True when the order triggers on ``price >= stopPrice``, False when on ``price <= stopPrice`` (§3.1)."""
    if order_type in _STOP_TYPES:
        return side is _BUY
    if order_type in _TAKE_PROFIT_TYPES:
        return side is _SELL
    raise ValueError(f"{order_type} is not a conditional order type: it has no trigger")


def average_price(fills: list[tuple[Decimal, Decimal]]) -> Decimal:
    """Volume-weighted average price of ``(price, qty)`` executions (what Binance reports as avgPrice)."""
    total = sum((q for _, q in fills), ZERO)
    if total == 0:
        raise ValueError("no quantity filled")
    return sum((p * q for p, q in fills), ZERO) / total


def segment_volume(liquidity: Decimal | None, duration_ms: int) -> Decimal | None:
    """The share of the liquidity estimate (volume per minute) that trades during a segment of ``duration_ms``.

    A resting limit order may take ``participation`` of it. Time is the only fair measure: live ticks come every
    few hundred milliseconds, replayed ones every 20 seconds, and over a minute both add up to ``liquidity``.
    """
    if liquidity is None:
        return None
    if duration_ms <= 0 or liquidity <= 0:
        return ZERO
    return liquidity * duration_ms / LIQUIDITY_PERIOD_MS


def levels_within(
    model: FillModel,
    instrument: Instrument,
    side: Side,
    limit: Decimal,
    quantity: Decimal,
    price: Decimal,
    liquidity: Decimal | None,
) -> list[tuple[Decimal, Decimal]]:
    """The taker levels of ``quantity`` at reference ``price`` that lie within ``limit``: what a marketable limit
    order takes at once (the rest rests); the order preview and the Exchange ask the same question."""
    out: list[tuple[Decimal, Decimal]] = []
    for level_price, qty in model.market_fills(instrument, side, quantity, price, liquidity):
        if (level_price > limit) if side is _BUY else (level_price < limit):
            break
        out.append((level_price, qty))
    return out


def _floor_to(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(ROUND_FLOOR) * step  # (positional: cheaper to call)


def _ceil_to(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(ROUND_CEILING) * step


@dataclass(frozen=True)
class DefaultFillModel:
    """HexDesk's fill model (see the module docstring and docs/fill-model.md for the formulas).

    Parameters (all fractions, not percent):

    - ``spread_ticks``: the half-spread a taker always pays, in ticks (1: a market BUY at last 60,000.0 on
      BTCUSDT pays at least 60,000.1).
    - ``impact_k``: price impact per unit of a minute's volume taken; the worst level of an order of ``qty`` pays
      ``impact_k × qty / V`` on top of the spread (0.005: taking 10% of a minute's volume costs 0.05%).
    - ``max_impact``: the bound on that impact (0.002 = 0.2%, the seed product's maximum slippage).
    - ``level_fraction``: the size of one book level as a fraction of a minute's volume (0.1: every further 10%
      of it is filled at a worse price, so a big order shows its walk through the book).
    - ``max_levels``: at most this many levels; the last one takes whatever is left.
    - ``participation``: the largest fraction of the segment's volume a resting limit order may take per
      segment (0.1 = 10%); the rest waits for the next segment.
    - ``fill_on_touch``: fill resting limits when the price only touches them (default False: it must trade
      through).
    """

    spread_ticks: int = 1
    impact_k: Decimal = Decimal("0.005")
    max_impact: Decimal = Decimal("0.002")
    level_fraction: Decimal = Decimal("0.1")
    max_levels: int = 10
    participation: Decimal = Decimal("0.1")
    fill_on_touch: bool = False

    def __post_init__(self) -> None:
        if self.spread_ticks < 0:
            raise ValueError("spread_ticks must be >= 0")
        if self.impact_k < 0:
            raise ValueError("impact_k must be >= 0")
        if not ZERO <= self.max_impact < ONE:
            raise ValueError("max_impact must be in [0, 1)")
        if not ZERO < self.level_fraction <= ONE:
            raise ValueError("level_fraction must be in (0, 1]")
        if self.max_levels < 1:
            raise ValueError("max_levels must be >= 1")
        if not ZERO < self.participation <= ONE:
            raise ValueError("participation must be in (0, 1]")

    # -- market (taker) ---------------------------------------------------------------------------------

    def impact(self, quantity: Decimal, liquidity: Decimal | None) -> Decimal:
        """The fractional price impact of taking ``quantity`` (cumulative) against ``liquidity`` (volume/minute)."""
        if liquidity is None:
            return ZERO
        if liquidity <= 0:
            return self.max_impact
        return min(self.max_impact, self.impact_k * quantity / liquidity)

    def _level_price(self, instrument: Instrument, side: Side, price: Decimal, impact: Decimal) -> Decimal:
        tick = instrument.tick_size
        if side is _BUY:
            return _ceil_to(price + self.spread_ticks * tick + price * impact, tick)
        worse = _floor_to(price - self.spread_ticks * tick - price * impact, tick)
        return max(worse, tick)  # a price must stay positive; only reachable for absurd parameters

    def market_fills(
        self, instrument: Instrument, side: Side, quantity: Decimal, price: Decimal, liquidity: Decimal | None
    ) -> list[tuple[Decimal, Decimal]]:
        """Taker executions ``(price, qty)``, best first; prices on the tick grid, quantities summing to
        ``quantity`` exactly, every price no better for the taker than ``price`` (the reference). ``liquidity``
        is the estimate of the module docstring (volume per minute from closed candles)."""
        if quantity <= 0:
            raise ValueError(f"quantity must be positive, got {quantity}")
        if price <= 0:
            raise ValueError(f"reference price must be positive, got {price}")
        if liquidity is None or liquidity <= 0:
            return [(self._level_price(instrument, side, price, self.impact(quantity, liquidity)), quantity)]
        step = instrument.market_step_size or instrument.step_size
        chunk = max(step, _floor_to(self.level_fraction * liquidity, step))
        if quantity <= chunk or self.max_levels <= 1:  # one level: what the loop below makes of it, directly
            return [(self._level_price(instrument, side, price, self.impact(quantity, liquidity)), quantity - ZERO)]
        fills: list[tuple[Decimal, Decimal]] = []
        done = ZERO
        level = 1
        while done < quantity:
            end = quantity if level >= self.max_levels else min(quantity, chunk * level)
            level_price = self._level_price(instrument, side, price, self.impact(end, liquidity))
            qty = end - done
            if fills and fills[-1][0] == level_price:
                fills[-1] = (level_price, fills[-1][1] + qty)
            else:
                fills.append((level_price, qty))
            done = end
            level += 1
        return fills

    # -- resting limit (maker) --------------------------------------------------------------------------

    def limit_crossed(self, side: Side, limit_price: Decimal, seg_from: Decimal, seg_to: Decimal) -> bool:
        """Whether the segment trades through (or, with ``fill_on_touch``, touches) the limit price."""
        if side is _BUY:
            low = min(seg_from, seg_to)
            return low <= limit_price if self.fill_on_touch else low < limit_price
        high = max(seg_from, seg_to)
        return high >= limit_price if self.fill_on_touch else high > limit_price

    def limit_fill_qty(
        self,
        instrument: Instrument,
        side: Side,
        limit_price: Decimal,
        remaining_qty: Decimal,
        seg_from: Decimal,
        seg_to: Decimal,
        volume: Decimal | None,
    ) -> Decimal:
        """The quantity that fills at ``limit_price`` along the segment: 0 unless the segment trades through
        the price; then all of it without volume information, else at most ``participation × volume``
        (``volume``: the segment's share of the liquidity, :func:`segment_volume`) rounded down to the step size."""
        if remaining_qty <= 0 or not self.limit_crossed(side, limit_price, seg_from, seg_to):
            return ZERO
        if volume is None:
            return remaining_qty
        if volume <= 0:
            return ZERO
        cap = _floor_to(self.participation * volume, instrument.step_size)
        return min(remaining_qty, cap)

    # -- conditional (trigger) --------------------------------------------------------------------------

    def trigger_price(
        self, side: Side, order_type: OrderType, stop_price: Decimal, seg_from: Decimal, seg_to: Decimal
    ) -> Decimal | None:
        """The first price on the path ``seg_from → seg_to`` where the §3.1 condition holds: ``seg_from`` when
        it already holds there (a gap beyond the stop), ``stop_price`` when the path reaches it, else None."""
        if trigger_fires_at_or_above(side, order_type):
            if seg_from >= stop_price:
                return seg_from
            return stop_price if seg_to >= stop_price else None
        if seg_from <= stop_price:
            return seg_from
        return stop_price if seg_to <= stop_price else None
