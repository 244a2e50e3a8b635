"""Backfill over ``GET /fapi/v1/klines`` (reference §4.3), polite to Binance's limits.

At most 1,500 candles a request, paginated by ``startTime``. Weights follow the table of §4.3 (10 for a 1,500
request); the client keeps its own per-minute budget and also reads ``X-MBX-USED-WEIGHT-1M`` (§5): before a request
that would pass the budget it waits for the next minute. A 429 (rate limit) or 418 (IP ban) is answered by waiting
what ``Retry-After`` says, then trying again (a few times); 5xx and network errors back off exponentially. httpx:
async, HTTP/1.1 keep-alive (one TCP connection for a whole 30-day backfill), timeouts built in.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx

from hexdesk.market.binance.frames import FrameError, parse_rest_kline
from hexdesk.market.binance.settings import LiveSettings
from hexdesk.market.candles import INTERVAL_MS, Candle

__all__ = ["MAX_LIMIT", "KlineFetcher", "RestError", "request_weight"]

MAX_LIMIT = 1500
KLINES_PATH = "/fapi/v1/klines"


def request_weight(limit: int) -> int:
    """Weight of one klines request (§4.3): 1 for limit < 100; 2 for < 500; 5 for <= 1000; 10 above."""
    if limit < 100:
        return 1
    if limit < 500:
        return 2
    if limit <= 1000:
        return 5
    return 10


class RestError(RuntimeError):
    """A request that failed for good: ``status`` (0 for a network error), Binance's ``code`` and ``msg``."""

    def __init__(self, status: int, code: int | None, msg: str) -> None:
        super().__init__(f"HTTP {status} {code if code is not None else ''} {msg}".strip())
        self.status, self.code, self.msg = status, code, msg


class KlineFetcher:
    """Paginated, rate-limited klines. One per live client (it owns an httpx.AsyncClient unless given one)."""

    def __init__(
        self,
        settings: LiveSettings,
        *,
        client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._client = client or httpx.AsyncClient(
            base_url=settings.rest_url, timeout=settings.request_timeout_s, headers={"Accept": "application/json"}
        )
        self._own_client = client is None
        self._sleep = sleep
        self._monotonic = monotonic
        self._minute: int | None = None  # which wall minute the budget counts
        self._used = 0
        self.requests = 0
        self.retries = 0
        self.waited_s = 0.0
        """Seconds spent waiting on Retry-After, backoff and the weight budget."""
        self.skipped: Counter[str] = Counter()
        """Rows of REST answers skipped, by reason (as for stream frames)."""

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()

    async def _wait(self, seconds: float) -> None:
        self.waited_s += seconds
        await self._sleep(seconds)

    async def _budget(self, weight: int) -> None:
        """Wait for the next minute when this request would pass the per-minute budget."""
        now = time.time()
        minute = int(now // 60)
        if minute != self._minute:
            self._minute, self._used = minute, 0
        if self._used + weight > self.settings.weight_budget_per_minute:
            await self._wait((minute + 1) * 60 - now + 0.05)
            self._minute, self._used = int(time.time() // 60), 0
        self._used += weight

    async def get_klines(
        self, symbol: str, interval: str, *, start_ms: int | None = None, end_ms: int | None = None,
        limit: int = MAX_LIMIT, now_ms: int,
    ) -> list[Candle]:  # fmt: skip
        """One request. Rows that fail the checks are skipped and counted; a closed candle is one whose close
        time is before ``now_ms``."""
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_LIMIT}, got {limit}")
        params: dict[str, str | int] = {"symbol": symbol, "interval": interval, "limit": limit}
        if start_ms is not None:
            params["startTime"] = start_ms
        if end_ms is not None:
            params["endTime"] = end_ms
        weight = request_weight(limit)
        attempt = 0
        while True:
            await self._budget(weight)
            self.requests += 1
            try:
                r = await self._client.get(KLINES_PATH, params=params)
            except httpx.HTTPError as exc:
                r = None
                failure = RestError(0, None, f"{type(exc).__name__}: {exc}")
            if r is not None:
                used = r.headers.get("X-MBX-USED-WEIGHT-1M")
                if used is not None and used.isdigit():
                    self._used = max(self._used, int(used))
                if r.status_code == 200:
                    return self._rows(r, symbol, interval, now_ms)
                failure = _error(r)
            attempt += 1
            if attempt > self.settings.max_retries or (r is not None and r.status_code < 500 and
                                                       r.status_code not in (418, 429)):  # fmt: skip
                raise failure
            self.retries += 1
            delay = _retry_after(r) if r is not None and r.status_code in (418, 429) else None
            if delay is None:
                delay = min(self.settings.backoff_max_s, self.settings.backoff_initial_s * 2 ** (attempt - 1))
            await self._wait(delay)

    def _rows(self, r: httpx.Response, symbol: str, interval: str, now_ms: int) -> list[Candle]:
        try:
            rows = r.json()
        except ValueError:
            raise RestError(r.status_code, None, "the klines answer is not JSON") from None
        if not isinstance(rows, list):
            raise RestError(r.status_code, None, "the klines answer is not a list")
        out = []
        for row in rows:
            try:
                out.append(parse_rest_kline(row, symbol, interval, now_ms))
            except FrameError as exc:
                self.skipped[exc.reason] += 1
        return out

    async def history(self, symbol: str, interval: str, start_ms: int, end_ms: int, *, now_ms: int) -> list[Candle]:
        """Every candle opening in ``[start_ms, end_ms]``, page by page (1,500 a request), oldest first."""
        step = INTERVAL_MS[interval]
        out: list[Candle] = []
        start = start_ms - start_ms % step
        while start <= end_ms:
            page = await self.get_klines(symbol, interval, start_ms=start, end_ms=end_ms, now_ms=now_ms)
            page = [k for k in page if k.open_time_ms >= start]
            if not page:
                break
            out.extend(page)
            start = page[-1].open_time_ms + step
            if len(page) < MAX_LIMIT:
                break
        return out

    async def recent(self, symbol: str, interval: str, count: int, *, now_ms: int) -> list[Candle]:
        """The last ``count`` candles up to now (the forming one included), in as many pages as needed."""
        step = INTERVAL_MS[interval]
        start = now_ms - now_ms % step - (count - 1) * step
        return await self.history(symbol, interval, start, now_ms, now_ms=now_ms)


def _retry_after(r: httpx.Response) -> float | None:
    raw = r.headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


def _error(r: httpx.Response) -> RestError:
    code, msg = None, r.reason_phrase
    try:
        body = r.json()
        if isinstance(body, dict):
            code = body.get("code") if isinstance(body.get("code"), int) else None
            msg = str(body.get("msg", msg))
    except ValueError:
        pass
    return RestError(r.status_code, code, msg)
