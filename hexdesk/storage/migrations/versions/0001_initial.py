"""Initial journal schema: practice sessions, the event log and the order/fill/liquidation/funding projections.

Revision ID: 0001
Revises:
Create Date: 2025-11-25

Revisions are frozen snapshots: they spell out their tables here and never import hexdesk.storage.tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPLICATION_ID = 0x48584453  # "HXDS": marks the file as a HexDesk journal (PRAGMA application_id)


def _session_fk(table: str) -> sa.Column:
    return sa.Column(
        "session_id",
        sa.Integer(),
        sa.ForeignKey("practice_sessions.id", name=f"fk_{table}_session_id_practice_sessions", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    op.create_table(
        "practice_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("started_at", sa.String(), nullable=False),
        sa.Column("ended_at", sa.String(), nullable=True),
        sa.Column("mode", sa.String(), nullable=False),
        sa.Column("dataset", sa.String(), nullable=False),
        sa.Column("start_balance", sa.String(), nullable=False),
        sa.Column("settings_json", sa.String(), nullable=False),
        sa.Column("app_version", sa.String(), nullable=False),
        sa.Column("realized_pnl", sa.String(), nullable=False),
        sa.Column("fees", sa.String(), nullable=False),
        sa.Column("funding", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_practice_sessions"),
        sa.CheckConstraint("mode IN ('replay', 'live')", name="ck_practice_sessions_mode"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        _session_fk("events"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("ts_ms", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("payload", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("session_id", "seq", name="uq_events_session_id_seq"),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        _session_fk("orders"),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("client_order_id", sa.String(), nullable=True),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("quantity", sa.String(), nullable=True),
        sa.Column("price", sa.String(), nullable=True),
        sa.Column("stop_price", sa.String(), nullable=True),
        sa.Column("time_in_force", sa.String(), nullable=True),
        sa.Column("reduce_only", sa.Boolean(), nullable=False),
        sa.Column("close_position", sa.Boolean(), nullable=False),
        sa.Column("working_type", sa.String(), nullable=True),
        sa.Column("price_protect", sa.Boolean(), nullable=False),
        sa.Column("triggered", sa.Boolean(), nullable=False),
        sa.Column("parent_order_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("executed_qty", sa.String(), nullable=False),
        sa.Column("avg_price", sa.String(), nullable=False),
        sa.Column("created_ms", sa.Integer(), nullable=False),
        sa.Column("updated_ms", sa.Integer(), nullable=False),
        sa.Column("reject_code", sa.Integer(), nullable=True),
        sa.Column("reject_msg", sa.String(), nullable=True),
        sa.Column("end_reason", sa.String(), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("session_id", "order_id", name="uq_orders_session_id_order_id"),
    )
    op.create_table(
        "fills",
        sa.Column("id", sa.Integer(), nullable=False),
        _session_fk("fills"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("trade_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("price", sa.String(), nullable=False),
        sa.Column("quantity", sa.String(), nullable=False),
        sa.Column("fee", sa.String(), nullable=False),
        sa.Column("fee_asset", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("realized_pnl", sa.String(), nullable=False),
        sa.Column("ts_ms", sa.Integer(), nullable=False),
        sa.Column("is_liquidation", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fills"),
        sa.UniqueConstraint("session_id", "trade_id", name="uq_fills_session_id_trade_id"),
    )
    op.create_index("ix_fills_session_id_order_id", "fills", ["session_id", "order_id"])
    op.create_table(
        "liquidations",
        sa.Column("id", sa.Integer(), nullable=False),
        _session_fk("liquidations"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("ts_ms", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("margin_mode", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("quantity", sa.String(), nullable=False),
        sa.Column("entry_price", sa.String(), nullable=False),
        sa.Column("mark_price", sa.String(), nullable=False),
        sa.Column("bankruptcy_price", sa.String(), nullable=False),
        sa.Column("liquidation_fee", sa.String(), nullable=False),
        sa.Column("margin_lost", sa.String(), nullable=False),
        sa.Column("insurance_fund_cover", sa.String(), nullable=False),
        sa.Column("trade_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_liquidations"),
        sa.UniqueConstraint("session_id", "seq", name="uq_liquidations_session_id_seq"),
    )
    op.create_table(
        "funding_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        _session_fk("funding_payments"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("ts_ms", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("funding_rate", sa.String(), nullable=False),
        sa.Column("mark_price", sa.String(), nullable=False),
        sa.Column("position_qty", sa.String(), nullable=False),
        sa.Column("amount", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_funding_payments"),
        sa.UniqueConstraint("session_id", "seq", name="uq_funding_payments_session_id_seq"),
    )


def downgrade() -> None:
    for table in ("funding_payments", "liquidations", "fills", "orders", "events", "practice_sessions"):
        op.drop_table(table)
    op.execute("PRAGMA application_id = 0")
