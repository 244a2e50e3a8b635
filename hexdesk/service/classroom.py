"""The classroom pack: a scenario an instructor writes (TOML, docs/classroom.md), played identically on every
machine, the student's result file (every action with the number of market ticks before it), and grading that
re-simulates those actions through the engine on the same data. Qt-free.

Determinism: the scenario fixes the data (bundled months), the start (a fixed instant, or one drawn from a seeded
``random.Random``), the blind transform (times shifted by whole days to 2001, prices multiplied by a seeded factor and
rounded to the cent), the balance and a flat funding rate. The engine has no clock of its own, so the same ticks and
the same actions after the same tick count give the same events. A result file carries actions, never outcomes:
grading recomputes the outcome, so editing the file cannot improve a score.
"""

from __future__ import annotations

import hashlib
import json
import random
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hexdesk.engine import (
    BinanceError,
    Exchange,
    MarginMode,
    OrderFilled,
    OrderRequest,
    OrderType,
    Side,
    TimeInForce,
)
from hexdesk.market import blind
from hexdesk.market.candles import CandleSeries, load_bundled
from hexdesk.market.replay import PriceTick, Replay

RESULT_FORMAT = "hexdesk-class-result/1"
DAY_MS = 86_400_000
FUNDING_RATE = Decimal("0.0001")  # flat 0.01% per 8 h: real funding history would give the period away

_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "scenario": {"name": str, "datasets": list, "balance": (str, int, float), "length_minutes": int, "speed": (int,
                                                                                                              float)},
    "start": {"mode": str, "at": str, "seed": int, "earliest": str, "latest": str},
    "blind": {"enabled": bool, "seed": int},
    "limits": {"leverage_cap": int, "symbols": list, "margin_modes": list, "order_types": list},
    "rules": {"max_risk_pct": (str, int, float), "stop_required": bool},
}
_REQUIRED = {"scenario": ("name", "datasets", "balance", "length_minutes")}


class ScenarioError(ValueError):
    """An invalid scenario: the message names the key (``section.key``) and what is wrong with it."""


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    datasets: tuple[str, ...]
    balance: Decimal
    length_minutes: int
    speed: float
    start_mode: str  # "fixed" or "random"
    start_at_ms: int | None
    start_seed: int
    blind: bool
    blind_seed: int
    leverage_cap: int
    symbols: tuple[str, ...]
    margin_modes: tuple[MarginMode, ...]
    order_types: tuple[OrderType, ...]
    max_risk_pct: Decimal | None
    stop_required: bool
    sha256: str = ""

    # --- the data, identical on every machine -------------------------------------------------------------

    def series(self) -> list[CandleSeries]:
        """The candles as the students see them (blind: shifted to 2001 and rescaled)."""
        raw = [load_bundled(name) for name in self.datasets]
        if not self.blind:
            return raw
        shift = self._shift_ms(raw)
        factor = self.price_factor()
        return [blind.disguise(s, shift, factor) for s in raw]

    def price_factor(self) -> Decimal:
        """Blind mode's price multiplier, 0.500 to 2.000 in steps of 0.001 (1 when not blind)."""
        if not self.blind:
            return Decimal(1)
        return blind.price_factor(self.blind_seed)

    def _shift_ms(self, raw: Sequence[CandleSeries]) -> int:
        return blind.shift_ms(raw) if self.blind else 0

    def start_ms(self, series: Sequence[CandleSeries] | None = None) -> int:
        """Where the replay starts (in the students' time): fixed, or drawn with the seed among whole minutes."""
        series = self.series() if series is None else series
        first = max(s.first_open_ms for s in series) + DAY_MS  # a day of history on the chart
        last = min(int(s.open_time_ms[-1]) for s in series) - self.length_minutes * 60_000
        if last < first:
            raise ScenarioError(f"scenario.length_minutes: {self.length_minutes} minutes do not fit in the data")
        if self.start_mode == "fixed":
            assert self.start_at_ms is not None
            at = self.start_at_ms + (self._shift_ms([load_bundled(n) for n in self.datasets]) if self.blind else 0)
            if not first <= at <= last:
                raise ScenarioError("start.at: outside the data (with a day of history and the scenario's length)")
            return at
        minutes = (last - first) // 60_000
        return first + random.Random(self.start_seed).randint(0, minutes) * 60_000

    def end_ms(self, start: int) -> int:
        return start + self.length_minutes * 60_000


# -- parsing and validation ---------------------------------------------------------------------------------


def _ms(text: str, key: str) -> int:
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ScenarioError(f"{key}: {text!r} is not an ISO date-time such as 2022-06-16T00:00:00Z") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def _decimal(v: Any, key: str, positive: bool = True) -> Decimal:
    try:
        d = Decimal(str(v))
    except ArithmeticError:
        raise ScenarioError(f"{key}: {v!r} is not a number") from None
    if not d.is_finite() or (positive and d <= 0):
        raise ScenarioError(f"{key}: must be a positive number, got {v!r}")
    return d


