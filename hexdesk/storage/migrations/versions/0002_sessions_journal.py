"""Sessions that resume and a journal that teaches: session status and replay position, trade notes and tags,
day notes, screenshots (issue 7).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

A frozen snapshot: it spells out its tables and never imports hexdesk.storage.tables. Existing sessions become
'active' if they were never ended, else 'ended'; their replay position is unknown (NULL: they cannot resume).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _session_fk(table: str) -> sa.Column:
    return sa.Column(
        "session_id",
        sa.Integer(),
        sa.ForeignKey("practice_sessions.id", name=f"fk_{table}_session_id_practice_sessions", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    # SQLite's ADD COLUMN: no table rebuild, the existing rows keep their data and get the defaults.
    for column in (
        sa.Column("status", sa.String(), nullable=False, server_default="active"),
        sa.Column("archived_from_id", sa.Integer(), nullable=True),
        sa.Column("replay_ms", sa.Integer(), nullable=True),
        sa.Column("speed", sa.String(), nullable=True),
        sa.Column("last_used_at", sa.String(), nullable=True),
        sa.Column("blind", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("journal_only", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("resume_json", sa.String(), nullable=True),
    ):
        op.add_column("practice_sessions", column)
    op.execute("UPDATE practice_sessions SET status = 'ended' WHERE ended_at IS NOT NULL")
    op.execute("UPDATE practice_sessions SET last_used_at = started_at")
    op.create_table(
        "trade_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        _session_fk("trade_notes"),
        sa.Column("trade_key", sa.String(), nullable=False),
        sa.Column("notes", sa.String(), nullable=False),
        sa.Column("setup", sa.String(), nullable=False),
        sa.Column("mistakes", sa.String(), nullable=False),
        sa.Column("emotion", sa.String(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.String(), nullable=False),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="ck_trade_notes_rating"),
        sa.PrimaryKeyConstraint("id", name="pk_trade_notes"),
        sa.UniqueConstraint("session_id", "trade_key", name="uq_trade_notes_session_id_trade_key"),
    )
    op.create_table(
        "trade_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        _session_fk("trade_tags"),
        sa.Column("trade_key", sa.String(), nullable=False),
        sa.Column("tag", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trade_tags"),
        sa.UniqueConstraint("session_id", "trade_key", "tag", name="uq_trade_tags_session_id_trade_key_tag"),
    )
    op.create_table(
        "day_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        _session_fk("day_notes"),
        sa.Column("day", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("updated_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_day_notes"),
        sa.UniqueConstraint("session_id", "day", name="uq_day_notes_session_id_day"),
    )
    op.create_table(
        "screenshots",
        sa.Column("id", sa.Integer(), nullable=False),
        _session_fk("screenshots"),
        sa.Column("trade_key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("ts_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(), nullable=False),
        sa.CheckConstraint("kind IN ('entry', 'exit')", name="ck_screenshots_kind"),
        sa.PrimaryKeyConstraint("id", name="pk_screenshots"),
    )
    op.create_index("ix_screenshots_session_id_trade_key", "screenshots", ["session_id", "trade_key"])


def downgrade() -> None:
    op.drop_index("ix_screenshots_session_id_trade_key", "screenshots")
    for table in ("screenshots", "day_notes", "trade_tags", "trade_notes"):
        op.drop_table(table)
    with op.batch_alter_table("practice_sessions") as batch:
        for col in ("resume_json", "journal_only", "blind", "last_used_at", "speed", "replay_ms",
                    "archived_from_id", "status"):
            batch.drop_column(col)
