"""Why was I liquidated: a post-mortem page (Markdown) for one liquidation, from ``explain.LiquidationReport``.

Beyond the liquidation notice's numbers it adds the path (the candles from the entry to the liquidation), the
equity at entry and the stop that would have capped the loss at 1% of it, found with ``hexdesk.engine.risk`` (the
stop-loss whose ``max_loss_at_stop`` for that entry and size is 1% of the equity: move to the stop, both fees and
the fill model's bounded slippage). Qt-free: the UI draws the chart image and shows the Markdown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from hexdesk.engine import MarginMode, OrderRequest, OrderType, PositionChanged, PreviewContext, preview_order
from hexdesk.engine.events import Event, OrderFilled
from hexdesk.engine.explain import LiquidatedPosition, LiquidationReport
from hexdesk.engine.instruments import Instrument
from hexdesk.engine.rebuild import rebuild
from hexdesk.service.lesson_examples import pct, price, qty, usdt

if TYPE_CHECKING:
    from hexdesk.service import TradingDesk

ZERO = Decimal(0)
ONE_PERCENT = Decimal(1)


@dataclass(frozen=True, slots=True)
class Entry:
    """When and from what equity the liquidated position was opened (from the event log)."""

    ts_ms: int
    equity: Decimal  # the wallet balance just before the opening fill
    leverage: int


def find_entry(events: Sequence[Event], symbol: str, before_ts: int) -> Entry | None:
    """The opening of the position liquidated at ``before_ts``: the last time it went from flat to open before."""
    opened_at: int | None = None
    lev = 1
    was_open = False
    for i, e in enumerate(events):
        if e.ts_ms > before_ts:
            break
        if isinstance(e, PositionChanged) and e.position.symbol == symbol:
            now_open = e.position.is_open
            if now_open and not was_open:
                opened_at = i
                lev = e.position.leverage
            was_open = now_open
    if opened_at is None:
        return None
    start = opened_at
    while start > 0 and isinstance(events[start - 1], OrderFilled):  # the fill that opened it comes just before
        start -= 1
    return Entry(events[opened_at].ts_ms, rebuild(events[:start]).wallet_balance, lev)


def one_percent_stop(
    instrument: Instrument, p: LiquidatedPosition, equity: Decimal, leverage: int, risk_pct: Decimal = ONE_PERCENT
) -> tuple[Decimal, Decimal] | None:
    """The stop (on the tick grid) whose worst loss for this entry and size is at most ``risk_pct`` % of ``equity``,
    and that loss: bisection on the tick grid over ``risk.preview_order(...).max_loss_at_stop``. None if even a
    stop one tick away loses more."""
    budget = equity * risk_pct / 100
    sign = 1 if p.is_long else -1
    tick = instrument.tick_size
    ctx = PreviewContext(
        instrument=instrument, last_price=p.entry_price, mark_price=p.entry_price, position_qty=ZERO,
        entry_price=ZERO, isolated_wallet=ZERO, leverage=leverage, margin_mode=MarginMode.ISOLATED,
        cross_wallet_balance=equity, other_maintenance=ZERO, other_upnl=ZERO, available_balance=equity * 1000,
        equity=equity,
    )

    def loss(ticks: int) -> Decimal:
        stop = p.entry_price - sign * ticks * tick
        req = OrderRequest(p.symbol, p.side, OrderType.MARKET, quantity=p.quantity, stop_loss=stop)
        value = preview_order(req, ctx).max_loss_at_stop
        return value if value is not None else Decimal("Infinity")

    lo, hi = 0, 1
    if loss(1) > budget:
        return None
    limit = int(p.entry_price / tick) - 1
    while hi < limit and loss(hi) <= budget:
        lo, hi = hi, min(hi * 2, limit)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if loss(mid) <= budget:
            lo = mid
        else:
            hi = mid
    return p.entry_price - sign * lo * tick, loss(lo)


def postmortem_markdown(report: LiquidationReport, desk: TradingDesk | None, chart_path: Path | None = None) -> str:
    """The post-mortem page of one liquidation. ``desk`` gives the event log and instruments (None: report only)."""
    names = ", ".join(f"{p.symbol} {'long' if p.is_long else 'short'}" for p in report.positions)
    mode = "isolated" if report.isolated else "cross"
    out = [f"# Why was I liquidated? {names} ({mode})", ""]
    if chart_path is not None:
        out += [f"![The path from the entry to the liquidation]({chart_path.as_posix()})", ""]
    out += [
        "## What happened",
        "",
        "The [mark price](lesson:mark-price) reached the [liquidation price](lesson:liquidation-price): the margin "
        "balance had fallen to the [maintenance margin](lesson:maintenance-margin), the margin ratio reached 100%, "
        "and the liquidation engine closed the position at its bankruptcy price.",
        "",
        "| At the liquidation | Value |",
        "|---|---:|",
    ]
    events = list(desk.exchange.events) if desk is not None else []
    entries: dict[str, Entry | None] = {}
    for p in report.positions:
        entries[p.symbol] = find_entry(events, p.symbol, report.ts_ms) if events else None
        pre = f"{p.symbol}: " if len(report.positions) > 1 else ""
        out += [
            f"| {pre}Position | {'long' if p.is_long else 'short'} {qty(p.quantity)} at {price(p.entry_price)} |",
            f"| {pre}Mark price at liquidation | {price(p.mark_price)} |",
            f"| {pre}Tier | {p.bracket}: maintenance rate {pct(p.maint_margin_ratio)}, amount {usdt(p.maint_amount)} |",
            f"| {pre}Maintenance margin | {usdt(p.notional)} × {pct(p.maint_margin_ratio)} − {usdt(p.maint_amount)}"
            f" = {usdt(p.maintenance_margin)} USDT |",
            f"| {pre}Closed at (bankruptcy price) | {price(p.bankruptcy_price)} |",
        ]
    wallet_word = "isolated margin" if report.isolated else "cross wallet"
    out += [
        f"| Margin balance at that moment | {usdt(report.margin_balance)} USDT ({wallet_word} + unrealized PnL) |",
        f"| Margin ratio | {'∞' if not report.margin_ratio.is_finite() else pct(report.margin_ratio)} |",
        "",
        "## What it cost",
        "",
        "| Cost | USDT |",
        "|---|---:|",
        f"| Margin lost | {usdt(report.margin_lost)} USDT |",
        f"| Of which liquidation (clearance) fee | {usdt(report.liquidation_fee)} USDT |",
    ]
    if report.wallet_before is not None and report.wallet_after is not None:
        out.append(f"| Wallet | {usdt(report.wallet_before)} → {usdt(report.wallet_after)} USDT |")
    out += ["", "## The stop that would have capped the loss at 1%", ""]
    for p in report.positions:
        entry = entries.get(p.symbol)
        if desk is None or entry is None:
            out.append(f"- {p.symbol}: the entry is not in this session's log.")
            continue
        inst = desk.exchange.instruments[p.symbol]
        found = one_percent_stop(inst, p, entry.equity, entry.leverage)
        if found is None:
            out.append(f"- {p.symbol}: this size cannot be traded within 1% of {usdt(entry.equity)} USDT at any stop.")
            continue
        stop, worst = found
        beyond = (stop <= p.mark_price) if p.is_long else (stop >= p.mark_price)
        if beyond:
            out.append(
                f"- {p.symbol}: 1% of {usdt(entry.equity)} USDT allowed a stop at {price(stop)}, beyond the "
                f"liquidation at {price(p.mark_price)}: at this leverage and size the position is liquidated before "
                "a 1% stop could fill. A smaller position (see [position sizing](lesson:position-sizing)) or "
                "lower leverage was needed."
            )
            continue
        out.append(
            f"- {p.symbol}: equity at entry {usdt(entry.equity)} USDT, so 1% is {usdt(entry.equity / 100)} USDT. "
            f"A stop-loss at **{price(stop)}** ({pct(abs(p.entry_price - stop) / p.entry_price)} from the entry) "
            f"would have lost at most {usdt(worst)} USDT (fees and slippage included) instead of "
            f"{usdt(p.margin_lost)} USDT. See [stop-loss](lesson:stop-loss) and "
            f"[position sizing](lesson:position-sizing)."
        )
    out += [""]
    if report.isolated:
        out += [
            "## Only this position's margin",
            "",
            "It was an [isolated](lesson:isolated-margin) position: the liquidation took its own margin and nothing "
            "else; the rest of the wallet was untouched.",
        ]
    else:
        out += [
            "## Positions that shared the cross wallet",
            "",
            "Under [cross margin](lesson:cross-margin) these positions drew on one pool and were closed together:",
            "",
        ]
        out += [
            f"- {p.symbol} {'long' if p.is_long else 'short'} {qty(p.quantity)}: unrealized PnL "
            f"{usdt(p.unrealized_pnl)} USDT, maintenance margin {usdt(p.maintenance_margin)} USDT"
            for p in report.positions
        ]
    return "\n".join(out) + "\n"


def stop_for_chart(desk: TradingDesk, report: LiquidationReport) -> Decimal | None:
    """The 1% stop of the first liquidated position (for the chart's line), None when it cannot be found."""
    p = report.positions[0]
    entry = find_entry(list(desk.exchange.events), p.symbol, report.ts_ms)
    if entry is None:
        return None
    found = one_percent_stop(desk.exchange.instruments[p.symbol], p, entry.equity, entry.leverage)
    return None if found is None else found[0]


def path_candles(desk: TradingDesk, report: LiquidationReport) -> tuple[int, int, object] | None:
    """(entry ms, liquidation ms, series) for the first liquidated position's symbol, when the desk has its candles."""
    p = report.positions[0]
    entry = find_entry(list(desk.exchange.events), p.symbol, report.ts_ms)
    for s in getattr(desk, "series", ()):
        if s.symbol == p.symbol and entry is not None:
            return entry.ts_ms, report.ts_ms, s
    return None
