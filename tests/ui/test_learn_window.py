"""The Learn window: lists every page, filters, keyboard navigation, links between terms, the Practice button,
post-mortems from the liquidation notice's "Why?" button; the practice dialogs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QWidget

from hexdesk.engine import OrderRequest, Side
from hexdesk.service import open_replay_session
from hexdesk.service.lesson_examples import usdt
from hexdesk.service.lessons import load_lessons
from hexdesk.ui.learn_window import LearnWindow
from hexdesk.ui.liquidation_notice import LiquidationNotice
from hexdesk.ui.practice import ComparisonDialog, PracticeDialog, open_practice

D = Decimal


@pytest.fixture
def learn(qtbot):
    w = LearnWindow(None)
    qtbot.addWidget(w)
    w.show()
    return w


def test_lists_every_page_and_opens_the_first(learn):
    assert learn.page_titles() == [x.title for x in load_lessons()]
    assert learn.lesson().id == "isolated-margin"
    text = learn.browser.toPlainText()
    assert "What it is" in text and "Worked example" in text and "Related terms" in text
    liq = learn.current.examples["isolated_long"].values["liquidation_price"]
    assert usdt(liq) in text  # the engine's number, on screen


def test_filter_and_keyboard(learn, qtbot):
    qtbot.keyClicks(learn.filter, "post")
    assert "Post-only" in learn.page_titles() and "Funding" not in learn.page_titles()
    learn.filter.setText("funding")
    learn.filter.setFocus()
    qtbot.keyClick(learn.filter, Qt.Key.Key_Return)
    assert learn.lesson().id == "funding"
    learn.filter.clear()
    learn.list.setFocus()
    learn.open_lesson("isolated-margin")
    qtbot.keyClick(learn.list, Qt.Key.Key_Down)
    assert learn.lesson().id == "cross-margin"
    qtbot.keyClick(learn.list, Qt.Key.Key_Return)
    assert learn.browser.hasFocus() or not learn.isActiveWindow()


def test_links_open_related_terms_and_practice_asks_for_the_exercise(learn, qtbot):
    learn.browser.anchorClicked.emit(QUrl("lesson:liquidation-price"))
    assert learn.lesson().id == "liquidation-price"
    assert learn.list.currentItem().text() == "Liquidation price"
    learn.open_lesson("isolated-margin")
    with qtbot.waitSignal(learn.practiceRequested) as sig:
        learn.practice_button.click()
    assert sig.args == ["isolated-vs-cross"]


def test_the_comparison_and_the_guided_exercise(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    dialog = open_practice("isolated-vs-cross", parent)
    assert isinstance(dialog, ComparisonDialog)
    assert usdt(dialog.iso.lost) in dialog.markdown and usdt(dialog.cross.worst_loss) in dialog.markdown
    dialog.close()
    desk = open_replay_session(None, ("BTCUSDT-2025-03",), paused=True)
    desk.feed([t for _, t in zip(range(4), desk.replay.ticks(), strict=False)])
    holder = QWidget()
    holder.desk = desk
    qtbot.addWidget(holder)
    practice = open_practice("first-market-order", holder)
    assert isinstance(practice, PracticeDialog)
    assert practice.goals() == [("Get a market order filled", False)]
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.010"))).ok
    assert practice.goals() == [("Get a market order filled", True)]
    assert "met" in practice.status.text()
    practice.close()


def test_why_opens_the_post_mortem_in_the_learn_window(qtbot, tmp_path):
    desk = open_replay_session(None, ("BTCUSDT-2022-06",), paused=True)
    gen = desk.replay.ticks()

    def run(done):
        for _ in range(4000):
            if done():
                return
            desk.feed([t for _, t in zip(range(50), gen, strict=False)])

    run(lambda: desk.last_price("BTCUSDT") is not None)
    desk.set_leverage("BTCUSDT", 20)
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.100"))).ok
    run(lambda: bool(desk.liquidation_reports))
    report = desk.liquidation_reports[0]

    class Main(QWidget):
        learn: LearnWindow | None = None

        def show_learn(self) -> LearnWindow:
            self.learn = LearnWindow(desk)
            qtbot.addWidget(self.learn)
            return self.learn

    main = Main()
    qtbot.addWidget(main)
    notice = LiquidationNotice(report, desk, main)
    notice.why_button.click()
    assert main.learn is not None
    text = main.learn.browser.toPlainText()
    assert "Why was I liquidated? BTCUSDT long (isolated)" in text
    assert "The stop that would have capped the loss at 1%" in text
    assert "BTCUSDT (isolated)" in main.learn.page_titles()  # listed under "Why was I liquidated"
    main.learn.resize(1100, 900)
    main.learn.grab().save(str(tmp_path / "postmortem.png"))
    notice.close()


def test_ctrl_l_opens_the_learn_window_on_the_desk(qtbot):
    from hexdesk.ui.main_window import MainWindow

    desk = open_replay_session(None, ("BTCUSDT-2025-03",), paused=True)
    desk.feed([t for _, t in zip(range(8), desk.replay.ticks(), strict=False)])
    window = MainWindow(desk)
    qtbot.addWidget(window)
    assert window.learn_action.shortcut().toString() == "Ctrl+L"
    window.learn_action.trigger()
    learn = window.learn_window
    assert learn.isVisible() and learn.desk is desk
    # The examples now start from the desk's current price, not the bundled month's last one.
    assert learn.current.context.price == desk.last_price("BTCUSDT")
    assert window.show_learn() is learn
    learn.close()


def test_starting_an_exercise_opens_a_window_on_its_data_with_its_guide(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    dialog = open_practice("place-stop-loss", parent)
    assert dialog.start_button is not None and dialog.start_button.text() == "Start on BTCUSDT-2025-03"
    dialog.start_button.click()
    window, guide = dialog.started  # deletes itself on close (not handed to qtbot)
    desk = window.desk
    exercise = guide.exercise
    assert desk.account().wallet_balance == exercise.balance
    assert desk.replay.start_ms == exercise.start_ms and desk.paused
    assert guide.start_button is None
    desk.feed([t for _, t in zip(range(4), desk.replay.ticks(), strict=False)])
    price = desk.last_price("BTCUSDT")
    stop = (price - 1000).quantize(D("0.1"))
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.010"), stop_loss=stop)).ok
    assert dict(guide.goals())["Place a stop-loss"] is True
    window.close()
