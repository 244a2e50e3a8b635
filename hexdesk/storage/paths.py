"""Where the journal lives: ``--db`` on the command line, else ``$HEXDESK_DB``, else the per-user data directory."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

APP_NAME = "HexDesk"
DB_FILENAME = "hexdesk.db"
ENV_VAR = "HEXDESK_DB"


def default_db_path() -> Path:
    """The per-user journal file, e.g. ``~/.local/share/HexDesk/hexdesk.db`` on Linux."""
    return Path(user_data_dir(APP_NAME, appauthor=False)) / DB_FILENAME


def resolve_db_path(cli_value: str | None) -> Path:
    """The journal path to open: the CLI value beats ``$HEXDESK_DB``, which beats the default.

    Empty strings count as "not given"; ``~`` is expanded. The file is not created here.
    """
    if cli_value:
        return Path(cli_value).expanduser()
    env_value = os.environ.get(ENV_VAR)
    if env_value:
        return Path(env_value).expanduser()
    return default_db_path()
