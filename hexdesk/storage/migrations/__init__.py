"""Alembic migrations of the journal schema (run in code by ``hexdesk.storage.migrate``; no alembic.ini)."""
