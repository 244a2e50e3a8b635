"""Funding settlement times and amounts (reference §2), and :class:`FundingClock`, the Exchange mixin that settles
every symbol when the engine clock reaches a settlement instant.

Binance settles funding at fixed UTC instants: every ``fundingIntervalHours`` hours counted from 00:00 UTC (so 00:00,
08:00 and 16:00 for the default 8 h). Only positions open at that instant pay or receive.
"""

from __future__ import annotations

from decimal import Decimal

from hexdesk.engine.core import ExchangeCore
from hexdesk.engine.guards import MAX_TS_MS

HOUR_MS = 3_600_000


def next_funding_ms(ts_ms: int, interval_hours: int) -> int:
    """The first settlement instant strictly after ``ts_ms``.

    Epoch milliseconds are UTC and every interval Binance uses (1, 2, 4, 8 h) divides a day, so multiples of the
    interval since the epoch are exactly the UTC settlement times.
    """
    period = interval_hours * HOUR_MS
    return (ts_ms // period + 1) * period


def funding_amount(position_qty: Decimal, mark_price: Decimal, rate: Decimal) -> Decimal:
    """What the position receives (> 0) or pays (< 0): ``−qty × mark × rate``.

    A positive rate means longs pay shorts, so a long (qty > 0) gets a negative amount.
    """
    return -position_qty * mark_price * rate


def clamp_rate(rate: Decimal, floor: Decimal, cap: Decimal) -> Decimal:
    """Binance caps the funding rate at ``adjustedFundingRateCap`` / ``Floor`` (±0.75 × tier-1 MMR)."""
    return min(cap, max(floor, rate))


NEVER_MS = 2**63  # "no settlement pending": later than any timestamp the door lets in


class FundingClock(ExchangeCore):
    """Mixin of :class:`hexdesk.engine.exchange.Exchange`: funding settles on the engine clock, for every symbol.

    The clock is the latest tick time of *any* symbol. As soon as it reaches a settlement instant, every symbol
    with a price settles that instant (the position it holds then, at its last known mark), before the tick that
    moved the clock is applied and before any request: an order stamped after 08:00 neither pays the 08:00 funding
    nor escapes it because its own symbol had not ticked yet.
    """

    def _settle_due_funding(self) -> None:
        """Settle every instant the clock has reached, earliest first; within one instant by symbol."""
        if self._now < self._next_funding_ms:
            return
        settled = False
        while self._now >= self._next_funding_ms:
            instant = self._next_funding_ms
            for symbol in sorted(self._state):
                st = self._state[symbol]
                if st.last is None or st.next_funding_ms != instant:
                    continue
                hours = st.instrument.funding_interval_hours
                if st.qty and st.funding_rate:
                    self._settle_funding(st, instant)  # type: ignore[attr-defined]
                    settled = True
                    st.next_funding_ms = next_funding_ms(instant, hours)
                else:  # nothing to pay: skip straight past the clock (a long gap costs no loop)
                    st.next_funding_ms = next_funding_ms(max(instant, self._now), hours)
            self._next_funding_ms = self._earliest_funding()
            if settled:
                self._resync_cross()
                self._check_cross()  # type: ignore[attr-defined]
                settled = False

    def _earliest_funding(self) -> int:
        """The next instant any priced symbol settles, capped just past the last timestamp the door accepts (so
        the tick fast path's ``ts_ms < next funding`` check is also its upper timestamp bound)."""
        earliest = min((st.next_funding_ms for st in self._state.values() if st.last is not None), default=NEVER_MS)
        return min(earliest, MAX_TS_MS + 1)
