"""``hexdesk --scenario FILE``: the main window on a classroom scenario (hexdesk.service.classroom).

The desk replays the scenario's (possibly blind) candles from its start with a flat funding rate and no journal;
every order and account action the student takes is recorded with the number of ticks fed before it, and the result
file is rewritten after each action and at the end, so it is always current and grading can re-simulate it exactly.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from pathlib import Path

from hexdesk.engine import ErrorCode, Rejection, Result
from hexdesk.service.classroom import Action, Scenario, action_for_request, result_document, start_session, write_result


def build_scenario_desk(scenario: Scenario, student: str, result: Path):
    """The desk of a scenario run and its recording session (Qt-free part, tested headless)."""
    from hexdesk.market.replay import Replay
    from hexdesk.service import TradingDesk

    session = start_session(scenario)
    series = scenario.series()
    replay = Replay(series, start_ms=scenario.start_ms(series))
    replay.speed = scenario.speed
    label = f"Scenario · {scenario.name}" + (" (blind)" if scenario.blind else "")
    desk = TradingDesk(session.exchange, None, None, replay, series, mode_label=label)

    def save() -> None:
        write_result(result, result_document(scenario, student, session.actions, desk.account().margin_balance))

    def count(change: object) -> None:
        session.tick_count += len(change.ticks)  # type: ignore[attr-defined]

    desk.subscribe(count)
    feed = desk.feed

    def bounded_feed(ticks):
        inside = [t for t in ticks if t.ts_ms < session.end_ms]
        if len(inside) < len(ticks):
            desk.pause()  # the scenario's length is reached: the replay stops here
        change = feed(inside)
        if len(inside) < len(ticks):
            save()
        return change

    desk.feed = bounded_feed  # type: ignore[method-assign]

    depth = [0]  # close_position calls submit: only the outermost call is the student's action

    def recorded(name: str, make):
        original = getattr(desk, name)

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            if depth[0]:
                return original(*args, **kwargs)
            action = session.record(make(*args, **kwargs))
            refused = session.check(action)
            if refused:  # the scenario forbids it: refused here as grading refuses it (still recorded)
                save()
                rejection = Rejection(ErrorCode.INVALID_PARAMETER, f"Not allowed in this scenario: {refused}")
                return Result(False, rejection=rejection) if name == "submit" else rejection
            depth[0] += 1
            try:
                out = original(*args, **kwargs)
            finally:
                depth[0] -= 1
            save()
            return out

        setattr(desk, name, wrapper)

    recorded("submit", lambda req: action_for_request(0, 0, req))
    recorded("set_leverage", lambda sym, lev: Action(0, 0, "leverage", sym, {"leverage": str(lev)}))
    recorded("set_margin_mode", lambda sym, mode: Action(0, 0, "margin_mode", sym, {"mode": mode.value}))
    recorded("cancel", lambda sym, oid: Action(0, 0, "cancel", sym, {"order_id": str(oid)}))
    recorded("close_position", lambda sym: Action(0, 0, "close", sym, {}))
    save()
    return desk, session


def run_scenario_gui(scenario: Scenario, student: str, result: Path, close_after: float | None = None) -> int:
    import qasync
    from PySide6.QtWidgets import QApplication

    from hexdesk.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("HexDesk")
    app.setQuitOnLastWindowClosed(False)
    desk, _session = build_scenario_desk(scenario, student, result)
    window = MainWindow(desk)
    window.setWindowTitle(f"HexDesk · {scenario.name} · {student}")
    window.show()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    async def session() -> int:
        replay = asyncio.create_task(desk.run())
        closed = asyncio.Event()
        window.closed.connect(closed.set)
        app.aboutToQuit.connect(closed.set)
        if close_after is not None:
            asyncio.get_running_loop().call_later(close_after, window.close)
        await closed.wait()
        replay.cancel()
        return 0

    try:
        task = loop.create_task(session())
        task.add_done_callback(lambda _t: loop.stop())
        loop.run_forever()
        print(f"hexdesk: result written to {result}", file=sys.stderr)
        return task.result() if task.done() and not task.cancelled() else 0
    finally:
        asyncio.set_event_loop(None)
        loop.close()
