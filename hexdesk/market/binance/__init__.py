"""Binance USDⓈ-M live market data: streams, REST backfill, reconnects (asyncio, websockets, httpx; no Qt).

``BinanceLive`` is the client; ``LiveSettings`` says where and how patiently it connects; ``frames`` checks every
frame; ``history.CandleBook`` merges candles by open time; ``rest.KlineFetcher`` backfills. See docs/market.md.
"""

from hexdesk.market.binance.client import LIVE_STEP, BinanceLive, ConnectionState, FundingInfo, LiveBatch, StaleFeed
from hexdesk.market.binance.frames import FrameError
from hexdesk.market.binance.history import CandleBook
from hexdesk.market.binance.probe import why_not_live
from hexdesk.market.binance.rest import KlineFetcher, RestError
from hexdesk.market.binance.settings import LiveSettings

__all__ = [
    "LIVE_STEP",
    "BinanceLive",
    "CandleBook",
    "ConnectionState",
    "FrameError",
    "FundingInfo",
    "KlineFetcher",
    "LiveBatch",
    "LiveSettings",
    "RestError",
    "StaleFeed",
    "why_not_live",
]
