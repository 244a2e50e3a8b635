"""Durable journal: one SQLite file holding sessions, orders, fills, liquidations and the event log."""
