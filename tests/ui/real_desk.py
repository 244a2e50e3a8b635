"""A real TradingDesk (engine Exchange, no journal, no replay) over 600 bundled BTCUSDT candles, for the tests that
need the engine's answers: amending orders, moving isolated margin."""

from __future__ import annotations

from decimal import Decimal

from hexdesk.engine import Exchange
from hexdesk.market.candles import load_bundled
from hexdesk.service import TradingDesk

SYMBOL = "BTCUSDT"
PRICE = Decimal("85000.0")


def real_desk(balance: Decimal = Decimal("10000")) -> TradingDesk:
    series = load_bundled("BTCUSDT-2025-03").slice(0, 600)
    now = int(series.open_time_ms[-1]) + 60_000
    exchange = Exchange(wallet_balance=balance, start_ms=now)
    exchange.on_tick(SYMBOL, now, PRICE)
    return TradingDesk(exchange, None, None, None, [series])
