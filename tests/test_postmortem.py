"""The liquidation post-mortem: the numbers of the page, the stop that would have capped the loss at 1%, and under
cross the positions that shared the wallet (hand-checked from the reference, §1.1, §1.2, §1.4)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from hexdesk.engine import Exchange, FundingSettled, MarginMode, OrderRequest, PositionLiquidated, Side
from hexdesk.engine.explain import explain_liquidation
from hexdesk.service import open_replay_session
from hexdesk.service.lesson_examples import pct, price, usdt
from hexdesk.service.postmortem import find_entry, one_percent_stop, postmortem_markdown

D = Decimal
T0 = 1_741_579_200_000  # a Monday 04:00 UTC: no funding instant within the next hours


def _run_until(desk, done, limit: int = 400_000) -> None:
    gen = desk.replay.ticks()
    for _ in range(limit // 50):
        if done():
            return
        batch = [t for _, t in zip(range(50), gen, strict=False)]
        if not batch:
            return
        desk.feed(batch)


@pytest.fixture(scope="module")
def crash_desk():
    """A 20x isolated long of 0.1 BTC into the June 2022 crash, run until the engine liquidates it."""
    desk = open_replay_session(None, ("BTCUSDT-2022-06",), paused=True)
    _run_until(desk, lambda: desk.last_price("BTCUSDT") is not None)
    desk.set_leverage("BTCUSDT", 20)
    assert desk.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.100"))).ok
    _run_until(desk, lambda: bool(desk.liquidation_reports))
    assert desk.liquidation_reports
    return desk


def test_the_page_shows_mark_tier_margin_balance_and_cost(crash_desk):
    report = crash_desk.liquidation_reports[0]
    p = report.positions[0]
    md = postmortem_markdown(report, crash_desk)
    assert price(p.mark_price) in md
    assert f"maintenance rate {pct(D('0.004'))}, amount {usdt(D(0))}" in md  # §1.6 tier 1 at ~2,100 USDT
    # §1.1: margin balance = isolated wallet + unrealized PnL at the mark; the wallet was Q·EP/20 at entry, then
    # the real funding of the days held was paid from (or into) it (§1.2: "plus realized PnL and funding").
    funding = sum((e.amount for e in crash_desk.exchange.events if isinstance(e, FundingSettled)), D(0))
    assert funding != 0
    wb = p.quantity * p.entry_price / 20 + funding
    assert report.margin_lost == wb
    assert f"{usdt(wb + p.quantity * (p.mark_price - p.entry_price))} USDT" in md
    assert f"Margin lost | {usdt(wb)} USDT" in md
    assert f"clearance) fee | {usdt(report.liquidation_fee)} USDT" in md
    assert "Only this position's margin" in md


def test_the_one_percent_stop_caps_the_loss_at_one_percent_of_the_equity_at_entry(crash_desk):
    report = crash_desk.liquidation_reports[0]
    p = report.positions[0]
    entry = find_entry(list(crash_desk.exchange.events), "BTCUSDT", report.ts_ms)
    assert entry is not None and entry.equity == D(10000) and entry.leverage == 20
    stop, worst = one_percent_stop(crash_desk.instrument("BTCUSDT"), p, entry.equity, entry.leverage)
    assert worst <= D(100)
    # By hand: the move to the stop and the two taker fees alone must fit in 100 USDT...
    move = p.quantity * (p.entry_price - stop)
    fees = p.quantity * (p.entry_price + stop) * D("0.0005")
    assert move + fees <= D(100)
    # ...and one tick further away would not leave room for the move (the bound's slippage comes on top).
    assert p.quantity * (p.entry_price - stop + 2 * D("0.10")) + fees > D(100) - p.quantity * stop * D("0.003")
    md = postmortem_markdown(report, crash_desk)
    assert f"**{price(stop)}**" in md and "equity at entry 10,000.00 USDT" in md


def test_a_cross_post_mortem_names_every_position_that_shared_the_wallet():
    ex = Exchange(D(10000), start_ms=T0, default_margin_mode=MarginMode.CROSS)
    ex.on_tick("BTCUSDT", T0, D("60000"))
    ex.on_tick("ETHUSDT", T0, D("3000"))
    ex.set_leverage("BTCUSDT", 50)
    ex.set_leverage("ETHUSDT", 50)
    assert ex.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("2"))).ok
    assert ex.submit(OrderRequest.market("ETHUSDT", Side.BUY, D("10"))).ok
    liq = list(ex.on_tick("BTCUSDT", T0 + 60_000, D("54000")))
    events = [e for e in liq if isinstance(e, PositionLiquidated)]
    assert {e.symbol for e in events} == {"BTCUSDT", "ETHUSDT"}
    report = explain_liquidation(events, ex.instruments, ex.account().wallet_balance)
    md = postmortem_markdown(report, SimpleNamespace(exchange=ex))
    assert "Positions that shared the cross wallet" in md
    assert "- BTCUSDT long 2" in md and "- ETHUSDT long 10" in md
