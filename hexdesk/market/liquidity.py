"""Liquidity without look-ahead: how much of a symbol trades in a minute, estimated from candles that have closed.

The fill model prices a market order's size against the volume that trades in a minute (docs/fill-model.md). The
volume of the candle that is still forming is no estimate of that: at a candle's open it is 0 (and the model would
charge its bounded worst price), and in replay the forming candle's volume comes from the recorded candle, i.e.
from the future. So the market side hands the engine an estimate made only of what is already known:

    liquidity = median of the volume per minute of the last ``WINDOW`` (15) closed candles of that symbol

The median, not the mean, because 1-minute volume is heavy-tailed: one liquidation cascade (a candle of 50x the
usual volume) would otherwise make a quarter of an hour look deep and under-charge every order in it. Fifteen
minutes follows the market's rhythm within the hour yet is long enough for the median to ignore a few odd candles.
Before the first candle has closed nothing is known and the estimate is 0, "no sign of liquidity": the fill model
then charges its bounded worst price (see docs/fill-model.md for why that and not the spread alone).

One :class:`LiquidityEstimator` per symbol, fed every closed candle: the replay does it in ``candle_ticks`` (primed
with the candles before the replay's start), and the live client does the same with the closed klines of its
stream (and the recent ones it loads when it connects), so live and replay price orders by the same rule.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from statistics import median

WINDOW = 15
"""How many of the most recent closed candles the estimate is the median of."""

MINUTE_MS = 60_000
ZERO = Decimal(0)

__all__ = ["MINUTE_MS", "WINDOW", "LiquidityEstimator"]


class LiquidityEstimator:
    """The rolling median volume per minute of one symbol's last ``window`` closed candles (0 before any)."""

    __slots__ = ("_per_minute", "_volumes")

    def __init__(self, window: int = WINDOW) -> None:
        if window < 1:
            raise ValueError(f"the window must hold at least one candle, got {window}")
        self._volumes: deque[Decimal] = deque(maxlen=window)
        self._per_minute = ZERO

    @property
    def window(self) -> int:
        maxlen = self._volumes.maxlen
        assert maxlen is not None
        return maxlen

    @property
    def per_minute(self) -> Decimal:
        """The estimate: base-asset volume expected to trade in one minute (0 until a candle has closed)."""
        return self._per_minute

    def add_closed(self, volume: Decimal, interval_ms: int = MINUTE_MS) -> Decimal:
        """A candle of ``interval_ms`` closed with ``volume``: update and return the estimate.

        Only ever call this with a candle that has closed: that is the whole point of the estimator.
        """
        if interval_ms <= 0:
            raise ValueError(f"interval_ms must be positive, got {interval_ms}")
        if not volume.is_finite() or volume < 0:
            raise ValueError(f"a candle's volume cannot be {volume}")
        per_minute = volume if interval_ms == MINUTE_MS else volume * MINUTE_MS / interval_ms
        self._volumes.append(per_minute)
        self._per_minute = median(self._volumes)
        return self._per_minute
