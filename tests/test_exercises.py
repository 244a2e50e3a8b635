"""Practice exercises: the TOML files load, goals fire from the engine's events (and only then), and the
isolated-vs-cross exercise gives the two outcomes of the same trade in the June 2022 crash, checked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hexdesk.engine import Exchange, OrderRequest, OrderType, Side, TimeInForce
from hexdesk.market.candles import load_bundled
from hexdesk.service.exercises import (
    ExerciseError,
    Goal,
    compare_modes,
    debrief,
    goal_met,
    load_exercises,
    parse_exercise,
    risk_at_stop_pct,
)
from hexdesk.service.lessons import load_lessons

D = Decimal
T0 = 1_741_579_200_000  # Monday 04:00 UTC


def _exchange() -> Exchange:
    ex = Exchange(D(10000), start_ms=T0)
    ex.on_tick("BTCUSDT", T0, D("60000"))
    ex.set_leverage("BTCUSDT", 10)
    return ex


def test_every_practice_button_has_its_exercise():
    exercises = load_exercises()
    for lesson in load_lessons():
        assert lesson.practice in exercises, lesson.id
    for ex in exercises.values():
        assert ex.goals and ex.balance == D(10000) and ex.suggested_order()
        load_bundled(ex.dataset)  # real bundled data


def test_a_bad_exercise_names_the_key():
    with pytest.raises(ExerciseError, match="'dataset' is missing"):
        parse_exercise({"id": "x", "title": "X", "start": "2025-03-02T00:00:00Z", "balance": "1"}, "x.toml")
    with pytest.raises(ExerciseError, match=r"goals\[0\].kind 'fly'"):
        parse_exercise({"id": "x", "title": "X", "dataset": "d", "start": "2025-03-02T00:00:00Z", "balance": "1",
                        "goals": [{"kind": "fly"}]}, "x.toml")


def test_stop_loss_and_risk_goals_fire_from_the_events():
    ex = _exchange()
    stop_goal, risk_goal = Goal("stop_loss_placed", "stop"), Goal("risk_within_pct", "risk", D(1))
    assert not goal_met(stop_goal, ex.events) and not goal_met(risk_goal, ex.events)
    assert ex.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.040"))).ok
    assert goal_met(Goal("market_fill", "m"), ex.events)
    assert goal_met(Goal("isolated_position", "i"), ex.events)
    assert not goal_met(stop_goal, ex.events)
    stop = OrderRequest("BTCUSDT", Side.SELL, OrderType.STOP_MARKET, quantity=D("0.040"), stop_price=D("58000"),
                        reduce_only=True)
    assert ex.submit(stop).ok
    assert goal_met(stop_goal, ex.events)
    # By hand: 0.04 × (entry − 58,000) + the entry fee; the entry is 60,000 plus the fill model's half spread.
    entry = ex.position("BTCUSDT").entry_price
    fee = D("0.040") * entry * D("0.0005")
    assert risk_at_stop_pct(ex.events) == (D("0.040") * (entry - D(58000)) + fee) / D(10000) * 100
    assert risk_at_stop_pct(ex.events) < 1 and goal_met(risk_goal, ex.events)


def test_too_much_risk_does_not_meet_the_one_percent_goal():
    ex = _exchange()
    assert ex.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.100"), stop_loss=D("58000"))).ok
    assert goal_met(Goal("stop_loss_placed", "s"), ex.events)  # the attached stop-loss is a reducing STOP_MARKET
    assert risk_at_stop_pct(ex.events) > 2  # 0.1 × 2,000 = 200 USDT = 2% before fees
    assert not goal_met(Goal("risk_within_pct", "r", D(1)), ex.events)


def test_maker_fill_and_closing_without_liquidation():
    ex = _exchange()
    closed = Goal("closed_without_liquidation", "c")
    limit = OrderRequest("BTCUSDT", Side.BUY, OrderType.LIMIT, quantity=D("0.010"), price=D("59900"),
                         time_in_force=TimeInForce.GTC)
    assert ex.submit(limit).ok
    assert not goal_met(Goal("maker_fill", "m"), ex.events)
    ex.on_tick("BTCUSDT", T0 + 60_000, D("59800"))
    assert goal_met(Goal("maker_fill", "m"), ex.events)
    assert not goal_met(closed, ex.events)
    assert ex.submit(OrderRequest.market("BTCUSDT", Side.SELL, D("0.010"), reduce_only=True)).ok
    assert goal_met(closed, ex.events)
    rows = dict(debrief(load_exercises()["first-limit-order"], ex.events, ex.account().wallet_balance))
    assert rows["Fills"] == "2"
    assert rows["✔ Get a limit order filled as maker"] == "met"


def test_a_liquidated_position_does_not_count_as_closed():
    ex = _exchange()
    ex.set_leverage("BTCUSDT", 50)
    assert ex.submit(OrderRequest.market("BTCUSDT", Side.BUY, D("0.100"))).ok
    ex.on_tick("BTCUSDT", T0 + 60_000, D("50000"))
    assert not ex.position("BTCUSDT").is_open
    assert not goal_met(Goal("closed_without_liquidation", "c"), ex.events)


def test_isolated_vs_cross_in_the_june_2022_crash_by_hand():
    exercise = load_exercises()["isolated-vs-cross"]
    iso, cross = compare_modes(exercise)
    series = load_bundled(exercise.dataset)
    start, stop = series.index_at(exercise.start_ms), series.index_at(exercise.end_ms)
    q, ep = iso.quantity, iso.entry_price
    assert (cross.quantity, cross.entry_price) == (q, ep)
    fee = q * ep * D("0.0005")
    # Isolated: liquidated, and the wallet lost exactly the isolated margin Q·EP/20 plus the entry fee.
    assert iso.liquidated_ms is not None
    assert iso.lost == q * ep / 20 + fee
    # Cross: the whole wallet backs it: LP = (Q·EP − (10,000 − fee)) / (Q·(1 − 0.4%)), far below the month's low...
    assert cross.liquidation_price == (q * ep - (D(10000) - fee)) / (q * (1 - D("0.004")))
    low = min(series.candle(i).low for i in range(start, stop))
    assert cross.liquidated_ms is None and cross.liquidation_price < low
    # ...and at the low (a tick of the path) the wallet had lost Q·(EP − low) + the fee: several times the margin.
    assert cross.worst_equity == D(10000) - fee + q * (low - ep)
    assert cross.worst_loss > 3 * iso.lost
