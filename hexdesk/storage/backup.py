"""A session as one versioned JSON file, and its import into a new session: validated whole, then written whole.

Format (version 1; docs/storage.md "Backup file"):

    {"format": "hexdesk-session-backup", "version": 1, "exported_at": ISO-8601, "app_version": "...",
     "session": {"name", "mode", "dataset", "start_balance", "settings", "started_at", "ended_at", "app_version",
                 "realized_pnl", "fees", "funding", + whatever the journal knows: "status", "blind",
                 "journal_only", "replay_ms", "speed"},
     "account": {"wallet_balance", "positions": {symbol: quantity}, "open_orders": [order ids]},
     "events": [codec.encode_event payloads, seq 1, 2, 3, ...],
     "fills": [FillRow fields]            (journal-only sessions: imported real fills, which have no events),
     "notes": {trade_key: {"notes", "setup", "mistakes", "emotion", "rating", "tags": [...]}},
     "day_notes": {"YYYY-MM-DD": text},
     "resume": {"market": engine.restore.MarketState JSON, "cursor": [ts_ms, symbol]} or null  (where the replay
               stood, so the imported session opens exactly there; absent in older files)}

Import (``read_backup`` then ``restore``) checks everything before anything is written: the format name and
version, the session fields, that every event decodes and the seqs run 1, 2, 3 ... without a gap, that the first
event opens the account with the session's start balance, that the events rebuild (``engine.rebuild``) into the
account the file states and add up to the session's PnL, fees and funding, and every note. The first problem is
raised as ``BackupError`` naming the record ("event #57 (seq 57): unknown event type 'Foo'"). The writing is one
journal transaction (``Journal.transaction()``): any failure there leaves nothing behind either.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hexdesk import __version__
from hexdesk.engine.events import AccountOpened, Event, FundingSettled
from hexdesk.engine.fills import Fill
from hexdesk.engine.rebuild import AccountState, rebuild
from hexdesk.engine.restore import MarketState
from hexdesk.storage.codec import decode_event, encode_event, encode_value
from hexdesk.storage.errors import CodecError
from hexdesk.storage.views import FillRow, SessionMode

if TYPE_CHECKING:
    from hexdesk.storage.journal import Journal

FORMAT = "hexdesk-session-backup"
VERSION = 1
NOTE_FIELDS = ("notes", "setup", "mistakes", "emotion", "rating", "tags")
_SESSION_STATE = ("status", "blind", "journal_only", "replay_ms", "speed", "last_used_at")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class BackupError(ValueError):
    """A backup file that cannot be imported; the message names the first bad record. Nothing was imported."""


@dataclass(frozen=True)
class SessionBackup:
    """A validated backup, ready to be written into a journal."""

    session: Mapping[str, Any]
    events: tuple[Event, ...]
    fills: tuple[FillRow, ...] = ()
    notes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    day_notes: Mapping[str, str] = field(default_factory=dict)
    account: AccountState | None = None
    resume: Mapping[str, Any] | None = None  # the replay's market view and cursor at the last commit

    @property
    def journal_only(self) -> bool:
        return bool(self.session.get("journal_only"))


# ------------------------------------------------------------------------------------------------- export


def _account_summary(state: AccountState) -> dict[str, Any]:
    return {
        "wallet_balance": str(state.wallet_balance),
        "positions": {s: str(p.quantity) for s, p in sorted(state.positions.items())},
        "open_orders": sorted(state.open_orders),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds")
    if isinstance(value, float):  # the replay speed (a multiplier, not money): JSON's number is exact for it
        return value
    return encode_value(value)


def session_backup(journal: Journal, session_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """The backup document of one session (a dict ready for ``json.dump``)."""
    summary = journal.session(session_id)
    events = journal.events(session_id)
    session: dict[str, Any] = {
        "name": summary.name,
        "mode": summary.mode.value,
        "dataset": summary.dataset,
        "start_balance": str(summary.start_balance),
        "settings": summary.settings,
        "started_at": _jsonable(summary.started_at),
        "ended_at": None if summary.ended_at is None else _jsonable(summary.ended_at),
        "app_version": summary.app_version,
        "realized_pnl": str(summary.realized_pnl),
        "fees": str(summary.fees),
        "funding": str(summary.funding),
    }
    for name in _SESSION_STATE:
        session[name] = _jsonable(getattr(summary, name))
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _jsonable(now or datetime.now(UTC)),
        "app_version": __version__,
        "session": session,
        "account": _account_summary(rebuild(events)) if events else None,
        "events": [encode_event(e) for e in events],
    }
    if session.get("journal_only"):
        doc["fills"] = [encode_value(f) for f in journal.fills(session_id)]
    doc["notes"] = {
        key: {name: encode_value(getattr(note, name)) for name in NOTE_FIELDS}
        for key, note in sorted(journal.trade_notes(session_id).items())
    }
    doc["day_notes"] = {day: text for day, text in sorted(journal.day_notes(session_id).items()) if text}
    state = journal.resume_point(session_id).state or {}
    doc["resume"] = {k: state[k] for k in ("market", "cursor") if k in state} or None
    return doc


def write_backup(journal: Journal, session_id: int, path: Path | str) -> int:
    """Write the session's backup to ``path`` (via ``<path>.part``, renamed into place). Returns the event count."""
    doc = session_backup(journal, session_id)
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(doc, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(doc["events"])


# ------------------------------------------------------------------------------------------------ validate


def _decimal(value: Any, where: str) -> Decimal:
    if not isinstance(value, str):
        raise BackupError(f"{where}: {value!r} is not a decimal string")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise BackupError(f"{where}: {value!r} is not a decimal") from None
    if not number.is_finite():
        raise BackupError(f"{where}: {value!r} is not a finite decimal")
    return number


def _session(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise BackupError("session: missing or not an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BackupError("session: 'name' must be a non-empty text")
    try:
        mode = SessionMode(raw.get("mode"))
    except ValueError:
        raise BackupError(f"session: mode {raw.get('mode')!r} is not 'replay' or 'live'") from None
    if not isinstance(raw.get("dataset"), str):
        raise BackupError("session: 'dataset' must be a text")
    settings = raw.get("settings", {})
    if not isinstance(settings, dict):
        raise BackupError("session: 'settings' must be an object")
    out = dict(raw)
    out.update(mode=mode, settings=settings, start_balance=_decimal(raw.get("start_balance"), "session.start_balance"))
    for total in ("realized_pnl", "fees", "funding"):
        if total in raw:
            out[total] = _decimal(raw[total], f"session.{total}")
    replay_ms = raw.get("replay_ms")
    if replay_ms is not None and (not isinstance(replay_ms, int) or isinstance(replay_ms, bool)):
        raise BackupError(f"session: replay_ms {replay_ms!r} is not whole milliseconds")
    return out


def _events(raw: Any) -> list[Event]:
    if not isinstance(raw, list):
        raise BackupError("events: missing or not a list")
    events: list[Event] = []
    for n, payload in enumerate(raw, start=1):
        seq = payload.get("seq") if isinstance(payload, dict) else None
        where = f"event #{n} (seq {seq})" if seq is not None else f"event #{n}"
        if not isinstance(payload, dict):
            raise BackupError(f"{where}: not an object")
        try:
            event = decode_event(payload)
        except CodecError as exc:
            raise BackupError(f"{where}: {exc}") from None
        except (TypeError, ValueError, ArithmeticError) as exc:  # an event's own checks refused the values
            raise BackupError(f"{where}: {type(exc).__name__}: {exc}") from None
        if event.seq != n:
            raise BackupError(f"{where}: expected seq {n} (seqs run 1, 2, 3, ... without a gap)")
        if n == 1 and not isinstance(event, AccountOpened):
            raise BackupError(f"{where}: the first event must be AccountOpened, not {type(event).__name__}")
        if n > 1 and isinstance(event, AccountOpened):
            raise BackupError(f"{where}: a second AccountOpened")
        if events and event.ts_ms < events[-1].ts_ms:
            raise BackupError(f"{where}: time {event.ts_ms} is before the previous event's {events[-1].ts_ms}")
        events.append(event)
    return events


def _rebuild(events: Sequence[Event]) -> AccountState:
    current: list[Event] = []

    def walk() -> Iterator[Event]:
        for event in events:
            current[:] = [event]
            yield event

    try:
        return rebuild(walk())
    except Exception as exc:
        (event,) = current or (None,)
        where = f"event #{event.seq} (seq {event.seq})" if event is not None else "events"
        raise BackupError(f"{where}: the account cannot be rebuilt: {type(exc).__name__}: {exc}") from None


def _check_account(session: Mapping[str, Any], events: Sequence[Event], account: Any) -> AccountState:
    opened = events[0]
    assert isinstance(opened, AccountOpened)
    if opened.wallet_balance != session["start_balance"]:
        raise BackupError(f"event #1 (seq 1): the account opens with {opened.wallet_balance} but the session's "
                          f"start balance is {session['start_balance']}")
    state = _rebuild(events)
    if not isinstance(account, dict):
        raise BackupError("account: missing or not an object (the account the events must rebuild)")
    stated_wallet = _decimal(account.get("wallet_balance"), "account.wallet_balance")
    if state.wallet_balance != stated_wallet:
        raise BackupError(f"account: the events rebuild a wallet of {state.wallet_balance}, the file states "
                          f"{stated_wallet} (events missing or changed)")
    positions = {s: str(p.quantity) for s, p in state.positions.items()}
    if positions != account.get("positions"):
        raise BackupError(f"account: the events rebuild positions {positions}, the file states "
                          f"{account.get('positions')}")
    if sorted(state.open_orders) != account.get("open_orders"):
        raise BackupError(f"account: the events rebuild open orders {sorted(state.open_orders)}, the file "
                          f"states {account.get('open_orders')}")
    # the session's totals are the fills' and funding's sums: the same numbers the journal will project
    realized = fees = funding = Decimal(0)
    seen: set[int] = set()
    for ev in events:
        fill = getattr(ev, "fill", None)
        if isinstance(fill, Fill) and fill.trade_id not in seen:
            seen.add(fill.trade_id)
            realized += fill.realized_pnl
            fees += fill.fee
        if isinstance(ev, FundingSettled):
            funding += ev.amount
    for name, value in (("realized_pnl", realized), ("fees", fees), ("funding", funding)):
        if name in session and session[name] != value:
            raise BackupError(f"session: {name} is {session[name]} but the events add up to {value}")
    return state


def _fills(raw: Any) -> list[FillRow]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BackupError("fills: not a list")
    from hexdesk.storage.codec import _decoder_for  # the codec's generic dataclass decoder, for FillRow too

    decode = _decoder_for(FillRow)
    fills: list[FillRow] = []
    for n, payload in enumerate(raw, start=1):
        try:
            fills.append(decode(payload))
        except (CodecError, TypeError, ValueError) as exc:
            raise BackupError(f"fill #{n}: {exc}") from None
    trade_ids = [f.trade_id for f in fills]
    if len(set(trade_ids)) != len(trade_ids):
        raise BackupError("fills: a trade id appears twice")
    return fills


def _notes(raw: Any) -> dict[str, dict[str, Any]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise BackupError("notes: not an object")
    out: dict[str, dict[str, Any]] = {}
    for key, note in raw.items():
        where = f"note {key!r}"
        if not re.fullmatch(r"[A-Z0-9]{2,30}:\d+", key):
            raise BackupError(f"{where}: the key is not 'SYMBOL:first_trade_id'")
        if not isinstance(note, dict):
            raise BackupError(f"{where}: not an object")
        unknown = set(note) - set(NOTE_FIELDS)
        if unknown:
            raise BackupError(f"{where}: unknown field(s) {sorted(unknown)}")
        for name in ("notes", "setup", "mistakes", "emotion"):
            if note.get(name) is not None and not isinstance(note[name], str):
                raise BackupError(f"{where}: {name} must be a text")
        rating = note.get("rating")
        if rating is not None and (not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5):
            raise BackupError(f"{where}: rating {rating!r} is not 1..5")
        tags = note.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise BackupError(f"{where}: tags must be a list of texts")
        out[key] = {**{n: note.get(n) for n in NOTE_FIELDS}, "tags": tuple(tags)}
    return out


def _day_notes(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise BackupError("day_notes: not an object")
    for day, text in raw.items():
        try:
            valid = bool(_DAY.fullmatch(day)) and datetime.strptime(day, "%Y-%m-%d") is not None
        except ValueError:
            valid = False
        if not valid:
            raise BackupError(f"day note {day!r}: not a YYYY-MM-DD day")
        if not isinstance(text, str):
            raise BackupError(f"day note {day!r}: not a text")
    return dict(raw)


def parse_backup(doc: Any) -> SessionBackup:
    """Validate a loaded backup document. Raises ``BackupError`` naming the first bad record."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BackupError(f"not a HexDesk session backup (format is not {FORMAT!r})")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BackupError(f"backup version {version!r} is not a version number")
    if version > VERSION:
        raise BackupError(f"backup version {version} was written by a newer HexDesk (this one reads {VERSION})")
    session = _session(doc.get("session"))
    events = _events(doc.get("events"))
    fills = _fills(doc.get("fills"))
    state = None
    if session.get("journal_only"):
        if events:
            raise BackupError("events: a journal-only session has no events")
    else:
        if not events:
            raise BackupError("events: a practice session needs at least its AccountOpened event")
        if fills:
            raise BackupError("fills: only journal-only sessions carry fills; a practice session's come from events")
        state = _check_account(session, events, doc.get("account"))
    return SessionBackup(
        session=session,
        events=tuple(events),
        fills=tuple(fills),
        notes=_notes(doc.get("notes")),
        day_notes=_day_notes(doc.get("day_notes")),
        account=state,
        resume=_resume(doc.get("resume")),
    )


def _resume(raw: Any) -> dict[str, Any] | None:
    """Where the replay stood. The account is not taken from here: the restored session rebuilds it from the
    checked events."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"market", "cursor"}:
        raise BackupError("resume: not an object with a market and a cursor")
    market, cursor = raw.get("market"), raw.get("cursor")
    if market is not None:
        try:
            MarketState.from_json(market)
        except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
            raise BackupError(f"resume: the market view is malformed ({exc!r})") from None
    if cursor is not None and not (
        isinstance(cursor, list) and len(cursor) == 2 and isinstance(cursor[0], int)
        and not isinstance(cursor[0], bool) and isinstance(cursor[1], str)
    ):
        raise BackupError(f"resume: cursor {cursor!r} is not [ts_ms, symbol]")
    return {"market": market, "cursor": cursor}


def read_backup(path: Path | str) -> SessionBackup:
    """Load and validate a backup file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BackupError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise BackupError(f"{path}: not a HexDesk session backup (not UTF-8 text)") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BackupError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    return parse_backup(doc)


# ------------------------------------------------------------------------------------------------- restore


def restore(journal: Journal, backup: SessionBackup, *, name: str | None = None) -> int:
    """Write a validated backup into a new session of ``journal`` in one transaction; return the new session id."""
    s = backup.session
    with journal.transaction():
        session_id = journal.start_session(
            name or f"{s['name']} (imported)",
            s["mode"],
            s["dataset"],
            s["start_balance"],
            s["settings"],
            journal_only=bool(s.get("journal_only")),
            blind=bool(s.get("blind")),
        )
        if backup.events:
            journal.record(session_id, backup.events)
        if backup.fills:
            journal.record_imported_fills(session_id, backup.fills)
        for key, note in backup.notes.items():
            journal.save_trade_note(session_id, key, **note)
        for day, text in backup.day_notes.items():
            journal.save_day_note(session_id, day, text)
        if s.get("replay_ms") is not None or backup.resume is not None:
            journal.set_replay_position(session_id, s.get("replay_ms"), s.get("speed"), backup.resume)
    return session_id


def import_backup(journal: Journal, path: Path | str, *, name: str | None = None) -> int:
    """Read, validate and restore a backup file into a new session; nothing is written on any error."""
    return restore(journal, read_backup(path), name=name)

