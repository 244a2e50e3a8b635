from __future__ import annotations

from pathlib import Path

import pytest

from hexdesk.storage import paths


def test_default_path_is_in_user_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(paths, "user_data_dir", lambda app, appauthor: str(tmp_path / f"{app}-{appauthor}"))
    assert paths.default_db_path() == tmp_path / "HexDesk-False" / "hexdesk.db"


def test_default_path_real_platformdirs() -> None:
    p = paths.default_db_path()
    assert p.name == "hexdesk.db"
    assert p.parent.name == "HexDesk"


def test_cli_beats_env_beats_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(paths, "default_db_path", lambda: tmp_path / "default.db")
    monkeypatch.delenv("HEXDESK_DB", raising=False)
    assert paths.resolve_db_path(None) == tmp_path / "default.db"
    assert paths.resolve_db_path("") == tmp_path / "default.db"

    monkeypatch.setenv("HEXDESK_DB", str(tmp_path / "env.db"))
    assert paths.resolve_db_path(None) == tmp_path / "env.db"
    assert paths.resolve_db_path(str(tmp_path / "cli.db")) == tmp_path / "cli.db"

    monkeypatch.setenv("HEXDESK_DB", "")
    assert paths.resolve_db_path(None) == tmp_path / "default.db"


def test_tilde_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert paths.resolve_db_path("~/j.db") == tmp_path / "j.db"