def parse_scenario(text: str, name: str = "<scenario>") -> Scenario:
    """A scenario from TOML text; every problem raises ScenarioError naming ``section.key``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{name}: not valid TOML: {exc}") from None
    for section, value in data.items():
        if section not in _SCHEMA:
            raise ScenarioError(f"{section}: unknown section (expected {', '.join(_SCHEMA)})")
        if not isinstance(value, dict):
            raise ScenarioError(f"{section}: must be a table ([{section}])")
        for key, v in value.items():
            if key not in _SCHEMA[section]:
                raise ScenarioError(f"{section}.{key}: unknown key")
            want = _SCHEMA[section][key]
            if not isinstance(v, want) or (isinstance(v, bool) and bool not in (want if isinstance(want, tuple)
                                                                                 else (want,))):
                raise ScenarioError(f"{section}.{key}: wrong type {type(v).__name__}")
    for section, keys in _REQUIRED.items():
        for key in keys:
            if key not in data.get(section, {}):
                raise ScenarioError(f"{section}.{key}: missing")
    sc, start = data["scenario"], data.get("start", {})
    limits, rules, blind = data.get("limits", {}), data.get("rules", {}), data.get("blind", {})
    from hexdesk.market.candles import list_bundled

    bundled = {d.name for d in list_bundled()}
    datasets = tuple(str(d) for d in sc["datasets"])
    if not datasets:
        raise ScenarioError("scenario.datasets: give at least one dataset")
    for d in datasets:
        if d not in bundled:
            raise ScenarioError(f"scenario.datasets: {d!r} is not a bundled dataset ({', '.join(sorted(bundled))})")
    if sc["length_minutes"] <= 0:
        raise ScenarioError("scenario.length_minutes: must be positive")
    mode = start.get("mode", "fixed" if "at" in start else "random")
    if mode not in ("fixed", "random"):
        raise ScenarioError(f"start.mode: {mode!r} is not 'fixed' or 'random'")
    if mode == "fixed" and "at" not in start:
        raise ScenarioError("start.at: missing (start.mode is 'fixed')")
    symbols_all = tuple(d.split("-", 1)[0] for d in datasets)
    symbols = tuple(str(s) for s in limits.get("symbols", symbols_all))
    for s in symbols:
        if s not in symbols_all:
            raise ScenarioError(f"limits.symbols: {s!r} is not in the scenario's datasets")
    try:
        modes = tuple(MarginMode(str(m).upper()) for m in limits.get("margin_modes", ["ISOLATED", "CROSS"]))
    except ValueError as exc:
        raise ScenarioError(f"limits.margin_modes: {exc}") from None
    try:
        types = tuple(OrderType(str(t).upper()) for t in limits.get("order_types", [t.value for t in OrderType]))
    except ValueError as exc:
        raise ScenarioError(f"limits.order_types: {exc}") from None
    cap = limits.get("leverage_cap", 125)
    if not 1 <= cap <= 150:
        raise ScenarioError(f"limits.leverage_cap: must be 1 to 150, got {cap}")
    scenario = Scenario(
        name=sc["name"], datasets=datasets, balance=_decimal(sc["balance"], "scenario.balance"),
        length_minutes=sc["length_minutes"], speed=float(sc.get("speed", 60)), start_mode=mode,
        start_at_ms=_ms(start["at"], "start.at") if mode == "fixed" else None, start_seed=int(start.get("seed", 0)),
        blind=bool(blind.get("enabled", False)), blind_seed=int(blind.get("seed", 0)), leverage_cap=cap,
        symbols=symbols, margin_modes=modes, order_types=types,
        max_risk_pct=_decimal(rules["max_risk_pct"], "rules.max_risk_pct") if "max_risk_pct" in rules else None,
        stop_required=bool(rules.get("stop_required", False)),
        sha256=hashlib.sha256(text.encode()).hexdigest(),
    )
    if scenario.speed <= 0:
        raise ScenarioError("scenario.speed: must be positive")
    scenario.start_ms()  # the start must fit in the data
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    p = Path(path)
    return parse_scenario(p.read_text(encoding="utf-8"), p.name)


# -- actions and the simulation --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Action:
    """One thing the student did, after ``tick`` market ticks (replay time ``ts_ms``, for people to read)."""

    tick: int
    ts_ms: int
    kind: str  # "order", "leverage", "margin_mode", "cancel", "close"
    symbol: str
    fields: dict[str, str] = field(default_factory=dict)

    def request(self) -> OrderRequest:
        f = self.fields
        dec = {k: Decimal(f[k]) for k in ("quantity", "price", "stop_price", "take_profit", "stop_loss") if f.get(k)}
        return OrderRequest(
            self.symbol, Side(f["side"]), OrderType(f["type"]),
            time_in_force=TimeInForce(f["tif"]) if f.get("tif") else None,
            reduce_only=f.get("reduce_only") == "true", close_position=f.get("close_position") == "true", **dec,
        )


def action_for_request(tick: int, ts_ms: int, r: OrderRequest) -> Action:
    f = {"side": r.side.value, "type": r.type.value}
    if r.time_in_force is not None:
        f["tif"] = r.time_in_force.value
    for k in ("quantity", "price", "stop_price", "take_profit", "stop_loss"):
        v = getattr(r, k)
        if v is not None:
            f[k] = str(v)
    if r.reduce_only:
        f["reduce_only"] = "true"
    if r.close_position:
        f["close_position"] = "true"
    return Action(tick, ts_ms, "order", r.symbol, f)


@dataclass
class Session:
    """A scenario being played: the engine, the ticks, the actions so far and the rule violations.

    The GUI's desk and the grader both go through ``advance`` and ``act``, so what a student saw is what grading
    recomputes."""

    scenario: Scenario
    exchange: Exchange
    ticks: Iterator[PriceTick]
    end_ms: int
    tick_count: int = 0
    actions: list[Action] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    equity: list[tuple[int, Decimal]] = field(default_factory=list)

    def check(self, action: Action) -> str | None:
        """The rule this action breaks, or None. A refused action (not allowed at all) is not executed."""
        sc = self.scenario
        if action.symbol not in sc.symbols:
            return f"symbol {action.symbol} not allowed"
        if action.kind == "leverage" and int(action.fields["leverage"]) > sc.leverage_cap:
            return f"leverage {action.fields['leverage']}x above the cap of {sc.leverage_cap}x"
        if action.kind == "margin_mode" and MarginMode(action.fields["mode"]) not in sc.margin_modes:
            return f"margin mode {action.fields['mode']} not allowed"
        if action.kind == "order" and OrderType(action.fields["type"]) not in sc.order_types:
            return f"order type {action.fields['type']} not allowed"
        return None

    def rule_notes(self, action: Action) -> list[str]:
        """Rules that are scored but do not stop the order: stop required, max risk per trade."""
        f = action.fields
        if action.kind != "order" or f.get("reduce_only") == "true" or f.get("close_position") == "true":
            return []
        notes = []
        t = ts_label(action.ts_ms)
        if self.scenario.stop_required and not f.get("stop_loss"):
            notes.append(f"{t}: {f['side']} {f['type']} {f.get('quantity', '')} without a stop-loss")
        if self.scenario.max_risk_pct is not None and f.get("stop_loss") and f.get("quantity"):
            ref = Decimal(f["price"]) if f.get("price") else self.exchange.last_price(action.symbol) or Decimal(0)
            equity = self.exchange.account().margin_balance
            risk = Decimal(f["quantity"]) * abs(ref - Decimal(f["stop_loss"])) / equity * 100 if equity > 0 else 0
            if risk > self.scenario.max_risk_pct:
                notes.append(f"{t}: risk {risk:.2f}% above the {self.scenario.max_risk_pct}% limit")
        return notes

    def record(self, action: Action) -> Action:
        """Note an action the desk has already executed (the GUI), stamped with the ticks fed so far."""
        action = Action(self.tick_count, self.exchange.now_ms, action.kind, action.symbol, action.fields)
        self.actions.append(action)
        return action

    def act(self, action: Action) -> object:
        """Apply one action now (after ``tick_count`` ticks) and record it; returns the engine's answer."""
        action = Action(self.tick_count, self.exchange.now_ms, action.kind, action.symbol, action.fields)
        self.actions.append(action)
        refused = self.check(action)
        if refused:
            self.violations.append(f"{ts_label(action.ts_ms)}: {refused} (refused)")
            return None
        self.violations.extend(self.rule_notes(action))
        ex = self.exchange
        try:
            if action.kind == "order":
                return ex.submit(action.request())
            if action.kind == "leverage":
                return ex.set_leverage(action.symbol, int(action.fields["leverage"]))
            if action.kind == "margin_mode":
                return ex.set_margin_mode(action.symbol, MarginMode(action.fields["mode"]))
            if action.kind == "cancel":
                return ex.cancel(action.symbol, int(action.fields["order_id"]))
            if action.kind == "close":
                pos = ex.position(action.symbol)
                if pos.is_open:
                    side = Side.SELL if pos.quantity > 0 else Side.BUY
                    return ex.submit(OrderRequest(action.symbol, side, OrderType.MARKET, quantity=pos.size,
                                                  reduce_only=True))
        except Exception as exc:  # an account op the engine refuses (BinanceError): recorded, the run goes on
            return exc
        return None

    def advance(self, count: int | None = None, until_tick: int | None = None) -> list[PriceTick]:
        """Feed up to ``count`` ticks (or up to tick number ``until_tick``), stopping at the scenario's end."""
        fed = []
        while (count is None or len(fed) < count) and (until_tick is None or self.tick_count < until_tick):
            t = next(self.ticks, None)
            if t is None or t.ts_ms >= self.end_ms:
                break
            try:
                self.exchange.on_tick(t.symbol, t.ts_ms, t.price, t.mark, t.liquidity)
            except BinanceError:  # skipped and not counted, as the desk does
                continue
            self.tick_count += 1
            fed.append(t)
            if not self.equity or t.ts_ms - self.equity[-1][0] >= 3_600_000:
                self.equity.append((t.ts_ms, self.exchange.account().margin_balance))
        return fed

    def finish(self) -> Decimal:
        self.advance()
        final = self.exchange.account().margin_balance
        self.equity.append((self.exchange.now_ms, final))
        return final


