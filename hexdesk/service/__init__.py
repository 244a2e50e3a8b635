"""The application service: what every screen talks to (freqtrade's RPC, Anki's collection ops). Qt-free.

A package so that each capability keeps its own module: ``desk`` holds ``TradingDesk`` (a practice session: feed ->
engine -> journal -> subscribers) and the session factory; ``sessions`` opens, resumes and manages sessions;
``trades`` builds round trips and statistics; ``transfer`` exports, backs up and imports; ``live`` drives a desk
from Binance's streams; ``funding`` feeds real funding rates to a replay. Screens import from here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hexdesk.service.defaults import DEFAULT_BALANCE, DEFAULT_DATASETS, DEFAULT_FUNDING_RATE, DEFAULT_SPEED
    from hexdesk.service.desk import DeskChange, TradingDesk, open_replay_session
    from hexdesk.service.live import LiveFeed, open_live_session
    from hexdesk.service.sessions import SessionManager, SessionReadOnly, SessionSpec, resume_session
    from hexdesk.service.trades import (
        TradeBook,
        candle_price_range,
        session_trades,
        sessions_table,
        statistics_across,
    )
    from hexdesk.service.transfer import (
        EXPORT_KINDS,
        ExportKind,
        ImportOutcome,
        TransferError,
        backup_session,
        export_session,
        import_binance_trades,
        import_file,
        restore_backup,
    )

#: Where each name lives. Imported on first use (PEP 562): ``hexdesk.service.modes`` at start, or the desk, must
#: not bring the export / import / backup code (and the libraries behind it) before the window's first paint.
_HOMES = {
    **dict.fromkeys(("DEFAULT_BALANCE", "DEFAULT_DATASETS", "DEFAULT_FUNDING_RATE", "DEFAULT_SPEED"), "defaults"),
    **dict.fromkeys(("DeskChange", "TradingDesk", "open_replay_session"), "desk"),
    **dict.fromkeys(("LiveFeed", "open_live_session"), "live"),
    **dict.fromkeys(("SessionManager", "SessionReadOnly", "SessionSpec", "resume_session"), "sessions"),
    **dict.fromkeys(
        ("TradeBook", "candle_price_range", "session_trades", "sessions_table", "statistics_across"), "trades"),
    **dict.fromkeys(
        ("EXPORT_KINDS", "ExportKind", "ImportOutcome", "TransferError", "backup_session", "export_session",
         "import_binance_trades", "import_file", "restore_backup"), "transfer"),
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "DEFAULT_BALANCE",
    "DEFAULT_DATASETS",
    "DEFAULT_FUNDING_RATE",
    "DEFAULT_SPEED",
    "EXPORT_KINDS",
    "DeskChange",
    "ExportKind",
    "ImportOutcome",
    "LiveFeed",
    "SessionManager",
    "SessionReadOnly",
    "SessionSpec",
    "TradeBook",
    "TradingDesk",
    "TransferError",
    "backup_session",
    "candle_price_range",
    "export_session",
    "import_binance_trades",
    "import_file",
    "open_live_session",
    "open_replay_session",
    "restore_backup",
    "resume_session",
    "session_trades",
    "sessions_table",
    "statistics_across",
]
