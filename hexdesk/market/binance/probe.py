"""Does Binance answer? One cheap question, bounded in time: for choosing live or replay at start (issue 8.5).

The question is the smallest klines request (``limit=1``, weight 1, §4.3) for a symbol the app trades, over REST,
then a WebSocket handshake on the market stream URL: both must answer within ``timeout_s``. The answer is None when
live data can be had, else a sentence saying why not (shown to the trader by ``--live``).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from hexdesk.market.binance.frames import kline_stream
from hexdesk.market.binance.rest import KlineFetcher, RestError
from hexdesk.market.binance.settings import LiveSettings

__all__ = ["why_not_live"]


async def why_not_live(
    settings: LiveSettings | None = None, symbol: str = "BTCUSDT", timeout_s: float = 3.0
) -> str | None:
    """None if Binance's REST API and market streams both answer within ``timeout_s``; else why not."""
    s = settings or LiveSettings.from_env()
    fetcher = KlineFetcher(replace(s, max_retries=0, request_timeout_s=timeout_s))
    try:
        async with asyncio.timeout(timeout_s):
            await fetcher.get_klines(symbol, "1m", limit=1, now_ms=int(time.time() * 1000))
            async with connect(s.stream_url([kline_stream(symbol, "1m")]), open_timeout=timeout_s, close_timeout=1):
                pass
    except TimeoutError:
        return f"Binance did not answer within {timeout_s:g} s ({s.rest_url}, {s.ws_url})"
    except RestError as exc:
        return f"Binance's REST API refused: {exc} ({s.rest_url})"
    except (OSError, WebSocketException) as exc:
        return f"cannot reach Binance's market streams: {type(exc).__name__}: {exc} ({s.ws_url})"
    finally:
        await fetcher.aclose()
    return None
