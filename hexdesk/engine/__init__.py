"""HexDesk's margin engine: a simulated Binance USDⓈ-M perpetual exchange holding one account.

Pure Python with Decimal money: no Qt, no asyncio, no I/O. Deterministic: the same calls give the
same events. See docs/engine.md.
"""
