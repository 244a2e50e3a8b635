"""The application service: what every screen talks to (freqtrade's RPC, Anki's collection ops). Qt-free.

A package so that each capability keeps its own module: ``desk`` holds ``TradingDesk`` (a practice session: feed ->
engine -> journal -> subscribers) and the session factory; further modules (sessions, trades, export, live feed)
sit beside it. Screens import from here.
"""

from hexdesk.service.desk import (
    DEFAULT_BALANCE,
    DEFAULT_DATASETS,
    DEFAULT_FUNDING_RATE,
    DEFAULT_SPEED,
    DeskChange,
    TradingDesk,
    open_replay_session,
)
from hexdesk.service.trades import (
    TradeBook,
    candle_price_range,
    session_trades,
    sessions_table,
    statistics_across,
)

__all__ = [
    "DEFAULT_BALANCE",
    "DEFAULT_DATASETS",
    "DEFAULT_FUNDING_RATE",
    "DEFAULT_SPEED",
    "DeskChange",
    "LiveFeed",
    "TradeBook",
    "TradingDesk",
    "candle_price_range",
    "open_live_session",
    "open_replay_session",
    "session_trades",
    "sessions_table",
    "statistics_across",
]


def __getattr__(name: str) -> object:
    """The live client (httpx, websockets, the journal's SQLAlchemy) loads on first use, not at start-up."""
    if name in ("LiveFeed", "open_live_session"):
        from hexdesk.service import live

        return getattr(live, name)
    raise AttributeError(f"module 'hexdesk.service' has no attribute {name!r}")
