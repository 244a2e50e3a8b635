"""Every test's QSettings live in a temporary directory: no test reads or writes the user's HexDesk settings."""

import pytest


@pytest.fixture(autouse=True)
def _private_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    try:
        from PySide6.QtCore import QSettings
    except ImportError:  # pragma: no cover - Qt-free test runs
        return
    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
