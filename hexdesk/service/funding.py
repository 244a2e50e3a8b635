"""Real funding in replay: the engine settles at the instant with the real rate of that instant.

The engine (``hexdesk.engine.funding.FundingClock``) settles every symbol when its clock (the latest tick time)
reaches a settlement instant, with the rate last given to ``Exchange.set_funding_rate``, before the tick that moved
the clock is applied. So the rate of an instant must be set before the first tick at or after it reaches the engine,
and not earlier: before it, the rate in effect is the one last settled, which is all a trader could know (the
archive gives settled rates, not Binance's running estimate). ``FundingFeed.due_ms`` is the next instant; the desk
calls ``cross(exchange, tick.ts_ms)`` before feeding a tick at or after it. An instant the history has no rate for
(data outside the history's months) settles at the flat fallback rate.

One approximation: a gap in the data longer than the funding interval makes the engine settle several instants on
one tick; they all settle at the rate of the first of them (the engine takes one rate per tick).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from hexdesk.engine import Exchange
from hexdesk.engine.funding import NEVER_MS, next_funding_ms
from hexdesk.market.funding import FundingHistory


class FundingFeed:
    """Sets each symbol's real funding rate on the exchange just before the engine settles an instant."""

    def __init__(self, histories: Mapping[str, FundingHistory], fallback: Decimal) -> None:
        self.histories = dict(histories)
        self.fallback = fallback
        self.due_ms: int = NEVER_MS
        self._hours: dict[str, int] = {}

    def rate_at(self, symbol: str, instant_ms: int) -> Decimal:
        """The real rate settled at ``instant_ms``, or the fallback when the history has none."""
        hist = self.histories.get(symbol)
        r = hist.at(instant_ms) if hist is not None else None
        return r.rate if r is not None else self.fallback

    def start(self, exchange: Exchange) -> int:
        """Set the rates in effect at the engine's clock (the last settled before it) and return the next instant."""
        now = exchange.now_ms
        for symbol in self.histories:
            self._hours[symbol] = exchange.instruments[symbol].funding_interval_hours
            last = self.histories[symbol].last_before(now)
            exchange.set_funding_rate(symbol, last.rate if last is not None else self.fallback)
        self.due_ms = self._next_after(now)
        return self.due_ms

    def cross(self, exchange: Exchange, ts_ms: int) -> int:
        """Before a tick at ``ts_ms`` (>= ``due_ms``): give each symbol whose next instant the tick reaches the rate
        of that instant; returns the next instant after ``ts_ms``."""
        now = exchange.now_ms
        for symbol, hours in self._hours.items():
            instant = next_funding_ms(now, hours)
            if instant <= ts_ms:
                exchange.set_funding_rate(symbol, self.rate_at(symbol, instant))
        self.due_ms = self._next_after(ts_ms)
        return self.due_ms

    def _next_after(self, ts_ms: int) -> int:
        return min((next_funding_ms(ts_ms, h) for h in self._hours.values()), default=NEVER_MS)
