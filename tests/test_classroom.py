"""The classroom pack: scenario validation names the bad key, a scenario plays identically twice, a student's
session recorded by the desk re-simulates to the same outcome, an edited result gets its true score, and other or
damaged result files are named and skipped."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from hexdesk import app, cli_class
from hexdesk.engine import OrderRequest, OrderType, Side
from hexdesk.market.candles import load_bundled
from hexdesk.service.classroom import (
    Action,
    ScenarioError,
    action_for_request,
    grade,
    load_scenario,
    parse_scenario,
    result_document,
    simulate,
    start_session,
    write_result,
)
from hexdesk.ui.scenario_run import build_scenario_desk

D = Decimal
EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "scenarios" / "june-2022-blind.toml"
BASE = """
[scenario]
name = "Test"
datasets = ["BTCUSDT-2022-06"]
balance = "10000"
length_minutes = 600
[start]
at = "2022-06-17T12:00:00Z"
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BASE + "[limits]\nfoo = 1\n", "limits.foo: unknown key"),
        (BASE.replace('balance = "10000"', 'balance = "-5"'), "scenario.balance: must be a positive number"),
        (BASE.replace("length_minutes = 600\n", ""), "scenario.length_minutes: missing"),
        (BASE.replace("length_minutes = 600", 'length_minutes = "long"'), "scenario.length_minutes: wrong type"),
        (BASE.replace("BTCUSDT-2022-06", "BTCUSDT-1999-01"), "scenario.datasets: 'BTCUSDT-1999-01'"),
        (BASE.replace("2022-06-17", "2021-01-01"), "start.at: outside the data"),
        (BASE + "[limits]\nmargin_modes = ['HEDGE']\n", "limits.margin_modes"),
        (BASE + "[extra]\n", "extra: unknown section"),
    ],
)
def test_invalid_scenarios_name_the_bad_key(text, message):
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_scenario(text)


def test_blind_mode_hides_the_dates_and_rescales_the_prices():
    sc = load_scenario(EXAMPLE)
    raw, blind = load_bundled("BTCUSDT-2022-06"), sc.series()[0]
    factor = sc.price_factor()
    assert D("0.5") <= factor <= 2 and factor != 1
    assert blind.candle(0).open_time_ms < 1_000_000_000_000  # 2001, not 2022
    assert (blind.candle(0).open_time_ms - raw.candle(0).open_time_ms) % 86_400_000 == 0  # whole days
    # By hand: price × factor rounded to the cent.
    assert blind.candle(10).close == (raw.candle(10).close * factor).quantize(D("0.01"))


def _play(sc):
    s = start_session(sc)
    s.advance(200)
    p = s.exchange.last_price("BTCUSDT")
    s.act(Action(0, 0, "leverage", "BTCUSDT", {"leverage": "10"}))
    s.act(action_for_request(0, 0, OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, quantity=D("0.050"),
                                                stop_loss=(p * D("0.98")).quantize(D("0.1")))))
    s.advance(1500)
    s.act(Action(0, 0, "close", "BTCUSDT", {}))
    s.finish()
    return s


def test_a_scenario_plays_identically_twice_and_re_simulates_to_the_same_outcome():
    sc = load_scenario(EXAMPLE)
    a, b = _play(sc), _play(sc)
    assert a.exchange.events == b.exchange.events
    assert a.equity == b.equity
    again = simulate(sc, a.actions)
    assert again.exchange.events == a.exchange.events


def test_rules_are_checked(tmp_path):
    sc = load_scenario(EXAMPLE)
    s = start_session(sc)
    s.advance(10)
    s.act(Action(0, 0, "leverage", "BTCUSDT", {"leverage": "50"}))  # above the cap of 20
    s.act(action_for_request(0, 0, OrderRequest.market("BTCUSDT", Side.BUY, D("0.5"))))  # no stop-loss
    p = s.exchange.last_price("BTCUSDT")
    s.act(action_for_request(0, 0, OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, quantity=D("1"),
                                                stop_loss=p - 1000)))  # 1 × 1,000 = 10% of 10,000
    assert s.exchange.leverage("BTCUSDT") == 20
    assert any("leverage 50x above the cap" in v for v in s.violations)
    assert any("without a stop-loss" in v for v in s.violations)
    assert any("above the 1% limit" in v for v in s.violations)


