"""Alembic environment: migrate the connection ``hexdesk.storage.migrate`` hands over.

For developers, ``alembic -x db=/tmp/dev.db revision --autogenerate -m "..."`` (with a throwaway alembic.ini
whose script_location is this directory) works too: without a handed-over connection, one is made from ``-x db``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from hexdesk.storage.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things: batch mode rebuilds the table
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or "sqlite:///" + context.get_x_argument(as_dictionary=True)["db"]
    with create_engine(url).begin() as conn:
        _run(conn)
