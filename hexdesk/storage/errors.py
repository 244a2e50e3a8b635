"""What can go wrong when opening or using the journal. Every error names the file it is about."""

from __future__ import annotations

from pathlib import Path


class JournalError(Exception):
    """Base of all storage errors."""


class JournalCorrupt(JournalError):
    """The file exists but is not a readable HexDesk journal. The file was left exactly as it was."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class JournalTooNew(JournalError):
    """The file was written by a newer HexDesk (its schema revision is unknown here). The file was not touched."""

    def __init__(self, path: Path, revision: str) -> None:
        super().__init__(f"{path}: schema revision {revision!r} is newer than this HexDesk understands")
        self.path = path
        self.revision = revision


class JournalClosed(JournalError):
    """The journal was used after ``close()``."""


class UnknownSession(JournalError, LookupError):
    """No practice session has this id."""

    def __init__(self, session_id: int) -> None:
        super().__init__(f"no practice session with id {session_id}")
        self.session_id = session_id


class CodecError(JournalError, ValueError):
    """An event could not be encoded, or a stored payload does not decode to an engine event."""


class JournalGap(JournalCorrupt):
    """A session's event log skips a seq: replaying it would not give the account the engine had."""

    def __init__(self, path: Path | None, session_id: int, seq: int) -> None:
        where = path if path is not None else ":memory:"
        super().__init__(Path(str(where)), f"session {session_id}: the event log is missing seq {seq}")
        self.session_id = session_id
        self.seq = seq


class SequenceGap(JournalError, ValueError):
    """``record()`` was given events that do not continue the stored log (a seq would be skipped): refused."""

    def __init__(self, session_id: int, expected: int, got: int) -> None:
        super().__init__(
            f"session {session_id}: the next event must be seq {expected}, got seq {got}; nothing was written"
        )
        self.session_id = session_id
        self.expected = expected
        self.got = got


class JournalWriteError(JournalError, OSError):
    """The journal could not write (disk full, read-only file, I/O error). Nothing of the failed call was kept.

    ``reason`` is what to tell the trader: "the disk is full", "the journal file is read-only", ...
    """

    def __init__(self, path: Path | None, reason: str, detail: str) -> None:
        super().__init__(f"{path if path is not None else ':memory:'}: cannot write the journal: {reason} ({detail})")
        self.path = path
        self.reason = reason
        self.detail = detail


def write_failure_reason(detail: str) -> str:
    """SQLite's message for a failed write, as a trader would understand it."""
    text = detail.lower()
    if "full" in text:
        return "the disk is full"
    if "readonly" in text or "read-only" in text or "read only" in text:
        return "the journal file is read-only"
    if "locked" in text or "busy" in text:
        return "another program holds the journal file"
    if "i/o" in text or "disk" in text:
        return "a disk I/O error"
    if "unable to open" in text or "permission" in text:
        return "the journal file cannot be opened for writing"
    return "the journal could not be written"
