"""Issue 6, point 6 as a trader meets it: a real TradingDesk on a bundled replay, driven into a stop-loss fill, a
funding settlement, a liquidation and the end of the data; the window tells each (notification list, toast, chart
markers, the liquidation notice) and the replay pauses / stops where it should."""

from decimal import Decimal

from hexdesk.engine.enums import MarginMode, Side
from hexdesk.engine.events import FundingSettled, OrderFilled, PositionLiquidated
from hexdesk.engine.orders import OrderRequest
from hexdesk.market.candles import load_bundled
from hexdesk.market.replay import candle_ticks
from hexdesk.service import open_replay_session
from hexdesk.ui import format as fmt
from hexdesk.ui.main_window import MainWindow

D = Decimal
H = 3_600_000


def _window(qtbot, desk) -> MainWindow:
    window = MainWindow(desk)
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    return window


def _run_until(desk, done, limit: int = 200_000) -> None:
    """Feed the replay in batches of 50 ticks (as frames would) until ``done()``; the replay's own pause is the
    desk's business, so this drives ``ticks()`` directly, like the walking-skeleton tests."""
    gen = desk.replay.ticks()
    for _ in range(limit // 50):
        if done():
            return
        batch = [t for _, t in zip(range(50), gen, strict=False)]
        if not batch:
            return
        desk.feed(batch)
        gen = desk.replay.ticks()  # a liquidation puts ticks back: start again from the replay's next tick
    raise AssertionError("the condition never came")


def test_a_stop_loss_fill_is_told_with_its_numbers_and_marked_on_the_chart(qtbot):
    desk = open_replay_session(None, ("BTCUSDT-2025-03",), paused=True)
    window = _window(qtbot, desk)
    _run_until(desk, lambda: desk.last_price("BTCUSDT") is not None)
    last = desk.last_price("BTCUSDT")
    stop = (last * D("0.997")).quantize(D("0.1"))
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.250"), stop_loss=stop)).ok
    _run_until(desk, lambda: not desk.position("BTCUSDT").is_open)
    window.refresh_now()

    entry, exit_ = desk.fills()
    assert exit_.side is Side.SELL and exit_.price <= stop  # a stop-market sells at or below its trigger
    when = fmt.utc_time(exit_.ts_ms)[6:11]  # "HH:MM"
    expected = (
        f"{when} Stop-loss filled: sold 0.250 BTC at {exit_.price:,.1f}, "
        f"realized {fmt.usdt(exit_.realized_pnl, sign=True).replace('-', '−')} USDT, fee {exit_.fee:,.2f}"
    )
    assert window.notifications.texts()[0] == expected
    assert exit_.realized_pnl == D("0.250") * (exit_.price - entry.price)  # what "realized" means, by hand
    assert window.toast.isVisible() and window.toast.text() == expected  # important: repeated over the chart
    kinds = {(m.kind, m.t, m.price) for m in window.chart.markers()}
    assert ("buy", entry.ts_ms / 1000, float(entry.price)) in kinds
    assert ("sell", exit_.ts_ms / 1000, float(exit_.price)) in kinds
    # and the fills table shows the fee and the net result of the exit
    model = window.fills_table.rows_model
    titles = [model.headerData(c, _h()) for c in range(model.columnCount())]
    newest = dict(zip(titles, (model.data(model.index(0, c)) for c in range(model.columnCount())), strict=True))
    assert newest["Net PnL"] == fmt.usdt(exit_.realized_pnl - exit_.fee, sign=True)
    assert newest["Fee"] == f"{exit_.fee:,.2f} USDT"


def _h():
    from PySide6.QtCore import Qt

    return Qt.Orientation.Horizontal


def test_funding_is_told_at_the_settlement_with_rate_side_and_mark(qtbot):
    desk = open_replay_session(None, ("BTCUSDT-2025-03",), paused=True)  # starts 2025-03-02 00:00 UTC
    window = _window(qtbot, desk)
    _run_until(desk, lambda: desk.last_price("BTCUSDT") is not None)
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.010"))).ok
    _run_until(desk, lambda: any(isinstance(e, FundingSettled) for e in desk.exchange.events))
    window.refresh_now()
    (funding,) = [e for e in desk.exchange.events if isinstance(e, FundingSettled)]
    assert fmt.utc_clock(funding.ts_ms) == "2025-03-02 08:00:00 UTC"
    # Binance's real rate at 2025-03-02 08:00 was -0.00002783 (resources/funding/): a long receives
    # 0.010 x mark x 0.00002783 (§2), 2 dp on screen
    received = D("0.010") * funding.mark_price * D("0.00002783")
    assert funding.amount == received.quantize(D("1e-8"))
    expected = (
        f"08:00 Funding BTCUSDT +{received:,.2f} USDT (rate -0.0028%, long 0.010 BTC at mark {funding.mark_price:,.1f})"
    )
    assert expected in window.notifications.texts()


def test_a_liquidation_pauses_the_replay_and_opens_a_notice_in_numbers(qtbot):
    desk = open_replay_session(None, ("BTCUSDT-2022-06",), paused=True)  # the June 2022 crash
    window = _window(qtbot, desk)
    _run_until(desk, lambda: desk.last_price("BTCUSDT") is not None)
    desk.set_leverage("BTCUSDT", 100)
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.100"))).ok
    desk.play()  # the trader lets it run
    margin = desk.position("BTCUSDT").isolated_wallet
    wallet_after_open = desk.account().wallet_balance
    _run_until(desk, lambda: not desk.position("BTCUSDT").is_open)
    window.refresh_now()

    (liq,) = [e for e in desk.exchange.events if isinstance(e, PositionLiquidated)]
    assert desk.paused and window.replay_bar.playButton.text() == "▶ Play"
    assert desk.clock_ms == liq.ts_ms  # stopped at the liquidation's tick, not at the end of the batch
    (notice,) = window.liquidation_notices
    assert notice.isVisible() and not notice.isModal()
    mark = liq.mark_price
    notional = D("0.100") * mark  # tier 1 of §1.6a (up to 300,000): MMR 0.40%, maintenance amount 0
    assert notice.value("Mark price") == f"{mark:,.1f}"
    assert notice.value("Maintenance tier") == "tier 1: rate 0.40%, amount 0.00 USDT"
    assert notice.value("Maintenance margin").endswith(f"= {notional * D('0.004'):,.2f} USDT")
    # margin balance = the isolated wallet + 0.100 x (mark - entry); at the liquidation price it equals the MM
    balance = margin + D("0.100") * (mark - liq.entry_price)
    assert notice.value("Margin balance").endswith(f"= {balance:,.2f} USDT")
    assert abs(balance - notional * D("0.004")) < D("0.01")
    assert notice.value("Margin lost") == f"{margin:,.2f} USDT"
    fee = min(D("0.0125") * notional, balance)  # §1.4: 1.25% of the notional, capped by the margin left
    assert notice.value("Liquidation (clearance) fee").startswith(f"{fee:,.2f} USDT")
    # isolated: the wallet (isolated margin included) lost that margin and nothing else
    after = desk.account().wallet_balance
    assert after == wallet_after_open - margin
    assert notice.value("Wallet") == (
        f"{wallet_after_open:,.2f} USDT → {after:,.2f} USDT: only the isolated margin was lost, the rest is untouched"
    )
    assert window.notifications.texts()[0].startswith(f"{fmt.utc_time(liq.ts_ms)[6:11]} LIQUIDATED BTCUSDT long")
    assert ("liquidation", liq.ts_ms / 1000, float(mark)) in {(m.kind, m.t, m.price) for m in window.chart.markers()}
    notice.close()


def test_the_ticks_after_a_liquidation_are_replayed_not_lost():
    desk = open_replay_session(None, ("BTCUSDT-2022-06",), paused=True)
    applied = []
    desk.subscribe(lambda change: applied.extend(change.ticks))
    _run_until(desk, lambda: desk.last_price("BTCUSDT") is not None)
    desk.set_leverage("BTCUSDT", 100)
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.100"))).ok
    _run_until(desk, lambda: not desk.position("BTCUSDT").is_open)
    _run_until(desk, lambda: len(applied) > 2_000)
    series = load_bundled("BTCUSDT-2022-06")
    expected = list(candle_ticks(series, series.index_at(desk.replay.start_ms)))[: len(applied)]
    assert [(t.ts_ms, t.price) for t in applied] == [(t.ts_ms, t.price) for t in expected]
    (report,) = desk.liquidation_reports
    assert report.margin_mode is MarginMode.ISOLATED


def test_the_end_of_the_data_stops_the_replay_and_says_so(qtbot):
    series = load_bundled("BTCUSDT-2025-03")
    last_open = int(series.open_time_ms[-1])
    desk = open_replay_session(None, ("BTCUSDT-2025-03",), start_ms=last_open - 10 * 60_000)
    window = _window(qtbot, desk)
    desk.set_speed(100_000.0)
    for _ in range(200):
        if desk.finished:
            break
        desk.feed(desk.replay.poll())
        qtbot.wait(5)
    window.refresh_now()
    end = last_open + 59_999  # the last candle's close
    assert desk.finished and desk.paused
    assert desk.clock_ms == end  # never past the last candle
    bar = window.replay_bar
    assert bar.clockLabel.text() == f"{fmt.utc_clock(end)} · end of data"
    assert fmt.utc_clock(end).endswith(":59:59 UTC")
    assert bar.playButton.text() == "■ Ended"
    assert not bar.stepButton.isEnabled() and not bar.jumpHourButton.isEnabled()
    assert "data has ended" in bar.jumpDayButton.toolTip()
    assert window.notifications.texts()[0].startswith(
        f"{fmt.utc_time(end)[6:11]} End of data: the replay stopped at the last candle ({fmt.utc_clock(end)})"
    )
    assert window.toast.isVisible()
    desk.step()
    desk.jump(60)
    assert desk.clock_ms == end and desk.replay.poll() == []  # step / jump at the end do nothing
    window.toggle_play()  # Space at the end says why nothing happens
    assert window.notifications.texts()[0].endswith("Nothing left to play: the replay's data has ended. "
                                                    "Start a new session to replay again.")


def test_filled_events_are_one_line_per_order():
    """A market order walking several price levels is told once, with its average price."""
    from hexdesk.ui.notifications import describe

    desk = open_replay_session(None, ("BTCUSDT-2025-03",), paused=True)
    _run_until(desk, lambda: desk.last_price("BTCUSDT") is not None)
    result = desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.100")))
    fills = [e for e in result.events if isinstance(e, OrderFilled)]
    (line,) = describe(result.events, desk)
    qty = sum(e.fill.quantity for e in fills)
    avg = sum(e.fill.price * e.fill.quantity for e in fills) / qty
    assert f"Market buy filled: bought 0.100 BTC at {fmt.price(avg, D('0.1'))}, fee " in line.text
    assert not line.important


def test_a_cross_notice_names_the_positions_that_shared_the_wallet(qtbot):
    from hexdesk.engine.explain import explain_liquidation
    from hexdesk.ui.liquidation_notice import LiquidationNotice
    from tests.engine.test_explain import _event

    desk = open_replay_session(None, ("BTCUSDT-2025-03", "ETHUSDT-2025-03"), paused=True)
    # cross wallet 10,000 shared by BTC long 0.5 @ 60,000 (mark 40,000: MM 20,000 x 0.4% = 80) and
    # ETH short 10 @ 3,000 (mark 3,100: MM 31,000 x 0.4% = 124); margin balance 10,000 - 10,000 - 1,000 = -1,000
    btc = _event("BTCUSDT", MarginMode.CROSS, Side.BUY, "0.5", "60000", "40000", "38000", "0", "11000")
    eth = _event("ETHUSDT", MarginMode.CROSS, Side.SELL, "10", "3000", "3100", "3000", "0", "-1000")
    report = explain_liquidation([btc, eth], desk.exchange.instruments, wallet_after=D("0"))
    notice = LiquidationNotice(report, desk)
    qtbot.addWidget(notice)
    notice.show()
    assert notice.value("Shared the cross wallet") == (
        "BTCUSDT long (margin 80.00 needed), ETHUSDT short (margin 124.00 needed)"
    )
    assert notice.value("Margin balance").endswith("= -1,000.00 USDT")
    assert notice.value("Margin ratio").startswith("204.00 / -1,000.00 = ∞")
    assert notice.value("BTCUSDT Maintenance tier") == "tier 1: rate 0.40%, amount 0.00 USDT"
    assert notice.value("Wallet after").startswith("0.00 USDT")


def test_ctrl_q_closes_the_window_and_says_so(qtbot):
    desk = open_replay_session(None, ("BTCUSDT-2025-03",), paused=True)
    window = _window(qtbot, desk)
    with qtbot.waitSignal(window.closed, timeout=2000):
        window.quit_action.trigger()
    assert not window.isVisible()
