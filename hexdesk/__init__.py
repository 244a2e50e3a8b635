"""HexDesk: a desktop trainer for Binance USDⓈ-M perpetual futures."""

__version__ = "0.1.0"
