"""The ``hexdesk`` command as a user meets it: bad values end in one line and exit 2, closing the window exits 0."""

import os
import subprocess
import sys
import textwrap

import pytest


def _env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "HEXDESK_DB")}
    return {**env, "QT_QPA_PLATFORM": "offscreen", "HEXDESK_DB": str(tmp_path / "journal.db")}


def _hexdesk(tmp_path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hexdesk", *args], capture_output=True, text=True, timeout=timeout, env=_env(tmp_path)
    )


@pytest.mark.parametrize(
    ("args", "named", "allowed"),
    [
        (("--dataset", "nope"), "--dataset nope:", "choose one of BTCUSDT-2022-06, BTCUSDT-2025-03, ETHUSDT-2025-03"),
        (
            ("--dataset", "BTCUSDT-2022-06", "--dataset", "BTCUSDT-2025-03"),
            "--dataset BTCUSDT-2025-03:",
            "one dataset per symbol",
        ),
        (("--balance", "-5"), "--balance -5:", "above 0 and at most 1,000,000,000"),
        (("--balance", "lots"), "--balance lots:", "above 0 and at most 1,000,000,000"),
        (("--balance", "1e1000000"), "--balance 1e1000000:", "above 0 and at most 1,000,000,000"),
        (("--speed", "0"), "--speed 0:", "above 0 and at most 100,000"),
        (("--speed", "inf"), "--speed inf:", "above 0 and at most 100,000"),
        (("--speed", "fast"), "--speed fast:", "above 0 and at most 100,000"),
        (("--funding-rate", "0.01"), "--funding-rate 0.01:", "from -0.003 to 0.003"),
        (("--funding-rate", "NaN"), "--funding-rate NaN:", "from -0.003 to 0.003"),
    ],
)
def test_a_bad_value_is_named_in_one_line_and_exits_2(tmp_path, args, named, allowed):
    proc = _hexdesk(tmp_path, *args)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"hexdesk: {named}")
    assert allowed in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "journal.db").exists()  # nothing was started


def test_closing_the_window_exits_0_without_a_traceback(tmp_path):
    # --close-after closes the window through QWidget.close(), the path a click on the title bar's X takes.
    proc = _hexdesk(tmp_path, "--db", str(tmp_path / "j.db"), "--close-after", "1.5", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Event loop stopped" not in proc.stderr
    assert (tmp_path / "j.db").exists()


def test_qt_told_to_quit_from_elsewhere_also_exits_0(tmp_path):
    """app.quit() (a session manager logging out) stops Qt before the session finishes: still a clean exit."""
    script = textwrap.dedent(
        f"""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from hexdesk.app import main
        app = QApplication(sys.argv[:1])
        QTimer.singleShot(1500, app.quit)
        sys.exit(main(["--offline", "--db", {str(tmp_path / "q.db")!r}]))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=_env(tmp_path)
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Task was destroyed" not in proc.stderr
