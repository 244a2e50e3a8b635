"""Practice exercises: TOML files in ``resources/lessons/exercises/`` (dataset, start, balance, a suggested order,
goals), goals checked from the engine's events, a debrief with the session's own numbers, and the isolated-vs-cross
comparison run headless on the bundled data. Qt-free.

Goal kinds (``[[goals]] kind = ...``), each decided from events alone:

- ``isolated_position``: a PositionChanged opened an ISOLATED position;
- ``stop_loss_placed``: an accepted STOP_MARKET / STOP order that reduces (reduce-only, close-position, or the child
  of an attached stop-loss);
- ``risk_within_pct`` (``pct``): an accepted stop-loss order closing the open position would lose at most ``pct`` %
  of the balance (move to the stop + the entry fee, at the stop price);
- ``market_fill``: a MARKET order filled; ``maker_fill``: a fill with the MAKER role;
- ``closed_without_liquidation``: a position opened and went flat without a PositionLiquidated;
- ``compare_modes``: met once the comparison has run (:func:`compare_modes`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from hexdesk.engine import (
    Exchange,
    LiquidityRole,
    MarginMode,
    OrderAccepted,
    OrderFilled,
    OrderRequest,
    OrderType,
    PositionChanged,
    PositionLiquidated,
    Side,
)
from hexdesk.engine.events import AccountOpened, Event
from hexdesk.market.paths import EXERCISES

EXERCISES_DIR = EXERCISES  # the bundled exercises (resources/lessons/exercises; see market/paths.py)
GOAL_KINDS = frozenset({
    "isolated_position", "stop_loss_placed", "risk_within_pct", "market_fill", "maker_fill",
    "closed_without_liquidation", "compare_modes",
})
ZERO = Decimal(0)


class ExerciseError(ValueError):
    """A bad exercise file: the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Goal:
    kind: str
    text: str
    pct: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Exercise:
    id: str
    title: str
    dataset: str
    start_ms: int
    balance: Decimal
    intro: str
    order: dict[str, object] = field(default_factory=dict)
    goals: tuple[Goal, ...] = ()
    end_ms: int | None = None  # where a headless run stops (None: the end of the data)

    def suggested_order(self) -> str:
        """The suggested order in words (from the ``[order]`` table)."""
        o = self.order
        parts = [f"{o.get('side', 'BUY')} {o.get('type', 'MARKET')}"]
        if "notional" in o:
            parts.append(f"about {o['notional']} USDT of notional")
        if "stop_below_pct" in o:
            parts.append(f"stop-loss {o['stop_below_pct']}% below the entry, sized to risk {o.get('risk_pct', 1)}%")
        if "below_pct" in o:
            parts.append(f"limit {o['below_pct']}% below the price")
        if "leverage" in o:
            parts.append(f"{o['leverage']}x isolated")
        return ", ".join(parts)


def _ms(text: str, where: str) -> int:
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        raise ExerciseError(f"{where}: key 'start' is not an ISO date-time: {text!r}") from None


def parse_exercise(data: dict, where: str = "<toml>") -> Exercise:
    for key in ("id", "title", "dataset", "start", "balance"):
        if key not in data:
            raise ExerciseError(f"{where}: key {key!r} is missing")
    goals = []
    for i, g in enumerate(data.get("goals", [])):
        kind = g.get("kind")
        if kind not in GOAL_KINDS:
            raise ExerciseError(f"{where}: goals[{i}].kind {kind!r} is not one of {', '.join(sorted(GOAL_KINDS))}")
        goals.append(Goal(kind, g.get("text", kind), Decimal(str(g["pct"])) if "pct" in g else None))
    return Exercise(
        str(data["id"]), str(data["title"]), str(data["dataset"]), _ms(str(data["start"]), where),
        Decimal(str(data["balance"])), str(data.get("intro", "")), dict(data.get("order", {})), tuple(goals),
        _ms(str(data["end"]), where) if "end" in data else None,
    )


@cache
def load_exercises(directory: Path = EXERCISES_DIR) -> dict[str, Exercise]:
    out = {}
    for p in sorted(directory.glob("*.toml")):
        ex = parse_exercise(tomllib.loads(p.read_text(encoding="utf-8")), p.name)
        out[ex.id] = ex
    return out


# -- goals from events --------------------------------------------------------------------------------------


def _is_stop(e: OrderAccepted) -> bool:
    o = e.order
    return o.type in (OrderType.STOP_MARKET, OrderType.STOP) and (
        o.reduce_only or o.close_position or o.parent_order_id is not None
    )


def goal_met(goal: Goal, events: Sequence[Event]) -> bool:
    """Whether the events (a session's log, from its AccountOpened) meet ``goal``."""
    if goal.kind == "isolated_position":
        return any(isinstance(e, PositionChanged) and e.position.is_open
                   and e.position.margin_mode is MarginMode.ISOLATED for e in events)
    if goal.kind == "stop_loss_placed":
        return any(isinstance(e, OrderAccepted) and _is_stop(e) for e in events)
    if goal.kind == "market_fill":
        return any(isinstance(e, OrderFilled) and e.order.type is OrderType.MARKET and not e.fill.is_liquidation
                   for e in events)
    if goal.kind == "maker_fill":
        return any(isinstance(e, OrderFilled) and e.fill.role is LiquidityRole.MAKER for e in events)
    if goal.kind == "closed_without_liquidation":
        # The engine reports the flat PositionChanged of a liquidation before its PositionLiquidated (same tick).
        liquidated = {(e.symbol, e.ts_ms) for e in events if isinstance(e, PositionLiquidated)}
        opened: set[str] = set()
        for e in events:
            if isinstance(e, PositionChanged):
                sym = e.position.symbol
                if e.position.is_open:
                    opened.add(sym)
                elif sym in opened and (sym, e.ts_ms) not in liquidated:
                    return True
        return False
    if goal.kind == "risk_within_pct":
        return risk_at_stop_pct(events) is not None and (risk_at_stop_pct(events) or ZERO) <= (goal.pct or Decimal(1))
    return False


