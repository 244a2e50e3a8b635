"""A plain-Python stand-in for ``hexdesk.service.sessions.SessionManager`` (the wave-2 contract), for UI tests.

It keeps summaries in a list and hands out ``FakeDesk``s; tests read what the dialog asked for from ``calls``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hexdesk.storage.views import SessionStatus
from tests.ui.fake_desk import FakeDesk


@dataclass(frozen=True, slots=True)
class FakeSummary:
    """The fields of ``storage.views.SessionSummary`` the session list shows, given as the list shows them (a
    balance rather than PnL totals), plus the round-trip count the dialog would otherwise count from the
    journal's fills."""

    id: int
    name: str
    start_balance: Decimal
    balance: Decimal  # start_balance + net_pnl
    status: SessionStatus = SessionStatus.ACTIVE
    trade_count: int = 0
    last_used_at: datetime | None = None
    started_at: datetime = field(default_factory=lambda: datetime(2026, 11, 1, 9, 0, tzinfo=UTC))
    dataset: str = "BTCUSDT-2025-03,ETHUSDT-2025-03"
    blind: bool = False
    journal_only: bool = False
    archived_from_id: int | None = None
    fill_count: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", SessionStatus(self.status))

    @property
    def net_pnl(self) -> Decimal:
        return self.balance - self.start_balance

    @property
    def read_only(self) -> bool:
        return self.status is SessionStatus.ARCHIVED or self.journal_only


class FakeSessionManager:
    """list / new / open / rename / reset / delete, as the contract names them."""

    def __init__(self, summaries: list[FakeSummary] | None = None) -> None:
        self.summaries: list[FakeSummary] = list(summaries or [])
        self._ids = itertools.count(max((s.id for s in self.summaries), default=0) + 1)
        self.calls: list[tuple[Any, ...]] = []
        self.desks: dict[int, FakeDesk] = {}
        self.fail_next: Exception | None = None

    def _check(self) -> None:
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc

    def _summary(self, session_id: int) -> FakeSummary:
        return next(s for s in self.summaries if s.id == session_id)

    def _desk(self, session_id: int, balance: Decimal) -> FakeDesk:
        desk = FakeDesk(balance=balance, session_id=session_id,
                        mode_label=f"Replay · session {session_id}")
        self.desks[session_id] = desk
        return desk

    def list(self) -> list[FakeSummary]:
        return list(self.summaries)

    def new(self, spec: Any) -> FakeDesk:
        self.calls.append(("new", spec))
        self._check()
        sid = next(self._ids)
        balance = spec.balance
        self.summaries.append(FakeSummary(sid, spec.name, balance, balance, blind=bool(spec.blind)))
        return self._desk(sid, balance)

    def open(self, session_id: int) -> FakeDesk:
        self.calls.append(("open", session_id))
        self._check()
        s = self._summary(session_id)
        return self._desk(session_id, s.balance)

    def rename(self, session_id: int, name: str) -> None:
        self.calls.append(("rename", session_id, name))
        self._check()
        self.summaries = [replace(s, name=name) if s.id == session_id else s for s in self.summaries]

    def reset(self, session_id: int) -> FakeDesk:
        """Archive the session (read-only, kept) and start a fresh copy of it."""
        self.calls.append(("reset", session_id))
        self._check()
        old = self._summary(session_id)
        sid = next(self._ids)
        self.summaries = [replace(s, status="archived") if s.id == session_id else s for s in self.summaries]
        self.summaries.append(FakeSummary(sid, old.name, old.start_balance, old.start_balance,
                                          archived_from_id=session_id))
        return self._desk(sid, old.start_balance)

    def delete(self, session_id: int) -> None:
        self.calls.append(("delete", session_id))
        self._check()
        self.summaries = [s for s in self.summaries if s.id != session_id]
