"""Where the live client connects and how patient it is: one frozen settings object, overridable from the environment.

The defaults are Binance's production USDⓈ-M endpoints after the 2026 WebSocket split (reference §4.2): market
streams live under ``/market`` (the legacy ``/stream`` URL still accepts a connection but has pushed no kline since
2026-04-23). ``HEXDESK_WS_URL`` / ``HEXDESK_REST_URL`` point the client elsewhere, e.g. at the fake server of the
tests on 127.0.0.1.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

DEFAULT_WS_URL = "wss://fstream.binance.com/market"
DEFAULT_REST_URL = "https://fapi.binance.com"
WS_URL_ENV = "HEXDESK_WS_URL"
REST_URL_ENV = "HEXDESK_REST_URL"

MAX_CONNECTION_S = 24 * 3600.0
"""Binance closes a stream connection after 24 h (§4.2)."""


@dataclass(frozen=True, slots=True)
class LiveSettings:
    """Endpoints, timeouts and limits of the live client. Times in seconds."""

    ws_url: str = DEFAULT_WS_URL
    """Base of the market streams; the combined stream is ``{ws_url}/stream?streams=a/b``."""
    rest_url: str = DEFAULT_REST_URL
    """Base of the REST API; klines come from ``{rest_url}/fapi/v1/klines``."""
    mark_stream: str = "markPrice@1s"
    """The mark price stream suffix: ``markPrice@1s`` pushes every second, ``markPrice`` every 3 s."""
    stale_after_s: float = 10.0
    """No frame at all for this long means a dead feed: reconnect. The 1 s mark stream makes 10 s ten misses."""
    max_connection_s: float = MAX_CONNECTION_S - 30 * 60
    """Reconnect on our own terms half an hour before Binance's 24 h cut."""
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    """Exponential backoff between failed attempts: initial × 2^n capped at max, with full jitter."""
    offline_after_failures: int = 3
    """Consecutive failed attempts after which the state says OFFLINE (the client keeps trying)."""
    open_timeout_s: float = 10.0
    ping_interval_s: float | None = 20.0
    """Our own keepalive pings (unsolicited pongs/pings are allowed, §4.2); the server's pings are answered anyway."""
    ping_timeout_s: float | None = 20.0
    reply_timeout_s: float = 5.0
    """How long a SUBSCRIBE/UNSUBSCRIBE waits for its ``{"result":null,"id":n}``."""
    request_timeout_s: float = 10.0
    history_candles: int = 1500
    """Candles loaded at start and at every switch (one request of the maximum size)."""
    weight_budget_per_minute: int = 1200
    """REST weight this client allows itself per minute: half of fapi's 2400 (§5), the rest is other clients'."""
    max_retries: int = 5
    """REST attempts after a 429/418/5xx before the backfill gives up (the connection then retries as a whole)."""
    max_frame_bytes: int = 1 << 20

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> LiveSettings:
        """Defaults, then ``HEXDESK_WS_URL`` / ``HEXDESK_REST_URL`` when set, then ``overrides``."""
        env = os.environ if env is None else env
        base = cls()
        urls: dict[str, object] = {}
        if env.get(WS_URL_ENV):
            urls["ws_url"] = env[WS_URL_ENV]
        if env.get(REST_URL_ENV):
            urls["rest_url"] = env[REST_URL_ENV]
        return replace(base, **{**urls, **overrides})  # type: ignore[arg-type]

    def stream_url(self, streams: list[str]) -> str:
        """The combined-stream URL for ``streams`` (names as Binance spells them, lower case)."""
        return f"{self.ws_url.rstrip('/')}/stream?streams={'/'.join(streams)}"
