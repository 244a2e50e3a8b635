"""Market data sources: bundled replay, recorder, Binance streams. asyncio, no Qt."""