def start_session(scenario: Scenario) -> Session:
    """A fresh play of the scenario: the engine at the start with the scenario's balance and a flat funding rate."""
    series = scenario.series()
    start = scenario.start_ms(series)
    replay = Replay(series, start_ms=start)
    ex = Exchange(scenario.balance, start_ms=start, default_leverage=min(20, scenario.leverage_cap),
                  default_margin_mode=scenario.margin_modes[0])
    for s in series:
        ex.set_funding_rate(s.symbol, FUNDING_RATE)
    return Session(scenario, ex, replay.ticks(), scenario.end_ms(start))


def simulate(scenario: Scenario, actions: Sequence[Action]) -> Session:
    """Re-play ``actions`` through the engine, each after the same number of ticks as when the student did it."""
    session = start_session(scenario)
    for a in sorted(actions, key=lambda a: a.tick):
        session.advance(until_tick=a.tick)
        session.act(a)
    session.finish()
    return session


def ts_label(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


# -- result files ---------------------------------------------------------------------------------------------


def result_document(scenario: Scenario, student: str, actions: Sequence[Action], final_equity: Decimal) -> dict:
    """What a student hands in: the scenario's hash, the name, every action with its tick and replay time."""
    return {
        "format": RESULT_FORMAT,
        "scenario_sha256": scenario.sha256,
        "scenario": scenario.name,
        "student": student,
        "actions": [asdict(a) for a in actions],
        "final_equity_claimed": str(final_equity),  # informative only: grading recomputes it
    }


def write_result(path: str | Path, doc: dict) -> None:
    p = Path(path)
    tmp = p.with_suffix(p.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    tmp.replace(p)


class ResultError(ValueError):
    """A result file that cannot be graded: the message names the file and why."""


def read_result(path: str | Path, scenario: Scenario) -> tuple[str, list[Action]]:
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultError(f"{p.name}: damaged ({exc.__class__.__name__})") from None
    if not isinstance(doc, dict) or doc.get("format") != RESULT_FORMAT:
        raise ResultError(f"{p.name}: not a HexDesk result file")
    if doc.get("scenario_sha256") != scenario.sha256:
        raise ResultError(f"{p.name}: written for another scenario ({doc.get('scenario', '?')})")
    try:
        actions = [Action(int(a["tick"]), int(a["ts_ms"]), str(a["kind"]), str(a["symbol"]),
                          {str(k): str(v) for k, v in a.get("fields", {}).items()}) for a in doc["actions"]]
        student = str(doc["student"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResultError(f"{p.name}: damaged ({exc.__class__.__name__})") from None
    return student, actions


@dataclass(frozen=True, slots=True)
class Grade:
    student: str
    file: str
    final_equity: Decimal
    return_pct: Decimal
    trades: int
    violations: tuple[str, ...]
    equity: tuple[tuple[int, Decimal], ...]


def grade(scenario: Scenario, paths: Sequence[str | Path]) -> tuple[list[Grade], list[str]]:
    """Every readable result re-simulated, best first; and the skipped files, each with its reason."""
    grades, skipped = [], []
    for path in paths:
        try:
            student, actions = read_result(path, scenario)
            session = simulate(scenario, actions)
        except ResultError as exc:
            skipped.append(str(exc))
            continue
        except Exception as exc:  # an action the engine cannot even parse: the file is damaged
            skipped.append(f"{Path(path).name}: damaged ({exc.__class__.__name__}: {exc})")
            continue
        final = session.equity[-1][1]
        fills = sum(1 for e in session.exchange.events if isinstance(e, OrderFilled))
        grades.append(Grade(student, Path(path).name, final, (final / scenario.balance - 1) * 100, fills,
                            tuple(session.violations), tuple(session.equity)))
    grades.sort(key=lambda g: (-g.final_equity, g.student))
    return grades, skipped
