"""LiveFeed: the Binance live client driving a TradingDesk, as the replay drives it offline.

Every :class:`~hexdesk.market.binance.LiveBatch` goes to the desk in order: its ticks through ``TradingDesk.feed``
(last price = kline close drives fills; ``tick.mark`` = the mark price stream is the engine's mark), then each
funding update to ``Exchange.set_funding_rate`` (after the ticks, so a settlement the ticks reach uses the rate in
force before this frame). The engine settles funding on its own clock at its instrument's interval (00/08/16 UTC for
8 h symbols, ``hexdesk.engine.funding``); the stream's next funding time ``T`` is compared with that schedule and a
difference is counted in ``funding_schedule_mismatches`` (a symbol with a 4 h or 1 h interval on Binance but 8 h in
the engine's instrument table would show up here). The desk's history follows the client's merged candles.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from hexdesk.engine import Exchange
from hexdesk.engine.funding import next_funding_ms
from hexdesk.market.candles import CandleSeries
from hexdesk.service.defaults import DEFAULT_BALANCE
from hexdesk.service.desk import TradingDesk, _History

if TYPE_CHECKING:  # httpx, websockets and sqlmodel load when a live session opens, not with the app (issue 10.3)
    from hexdesk.market.binance import BinanceLive, ConnectionState, FundingInfo, LiveBatch, LiveSettings
    from hexdesk.storage.journal import Journal

__all__ = ["LiveFeed", "open_live_session"]


class LiveFeed:
    """Drives ``desk`` from ``market``; the service's handle on the live connection (state, switch, counters)."""

    def __init__(self, desk: TradingDesk, market: BinanceLive) -> None:
        self.desk = desk
        self.market = market
        self.funding: dict[str, FundingInfo] = {}
        """The latest funding update per symbol (rate ``r`` and next time ``T`` from the mark price stream)."""
        self.funding_schedule_mismatches: Counter[str] = Counter()
        """Funding updates whose ``T`` is not the engine's next settlement instant for that symbol, by symbol."""
        self._synced: dict[str, int] = {}

    @property
    def state(self) -> ConnectionState:
        return self.market.state

    def on_state(self, handler: Callable[[ConnectionState], None]) -> Callable[[], None]:
        """``handler(state)`` on every connection state change (for the status bar)."""
        return self.market.on_state(handler)

    @property
    def skipped(self) -> Counter[str]:
        """Frames skipped by the client, by reason."""
        return self.market.skipped

    def on_batch(self, batch: LiveBatch) -> None:
        """The client's sink: ticks to the engine, then funding, then the history the chart loads."""
        if batch.ticks:
            self.desk.feed(batch.ticks)
        exchange: Exchange = self.desk.exchange
        for f in batch.funding:
            inst = exchange.instruments.get(f.symbol)
            if inst is None:
                continue
            if f.next_funding_ms != next_funding_ms(f.event_ms, inst.funding_interval_hours):
                self.funding_schedule_mismatches[f.symbol] += 1
            exchange.set_funding_rate(f.symbol, f.rate)
            self.funding[f.symbol] = f
        self.sync_history()

    def sync_history(self) -> None:
        """Give the desk the client's closed candles (no hole, no duplicate) when they changed."""
        for sym in self.market.symbols:
            n = len(self.market.book(sym))
            if self._synced.get(sym) != n:
                series = self.market.history(sym)
                self.desk._history[sym] = _History(series, len(series))
                self._synced[sym] = n

    async def run(self) -> None:
        """Stream until the market client is stopped (or the task cancelled)."""
        await self.market.run(self.on_batch)

    async def switch(self, symbols: Sequence[str], interval: str | None = None) -> None:
        """Another symbol set or timeframe: subscribe on the open connection and reload the history."""
        await self.market.switch(symbols, interval)
        for sym in [s for s in self.desk._history if s not in self.market.symbols]:
            del self.desk._history[sym]
        self._synced.clear()
        self.sync_history()

    async def stop(self) -> None:
        await self.market.aclose()


def open_live_session(
    journal: Journal | None,
    symbols: Sequence[str] = ("BTCUSDT",),
    interval: str = "1m",
    *,
    settings: LiveSettings | None = None,
    balance: Decimal = DEFAULT_BALANCE,
    clock_ms: Callable[[], int] | None = None,
    name: str | None = None,
) -> tuple[TradingDesk, LiveFeed]:
    """A practice session on Binance's live prices: the desk (journaled like a replay one) and its feed (await
    ``feed.run()`` to start streaming)."""
    from hexdesk.market.binance import BinanceLive

    market = BinanceLive(symbols, interval, settings, clock_ms=clock_ms)
    start = market.now_ms()
    exchange = Exchange(wallet_balance=balance, start_ms=start)
    series = [CandleSeries.from_candles([], s, interval) for s in symbols]
    label = f"Live · Binance USDⓈ-M · {', '.join(symbols)}"
    session_id = None
    if journal is not None:
        session_id = journal.start_session(
            name=name or label,
            mode="live",
            dataset=",".join(symbols),
            start_balance=balance,
            settings={"start_ms": start, "interval": interval, "ws_url": market.settings.ws_url},
        )
    desk = TradingDesk(exchange, journal, session_id, None, series, mode_label=label)
    return desk, LiveFeed(desk, market)