def test_the_desk_records_a_session_that_grading_reproduces_and_edits_do_not_help(tmp_path):
    sc = load_scenario(EXAMPLE)
    result = tmp_path / "ana.result.json"
    desk, session = build_scenario_desk(sc, "Ana", result)
    gen = desk.replay.ticks()
    desk.feed([t for _, t in zip(range(120), gen, strict=False)])
    desk.set_leverage("BTCUSDT", 10)
    p = desk.last_price("BTCUSDT")
    assert desk.submit(OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, quantity=D("0.040"),
                                    stop_loss=(p * D("0.99")).quantize(D("0.1")))).ok
    for _ in range(30):
        desk.feed([t for _, t in zip(range(50), gen, strict=False)])
    desk.close_position("BTCUSDT")
    doc = json.loads(result.read_text())
    assert doc["student"] == "Ana" and doc["scenario_sha256"] == sc.sha256
    assert [a["kind"] for a in doc["actions"]] == ["leverage", "order", "close"]
    assert doc["actions"][1]["tick"] == 120
    # Grading: the rest of the scenario is played out by the engine, the same for everyone.
    (g,), skipped = grade(sc, [result])
    assert not skipped
    truth = simulate(sc, session.actions)
    assert g.final_equity == truth.equity[-1][1]
    fills_desk = [e for e in desk.exchange.events if type(e).__name__ == "OrderFilled"]
    fills_sim = [e for e in truth.exchange.events if type(e).__name__ == "OrderFilled"]
    assert [f.fill.price for f in fills_sim[: len(fills_desk)]] == [f.fill.price for f in fills_desk]
    # An edited claim changes nothing.
    doc["final_equity_claimed"] = "1000000"
    edited = tmp_path / "ana-edited.result.json"
    edited.write_text(json.dumps(doc))
    (g2,), _ = grade(sc, [edited])
    assert g2.final_equity == g.final_equity


def test_the_desk_refuses_what_the_scenario_forbids(tmp_path):
    sc = load_scenario(EXAMPLE)
    desk, session = build_scenario_desk(sc, "Di", tmp_path / "di.json")
    desk.feed([t for _, t in zip(range(20), desk.replay.ticks(), strict=False)])
    rejection = desk.set_leverage("BTCUSDT", 50)  # cap 20
    assert rejection is not None and "leverage 50x above the cap of 20x" in rejection.msg
    assert desk.exchange.leverage("BTCUSDT") == 20
    result = desk.submit(OrderRequest("BTCUSDT", Side.BUY, OrderType.STOP, quantity=D("0.01"), price=D("1"),
                                      stop_price=D("1")))  # STOP is not in limits.order_types
    assert not result.ok and "order type STOP not allowed" in result.rejection.msg
    assert [a.kind for a in session.actions] == ["leverage", "order"]  # recorded: grading refuses them too
    assert len(simulate(sc, session.actions).violations) == 2


def test_other_and_damaged_results_are_named_and_skipped(tmp_path, capsys):
    sc = load_scenario(EXAMPLE)
    good = tmp_path / "bo.result.json"
    write_result(good, result_document(sc, "Bo", [], sc.balance))
    other = tmp_path / "other.result.json"
    write_result(other, result_document(parse_scenario(BASE), "Cy", [], D(1)))
    broken = tmp_path / "broken.result.json"
    broken.write_text('{"format": "hexdesk-class-')
    out = tmp_path / "board"
    assert cli_class.main(["grade", str(EXAMPLE), str(good), str(other), str(broken), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "skipped other.result.json: written for another scenario" in err
    assert "skipped broken.result.json: damaged" in err
    rows = list(csv.DictReader((out / "leaderboard.csv").open()))
    assert [r["student"] for r in rows] == ["Bo"]
    assert rows[0]["final_equity"] == "10000.00"  # no trades: the balance, flat funding never paid without a position
    page = (out / "leaderboard.html").read_text()
    assert "Bo" in page and "other.result.json" in page


def test_app_dispatches_the_class_commands(capsys):
    assert app.main(["class", "check", str(EXAMPLE)]) == 0
    assert "One bad day (blind): valid" in capsys.readouterr().out