def risk_at_stop_pct(events: Sequence[Event]) -> Decimal | None:
    """The loss, in % of the opening balance, if the first stop-loss accepted while a position was open filled at
    its stop price: |entry − stop| × size + the entry fees paid so far. None: no stop with a position."""
    balance = next((e.wallet_balance for e in events if isinstance(e, AccountOpened)), None)
    positions: dict[str, object] = {}
    fees: dict[str, Decimal] = {}
    pending_stops: list[OrderAccepted] = []
    for e in events:
        if isinstance(e, OrderFilled):
            fees[e.fill.symbol] = fees.get(e.fill.symbol, ZERO) + e.fill.fee
        if isinstance(e, PositionChanged):
            positions[e.position.symbol] = e.position
        if isinstance(e, OrderAccepted) and _is_stop(e):
            pending_stops.append(e)
        for s in list(pending_stops):
            pos = positions.get(s.order.symbol)
            if pos is not None and pos.is_open and balance:  # type: ignore[attr-defined]
                loss = abs(pos.entry_price - s.order.stop_price) * pos.size + fees.get(pos.symbol, ZERO)  # type: ignore[attr-defined]
                return loss / balance * 100
    return None


def debrief(exercise: Exercise, events: Sequence[Event], wallet_now: Decimal) -> list[tuple[str, str]]:
    """(label, value) lines with the session's actual numbers: goals, fills, fees, funding, result."""
    fills = [e.fill for e in events if isinstance(e, OrderFilled)]
    balance = next((e.wallet_balance for e in events if isinstance(e, AccountOpened)), exercise.balance)
    rows = [(("✔ " if goal_met(g, events) else "✘ ") + g.text, "met" if goal_met(g, events) else "not yet")
            for g in exercise.goals if g.kind != "compare_modes"]
    rows.append(("Fills", str(len(fills))))
    rows.append(("Fees paid", f"{sum((f.fee for f in fills), ZERO):,.2f} USDT"))
    risk = risk_at_stop_pct(events)
    rows.append(("Risk at the stop", "no stop-loss" if risk is None else f"{risk:.2f}% of the balance"))
    liq = [e for e in events if isinstance(e, PositionLiquidated)]
    rows.append(("Liquidations", str(len(liq))))
    rows.append(("Wallet", f"{balance:,.2f} → {wallet_now:,.2f} USDT ({wallet_now - balance:+,.2f})"))
    return rows


# -- isolated vs cross --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModeOutcome:
    """One mode's run of the same trade over the data."""

    mode: MarginMode
    quantity: Decimal
    entry_price: Decimal
    margin: Decimal
    liquidation_price: Decimal | None
    liquidated_ms: int | None
    worst_equity: Decimal  # the lowest equity (wallet + unrealized PnL at the mark) on the way
    wallet_end: Decimal  # the equity at the end (wallet + unrealized PnL if the position is still open)
    balance: Decimal

    @property
    def lost(self) -> Decimal:
        return self.balance - self.wallet_end

    @property
    def worst_loss(self) -> Decimal:
        return self.balance - self.worst_equity


def _run_mode(exercise: Exercise, mode: MarginMode, ticks: Iterable) -> ModeOutcome:
    o = exercise.order
    lev = int(o.get("leverage", 20))  # type: ignore[arg-type]
    ex = Exchange(exercise.balance, start_ms=exercise.start_ms, default_margin_mode=mode)
    it = iter(ticks)
    first = next(it)
    ex.on_tick(first.symbol, first.ts_ms, first.price)
    ex.set_leverage(first.symbol, lev)
    inst = ex.instruments[first.symbol]
    step = inst.market_step_size or inst.step_size
    notional = Decimal(str(o.get("notional", "20000")))
    q = (notional / first.price / step).to_integral_value(rounding="ROUND_DOWN") * step
    side = Side(str(o.get("side", "BUY")))
    r = ex.submit(OrderRequest(first.symbol, side, OrderType.MARKET, quantity=q))
    if not r.ok:
        raise ValueError(f"the exercise's order was rejected: {r.rejection}")
    pos = ex.position(first.symbol)
    entry, margin, lp = pos.entry_price, pos.initial_margin, pos.liquidation_price
    worst = ex.account().margin_balance
    liquidated = None
    for t in it:
        events = ex.on_tick(t.symbol, t.ts_ms, t.price)
        eq = ex.account().margin_balance
        worst = min(worst, eq)
        if any(isinstance(e, PositionLiquidated) for e in events):
            liquidated = t.ts_ms
            break
    acct = ex.account()
    return ModeOutcome(mode, q, entry, margin, lp, liquidated, worst, acct.margin_balance, exercise.balance)


def compare_modes(exercise: Exercise, data_dir: str | Path | None = None) -> tuple[ModeOutcome, ModeOutcome]:
    """The exercise's trade run over its dataset from its start, isolated then cross (headless, on the Exchange)."""
    from hexdesk.market.candles import load_bundled
    from hexdesk.market.replay import candle_ticks

    series = load_bundled(exercise.dataset)
    start = series.index_at(exercise.start_ms)
    stop = series.index_at(exercise.end_ms) if exercise.end_ms is not None else None
    iso = _run_mode(exercise, MarginMode.ISOLATED, candle_ticks(series, start, stop))
    cross = _run_mode(exercise, MarginMode.CROSS, candle_ticks(series, start, stop))
    return iso, cross
