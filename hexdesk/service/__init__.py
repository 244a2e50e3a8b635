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

__all__ = [
    "DEFAULT_BALANCE",
    "DEFAULT_DATASETS",
    "DEFAULT_FUNDING_RATE",
    "DEFAULT_SPEED",
    "EXPORT_KINDS",
    "DeskChange",
    "ExportKind",
    "ImportOutcome",
    "TradingDesk",
    "TransferError",
    "backup_session",
    "export_session",
    "import_binance_trades",
    "import_file",
    "open_replay_session",
    "restore_backup",
]
