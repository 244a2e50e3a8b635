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
