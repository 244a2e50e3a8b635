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
from hexdesk.service.live import LiveFeed, open_live_session
from hexdesk.service.sessions import SessionManager, SessionReadOnly, SessionSpec, resume_session
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
    "SessionManager",
    "SessionReadOnly",
    "SessionSpec",
    "TradeBook",
    "TradingDesk",
    "candle_price_range",
    "open_live_session",
    "open_replay_session",
    "resume_session",
    "session_trades",
    "sessions_table",
    "statistics_across",
]
