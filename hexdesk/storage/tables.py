"""The journal's SQLite schema, declared with SQLModel. Private to hexdesk.storage: the app sees dataclasses.

Rules: money, prices and quantities are TEXT holding the exact ``str(Decimal)`` (never REAL); timestamps from
the engine are integer epoch milliseconds (``*_ms``); wall-clock session times are UTC ISO-8601 text. The event
log (``events``) is the source of truth; ``orders``/``fills``/``liquidations``/``funding_payments`` are projections
written in the same transaction as the events that imply them, so a query never needs to replay the log.

Any change here needs a new Alembic revision in ``migrations/versions`` (tests compare the two).
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, MetaData, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Our own metadata (not SQLModel's global one), so nothing else that uses SQLModel leaks into the journal.
metadata = MetaData(naming_convention=NAMING_CONVENTION)


class StorageModel(SQLModel, registry=registry(metadata=metadata)):
    """Base of the journal tables."""


def _session_fk() -> Column[int]:
    return Column(
        "session_id", Integer, ForeignKey("practice_sessions.id", ondelete="CASCADE"), nullable=False
    )


class PracticeSession(StorageModel, table=True):
    """One practice run: a replay of a dataset or a live-price session, from one starting balance."""

    __tablename__ = "practice_sessions"
    __table_args__ = (CheckConstraint("mode IN ('replay', 'live')", name="mode"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    started_at: str  # UTC ISO-8601, e.g. 2025-03-01T12:00:00.000+00:00
    ended_at: str | None = None
    mode: str  # "replay" | "live"
    dataset: str  # e.g. "BTCUSDT-2025-03"
    start_balance: str  # Decimal text
    settings_json: str = "{}"
    app_version: str
    # Running totals over the fills/funding recorded so far (Decimal text), kept in the same transaction as them.
    realized_pnl: str = "0"
    fees: str = "0"
    funding: str = "0"
    # Revision 0002: resume and the session manager.
    status: str = Field(default="active", sa_column_kwargs={"server_default": "active"})  # active|archived|ended
    archived_from_id: int | None = None  # a reset's copy points at the session it archived
    replay_ms: int | None = None  # the replay clock at the last commit (NULL: never recorded)
    speed: str | None = None  # replay speed (float text; "inf" as fast as possible)
    last_used_at: str | None = None  # UTC ISO-8601 of the last open / write
    blind: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})  # dates hidden from the trader
    journal_only: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})  # imported real trades
    resume_json: str | None = None  # what the engine last saw of the market + the replay cursor (JSON)


class EventRecord(StorageModel, table=True):
    """The event log: every engine event of a session, by ``seq``. ``payload`` is ``codec.dumps_event``."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=_session_fk())
    seq: int
    ts_ms: int
    type: str
    payload: str


class OrderRecord(StorageModel, table=True):
    """The latest state of each order (upserted on every order event); rejected requests get a row too.

    A rejected request never received an exchange order id: its ``order_id`` is NULL and ``status`` REJECTED.
    ``last_seq`` is the seq of the event that wrote the row (an older event never overwrites a newer state).
    """

    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("session_id", "order_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=_session_fk())
    order_id: int | None = None
    client_order_id: str | None = None
    symbol: str
    side: str
    type: str
    quantity: str | None = None
    price: str | None = None
    stop_price: str | None = None
    time_in_force: str | None = None
    reduce_only: bool = False
    close_position: bool = False
    working_type: str | None = None
    price_protect: bool = False
    triggered: bool = False
    parent_order_id: int | None = None
    status: str
    executed_qty: str = "0"
    avg_price: str = "0"
    created_ms: int
    updated_ms: int
    reject_code: int | None = None
    reject_msg: str | None = None
    end_reason: str | None = None  # OrderCanceled / OrderExpired reason
    last_seq: int


class FillRecord(StorageModel, table=True):
    """Every execution, including liquidation fills (``is_liquidation``). One row per (session, trade_id)."""

    __tablename__ = "fills"
    __table_args__ = (UniqueConstraint("session_id", "trade_id"), Index(None, "session_id", "order_id"))

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=_session_fk())
    seq: int  # the event that carried the fill
    trade_id: int
    order_id: int
    symbol: str
    side: str
    price: str
    quantity: str
    fee: str
    fee_asset: str
    role: str
    realized_pnl: str
    ts_ms: int
    is_liquidation: bool = False


class LiquidationRecord(StorageModel, table=True):
    """A position closed by the liquidation engine (from ``PositionLiquidated``)."""

    __tablename__ = "liquidations"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=_session_fk())
    seq: int
    ts_ms: int
    symbol: str
    margin_mode: str
    side: str
    quantity: str
    entry_price: str
    mark_price: str
    bankruptcy_price: str
    liquidation_fee: str
    margin_lost: str
    insurance_fund_cover: str
    trade_id: int | None = None  # the liquidation fill


class FundingRecord(StorageModel, table=True):
    """A funding settlement (from ``FundingSettled``): ``amount`` > 0 received, < 0 paid."""

    __tablename__ = "funding_payments"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=_session_fk())
    seq: int
    ts_ms: int
    symbol: str
    funding_rate: str
    mark_price: str
    position_qty: str
    amount: str


class TradeNote(StorageModel, table=True):
    """The trader's journal of one round trip (``trade_key`` = "SYMBOL:first_trade_id"), edited as it is typed."""

    __tablename__ = "trade_notes"
    __table_args__ = (
        UniqueConstraint("session_id", "trade_key"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=_session_fk())
    trade_key: str
    notes: str = ""
    setup: str = ""
    mistakes: str = ""
    emotion: str = ""
    rating: int | None = None
    updated_at: str


class TradeTag(StorageModel, table=True):
    """One tag of one round trip."""

    __tablename__ = "trade_tags"
    __table_args__ = (UniqueConstraint("session_id", "trade_key", "tag"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=_session_fk())
    trade_key: str
    tag: str


class DayNote(StorageModel, table=True):
    """A note for one session day (``day`` = 'YYYY-MM-DD' of the replay clock, UTC)."""

    __tablename__ = "day_notes"
    __table_args__ = (UniqueConstraint("session_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=_session_fk())
    day: str
    text: str
    updated_at: str


class Screenshot(StorageModel, table=True):
    """A chart screenshot of a round trip; the PNG is ``<journal folder>/screenshots/<sha256>.png``."""

    __tablename__ = "screenshots"
    __table_args__ = (
        CheckConstraint("kind IN ('entry', 'exit')", name="kind"),
        Index(None, "session_id", "trade_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=_session_fk())
    trade_key: str
    kind: str
    sha256: str
    ts_ms: int
    created_at: str
