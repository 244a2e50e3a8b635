"""Market data sources: bundled replay, recorder, Binance streams. asyncio, no Qt.

``candles``: Candle / CandleSeries (exact Decimal values, numpy arrays for drawing), bundled datasets, CSV import,
aggregation. ``replay``: the four-point replay of candles on a shared clock (``Replay``, ``PriceTick``).
``bundle``: the CSV -> .npz converter for ``resources/klines``. See docs/market.md.
"""
